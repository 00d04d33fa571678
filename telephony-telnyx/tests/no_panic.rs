//! No input from the network makes a Telnyx parser or the signature check panic: media
//! frames, event bodies (as statuses, inbound calls and any callback: transfer steps,
//! recordings, machine verdicts), signature and timestamp headers, `client_state`.

use http::{HeaderMap, HeaderValue, Method};
use proptest::prelude::*;
use telephony_core::{MediaCommand, MediaProtocol, TelephonyProvider, WebhookRequest, WsMessage};
use telephony_telnyx::signature::PublicKey;
use telephony_telnyx::{Telnyx, TelnyxConfig, TelnyxMediaProtocol, client_state};

fn telnyx() -> Telnyx {
    Telnyx::new(
        TelnyxConfig::new("KEY0123", "1684641123236054244").public_key(
            PublicKey::from_base64("11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=").unwrap(),
        ),
    )
    .unwrap()
}

/// A JSON value for a slot: numbers, strings, nulls and the objects the protocol reads.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|v| v.to_string()),
        "[ -~]{0,12}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        Just("null".to_owned()),
        Just("{}".to_owned()),
        Just("[]".to_owned()),
        Just("{\"payload\":\"//8=\",\"track\":\"inbound\",\"chunk\":\"2\",\"timestamp\":\"5\"}".to_owned()),
        Just("{\"digit\":\"#\"}".to_owned()),
        Just("{\"name\":\"m\"}".to_owned()),
        Just("{\"media_format\":{\"encoding\":\"PCMA\",\"sample_rate\":\"8000\",\"channels\":1},\"custom_parameters\":{\"a\":1},\"client_state\":\"eyJhIjoiMSJ9\"}".to_owned()),
        Just("{\"code\":100002,\"title\":\"x\"}".to_owned()),
        // Transfer states, as this library writes them (a cold target's with a failure, a
        // warm caller's).
        Just("\"eyJ0ZWxlcGhvbnlfdHJhbnNmZXIiOnsiaWQiOiJ4ZmVyLWNvbGQtMDEyMzQ1Njc4OWFiY2RlZiIsImNhbGxlciI6InYzOmFiYyIsImxlZyI6InRhcmdldCIsImJyaWVmIjp7InNheSI6ImhpIn19LCJmYWlsZWQiOnsicmVhc29uIjoiYnVzeSIsInJhdyI6InVzZXJfYnVzeSJ9fQ==\"".to_owned()),
        Just("\"eyJ0ZWxlcGhvbnlfdHJhbnNmZXIiOnsiaWQiOiJ4ZmVyLTAxMjM0NTY3ODlhYmNkZWYiLCJjYWxsZXIiOiJ2MzphYmMiLCJsZWciOiJjYWxsZXIiLCJmYWxsYmFjayI6InNvcnJ5In19\"".to_owned()),
        Just("{\"wav\":\"https://s3.amazonaws.com/b/a.wav?X-Amz-Date=20261203T120000Z&X-Amz-Expires=600\",\"mp3\":3}".to_owned()),
        Just("\"2026-12-03T12:00:00Z\"".to_owned()),
    ]
}

/// Text shaped like Telnyx's media messages, with random pieces in every slot.
fn media_message() -> impl Strategy<Value = String> {
    let event = prop::sample::select(vec![
        "connected",
        "start",
        "media",
        "dtmf",
        "mark",
        "stop",
        "error",
        "clear",
        "",
        "x",
    ]);
    let key = prop::sample::select(vec![
        "media",
        "start",
        "dtmf",
        "mark",
        "stream_id",
        "sequence_number",
        "error",
        "payload",
    ]);
    (event, prop::collection::vec((key, value()), 0..5)).prop_map(|(event, fields)| {
        let mut s = format!("{{\"event\":\"{event}\"");
        for (k, v) in fields {
            s.push_str(&format!(",\"{k}\":{v}"));
        }
        s.push('}');
        s
    })
}

