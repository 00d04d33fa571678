//! The Telnyx subcommands as a user runs them, against the emulated Telnyx (the testkit's
//! `FakeTelnyx`) on loopback: a call placed with its stream, followed, hung up twice and
//! priced; the account's numbers pointed at a webhook, drift reported; webhook signatures
//! made and checked, on requests of the user's and on the events the emulator itself signs;
//! the answer command; the media bench. Where the emulator has to reach the user (a status
//! event, a media stream, an inbound call), a loopback port takes the request, and the test
//! waits for it.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

use telephony::{CallStatus, Decimal, E164};
use telephony_testkit::accounts::telnyx::{API_KEY, CONNECTION_ID, PRIVATE_KEY, PUBLIC_KEY};
use telephony_testkit::{FakeTelnyx, Happening};

/// Runs the command with the emulated account's settings in the environment.
fn run(args: &[&str]) -> (i32, String, String) {
    run_env(args, &[])
}

/// Runs the command with the emulated account's settings, each of `env` set to its value or
/// removed; whatever it prints, neither the API key nor the private key is in it.
fn run_env(args: &[&str], env: &[(&str, Option<&str>)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_telephony"));
    cmd.args(args)
        .env("TELNYX_API_KEY", API_KEY)
        .env("TELNYX_CONNECTION_ID", CONNECTION_ID)
        .env("TELNYX_PUBLIC_KEY", PUBLIC_KEY)
        .env_remove("TELNYX_BASE_URL");
    for (name, value) in env {
        match value {
            Some(v) => cmd.env(name, v),
            None => cmd.env_remove(name),
        };
    }
    let out = cmd.output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    );
    for (name, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        assert!(!text.contains(API_KEY), "the API key is on {name}: {text}");
        assert!(
            !text.contains(PRIVATE_KEY),
            "the private key is on {name}: {text}"
        );
    }
    (out.status.code().unwrap(), stdout, stderr)
}

/// One HTTP request as it arrived.
#[derive(Debug)]
struct Received {
    /// `POST /path HTTP/1.1`.
    line: String,
    /// Names lower-cased.
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A loopback port that takes one HTTP request, answers it with a status and closes, so that
/// any later request is refused at once.
struct OneRequest {
    port: u16,
    request: tokio::task::JoinHandle<Received>,
}

/// What the test sends in place of a request that never came.
const NOTHING_CAME: &str = "GET /nothing-came HTTP/1.1";

impl OneRequest {
    /// Listens; the request it takes is answered with `status`.
    fn listen(status: u16) -> OneRequest {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let request = tokio::task::spawn_blocking(move || {
            let (mut socket, _) = listener.accept().unwrap();
            let mut bytes = Vec::new();
            let mut chunk = [0u8; 4096];
            let head_end = loop {
                if let Some(i) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
                    break i + 4;
                }
                let n = socket.read(&mut chunk).unwrap();
                assert!(n > 0, "the connection closed mid-request");
                bytes.extend_from_slice(&chunk[..n]);
            };
            let head = String::from_utf8(bytes[..head_end].to_vec()).unwrap();
            let mut lines = head.lines();
            let line = lines.next().unwrap().to_owned();
            let headers: Vec<(String, String)> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
                .collect();
            let length: usize = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .map_or(0, |(_, v)| v.parse().unwrap());
            while bytes.len() < head_end + length {
                let n = socket.read(&mut chunk).unwrap();
                assert!(n > 0, "the connection closed mid-body");
                bytes.extend_from_slice(&chunk[..n]);
            }
            let body = String::from_utf8(bytes[head_end..head_end + length].to_vec()).unwrap();
            // The test's own stand-in may be gone already: nothing to tell it.
            let _ = write!(
                socket,
                "HTTP/1.1 {status} Whatever\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
            drop(listener);
            Received {
                line,
                headers,
                body,
            }
        });
        OneRequest { port, request }
    }

    /// `http://127.0.0.1:PORT`.
    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The request, asked for once whatever was to send it is done: when none came, a request
    /// of the test's own ([`NOTHING_CAME`]) takes its place, so that the test fails rather than
    /// waits.
    async fn received(self) -> Received {
        if let Ok(mut stand_in) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
            let _ = write!(stand_in, "{NOTHING_CAME}\r\ncontent-length: 0\r\n\r\n");
        }
        self.request.await.unwrap()
    }
}

/// The timestamp a signed request carries, in Unix seconds.
fn timestamp(request: &Received) -> u64 {
    request.header("telnyx-timestamp").unwrap().parse().unwrap()
}

