//! The REST operations against a fake Vonage on loopback: exact requests, the JWT each Voice
//! API request carries (verified with the public key), and every error path of its own. The
//! rules every adapter keeps (retries, timeouts, 429s, 401s, pages) are telephony-testkit's
//! REST contract, run here for Vonage at the end.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::json;
use telephony_core::audio::{AudioFormat, SampleRate};
use telephony_core::rest::HttpConfig;
use telephony_core::{
    CallId, CallStatus, Currency, Decimal, Direction, Drift, Error, HangupOutcome, InboundUpdate,
    MachineDetection, OutboundCall, StreamSpec, TelephonyProvider, Url,
};
use telephony_testkit::contract::rest::{
    BalanceRead, Cost, Endpoint, Hangup, Inbound, Listing, RestCarrier, Waits,
};
use telephony_vonage::ncco::{Endpoint as NccoEndpoint, Ncco, Talk, Websocket};
use telephony_vonage::{AppClaims, CallControl, CreateCall, Vonage, VonageConfig};
use wiremock::matchers::{body_json, body_string, header, method, path, query_param};
use wiremock::{Match, Mock, MockBuilder, MockServer, Request, ResponseTemplate};

mod calls;
mod inbound;

const APP: &str = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab";
const KEY: &str = include_str!("../fixtures/test_private.key");
const PUBLIC: &str = include_str!("../fixtures/test_public.pem");
const API_KEY: &str = "a1b2c3d4";
const API_SECRET: &str = "vonage-api-s3cr3t";
const UUID: &str = "63f61863-4a51-4f6b-86e1-46edebcf9356";
const CONV: &str = "CON-f972836a-550f-45fa-956c-12a2ab5b7d22";
const ANSWER: &str = "https://agent.example.com/vonage/answer";

/// Matches a Voice API request whose bearer token verifies with the application's public key
/// and carries its claims.
struct AppJwt;

impl Match for AppJwt {
    fn matches(&self, request: &Request) -> bool {
        let Some(token) = request
            .headers
            .get("authorization")
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "))
        else {
            return false;
        };
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = 0;
        let Ok(data) = jsonwebtoken::decode::<AppClaims>(
            token,
            &DecodingKey::from_rsa_pem(PUBLIC.as_bytes()).unwrap(),
            &validation,
        ) else {
            return false;
        };
        data.claims.application_id == APP
            && data.claims.exp - data.claims.iat == 900
            && uuid::Uuid::parse_str(&data.claims.jti).is_ok()
    }
}

fn basic() -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{API_KEY}:{API_SECRET}"))
    )
}

/// The Voice API path of call UUID.
fn call_path() -> String {
    format!("/v1/calls/{UUID}")
}

/// The path of application APP.
fn app_path() -> String {
    format!("/v2/applications/{APP}")
}

/// Requests of `verb` to `to`.
fn on(verb: &str, to: impl Into<String>) -> MockBuilder {
    Mock::given(method(verb)).and(path(to))
}

/// A Voice API request of `verb` to `to`, carrying the application's JWT.
fn voice(verb: &str, to: impl Into<String>) -> MockBuilder {
    on(verb, to).and(AppJwt)
}

/// A request of `verb` to `to` with the account's key and secret (Basic).
fn basic_auth(verb: &str, to: impl Into<String>) -> MockBuilder {
    on(verb, to).and(header("authorization", basic().as_str()))
}

/// Mounts `mock`, answering `answer`, expected exactly `times` times.
async fn mount(server: &MockServer, mock: MockBuilder, answer: ResponseTemplate, times: u64) {
    mock.respond_with(answer).expect(times).mount(server).await;
}

/// Mounts `mock`, answering `answer` however often it is asked (no expectation).
async fn serve(server: &MockServer, mock: MockBuilder, answer: ResponseTemplate) {
    mock.respond_with(answer).mount(server).await;
}

