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

const APP: &str = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab";
const KEY: &str = include_str!("fixtures/test_private.key");
const PUBLIC: &str = include_str!("fixtures/test_public.pem");
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

#[tokio::test]
async fn create_call_sends_the_documented_json_with_a_valid_application_jwt() {
    let server = MockServer::start().await;
    let request = voice("POST", "/v1/calls")
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "to": [{"type": "phone", "number": "447700900000"}],
            "from": {"type": "phone", "number": "447700900001"},
            "answer_url": [ANSWER],
            "answer_method": "POST",
            "event_url": ["https://agent.example.com/vonage/events"],
            "event_method": "POST",
            "machine_detection": "continue",
            "length_timer": 3600,
            "ringing_timer": 30
        })));
    mount(&server, request, created(), 1).await;
    let placed = vonage(&server).initiate_call(&outbound()).await.unwrap();
    assert_eq!(placed.call_id.as_str(), UUID);
    assert_eq!(placed.status, CallStatus::Initiated);
}

#[tokio::test]
async fn an_inline_stream_becomes_an_ncco_and_greeting_end_detection_is_advanced_amd() {
    let server = MockServer::start().await;
    create_expecting(
        &server,
        json!({
            "to": [{"type": "phone", "number": "447700900000"}],
            "from": {"type": "phone", "number": "447700900001"},
            "ncco": [{
                "action": "connect",
                "endpoint": [{
                    "type": "websocket",
                    "uri": "wss://agent.example.com/vonage/media",
                    "content-type": "audio/l16;rate=24000",
                    "headers": {"session": "s-42"}
                }],
                "eventType": "synchronous",
                "eventUrl": ["https://agent.example.com/vonage/stream-events"]
            }],
            "advanced_machine_detection": {"behavior": "continue", "mode": "detect_beep", "beep_timeout": 45}
        }),
    )
    .await;
    let stream = StreamSpec::new("wss://agent.example.com/vonage/media".parse().unwrap())
        .parameter("session", "s-42")
        .audio(AudioFormat::new(
            telephony_core::audio::Encoding::L16Le,
            SampleRate::Hz24000,
        ))
        .status_callback(
            "https://agent.example.com/vonage/stream-events"
                .parse()
                .unwrap(),
        );
    let call = OutboundCall::stream(
        "+447700900000".parse().unwrap(),
        "+447700900001".parse().unwrap(),
        stream,
    )
    .machine_detection(MachineDetection::DetectGreetingEnd);
    vonage(&server).initiate_call(&call).await.unwrap();
}

#[tokio::test]
async fn a_call_can_dial_a_websocket_directly() {
    let server = MockServer::start().await;
    create_expecting(
        &server,
        json!({
            "to": [{"type": "websocket", "uri": "wss://agent.example.com/ws", "content-type": "audio/l16;rate=16000", "headers": {"campaign": "spring"}}],
            "from": {"type": "phone", "number": "447700900001"},
            "ncco": [{"action": "talk", "text": "Hello from the agent"}]
        }),
    )
    .await;
    let v = vonage(&server);
    let ncco = Ncco::new().talk(Talk::new("Hello from the agent"));
    let dial = |ws: Websocket| {
        CreateCall::ncco(NccoEndpoint::Websocket(ws), &ncco)
            .unwrap()
            .from("+447700900001")
    };
    let ws = Websocket::new("wss://agent.example.com/ws", SampleRate::Hz16000)
        .unwrap()
        .header("campaign", "spring");
    let created = v.client().create_call(&dial(ws)).await.unwrap();
    assert_eq!(created.conversation_uuid.as_deref(), Some(CONV));
    // A websocket endpoint that Vonage would refuse is refused here, before sending.
    let long = Websocket::new("wss://agent.example.com/ws", SampleRate::Hz16000)
        .unwrap()
        .header("blob", "x".repeat(600));
    let e = v.client().create_call(&dial(long)).await.unwrap_err();
    assert!(e.is_config() && e.to_string().contains("512"), "{e}");
}