/// `webhook verify telnyx` of `request` as received at `url`, `now` seconds after its
/// timestamp, with the environment's public key.
fn verify_received(url: &str, request: &Received, now: u64) -> (i32, String, String) {
    let mut args = vec![
        "webhook".to_owned(),
        "verify".to_owned(),
        "telnyx".to_owned(),
        "--url".to_owned(),
        url.to_owned(),
        "--body".to_owned(),
        request.body.clone(),
        "--now".to_owned(),
        (timestamp(request) + now).to_string(),
    ];
    for (name, value) in &request.headers {
        args.extend(["--header".to_owned(), format!("{name}: {value}")]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&args)
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_is_placed_followed_hung_up_twice_and_priced() {
    let fake = FakeTelnyx::start().await.unwrap();
    let base = fake.base_url().to_string();

    // A call that rings for an hour of call time: still ringing when it is hung up.
    fake.ring_time(Duration::from_secs(3600));
    let (code, out, err) = run(&[
        "call",
        "telnyx",
        "--to",
        "+14155550100",
        "--from",
        "+14155550199",
        "--stream-url",
        "wss://agent.example.com/telnyx",
        "--base-url",
        &base,
    ]);
    assert_eq!(code, 0, "{err}");
    let id = out.trim().to_owned();
    let record = fake
        .call(&id)
        .expect("the id printed is the emulator's call");
    assert_eq!(
        (record.from.as_str(), record.to.as_str()),
        ("+14155550199", "+14155550100")
    );
    assert!(!record.is_over(), "{record:?}");
    let (code, out, err) = run(&["status", "telnyx", &id, "--base-url", &base]);
    assert_eq!(
        (code, out.trim()),
        (0, format!("{id} ringing").as_str()),
        "{err}"
    );
    let (code, out, err) = run(&["hangup", "telnyx", &id, "--base-url", &base]);
    assert_eq!((code, out.trim()), (0, "ended"), "{err}");
    let record = fake.wait(&id).await.unwrap();
    assert!(
        record
            .timeline
            .iter()
            .any(|m| matches!(m.what, Happening::HungUp)),
        "{record:?}"
    );
    assert_eq!(record.status, CallStatus::Canceled, "{record:?}");
    // Hanging up again is success, and says the call had ended.
    let (code, out, err) = run(&["hangup", "telnyx", &id, "--base-url", &base]);
    assert_eq!((code, out.trim()), (0, "already ended"), "{err}");
    let (code, out, err) = run(&["status", "telnyx", &id, "--base-url", &base]);
    assert_eq!(
        (code, out.trim()),
        (0, format!("{id} completed").as_str()),
        "{err}"
    );
    // Never answered, so never billed.
    let (code, out, err) = run(&["cost", "telnyx", &id, "--base-url", &base]);
    assert_eq!((code, out.trim()), (0, "not priced yet"), "{err}");

    // A call that is answered at once: its stream is requested at the URL given, its events go
    // to the status callback given, and once over it is priced.
    fake.ring_time(Duration::ZERO);
    fake.rate_per_minute(Decimal::new(75, 4));
    let media = OneRequest::listen(404);
    let events = OneRequest::listen(200);
    let stream_url = format!("{}/telnyx/media", media.base().replace("http://", "ws://"));
    let callback = format!("{}/telnyx/events", events.base());
    let (code, out, err) = run(&[
        "call",
        "telnyx",
        "--to",
        "+14155550100",
        "--from",
        "+14155550199",
        "--stream-url",
        &stream_url,
        "--status-callback",
        &callback,
        "--base-url",
        &base,
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let placed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(placed["status"], "initiated", "{placed}");
    let id = placed["call_id"].as_str().unwrap().to_owned();
    let record = fake.wait(&id).await.unwrap();
    assert_eq!(record.status, CallStatus::Completed, "{record:?}");
    assert!(record.violations.is_empty(), "{:?}", record.violations);
    assert_eq!(record.price, Some(Decimal::new(75, 4)), "{record:?}");
    let upgrade = media.received().await;
    assert_eq!(upgrade.line, "GET /telnyx/media HTTP/1.1", "{upgrade:?}");
    assert_eq!(
        upgrade
            .header("upgrade")
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("websocket"),
        "{upgrade:?}"
    );
    let event = events.received().await;
    assert_eq!(event.line, "POST /telnyx/events HTTP/1.1", "{event:?}");
    let sent: serde_json::Value = serde_json::from_str(&event.body).unwrap();
    assert_eq!(sent["data"]["event_type"], "call.initiated", "{sent}");
    assert_eq!(sent["data"]["payload"]["call_control_id"], id.as_str());
    let seconds = record.duration.unwrap().as_secs();
    let (code, out, err) = run(&["status", "telnyx", &id, "--base-url", &base]);
    assert_eq!(
        (code, out.trim()),
        (0, format!("{id} completed {seconds}s").as_str()),
        "{err}"
    );
    let (code, out, err) = run(&["cost", "telnyx", &id, "--base-url", &base]);
    assert_eq!((code, out.trim()), (0, "0.0075 USD"), "{err}");
    let (code, out, err) = run(&["cost", "telnyx", &id, "--base-url", &base, "--json"]);
    assert_eq!(code, 0, "{err}");
    let cost: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(cost["currency"], "USD", "{cost}");
    let (code, out, err) = run(&["hangup", "telnyx", &id, "--base-url", &base]);
    assert_eq!((code, out.trim()), (0, "already ended"), "{err}");

    // The event the emulator signed verifies with the account's public key, and signing the
    // same body at the same second with the private key gives the same signature.
    let (code, out, err) = verify_received(&callback, &event, 1);
    assert_eq!((code, out.trim()), (0, "valid"), "{err}");
    let at = timestamp(&event).to_string();
    let (code, out, err) = run(&[
        "webhook",
        "sign",
        "telnyx",
        "--secret",
        PRIVATE_KEY,
        "--url",
        &callback,
        "--body",
        &event.body,
        "--now",
        &at,
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            format!("telnyx-timestamp: {at}"),
            format!(
                "telnyx-signature-ed25519: {}",
                event.header("telnyx-signature-ed25519").unwrap()
            ),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn numbers_and_inbound_report_what_was_there_and_the_number_rings() {
    let fake = FakeTelnyx::start().await.unwrap();
    let base = fake.base_url().to_string();
    let number = E164::new("+14155550101").unwrap();
    fake.add_number(&number);
    fake.add_number(&E164::new("+14155550102").unwrap());
    let numbers = |expected: [&str; 2]| {
        let (code, out, err) = run(&["numbers", "telnyx", "--base-url", &base]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(out.lines().collect::<Vec<_>>(), expected);
    };
    numbers(["+14155550101 -", "+14155550102 -"]);

    let inbound = |url: &str| {
        run(&[
            "inbound",
            "telnyx",
            "--number",
            "+14155550101",
            "--url",
            url,
            "--base-url",
            &base,
        ])
    };
    let shared =
        format!("note: the webhook is application {CONNECTION_ID}'s, shared by every number on it");
    // The number was on no application: it is moved onto this one, and the note says so.
    let (code, out, err) = inbound("https://old.example.com/telnyx");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "+14155550101 now points at https://old.example.com/telnyx",
            format!("note: the number went to application none; it now goes to {CONNECTION_ID}")
                .as_str(),
            shared.as_str(),
        ]
    );
    numbers([
        format!("+14155550101 application {CONNECTION_ID}").as_str(),
        "+14155550102 -",
    ]);
    // The application's webhook had drifted: what it was is reported.
    let events = OneRequest::listen(200);
    let url = format!("{}/telnyx/inbound", events.base());
    let (code, out, err) = inbound(&url);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            format!("+14155550101 now points at {url} (was https://old.example.com/telnyx)")
                .as_str(),
            shared.as_str(),
        ]
    );
    let (code, out, err) = inbound(&url);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            format!("+14155550101 already points at {url}").as_str(),
            shared.as_str()
        ]
    );

    // The number now rings at the URL, with an event signed by the account's key. Nothing
    // answers it, so the emulator gives up on it (quickly, at its fastest), and then every
    // request it was to send is sent.
    fake.speed(200.0);
    let caller = E164::new("+14155550199").unwrap();
    let id = fake.ring(&caller, &number).unwrap();
    let record = fake.wait(&id).await.unwrap();
    assert!(record.inbound && record.is_over(), "{record:?}");
    let initiated = events.received().await;
    assert_eq!(initiated.line, "POST /telnyx/inbound HTTP/1.1");
    let sent: serde_json::Value = serde_json::from_str(&initiated.body).unwrap();
    assert_eq!(sent["data"]["event_type"], "call.initiated", "{sent}");
    assert_eq!(sent["data"]["payload"]["call_control_id"], id.as_str());
    assert_eq!(sent["data"]["payload"]["direction"], "incoming");
    let (code, out, err) = verify_received(&url, &initiated, 0);
    assert_eq!((code, out.trim()), (0, "valid"), "{err}");

    // A number the account does not rent: one line naming it, nothing changed.
    let (code, out, err) = run(&[
        "inbound",
        "telnyx",
        "--number",
        "+14155550109",
        "--url",
        &url,
        "--base-url",
        &base,
    ]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert_eq!(
        err.trim_end(),
        "telephony: +14155550109 is not a number of this Telnyx account"
    );
}

#[test]
fn sign_then_verify_and_a_changed_body_does_not() {
    let url = "https://agent.example.com/telnyx/events";
    let body = r#"{"data":{"event_type":"call.answered","id":"e-1","payload":{"call_control_id":"v3:abc"}}}"#;
    let (code, out, err) = run(&[
        "webhook",
        "sign",
        "telnyx",
        "--secret",
        PRIVATE_KEY,
        "--url",
        url,
        "--body",
        body,
        "--now",
        "1700000000",
    ]);
    assert_eq!(code, 0, "{err}");
    let headers: Vec<&str> = out.lines().collect();
    assert_eq!(headers.len(), 2, "{out}");
    assert_eq!(headers[0], "telnyx-timestamp: 1700000000");
    assert!(
        headers[1].starts_with("telnyx-signature-ed25519: "),
        "{out}"
    );
    let verify = |body: &str, now: &str, extra: &[&str]| {
        let mut args = vec![
            "webhook", "verify", "telnyx", "--url", url, "--header", headers[0], "--header",
            headers[1], "--body", body, "--now", now,
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    // With the environment's public key, and with it given.
    let (code, out, err) = verify(body, "1700000030", &[]);
    assert_eq!((code, out.trim()), (0, "valid"), "{err}");
    let (code, out, err) = verify(body, "1700000030", &["--secret", PUBLIC_KEY]);
    assert_eq!((code, out.trim()), (0, "valid"), "{err}");
    // One changed byte of the body: the verdict, once, on stdout.
    let tampered = body.replace("call.answered", "call.hangup");
    let (code, out, err) = verify(&tampered, "1700000030", &[]);
    assert_eq!(code, 1, "{out} {err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.starts_with("invalid: "), "{out}");
    assert!(out.contains("the signature does not match"), "{out}");
    assert!(err.is_empty(), "the verdict is on stdout alone: {err}");
    // Too late.
    let (code, out, _) = verify(body, "1700003600", &[]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with("invalid: ") && out.contains("outside the 300s window"),
        "{out}"
    );
    // Another account's key.
    let other = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
    let (code, out, _) = verify(body, "1700000030", &["--secret", other]);
    assert_eq!(code, 1);
    assert!(out.starts_with("invalid: "), "{out}");
    // No key at all: a usage error naming the setting, not a verdict.
    let (code, out, err) = run_env(
        &[
            "webhook",
            "verify",
            "telnyx",
            "--url",
            url,
            "--header",
            headers[0],
            "--header",
            headers[1],
            "--body",
            body,
            "--now",
            "1700000030",
        ],
        &[("TELNYX_PUBLIC_KEY", None)],
    );
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(err.contains("TELNYX_PUBLIC_KEY"), "{err}");
    // The environment's key checks webhooks; it cannot sign them, and signing says so rather
    // than print headers that check nowhere.
    let (code, out, err) = run(&[
        "webhook",
        "sign",
        "telnyx",
        "--url",
        url,
        "--body",
        body,
        "--now",
        "1700000000",
    ]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("TELNYX_PUBLIC_KEY checks Telnyx's webhooks but does not sign them")
            && err.contains("--secret"),
        "{err}"
    );
}

#[test]
fn markup_prints_the_answer_command_streaming_rtp() {
    let (code, out, err) = run(&[
        "markup",
        "telnyx",
        "--stream-url",
        "wss://agent.example.com/telnyx",
        "--param",
        "tenant=acme",
    ]);
    assert_eq!(code, 0, "{err}");
    let text = out.trim();
    assert!(
        text.contains(r#""stream_bidirectional_mode":"rtp""#),
        "{text}"
    );
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(v["stream_url"], "wss://agent.example.com/telnyx");
    assert_eq!(v["stream_track"], "inbound_track");
    assert_eq!(v["stream_codec"], "PCMU");
    assert_eq!(v["stream_bidirectional_codec"], "PCMU");
    assert!(
        v["command_id"].as_str().unwrap().starts_with("answer-"),
        "{v}"
    );
    // The parameters travel in client_state, as base64 of a JSON object.
    use base64::Engine as _;
    let state = base64::engine::general_purpose::STANDARD
        .decode(v["client_state"].as_str().unwrap())
        .unwrap();
    assert_eq!(String::from_utf8(state).unwrap(), r#"{"tenant":"acme"}"#);

    // What Telnyx cannot stream is refused, naming what it can.
    let (code, out, err) = run(&[
        "markup",
        "telnyx",
        "--stream-url",
        "wss://agent.example.com/telnyx",
        "--rate",
        "16000",
    ]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(
        err.contains("--rate 16000: Telnyx streams mulaw@8000"),
        "{err}"
    );
    let (code, out, err) = run(&[
        "markup",
        "telnyx",
        "--stream-url",
        "https://agent.example.com/telnyx",
    ]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(err.contains("wss://"), "{err}");
}

#[test]
fn a_call_with_an_answer_url_is_refused_naming_the_stream() {
    let (code, out, err) = run(&[
        "call",
        "telnyx",
        "--to",
        "+14155550100",
        "--from",
        "+14155550199",
        "--answer-url",
        "https://agent.example.com/answer",
        "--base-url",
        &format!("http://127.0.0.1:{}", closed_port()),
    ]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--stream-url"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_exit_1_and_settings_exit_2_naming_the_setting() {
    let fake = FakeTelnyx::start().await.unwrap();
    let base = fake.base_url().to_string();
    // A call Telnyx does not know: its answer, on one line.
    let (code, out, err) = run(&["status", "telnyx", "v3:unknown", "--base-url", &base]);
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("telephony: Telnyx answered 404 (code 10005)"),
        "{err}"
    );
    // A key Telnyx refuses: named, never shown.
    let wrong = "KEY0190WRONG_not-this-account";
    let (code, out, err) = run_env(
        &["numbers", "telnyx", "--base-url", &base],
        &[("TELNYX_API_KEY", Some(wrong))],
    );
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(err.contains("TELNYX_API_KEY"), "{err}");
    assert!(!err.contains(wrong), "{err}");
    // Settings missing or malformed never reach Telnyx.
    for (env, says) in [
        (("TELNYX_API_KEY", None), "TELNYX_API_KEY"),
        (("TELNYX_CONNECTION_ID", None), "TELNYX_CONNECTION_ID"),
        (("TELNYX_PUBLIC_KEY", Some("short")), "TELNYX_PUBLIC_KEY"),
    ] {
        let (code, out, err) = run_env(&["numbers", "telnyx", "--base-url", &base], &[env]);
        assert_eq!((code, out.as_str()), (2, ""), "{env:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(says), "{env:?}: {err}");
    }
    // A number that is not E.164 never reaches Telnyx.
    let (code, _, err) = run(&[
        "call",
        "telnyx",
        "--to",
        "4155550100",
        "--from",
        "+14155550199",
        "--stream-url",
        "wss://agent.example.com/telnyx",
        "--base-url",
        &base,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("E.164"), "{err}");
    assert!(fake.calls().is_empty(), "{:?}", fake.calls());
}

#[test]
fn bench_media_runs_telnyx_at_both_codecs() {
    for (wire, args) in [
        ("mulaw@8000", &[][..]),
        ("alaw@8000", &["--wire", "alaw@8000"][..]),
    ] {
        let mut all = vec!["bench", "media", "telnyx", "--seconds", "2", "--json"];
        all.extend_from_slice(args);
        let (code, out, err) = run(&all);
        assert_eq!(code, 0, "{wire}: {err}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["wire"], wire, "{v}");
        assert_eq!(v["app_rate"], 16000);
        assert_eq!(v["frames"], 100);
        assert!(v["legs_per_core"].as_f64().unwrap() > 0.0, "{v}");
        let bytes = v["session_bytes"].as_u64().unwrap();
        assert!(bytes > 1000 && bytes <= 32 * 1024, "{wire}: {bytes} bytes");
        assert_eq!(v["allocations_per_frame"], 0.0, "{wire}: {v}");
    }
    let (code, out, err) = run(&["bench", "media", "telnyx", "--seconds", "1"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Telnyx, wire mulaw@8000, app 16000 Hz"),
        "{out}"
    );
    let (code, _, err) = run(&["bench", "media", "telnyx", "--wire", "s16le@16000"]);
    assert_eq!(code, 2);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("does not stream"), "{err}");
}
