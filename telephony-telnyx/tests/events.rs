//! Telnyx's webhook events, as the SDK's models and the docs' examples write them, read into
//! the normalized model: every hang-up cause, machine detection, cost, streaming events, the
//! inbound call, and bodies that are not events.

use telephony_core::{AnsweredBy, CallStatus, Direction, TelephonyProvider, WebhookRequest};
use telephony_telnyx::{Telnyx, TelnyxConfig};

fn telnyx() -> Telnyx {
    Telnyx::new(TelnyxConfig::new("KEY0123", "1684641123236054244")).unwrap()
}

fn request(body: &str) -> WebhookRequest {
    let mut headers = http::HeaderMap::new();
    headers.insert("content-type", "application/json".parse().unwrap());
    WebhookRequest::new(
        http::Method::POST,
        "https://agent.example.com/telnyx".parse().unwrap(),
        headers,
        body.to_owned(),
    )
}

fn event(event_type: &str, payload: &str) -> String {
    format!(
        r#"{{"data":{{"record_type":"event","event_type":"{event_type}","id":"0ccc7b54-4df3-4bca-a65a-3da1ecc777f0","occurred_at":"2018-02-02T22:25:27.521992Z","payload":{{"call_control_id":"v3:abc","call_leg_id":"428c31b6-7af4-4bcb-b7f5-5013ef9657c1","call_session_id":"428c31b6-abf3-3bc1-b7f4-5013ef9657c1","connection_id":"1684641123236054244","client_state":null,{payload}}}}},"meta":{{"attempt":1,"delivered_to":"https://agent.example.com/telnyx"}}}}"#
    )
}

#[test]
fn every_hangup_cause_gives_its_status_and_keeps_the_cause_and_sip_code() {
    let t = telnyx();
    for (cause, status) in [
        ("user_busy", CallStatus::Busy),
        ("timeout", CallStatus::NoAnswer),
        ("no_answer", CallStatus::NoAnswer),
        ("call_rejected", CallStatus::Failed),
        ("not_found", CallStatus::Failed),
        ("unallocated_number", CallStatus::Failed),
        ("originator_cancel", CallStatus::Canceled),
        ("normal_clearing", CallStatus::Completed),
        ("time_limit", CallStatus::Completed),
        ("unspecified", CallStatus::Completed),
        ("a_cause_not_yet_documented", CallStatus::Completed),
    ] {
        let body = event(
            "call.hangup",
            &format!(
                r#""from":"+13125550001","to":"+14155550100","state":"hangup","hangup_cause":"{cause}","hangup_source":"callee","sip_hangup_cause":"486","start_time":"2018-02-02T22:20:27.521992Z""#
            ),
        );
        let e = t.parse_status_callback(&request(&body)).unwrap();
        assert_eq!(e.status, status, "{cause}");
        assert_eq!(e.raw_status, cause);
        assert_eq!(e.hangup_cause.as_deref(), Some(cause));
        assert_eq!(e.raw_event.as_deref(), Some("call.hangup"));
        assert_eq!(e.sip_code, Some(486));
        assert_eq!(e.call_id.as_str(), "v3:abc");
        assert_eq!(
            e.conversation_id.as_deref(),
            Some("428c31b6-abf3-3bc1-b7f4-5013ef9657c1")
        );
        assert!(e.timestamp.is_some());
    }
    let unspecified = event(
        "call.hangup",
        r#""hangup_cause":"normal_clearing","sip_hangup_cause":"unspecified""#,
    );
    assert_eq!(
        t.parse_status_callback(&request(&unspecified))
            .unwrap()
            .sip_code,
        None
    );
}

