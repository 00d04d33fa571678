//! The Twilio subcommands as a user runs them, against a fake Twilio on loopback.

use std::process::Command;

use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const CALL: &str = "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_telephony"))
        .args(args)
        .env("TWILIO_ACCOUNT_SID", SID)
        .env("TWILIO_AUTH_TOKEN", "tok")
        .env_remove("TWILIO_API_KEY_SID")
        .env_remove("TWILIO_BASE_URL")
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn call_json(status: &str, price: Option<&str>) -> serde_json::Value {
    serde_json::json!({"sid": CALL, "status": status, "direction": "outbound-api", "from": "+14155550199",
                       "to": "+14155550100", "duration": "12", "price": price, "price_unit": "USD"})
}

#[tokio::test(flavor = "multi_thread")]
async fn call_status_cost_hangup() {
    let server = MockServer::start().await;
    let base = server.uri();
    let calls = format!("/2010-04-01/Accounts/{SID}/Calls.json");
    let the_call = format!("/2010-04-01/Accounts/{SID}/Calls/{CALL}.json");
    Mock::given(method("POST"))
        .and(path(calls.as_str()))
        .and(body_string_contains("Twiml="))
        .and(body_string_contains("StatusCallbackEvent=answered"))
        .respond_with(ResponseTemplate::new(201).set_body_json(call_json("queued", None)))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(the_call.as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(call_json("completed", Some("-0.0130"))),
        )
        .expect(3)
        .mount(&server)
        .await;

    let (code, out, err) = run(&[
        "call",
        "twilio",
        "--to",
        "+14155550100",
        "--from",
        "+14155550199",
        "--stream-url",
        "wss://agent.example.com/media",
        "--status-callback",
        "https://agent.example.com/status",
        "--base-url",
        &base,
    ]);
    assert_eq!((code, out.trim()), (0, CALL), "{err}");
    let (code, out, _) = run(&[
        "call",
        "twilio",
        "--to",
        "+14155550100",
        "--from",
        "+14155550199",
        "--stream-url",
        "wss://agent.example.com/media",
        "--status-callback",
        "https://agent.example.com/status",
        "--base-url",
        &base,
        "--json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["call_id"], CALL);
    assert_eq!(v["status"], "queued");

    let (code, out, _) = run(&["status", "twilio", CALL, "--base-url", &base]);
    assert_eq!(code, 0);
    assert_eq!(
        out.trim(),
        format!("{CALL} completed +14155550199 -> +14155550100 12s")
    );
    let (code, out, _) = run(&["cost", "twilio", CALL, "--base-url", &base]);
    assert_eq!((code, out.trim()), (0, "0.0130 USD"));
    let (code, out, _) = run(&["hangup", "twilio", CALL, "--base-url", &base]);
    assert_eq!((code, out.trim()), (0, "already ended"));
}

#[tokio::test(flavor = "multi_thread")]
async fn numbers_and_inbound() {
    let server = MockServer::start().await;
    let base = server.uri();
    let list = format!("/2010-04-01/Accounts/{SID}/IncomingPhoneNumbers.json");
    Mock::given(method("GET"))
        .and(path(list.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "incoming_phone_numbers": [{"sid": "PN01", "phone_number": "+14155550101", "voice_url": "https://old.example.com/v", "voice_method": "POST"}],
            "next_page_uri": null
        })))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/2010-04-01/Accounts/{SID}/IncomingPhoneNumbers/PN01.json"
        )))
        .and(body_string_contains(
            "VoiceUrl=https%3A%2F%2Fagent.example.com%2Finbound",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"sid": "PN01"})))
        .expect(1)
        .mount(&server)
        .await;
    let (code, out, _) = run(&["numbers", "twilio", "--base-url", &base]);
    assert_eq!(
        (code, out.trim()),
        (0, "+14155550101 https://old.example.com/v")
    );
    let (code, out, err) = run(&[
        "inbound",
        "twilio",
        "--number",
        "+14155550101",
        "--url",
        "https://agent.example.com/inbound",
        "--base-url",
        &base,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("+14155550101 now points at https://agent.example.com/inbound (was https://old.example.com/v)"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn provider_errors_exit_1_credential_errors_exit_2() {
    let server = MockServer::start().await;
    let base = server.uri();
    Mock::given(method("GET"))
        .and(path(format!(
            "/2010-04-01/Accounts/{SID}/Calls/{CALL}.json"
        )))
        .respond_with(ResponseTemplate::new(404).set_body_json(
            serde_json::json!({"code": 20404, "message": "Not found", "status": 404}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/2010-04-01/Accounts/{SID}/IncomingPhoneNumbers.json"
        )))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            serde_json::json!({"code": 20003, "message": "Authenticate", "status": 401}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let (code, _, err) = run(&["status", "twilio", CALL, "--base-url", &base]);
    assert_eq!(code, 1);
    assert!(
        err.contains("Twilio answered 404 (code 20404)") && err.lines().count() == 1,
        "{err}"
    );
    let (code, _, err) = run(&["numbers", "twilio", "--base-url", &base]);
    assert_eq!(code, 2);
    assert!(
        err.contains("TWILIO_AUTH_TOKEN") && !err.contains("tok\n"),
        "{err}"
    );
    let (code, _, err) = run(&[
        "call",
        "twilio",
        "--to",
        "4155550100",
        "--from",
        "+14155550199",
        "--answer-url",
        "https://a/x",
        "--base-url",
        &base,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("E.164"), "{err}");
}

#[test]
fn sign_then_verify_and_diagnose() {
    let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    let body = "CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&To=%2B18005551212";
    let (code, out, _) = run(&[
        "webhook", "sign", "twilio", "--secret", "12345", "--url", url, "--body", body,
    ]);
    assert_eq!(
        (code, out.trim()),
        (0, "X-Twilio-Signature: 0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    );
    let header = out.trim().to_owned();
    let (code, out, _) = run(&[
        "webhook", "verify", "twilio", "--secret", "12345", "--url", url, "--header", &header,
        "--body", body,
    ]);
    assert_eq!((code, out.trim()), (0, "valid"));
    // Behind a TLS-terminating proxy the server sees http.
    let seen = url.replace("https://", "http://");
    let (code, out, err) = run(&[
        "webhook", "verify", "twilio", "--secret", "12345", "--url", &seen, "--header", &header,
        "--body", body,
    ]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with("invalid: ") && out.contains("TLS-terminating proxy"),
        "{out}"
    );
    assert_eq!(err.lines().count(), 1);
    let (code, out, _) = run(&[
        "webhook", "verify", "twilio", "--secret", "wrong", "--url", url, "--header", &header,
        "--body", body,
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("wrong secret"), "{out}");
    // A JSON body is signed through bodySHA256.
    let (code, out, err) = run(&[
        "webhook",
        "sign",
        "twilio",
        "--secret",
        "s",
        "--url",
        "https://h/x",
        "--body",
        "{\"a\":1}",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("X-Twilio-Signature: ") && err.contains("bodySHA256="),
        "{out} {err}"
    );
}

#[test]
fn markup_prints_twiml_that_hangs_up_after_the_stream() {
    let (code, out, _) = run(&[
        "markup",
        "twilio",
        "--stream-url",
        "wss://agent.example.com/media",
        "--param",
        "lead=42",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("<Connect><Stream url=\"wss://agent.example.com/media\"><Parameter name=\"lead\" value=\"42\"/></Stream></Connect><Hangup/>"), "{out}");
    let (code, _, err) = run(&[
        "markup",
        "twilio",
        "--stream-url",
        "https://not-wss.example.com/",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("wss://"), "{err}");
    let (code, _, _) = run(&[
        "markup",
        "twilio",
        "--stream-url",
        "wss://a/b",
        "--rate",
        "16000",
    ]);
    assert_eq!(code, 2);
}
