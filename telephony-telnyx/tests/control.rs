//! Call control against a fake Telnyx on loopback: transfers cold and warm (the exact
//! commands, their `command_id`s and the state their legs carry), the callbacks of each leg
//! signed as Telnyx signs them, the steps `continue_transfer` takes, recording, downloads,
//! machine detection's table and DTMF. Command bodies follow telnyx-python 4.189's
//! `types/calls/action_*_params.py` and `types/call_dial_params.py`; events its
//! `types/call_*.py` models and the docs' examples.

use std::time::{Duration, UNIX_EPOCH};

use serde_json::{Value, json};
use telephony_core::rest::{HttpConfig, RetryPolicy};
use telephony_core::{CallId, CallNotice, TelephonyProvider, WebhookRequest};
use telephony_telnyx::client_state::{self, TransferState};
use telephony_telnyx::signature::{PublicKey, SigningKey};
use telephony_telnyx::{Telnyx, TelnyxConfig};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

#[path = "control/amd_dtmf.rs"]
mod amd_dtmf;
#[path = "control/callbacks.rs"]
mod callbacks;
#[path = "control/recording.rs"]
mod recording;
#[path = "control/transfer.rs"]
mod transfer;

const KEY: &str = "KEY01890ABCDEF_telnyx-s3cr3t";
const CONNECTION: &str = "1684641123236054244";
/// The caller's call: the one the agent is on.
const CALLER: &str = "v3:MdI91X4lWFEs7IgbBEOT9M4AigoY08M0WWZFISt1Yw2axZ_IiE4pqg";
/// The target's leg.
const TARGET: &str = "v3:Nw1k2VHkvD8XAj2ljXzNNxK8y6H3PoqBF9WNz5zsmFwRTykD7hJ1pA";
/// RFC 8032's first test key (telnyx.md §6.3's worked vector), and its public half.
const SEED: &str = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
const PUBLIC: &str = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
const SIGNED_AT: u64 = 1_796_299_200;
const EVENTS: &str = "https://agent.example.com/telnyx/status";

fn config(server: &MockServer) -> TelnyxConfig {
    TelnyxConfig::new(KEY, CONNECTION)
        .base_url(server.uri().parse().unwrap())
        .public_key(PublicKey::from_base64(PUBLIC).unwrap())
}

/// The adapter against `server`, never retrying.
fn telnyx(server: &MockServer) -> Telnyx {
    Telnyx::new(config(server).http(HttpConfig::default().retry(RetryPolicy::none()))).unwrap()
}

/// The adapter for reading callbacks only (its API is never called).
fn offline() -> Telnyx {
    Telnyx::new(
        TelnyxConfig::new(KEY, CONNECTION).public_key(PublicKey::from_base64(PUBLIC).unwrap()),
    )
    .unwrap()
}

/// The adapter against `server`, retrying without waiting.
fn retrying(server: &MockServer) -> Telnyx {
    let retry = RetryPolicy::default().sleep_with(|_| std::future::ready(()));
    Telnyx::new(config(server).http(HttpConfig::default().retry(retry))).unwrap()
}

fn bearer() -> String {
    format!("Bearer {KEY}")
}

/// A command's answer.
fn ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"data": {"result": "ok"}}))
}

/// Telnyx's answer to a command on a call that ended.
fn ended() -> ResponseTemplate {
    ResponseTemplate::new(422).set_body_json(json!({"errors": [{"code": "90018", "title": "Call has already ended", "detail": "This call is no longer active and can't receive commands."}]}))
}

/// Mounts `response` for `verb` on `route`.
async fn on(server: &MockServer, verb: &str, route: &str, response: ResponseTemplate) {
    Mock::given(method(verb))
        .and(path(route))
        .respond_with(response)
        .mount(server)
        .await;
}

/// `POST /calls/{call}/actions/{action}`.
fn action(call: &str, action: &str) -> String {
    format!("/calls/{call}/actions/{action}")
}

fn body_of(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

/// The requests' paths, in order.
async fn paths(server: &MockServer) -> Vec<String> {
    requests(server)
        .await
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect()
}

/// The transfer a body's `client_state` field (or another) carries.
fn state_in(body: &Value, field: &str) -> TransferState {
    client_state::transfer(body[field].as_str().unwrap()).unwrap()
}

/// An event as Telnyx posts it: the envelope of the docs' examples around `payload`, which
/// names the call and its connection.
fn event(event_type: &str, call: &str, state: Option<&str>, extra: Value) -> String {
    let mut payload = json!({
        "call_control_id": call,
        "call_leg_id": "428c31b6-7af4-4bcb-b7f5-5013ef9657c1",
        "call_session_id": "428c31b6-abf3-3bc1-b7f4-5013ef9657c1",
        "connection_id": CONNECTION,
        "client_state": state,
    });
    if let (Value::Object(p), Value::Object(e)) = (&mut payload, extra) {
        p.extend(e);
    }
    json!({
        "data": {
            "record_type": "event",
            "event_type": event_type,
            "id": format!("{event_type}-{call}"),
            "occurred_at": "2026-12-03T12:00:00.000000Z",
            "payload": payload,
        },
        "meta": {"attempt": 1, "delivered_to": EVENTS},
    })
    .to_string()
}

/// `body` posted to the status URL, signed with the account's key as Telnyx signs it.
fn signed(body: &str) -> WebhookRequest {
    let timestamp = SIGNED_AT.to_string();
    let key = SigningKey::from_seed_base64(SEED).unwrap();
    let mut headers = http::HeaderMap::new();
    headers.insert("content-type", "application/json".parse().unwrap());
    headers.insert("telnyx-timestamp", timestamp.parse().unwrap());
    headers.insert(
        "telnyx-signature-ed25519",
        key.sign(&timestamp, body.as_bytes()).parse().unwrap(),
    );
    WebhookRequest::new(
        http::Method::POST,
        EVENTS.parse().unwrap(),
        headers,
        body.to_owned(),
    )
}

/// `body` signed, and verified as the host verifies it.
fn verified(telnyx: &Telnyx, body: &str) -> WebhookRequest {
    let request = signed(body);
    telnyx
        .verify_webhook(&request, UNIX_EPOCH + Duration::from_secs(SIGNED_AT))
        .unwrap();
    request
}

/// A callback verified, then read.
fn callback(telnyx: &Telnyx, body: &str) -> CallNotice {
    telnyx.parse_callback(&verified(telnyx, body)).unwrap()
}

fn call(id: &str) -> CallId {
    CallId::new(id).unwrap()
}

#[test]
fn every_call_control_capability_is_said() {
    let t = Telnyx::new(TelnyxConfig::new(KEY, CONNECTION)).unwrap();
    let c = t.capabilities();
    assert!(c.transfer && c.warm_transfer && c.sip_transfer);
    assert!(c.recording && c.recording_control && c.dual_channel_recording);
    assert!(c.recording_download && c.recording_delete);
    assert!(c.machine_detection && c.machine_detection_greeting_end);
    assert!(c.dtmf_rest && c.dtmf_send);
    assert!(c.recording_on_answer);
}
