//! Event and answer webhooks as Vonage's webhook reference and WebSockets guide show them,
//! through the provider's parsers.

use std::time::{Duration, SystemTime};

use serde_json::json;
use telephony_core::{
    AnsweredBy, CallStatus, Currency, Decimal, Direction, Error, TelephonyProvider, WebhookRequest,
};
use telephony_vonage::status::{is_disconnect, is_unexpected_disconnect};
use telephony_vonage::{Vonage, VonageConfig};

const APP: &str = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab";
const KEY: &str = include_str!("fixtures/test_private.key");

fn vonage() -> Vonage {
    Vonage::new(VonageConfig::new(APP, KEY)).unwrap()
}

fn post(body: serde_json::Value) -> WebhookRequest {
    let mut headers = http::HeaderMap::new();
    headers.insert("content-type", "application/json".parse().unwrap());
    WebhookRequest::new(
        http::Method::POST,
        "https://agent.example.com/vonage/events".parse().unwrap(),
        headers,
        body.to_string(),
    )
}

fn get(query: &str) -> WebhookRequest {
    WebhookRequest::new(
        http::Method::GET,
        format!("https://agent.example.com/vonage/answer?{query}")
            .parse()
            .unwrap(),
        http::HeaderMap::new(),
        "",
    )
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs()
}

#[test]
fn a_completed_call_carries_its_duration_price_and_network() {
    // The webhook reference's field table for `completed`, values as it gives them.
    let e = vonage()
        .parse_status_callback(&post(json!({
            "end_time": "2020-01-01T12:00:00.000Z",
            "uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
            "network": "GB-FIXED",
            "duration": "2",
            "start_time": "2020-01-01T12:00:00.000Z",
            "rate": "0.00450000",
            "price": "0.00015000",
            "from": "442079460000",
            "to": "447700900000",
            "conversation_uuid": "CON-aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
            "status": "completed",
            "direction": "inbound",
            "timestamp": "2020-01-01T12:00:00.000Z",
            "disconnected_by": "user",
            "headers": {}
        })))
        .unwrap();
    assert_eq!(e.call_id.as_str(), "aaaaaaaa-bbbb-cccc-dddd-0123456789ab");
    assert_eq!(e.status, CallStatus::Completed);
    assert_eq!(e.raw_status, "completed");
    assert_eq!(e.direction, Some(Direction::Inbound));
    assert_eq!(e.from.as_deref(), Some("442079460000"));
    assert_eq!(e.duration, Some(Duration::from_secs(2)));
    assert_eq!(e.network.as_deref(), Some("GB-FIXED"));
    assert_eq!(
        e.conversation_id.as_deref(),
        Some("CON-aaaaaaaa-bbbb-cccc-dddd-0123456789ab")
    );
    assert_eq!(unix(e.timestamp.unwrap()), 1_577_880_000);
    let cost = e.cost.unwrap();
    assert_eq!(cost.amount, "0.00015000".parse::<Decimal>().unwrap());
    assert_eq!(cost.rate, Some("0.00450000".parse::<Decimal>().unwrap()));
    assert_eq!(cost.currency, Currency::EUR);
    assert_eq!(
        e.hangup_cause.as_deref(),
        Some("hung up by the caller or callee")
    );
    // A hang-up is not a disconnect, whoever closed what.
    assert!(!is_disconnect(&e));
    assert!(!is_unexpected_disconnect(&e, false));

    // The Java SDK's tests send numbers as numbers.
    let e = vonage()
        .parse_status_callback(&post(json!({
            "uuid": "u-1", "status": "completed", "duration": 6, "rate": 0.0045, "price": 0.00045,
            "sip_code": 200
        })))
        .unwrap();
    assert_eq!(e.duration, Some(Duration::from_secs(6)));
    assert_eq!(
        e.cost.unwrap().amount,
        "0.00045".parse::<Decimal>().unwrap()
    );
    assert_eq!(e.sip_code, Some(200));
}

#[test]
fn a_websocket_that_drops_is_a_failure_to_report() {
    // Verbatim from the WebSockets guide, "Websocket disconnected".
    let e = vonage()
        .parse_status_callback(&post(json!({
            "from": "442079460000",
            "to": "wss://example.com/socket",
            "uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
            "conversation_uuid": "CON-aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
            "status": "disconnected",
            "timestamp": "2020-03-31T12:00:00.000Z"
        })))
        .unwrap();
    assert_eq!(e.status, CallStatus::Failed);
    assert!(is_disconnect(&e));
    assert!(is_unexpected_disconnect(&e, false));
    // The host closed the socket itself: the event is expected, not a failure.
    assert!(!is_unexpected_disconnect(&e, true));
    assert!(
        e.hangup_cause
            .as_deref()
            .unwrap()
            .contains("media stream dropped")
    );
    assert_eq!(e.to.as_deref(), Some("wss://example.com/socket"));
}

#[test]
fn every_status_through_the_table_with_its_details() {
    for (status, extra, normalized, cause) in [
        ("started", json!({}), CallStatus::Initiated, None),
        ("ringing", json!({}), CallStatus::Ringing, None),
        (
            "answered",
            json!({"start_time": null, "rate": null, "network": null}),
            CallStatus::InProgress,
            None,
        ),
        ("busy", json!({}), CallStatus::Busy, None),
        ("cancelled", json!({}), CallStatus::Canceled, None),
        (
            "failed",
            json!({"detail": "cannot_route"}),
            CallStatus::Failed,
            Some("cannot_route"),
        ),
        (
            "rejected",
            json!({"detail": "restricted"}),
            CallStatus::Failed,
            Some("restricted"),
        ),
        ("timeout", json!({}), CallStatus::NoAnswer, None),
        (
            "unanswered",
            json!({"detail": "unavailable"}),
            CallStatus::NoAnswer,
            Some("unavailable"),
        ),
        ("beamed", json!({}), CallStatus::from_raw("beamed"), None),
    ] {
        let mut body = json!({
            "from": "447700900000", "to": "447700900001",
            "uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
            "conversation_uuid": "CON-aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
            "status": status, "direction": "outbound",
            "timestamp": "2020-01-01T12:00:00.000Z"
        });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let e = vonage().parse_status_callback(&post(body)).unwrap();
        assert_eq!(e.status, normalized, "{status}");
        assert_eq!(e.hangup_cause.as_deref(), cause, "{status}");
        assert_eq!(e.direction, Some(Direction::Outbound));
        assert_eq!(e.cost, None);
    }
}

