//! The Plivo subcommands as a user runs them, against a fake Plivo on loopback.

use std::process::Command;

use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

const ID: &str = "MAXXXXXXXXXXXXXXXXX1";
const REQ: &str = "2e94fb9a-a58f-4a1c-86ac-59cba3e4a2b5";
const UUID: &str = "b2a7c1d4-5e6f-4a8b-9c0d-1e2f3a4b5c6d";
const APP: &str = "29986316244302815";
const INBOUND: &str = "https://agent.example.com/plivo/inbound";

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_telephony"))
        .args(args)
        .env("PLIVO_AUTH_ID", ID)
        .env("PLIVO_AUTH_TOKEN", "tok")
        .env("PLIVO_APP_ID", APP)
        .env_remove("PLIVO_BASE_URL")
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// `telephony call plivo --to +14155550100 --from +14155550199`, then `extra`.
fn call(extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "call",
        "plivo",
        "--to",
        "+14155550100",
        "--from",
        "+14155550199",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// `telephony markup plivo --stream-url wss://a.example.com/plivo`, then `extra`.
fn markup(extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "markup",
        "plivo",
        "--stream-url",
        "wss://a.example.com/plivo",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// Requests of `verb` to the account path ending in `tail`.
fn on(verb: &str, tail: &str) -> MockBuilder {
    Mock::given(method(verb)).and(path(format!("/v1/Account/{ID}/{tail}")))
}

/// Mounts `mock`, answering `answer`, expected exactly `times` times.
async fn mount(server: &MockServer, mock: MockBuilder, answer: ResponseTemplate, times: u64) {
    mock.respond_with(answer).expect(times).mount(server).await;
}

/// An answer of `status` with the JSON `body`.
fn answer(status: u16, body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

/// Plivo's 404.
fn not_found() -> ResponseTemplate {
    answer(
        404,
        serde_json::json!({"api_id": "x", "error": "not found"}),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn call_status_hangup_cost_numbers() {
    let server = MockServer::start().await;
    let base = server.uri();
    let fired = serde_json::json!({"api_id": "x", "message": "call fired", "request_uuid": REQ});
    mount(&server, on("POST", "Call/"), answer(201, fired), 1).await;
    // Ringing once, then the call is over.
    let ringing = answer(
        200,
        serde_json::json!({"call_status": "ringing", "direction": "outbound", "from": "14155550199", "to": "14155550100"}),
    );
    on("GET", &format!("Call/{REQ}/"))
        .and(query_param("status", "live"))
        .respond_with(ringing)
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    mount(
        &server,
        on("DELETE", &format!("Call/{REQ}/")),
        not_found(),
        1,
    )
    .await;
    let cancel = on("DELETE", &format!("Request/{REQ}/"));
    mount(&server, cancel, ResponseTemplate::new(204), 1).await;
    // Plivo files the ended call's record under its CallUUID only: the request id finds no
    // record, no live call, no queued request.
    let record = answer(
        200,
        serde_json::json!({"call_uuid": UUID, "call_state": "ANSWER", "total_amount": "0.01200", "total_rate": "0.00850"}),
    );
    mount(&server, on("GET", &format!("Call/{UUID}/")), record, 1).await;
    mount(&server, on("GET", &format!("Call/{REQ}/")), not_found(), 3).await;
    let live = on("GET", "Call/").and(query_param("status", "live"));
    mount(
        &server,
        live,
        answer(200, serde_json::json!({"calls": []})),
        1,
    )
    .await;
    let numbers = answer(
        200,
        serde_json::json!({"meta": {"next": null}, "objects": [{"number": "14155550101"}]}),
    );
    mount(&server, on("GET", "Number/"), numbers, 1).await;

    let (code, out, err) = call(&[
        "--answer-url",
        "https://a.example.com/answer",
        "--base-url",
        &base,
    ]);
    assert_eq!((code, out.trim()), (0, REQ), "{err}");
    let (code, out, _) = run(&["status", "plivo", REQ, "--base-url", &base]);
    assert_eq!(
        (code, out.trim()),
        (
            0,
            format!("{REQ} ringing +14155550199 -> +14155550100").as_str()
        )
    );
    let (code, out, _) = run(&["hangup", "plivo", REQ, "--base-url", &base]);
    assert_eq!((code, out.trim()), (0, "canceled"));
    let (code, out, _) = run(&["cost", "plivo", UUID, "--base-url", &base]);
    assert_eq!((code, out.trim()), (0, "0.01200 USD"));
    let (code, out, err) = run(&["cost", "plivo", REQ, "--base-url", &base]);
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert!(
        err.starts_with("telephony: Plivo answered 404")
            && err.contains("pass the CallUUID from the answer or hangup callback"),
        "{err}"
    );
    let (code, out, _) = run(&["numbers", "plivo", "--base-url", &base]);
    assert_eq!((code, out.trim()), (0, "+14155550101 -"));
}

/// plivo-python's `tests/resources/fixtures/callGetResponse.json`, verbatim: the record of an
/// outbound call that ended unanswered, with no `call_state`.
const CALL_GET_RESPONSE: &str = r#"{
  "answer_time": null,
  "api_id": "95727cf4-3eeb-11e7-8edf-02ed609bd62b",
  "bill_duration": 0,
  "billed_duration": 0,
  "call_direction": "outbound",
  "call_duration": 0,
  "call_uuid": "4d04c52e-cea3-4458-bbdb-0bfc314ee7cd",
  "end_time": "2017-05-22 17:49:40+05:30",
  "from_number": "+919879879876",
  "initiation_time": "2017-05-22 17:49:30+05:30",
  "parent_call_uuid": null,
  "resource_uri": "/v1/Account/MAJHUDTEYWLSIUYTDBCZ/Call/4d04c52e-cea3-4458-bbdb-0bfc314ee7cd/",
  "to_number": "919999999999",
  "total_amount": "0.00000",
  "total_rate": "0.03570"
}
"#;

/// `telephony status plivo ID --json` on that record (issue 18): a real status as a string,
/// both times, the parties in E.164.
#[tokio::test(flavor = "multi_thread")]
async fn status_json_of_a_real_record() {
    const CALL: &str = "4d04c52e-cea3-4458-bbdb-0bfc314ee7cd";
    let server = MockServer::start().await;
    let live = on("GET", &format!("Call/{CALL}/")).and(query_param("status", "live"));
    live.respond_with(not_found())
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let record =
        ResponseTemplate::new(200).set_body_raw(CALL_GET_RESPONSE.as_bytes(), "application/json");
    mount(&server, on("GET", &format!("Call/{CALL}/")), record, 1).await;
    let (code, out, err) = run(&[
        "status",
        "plivo",
        CALL,
        "--json",
        "--base-url",
        &server.uri(),
    ]);
    assert_eq!(code, 0, "{err}");
    let info: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(info["status"], "no-answer", "{out}");
    assert_eq!(info["from"], "+919879879876", "{out}");
    assert_eq!(info["to"], "+919999999999", "{out}");
    // 17:49:30 and 17:49:40 at +05:30.
    assert_eq!(
        info["start_time"]["secs_since_epoch"], 1_495_455_570,
        "{out}"
    );
    assert_eq!(info["end_time"]["secs_since_epoch"], 1_495_455_580, "{out}");
}

/// A status no table knows is still a string in `--json`, the text as Plivo sent it, so a
/// script reading `.status` as text reads it too (it was `{"unknown": "…"}`).
#[tokio::test(flavor = "multi_thread")]
async fn status_json_of_an_unknown_status_is_a_string() {
    let server = MockServer::start().await;
    let live = serde_json::json!({
        "call_status": "early-media", "call_uuid": UUID, "direction": "outbound",
        "from": "14155550199", "to": "14155550100", "request_uuid": REQ
    });
    let lookup = on("GET", &format!("Call/{UUID}/")).and(query_param("status", "live"));
    mount(&server, lookup, answer(200, live), 2).await;
    let (code, out, err) = run(&[
        "status",
        "plivo",
        UUID,
        "--json",
        "--base-url",
        &server.uri(),
    ]);
    assert_eq!(code, 0, "{err}");
    let info: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(info["status"], "early-media", "{out}");
    assert_eq!(info["raw_status"], "early-media", "{out}");
    assert_eq!(info["direction"], "outbound", "{out}");
    let (code, out, _) = run(&["status", "plivo", UUID, "--base-url", &server.uri()]);
    assert_eq!(
        (code, out.trim()),
        (
            0,
            format!("{UUID} unknown (early-media) +14155550199 -> +14155550100").as_str()
        )
    );
}

#[test]
fn a_stream_call_needs_an_answer_url_on_plivo() {
    let (code, _, err) = call(&[
        "--stream-url",
        "wss://a/b",
        "--base-url",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("answer URL"), "{err}");
}

#[test]
fn sign_verify_markup() {
    let url = "https://a.example.com/plivo/cb?x=1";
    let body = "CallUUID=abc&Event=Hangup";
    let (code, out, _) = run(&[
        "webhook", "sign", "plivo", "--url", url, "--body", body, "--nonce", "12345",
    ]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    // Checked with plivo-python 4.63's validate_v3_signature.
    assert_eq!(
        lines,
        [
            "X-Plivo-Signature-V3: phTm7G/Dsw1QSqzZN7vh88lM7tEvX/yZdQ32EJ1vYqM=",
            "X-Plivo-Signature-V3-Nonce: 12345"
        ]
    );
    let (code, out, _) = run(&[
        "webhook", "verify", "plivo", "--url", url, "--header", lines[0], "--header", lines[1],
        "--body", body,
    ]);
    assert_eq!((code, out.trim()), (0, "valid"));
    let (code, out, err) = run(&[
        "webhook",
        "verify",
        "plivo",
        "--url",
        url,
        "--header",
        lines[0],
        "--header",
        lines[1],
        "--body",
        "CallUUID=abd&Event=Hangup",
    ]);
    assert_eq!(code, 1);
    assert!(out.starts_with("invalid: "), "{out}");
    assert!(err.is_empty(), "the verdict is on stdout alone: {err}");

    let (code, out, _) = markup(&["--param", "lead=42"]);
    assert_eq!(code, 0);
    assert!(out.contains("contentType=\"audio/x-mulaw;rate=8000\" extraHeaders=\"lead=42\" keepCallAlive=\"true\">wss://a.example.com/plivo</Stream><Hangup/>"), "{out}");
    let (code, _, err) = markup(&["--param", "call-id=1"]);
    assert_eq!(code, 2);
    assert!(err.contains("letters and digits"), "{err}");
}

/// `telephony inbound plivo --number <number> --url INBOUND --base-url <base>`.
fn inbound(number: &str, base: &str) -> (i32, String, String) {
    run(&[
        "inbound",
        "plivo",
        "--number",
        number,
        "--url",
        INBOUND,
        "--base-url",
        base,
    ])
}

#[tokio::test(flavor = "multi_thread")]
async fn inbound_links_the_number_and_says_what_it_found() {
    let server = MockServer::start().await;
    let base = server.uri();
    let number = answer(
        200,
        serde_json::json!({
            "number": "14155550101", "application": format!("/v1/Account/{ID}/Application/11111111111111111/")
        }),
    );
    mount(&server, on("GET", "Number/14155550101/"), number, 1).await;
    let other = answer(
        200,
        serde_json::json!({"app_id": "11111111111111111", "answer_url": "https://old.example.com/answer"}),
    );
    mount(
        &server,
        on("GET", "Application/11111111111111111/"),
        other,
        1,
    )
    .await;
    let ours = answer(
        200,
        serde_json::json!({"app_id": APP, "answer_url": INBOUND, "answer_method": "POST"}),
    );
    let app = format!("Application/{APP}/");
    mount(&server, on("GET", &app), ours, 1).await;
    let link = on("POST", "Number/14155550101/").and(body_json(serde_json::json!({"app_id": APP})));
    let changed = answer(202, serde_json::json!({"message": "changed"}));
    mount(&server, link, changed, 1).await;
    mount(&server, on("POST", &app), ResponseTemplate::new(202), 0).await;
    let (code, out, err) = inbound("+14155550101", &base);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "+14155550101 now points at https://agent.example.com/plivo/inbound (was https://old.example.com/answer)",
            &format!(
                "note: +14155550101 was linked to application 11111111111111111, not {APP}: its calls went elsewhere; linked it"
            ),
        ]
    );

    // A number the account does not rent: the provider's "no", exit 1.
    mount(&server, on("GET", "Number/14155550109/"), not_found(), 1).await;
    let (code, _, err) = inbound("+14155550109", &base);
    assert_eq!(
        code, 2,
        "a request that cannot be made is a usage error: {err}"
    );
    assert!(err.contains("not a number of Plivo account"), "{err}");
}

#[test]
fn markup_at_16000_streams_l16_and_other_rates_are_refused() {
    let (code, out, err) = markup(&["--rate", "16000"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Stream bidirectional=\"true\" \
         contentType=\"audio/x-l16;rate=16000\" keepCallAlive=\"true\">wss://a.example.com/plivo</Stream>\
         <Hangup/></Response>"
    );
    let (code, out, _) = markup(&["--rate", "8000"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("contentType=\"audio/x-mulaw;rate=8000\""),
        "{out}"
    );
    for rate in ["24000", "44100"] {
        let (code, out, err) = markup(&["--rate", rate]);
        assert_eq!((code, out.as_str()), (2, ""), "{rate}");
        assert!(
            err.contains(&format!(
                "--rate {rate}: Plivo streams mulaw@8000, s16le@16000, s16le@8000"
            )),
            "{err}"
        );
    }
}
