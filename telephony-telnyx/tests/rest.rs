//! Call Control against a fake Telnyx on loopback: the exact commands (with their
//! `command_id`s), the bearer key, `errors[]`, a hang-up of an ended call, the rate-limit
//! headers, numbers and their application, and cost from detail records. The rules every
//! adapter keeps (retries, timeouts, 429s, 401s, pages) are telephony-testkit's REST
//! contract, run here for Telnyx at the end.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use telephony_core::rest::HttpConfig;
use telephony_core::{
    CallAnswer, CallId, CallStatus, Drift, HangupOutcome, InboundCall, OutboundCall, StreamSpec,
    TelephonyProvider, Url,
};
use telephony_telnyx::client_state;
use telephony_telnyx::commands::command_id;
use telephony_telnyx::{Telnyx, TelnyxConfig};
use telephony_testkit::contract::rest::{
    BalanceRead, Cost, Endpoint, Hangup, Inbound, Listing, RestCarrier, Waits,
};
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const KEY: &str = "KEY01890ABCDEF_telnyx-s3cr3t";
const CONNECTION: &str = "1684641123236054244";
const CALL: &str = "v3:MdI91X4lWFEs7IgbBEOT9M4AigoY08M0WWZFISt1Yw2axZ_IiE4pqg";

fn telnyx_with(server: &MockServer, waits: &Waits) -> Telnyx {
    Telnyx::new(
        TelnyxConfig::new(KEY, CONNECTION)
            .base_url(server.uri().parse().unwrap())
            .http(waits.http()),
    )
    .unwrap()
}

fn stream() -> StreamSpec {
    StreamSpec::new("wss://agent.example.com/media/telnyx".parse().unwrap()).parameter("lead", "42")
}

fn outbound() -> OutboundCall {
    OutboundCall::stream(
        "+14155550100".parse().unwrap(),
        "+14155550199".parse().unwrap(),
        stream(),
    )
    .status_callback("https://agent.example.com/telnyx/events".parse().unwrap())
}

fn bearer() -> String {
    format!("Bearer {KEY}")
}

fn created() -> serde_json::Value {
    json!({"data": {"call_control_id": CALL, "call_leg_id": "428c31b6-7af4-4bcb-b7f5-5013ef9657c1", "call_session_id": "428c31b6-abf3-3bc1-b7f4-5013ef9657c1", "is_alive": false, "record_type": "call"}})
}

fn body_of(request: &Request) -> serde_json::Value {
    serde_json::from_slice(&request.body).unwrap()
}

#[tokio::test]
async fn a_call_is_dialled_with_its_stream_in_rtp_mode_and_a_command_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/calls"))
        .and(header("authorization", bearer().as_str()))
        .and(body_partial_json(json!({
            "connection_id": CONNECTION,
            "to": "+14155550100",
            "from": "+14155550199",
            "webhook_url": "https://agent.example.com/telnyx/events",
            "webhook_url_method": "POST",
            "stream_url": "wss://agent.example.com/media/telnyx",
            "stream_track": "inbound_track",
            "stream_codec": "PCMU",
            "stream_bidirectional_mode": "rtp",
            "stream_bidirectional_codec": "PCMU",
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(created()))
        .expect(1)
        .mount(&server)
        .await;
    let telnyx = telnyx_with(&server, &Waits::default());
    let placed = telnyx
        .initiate_call(&outbound().idempotency_key("attempt-1"))
        .await
        .unwrap();
    assert_eq!(placed.call_id.as_str(), CALL);
    assert_eq!(placed.status, CallStatus::Initiated);
    let sent = body_of(&server.received_requests().await.unwrap()[0]);
    assert_eq!(
        sent["command_id"],
        command_id("dial", &format!("{CONNECTION}\nattempt-1"))
    );
    assert_eq!(
        client_state::parameters(sent["client_state"].as_str().unwrap()).unwrap(),
        [("lead".to_owned(), "42".to_owned())]
    );
}

#[tokio::test]
async fn a_retried_dial_after_a_429_carries_the_same_command_id_and_waits_as_asked() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/calls"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-ratelimit-limit", "10")
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", "2")
                .set_body_json(json!({"errors": [{"code": "10011", "title": "Too many requests", "detail": "You have exceeded the maximum number of allowed requests."}]})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/calls"))
        .respond_with(ResponseTemplate::new(200).set_body_json(created()))
        .mount(&server)
        .await;
    let waits = Waits::default();
    telnyx_with(&server, &waits)
        .initiate_call(&outbound())
        .await
        .unwrap();
    assert_eq!(waits.taken(), [Duration::from_secs(2)]);
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        body_of(&requests[0])["command_id"],
        body_of(&requests[1])["command_id"]
    );
}