#[test]
fn machine_detection_names_the_call_call_uuid() {
    let e = vonage()
        .parse_status_callback(&post(json!({
            "call_uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
            "from": "447700900000", "to": "447700900001",
            "status": "machine",
            "conversation_uuid": "CON-aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
            "timestamp": "2020-01-01T12:00:00.000Z"
        })))
        .unwrap();
    assert_eq!(e.call_id.as_str(), "aaaaaaaa-bbbb-cccc-dddd-0123456789ab");
    assert_eq!(e.status, CallStatus::InProgress);
    assert_eq!(e.answered_by, Some(AnsweredBy::Machine));
    let e = vonage()
        .parse_status_callback(&post(json!({
            "call_uuid": "u-1", "status": "machine", "sub_state": "beep_start"
        })))
        .unwrap();
    // The beep (src/amd.rs, the one table).
    assert_eq!(e.answered_by, Some(AnsweredBy::MachineEndBeep));
    let e = vonage()
        .parse_status_callback(&post(json!({
            "call_uuid": "u-1", "status": "machine", "sub_state": "beep_timeout"
        })))
        .unwrap();
    assert_eq!(e.answered_by, Some(AnsweredBy::MachineGreetingEnded));
    let e = vonage()
        .parse_status_callback(&post(json!({"uuid": "u-1", "status": "human"})))
        .unwrap();
    assert_eq!(e.answered_by, Some(AnsweredBy::Human));
}

#[test]
fn events_by_get_and_events_that_are_not_statuses() {
    let e = vonage()
        .parse_status_callback(&get(
            "uuid=u-1&status=ringing&from=447700900000&to=447700900001&direction=outbound",
        ))
        .unwrap();
    assert_eq!(e.status, CallStatus::Ringing);
    for (body, kind) in [
        (
            json!({"speech": {"results": []}, "dtmf": {"digits": "1234", "timed_out": true},
                "from": "15551234567", "to": "15557654321", "uuid": "u-1",
                "conversation_uuid": "c", "timestamp": "2020-01-01T14:00:00.000Z"}),
            "an input result",
        ),
        (
            json!({"start_time": "2020-01-01T12:00:00Z", "recording_url": "https://api.nexmo.com/v1/files/x",
                "size": 12222, "recording_uuid": "r", "end_time": "2020-01-01T12:01:00Z",
                "conversation_uuid": "c", "timestamp": "2020-01-01T12:01:00.000Z"}),
            "a recording",
        ),
        (
            json!({"conversation_uuid_from": "CON-1", "type": "transfer", "uuid": "u-1",
                "conversation_uuid_to": "CON-2", "timestamp": "2018-08-14T11:07:01.284Z"}),
            "a transfer",
        ),
    ] {
        let e = vonage().parse_status_callback(&post(body)).unwrap_err();
        assert!(
            matches!(&e, Error::Decode(_)) && e.to_string().contains(kind),
            "{e}"
        );
    }
    for bad in [
        post(json!([1, 2])),
        post(json!({"status": "completed"})),
        WebhookRequest::new(
            http::Method::POST,
            "https://a.example.com/e".parse().unwrap(),
            http::HeaderMap::new(),
            "{not json",
        ),
    ] {
        assert!(vonage().parse_status_callback(&bad).is_err());
    }
}

#[test]
fn answer_requests_by_get_and_post() {
    // Both verbatim from the webhook reference.
    let by_get = get(
        "to=442079460000&from=447700900000&conversation_uuid=CON-aaaaaaaa-bbbb-cccc-dddd-0123456789ab&uuid=aaaaaaaa-bbbb-cccc-dddd-0123456789ab&SipHeader_X-UserId=1938ND9",
    );
    let by_post = post(json!({
        "from": "442079460000",
        "to": "447700900000",
        "uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
        "conversation_uuid": "CON-aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
        "SipHeader_X-UserId": "1938ND9"
    }));
    let a = vonage().parse_inbound(&by_get).unwrap();
    assert_eq!(a.call_id.as_str(), "aaaaaaaa-bbbb-cccc-dddd-0123456789ab");
    assert_eq!(a.to_number.unwrap().as_str(), "+442079460000");
    assert_eq!(a.from_number.unwrap().as_str(), "+447700900000");
    assert_eq!(
        a.conversation_id.as_deref(),
        Some("CON-aaaaaaaa-bbbb-cccc-dddd-0123456789ab")
    );
    let b = vonage().parse_inbound(&by_post).unwrap();
    assert_eq!(b.to_number.unwrap().as_str(), "+447700900000");
    assert_eq!(b.from, "442079460000");
    // A Client SDK user calls with from_user and no from.
    let c = vonage()
        .parse_inbound(&post(
            json!({"from_user": "JaneDoe", "to": "447700900000", "uuid": "u-1"}),
        ))
        .unwrap();
    assert_eq!(c.from, "JaneDoe");
    assert_eq!(c.from_number, None);
    assert!(vonage().parse_inbound(&get("to=447700900000")).is_err());
}