#[tokio::test]
async fn problem_details_are_typed() {
    let server = MockServer::start().await;
    let problem = answer(
        400,
        json!({
            "type": "https://developer.nexmo.com/api-errors#bad-request",
            "title": "Bad Request",
            "detail": "The request failed due to validation errors",
            "invalid_parameters": [{"name": "to[0].number", "reason": "must be a valid number"}],
            "instance": "bf0ca0bf927b3b52e3cb03217e1a1ddf"
        }),
    )
    .insert_header("content-type", "application/problem+json");
    serve(&server, voice("POST", "/v1/calls"), problem).await;
    let e = vonage(&server)
        .initiate_call(&outbound())
        .await
        .unwrap_err();
    let api = e.api().unwrap();
    assert_eq!(api.status, 400);
    assert_eq!(api.code.as_deref(), Some("bad-request"));
    assert_eq!(
        api.more_info.as_deref(),
        Some("https://developer.nexmo.com/api-errors#bad-request")
    );
    assert!(
        api.message.contains("to[0].number: must be a valid number"),
        "{}",
        api.message
    );
    assert!(!e.is_retryable() && !e.is_auth());

    let server = MockServer::start().await;
    let unauthorized = answer(
        401,
        json!({
            "type": "https://developer.nexmo.com/api-errors#unauthorized", "title": "Unauthorized",
            "detail": "You did not provide correct credentials."
        }),
    );
    serve(&server, voice("GET", call_path()), unauthorized).await;
    let e = vonage(&server).call_status(&id()).await.unwrap_err();
    assert!(e.is_auth());
    let text = e.to_string();
    assert!(
        text.contains("VONAGE_APPLICATION_ID") && text.contains("unauthorized"),
        "{text}"
    );
    assert!(!text.contains("BEGIN PRIVATE KEY"));

    // Nothing is sent when the request cannot be right.
    let bad = outbound().ring_timeout(Duration::from_secs(300));
    let e = vonage(&server).initiate_call(&bad).await.unwrap_err();
    assert!(
        e.is_config() && e.to_string().contains("ringing_timer"),
        "{e}"
    );
}

#[tokio::test]
async fn fetch_a_call_with_its_cost() {
    let server = MockServer::start().await;
    let call = answer(
        200,
        json!({
            "_links": {"self": {"href": format!("/calls/{UUID}")}},
            "uuid": UUID, "conversation_uuid": CONV,
            "to": {"type": "phone", "number": "447700900000"},
            "from": {"type": "phone", "number": "447700900001"},
            "status": "completed", "direction": "outbound",
            "rate": "0.39", "price": "23.40", "duration": "60",
            "start_time": "2020-01-01 12:00:00", "end_time": "2020-01-01T12:01:00.000Z",
            "network": "65512"
        }),
    );
    mount(&server, voice("GET", call_path()), call, 2).await;
    let v = vonage(&server);
    let id = id();
    let info = v.call_status(&id).await.unwrap();
    assert_eq!(info.status, CallStatus::Completed);
    assert_eq!(info.direction, Some(Direction::Outbound));
    // Vonage's digits, in E.164 as every adapter reports a party.
    assert_eq!(info.to.as_deref(), Some("+447700900000"));
    assert_eq!(info.from.as_deref(), Some("+447700900001"));
    assert_eq!(info.duration, Some(Duration::from_secs(60)));
    assert_eq!(
        info.end_time
            .unwrap()
            .duration_since(info.start_time.unwrap())
            .unwrap(),
        Duration::from_secs(60)
    );
    let cost = v.call_cost(&id).await.unwrap().unwrap();
    assert_eq!(cost.amount, "23.40".parse::<Decimal>().unwrap());
    assert_eq!(cost.rate, Some("0.39".parse::<Decimal>().unwrap()));
    assert_eq!(cost.currency, Currency::EUR);
}

#[tokio::test]
async fn an_unpriced_call_has_no_cost_and_numbers_may_come_as_numbers() {
    let server = MockServer::start().await;
    let call = answer(
        200,
        json!({"uuid": UUID, "status": "answered", "rate": null, "price": null, "duration": 12}),
    );
    serve(&server, voice("GET", call_path()), call).await;
    let v = Vonage::new(config(&server).currency(Currency::USD)).unwrap();
    let id = id();
    assert_eq!(v.call_cost(&id).await.unwrap(), None);
    let info = v.call_status(&id).await.unwrap();
    assert_eq!(info.status, CallStatus::InProgress);
    assert_eq!(info.duration, Some(Duration::from_secs(12)));
}

