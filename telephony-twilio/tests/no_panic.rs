//! No input from the network makes a parser or the signature check panic: media frames,
//! form bodies, query strings, headers, URLs.

use http::{HeaderMap, HeaderValue, Method};
use proptest::prelude::*;
use telephony_core::{MediaProtocol, Secret, TelephonyProvider, WebhookRequest, WsMessage};
use telephony_twilio::{Twilio, TwilioConfig, TwilioMediaProtocol, status};

fn twilio() -> Twilio {
    Twilio::new(TwilioConfig::new(
        "AC0123456789abcdef0123456789abcdef",
        "tok",
    ))
    .unwrap()
}

/// Text shaped like Twilio's messages, with random pieces in every slot.
fn media_message() -> impl Strategy<Value = String> {
    let event = prop::sample::select(vec![
        "connected",
        "start",
        "media",
        "dtmf",
        "mark",
        "stop",
        "clear",
        "",
        "x",
    ]);
    let value = prop_oneof![
        any::<i64>().prop_map(|v| v.to_string()),
        "[ -~]{0,12}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        Just("null".to_owned()),
        Just("{}".to_owned()),
        Just("[]".to_owned()),
        Just("{\"payload\":\"//8=\"}".to_owned()),
        Just("{\"digit\":\"#\"}".to_owned()),
        Just("{\"name\":\"m\"}".to_owned()),
        Just("{\"mediaFormat\":{\"encoding\":\"audio/x-mulaw\",\"sampleRate\":\"8000\",\"channels\":1},\"customParameters\":{\"a\":1}}".to_owned()),
    ];
    (
        event,
        prop::collection::vec(
            (
                prop::sample::select(vec![
                    "media",
                    "start",
                    "dtmf",
                    "mark",
                    "streamSid",
                    "sequenceNumber",
                ]),
                value,
            ),
            0..5,
        ),
    )
        .prop_map(|(event, fields)| {
            let mut s = format!("{{\"event\":\"{event}\"");
            for (k, v) in fields {
                s.push_str(&format!(",\"{k}\":{v}"));
            }
            s.push('}');
            s
        })
}

fn request(
    method: Method,
    url: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> Option<WebhookRequest> {
    let url = url.parse().ok()?;
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::try_from(k.as_str()),
            HeaderValue::from_str(v),
        ) {
            map.append(name, value);
        }
    }
    Some(WebhookRequest::new(method, url, map, body))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn media_frames_never_panic(text in "\\PC{0,200}", shaped in media_message(), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut p = TwilioMediaProtocol::new();
        let _ = p.decode(WsMessage::Text(&text));
        let _ = p.decode(WsMessage::Text(&shaped));
        let _ = p.decode(WsMessage::Binary(&bytes));
        let _ = p.encode(telephony_core::MediaCommand::Mark(&text), &mut |_| {});
    }

    #[test]
    fn webhook_parsers_and_verification_never_panic(
        body in prop::collection::vec(any::<u8>(), 0..300),
        form in prop::collection::vec(("[A-Za-z]{0,12}", "\\PC{0,20}"), 0..8),
        query in "[ -~]{0,60}",
        sig in "[ -~]{0,40}",
        settings in "[ -~]{0,40}",
        json in any::<bool>(),
    ) {
        let t = twilio();
        let mut headers = vec![
            ("x-twilio-signature".to_owned(), sig),
            ("x-twilio-webhooks-signature-settings".to_owned(), settings),
        ];
        headers.push(("content-type".to_owned(), if json { "application/json" } else { "application/x-www-form-urlencoded" }.to_owned()));
        let encoded = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&form).finish();
        for (method, url, body) in [
            (Method::POST, format!("https://h.example.com/s?{query}"), body.clone()),
            (Method::POST, "https://h.example.com/s".to_owned(), encoded.clone().into_bytes()),
            (Method::GET, format!("https://h.example.com/s?{encoded}"), Vec::new()),
        ] {
            if let Some(r) = request(method, &url, &headers, body) {
                let _ = t.verify_webhook(&r, std::time::SystemTime::now());
                let _ = t.parse_status_callback(&r);
                let _ = t.parse_callback(&r);
                let _ = t.parse_inbound(&r);
                let _ = status::parse_stream_status(&r);
            }
        }
    }

    #[test]
    fn callbacks_shaped_like_twilios_never_panic(
        fields in prop::collection::vec(
            (
                prop::sample::select(vec![
                    "CallSid", "CallStatus", "DialCallStatus", "DialCallSid", "ParentCallSid",
                    "AnsweredBy", "MachineDetectionDuration", "RecordingSid", "RecordingUrl",
                    "RecordingStatus", "RecordingDuration", "RecordingChannels",
                    "RecordingStartTime", "ErrorCode",
                ]),
                prop_oneof![
                    "\\PC{0,24}",
                    Just("CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".to_owned()),
                    Just("https://api.twilio.com/x/RE1".to_owned()),
                    Just("completed".to_owned()),
                    Just("in-progress".to_owned()),
                    Just("busy".to_owned()),
                    Just("-1".to_owned()),
                ],
            ),
            0..8,
        ),
        query in prop::collection::vec(
            (
                prop::sample::select(vec![
                    "telephony_transfer", "telephony_caller", "telephony_leg", "telephony_say",
                    "telephony_play", "telephony_hold", "telephony_fallback", "telephony_target",
                    "telephony_header", "telephony_from", "telephony_timeout", "telephony_twilio",
                ]),
                prop_oneof![
                    "\\PC{0,16}",
                    Just("xfer-0123abcd".to_owned()),
                    Just("CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".to_owned()),
                    Just("target".to_owned()),
                    Just("caller".to_owned()),
                    Just("dial".to_owned()),
                    Just("sip:a@b".to_owned()),
                ],
            ),
            0..8,
        ),
    ) {
        let t = twilio();
        let q = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&query).finish();
        let url: telephony_core::RequestUrl = format!("https://h.example.com/s?{q}").parse().unwrap();
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let _ = t.parse_callback(&WebhookRequest::form_post(url, &pairs));
    }

    #[test]
    fn signing_then_verifying_always_agrees(
        form in prop::collection::vec(("[A-Za-z]{1,10}", "\\PC{0,20}"), 0..8),
        path in "[a-z/]{0,20}",
        port in prop::option::of(1u16..65535),
    ) {
        let token = Secret::new("tok");
        let host = match port { Some(p) => format!("h.example.com:{p}"), None => "h.example.com".into() };
        let url: telephony_core::RequestUrl = format!("https://{host}/{path}").parse().unwrap();
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (signed_url, sig) = telephony_twilio::signature::sign_request(&token, &url, &pairs, None);
        let mut r = WebhookRequest::form_post(signed_url, &pairs);
        r.headers.insert("x-twilio-signature", HeaderValue::from_str(&sig).unwrap());
        prop_assert!(twilio().verify_webhook(&r, std::time::SystemTime::now()).is_ok());
    }
}
