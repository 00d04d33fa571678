//! The Twilio subcommands as a user runs them, against a fake Twilio on loopback.

use std::process::Command;

use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const CALL: &str = "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
/// The Auth Token every run has in its environment: distinctive, so finding it in any output
/// means it leaked.
const TOKEN: &str = "twtok-Q7vX2mLp9RzK4cWn";

fn run(args: &[&str]) -> (i32, String, String) {
    run_env(args, Some(TOKEN))
}

/// Runs the command with `TWILIO_AUTH_TOKEN` set to `token`, or unset; whatever it prints, the
/// token is not in it.
fn run_env(args: &[&str], token: Option<&str>) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_telephony"));
    cmd.args(args)
        .env("TWILIO_ACCOUNT_SID", SID)
        .env_remove("TWILIO_AUTH_TOKEN")
        .env_remove("TWILIO_API_KEY_SID")
        .env_remove("TWILIO_BASE_URL");
    if let Some(t) = token {
        cmd.env("TWILIO_AUTH_TOKEN", t);
    }
    let out = cmd.output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    );
    for (name, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        assert!(!text.contains(TOKEN), "the Auth Token is on {name}: {text}");
    }
    (out.status.code().unwrap(), stdout, stderr)
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
    let (code, out, err) = run(&["numbers", "twilio", "--base-url", &base]);
    assert_eq!(code, 2);
    assert!(err.contains("TWILIO_AUTH_TOKEN"), "{err}");
    // Named, never shown (run_env checks every run; this is the one most likely to leak).
    assert!(!out.contains(TOKEN) && !err.contains(TOKEN), "{out} {err}");
    let received = server.received_requests().await.unwrap();
    assert!(
        received.iter().any(|r| r
            .headers
            .get("authorization")
            .is_some_and(|h| h.to_str().unwrap().starts_with("Basic "))),
        "the token was sent, so it was there to leak"
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
fn a_call_without_a_url_names_both_choices() {
    let (code, out, err) = run(&[
        "call",
        "twilio",
        "--to",
        "+14155550100",
        "--from",
        "+14155550199",
        "--base-url",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty(), "{out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("telephony: ")
            && err.contains("--answer-url URL")
            && err.contains("--stream-url WSS_URL"),
        "{err}"
    );
}

/// Every URL flag says what it expected of a text that is not a URL, not the parser's
/// "relative URL without a base".
#[test]
fn a_url_flag_that_is_not_a_url_says_what_was_expected() {
    let call = |flag: &'static str, value: &'static str| {
        let mut args = vec![
            "call",
            "twilio",
            "--to",
            "+14155550100",
            "--from",
            "+14155550199",
        ];
        if !matches!(flag, "--stream-url" | "--answer-url") {
            args.extend(["--stream-url", "wss://agent.example.com/media"]);
        }
        args.extend([flag, value]);
        args
    };
    let cases: Vec<(Vec<&str>, &str, &str, &str)> = vec![
        (
            call("--answer-url", "foo"),
            "--answer-url",
            "foo",
            "https://host/path",
        ),
        (
            call("--stream-url", "example.com/x"),
            "--stream-url",
            "example.com/x",
            "wss://host/path",
        ),
        (
            call("--status-callback", "/status"),
            "--status-callback",
            "/status",
            "https://host/path",
        ),
        // A scheme-like prefix without a host is no better.
        (
            call("--base-url", "localhost:8080"),
            "--base-url",
            "localhost:8080",
            "https://host/path",
        ),
        (
            vec![
                "inbound",
                "twilio",
                "--number",
                "+14155550100",
                "--url",
                "foo",
            ],
            "--url",
            "foo",
            "https://host/path",
        ),
        (
            vec!["status", "twilio", CALL, "--base-url", "api.example.com"],
            "--base-url",
            "api.example.com",
            "https://host/path",
        ),
        (
            vec![
                "webhook", "verify", "twilio", "--secret", "s", "--url", "foo",
            ],
            "--url",
            "foo",
            "https://host/path",
        ),
        (
            vec!["webhook", "sign", "twilio", "--secret", "s", "--url", "foo"],
            "--url",
            "foo",
            "https://host/path",
        ),
        (
            vec!["markup", "twilio", "--stream-url", "foo"],
            "--stream-url",
            "foo",
            "wss://host/path",
        ),
    ];
    for (args, flag, value, expected) in cases {
        let (code, out, err) = run(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert_eq!(
            err.trim_end(),
            format!("telephony: {flag} {value:?}: not an absolute URL; expected {expected}"),
            "{args:?}"
        );
    }
    // A URL that is absolute but wrong in another way says how.
    let (code, _, err) = run(&[
        "inbound",
        "twilio",
        "--number",
        "+14155550100",
        "--url",
        "https://agent.example.com:99999/in",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with("telephony: --url \"https://agent.example.com:99999/in\": ")
            && err.contains("port"),
        "{err}"
    );
}

/// A refused connection names the host and port it tried and why, and never the credentials
/// in the URL.
#[test]
fn a_refused_connection_names_the_host_and_the_cause() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://k:sekrit@127.0.0.1:{port}/");
    let (code, out, err) = run(&["status", "twilio", CALL, "--base-url", &base]);
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty(), "{out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("could not connect to http://127.0.0.1:{port}: "))
            && err.to_lowercase().contains("connection refused"),
        "{err}"
    );
    assert!(!err.contains("sekrit"), "{err}");
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
    // The verdict once, on stdout: nothing repeats it on stderr.
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(err.is_empty(), "{err}");
    let (code, out, err) = run(&[
        "webhook", "verify", "twilio", "--secret", "wrong", "--url", url, "--header", &header,
        "--body", body,
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("wrong secret"), "{out}");
    assert!(err.is_empty(), "{err}");
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

/// A SharedKey (HMAC-SHA256) request: its signature made by twilio 9.13's RequestValidator
/// (the "SharedKey HMAC-SHA256" case of telephony-twilio/tests/fixtures/signature_vectors.json).
const SHARED_KEY: &str = "shared-key-s3cr3t";
const SHARED_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
const SHARED_BODY: &str = "CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&To=%2B18005551212";
const SHARED_SIGNATURE: &str = "X-Twilio-Signature: rnOm33MK5/50Hsu8VmVAuNA0xMY7xDw7QIvdjQzGDvs=";
const SHARED_SETTINGS: &str = "X-Twilio-Webhooks-Signature-Settings: key=webhooks_sharedkey_0123456789abcdef,algorithm=HMAC_SHA256";

fn verify_shared(extra: &[&str], token: Option<&str>) -> (i32, String, String) {
    let mut args = vec![
        "webhook",
        "verify",
        "twilio",
        "--url",
        SHARED_URL,
        "--header",
        SHARED_SIGNATURE,
        "--header",
        SHARED_SETTINGS,
        "--body",
        SHARED_BODY,
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = run_env(&args, token);
    assert!(
        !out.contains(SHARED_KEY) && !err.contains(SHARED_KEY),
        "{out} {err}"
    );
    (code, out, err)
}

#[test]
fn verify_a_shared_key_request() {
    // The SharedKey's secret verifies it, with or without an Auth Token at hand.
    let (code, out, err) = verify_shared(&["--shared-key", SHARED_KEY], Some(TOKEN));
    assert_eq!((code, out.trim()), (0, "valid"), "{err}");
    let (code, out, err) = verify_shared(&["--shared-key", SHARED_KEY], None);
    assert_eq!((code, out.trim()), (0, "valid"), "{err}");
    // The Auth Token does not: the request says a SharedKey signed it.
    let (code, out, err) = verify_shared(&["--secret", "12345"], None);
    assert_eq!(code, 2, "{out} {err}");
    assert!(
        err.contains("--shared-key") && !out.contains("valid"),
        "{out} {err}"
    );
    // Another SharedKey secret is a "no".
    let (code, out, _) = verify_shared(&["--shared-key", "another-shared-key"], None);
    assert_eq!(code, 1);
    assert!(out.starts_with("invalid: "), "{out}");
    // A request signed with the Auth Token still needs the Auth Token.
    let sha1 = [
        "webhook",
        "verify",
        "twilio",
        "--shared-key",
        SHARED_KEY,
        "--url",
        SHARED_URL,
        "--header",
        "X-Twilio-Signature: 0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
        "--body",
        SHARED_BODY,
    ];
    let (code, _, err) = run_env(&sha1, None);
    assert_eq!(code, 2);
    assert!(err.contains("TWILIO_AUTH_TOKEN"), "{err}");
    let mut with_token = sha1.to_vec();
    with_token.extend_from_slice(&["--secret", "12345"]);
    let (code, out, _) = run_env(&with_token, None);
    assert_eq!((code, out.trim()), (0, "valid"));
    // The option is Twilio's.
    let (code, _, err) = run(&[
        "webhook",
        "verify",
        "plivo",
        "--secret",
        "s",
        "--shared-key",
        "k",
        "--url",
        SHARED_URL,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--shared-key is for Twilio"), "{err}");
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
