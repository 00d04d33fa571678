//! No input from the network makes a Plivo parser or signature check panic.

use http::{HeaderMap, HeaderValue, Method};
use proptest::prelude::*;
use telephony_core::{MediaProtocol, Secret, TelephonyProvider, WebhookRequest, WsMessage};
use telephony_plivo::{ByteOrder, Plivo, PlivoConfig, PlivoMediaProtocol, signature, status};

fn plivo() -> Plivo {
    Plivo::new(PlivoConfig::new("MAXXXXXXXXXXXXXXXXX1", "tok")).unwrap()
}

fn shaped() -> impl Strategy<Value = String> {
    let event = prop::sample::select(vec![
        "start",
        "media",
        "dtmf",
        "playedStream",
        "played",
        "clearedAudio",
        "stop",
        "x",
    ]);
    let value = prop_oneof![
        any::<i64>().prop_map(|v| v.to_string()),
        "[ -~]{0,12}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        Just("null".to_owned()),
        Just("{\"payload\":\"//8=\",\"timestamp\":\"5\"}".to_owned()),
        Just("{\"mediaFormat\":{\"encoding\":\"audio/x-l16\",\"sampleRate\":16000},\"streamId\":\"s\"}".to_owned()),
        Just("{\"digit\":\"*\"}".to_owned()),
    ];
    (
        event,
        prop::collection::vec(
            (
                prop::sample::select(vec![
                    "media",
                    "start",
                    "dtmf",
                    "name",
                    "streamId",
                    "extra_headers",
                    "sequenceNumber",
                ]),
                value,
            ),
            0..5,
        ),
    )
        .prop_map(|(e, fields)| {
            let mut s = format!("{{\"event\":\"{e}\"");
            for (k, v) in fields {
                s.push_str(&format!(",\"{k}\":{v}"));
            }
            s + "}"
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn media_messages_never_panic(text in "\\PC{0,200}", msg in shaped(), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        for order in [ByteOrder::Little, ByteOrder::Big] {
            let mut p = PlivoMediaProtocol::new(order);
            let _ = p.decode(WsMessage::Text(&msg));
            let _ = p.decode(WsMessage::Text(&text));
            let _ = p.decode(WsMessage::Binary(&bytes));
            let _ = p.encode(telephony_core::MediaCommand::Mark(&text), &mut |_| {});
            let _ = p.encode(telephony_core::MediaCommand::SendDtmf(&text), &mut |_| {});
        }
    }

    #[test]
    fn webhooks_never_panic(
        body in prop::collection::vec(any::<u8>(), 0..300),
        query in "[ -~]{0,60}",
        sig in "[ -~]{0,60}",
        nonce in "[ -~]{0,20}",
        v2 in any::<bool>(),
    ) {
        let mut headers = HeaderMap::new();
        let (h, n) = if v2 { (signature::V2_HEADER, signature::V2_NONCE_HEADER) } else { (signature::V3_HEADER, signature::V3_NONCE_HEADER) };
        if let (Ok(s), Ok(nn)) = (HeaderValue::from_str(&sig), HeaderValue::from_str(&nonce)) {
            headers.insert(h, s);
            headers.insert(n, nn);
        }
        headers.insert("content-type", HeaderValue::from_static("application/x-www-form-urlencoded"));
        for method in [Method::POST, Method::GET] {
            if let Ok(url) = format!("https://h.example.com/p;x?{query}").parse() {
                let r = WebhookRequest::new(method, url, headers.clone(), body.clone());
                let _ = plivo().verify_webhook(&r, std::time::SystemTime::now());
                let _ = plivo().parse_status_callback(&r);
                let _ = plivo().parse_inbound(&r);
                let _ = status::parse_stream_status(&r);
            }
        }
    }

    #[test]
    fn signing_then_verifying_always_agrees(
        form in prop::collection::vec(("[A-Za-z]{1,10}", "\\PC{0,20}"), 0..8),
        query in prop::collection::vec(("[a-z]{1,5}", "[a-z0-9 ]{0,5}"), 0..4),
        nonce in "[0-9]{1,20}",
    ) {
        let token = Secret::new("tok");
        let mut url: telephony_core::Url = "https://h.example.com/plivo/cb".parse().unwrap();
        for (k, v) in &query {
            url.query_pairs_mut().append_pair(k, v);
        }
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let mut r = WebhookRequest::form_post(url.clone(), &pairs);
        let sig = signature::sign_v3(&token, &Method::POST, &url, &r.body_params(), &nonce);
        r.headers.insert(signature::V3_HEADER, HeaderValue::from_str(&sig).unwrap());
        r.headers.insert(signature::V3_NONCE_HEADER, HeaderValue::from_str(&nonce).unwrap());
        prop_assert!(plivo().verify_webhook(&r, std::time::SystemTime::now()).is_ok());
    }
}
