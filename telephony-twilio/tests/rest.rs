//! The REST operations against a fake Twilio on loopback: the exact requests sent, and how
//! Twilio's answers are read. The rules every adapter keeps (retries, timeouts, 429s, 401s,
//! pages) are telephony-testkit's REST contract, run here for Twilio at the end. Each mock
//! that must be hit says how often.

use std::sync::Arc;
use std::time::Duration;

use telephony_core::rest::{HttpConfig, RetryPolicy};
use telephony_core::{
    CallId, CallInitiation, CallStatus, CallTarget, Drift, Error, HangupOutcome, MachineDetection,
    Markup, OutboundCall, StreamSpec, TelephonyProvider, Url,
};
use telephony_testkit::contract::rest::{
    BalanceRead, Cost, Endpoint, Hangup, Inbound, Listing, RestCarrier, Waits,
};
use telephony_twilio::{MAX_PAGES, Twilio, TwilioConfig};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Match, Mock, MockBuilder, MockServer, Request, ResponseTemplate};

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "tok-s3cr3t-value";
const CALL: &str = "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const CALLS: &str = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Calls.json";
const THE_CALL: &str = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Calls/CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json";
const NUMBERS: &str =
    "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/IncomingPhoneNumbers.json";
const BALANCE: &str = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Balance.json";

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

fn id() -> CallId {
    CallId::new(CALL).unwrap()
}

/// Requests of `verb` to `to`.
fn on(verb: &str, to: impl Into<String>) -> MockBuilder {
    Mock::given(method(verb)).and(path(to))
}

/// Mounts `mock`, answering `answer`, expected exactly `times` times.
async fn mount(server: &MockServer, mock: MockBuilder, answer: ResponseTemplate, times: u64) {
    mock.respond_with(answer).expect(times).mount(server).await;
}

