//! The webhook parsers on requests shaped as Twilio sends them: `<Stream statusCallback>`
//! (`AccountSid`, `CallSid`, `StreamSid`, `StreamName`, `StreamEvent`, `StreamError`,
//! `Timestamp`) and the voice webhook of an inbound call.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, Method};
use telephony_core::{Error, TelephonyProvider, WebhookRequest};
use telephony_twilio::status::{StreamEvent, parse_inbound, parse_stream_status};
use telephony_twilio::{Twilio, TwilioConfig};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const CALL: &str = "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const STREAM: &str = "MZ18ad3ab5a668481ce02b83e7395059f0";

fn post(params: &[(&str, &str)]) -> WebhookRequest {
    WebhookRequest::form_post(
        "https://agent.example.com/twilio/stream-status"
            .parse()
            .unwrap(),
        params,
    )
}

fn stream_callback(event: &str, extra: &[(&'static str, &'static str)]) -> WebhookRequest {
    let mut params = vec![
        ("AccountSid", ACCOUNT),
        ("CallSid", CALL),
        ("StreamSid", STREAM),
        ("StreamName", "agent"),
        ("StreamEvent", event),
        ("Timestamp", "Sun, 24 Aug 2025 13:49:54 +0000"),
    ];
    params.extend_from_slice(extra);
    post(&params)
}

#[test]
fn every_documented_stream_event_maps() {
    let started = parse_stream_status(&stream_callback("stream-started", &[])).unwrap();
    assert_eq!(started.event, StreamEvent::Started);
    assert_eq!(started.call_id.as_str(), CALL);
    assert_eq!(started.stream_id, STREAM);
    assert_eq!(started.stream_name.as_deref(), Some("agent"));
    assert_eq!(started.account_id.as_deref(), Some(ACCOUNT));
    assert_eq!(
        started.timestamp,
        Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_756_043_394))
    );

    let stopped = parse_stream_status(&stream_callback("stream-stopped", &[])).unwrap();
    assert_eq!(stopped.event, StreamEvent::Stopped);

    let failed = parse_stream_status(&stream_callback(
        "stream-error",
        &[("StreamError", "Stream - WebSocket - Connection Refused")],
    ))
    .unwrap();
    assert_eq!(
        failed.event,
        StreamEvent::Error("Stream - WebSocket - Connection Refused".into())
    );
    // An error without its text is still an error.
    let bare = parse_stream_status(&stream_callback("stream-error", &[])).unwrap();
    assert_eq!(bare.event, StreamEvent::Error(String::new()));
}

#[test]
fn an_unknown_stream_event_is_kept() {
    let s = parse_stream_status(&stream_callback("stream-paused", &[])).unwrap();
    assert_eq!(s.event, StreamEvent::Unknown("stream-paused".into()));
    // Optional fields may be missing or unreadable without failing the callback.
    let minimal = parse_stream_status(&post(&[
        ("CallSid", CALL),
        ("StreamSid", STREAM),
        ("StreamEvent", "stream-started"),
        ("Timestamp", "yesterday"),
    ]))
    .unwrap();
    assert_eq!(minimal.stream_name, None);
    assert_eq!(minimal.account_id, None);
    assert_eq!(minimal.timestamp, None);
}

#[test]
fn a_stream_callback_without_its_ids_is_a_decode_error() {
    for missing in ["StreamEvent", "CallSid", "StreamSid"] {
        let params: Vec<(&str, &str)> = [
            ("CallSid", CALL),
            ("StreamSid", STREAM),
            ("StreamEvent", "stream-started"),
        ]
        .into_iter()
        .filter(|(k, _)| *k != missing)
        .collect();
        let err = parse_stream_status(&post(&params)).unwrap_err();
        assert!(matches!(err, Error::Decode(_)), "{missing}: {err}");
        assert!(err.to_string().contains(missing), "{missing}: {err}");
    }
}

