//! `telephony balance PROVIDER` as a user runs it, against every emulator (reached with
//! `--base-url`, its account's settings in the environment): the balance as text and as JSON,
//! every digit kept; and `numbers`/`inbound` on a number without voice.

use std::process::Command;

use telephony::{Decimal, E164};
use telephony_testkit::{Emulated, Emulators, NumberFeatures};

/// Runs the command with `fake`'s account in the environment (nobody else's), off the
/// runtime's threads, which serve the emulator meanwhile: status, stdout, stderr.
async fn run(fake: &Emulated, args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_telephony"));
    for (name, _) in std::env::vars() {
        if ["TWILIO_", "PLIVO_", "VONAGE_", "TELNYX_"]
            .iter()
            .any(|p| name.starts_with(p))
        {
            cmd.env_remove(name);
        }
    }
    for (name, value) in fake.emulator().settings() {
        cmd.env(name, value);
    }
    cmd.args(args)
        .args(["--base-url", fake.base_url().as_str()]);
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("the command ran")
        .expect("the binary starts");
    (
        out.status.code().expect("an exit status"),
        String::from_utf8(out.stdout).expect("UTF-8"),
        String::from_utf8(out.stderr).expect("UTF-8"),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn balance_prints_every_digit_as_text_and_json() {
    for emulator in Emulators::builtin().emulators() {
        let fake = emulator.start().await.expect("the emulator starts");
        let id = fake.id();
        let currency = if id == "vonage" { "EUR" } else { "USD" };
        fake.balance("3.14150".parse::<Decimal>().expect("a decimal"));
        let (code, out, err) = run(&fake, &["balance", id]).await;
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (0, format!("3.14150 {currency}\n").as_str(), ""),
            "{id}"
        );
        fake.balance("-0.5".parse::<Decimal>().expect("a decimal"));
        let (code, out, err) = run(&fake, &["balance", id, "--json"]).await;
        assert_eq!(code, 0, "{id}: {err}");
        let json: serde_json::Value = serde_json::from_str(&out).expect("JSON");
        assert_eq!(json["amount"], "-0.5", "{id}: {out}");
        assert_eq!(json["currency"], currency, "{id}: {out}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_balance_says_the_carriers_reason() {
    let twilio = Emulators::builtin()
        .find("twilio")
        .expect("Twilio's emulator");
    let fake = twilio.start().await.expect("the emulator starts");
    fake.fail_next(
        telephony_testkit::Operation::Balance,
        telephony_testkit::Fault::Status(403),
        1,
    );
    let (code, out, err) = run(&fake, &["balance", "twilio"]).await;
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(
        err.starts_with("telephony: Twilio answered 403") && err.contains("fetch balance"),
        "{err}"
    );
}

/// `numbers` marks a number the carrier says takes no voice calls, and `inbound` refuses to
/// point it anywhere, with the reason, exit 1.
#[tokio::test(flavor = "multi_thread")]
async fn a_number_without_voice_is_marked_and_refused() {
    let number = E164::new("+14155550142").expect("a number");
    for id in ["twilio", "plivo", "vonage"] {
        let emulator = Emulators::builtin().find(id).expect("an emulator");
        let fake = emulator.start().await.expect("the emulator starts");
        fake.add_number_with(&number, NumberFeatures::new(false, true))
            .expect("staged");
        let (code, out, err) = run(&fake, &["numbers", id]).await;
        assert_eq!(code, 0, "{id}: {err}");
        assert!(
            out.starts_with("+14155550142 ") && out.ends_with(" (no voice)\n"),
            "{id}: {out}"
        );
        let (code, out, err) = run(
            &fake,
            &[
                "inbound",
                id,
                "--number",
                "+14155550142",
                "--url",
                "https://agent.example.com/inbound",
            ],
        )
        .await;
        assert_eq!((code, out.as_str()), (1, ""), "{id}: {err}");
        assert!(
            err.contains("+14155550142 cannot take voice calls"),
            "{id}: {err}"
        );
    }
}
