//! The call-control subcommands as a user runs them (`transfer`, `record`, `recording`,
//! `dtmf`), against a fake Twilio on loopback: the requests they make, what they print, their
//! exit codes, and a download that lands whole or not at all.

use std::process::Command;

use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const CALL: &str = "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const REC: &str = "RE0123456789abcdef0123456789abcdef";
/// Distinctive, so finding it in any output means it leaked.
const TOKEN: &str = "twtok-Ctl5mLp9RzK4cWn";

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_telephony"))
        .args(args)
        .env("TWILIO_ACCOUNT_SID", SID)
        .env("TWILIO_AUTH_TOKEN", TOKEN)
        .env_remove("TWILIO_API_KEY_SID")
        .env_remove("TWILIO_BASE_URL")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    );
    for (name, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        assert!(!text.contains(TOKEN), "the Auth Token is on {name}: {text}");
    }
    (out.status.code().unwrap(), stdout, stderr)
}

fn call_json() -> serde_json::Value {
    serde_json::json!({"sid": CALL, "status": "in-progress", "direction": "inbound", "from": "+14155550100", "to": "+14155550199"})
}

#[tokio::test(flavor = "multi_thread")]
async fn transfer_cold_to_sip_and_refusals() {
    let server = MockServer::start().await;
    let base = server.uri();
    Mock::given(method("POST"))
        .and(path(format!(
            "/2010-04-01/Accounts/{SID}/Calls/{CALL}.json"
        )))
        .and(body_string_contains("Twiml="))
        .and(body_string_contains("sip%3Adesk%40pbx.example.com"))
        .respond_with(ResponseTemplate::new(200).set_body_json(call_json()))
        .expect(1)
        .mount(&server)
        .await;
    let (code, out, err) = run(&[
        "transfer",
        "twilio",
        CALL,
        "--to",
        "sip:desk@pbx.example.com",
        "--header",
        "Case=42",
        "--base-url",
        &base,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.trim().is_empty(), "the transfer's id: {out}");

    // Refused before any request, with exit 2: a warm transfer without --events, a header on
    // a number, a number that is not one.
    for args in [
        &["--to", "+14155550123", "--warm"][..],
        &["--to", "+14155550123", "--header", "A=1"][..],
        &["--to", "desk"][..],
        &["--to", "+14155550123", "--fallback", "Sorry."][..],
    ] {
        let mut line = vec!["transfer", "twilio", CALL];
        line.extend_from_slice(args);
        line.extend_from_slice(&["--base-url", &base]);
        let (code, _, err) = run(&line);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.starts_with("telephony: "), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn record_start_and_stop() {
    let server = MockServer::start().await;
    let base = server.uri();
    Mock::given(method("POST"))
        .and(path(format!(
            "/2010-04-01/Accounts/{SID}/Calls/{CALL}/Recordings.json"
        )))
        .and(body_string_contains("RecordingChannels=dual"))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            serde_json::json!({"sid": REC, "call_sid": CALL, "status": "in-progress", "channels": 2}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/2010-04-01/Accounts/{SID}/Calls/{CALL}/Recordings/Twilio.CURRENT.json"
        )))
        .and(body_string_contains("Status=stopped"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                serde_json::json!({"sid": REC, "call_sid": CALL, "status": "stopped"}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (code, out, err) = run(&[
        "record",
        "start",
        "twilio",
        CALL,
        "--dual",
        "--base-url",
        &base,
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), format!("recording {REC}"));
    let (code, out, err) = run(&["record", "stop", "twilio", CALL, "--base-url", &base]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "stopped");
    // Twilio records WAV and MP3 files but takes no format when recording starts.
    let (code, _, err) = run(&[
        "record",
        "start",
        "twilio",
        CALL,
        "--format",
        "ogg",
        "--base-url",
        &base,
    ]);
    assert_eq!(code, 2, "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn recording_get_writes_the_whole_file_or_nothing_and_delete() {
    let server = MockServer::start().await;
    let base = server.uri();
    let wav: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    Mock::given(method("GET"))
        .and(path(format!(
            "/2010-04-01/Accounts/{SID}/Recordings/{REC}.wav"
        )))
        .and(header(
            "authorization",
            format!("Basic {}", b64(&format!("{SID}:{TOKEN}"))),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(wav.clone()))
        .mount(&server)
        .await;
    let gone = "RE00000000000000000000000000000404";
    Mock::given(method("GET"))
        .and(path(format!("/2010-04-01/Accounts/{SID}/Recordings/{gone}.wav")))
        .respond_with(ResponseTemplate::new(404).set_body_json(
            serde_json::json!({"code": 20404, "message": "The requested resource was not found", "status": 404}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!(
            "/2010-04-01/Accounts/{SID}/Recordings/{REC}.json"
        )))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let dir = std::env::temp_dir().join(format!("telephony-cli-rec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("call.wav");
    let (code, out, err) = run(&[
        "recording",
        "get",
        "twilio",
        REC,
        "-o",
        file.to_str().unwrap(),
        "--base-url",
        &base,
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read(&file).unwrap(), wav);
    assert!(out.contains("200000 bytes"), "{out}");
    assert!(!dir.join("call.wav.part").exists());

    let missing = dir.join("missing.wav");
    let (code, _, err) = run(&[
        "recording",
        "get",
        "twilio",
        gone,
        "-o",
        missing.to_str().unwrap(),
        "--base-url",
        &base,
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not found") || err.contains("404"), "{err}");
    assert!(!missing.exists() && !dir.join("missing.wav.part").exists());

    let (code, out, err) = run(&["recording", "delete", "twilio", REC, "--base-url", &base]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "deleted");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dtmf_where_the_carrier_has_no_api_and_bad_keys_are_usage_errors() {
    // Twilio has no API to press keys on a live call: refused before any request.
    let (code, _, err) = run(&[
        "dtmf",
        "twilio",
        CALL,
        "12#",
        "--base-url",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("DTMF"), "{err}");
    let (code, _, err) = run(&[
        "dtmf",
        "twilio",
        CALL,
        "12x",
        "--base-url",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("'x'"), "{err}");
}

fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}
