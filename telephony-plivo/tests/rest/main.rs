//! The REST operations against a fake Plivo on loopback: exact requests, how Plivo's answers
//! are read, every error path of its own. The rules every adapter keeps (retries, timeouts,
//! 429s, 401s, pages) are telephony-testkit's REST contract, run here for Plivo at the end.

use std::sync::Arc;
use std::time::Duration;

use telephony_core::rest::HttpConfig;
use telephony_core::{
    CallId, CallStatus, Currency, Decimal, Drift, E164, Error, HangupOutcome, InboundDrift,
    InboundUpdate, OutboundCall, StreamSpec, TelephonyProvider, Url,
};
use telephony_plivo::{Plivo, PlivoConfig};
use telephony_testkit::contract::rest::{
    BalanceRead, Cost, Endpoint, Hangup, Inbound, Listing, RestCarrier, Waits,
};
use wiremock::matchers::{body_json, header, method, method as method_is, path, query_param};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

mod calls;
mod inbound;

const ID: &str = "MAXXXXXXXXXXXXXXXXX1";
const TOKEN: &str = "plivo-s3cr3t";
const APP: &str = "29986316244302815";
const REQ: &str = "2e94fb9a-a58f-4a1c-86ac-59cba3e4a2b5";
const UUID: &str = "b2a7c1d4-5e6f-4a8b-9c0d-1e2f3a4b5c6d";
const INBOUND: &str = "https://agent.example.com/plivo/inbound";

fn p(tail: &str) -> String {
    format!("/v1/Account/{ID}/{tail}")
}

/// The account path of call (or request) `id`.
fn call_path(id: &str) -> String {
    p(&format!("Call/{id}/"))
}

fn basic() -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ID}:{TOKEN}"))
    )
}

/// Requests of `verb` to the account path `full` (as [`p`] writes it).
fn on(verb: &str, full: String) -> MockBuilder {
    Mock::given(method(verb)).and(path(full))
}

/// `verb` to `full` with `?status=`: Plivo's live and queued lookups.
fn on_status(verb: &str, full: String, status: &str) -> MockBuilder {
    on(verb, full).and(query_param("status", status))
}

/// Mounts `mock`, answering `answer`, expected exactly `times` times.
async fn mount(server: &MockServer, mock: MockBuilder, answer: ResponseTemplate, times: u64) {
    mock.respond_with(answer).expect(times).mount(server).await;
}