#[tokio::test]
async fn errors_say_telnyxs_title_detail_and_code() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/calls"))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({"errors": [{"code": "10016", "title": "Phone number must be in +E.164 format", "detail": "The 'to' parameter is invalid", "source": {"pointer": "/to"}, "meta": {"url": "https://developers.telnyx.com/docs/overview/errors/10016"}}]})))
        .mount(&server)
        .await;
    let err = telnyx_with(&server, &Waits::default())
        .initiate_call(&outbound())
        .await
        .unwrap_err();
    let api = err.api().unwrap();
    assert_eq!(api.status, 422);
    assert_eq!(err.provider_code(), Some("10016"));
    let text = err.to_string();
    assert!(
        text.contains("Phone number must be in +E.164 format: The 'to' parameter is invalid"),
        "{text}"
    );
    assert!(!text.contains(KEY));
}

#[tokio::test]
async fn hanging_up_an_ended_call_is_success_and_other_refusals_are_not() {
    let server = MockServer::start().await;
    let hangup = format!("/calls/{CALL}/actions/hangup");
    Mock::given(method("POST"))
        .and(path(hangup.as_str()))
        .and(body_partial_json(
            json!({"command_id": command_id("hangup", CALL)}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"result": "ok"}})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(hangup.as_str()))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({"errors": [{"code": "90018", "title": "Call has already ended", "detail": "This call is no longer active and can't receive commands."}]})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(hangup.as_str()))
        .respond_with(ResponseTemplate::new(422).set_body_json(
            json!({"errors": [{"code": "90015", "title": "Invalid call control id"}]}),
        ))
        .mount(&server)
        .await;
    let telnyx = telnyx_with(&server, &Waits::default());
    let call = CallId::new(CALL).unwrap();
    assert_eq!(telnyx.hangup(&call).await.unwrap(), HangupOutcome::Ended);
    assert_eq!(
        telnyx.hangup(&call).await.unwrap(),
        HangupOutcome::AlreadyEnded
    );
    let err = telnyx.hangup(&call).await.unwrap_err();
    assert_eq!(err.provider_code(), Some("90015"));
}

#[tokio::test]
async fn a_command_is_sent_again_after_a_server_error_because_telnyx_runs_it_once() {
    let server = MockServer::start().await;
    let hangup = format!("/calls/{CALL}/actions/hangup");
    Mock::given(method("POST"))
        .and(path(hangup.as_str()))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(hangup.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"result": "ok"}})))
        .mount(&server)
        .await;
    let telnyx = telnyx_with(&server, &Waits::default());
    assert_eq!(
        telnyx.hangup(&CallId::new(CALL).unwrap()).await.unwrap(),
        HangupOutcome::Ended
    );
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(body_of(&requests[0]), body_of(&requests[1]));
}

#[tokio::test]
async fn an_inbound_call_is_answered_by_command_and_refused_by_rejecting_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/calls/{CALL}/actions/answer")))
        .and(body_partial_json(json!({
            "command_id": command_id("answer", CALL),
            "stream_url": "wss://agent.example.com/media/telnyx",
            "stream_bidirectional_mode": "rtp",
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"result": "ok"}})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/calls/{CALL}/actions/reject")))
        .and(body_partial_json(json!({"cause": "CALL_REJECTED"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"result": "ok"}})))
        .expect(1)
        .mount(&server)
        .await;
    let telnyx = telnyx_with(&server, &Waits::default());
    let call = InboundCall::new(CallId::new(CALL).unwrap(), "+13125550001", "+14155550100");
    assert_eq!(
        telnyx.connect_call(&call, &stream()).await.unwrap(),
        CallAnswer::Commanded
    );
    assert_eq!(
        telnyx.refuse_call(&call, "closed").await.unwrap(),
        CallAnswer::Commanded
    );
}

