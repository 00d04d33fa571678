//! The Vonage subcommands as a user runs them, against a fake Vonage on loopback.

use std::process::Command;

use wiremock::matchers::{body_json, body_partial_json, header, method, path, query_param};
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
        .env_remove("VONAGE_EVENT_URL")
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
            format!("{UUID} completed +447700900001 -> +447700900000 60s").as_str()
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

fn basic() -> String {
    use base64::Engine as _;
    let pair = base64::engine::general_purpose::STANDARD.encode("a1b2c3d4:api-s3cret");
    format!("Basic {pair}")
}

fn application(answer: &str) -> serde_json::Value {
    serde_json::json!({
        "id": APP,
        "name": "voice agent",
        "capabilities": {"voice": {
            "webhooks": {
                "answer_url": {"address": answer, "http_method": "GET"},
                "event_url": {"address": "https://a.example.com/events", "http_method": "POST"}
            },
            "signed_callbacks": true
        }},
        "keys": {"public_key": "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n"}
    })
}

/// Mounts the account's one number, linked to the application, and the application whose
/// answer URL is `answer`.
async fn account(server: &MockServer, answer: &str) {
    Mock::given(method("GET"))
        .and(path("/account/numbers"))
        .and(query_param("pattern", "447700900000"))
        .and(header("authorization", basic().as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "count": 1, "numbers": [{"country": "GB", "msisdn": "447700900000", "app_id": APP, "features": ["VOICE"]}]
        })))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/applications/{APP}")))
        .and(header("authorization", basic().as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(application(answer)))
        .expect(1)
        .mount(server)
        .await;
}

const ANSWER: &str = "https://agent.example.com/vonage/answer";

fn inbound(base: &str, number: &str) -> (i32, String, String) {
    run(&[
        "inbound",
        "vonage",
        "--number",
        number,
        "--url",
        ANSWER,
        "--base-url",
        base,
    ])
}

#[tokio::test(flavor = "multi_thread")]
async fn inbound_points_the_application_at_the_url_and_says_what_was_there() {
    let server = MockServer::start().await;
    account(&server, "https://old.example.com/answer").await;
    // The application is rewritten with the new answer URL; the event URL and every other
    // field stay as they were. The number is already linked, so it is not touched.
    Mock::given(method("PUT"))
        .and(path(format!("/v2/applications/{APP}")))
        .and(header("authorization", basic().as_str()))
        .and(body_partial_json(serde_json::json!({
            "name": "voice agent",
            "capabilities": {"voice": {
                "webhooks": {
                    "answer_url": {"address": ANSWER, "http_method": "GET"},
                    "event_url": {"address": "https://a.example.com/events", "http_method": "POST"}
                },
                "signed_callbacks": true
            }}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(application(ANSWER)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/number/update"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let (code, out, err) = inbound(&server.uri(), "+447700900000");
    assert_eq!(code, 0, "{err}");
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some(
            "+447700900000 now points at https://agent.example.com/vonage/answer (was https://old.example.com/answer)"
        ),
        "{out}"
    );
    let notes: Vec<&str> = lines.collect();
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("note: answer_url was https://old.example.com/answer")),
        "{out}"
    );
    assert!(notes.iter().all(|n| n.starts_with("note: ")), "{out}");
    assert!(!out.contains("api-s3cret") && !err.contains("api-s3cret"));
}

#[tokio::test(flavor = "multi_thread")]
async fn inbound_changes_nothing_that_is_already_right_and_refuses_a_number_not_rented() {
    let server = MockServer::start().await;
    account(&server, ANSWER).await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let (code, out, err) = inbound(&server.uri(), "+447700900000");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        "+447700900000 already points at https://agent.example.com/vonage/answer"
    );

    // The account does not rent this number: one line naming the account, nothing changed.
    let empty = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/account/numbers"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"count": 0})))
        .expect(1)
        .mount(&empty)
        .await;
    let (code, out, err) = inbound(&empty.uri(), "+14155550100");
    assert_eq!(code, 2, "a configuration error: {err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("+14155550100 is not a number of Vonage account a1b2c3d4"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    // A number that is not E.164 never reaches Vonage.
    let (code, _, err) = inbound(&empty.uri(), "4155550100");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("E.164"), "{err}");
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
    let (code, out, err) = verify(r#"{"status":"completed","uuid":"u-1"}"#, "1700000030");
    assert_eq!(code, 1);
    assert!(out.contains("changed after signing"), "{out}");
    assert!(err.is_empty(), "the verdict is on stdout alone: {err}");
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