#[test]
fn the_lifecycle_events_and_machine_detection() {
    let t = telnyx();
    let initiated = event(
        "call.initiated",
        r#""direction":"outgoing","from":"+14155550199","to":"+14155550100","state":"bridging""#,
    );
    let e = t.parse_status_callback(&request(&initiated)).unwrap();
    assert_eq!(e.status, CallStatus::Initiated);
    assert_eq!(e.direction, Some(Direction::Outbound));
    assert_eq!(e.to.as_deref(), Some("+14155550100"));
    let answered = event("call.answered", r#""state":"answered""#);
    assert_eq!(
        t.parse_status_callback(&request(&answered)).unwrap().status,
        CallStatus::InProgress
    );
    for (event_type, result, by) in [
        ("call.machine.detection.ended", "human", AnsweredBy::Human),
        (
            "call.machine.detection.ended",
            "machine",
            AnsweredBy::Machine,
        ),
        (
            "call.machine.detection.ended",
            "not_sure",
            AnsweredBy::Undetermined,
        ),
        (
            "call.machine.greeting.ended",
            "beep_detected",
            AnsweredBy::MachineEndBeep,
        ),
        (
            "call.machine.premium.detection.ended",
            "human_business",
            AnsweredBy::Human,
        ),
        (
            "call.machine.premium.detection.ended",
            "fax_detected",
            AnsweredBy::Fax,
        ),
    ] {
        let body = event(event_type, &format!(r#""result":"{result}""#));
        let e = t.parse_status_callback(&request(&body)).unwrap();
        assert_eq!(e.answered_by, Some(by), "{event_type} {result}");
        assert_eq!(e.status, CallStatus::InProgress);
    }
}

#[test]
fn streaming_events_with_or_without_the_call_prefix_and_underscores() {
    let t = telnyx();
    let started = event("streaming.started", r#""stream_url":"wss://a.example/m""#);
    assert_eq!(
        t.parse_status_callback(&request(&started)).unwrap().status,
        CallStatus::InProgress
    );
    let underscored = event("streaming_started", r#""stream_url":"wss://a.example/m""#);
    let e = t.parse_status_callback(&request(&underscored)).unwrap();
    assert_eq!(e.raw_event.as_deref(), Some("streaming.started"));
    // A stream that stopped says nothing of the call itself.
    let stopped = event("streaming.stopped", r#""stream_url":"wss://a.example/m""#);
    assert_eq!(
        t.parse_status_callback(&request(&stopped)).unwrap().status,
        CallStatus::from_raw("streaming.stopped")
    );
    let failed = event(
        "streaming.failed",
        r#""failure_reason":"connection_failed","stream_id":"s","stream_type":"websocket""#,
    );
    assert!(t.parse_status_callback(&request(&failed)).is_ok());
}

#[test]
fn a_call_cost_event_gives_an_exact_cost_in_its_currency() {
    let body = event(
        "call.cost",
        r#""status":"success","total_cost":"0.0123","billed_duration_secs":60,"cost_parts":[{"call_part":"call-control","cost":"0.002","currency":"USD","rate":"0.002","billed_duration_secs":60},{"call_part":"sip-trunking","cost":"0.0103","currency":"USD","rate":"0.0103","billed_duration_secs":60}]"#,
    );
    let e = telnyx().parse_status_callback(&request(&body)).unwrap();
    let cost = e.cost.unwrap();
    assert_eq!(cost.amount.to_string(), "0.0123");
    assert_eq!(cost.currency.code(), "USD");
    assert_eq!(e.billed_duration, Some(std::time::Duration::from_secs(60)));
}

#[test]
fn the_inbound_call_is_an_incoming_call_initiated_and_nothing_else() {
    let t = telnyx();
    let body = event(
        "call.initiated",
        r#""direction":"incoming","from":"+13125550001","to":"+1 (415) 555-0100","state":"parked""#,
    );
    let call = t.parse_inbound(&request(&body)).unwrap();
    assert_eq!(call.call_id.as_str(), "v3:abc");
    assert_eq!(call.from_number.unwrap().as_str(), "+13125550001");
    assert_eq!(call.to_number.unwrap().as_str(), "+14155550100");
    assert_eq!(call.account_id.as_deref(), Some("1684641123236054244"));
    let outgoing = event("call.initiated", r#""direction":"outgoing""#);
    assert!(t.parse_inbound(&request(&outgoing)).is_err());
    let answered = event("call.answered", r#""direction":"incoming""#);
    let err = t.parse_inbound(&request(&answered)).unwrap_err();
    assert!(err.to_string().contains("call.answered"), "{err}");
}

#[test]
fn what_is_not_an_event_is_a_typed_error() {
    let t = telnyx();
    for body in [
        "",
        "not json",
        "{}",
        r#"{"data":{}}"#,
        r#"{"data":{"event_type":"call.answered","payload":{}}}"#,
        r#"{"data":{"event_type":"call.answered","payload":{"call_control_id":"has space"}}}"#,
        r#"{"data":{"event_type":"call.cost","payload":{"call_control_id":"v3:a","cost_parts":[{"cost":"x","currency":"USD"}]}}}"#,
        r#"{"data":{"event_type":"call.cost","payload":{"call_control_id":"v3:a","cost_parts":[{"cost":"1","currency":"dollars"}]}}}"#,
    ] {
        assert!(t.parse_status_callback(&request(body)).is_err(), "{body:?}");
        assert!(t.parse_inbound(&request(body)).is_err(), "{body:?}");
    }
}
