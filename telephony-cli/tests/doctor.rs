//! `telephony doctor` against the emulated carriers: one line per check, the exit status, the
//! JSON shape.

use std::process::Command;

use telephony::Registry;
use telephony_testkit::{Emulated, Emulators};

/// Runs the command with the emulated account's settings in the environment, and only them.
async fn doctor(fake: &Emulated, args: &[&str]) -> (i32, String, String) {
    let carrier = Registry::builtin().find(fake.id()).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_telephony"));
    for name in carrier.settings() {
        cmd.env_remove(name);
        if let Some(v) = fake.setting(name) {
            cmd.env(name, v);
        }
    }
    cmd.arg("doctor")
        .arg(fake.id())
        .args(args)
        .args(["--base-url", fake.base_url().as_str()]);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_0_when_nothing_failed_1_when_a_check_failed() {
    for emulator in Emulators::builtin().emulators() {
        let fake = emulator.start().await.unwrap();
        let (code, out, err) = doctor(&fake, &["--min-balance", "5"]).await;
        assert_eq!(code, 0, "{}: {out}{err}", fake.id());
        let first = out.lines().next().unwrap();
        assert!(
            first.starts_with("ok") && first.contains("credentials"),
            "{out}"
        );
        assert!(
            out.lines()
                .any(|l| l.starts_with("skipped") && l.contains("no --url")),
            "{out}"
        );
        let (code, out, err) = doctor(&fake, &["--url", "http://localhost:8080/voice"]).await;
        assert_eq!(code, 1, "{}: {out}{err}", fake.id());
        let url = out.lines().find(|l| l.contains(" url ")).unwrap();
        assert!(url.starts_with("failed") && url.contains(" — "), "{url}");
        assert!(err.contains("check(s) failed"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn json_is_checks_with_name_status_detail_advice() {
    let fake = Emulators::builtin().emulators()[0].start().await.unwrap();
    fake.balance("1".parse().unwrap());
    let (code, out, _) = doctor(&fake, &["--min-balance", "5", "--json"]).await;
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let checks = json["checks"].as_array().unwrap();
    assert!(!checks.is_empty());
    for c in checks {
        let keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["advice", "detail", "name", "status"], "{c}");
        assert!(["ok", "warning", "failed", "skipped"].contains(&c["status"].as_str().unwrap()));
    }
    let balance = checks.iter().find(|c| c["name"] == "balance").unwrap();
    assert_eq!(balance["status"], "failed");
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_errors_exit_2() {
    let fake = Emulators::builtin().emulators()[0].start().await.unwrap();
    for args in [
        &["--number", "555-0100"][..],
        &["--min-balance", "lots"],
        &["--url", "agent.example.com"],
    ] {
        let (code, out, err) = doctor(&fake, args).await;
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(out.is_empty(), "{out}");
    }
}
