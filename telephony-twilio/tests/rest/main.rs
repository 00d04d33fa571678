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

mod calls;
mod inbound;

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

/// What a host does with numbers it was handed as text: parse, then dial.
async fn dial(twilio: &Twilio, to: &str, from: &str) -> Result<CallInitiation, Error> {
    let call = OutboundCall::answer_url(
        to.parse()?,
        from.parse()?,
        "https://agent.example.com/answer".parse().unwrap(),
    );
    twilio.initiate_call(&call).await
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