/// Text shaped like Telnyx's webhook events.
fn event_body() -> impl Strategy<Value = String> {
    let event_type = prop::sample::select(vec![
        "call.initiated",
        "call.answered",
        "call.hangup",
        "call.cost",
        "call.machine.detection.ended",
        "call.machine.premium.greeting.ended",
        "call.bridged",
        "call.speak.ended",
        "call.playback.ended",
        "call.recording.saved",
        "call.recording.error",
        "streaming_started",
        "call.streaming.failed",
        "",
    ]);
    let key = prop::sample::select(vec![
        "call_control_id",
        "hangup_cause",
        "sip_hangup_cause",
        "direction",
        "from",
        "to",
        "state",
        "result",
        "total_cost",
        "cost_parts",
        "billed_duration_secs",
        "client_state",
        "recording_urls",
        "public_recording_urls",
        "channels",
        "recording_started_at",
        "recording_ended_at",
        "recording_id",
        "reason",
    ]);
    (
        event_type,
        "[ -~]{0,12}",
        prop::collection::vec((key, value()), 0..6),
    )
        .prop_map(|(event_type, id, fields)| {
            let mut payload = String::from("{");
            for (i, (k, v)) in fields.iter().enumerate() {
                if i > 0 {
                    payload.push(',');
                }
                payload.push_str(&format!("\"{k}\":{v}"));
            }
            payload.push('}');
            format!(
                "{{\"data\":{{\"event_type\":\"{event_type}\",\"id\":{},\"occurred_at\":\"2026-12-03T12:00:00Z\",\"payload\":{payload}}}}}",
                serde_json::to_string(&id).unwrap()
            )
        })
}

fn request(headers: &[(String, String)], body: Vec<u8>) -> WebhookRequest {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::try_from(k.as_str()),
            HeaderValue::from_str(v),
        ) {
            map.append(name, value);
        }
    }
    WebhookRequest::new(
        Method::POST,
        "https://agent.example.com/telnyx".parse().unwrap(),
        map,
        body,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn media_frames_never_panic(
        text in "\\PC{0,200}",
        shaped in media_message(),
        bytes in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut p = TelnyxMediaProtocol::new();
        let _ = p.decode(WsMessage::Text(&text)).map(|e| format!("{e:?}"));
        let _ = p.decode(WsMessage::Text(&shaped)).map(|e| format!("{e:?}"));
        let _ = p.decode(WsMessage::Binary(&bytes)).map(|e| format!("{e:?}"));
        for c in [MediaCommand::Audio(&bytes), MediaCommand::Mark(&text), MediaCommand::Clear] {
            let _ = p.encode(c, &mut |_| {});
        }
    }

    #[test]
    fn events_never_panic(
        shaped in event_body(),
        text in "\\PC{0,300}",
        bytes in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let t = telnyx();
        for body in [shaped.into_bytes(), text.into_bytes(), bytes] {
            let r = request(&[], body);
            let _ = t.parse_status_callback(&r);
            let _ = t.parse_inbound(&r);
            let _ = t.parse_callback(&r);
        }
    }

    #[test]
    fn signature_headers_never_panic(
        signature in "\\PC{0,120}",
        timestamp in prop_oneof!["[0-9]{0,25}", "\\PC{0,30}"],
        body in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let t = telnyx();
        let r = request(
            &[
                ("telnyx-signature-ed25519".to_owned(), signature),
                ("telnyx-timestamp".to_owned(), timestamp),
            ],
            body,
        );
        prop_assert!(t.verify_webhook(&r, std::time::SystemTime::now()).is_err());
    }

    #[test]
    fn client_state_never_panics(state in "\\PC{0,200}", bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = client_state::parameters(&state);
        use base64::Engine as _;
        let _ = client_state::parameters(&base64::engine::general_purpose::STANDARD.encode(&bytes));
        let _ = client_state::transfer(&state);
        let _ = client_state::transfer(&base64::engine::general_purpose::STANDARD.encode(&bytes));
    }
}
