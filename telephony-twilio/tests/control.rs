//! Call control against a fake Twilio on loopback: transfer (cold and warm), the callbacks
//! that report it, recording, answering-machine detection and DTMF. Each mock that must be
//! hit says how often; each refusal is checked to send nothing.
//!
//! The helpers live here; the tests in `control/`.

use telephony_core::{CallId, Secret, WebhookRequest};
use telephony_testkit::contract::rest::Waits;
use telephony_twilio::{Twilio, TwilioConfig};
use wiremock::matchers::{method, path};
use wiremock::{Match, Mock, MockBuilder, MockServer, Request, ResponseTemplate};

#[path = "control/callbacks.rs"]
mod callbacks;
#[path = "control/recording.rs"]
mod recording;
#[path = "control/transfer.rs"]
mod transfer;

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "tok-s3cr3t-value";
/// The caller's call.
const CALL: &str = "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
/// The warm transfer's target leg.
const LEG: &str = "CAbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const ACCOUNT: &str = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef";
const EVENTS: &str = "https://agent.example.com/status?tenant=7";

fn account(tail: &str) -> String {
    format!("{ACCOUNT}/{tail}")
}

fn call_path(sid: &str) -> String {
    account(&format!("Calls/{sid}.json"))
}

/// Basic `AC…:tok-s3cr3t-value`.
fn basic_auth() -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{SID}:{TOKEN}"))
    )
}

fn twilio(server: &MockServer) -> Twilio {
    Twilio::new(
        TwilioConfig::new(SID, TOKEN)
            .base_url(server.uri().parse().unwrap())
            .http(Waits::default().http()),
    )
    .unwrap()
}

/// A Twilio whose API is nowhere: for what must send nothing.
fn offline() -> Twilio {
    Twilio::new(TwilioConfig::new(SID, TOKEN).base_url("http://127.0.0.1:9".parse().unwrap()))
        .unwrap()
}

fn caller() -> CallId {
    CallId::new(CALL).unwrap()
}

/// Requests of `verb` to `to`, with the account's Basic auth.
fn on(verb: &str, to: impl Into<String>) -> MockBuilder {
    Mock::given(method(verb))
        .and(path(to))
        .and(wiremock::matchers::header(
            "authorization",
            basic_auth().as_str(),
        ))
}

/// Mounts `mock`, answering `answer`, expected exactly `times` times.
async fn mount(server: &MockServer, mock: MockBuilder, answer: ResponseTemplate, times: u64) {
    mock.respond_with(answer).expect(times).mount(server).await;
}

fn answer(status: u16, body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

fn call_json(sid: &str, status: &str, direction: &str) -> serde_json::Value {
    serde_json::json!({
        "sid": sid, "account_sid": SID, "status": status, "direction": direction,
        "from": "+14155550199", "to": "+14155550100", "parent_call_sid": null,
        "api_version": "2010-04-01"
    })
}

/// Twilio's 404 with code 20404.
fn not_found_20404() -> ResponseTemplate {
    answer(
        404,
        serde_json::json!({
            "code": 20404, "message": "The requested resource was not found",
            "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404
        }),
    )
}

/// The request's form body, exactly: these pairs in this order.
struct FormIs(Vec<(String, String)>);

impl Match for FormIs {
    fn matches(&self, request: &Request) -> bool {
        form_of(request) == self.0
    }
}

fn form(pairs: &[(&str, &str)]) -> FormIs {
    FormIs(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

fn form_of(request: &Request) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&request.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The first value of `name` in the form of the only request the server got.
async fn sent_field(server: &MockServer, name: &str) -> String {
    let requests = server.received_requests().await.unwrap();
    let posted: Vec<_> = requests.iter().filter(|r| !r.body.is_empty()).collect();
    assert_eq!(posted.len(), 1, "{requests:?}");
    form_of(posted[0])
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {name}"))
}

/// XML attribute escaping, as TwiML is written.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The value of the first `attr="…"` in `xml`, unescaped.
fn attr(xml: &str, attr: &str) -> String {
    let start = xml
        .find(&format!("{attr}=\""))
        .unwrap_or_else(|| panic!("no {attr} in {xml}"))
        + attr.len()
        + 2;
    let len = xml[start..].find('"').unwrap();
    xml[start..start + len]
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A form POST to `url` signed as Twilio signs it (`X-Twilio-Signature` over the full URL,
/// query included, and the sorted form).
fn signed(url: &str, pairs: &[(&str, &str)]) -> WebhookRequest {
    let (signed_url, sig) = telephony_twilio::signature::sign_request(
        &Secret::new(TOKEN),
        &url.parse().unwrap(),
        pairs,
        None,
    );
    let mut r = WebhookRequest::form_post(signed_url, pairs);
    r.headers.insert("x-twilio-signature", sig.parse().unwrap());
    r
}