/// An answer of `status` with the JSON `body`.
fn answer(status: u16, body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

fn call_json(status: &str, price: Option<&str>) -> serde_json::Value {
    serde_json::json!({
        "sid": CALL,
        "account_sid": SID,
        "status": status,
        "direction": "outbound-api",
        "from": "+14155550199",
        "to": "+14155550100",
        "start_time": "Wed, 19 Sep 2018 20:00:01 +0000",
        "end_time": null,
        "duration": "12",
        "price": price,
        "price_unit": "USD",
        "answered_by": null,
        "api_version": "2010-04-01",
        "subresource_uris": {"notifications": "/x"}
    })
}

/// An answer of `code` carrying the call, unpriced, in `status`.
fn the_call(code: u16, status: &str) -> ResponseTemplate {
    answer(code, call_json(status, None))
}

/// Twilio's 404 with code 20404: no such call (any more).
fn not_found_20404() -> ResponseTemplate {
    answer(
        404,
        serde_json::json!({
            "code": 20404, "message": "The requested resource was not found", "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404
        }),
    )
}

/// The request's form body, exactly: these pairs in this order.
struct FormIs(Vec<(String, String)>);

impl Match for FormIs {
    fn matches(&self, request: &Request) -> bool {
        let got: Vec<(String, String)> = url::form_urlencoded::parse(&request.body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        got == self.0
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

/// The look at the call before a hang-up, which finds it in `status`, once.
async fn looked_at_as(server: &MockServer, status: &str) {
    mount(server, on("GET", THE_CALL), the_call(200, status), 1).await;
}

/// The update that sets `Status=target`, answered with `answer`, once.
async fn updated_to(server: &MockServer, target: &str, answer: ResponseTemplate) {
    let update = on("POST", THE_CALL).and(form(&[("Status", target)]));
    mount(server, update, answer, 1).await;
}

/// Hangs up CALL through the Twilio on `server`; the hang-up must succeed.
async fn hang_up(server: &MockServer) -> HangupOutcome {
    twilio(server).hangup(&id()).await.unwrap()
}

fn stream_call() -> OutboundCall {
    OutboundCall::stream(
        "+14155550100".parse().unwrap(),
        "+14155550199".parse().unwrap(),
        StreamSpec::new("wss://agent.example.com/media".parse().unwrap()).parameter("lead", "42"),
    )
    .status_callback("https://agent.example.com/status".parse().unwrap())
    .machine_detection(MachineDetection::Detect)
    .ring_timeout(Duration::from_secs(25))
}

#[tokio::test]
async fn create_call_sends_every_field_once() {
    let server = MockServer::start().await;
    let twiml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Connect><Stream url=\"wss://agent.example.com/media\"><Parameter name=\"lead\" value=\"42\"/></Stream></Connect><Hangup/></Response>";
    let create = on("POST", CALLS)
        .and(header("authorization", basic_auth().as_str()))
        .and(form(&[
            ("To", "+14155550100"),
            ("From", "+14155550199"),
            ("Twiml", twiml),
            ("StatusCallback", "https://agent.example.com/status"),
            ("StatusCallbackMethod", "POST"),
            ("StatusCallbackEvent", "initiated"),
            ("StatusCallbackEvent", "ringing"),
            ("StatusCallbackEvent", "answered"),
            ("StatusCallbackEvent", "completed"),
            ("MachineDetection", "Enable"),
            ("AsyncAmd", "true"),
            ("AsyncAmdStatusCallback", "https://agent.example.com/status"),
            ("AsyncAmdStatusCallbackMethod", "POST"),
            ("Timeout", "25"),
        ]));
    mount(&server, create, the_call(201, "queued"), 1).await;
    let placed = twilio(&server).initiate_call(&stream_call()).await.unwrap();
    assert_eq!(placed.call_id.as_str(), CALL);
    assert_eq!(placed.status, CallStatus::Queued);
}

#[tokio::test]
async fn create_call_with_an_answer_url() {
    let server = MockServer::start().await;
    let create = on("POST", CALLS).and(form(&[
        ("To", "+14155550100"),
        ("From", "+14155550199"),
        ("Url", "https://agent.example.com/answer"),
        ("Method", "POST"),
        ("TimeLimit", "600"),
    ]));
    mount(&server, create, the_call(201, "queued"), 1).await;
    let call = OutboundCall::answer_url(
        "+14155550100".parse().unwrap(),
        "+14155550199".parse().unwrap(),
        "https://agent.example.com/answer".parse().unwrap(),
    )
    .time_limit(Duration::from_secs(600));
    twilio(&server).initiate_call(&call).await.unwrap();
}

#[tokio::test]
async fn hangup_completes_a_call_in_progress() {
    let server = MockServer::start().await;
    looked_at_as(&server, "in-progress").await;
    updated_to(&server, "completed", the_call(200, "completed")).await;
    assert_eq!(hang_up(&server).await, HangupOutcome::Ended);
}

#[tokio::test]
async fn hangup_cancels_a_ringing_call() {
    let server = MockServer::start().await;
    looked_at_as(&server, "ringing").await;
    updated_to(&server, "canceled", the_call(200, "canceled")).await;
    assert_eq!(hang_up(&server).await, HangupOutcome::Canceled);
}

/// Answered between the look and the cancel: `canceled` leaves an answered call up, so the
/// adapter completes it.
#[tokio::test]
async fn hangup_completes_a_call_answered_while_being_canceled() {
    let server = MockServer::start().await;
    looked_at_as(&server, "ringing").await;
    updated_to(&server, "canceled", the_call(200, "in-progress")).await;
    updated_to(&server, "completed", the_call(200, "completed")).await;
    assert_eq!(hang_up(&server).await, HangupOutcome::Ended);
}

#[tokio::test]
async fn hangup_of_an_ended_call_is_success() {
    let server = MockServer::start().await;
    looked_at_as(&server, "completed").await;
    mount(&server, on("POST", THE_CALL), ResponseTemplate::new(200), 0).await;
    assert_eq!(hang_up(&server).await, HangupOutcome::AlreadyEnded);
}

#[tokio::test]
async fn hangup_of_an_unknown_call_404_20404_is_success() {
    let server = MockServer::start().await;
    mount(&server, on("GET", THE_CALL), not_found_20404(), 2).await;
    assert_eq!(hang_up(&server).await, HangupOutcome::AlreadyEnded);
    // Anything but hang-up still reports the 404.
    let err = twilio(&server).call_status(&id()).await.unwrap_err();
    assert!(err.is_not_found() && err.provider_code() == Some("20404"));
}

fn number_json(
    sid: &str,
    number: &str,
    voice_url: Option<&str>,
    app: Option<&str>,
) -> serde_json::Value {
    serde_json::json!({
        "sid": sid, "phone_number": number, "friendly_name": "line", "voice_url": voice_url,
        "voice_method": "POST", "voice_application_sid": app, "trunk_sid": null,
        "capabilities": {"voice": true, "sms": true, "mms": false, "fax": false}
    })
}

#[tokio::test]
async fn numbers_follow_every_page() {
    let server = MockServer::start().await;
    let next = format!("{NUMBERS}?PageSize=100&Page=1&PageToken=PAabc");
    let second = answer(
        200,
        serde_json::json!({
            "incoming_phone_numbers": [number_json("PN02", "+14155550102", None, None)],
            "next_page_uri": null, "page": 1, "page_size": 100
        }),
    );
    let request = on("GET", NUMBERS).and(query_param("PageToken", "PAabc"));
    mount(&server, request, second, 1).await;
    let first = answer(
        200,
        serde_json::json!({
            "incoming_phone_numbers": [number_json("PN01", "+14155550101", Some("https://old.example.com/voice"), None)],
            "next_page_uri": next, "page": 0, "page_size": 100
        }),
    );
    on("GET", NUMBERS)
        .and(query_param("PageSize", "100"))
        .respond_with(first)
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    let numbers = twilio(&server).phone_numbers().await.unwrap();
    let listed: Vec<&str> = numbers.iter().map(|n| n.number.as_str()).collect();
    assert_eq!(listed, ["+14155550101", "+14155550102"]);
    assert_eq!(
        numbers[0].voice_url.as_deref(),
        Some("https://old.example.com/voice")
    );
    assert_eq!(numbers[0].provider_id.as_deref(), Some("PN01"));
}

#[tokio::test]
async fn configure_inbound_reports_drift_and_unbinds_an_app() {
    let server = MockServer::start().await;
    let found = answer(
        200,
        serde_json::json!({
            "incoming_phone_numbers": [number_json("PN01", "+14155550101", Some("https://old.example.com/voice"), Some("AP0123456789abcdef0123456789abcdef"))],
            "next_page_uri": null
        }),
    );
    let lookup = on("GET", NUMBERS).and(query_param("PhoneNumber", "+14155550101"));
    mount(&server, lookup, found, 1).await;
    let update = on(
        "POST",
        format!("{}/PN01.json", NUMBERS.trim_end_matches(".json")),
    )
    .and(form(&[
        ("VoiceUrl", "https://agent.example.com/inbound"),
        ("VoiceMethod", "POST"),
        ("VoiceApplicationSid", ""),
    ]));
    let updated = number_json(
        "PN01",
        "+14155550101",
        Some("https://agent.example.com/inbound"),
        None,
    );
    mount(&server, update, answer(200, updated), 1).await;
    let update = twilio(&server)
        .configure_inbound(
            &"+14155550101".parse().unwrap(),
            &"https://agent.example.com/inbound".parse().unwrap(),
        )
        .await
        .unwrap();
    assert!(update.changed && update.drifted());
    assert_eq!(
        update.previous_url.as_deref(),
        Some("https://old.example.com/voice")
    );
    assert!(
        update.notes.iter().any(|n| n.contains("TwiML app")),
        "{:?}",
        update.notes
    );
}

/// What configure_inbound would change, read from the number alone: a TwiML app that takes
/// its calls, a GET voice method; nothing is written.
#[tokio::test]
async fn inbound_drift_reads_the_number_and_writes_nothing() {
    let server = MockServer::start().await;
    let mut bound = number_json(
        "PN01",
        "+14155550101",
        Some("https://agent.example.com/inbound"),
        Some("AP0123456789abcdef0123456789abcdef"),
    );
    bound["voice_method"] = "GET".into();
    let found = answer(
        200,
        serde_json::json!({"incoming_phone_numbers": [bound], "next_page_uri": null}),
    );
    let lookup = on("GET", NUMBERS).and(query_param("PhoneNumber", "+14155550101"));
    mount(&server, lookup, found, 2).await;
    for verb in ["POST", "PUT", "DELETE"] {
        mount(
            &server,
            Mock::given(method(verb)),
            ResponseTemplate::new(500),
            0,
        )
        .await;
    }
    let drift = twilio(&server)
        .inbound_drift(
            &"+14155550101".parse().unwrap(),
            Some(&"https://agent.example.com/inbound".parse().unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(
        drift.current_url.as_deref(),
        Some("https://agent.example.com/inbound")
    );
    let said: Vec<String> = drift.drift.iter().map(ToString::to_string).collect();
    assert_eq!(said.len(), 2, "{said:?}");
    assert!(matches!(drift.drift[0], Drift::Url { .. }), "{drift:?}");
    assert!(
        said[0].contains("TwiML app AP0123456789abcdef0123456789abcdef"),
        "{said:?}"
    );
    assert!(said[1].contains("voice method is GET"), "{said:?}");
    // Without a URL, only the method: where its calls go is nothing to compare.
    let drift = twilio(&server)
        .inbound_drift(&"+14155550101".parse().unwrap(), None)
        .await
        .unwrap();
    assert!(
        matches!(drift.drift.as_slice(), [Drift::Setting { .. }]),
        "{drift:?}"
    );
    for r in server.received_requests().await.unwrap() {
        assert_eq!(r.method.as_str(), "GET", "{}", r.url);
    }
}

/// What a host does with numbers it was handed as text: parse, then dial.
async fn dial(twilio: &Twilio, to: &str, from: &str) -> Result<CallInitiation, Error> {
    let call = OutboundCall::answer_url(
        to.parse()?,
        from.parse()?,
        "https://agent.example.com/answer".parse().unwrap(),
    );
    twilio.initiate_call(&call).await
}

/// Bad numbers, and calls Twilio would refuse, fail before anything is sent: the one POST the
/// server sees is the good call at the end.
#[tokio::test]
async fn a_bad_number_fails_before_any_request() {
    let server = MockServer::start().await;
    mount(
        &server,
        Mock::given(method("POST")),
        the_call(201, "queued"),
        1,
    )
    .await;
    let t = twilio(&server);
    for (to, from) in [
        ("4155550100", "+14155550199"),
        ("+1 415 555 0100", "+14155550199"),
        ("+14155550100", "+0123456789"),
        ("+1415", "+14155550199"),
    ] {
        let err = dial(&t, to, from).await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidNumber(_)) && err.is_config(),
            "{to} {from}: {err}"
        );
        assert!(err.to_string().contains("E.164"), "{err}");
    }
    // A number that arrives in JSON is checked as it is read.
    assert!(serde_json::from_str::<telephony_core::E164>("\"4155550100\"").is_err());
    let number = |n: &str| n.parse().unwrap();
    let refused = [
        OutboundCall::stream(
            number("+14155550100"),
            number("+14155550199"),
            StreamSpec::new("wss://agent.example.com/media?lead=42".parse().unwrap()),
        ),
        OutboundCall::stream(
            number("+14155550100"),
            number("+14155550199"),
            StreamSpec::new("https://agent.example.com/media".parse().unwrap()),
        ),
        OutboundCall::with_target(
            number("+14155550100"),
            number("+14155550199"),
            CallTarget::Markup(Markup::json("[]".into())),
        ),
    ];
    for call in &refused {
        let err = t.initiate_call(call).await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidRequest(_)) && err.is_config(),
            "{err}"
        );
    }
    dial(&t, "+14155550100", "+14155550199").await.unwrap();
}

#[tokio::test]
async fn api_key_credentials_are_sent_as_basic_auth() {
    use base64::Engine as _;
    const KEY: &str = "SK0123456789abcdef0123456789abcdef";
    const KEY_SECRET: &str = "key-s3cr3t-value";
    let server = MockServer::start().await;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:{KEY_SECRET}"))
    );
    // The account stays in the path; the key and its secret authenticate.
    let fetch = on("GET", THE_CALL).and(header("authorization", expected.as_str()));
    mount(&server, fetch, the_call(200, "ringing"), 1).await;
    let config = TwilioConfig::new(SID, TOKEN)
        .api_key(KEY, KEY_SECRET)
        .base_url(server.uri().parse().unwrap())
        .http(HttpConfig::default().retry(RetryPolicy::none()));
    let info = Twilio::new(config)
        .unwrap()
        .call_status(&id())
        .await
        .unwrap();
    assert_eq!(info.status, CallStatus::Ringing);
}

/// The call ended between the look and the hang-up: Twilio answers the POST with 404/20404,
/// and that is success.
#[tokio::test]
async fn hangup_when_the_update_answers_404_20404_is_success() {
    for (status, target) in [("in-progress", "completed"), ("ringing", "canceled")] {
        let server = MockServer::start().await;
        looked_at_as(&server, status).await;
        updated_to(&server, target, not_found_20404()).await;
        assert_eq!(
            hang_up(&server).await,
            HangupOutcome::AlreadyEnded,
            "{status}"
        );
    }
}

/// No credential reaches Debug output, an error message or an error's Debug.
#[tokio::test]
async fn secrets_never_print() {
    let key_secret = "key-s3cr3t-value";
    let config = TwilioConfig::new(SID, TOKEN)
        .api_key("SK0123456789abcdef0123456789abcdef", key_secret)
        .shared_key_secret("shared-s3cr3t-value");
    let twilio = Twilio::new(config.clone()).unwrap();
    for text in [
        format!("{config:?}"),
        format!("{twilio:?}"),
        format!("{:?}", twilio.client()),
    ] {
        for secret in [TOKEN, key_secret, "shared-s3cr3t-value"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_string(r#"{"code":20003,"message":"Authenticate"}"#),
        )
        .mount(&server)
        .await;
    let twilio = Twilio::new(config.base_url(server.uri().parse().unwrap())).unwrap();
    let err = twilio.call_status(&id()).await.unwrap_err();
    let shown = format!("{err} {err:?}");
    for secret in [TOKEN, key_secret, "shared-s3cr3t-value"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(shown.contains("TWILIO_API_KEY_SID"), "{shown}");
}

/// Twilio's error body, `{code, message, more_info, status}`, as the contract's carrier writes
/// it and as Twilio documents it.
fn error_body(status: u16, message: &str) -> serde_json::Value {
    let code = 20000 + u32::from(status);
    serde_json::json!({
        "code": code, "message": message, "status": status,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}")
    })
}

/// An error answer keeps Twilio's code and documentation link, and a 401 names the setting
/// and the account (shortened), never the token.
#[tokio::test]
async fn error_bodies_keep_the_code_and_the_link() {
    let server = MockServer::start().await;
    let refused = answer(
        401,
        serde_json::json!({
            "code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401
        }),
    );
    mount(&server, on("GET", THE_CALL), refused, 1).await;
    let err = twilio(&server).call_status(&id()).await.unwrap_err();
    assert_eq!(err.provider_code(), Some("20003"));
    assert_eq!(
        err.to_string(),
        "Twilio answered 401 (code 20003) to fetch call CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: \
         Authenticate; check TWILIO_AUTH_TOKEN for account AC012345… \
         (https://www.twilio.com/docs/errors/20003)"
    );
    // Problem details, which Twilio's newer APIs write.
    let server = MockServer::start().await;
    let problem = answer(
        400,
        serde_json::json!({
            "title": "Bad Request", "detail": "To is not a valid phone number"
        }),
    );
    mount(&server, on("POST", CALLS), problem, 1).await;
    let err = twilio(&server)
        .initiate_call(&stream_call())
        .await
        .unwrap_err();
    assert_eq!(err.api().unwrap().message, "To is not a valid phone number");
}

/// A call resource, read as Twilio documents it, with the account's Basic credentials.
#[tokio::test]
async fn fetch_reads_the_call_resource() {
    let server = MockServer::start().await;
    let fetch = on("GET", THE_CALL).and(header("authorization", basic_auth().as_str()));
    mount(&server, fetch, the_call(200, "in-progress"), 1).await;
    let info = twilio(&server).call_status(&id()).await.unwrap();
    assert_eq!(info.status, CallStatus::InProgress);
    assert_eq!(info.duration, Some(Duration::from_secs(12)));
    assert_eq!(info.from.as_deref(), Some("+14155550199"));
}

#[test]
fn the_page_cap_is_cores() {
    assert_eq!(MAX_PAGES, HttpConfig::default().max_pages);
    assert_eq!(MAX_PAGES, 1000);
}

/// The Balance resource as twilio-python's fixture has it
/// (tests/integration/api/v2010/account/test_balance.py).
fn balance_fixture() -> serde_json::Value {
    serde_json::json!({
        "account_sid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "balance": "0.05",
        "currency": "USD"
    })
}

/// An incoming number as twilio-python's fixture has it
/// (tests/integration/api/v2010/account/test_incoming_phone_number.py: voice and MMS, no
/// SMS), renamed to `sid` and `number`.
fn fixture_number(sid: &str, number: &str) -> serde_json::Value {
    serde_json::json!({
        "account_sid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "address_requirements": "none",
        "api_version": "2010-04-01",
        "beta": false,
        "capabilities": {"mms": true, "sms": false, "voice": true},
        "date_created": "Thu, 30 Jul 2015 23:19:04 +0000",
        "emergency_status": "Active",
        "friendly_name": "(808) 925-5327",
        "origin": "origin",
        "phone_number": number,
        "sid": sid,
        "sms_application_sid": "",
        "sms_method": "POST",
        "sms_url": "",
        "status_callback": "",
        "status_callback_method": "POST",
        "trunk_sid": null,
        "voice_application_sid": "",
        "voice_caller_id_lookup": false,
        "voice_fallback_method": "POST",
        "voice_fallback_url": null,
        "voice_method": "POST",
        "voice_url": null
    })
}

/// The same number, its capabilities saying it takes no voice calls (an SMS-only number).
fn voiceless_number(sid: &str, number: &str) -> serde_json::Value {
    let mut n = fixture_number(sid, number);
    n["capabilities"] = serde_json::json!({"mms": true, "sms": true, "voice": false});
    n
}

/// The balance is read from the account's Balance resource with its Basic credentials,
/// exactly as Twilio writes it.
#[tokio::test]
async fn balance_reads_the_balance_resource() {
    let server = MockServer::start().await;
    let fetch = on("GET", BALANCE).and(header("authorization", basic_auth().as_str()));
    mount(&server, fetch, answer(200, balance_fixture()), 1).await;
    let twilio = twilio(&server);
    assert!(twilio.capabilities().balance);
    let balance = twilio.balance().await.unwrap();
    assert_eq!(balance.to_string(), "0.05 USD");
    assert_eq!(balance.spendable(), balance.amount);
}

/// A subaccount's Balance resource has no balance: an error that says so, not a zero.
#[tokio::test]
async fn balance_of_a_subaccount_says_it_has_none() {
    let server = MockServer::start().await;
    let none = serde_json::json!({"account_sid": SID, "balance": null, "currency": null});
    mount(&server, on("GET", BALANCE), answer(200, none), 1).await;
    let err = twilio(&server).balance().await.unwrap_err();
    assert!(err.to_string().contains("subaccount"), "{err}");
}

/// Each number says what it takes, as its capabilities say (the fixture: voice, no SMS).
#[tokio::test]
async fn numbers_say_whether_they_take_voice_and_sms() {
    let server = MockServer::start().await;
    let page = serde_json::json!({
        "incoming_phone_numbers": [
            fixture_number("PNaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "+18089255327"),
            voiceless_number("PN02", "+14155550102"),
            {"sid": "PN03", "phone_number": "+14155550103"}
        ],
        "next_page_uri": null
    });
    mount(&server, on("GET", NUMBERS), answer(200, page), 1).await;
    let numbers = twilio(&server).phone_numbers().await.unwrap();
    let said: Vec<(&str, Option<bool>, Option<bool>)> = numbers
        .iter()
        .map(|n| (n.number.as_str(), n.voice, n.sms))
        .collect();
    assert_eq!(
        said,
        [
            ("+18089255327", Some(true), Some(false)),
            ("+14155550102", Some(false), Some(true)),
            ("+14155550103", None, None),
        ]
    );
}

/// A number without voice is refused before its voice URL is touched.
#[tokio::test]
async fn configure_inbound_refuses_a_number_without_voice() {
    let server = MockServer::start().await;
    let found = serde_json::json!({
        "incoming_phone_numbers": [voiceless_number("PN01", "+14155550101")],
        "next_page_uri": null
    });
    mount(&server, on("GET", NUMBERS), answer(200, found), 1).await;
    mount(
        &server,
        Mock::given(method("POST")),
        answer(200, serde_json::json!({})),
        0,
    )
    .await;
    let err = twilio(&server)
        .configure_inbound(
            &"+14155550101".parse().unwrap(),
            &"https://agent.example.com/inbound".parse().unwrap(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NumberWithoutVoice { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "Twilio reports that +14155550101 cannot take voice calls: enable voice on it, or use a \
         voice-capable number, before pointing its calls at a webhook"
    );
}

/// Twilio, as the REST contract sees it.
fn carrier() -> RestCarrier {
    fn adapter(base: Url, http: HttpConfig) -> Arc<dyn TelephonyProvider> {
        Arc::new(Twilio::new(TwilioConfig::new(SID, TOKEN).base_url(base).http(http)).unwrap())
    }
    fn page(n: u32, next: Option<&str>) -> serde_json::Value {
        let number = format!("+1415555{:04}", 100 + n);
        serde_json::json!({
            "incoming_phone_numbers": [number_json(&format!("PN{n:02}"), &number, None, None)],
            "next_page_uri": next, "page_size": 100
        })
    }
    RestCarrier {
        name: "Twilio",
        adapter,
        outbound: stream_call(),
        create: Endpoint::new("POST", CALLS, 201, call_json("queued", None)),
        call: CallId::new(CALL).unwrap(),
        read: Endpoint::new("GET", THE_CALL, 200, call_json("in-progress", None)),
        // A look at the call first (it reads as in progress), then Status=completed.
        hangup: Hangup {
            endpoint: Endpoint::new("POST", THE_CALL, 200, call_json("completed", None)),
            outcome: HangupOutcome::Ended,
            already_ended: (404, error_body(404, "The requested resource was not found")),
        },
        // Twilio writes a charge as a negative price.
        cost: Cost {
            endpoint: Endpoint::new(
                "GET",
                THE_CALL,
                200,
                call_json("completed", Some("-0.01300")),
            ),
            amount: "0.01300",
            currency: "USD",
            unpriced: call_json("completed", None),
        },
        numbers: Listing {
            path: NUMBERS.to_owned(),
            page,
        },
        inbound: Inbound {
            number: "+14155550101".parse().unwrap(),
            reads: |current| {
                vec![Endpoint::new(
                    "GET",
                    NUMBERS,
                    200,
                    serde_json::json!({
                        "incoming_phone_numbers": [number_json("PN01", "+14155550101", Some(current), None)],
                        "next_page_uri": null
                    }),
                )]
            },
            writes: vec![Endpoint::new(
                "POST",
                NUMBERS.replace(".json", "/PN01.json"),
                200,
                number_json(
                    "PN01",
                    "+14155550101",
                    Some("https://agent.example.com/inbound"),
                    None,
                ),
            )],
            stranger: "+14155550109".parse().unwrap(),
            not_owned: vec![Endpoint::new(
                "GET",
                NUMBERS,
                200,
                serde_json::json!({"incoming_phone_numbers": [], "next_page_uri": null}),
            )],
            // twilio-python's fixture, its capabilities saying no voice.
            voiceless: Some(vec![Endpoint::new(
                "GET",
                NUMBERS,
                200,
                serde_json::json!({
                    "incoming_phone_numbers": [voiceless_number("PN01", "+14155550101")],
                    "next_page_uri": null
                }),
            )]),
        },
        // twilio-python's fixture (test_balance.py).
        balance: Some(BalanceRead {
            endpoint: Endpoint::new("GET", BALANCE, 200, balance_fixture()),
            amount: "0.05",
            currency: "USD",
        }),
        error_body,
        auth_setting: "TWILIO_AUTH_TOKEN",
        secrets: vec![TOKEN.to_owned()],
    }
}

telephony_testkit::rest_contract!(carrier(), follows_links);
