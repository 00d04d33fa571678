//! The Vonage subcommands as a user runs them, against a fake Vonage on loopback.

use std::process::Command;

use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const APP: &str = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab";
const UUID: &str = "63f61863-4a51-4f6b-86e1-46edebcf9356";

fn key_path() -> String {
    format!(
        "{}/../telephony-vonage/tests/fixtures/test_private.key",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn run_with(args: &[&str], key: &str) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_telephony"))
        .args(args)
        .env("VONAGE_APPLICATION_ID", APP)
        .env("VONAGE_PRIVATE_KEY_PATH", key)
        .env("VONAGE_API_KEY", "a1b2c3d4")
        .env("VONAGE_API_SECRET", "api-s3cret")
        .env_remove("VONAGE_SIGNATURE_SECRET")
        .env_remove("VONAGE_PRIVATE_KEY")
        .env_remove("VONAGE_BASE_URL")
        .env_remove("VONAGE_REST_BASE_URL")
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn run(args: &[&str]) -> (i32, String, String) {
    run_with(args, &key_path())
}

#[tokio::test(flavor = "multi_thread")]
async fn call_status_hangup_cost_numbers() {
    let server = MockServer::start().await;
    let base = server.uri();
    Mock::given(method("POST"))
        .and(path("/v1/calls"))
        .and(body_json(serde_json::json!({
            "to": [{"type": "phone", "number": "447700900000"}],
            "from": {"type": "phone", "number": "447700900001"},
            "ncco": [{"action": "connect", "endpoint": [{"type": "websocket", "uri": "wss://a.example.com/vonage", "content-type": "audio/l16;rate=16000"}]}],
            "event_url": ["https://a.example.com/events"],
            "event_method": "POST"
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({
            "uuid": UUID, "status": "started", "direction": "outbound", "conversation_uuid": "CON-1"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/calls/{UUID}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "uuid": UUID, "status": "completed", "direction": "outbound",
            "from": {"type": "phone", "number": "447700900001"},
            "to": {"type": "phone", "number": "447700900000"},
            "duration": "60", "price": "23.40", "rate": "0.39"
        })))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("/v1/calls/{UUID}")))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/account/numbers"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "count": 1, "numbers": [{"country": "GB", "msisdn": "447700900001", "app_id": APP}]
        })))
        .expect(1)
        .mount(&server)
        .await;

    let (code, out, err) = run(&[
        "call",
        "vonage",
        "--to",
        "+447700900000",
        "--from",
        "+447700900001",
        "--stream-url",
        "wss://a.example.com/vonage",
        "--status-callback",
        "https://a.example.com/events",
        "--base-url",
        &base,
    ]);
    assert_eq!((code, out.trim()), (0, UUID), "{err}");
    let (code, out, _) = run(&["status", "vonage", UUID, "--base-url", &base]);
    assert_eq!(
        (code, out.trim()),
        (
            0,
            format!("{UUID} completed 447700900001 -> 447700900000 60s").as_str()
        )
    );
    let (code, out, _) = run(&["hangup", "vonage", UUID, "--base-url", &base]);
    assert_eq!((code, out.trim()), (0, "ended"));
    let (code, out, _) = run(&["cost", "vonage", UUID, "--base-url", &base]);
    assert_eq!((code, out.trim()), (0, "23.40 EUR"));
    let (code, out, _) = run(&["numbers", "vonage", "--base-url", &base]);
    assert_eq!(
        (code, out.trim()),
        (0, format!("+447700900001 application {APP}").as_str())
    );
}

#[test]
fn a_missing_or_bad_key_is_a_usage_error_naming_the_variable() {
    let (code, _, err) = run_with(&["status", "vonage", UUID], "/nonexistent/private.key");
    assert_eq!(code, 2);
    assert!(
        err.contains("VONAGE_PRIVATE_KEY_PATH") && err.contains("/nonexistent/private.key"),
        "{err}"
    );
    let bad = format!("{}/Cargo.toml", env!("CARGO_MANIFEST_DIR"));
    let (code, _, err) = run_with(&["status", "vonage", UUID], &bad);
    assert_eq!(code, 2);
    assert!(err.contains("BEGIN PRIVATE KEY"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn sign_verify_markup() {
    let url = "https://a.example.com/vonage/events";
    let body = r#"{"status":"answered","uuid":"u-1"}"#;
    let (code, out, _) = run(&[
        "webhook",
        "sign",
        "vonage",
        "--secret",
        "sig",
        "--url",
        url,
        "--body",
        body,
        "--nonce",
        "j-1",
        "--now",
        "1700000000",
    ]);
    assert_eq!(code, 0);
    let header = out.trim();
    assert!(header.starts_with("Authorization: Bearer ey"), "{header}");
    let verify = |body: &str, now: &str| {
        run(&[
            "webhook", "verify", "vonage", "--secret", "sig", "--url", url, "--header", header,
            "--body", body, "--now", now,
        ])
    };
    let (code, out, _) = verify(body, "1700000030");
    assert_eq!((code, out.trim()), (0, "valid"));
    let (code, out, _) = verify(r#"{"status":"completed","uuid":"u-1"}"#, "1700000030");
    assert_eq!(code, 1);
    assert!(out.contains("changed after signing"), "{out}");
    let (code, out, _) = verify(body, "1700003600");
    assert_eq!(code, 1);
    assert!(out.contains("outside the 300s window"), "{out}");
    // The signature secret, not the API secret.
    let (code, out, _) = run(&[
        "webhook",
        "verify",
        "vonage",
        "--secret",
        "api-s3cret",
        "--url",
        url,
        "--header",
        header,
        "--body",
        body,
        "--now",
        "1700000030",
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("VONAGE_SIGNATURE_SECRET"), "{out}");

    let (code, out, _) = run(&[
        "markup",
        "vonage",
        "--stream-url",
        "wss://a.example.com/vonage",
        "--param",
        "tenant=acme",
        "--rate",
        "24000",
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        out.trim(),
        r#"[{"action":"connect","endpoint":[{"type":"websocket","uri":"wss://a.example.com/vonage","content-type":"audio/l16;rate=24000","headers":{"tenant":"acme"}}]}]"#
    );
    let (code, _, err) = run(&[
        "markup",
        "vonage",
        "--stream-url",
        "wss://a.example.com/vonage",
        "--rate",
        "44100",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("24000"), "{err}");
}
