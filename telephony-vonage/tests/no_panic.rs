//! No input from the network makes a Vonage parser, the WebSocket protocol or the signature
//! check panic; signing then verifying always agrees.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderMap, HeaderValue, Method};
use proptest::prelude::*;
use telephony_core::audio::SampleRate;
use telephony_core::{
    MediaCommand, MediaProtocol, Secret, TelephonyProvider, WebhookRequest, WsMessage,
};
use telephony_vonage::signature::{VonageValidator, sign_request};
use telephony_vonage::{Vonage, VonageConfig, VonageMediaProtocol};

const APP: &str = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab";
const KEY: &str = include_str!("fixtures/test_private.key");

/// Built once: building parses the RSA key and a TLS client, too slow for every case.
fn vonage() -> &'static Vonage {
    static V: std::sync::LazyLock<Vonage> = std::sync::LazyLock::new(|| {
        Vonage::new(VonageConfig::new(APP, KEY).signature_secret("sig")).unwrap()
    });
    &V
}

fn shaped() -> impl Strategy<Value = String> {
    let event = prop::sample::select(vec![
        "websocket:connected",
        "websocket:dtmf",
        "websocket:cleared",
        "websocket:notify",
        "x",
    ]);
    let value = prop_oneof![
        any::<i64>().prop_map(|v| v.to_string()),
        "[ -~]{0,12}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        Just("null".to_owned()),
        Just("\"audio/l16;rate=16000\"".to_owned()),
        Just("{\"name\":\"m1\"}".to_owned()),
        Just("{\"digit\":\"*\",\"duration\":[]}".to_owned()),
    ];
    (
        event,
        prop::collection::vec(
            (
                prop::sample::select(vec![
                    "content-type",
                    "digit",
                    "duration",
                    "payload",
                    "dtmf",
                    "call_uuid",
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

fn token_like() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        "[A-Za-z0-9_-]{0,40}",
        "\\PC{0,20}".prop_map(|s| URL_SAFE_NO_PAD.encode(s)),
        Just(URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#)),
        Just(URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#)),
        Just(URL_SAFE_NO_PAD.encode(r#"{"iat":"x","payload_hash":7,"jti":null}"#)),
    ];
    prop::collection::vec(part, 0..5).prop_map(|parts| format!("Bearer {}", parts.join(".")))
}

/// A value for an event field: numbers at and past every limit, numeric text, junk.
fn extreme() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::json;
    prop_oneof![
        any::<i64>().prop_map(|v| json!(v)),
        any::<u64>().prop_map(|v| json!(v)),
        any::<f64>().prop_map(
            |v| serde_json::Number::from_f64(v).map_or(json!(null), serde_json::Value::Number)
        ),
        Just(json!(1e300)),
        Just(json!(-0.0)),
        Just(json!("18446744073709551616")),
        Just(json!("1e400")),
        Just(json!("NaN")),
        Just(json!("-inf")),
        Just(json!("2e19")),
        "[ -~]{0,24}".prop_map(|s| json!(s)),
        Just(json!(null)),
        Just(json!([1, {"a": 2}])),
        Just(json!({"nested": true})),
    ]
}

/// A query key: the adapter's own (transfer, recording, signature) or anything.
fn callback_key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "telephony_transfer",
            "telephony_caller",
            "telephony_leg",
            "telephony_say",
            "telephony_target",
            "telephony_header",
            "telephony_timeout",
            "telephony_rec_call",
            "telephony_rec_format",
            "telephony_rec_channels",
            "telephony_sig",
        ])
        .prop_map(str::to_owned),
        "[a-z_]{1,12}",
    ]
}

/// A field of a callback body: a status's, a recording's, a machine detection's.
fn callback_field() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "uuid",
        "call_uuid",
        "status",
        "sub_state",
        "recording_url",
        "recording_uuid",
        "start_time",
        "end_time",
        "size",
        "conversation_uuid",
    ])
}