#[tokio::test]
async fn status_comes_from_the_state_or_whether_the_call_is_alive() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/calls/{CALL}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"call_control_id": CALL, "is_alive": true, "state": "answered", "call_duration": 12, "start_time": "2026-12-03T12:00:00Z"}})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/calls/{CALL}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"data": {"call_control_id": CALL, "is_alive": false, "call_duration": "31"}}),
        ))
        .mount(&server)
        .await;
    let telnyx = telnyx_with(&server, &Waits::default());
    let call = CallId::new(CALL).unwrap();
    let live = telnyx.call_status(&call).await.unwrap();
    assert_eq!(live.status, CallStatus::InProgress);
    assert_eq!(live.duration, Some(Duration::from_secs(12)));
    assert!(live.start_time.is_some());
    let ended = telnyx.call_status(&call).await.unwrap();
    assert_eq!(ended.status, CallStatus::Completed);
    assert_eq!(ended.duration, Some(Duration::from_secs(31)));
}

#[tokio::test]
async fn cost_is_read_from_the_call_control_detail_record_as_an_exact_decimal() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/detail_records"))
        .and(query_param("filter[record_type]", "call-control"))
        .and(query_param("filter[telnyx_call_control_id]", CALL))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [{"record_type": "call-control", "cost": "0.0070", "currency": "USD", "rate": "0.0035", "billed_sec": 120}], "meta": {"total_pages": 1}})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/detail_records"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": [], "meta": {"total_pages": 0}})),
        )
        .mount(&server)
        .await;
    let telnyx = telnyx_with(&server, &Waits::default());
    let call = CallId::new(CALL).unwrap();
    let cost = telnyx.call_cost(&call).await.unwrap().unwrap();
    assert_eq!(cost.amount.to_string(), "0.0070");
    assert_eq!(cost.currency.code(), "USD");
    assert_eq!(cost.rate.unwrap().to_string(), "0.0035");
    assert_eq!(telnyx.call_cost(&call).await.unwrap(), None);
}

#[tokio::test]
async fn cost_falls_back_to_the_latest_records_when_telnyx_refuses_the_filter() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/detail_records"))
        .and(query_param("filter[telnyx_call_control_id]", CALL))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"errors": [{"code": "10015", "title": "Bad Request", "detail": "filter[telnyx_call_control_id] is not a field of call-control records"}]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/detail_records"))
        .and(query_param("filter[record_type]", "call-control"))
        .and(query_param("sort", "-started_at"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            {"record_type": "call-control", "telnyx_call_control_id": "v3:another-call", "cost": "9.9900", "currency": "USD"},
            {"record_type": "call-control", "telnyx_call_control_id": CALL, "cost": "0.0035", "currency": "USD", "rate": "0.0035"}
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    let cost = telnyx_with(&server, &Waits::default())
        .call_cost(&CallId::new(CALL).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cost.amount.to_string(), "0.0035");
}

#[tokio::test]
async fn configure_inbound_moves_the_number_to_our_application_and_reports_drift() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/phone_numbers"))
        .and(query_param("filter[phone_number]", "+14155550100"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [{"id": "1293384261075731499", "phone_number": "+14155550100", "status": "active", "connection_id": "999", "connection_name": "old app"}], "meta": {"total_pages": 1, "page_number": 1}})))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/phone_numbers/1293384261075731499"))
        .and(body_partial_json(json!({"connection_id": CONNECTION})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"id": "1293384261075731499", "phone_number": "+14155550100", "connection_id": CONNECTION}})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/call_control_applications/{CONNECTION}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"id": CONNECTION, "application_name": "agents", "webhook_event_url": "https://old.example.com/hook", "webhook_api_version": "2"}})))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("/call_control_applications/{CONNECTION}")))
        .and(body_partial_json(json!({"application_name": "agents", "webhook_event_url": "https://agent.example.com/telnyx", "webhook_api_version": "2"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"id": CONNECTION, "application_name": "agents", "webhook_event_url": "https://agent.example.com/telnyx"}})))
        .expect(1)
        .mount(&server)
        .await;
    let telnyx = telnyx_with(&server, &Waits::default());
    let url: Url = "https://agent.example.com/telnyx".parse().unwrap();
    let update = telnyx
        .configure_inbound(&"+14155550100".parse().unwrap(), &url)
        .await
        .unwrap();
    assert!(update.changed);
    assert!(update.drifted());
    assert_eq!(
        update.previous_url.as_deref(),
        Some("https://old.example.com/hook")
    );
    assert!(update.notes.iter().any(|n| n.contains("application 999")));
    let err = telnyx
        .configure_inbound(&"+14155550101".parse().unwrap(), &url)
        .await;
    assert!(err.is_err());
}