#[tokio::test]
async fn hangup_is_a_put_and_an_ended_call_is_success() {
    let hangup = || voice("PUT", call_path()).and(body_json(json!({"action": "hangup"})));
    let server = MockServer::start().await;
    mount(&server, hangup(), status(204), 1).await;
    let outcome = vonage(&server).hangup(&id()).await.unwrap();
    assert_eq!(outcome, HangupOutcome::Ended);

    let server = MockServer::start().await;
    let gone = answer(
        404,
        json!({"type": "https://developer.nexmo.com/api-errors#not-found", "title": "Not Found"}),
    );
    mount(&server, hangup(), gone, 1).await;
    let outcome = vonage(&server).hangup(&id()).await.unwrap();
    assert_eq!(outcome, HangupOutcome::AlreadyEnded);
}

#[tokio::test]
async fn a_refused_hangup_is_success_only_when_the_call_is_over() {
    for (state, ended) in [("completed", true), ("answered", false)] {
        let server = MockServer::start().await;
        let refused = answer(
            400,
            json!({
                "type": "https://developer.nexmo.com/api-errors#bad-request", "title": "Bad Request",
                "detail": "Call is not in a valid state"
            }),
        );
        mount(&server, voice("PUT", call_path()), refused, 1).await;
        let call = answer(200, json!({"uuid": UUID, "status": state}));
        mount(&server, voice("GET", call_path()), call, 1).await;
        let r = vonage(&server).hangup(&id()).await;
        if ended {
            assert_eq!(r.unwrap(), HangupOutcome::AlreadyEnded);
        } else {
            let e = r.unwrap_err();
            assert_eq!(e.http_status(), Some(400));
            assert!(e.to_string().contains("not in a valid state"), "{e}");
        }
    }
}

#[tokio::test]
async fn transfer_mute_and_dtmf() {
    let server = MockServer::start().await;
    for body in [
        json!({
            "action": "transfer",
            "destination": {"type": "ncco", "ncco": [{"action": "talk", "text": "Transferring you"}]}
        }),
        json!({
            "action": "transfer",
            "destination": {"type": "ncco", "url": ["https://agent.example.com/vonage/next"]}
        }),
        json!({"action": "earmuff"}),
    ] {
        let request = voice("PUT", call_path()).and(body_json(body));
        mount(&server, request, status(204), 1).await;
    }
    let dtmf =
        voice("PUT", format!("{}/dtmf", call_path())).and(body_json(json!({"digits": "1713#"})));
    let sent = answer(200, json!({"message": "DTMF sent", "uuid": UUID}));
    mount(&server, dtmf, sent, 1).await;
    let v = vonage(&server);
    let c = v.client();
    c.transfer_ncco(UUID, &Ncco::new().talk(Talk::new("Transferring you")))
        .await
        .unwrap();
    c.transfer_url(
        UUID,
        &"https://agent.example.com/vonage/next".parse().unwrap(),
    )
    .await
    .unwrap();
    c.control(UUID, CallControl::Earmuff).await.unwrap();
    c.send_dtmf(UUID, "1713#").await.unwrap();
    assert!(c.send_dtmf(UUID, "12x").await.unwrap_err().is_config());
    assert!(c.transfer_ncco(UUID, &Ncco::new()).await.is_err());
}

