//! `telephony doctor` against the emulated carriers: one line per check, the exit status, the
//! JSON shape.

use std::process::Command;

use telephony::Registry;
use telephony_testkit::{Emulated, Emulators, Fault, Operation};

/// Runs the command with the emulated account's settings in the environment, and only them.
async fn doctor(fake: &Emulated, args: &[&str]) -> (i32, String, String) {
    run(fake, args, fake.base_url().as_str(), true).await
}

/// Runs the command against `base_url`, with the emulated account's settings in the
/// environment or with none of them.
async fn run(
    fake: &Emulated,
    args: &[&str],
    base_url: &str,
    settings: bool,
) -> (i32, String, String) {
    let carrier = Registry::builtin().find(fake.id()).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_telephony"));
    for name in carrier.settings() {
        cmd.env_remove(name);
        if let Some(v) = fake.setting(name).filter(|_| settings) {
            cmd.env(name, v);
        }
    }
    cmd.arg("doctor")
        .arg(fake.id())
        .args(args)
        .args(["--base-url", base_url]);
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

/// The checks of a `--json` report, each with exactly its four keys and a known status.
fn checks(out: &str) -> Vec<serde_json::Value> {
    let json: serde_json::Value = serde_json::from_str(out).unwrap();
    let checks = json["checks"].as_array().unwrap().clone();
    assert!(!checks.is_empty());
    for c in &checks {
        let keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["advice", "detail", "name", "status"], "{c}");
        assert!(["ok", "warning", "failed", "skipped"].contains(&c["status"].as_str().unwrap()));
    }
    checks
}

fn named<'a>(checks: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    checks
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} check in {checks:?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn json_is_checks_with_name_status_detail_advice() {
    for emulator in Emulators::builtin().emulators() {
        let fake = emulator.start().await.unwrap();
        let id = fake.id();
        fake.balance("1".parse().unwrap());
        let (code, out, err) = doctor(&fake, &["--min-balance", "5", "--json"]).await;
        assert_eq!(code, 1, "{id}: {out}{err}");
        let checks = checks(&out);
        let balance = named(&checks, "balance");
        assert_eq!(balance["status"], "failed", "{id}");
        assert!(
            balance["advice"].as_str().unwrap().contains("top up"),
            "{id}"
        );
        // A check with nothing to do has no advice: null, not an empty string.
        assert!(named(&checks, "url")["advice"].is_null(), "{id}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_threshold_in_another_currency_is_a_warning_not_a_pass() {
    let fake = Emulators::builtin().emulators()[0].start().await.unwrap();
    let (code, out, err) = doctor(&fake, &["--min-balance", "5 JPY", "--json"]).await;
    assert_eq!(code, 0, "{out}{err}");
    let checks = checks(&out);
    let balance = named(&checks, "balance");
    assert_eq!(balance["status"], "warning", "{balance}");
    assert!(
        balance["detail"].as_str().unwrap().contains("5 JPY"),
        "{balance}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_credentials_exit_1_naming_the_settings() {
    for emulator in Emulators::builtin().emulators() {
        let fake = emulator.start().await.unwrap();
        let id = fake.id();
        fake.fail_next(Operation::Any, Fault::Status(401), 1);
        let (code, out, err) = doctor(&fake, &["--json"]).await;
        assert_eq!(code, 1, "{id}: {out}{err}");
        let checks = checks(&out);
        let credentials = named(&checks, "credentials");
        assert_eq!(credentials["status"], "failed", "{id}: {credentials}");
        let advice = credentials["advice"].as_str().unwrap();
        let carrier = Registry::builtin().find(id).unwrap();
        assert!(
            carrier.settings().iter().any(|s| advice.contains(s)),
            "{id}: the advice names no setting: {advice}"
        );
        // Whatever the credentials' secret is, it is not printed.
        for name in carrier.settings() {
            let secret = name.contains("TOKEN") || name.contains("SECRET") || name.contains("KEY");
            if let Some(v) = fake.setting(name).filter(|v| secret && v.len() >= 8) {
                assert!(!out.contains(v.as_str()), "{id}: {name} printed");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_settings_fail_credentials_and_still_check_the_url() {
    for emulator in Emulators::builtin().emulators() {
        let fake = emulator.start().await.unwrap();
        let id = fake.id();
        let args = [
            "--json",
            "--number",
            "+14155550100",
            "--url",
            "http://127.0.0.1:8080/voice",
        ];
        let (code, out, err) = run(&fake, &args, fake.base_url().as_str(), false).await;
        assert_eq!(code, 1, "{id}: {out}{err}");
        let checks = checks(&out);
        let credentials = named(&checks, "credentials");
        assert_eq!(credentials["status"], "failed", "{id}");
        assert!(
            credentials["advice"].as_str().unwrap().starts_with("set "),
            "{id}: {credentials}"
        );
        // The URL needs no adapter: checked, and refused (loopback).
        assert_eq!(named(&checks, "url")["status"], "failed", "{id}");
        // The rest say why they did not run.
        for name in ["clock", "balance", "number +14155550100", "webhook"] {
            let c = named(&checks, name);
            assert_eq!(c["status"], "skipped", "{id}: {c}");
            assert!(
                c["detail"].as_str().unwrap().contains("see credentials"),
                "{id}: {c}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_errors_exit_2() {
    let fake = Emulators::builtin().emulators()[0].start().await.unwrap();
    for args in [
        &["--number", "555-0100"][..],
        &["--min-balance", "lots"],
        &["--min-balance", "-5"],
        &["--min-balance", "5 dollars"],
        &["--url", "agent.example.com"],
    ] {
        let (code, out, err) = doctor(&fake, args).await;
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(out.is_empty(), "{out}");
    }
    for base_url in ["not a url", "api.example.com"] {
        let (code, out, err) = run(&fake, &[], base_url, true).await;
        assert_eq!(code, 2, "--base-url {base_url}: {out}{err}");
        assert!(out.is_empty(), "{out}");
        let (code, out, err) = run(&fake, &[], base_url, false).await;
        assert_eq!(
            code, 2,
            "--base-url {base_url} without settings: {out}{err}"
        );
        assert!(out.is_empty(), "{out}");
    }
}