fn event() -> impl Strategy<Value = String> {
    let status = prop::sample::select(vec![
        "started",
        "ringing",
        "answered",
        "machine",
        "human",
        "completed",
        "busy",
        "cancelled",
        "failed",
        "rejected",
        "timeout",
        "unanswered",
        "disconnected",
        "other",
    ]);
    let field = prop::sample::select(vec![
        "duration",
        "price",
        "rate",
        "sip_code",
        "timestamp",
        "sub_state",
        "detail",
        "direction",
        "network",
        "start_time",
        "end_time",
        "from",
        "to",
        "disconnected_by",
    ]);
    (
        status,
        prop::collection::vec((field, extreme()), 0..8),
        any::<bool>(),
    )
        .prop_map(|(status, fields, call_uuid)| {
            let mut o = serde_json::Map::new();
            o.insert(
                if call_uuid { "call_uuid" } else { "uuid" }.into(),
                "aaaaaaaa-bbbb-cccc-dddd-0123456789ab".into(),
            );
            o.insert("status".into(), status.into());
            for (k, v) in fields {
                o.insert(k.into(), v);
            }
            serde_json::Value::Object(o).to_string()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn events_with_extreme_values_never_panic_and_keep_their_status(body in event()) {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        let r = WebhookRequest::new(Method::POST, "https://h.example.com/e".parse().unwrap(), headers, body.clone());
        // A well-formed event always parses, whatever its values: a bad price or duration
        // never loses the status.
        let e = vonage().parse_status_callback(&r);
        prop_assert!(e.is_ok(), "{body}: {e:?}");
        // Any callback reading of it holds too: a status, or a machine-detection verdict.
        let n = vonage().parse_callback(&r);
        prop_assert!(n.is_ok(), "{body}: {n:?}");
        prop_assert!(vonage().parse_inbound(&r).is_err(), "an event is not an answer");
    }

    #[test]
    fn media_messages_never_panic(text in "\\PC{0,200}", msg in shaped(), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        for rate in [SampleRate::Hz8000, SampleRate::Hz16000, SampleRate::Hz24000, SampleRate::Hz48000] {
            let mut p = VonageMediaProtocol::new(rate);
            let _ = p.decode(WsMessage::Text(&msg));
            let _ = p.decode(WsMessage::Text(&text));
            let _ = p.decode(WsMessage::Binary(&bytes));
            let _ = p.encode(MediaCommand::Audio(&bytes), &mut |_| {});
            let _ = p.encode(MediaCommand::Mark(&text), &mut |_| {});
            let _ = p.encode(MediaCommand::SendDtmf(&text), &mut |_| {});
        }
    }

    #[test]
    fn webhooks_never_panic(
        body in prop::collection::vec(any::<u8>(), 0..300),
        query in "[ -~]{0,60}",
        auth in token_like(),
        json in any::<bool>(),
    ) {
        let mut headers = HeaderMap::new();
        if let Ok(a) = HeaderValue::from_str(&auth) {
            headers.insert("authorization", a);
        }
        if json {
            headers.insert("content-type", HeaderValue::from_static("application/json"));
        }
        for method in [Method::POST, Method::GET] {
            if let Ok(url) = format!("https://h.example.com/v?{query}").parse() {
                let r = WebhookRequest::new(method, url, headers.clone(), body.clone());
                let _ = vonage().verify_webhook(&r, SystemTime::now());
                let _ = vonage().parse_status_callback(&r);
                let _ = vonage().parse_callback(&r);
                let _ = vonage().parse_inbound(&r);
            }
        }
    }

    #[test]
    fn callbacks_with_our_query_parameters_never_panic(
        pairs in prop::collection::vec((callback_key(), "\\PC{0,30}"), 0..8),
        fields in prop::collection::vec((callback_field(), extreme()), 0..6),
    ) {
        let mut url = telephony_core::Url::parse("https://h.example.com/status?tenant=1").unwrap();
        url.query_pairs_mut().extend_pairs(&pairs);
        let body = serde_json::Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()).to_string();
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        if let Ok(u) = url.as_str().parse() {
            let r = WebhookRequest::new(Method::POST, u, headers, body);
            // Parameters of ours without the adapter's signature are refused, never read.
            let signed_here = pairs.iter().any(|(k, _)| k.starts_with("telephony_"));
            if let Ok(telephony_core::CallNotice::Transfer(_)) = vonage().parse_callback(&r) {
                prop_assert!(!signed_here, "a transfer read from an unsigned query");
            }
        }
    }

    #[test]
    fn signing_then_verifying_always_agrees(
        body in "\\PC{0,200}",
        jti in "[ -~]{1,40}",
        at in 1_000_000_000u64..4_000_000_000,
        skew in 0u64..=300,
    ) {
        let secret = Secret::new("sig");
        let signed_at = UNIX_EPOCH + Duration::from_secs(at);
        let mut headers = HeaderMap::new();
        let url: telephony_core::RequestUrl = "https://h.example.com/v".parse().unwrap();
        headers.insert("authorization", HeaderValue::from_str(&sign_request(&secret, &Method::POST, &url, body.as_bytes(), signed_at, &jti)).unwrap());
        let r = WebhookRequest::new(Method::POST, url, headers, body.clone());
        let v = VonageValidator::new(secret);
        prop_assert!(v.validate(&r, signed_at + Duration::from_secs(skew)).is_ok());
        let verified = v.validate(&r, signed_at).unwrap();
        prop_assert_eq!(verified.replay_key, Some(format!("vonage:{jti}")));
        // One byte more and the hash no longer matches.
        let mut longer = r.clone();
        longer.body = format!("{body} ").into();
        prop_assert!(v.validate(&longer, signed_at).is_err());
    }
}