/// What configure_inbound would change, read without a write: the number on another
/// application (whose webhook is where its calls go), ours pointing elsewhere too.
#[tokio::test]
async fn inbound_drift_reads_the_number_and_applications_and_writes_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/phone_numbers"))
        .and(query_param("filter[phone_number]", "+14155550100"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [{"id": "1293384261075731499", "phone_number": "+14155550100", "status": "active", "connection_id": "999", "connection_name": "old app"}], "meta": {"total_pages": 1, "page_number": 1}})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/call_control_applications/{CONNECTION}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"id": CONNECTION, "application_name": "agents", "webhook_event_url": "https://old.example.com/hook", "webhook_api_version": "2"}})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/call_control_applications/999"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"id": "999", "application_name": "old app", "webhook_event_url": "https://elsewhere.example.com/hook", "webhook_api_version": "2"}})))
        .mount(&server)
        .await;
    for verb in ["PATCH", "POST", "PUT", "DELETE"] {
        Mock::given(method(verb))
            .respond_with(ResponseTemplate::new(500))
            .expect(0)
            .mount(&server)
            .await;
    }
    let telnyx = telnyx_with(&server, &Waits::default());
    let url: Url = "https://agent.example.com/telnyx".parse().unwrap();
    let found = telnyx
        .inbound_drift(&"+14155550100".parse().unwrap(), Some(&url))
        .await
        .unwrap();
    assert_eq!(
        found.current_url.as_deref(),
        Some("https://elsewhere.example.com/hook")
    );
    assert_eq!(
        found.drift[0],
        Drift::Url {
            found: Some("https://elsewhere.example.com/hook".to_owned())
        }
    );
    let said: Vec<String> = found.drift.iter().map(ToString::to_string).collect();
    assert_eq!(said.len(), 3, "{said:?}");
    assert!(said[1].contains("application 999, not"), "{said:?}");
    assert!(said[2].contains("https://old.example.com/hook"), "{said:?}");
    // Without a URL, the link alone.
    let found = telnyx
        .inbound_drift(&"+14155550100".parse().unwrap(), None)
        .await
        .unwrap();
    assert!(
        matches!(found.drift.as_slice(), [Drift::Setting { .. }]),
        "{found:#?}"
    );
    for r in server.received_requests().await.unwrap() {
        assert_eq!(r.method.as_str(), "GET", "{}", r.url);
    }
    assert!(
        telnyx
            .inbound_drift(&"+14155550101".parse().unwrap(), Some(&url))
            .await
            .is_err()
    );
}

/// `GET /v2/balance` as the example of Telnyx's API reference answers
/// (developers.telnyx.com/api-reference/billing).
fn documented_balance() -> serde_json::Value {
    json!({
        "data": {
            "record_type": "balance",
            "pending": "10.00",
            "balance": "300.00",
            "credit_limit": "100.00",
            "available_credit": "400.00",
            "currency": "USD"
        }
    })
}

/// The balance is read with the API key, every digit kept, with what can still be spent.
#[tokio::test]
async fn balance_is_read_with_what_can_still_be_spent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/balance"))
        .and(header("authorization", bearer().as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(documented_balance()))
        .expect(1)
        .mount(&server)
        .await;
    let telnyx = telnyx_with(&server, &Waits::default());
    assert!(telnyx.capabilities().balance);
    let balance = telnyx.balance().await.unwrap();
    assert_eq!(balance.to_string(), "300.00 USD");
    assert_eq!(balance.spendable().to_string(), "400.00");
}