/// An answer of `status` with the JSON `body`.
fn json(status: u16, body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

/// Plivo's error body, with its `api_id`.
fn plivo_error(status: u16, api_id: &str, error: &str) -> ResponseTemplate {
    json(
        status,
        serde_json::json!({"api_id": api_id, "error": error}),
    )
}

fn not_found() -> ResponseTemplate {
    plivo_error(404, "x", "not found")
}

fn status(code: u16) -> ResponseTemplate {
    ResponseTemplate::new(code)
}

fn id(text: &str) -> CallId {
    CallId::new(text).unwrap()
}

/// Number 14155550101 of the account, linked to `app` (or to none), fetched once.
async fn number_linked_to(server: &MockServer, app: Option<&str>) {
    let application = app.map(|a| format!("/v1/Account/{ID}/Application/{a}/"));
    let body = serde_json::json!({"number": "14155550101", "application": application});
    mount(
        server,
        on("GET", p("Number/14155550101/")),
        json(200, body),
        1,
    )
    .await;
}

/// Application APP, answering at `answer_url` (POST), fetched once.
async fn application_answering(server: &MockServer, answer_url: &str) {
    let body =
        serde_json::json!({"app_id": APP, "answer_url": answer_url, "answer_method": "POST"});
    mount(
        server,
        on("GET", p(&format!("Application/{APP}/"))),
        json(200, body),
        1,
    )
    .await;
}

fn plivo(server: &MockServer) -> Plivo {
    Plivo::new(
        PlivoConfig::new(ID, TOKEN)
            .app_id(APP)
            .base_url(server.uri().parse().unwrap())
            .http(Waits::default().http()),
    )
    .unwrap()
}

/// Points `number` at `url` through the Plivo on `server`.
async fn configure(server: &MockServer, number: &str, url: &str) -> Result<InboundUpdate, Error> {
    plivo(server)
        .configure_inbound(&number.parse().unwrap(), &url.parse().unwrap())
        .await
}

fn outbound() -> OutboundCall {
    OutboundCall::answer_url(
        "+14155550100".parse().unwrap(),
        "+14155550199".parse().unwrap(),
        "https://agent.example.com/plivo/answer".parse().unwrap(),
    )
    .status_callback("https://agent.example.com/plivo/status".parse().unwrap())
    .machine_detection(telephony_core::MachineDetection::Detect)
    .ring_timeout(Duration::from_secs(30))
    .time_limit(Duration::from_secs(3600))
}

fn cdr(total: Option<&str>) -> serde_json::Value {
    serde_json::json!({
        "answer_time": "2022-10-12 21:57:47+05:30", "api_id": "x", "bill_duration": 60, "billed_duration": 60,
        "call_direction": "outbound", "call_duration": 17, "call_state": "ANSWER", "call_uuid": UUID,
        "end_time": "2022-10-12 21:58:04+05:30", "from_number": "+14155550199", "hangup_cause_code": 4000,
        "hangup_cause_name": "Normal Hangup", "hangup_source": "Callee", "initiation_time": "2022-10-12 21:57:40+05:30",
        "parent_call_uuid": null, "to_number": "+14155550100", "total_amount": total, "total_rate": "0.00850"
    })
}

/// A live call `UUID`, in progress, placed by request `REQ`.
fn live_uuid() -> ResponseTemplate {
    json(
        200,
        serde_json::json!({"call_uuid": UUID, "call_status": "in-progress", "request_uuid": REQ}),
    )
}

/// plivo-python's `tests/resources/fixtures/callGetResponse.json`, verbatim: a real record of an
/// outbound call that ended unanswered. No `call_state`, `answer_time` null, nothing billed,
/// times with the account zone's offset, the called number as digits.
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

/// plivo-python's account fixture (tests/resources/fixtures/accountGetResponse.json).
fn account_fixture() -> serde_json::Value {
    serde_json::json!({
        "account_type": "standard",
        "address": "",
        "api_id": "95e1df78-3f08-11e7-8bc8-065f6a74a84a",
        "auth_id": "MAXXXXXXXXXXXXXXXXXX",
        "auto_recharge": false,
        "billing_mode": "prepaid",
        "cash_credits": "4.88860",
        "city": "",
        "name": "Sherlock Holmes",
        "resource_uri": "/v1/Account/MAXXXXXXXXXXXXXXXXXX/",
        "state": "",
        "timezone": "Asia/Kolkata"
    })
}

/// plivo-python's number fixture (tests/resources/fixtures/numberGetResponse.json: voice and
/// SMS enabled), as number 14155550101 linked to APP.
fn fixture_number() -> serde_json::Value {
    serde_json::json!({
        "added_on": "2014-02-14",
        "active": false,
        "alias": null,
        "api_id": "88625e5e-1c92-11e4-80aa-12313f048015",
        "application": format!("/v1/Account/{ID}/Application/{APP}/"),
        "carrier": "Plivo",
        "monthly_rental_rate": "0.80000",
        "number": "14155550101",
        "number_type": "local",
        "city": "USA",
        "country": "United States",
        "mms_enabled": false,
        "mms_rate": "0.00000",
        "renewal_date": "2014-03-14",
        "region": "California, UNITED STATES",
        "resource_uri": format!("/v1/Account/{ID}/Number/14155550101/"),
        "sms_enabled": true,
        "sms_rate": "0.00000",
        "sub_account": null,
        "voice_enabled": true,
        "voice_rate": "0.00850"
    })
}

/// The same number, without voice (an SMS-only number).
fn voiceless_number() -> serde_json::Value {
    let mut n = fixture_number();
    n["voice_enabled"] = false.into();
    n
}

/// A Plivo whose number 14155550101 is linked to `linked` (or to none), where application
/// APP answers at `ours` with `method` and any other application at `OTHER_ANSWER`. Reads
/// only, answered as often as asked.
async fn inbound_setup(
    server: &MockServer,
    linked: Option<&str>,
    ours: Option<&str>,
    method: Option<&str>,
) {
    let application = linked.map(|a| format!("/v1/Account/{ID}/Application/{a}/"));
    let number = serde_json::json!({"number": "14155550101", "application": application, "voice_enabled": true});
    on("GET", p("Number/14155550101/"))
        .respond_with(json(200, number))
        .mount(server)
        .await;
    let app = serde_json::json!({"app_id": APP, "answer_url": ours, "answer_method": method});
    on("GET", p(&format!("Application/{APP}/")))
        .respond_with(json(200, app))
        .mount(server)
        .await;
    let other = serde_json::json!({"app_id": OTHER_APP, "answer_url": OTHER_ANSWER, "answer_method": "POST"});
    on("GET", p(&format!("Application/{OTHER_APP}/")))
        .respond_with(json(200, other))
        .mount(server)
        .await;
}

const OTHER_APP: &str = "77777777777777777";
const OTHER_ANSWER: &str = "https://old.example.com/answer";

/// `inbound_drift` of the set-up [`inbound_setup`] stages, checked to send only `GET`s; and
/// `configure_inbound` on the same set-up, checked to change something exactly when drift
/// was found.
async fn drift_of(
    linked: Option<&str>,
    ours: Option<&str>,
    method: Option<&str>,
    url: Option<&str>,
) -> InboundDrift {
    let server = MockServer::start().await;
    inbound_setup(&server, linked, ours, method).await;
    mount(&server, Mock::given(method_is("POST")), status(202), 0).await;
    let number: E164 = "+14155550101".parse().unwrap();
    let url: Option<Url> = url.map(|u| u.parse().unwrap());
    let found = plivo(&server)
        .inbound_drift(&number, url.as_ref())
        .await
        .unwrap();
    let sent = server.received_requests().await.unwrap();
    assert!(!sent.is_empty());
    for r in &sent {
        assert_eq!(
            r.method.as_str(),
            "GET",
            "inbound_drift wrote: {} {}",
            r.method,
            r.url
        );
    }
    if let Some(url) = &url {
        let server = MockServer::start().await;
        inbound_setup(&server, linked, ours, method).await;
        let changed = || json(202, serde_json::json!({"message": "changed"}));
        Mock::given(method_is("POST"))
            .respond_with(changed())
            .mount(&server)
            .await;
        let update = plivo(&server)
            .configure_inbound(&number, url)
            .await
            .unwrap();
        assert_eq!(
            update.changed,
            !found.drift.is_empty(),
            "{found:?} {update:?}"
        );
        assert_eq!(update.previous_url, found.current_url);
    }
    found
}

fn setting(detail: &str) -> Drift {
    Drift::Setting {
        detail: detail.to_owned(),
    }
}

/// Plivo, as the REST contract sees it.
fn carrier() -> RestCarrier {
    fn adapter(base: Url, http: HttpConfig) -> Arc<dyn TelephonyProvider> {
        Arc::new(
            Plivo::new(
                PlivoConfig::new(ID, TOKEN)
                    .app_id(APP)
                    .base_url(base)
                    .http(http),
            )
            .unwrap(),
        )
    }
    fn error_body(_: u16, message: &str) -> serde_json::Value {
        serde_json::json!({"api_id": "c8f0ae3a-7c7e-11ee-8d3e-0242ac110004", "error": message})
    }
    fn page(n: u32, next: Option<&str>) -> serde_json::Value {
        let number = format!("1415555{:04}", 100 + n);
        serde_json::json!({
            "api_id": "x", "meta": {"limit": 20, "next": next, "offset": 0},
            "objects": [{"number": number, "alias": "one", "application": null}]
        })
    }
    RestCarrier {
        name: "Plivo",
        adapter,
        outbound: outbound(),
        create: Endpoint::new(
            "POST",
            p("Call/"),
            201,
            serde_json::json!({"api_id": "x", "message": "call fired", "request_uuid": REQ}),
        ),
        call: CallId::new(UUID).unwrap(),
        // A status looks for the live call first.
        read: Endpoint::new(
            "GET",
            p(&format!("Call/{UUID}/")),
            200,
            serde_json::json!({"call_status": "in-progress", "call_uuid": UUID, "direction": "outbound", "request_uuid": REQ}),
        ),
        hangup: Hangup {
            endpoint: Endpoint::new(
                "DELETE",
                p(&format!("Call/{UUID}/")),
                204,
                serde_json::Value::Null,
            ),
            outcome: HangupOutcome::Ended,
            already_ended: (404, error_body(404, "not found")),
        },
        // The call's detail record.
        cost: Cost {
            endpoint: Endpoint::new(
                "GET",
                p(&format!("Call/{UUID}/")),
                200,
                cdr(Some("0.01667")),
            ),
            amount: "0.01667",
            currency: "USD",
            unpriced: cdr(None),
        },
        numbers: Listing {
            path: p("Number/"),
            page,
        },
        // The number, linked to APP; APP, answering at the URL.
        inbound: Inbound {
            number: "+14155550101".parse().unwrap(),
            reads: |current| {
                let application = format!("/v1/Account/{ID}/Application/{APP}/");
                vec![
                    Endpoint::new(
                        "GET",
                        p("Number/14155550101/"),
                        200,
                        serde_json::json!({"number": "14155550101", "application": application}),
                    ),
                    Endpoint::new(
                        "GET",
                        p(&format!("Application/{APP}/")),
                        200,
                        serde_json::json!({"app_id": APP, "answer_url": current, "answer_method": "POST"}),
                    ),
                ]
            },
            writes: vec![Endpoint::new(
                "POST",
                p(&format!("Application/{APP}/")),
                202,
                serde_json::json!({"message": "changed"}),
            )],
            stranger: "+14155550109".parse().unwrap(),
            not_owned: vec![Endpoint::new(
                "GET",
                p("Number/14155550109/"),
                404,
                error_body(404, "not found"),
            )],
            voiceless: Some(vec![Endpoint::new(
                "GET",
                p("Number/14155550101/"),
                200,
                voiceless_number(),
            )]),
        },
        // plivo-python's fixture (accountGetResponse.json).
        balance: Some(BalanceRead {
            endpoint: Endpoint::new("GET", p(""), 200, account_fixture()),
            amount: "4.88860",
            currency: "USD",
        }),
        error_body,
        auth_setting: "PLIVO_AUTH_TOKEN",
        secrets: vec![TOKEN.to_owned()],
    }
}

telephony_testkit::rest_contract!(carrier(), follows_links);