#[tokio::test]
async fn the_application_jwt_is_reused_across_requests() {
    let server = MockServer::start().await;
    mount(&server, voice("PUT", call_path()), status(204), 3).await;
    let v = vonage(&server);
    for _ in 0..3 {
        v.hangup(&id()).await.unwrap();
    }
    let tokens: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.headers["authorization"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(tokens.len(), 3);
    assert!(tokens.iter().all(|t| t == &tokens[0]), "signed per request");
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

/// The balance is read from the REST host's get-balance with the account's key and secret
/// (Basic, as Vonage's snippet sends them), every digit of the JSON number kept, in the
/// configured currency.
#[tokio::test]
async fn balance_reads_get_balance_with_basic_auth() {
    let server = MockServer::start().await;
    let get = basic_auth("GET", "/account/get-balance");
    mount(&server, get, answer(200, balance_fixture()), 2).await;
    let v = vonage(&server);
    assert!(v.capabilities().balance);
    assert_eq!(v.balance().await.unwrap().to_string(), "29.18202293 EUR");
    let gbp = Vonage::new(config(&server).currency(Currency::new("GBP").unwrap())).unwrap();
    assert_eq!(gbp.balance().await.unwrap().to_string(), "29.18202293 GBP");
}

/// Another REST host (its own base URL) is where the balance is read, not the Voice API's.
#[tokio::test]
async fn balance_goes_to_the_rest_host() {
    let (voice, rest) = (MockServer::start().await, MockServer::start().await);
    mount(
        &rest,
        basic_auth("GET", "/account/get-balance"),
        answer(200, balance_fixture()),
        1,
    )
    .await;
    mount(&voice, Mock::given(method("GET")), status(500), 0).await;
    let config = VonageConfig::new(APP, KEY)
        .api_credentials(API_KEY, API_SECRET)
        .base_url(voice.uri().parse().unwrap())
        .applications_base_url(voice.uri().parse().unwrap())
        .rest_base_url(rest.uri().parse().unwrap());
    let balance = Vonage::new(config).unwrap().balance().await.unwrap();
    assert_eq!(balance.amount.to_string(), "29.18202293");
}

/// Without the account's key and secret the balance cannot be asked for: a configuration
/// error naming the setting, before any request.
#[tokio::test]
async fn balance_without_the_api_key_names_it() {
    let server = MockServer::start().await;
    mount(&server, Mock::given(method("GET")), status(500), 0).await;
    let config = VonageConfig::new(APP, KEY).all_hosts(server.uri().parse().unwrap());
    let err = Vonage::new(config).unwrap().balance().await.unwrap_err();
    assert!(
        err.is_config() && err.to_string().contains("VONAGE_API_KEY"),
        "{err}"
    );
}

/// Each number says what it takes, as its `features` say (vonage-python-sdk's listing: one
/// SMS-only number, one with voice and SMS); one without the list is `None`.
#[tokio::test]
async fn numbers_say_whether_they_take_voice_and_sms() {
    let server = MockServer::start().await;
    let listing = json!({
        "count": 3,
        "numbers": [
            sms_only("3400000000"),
            {
                "country": "GB", "msisdn": "447007000000", "type": "mobile-lvn",
                "features": ["VOICE", "SMS"], "voiceCallbackType": "app",
                "voiceCallbackValue": "29f769u7-7ce1-46c9-ade3-f2dedee4fr4t",
                "app_id": "29f769u7-7ce1-46c9-ade3-f2dedee4fr4t"
            },
            {"country": "GB", "msisdn": "447007000001", "type": "landline"}
        ]
    });
    mount(
        &server,
        basic_auth("GET", "/account/numbers"),
        answer(200, listing),
        1,
    )
    .await;
    let numbers = vonage(&server).phone_numbers().await.unwrap();
    let said: Vec<(&str, Option<bool>, Option<bool>)> = numbers
        .iter()
        .map(|n| (n.number.as_str(), n.voice, n.sms))
        .collect();
    assert_eq!(
        said,
        [
            ("+3400000000", Some(false), Some(true)),
            ("+447007000000", Some(true), Some(true)),
            ("+447007000001", None, None),
        ]
    );
}

/// An SMS-only number is refused before the application is read or changed.
#[tokio::test]
async fn configure_inbound_refuses_a_number_without_voice() {
    let server = MockServer::start().await;
    let found = json!({"count": 1, "numbers": [sms_only("447700900000")]});
    mount(
        &server,
        basic_auth("GET", "/account/numbers"),
        answer(200, found),
        1,
    )
    .await;
    mount(&server, on("GET", app_path()), status(500), 0).await;
    mount(&server, Mock::given(method("PUT")), status(500), 0).await;
    mount(&server, Mock::given(method("POST")), status(500), 0).await;
    let err = configure(&vonage(&server), "+447700900000", ANSWER)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NumberWithoutVoice { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("Vonage reports that +447700900000 cannot take voice calls"),
        "{err}"
    );
}

#[tokio::test]
async fn numbers_are_listed_page_by_page_with_basic_auth() {
    let server = MockServer::start().await;
    let first: Vec<serde_json::Value> = (0..100)
        .map(|i| number(&format!("4477009{i:05}"), Some(APP)))
        .collect();
    let request = basic_auth("GET", "/account/numbers")
        .and(query_param("index", "1"))
        .and(query_param("size", "100"));
    mount(&server, request, numbers_page(101, first), 1).await;
    let request = on("GET", "/account/numbers").and(query_param("index", "2"));
    let second = numbers_page(101, vec![number("14155550100", None)]);
    mount(&server, request, second, 1).await;
    let numbers = vonage(&server).phone_numbers().await.unwrap();
    assert_eq!(numbers.len(), 101);
    assert_eq!(numbers[0].number.as_str(), "+447700900000");
    assert_eq!(
        numbers[0].provider_id.as_deref(),
        Some(format!("application {APP}").as_str())
    );
    assert_eq!(numbers[100].provider_id, None);

    // Without the account's key and secret, nothing is sent.
    let v =
        Vonage::new(VonageConfig::new(APP, KEY).all_hosts(server.uri().parse().unwrap())).unwrap();
    let e = v.phone_numbers().await.unwrap_err();
    assert!(
        e.is_config() && e.to_string().contains("VONAGE_API_KEY"),
        "{e}"
    );
    // An account with no numbers answers without the list.
    let empty = MockServer::start().await;
    let none = answer(200, json!({"count": 0}));
    serve(&empty, on("GET", "/account/numbers"), none).await;
    assert!(vonage(&empty).phone_numbers().await.unwrap().is_empty());
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

#[tokio::test]
async fn configure_inbound_rewrites_only_the_voice_webhooks_and_links_the_number() {
    let server = MockServer::start().await;
    let request = basic_auth("GET", "/account/numbers")
        .and(query_param("pattern", "447700900000"))
        .and(query_param("search_pattern", "0"));
    let numbers = numbers_page(
        2,
        vec![
            number("447700900000", Some("ffffffff-0000-4000-8000-000000000000")),
            number("4477009000001", None),
        ],
    );
    serve(&server, request, numbers).await;
    let old = answer(200, application("https://old.example.com/answer", "GET"));
    mount(&server, basic_auth("GET", app_path()), old, 1).await;
    let request = basic_auth("PUT", app_path()).and(body_json(json!({
        "name": "voice agent",
        "capabilities": {
            "voice": {
                "webhooks": {
                    "answer_url": {"address": ANSWER, "http_method": "GET", "connect_timeout": 500, "socket_timeout": 3000},
                    "fallback_answer_url": {"address": "https://fallback.example.com/answer", "http_method": "GET"},
                    "event_url": {"address": "https://agent.example.com/vonage/events", "http_method": "POST"}
                },
                "signed_callbacks": false,
                "conversations_ttl": 48,
                "region": "eu-west"
            },
            "rtc": {"webhooks": {"event_url": {"address": "https://rtc.example.com", "http_method": "POST"}}}
        },
        "keys": {"public_key": "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n"},
        "privacy": {"improve_ai": false}
    })));
    mount(
        &server,
        request,
        answer(200, application(ANSWER, "POST")),
        1,
    )
    .await;
    let elsewhere = answer(
        200,
        application("https://elsewhere.example.com/answer", "GET"),
    );
    let request = on(
        "GET",
        "/v2/applications/ffffffff-0000-4000-8000-000000000000",
    );
    mount(&server, request, elsewhere, 1).await;
    let request = basic_auth("POST", "/number/update")
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string(format!(
            "country=GB&msisdn=447700900000&app_id={APP}"
        )));
    let success = answer(
        200,
        json!({"error-code": "200", "error-code-label": "success"}),
    );
    mount(&server, request, success, 1).await;
    let v = Vonage::new(
        config(&server)
            .signature_secret("sig")
            .event_url("https://agent.example.com/vonage/events".parse().unwrap()),
    )
    .unwrap();
    let report = configure(&v, "+447700900000", ANSWER).await.unwrap();
    assert!(report.changed && report.drifted());
    // The number's calls went to the application it was linked to.
    assert_eq!(
        report.previous_url.as_deref(),
        Some("https://elsewhere.example.com/answer")
    );
    let notes = report.notes.join("\n");
    for expected in [
        "answer_url was https://old.example.com/answer",
        "event_url was https://old.example.com/events",
        "signed callbacks are off",
        "linked to application ffffffff-0000-4000-8000-000000000000",
    ] {
        assert!(notes.contains(expected), "{expected} not in {notes}");
    }
}

#[tokio::test]
async fn configure_inbound_changes_nothing_that_is_right_and_reports_failures() {
    let server = MockServer::start().await;
    let app = application(ANSWER, "POST");
    let numbers = numbers_page(1, vec![number("447700900000", Some(APP))]);
    serve(&server, on("GET", "/account/numbers"), numbers).await;
    serve(&server, on("GET", app_path()), answer(200, app)).await;
    for verb in ["PUT", "POST"] {
        mount(&server, Mock::given(method(verb)), status(500), 0).await;
    }
    let v = vonage(&server);
    let report = configure(&v, "+447700900000", ANSWER).await.unwrap();
    assert!(!report.changed && report.notes.is_empty(), "{report:?}");

    // A number the account does not rent.
    let e = configure(&v, "+14155550100", ANSWER).await.unwrap_err();
    assert!(
        e.to_string().contains("not a number of Vonage account"),
        "{e}"
    );
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

/// What configure_inbound would change, as it would report it, read without a write: the
/// number linked to another application, both webhooks elsewhere, signed callbacks off with
/// a signature secret set.
#[tokio::test]
async fn inbound_drift_reports_what_configure_inbound_would_change_and_writes_nothing() {
    let server = MockServer::start().await;
    let other = "ffffffff-0000-4000-8000-000000000000";
    let numbers = numbers_page(1, vec![number("447700900000", Some(other))]);
    serve(&server, basic_auth("GET", "/account/numbers"), numbers).await;
    let old = answer(200, application("https://old.example.com/answer", "GET"));
    serve(&server, basic_auth("GET", app_path()), old).await;
    let elsewhere = answer(
        200,
        application("https://elsewhere.example.com/answer", "GET"),
    );
    serve(
        &server,
        on("GET", format!("/v2/applications/{other}")),
        elsewhere,
    )
    .await;
    no_writes(&server).await;
    let v = Vonage::new(
        config(&server)
            .signature_secret("sig")
            .event_url("https://agent.example.com/vonage/events".parse().unwrap()),
    )
    .unwrap();
    let number = "+447700900000".parse().unwrap();
    let found = v
        .inbound_drift(&number, Some(&ANSWER.parse().unwrap()))
        .await
        .unwrap();
    only_reads(&server).await;
    assert_eq!(
        found.current_url.as_deref(),
        Some("https://elsewhere.example.com/answer")
    );
    let drift = &found.drift;
    assert_eq!(drift.len(), 5, "{drift:#?}");
    assert_eq!(
        drift[0],
        Drift::Url {
            found: Some("https://elsewhere.example.com/answer".to_owned())
        }
    );
    let said: Vec<String> = drift.iter().map(ToString::to_string).collect();
    assert!(said[1].contains(&format!("linked to application {other}, not {APP}")));
    assert!(said[2].starts_with("answer_url was https://old.example.com/answer"));
    assert!(said[3].starts_with("event_url was https://old.example.com/events"));
    let Drift::Unsigned { detail, fix } = &drift[4] else {
        panic!("{drift:#?}");
    };
    assert!(detail.contains("signed callbacks are off") && detail.contains(APP));
    assert!(fix.contains("capabilities.voice.signed_callbacks"), "{fix}");
    assert!(!found.is_clean());

    // A number the account does not rent, and one without voice: configure_inbound's errors.
    let e = v
        .inbound_drift(
            &"+14155550100".parse().unwrap(),
            Some(&ANSWER.parse().unwrap()),
        )
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("not a number of Vonage account"),
        "{e}"
    );
}

/// Set up right, nothing drifted; signed callbacks off matter only with a signature secret.
#[tokio::test]
async fn inbound_drift_of_a_number_set_up_right_is_clean() {
    let server = MockServer::start().await;
    let numbers = numbers_page(1, vec![number("447700900000", Some(APP))]);
    serve(&server, on("GET", "/account/numbers"), numbers).await;
    serve(
        &server,
        on("GET", app_path()),
        answer(200, application(ANSWER, "POST")),
    )
    .await;
    no_writes(&server).await;
    let ours = "+447700900000".parse().unwrap();
    let url = ANSWER.parse().unwrap();
    let found = vonage(&server)
        .inbound_drift(&ours, Some(&url))
        .await
        .unwrap();
    assert!(found.is_clean(), "{found:#?}");
    assert_eq!(found.current_url.as_deref(), Some(ANSWER));
    let signed = Vonage::new(config(&server).signature_secret("sig")).unwrap();
    // With the URL or without it, signed callbacks off are the one drift.
    for url in [Some(&url), None] {
        let found = signed.inbound_drift(&ours, url).await.unwrap();
        assert!(
            matches!(found.drift.as_slice(), [Drift::Unsigned { .. }]),
            "{found:#?}"
        );
        assert_eq!(found.current_url.as_deref(), Some(ANSWER));
    }
    // Without a URL, another URL than the application's is no drift: nothing to compare.
    let elsewhere = MockServer::start().await;
    let numbers = numbers_page(1, vec![number("447700900000", Some(APP))]);
    serve(&elsewhere, on("GET", "/account/numbers"), numbers).await;
    let app = answer(200, application("https://other.example.com/answer", "POST"));
    serve(&elsewhere, on("GET", app_path()), app).await;
    no_writes(&elsewhere).await;
    let found = vonage(&elsewhere).inbound_drift(&ours, None).await.unwrap();
    assert!(found.is_clean(), "{found:#?}");
    let found = vonage(&elsewhere)
        .inbound_drift(&ours, Some(&url))
        .await
        .unwrap();
    assert!(
        matches!(found.drift.as_slice(), [Drift::Url { .. }]),
        "{found:#?}"
    );
    only_reads(&server).await;
    only_reads(&elsewhere).await;
}

#[tokio::test]
async fn a_refused_number_link_is_an_error() {
    let server = MockServer::start().await;
    let numbers = numbers_page(1, vec![number("447700900000", None)]);
    serve(&server, on("GET", "/account/numbers"), numbers).await;
    let app = answer(200, application(ANSWER, "POST"));
    serve(&server, on("GET", app_path()), app).await;
    serve(&server, Mock::given(method("PUT")), answer(200, json!({}))).await;
    let failed = answer(
        200,
        json!({"error-code": "420", "error-code-label": "method failed"}),
    );
    serve(&server, on("POST", "/number/update"), failed).await;
    let e = configure(&vonage(&server), "+447700900000", ANSWER)
        .await
        .unwrap_err();
    assert_eq!(e.http_status(), Some(420));
    assert!(e.to_string().contains("method failed"), "{e}");
}

#[tokio::test]
async fn the_other_error_paths() {
    let server = MockServer::start().await;
    let call = call_path();
    let not_found = answer(
        404,
        json!({
            "type": "https://developer.nexmo.com/api-errors#not-found", "title": "Not Found",
            "detail": "Call not found"
        }),
    );
    mount(&server, voice("GET", call.as_str()), not_found, 1).await;
    let not_answered = answer(
        400,
        json!({
            "type": "https://developer.nexmo.com/api-errors#bad-request", "title": "Bad Request",
            "detail": "Call is not answered"
        }),
    );
    mount(
        &server,
        voice("PUT", format!("{call}/dtmf")),
        not_answered,
        1,
    )
    .await;
    for (action, code) in [("mute", 409), ("hangup", 410)] {
        let request = voice("PUT", call.as_str()).and(body_json(json!({"action": action})));
        mount(&server, request, status(code), 1).await;
    }
    let refused = answer(
        401,
        json!({"error-code": "401", "error-code-label": "authentication failed"}),
    );
    mount(&server, basic_auth("GET", "/account/numbers"), refused, 1).await;
    let invalid = answer(
        400,
        json!({
            "type": "https://developer.nexmo.com/api-errors/application#payload-validation",
            "title": "Bad Request", "detail": "The request failed due to validation errors",
            "invalid_parameters": [{"name": "capabilities.voice.webhooks.answer_url.address", "reason": "Is not a valid URL"}]
        }),
    );
    mount(&server, basic_auth("PUT", app_path()), invalid, 1).await;
    let v = vonage(&server);
    let id = id();
    let e = v.call_status(&id).await.unwrap_err();
    assert!(
        e.is_not_found() && e.to_string().contains("Call not found"),
        "{e}"
    );
    let e = v.client().send_dtmf(UUID, "1").await.unwrap_err();
    assert_eq!(e.http_status(), Some(400));
    assert!(!e.may_have_acted(), "a 400 was not acted on");
    let e = v
        .client()
        .control(UUID, CallControl::Mute)
        .await
        .unwrap_err();
    assert_eq!(e.http_status(), Some(409));
    assert_eq!(v.hangup(&id).await.unwrap(), HangupOutcome::AlreadyEnded);
    let e = v.phone_numbers().await.unwrap_err();
    assert!(e.is_auth(), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("authentication failed") && text.contains("VONAGE_API_SECRET"),
        "{text}"
    );
    assert!(!text.contains(API_SECRET));
    let mut app = application("https://old.example.com/answer", "POST");
    app["name"] = json!("renamed");
    let e = v.client().put_application(APP, &app).await.unwrap_err();
    assert!(
        e.to_string()
            .contains("answer_url.address: Is not a valid URL"),
        "{e}"
    );
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