fn carrier() -> RestCarrier {
    fn adapter(base: Url, http: HttpConfig) -> Arc<dyn TelephonyProvider> {
        Arc::new(Telnyx::new(TelnyxConfig::new(KEY, CONNECTION).base_url(base).http(http)).unwrap())
    }
    fn error_body(status: u16, message: &str) -> serde_json::Value {
        json!({"errors": [{"code": status.to_string(), "title": message}]})
    }
    fn page(n: u32, next: Option<&str>) -> serde_json::Value {
        // More to come: far more pages than listed.
        let total = if next.is_some() { 1_000_000 } else { 1 };
        let number = format!("+1415555{:04}", 100 + n);
        json!({"data": [{"id": n.to_string(), "phone_number": number, "connection_id": CONNECTION}], "meta": {"total_pages": total}})
    }
    RestCarrier {
        name: "Telnyx",
        adapter,
        outbound: outbound(),
        create: Endpoint::new("POST", "/calls", 200, created()),
        call: CallId::new(CALL).unwrap(),
        read: Endpoint::new(
            "GET",
            format!("/calls/{CALL}"),
            200,
            json!({"data": {"call_control_id": CALL, "is_alive": true, "state": "bridging"}}),
        ),
        hangup: Hangup {
            endpoint: Endpoint::new(
                "POST",
                format!("/calls/{CALL}/actions/hangup"),
                200,
                json!({"data": {"result": "ok"}}),
            ),
            outcome: HangupOutcome::Ended,
            already_ended: (
                422,
                json!({"errors": [{"code": "90018", "title": "Call has already ended", "detail": "This call is no longer active and can't receive commands."}]}),
            ),
        },
        // The call's call-control detail record.
        cost: Cost {
            endpoint: Endpoint::new(
                "GET",
                "/detail_records",
                200,
                json!({"data": [{"record_type": "call-control", "cost": "0.0070", "currency": "USD", "rate": "0.0035", "billed_sec": 120}], "meta": {"total_pages": 1}}),
            ),
            amount: "0.0070",
            currency: "USD",
            unpriced: json!({"data": [], "meta": {"total_pages": 0}}),
        },
        numbers: Listing {
            path: "/phone_numbers".to_owned(),
            page,
        },
        // The number, on our application; the application's webhook at the URL.
        inbound: Inbound {
            number: "+14155550100".parse().unwrap(),
            reads: |current| {
                vec![
                    Endpoint::new(
                        "GET",
                        "/phone_numbers",
                        200,
                        json!({"data": [{"id": "1293384261075731499", "phone_number": "+14155550100", "connection_id": CONNECTION}], "meta": {"total_pages": 1}}),
                    ),
                    Endpoint::new(
                        "GET",
                        format!("/call_control_applications/{CONNECTION}"),
                        200,
                        json!({"data": {"id": CONNECTION, "application_name": "agents", "webhook_event_url": current, "webhook_api_version": "2"}}),
                    ),
                ]
            },
            writes: vec![Endpoint::new(
                "PATCH",
                format!("/call_control_applications/{CONNECTION}"),
                200,
                json!({"data": {"id": CONNECTION, "application_name": "agents", "webhook_event_url": "https://agent.example.com/inbound"}}),
            )],
            stranger: "+14155550101".parse().unwrap(),
            not_owned: vec![Endpoint::new(
                "GET",
                "/phone_numbers",
                200,
                json!({"data": [], "meta": {"total_pages": 0}}),
            )],
            // Telnyx's numbers say nothing of what they take.
            voiceless: None,
        },
        // The example of Telnyx's API reference.
        balance: Some(BalanceRead {
            endpoint: Endpoint::new("GET", "/balance", 200, documented_balance()),
            amount: "300.00",
            currency: "USD",
        }),
        error_body,
        auth_setting: "TELNYX_API_KEY",
        secrets: vec![KEY.to_owned()],
    }
}

telephony_testkit::rest_contract!(carrier());