#[test]
fn a_stream_callback_sent_as_get_reads_the_query() {
    let url = format!(
        "https://agent.example.com/stream-status?CallSid={CALL}&StreamSid={STREAM}&StreamEvent=stream-stopped"
    );
    let r = WebhookRequest::new(
        Method::GET,
        url.parse().unwrap(),
        HeaderMap::new(),
        Vec::new(),
    );
    assert_eq!(parse_stream_status(&r).unwrap().event, StreamEvent::Stopped);
}

#[test]
fn an_inbound_call_from_and_to() {
    let r = post(&[
        ("AccountSid", ACCOUNT),
        ("CallSid", CALL),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("From", "+14155550199"),
        ("Caller", "+14155550199"),
        ("To", "+14155550100"),
        ("Called", "+14155550100"),
    ]);
    let call = parse_inbound(&r).unwrap();
    assert_eq!(call.call_id.as_str(), CALL);
    assert_eq!(
        (call.from.as_str(), call.to.as_str()),
        ("+14155550199", "+14155550100")
    );
    assert_eq!(
        call.to_number.as_ref().map(|n| n.as_str()),
        Some("+14155550100")
    );
    assert_eq!(
        call.from_number.as_ref().map(|n| n.as_str()),
        Some("+14155550199")
    );
    assert_eq!(call.account_id.as_deref(), Some(ACCOUNT));
    // The trait method is the same parser.
    let twilio = Twilio::new(TwilioConfig::new(ACCOUNT, "tok")).unwrap();
    assert_eq!(twilio.parse_inbound(&r).unwrap(), call);
}

#[test]
fn an_inbound_call_falls_back_to_caller_and_called() {
    let only_old = parse_inbound(&post(&[
        ("CallSid", CALL),
        ("Caller", "+14155550199"),
        ("Called", "+14155550100"),
    ]))
    .unwrap();
    assert_eq!(
        (only_old.from.as_str(), only_old.to.as_str()),
        ("+14155550199", "+14155550100")
    );
    assert_eq!(
        only_old.to_number.as_ref().map(|n| n.as_str()),
        Some("+14155550100")
    );
    // Empty From and To do not hide Caller and Called.
    let empty_new = parse_inbound(&post(&[
        ("CallSid", CALL),
        ("From", ""),
        ("Caller", "+14155550199"),
        ("To", ""),
        ("Called", "+14155550100"),
    ]))
    .unwrap();
    assert_eq!(
        (empty_new.from.as_str(), empty_new.to.as_str()),
        ("+14155550199", "+14155550100")
    );
    // From and To win when both are there.
    let both = parse_inbound(&post(&[
        ("CallSid", CALL),
        ("Caller", "+14155550198"),
        ("From", "+14155550199"),
        ("Called", "+14155550101"),
        ("To", "+14155550100"),
    ]))
    .unwrap();
    assert_eq!(
        (both.from.as_str(), both.to.as_str()),
        ("+14155550199", "+14155550100")
    );
}

#[test]
fn an_inbound_call_keeps_callers_that_are_not_numbers() {
    let call = parse_inbound(&post(&[
        ("CallSid", CALL),
        ("From", "client:alice"),
        ("To", "sip:agent@example.sip.twilio.com"),
    ]))
    .unwrap();
    assert_eq!(call.from, "client:alice");
    assert_eq!(call.to, "sip:agent@example.sip.twilio.com");
    assert_eq!((call.from_number, call.to_number), (None, None));
    // No caller at all is allowed (an empty caller id); no called number is not.
    let anonymous = parse_inbound(&post(&[("CallSid", CALL), ("To", "+14155550100")])).unwrap();
    assert_eq!(anonymous.from, "");
    for params in [
        vec![("CallSid", CALL), ("From", "+14155550199")],
        vec![("CallSid", CALL), ("To", ""), ("Called", "")],
        vec![("From", "+14155550199"), ("To", "+14155550100")],
        vec![("CallSid", "not a sid"), ("To", "+14155550100")],
    ] {
        let err = parse_inbound(&post(&params)).unwrap_err();
        assert!(matches!(err, Error::Decode(_)), "{params:?}: {err}");
    }
}