/// An answer of `status` with the JSON `body`.
fn answer(status: u16, body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

fn status(code: u16) -> ResponseTemplate {
    ResponseTemplate::new(code)
}

fn config(server: &MockServer) -> VonageConfig {
    VonageConfig::new(APP, KEY)
        .api_credentials(API_KEY, API_SECRET)
        .all_hosts(server.uri().parse().unwrap())
        .http(Waits::default().http())
}

fn vonage(server: &MockServer) -> Vonage {
    Vonage::new(config(server)).unwrap()
}

fn id() -> CallId {
    CallId::new(UUID).unwrap()
}

/// Points `number` at `url` through `v`.
async fn configure(v: &Vonage, number: &str, url: &str) -> Result<InboundUpdate, Error> {
    v.configure_inbound(&number.parse().unwrap(), &url.parse().unwrap())
        .await
}

fn outbound() -> OutboundCall {
    OutboundCall::answer_url(
        "+447700900000".parse().unwrap(),
        "+447700900001".parse().unwrap(),
        ANSWER.parse().unwrap(),
    )
    .status_callback("https://agent.example.com/vonage/events".parse().unwrap())
    .machine_detection(MachineDetection::Detect)
    .ring_timeout(Duration::from_secs(30))
    .time_limit(Duration::from_secs(3600))
}

fn created() -> ResponseTemplate {
    answer(
        201,
        json!({"uuid": UUID, "status": "started", "direction": "outbound", "conversation_uuid": CONV}),
    )
}

/// A call created with the application's JWT and exactly `body`, once.
async fn create_expecting(server: &MockServer, body: serde_json::Value) {
    let request = voice("POST", "/v1/calls").and(body_json(body));
    mount(server, request, created(), 1).await;
}

fn number(msisdn: &str, app: Option<&str>) -> serde_json::Value {
    let mut n = json!({"country": "GB", "msisdn": msisdn, "type": "mobile-lvn", "features": ["VOICE", "SMS"]});
    if let Some(a) = app {
        n["app_id"] = json!(a);
    }
    n
}

/// The account's numbers: `count` in all, `numbers` on this page.
fn numbers_page(count: u32, numbers: Vec<serde_json::Value>) -> ResponseTemplate {
    answer(200, json!({"count": count, "numbers": numbers}))
}

/// An owned number as vonage-python-sdk's list_owned_numbers_basic.json has its first: SMS
/// only.
fn sms_only(msisdn: &str) -> serde_json::Value {
    json!({"country": "ES", "msisdn": msisdn, "type": "mobile-lvn", "features": ["SMS"]})
}

/// vonage-python-sdk's account/tests/data/get_balance.json.
fn balance_fixture() -> serde_json::Value {
    serde_json::from_str("{\n    \"value\": 29.18202293,\n    \"autoReload\": false\n}").unwrap()
}

fn application(answer: &str, method: &str) -> serde_json::Value {
    json!({
        "id": APP,
        "name": "voice agent",
        "capabilities": {
            "voice": {
                "webhooks": {
                    "answer_url": {"address": answer, "http_method": method, "connect_timeout": 500, "socket_timeout": 3000},
                    "fallback_answer_url": {"address": "https://fallback.example.com/answer", "http_method": "GET"},
                    "event_url": {"address": "https://old.example.com/events", "http_method": "POST"}
                },
                "signed_callbacks": false,
                "conversations_ttl": 48,
                "region": "eu-west"
            },
            "rtc": {"webhooks": {"event_url": {"address": "https://rtc.example.com", "http_method": "POST"}}}
        },
        "keys": {"public_key": "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n"},
        "privacy": {"improve_ai": false},
        "_links": {"self": {"href": format!("/v2/applications/{APP}")}}
    })
}

/// Every request `server` received was a read: `inbound_drift` writes nothing.
async fn only_reads(server: &MockServer) {
    let received = server.received_requests().await.unwrap();
    assert!(!received.is_empty());
    for r in received {
        assert_eq!(r.method.as_str(), "GET", "{} {}", r.method, r.url);
    }
}

/// Mounts a refusal of every write, expected never.
async fn no_writes(server: &MockServer) {
    for verb in ["PUT", "POST", "PATCH", "DELETE"] {
        mount(server, Mock::given(method(verb)), status(500), 0).await;
    }
}

/// Vonage, as the REST contract sees it: the Voice API for calls, the Numbers API for the
/// listing, which pages by index.
fn carrier() -> RestCarrier {
    fn adapter(base: Url, http: HttpConfig) -> Arc<dyn TelephonyProvider> {
        Arc::new(
            Vonage::new(
                VonageConfig::new(APP, KEY)
                    .api_credentials(API_KEY, API_SECRET)
                    .all_hosts(base)
                    .http(http),
            )
            .unwrap(),
        )
    }
    fn error_body(_: u16, message: &str) -> serde_json::Value {
        json!({"type": "https://developer.nexmo.com/api-errors#contract", "title": message})
    }
    fn page(n: u32, next: Option<&str>) -> serde_json::Value {
        // More to come: far more counted than listed.
        let count = if next.is_some() { 1_000_000 } else { 1 };
        json!({"count": count, "numbers": [number(&format!("4477009{:05}", n), None)]})
    }
    RestCarrier {
        name: "Vonage",
        adapter,
        // A call that streams from an inline NCCO: Vonage records through the NCCO, so a
        // recording asked for on create needs one (an answer-URL call's NCCO is the host's,
        // where StreamSpec::record asks for it; OutboundCall::record is refused there).
        outbound: OutboundCall::stream(
            "+447700900000".parse().unwrap(),
            "+447700900001".parse().unwrap(),
            StreamSpec::new("wss://agent.example.com/vonage/media".parse().unwrap()),
        )
        .status_callback("https://agent.example.com/vonage/events".parse().unwrap()),
        create: Endpoint::new(
            "POST",
            "/v1/calls",
            201,
            json!({"uuid": UUID, "status": "started", "direction": "outbound", "conversation_uuid": CONV}),
        ),
        call: CallId::new(UUID).unwrap(),
        read: Endpoint::new(
            "GET",
            format!("/v1/calls/{UUID}"),
            200,
            json!({"uuid": UUID, "status": "ringing"}),
        ),
        hangup: Hangup {
            endpoint: Endpoint::new(
                "PUT",
                format!("/v1/calls/{UUID}"),
                204,
                serde_json::Value::Null,
            ),
            outcome: HangupOutcome::Ended,
            already_ended: (
                404,
                json!({"type": "https://developer.nexmo.com/api-errors#not-found", "title": "Not Found"}),
            ),
        },
        // The call's price, in the configured currency (EUR unless set).
        cost: Cost {
            endpoint: Endpoint::new(
                "GET",
                format!("/v1/calls/{UUID}"),
                200,
                json!({"uuid": UUID, "status": "completed", "rate": "0.39", "price": "23.40", "duration": "60"}),
            ),
            amount: "23.40",
            currency: "EUR",
            unpriced: json!({"uuid": UUID, "status": "answered", "rate": null, "price": null}),
        },
        numbers: Listing {
            path: "/account/numbers".to_owned(),
            page,
        },
        // The number, linked to APP; APP, answering at the URL.
        inbound: Inbound {
            number: "+447700900000".parse().unwrap(),
            reads: |current| {
                vec![
                    Endpoint::new(
                        "GET",
                        "/account/numbers",
                        200,
                        json!({"count": 1, "numbers": [number("447700900000", Some(APP))]}),
                    ),
                    Endpoint::new(
                        "GET",
                        format!("/v2/applications/{APP}"),
                        200,
                        application(current, "POST"),
                    ),
                ]
            },
            writes: vec![Endpoint::new(
                "PUT",
                format!("/v2/applications/{APP}"),
                200,
                application("https://agent.example.com/inbound", "POST"),
            )],
            stranger: "+447700900009".parse().unwrap(),
            not_owned: vec![Endpoint::new(
                "GET",
                "/account/numbers",
                200,
                json!({"count": 0}),
            )],
            // vonage-python-sdk's SMS-only number, as 447700900000.
            voiceless: Some(vec![Endpoint::new(
                "GET",
                "/account/numbers",
                200,
                json!({"count": 1, "numbers": [sms_only("447700900000")]}),
            )]),
        },
        // vonage-python-sdk's fixture (account/tests/data/get_balance.json), in the default
        // currency.
        balance: Some(BalanceRead {
            endpoint: Endpoint::new("GET", "/account/get-balance", 200, balance_fixture()),
            amount: "29.18202293",
            currency: "EUR",
        }),
        error_body,
        auth_setting: "VONAGE_APPLICATION_ID",
        secrets: vec![
            API_SECRET.to_owned(),
            KEY.lines().nth(1).unwrap().to_owned(),
        ],
    }
}

telephony_testkit::rest_contract!(carrier());
