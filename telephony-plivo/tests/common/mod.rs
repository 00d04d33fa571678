//! What the call-control tests share: the account, a Plivo against a fake on loopback, and
//! callbacks signed as Plivo signs them (V3, over the URL with its query and the form).

#![allow(dead_code, unreachable_pub)]

use http::HeaderValue;
use telephony_core::rest::{HttpConfig, RetryPolicy};
use telephony_core::{RequestUrl, Secret, TelephonyProvider, Url, WebhookRequest};
use telephony_plivo::signature::{V3_HEADER, V3_NONCE_HEADER, sign_v3};
use telephony_plivo::{Plivo, PlivoConfig};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

pub const ID: &str = "MAXXXXXXXXXXXXXXXXX1";
pub const TOKEN: &str = "plivo-s3cr3t";
/// The caller's call.
pub const UUID: &str = "b2a7c1d4-5e6f-4a8b-9c0d-1e2f3a4b5c6d";
/// A warm transfer's target: the request, then its call.
pub const TARGET_REQ: &str = "9834029e-58b6-11e1-b8b7-a5bd0e4e126f";
pub const TARGET: &str = "c2c128e2-1c8c-11e4-9bff-1db8a9db0432";
pub const EVENTS: &str = "https://agent.example.com/plivo/status?tenant=7";

/// `/v1/Account/{ID}/{tail}`.
pub fn p(tail: &str) -> String {
    format!("/v1/Account/{ID}/{tail}")
}

pub fn basic() -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ID}:{TOKEN}"))
    )
}

/// `verb` to the account path `full`, with the account's Basic auth.
pub fn on(verb: &str, full: String) -> MockBuilder {
    Mock::given(method(verb))
        .and(path(full))
        .and(header("authorization", basic().as_str()))
}

/// Mounts `mock`, answering `answer`, expected exactly `times` times.
pub async fn mount(server: &MockServer, mock: MockBuilder, answer: ResponseTemplate, times: u64) {
    mock.respond_with(answer).expect(times).mount(server).await;
}

pub fn json(status: u16, body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

pub fn not_found() -> ResponseTemplate {
    json(
        404,
        serde_json::json!({"api_id": "x", "error": "not found"}),
    )
}

/// Plivo against `server`, retrying nothing (so a request count is exact).
pub fn plivo(server: &MockServer) -> Plivo {
    Plivo::new(
        PlivoConfig::new(ID, TOKEN)
            .base_url(server.uri().parse().unwrap())
            .http(HttpConfig::default().retry(RetryPolicy::none())),
    )
    .unwrap()
}

/// Every request the fake received.
pub async fn requests(server: &MockServer) -> Vec<wiremock::Request> {
    server.received_requests().await.unwrap_or_default()
}

/// The JSON body of the only `POST` to `full`.
pub async fn body_of(server: &MockServer, full: &str) -> serde_json::Value {
    let hits: Vec<_> = requests(server)
        .await
        .into_iter()
        .filter(|r| r.url.path() == full && r.method.as_str() == "POST")
        .collect();
    assert_eq!(hits.len(), 1, "requests to {full}");
    serde_json::from_slice(&hits[0].body).unwrap()
}

/// A callback to `url` with the form `params`, signed as Plivo signs it, and checked by the
/// adapter as a host would before reading it.
pub fn signed(plivo: &Plivo, url: &Url, params: &[(&str, &str)]) -> WebhookRequest {
    let url = RequestUrl::parse(url.as_str()).unwrap();
    let mut request = WebhookRequest::form_post(url.clone(), params);
    let nonce = "12345678901234567890";
    let signature = sign_v3(
        &Secret::new(TOKEN),
        &request.method,
        &url,
        &request.body_params(),
        nonce,
    );
    request
        .headers
        .insert(V3_HEADER, HeaderValue::from_str(&signature).unwrap());
    request
        .headers
        .insert(V3_NONCE_HEADER, HeaderValue::from_static(nonce));
    plivo
        .verify_webhook(&request, std::time::SystemTime::now())
        .expect("a callback signed as Plivo signs verifies");
    request
}

/// A URL from text.
pub fn url(text: &str) -> Url {
    Url::parse(text).unwrap()
}
