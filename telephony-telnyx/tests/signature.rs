//! Telnyx's Ed25519 webhook signatures: the worked vector (RFC 8032's first test key), 384
//! vectors judged by telnyx-python 4.189's own verifier (tools/telnyx_vectors.py, signatures
//! made with `cryptography`), and a property test of sign then verify.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use serde::Deserialize;
use telephony_core::{TelephonyProvider, WebhookError, WebhookRequest};
use telephony_telnyx::signature::{PublicKey, SigningKey, verify, verify_request};
use telephony_telnyx::{Telnyx, TelnyxConfig};

const SEED: &str = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
const PUBLIC: &str = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
const TIMESTAMP: &str = "1700000000";
const BODY: &str = r#"{"data":{"event_type":"call.answered","id":"0ccc7b54-4df3-4bca-a65a-3da1ecc777f0","occurred_at":"2018-02-02T22:25:27.521992Z","payload":{"call_control_id":"v3:MdI91X4lWFEs7IgbBEOT9M4AigoY08M0WWZFISt1Yw2axZ_IiE4pqg","call_leg_id":"428c31b6-7af4-4bcb-b7f5-5013ef9657c1","call_session_id":"428c31b6-abf3-3bc1-b7f4-5013ef9657c1","client_state":"aGF2ZSBhIG5pY2UgZGF5ID1d","connection_id":"7267xxxxxxxxxxxxxx","from":"+35319605860","state":"answered","to":"+13129457420"},"record_type":"event"},"meta":{"attempt":1,"delivered_to":"https://example.com/telnyx/events"}}"#;
const SIGNATURE: &str =
    "3B6oQs3G32X/mowulYkFRh2pFUxa28c7VOssWQbfLOHsEVnfHcF2TspSNz5tpa3Cxs96xaEqVN04RFMLqOPHAA==";

fn at(secs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

fn request(headers: &[(&str, &str)], body: &[u8]) -> WebhookRequest {
    let mut map = http::HeaderMap::new();
    for (k, v) in headers {
        map.append(
            http::HeaderName::try_from(*k).unwrap(),
            http::HeaderValue::from_str(v).unwrap(),
        );
    }
    WebhookRequest::new(
        http::Method::POST,
        "https://agent.example.com/telnyx".parse().unwrap(),
        map,
        body.to_vec(),
    )
}

#[test]
fn the_worked_vector_verifies_and_each_change_fails() {
    let key = PublicKey::from_base64(PUBLIC).unwrap();
    assert_eq!(
        SigningKey::from_seed_base64(SEED)
            .unwrap()
            .sign(TIMESTAMP, BODY.as_bytes()),
        SIGNATURE,
        "Ed25519 is deterministic: the same key, time and body sign the same"
    );
    let now = at(1_700_000_000);
    verify(&key, Some(SIGNATURE), Some(TIMESTAMP), BODY.as_bytes(), now).unwrap();
    for clock in [1_700_000_000 - 300, 1_700_000_000 + 300] {
        verify(
            &key,
            Some(SIGNATURE),
            Some(TIMESTAMP),
            BODY.as_bytes(),
            at(clock),
        )
        .unwrap();
    }
    let mismatch = |r: Result<(), WebhookError>| matches!(r, Err(WebhookError::Mismatch { .. }));
    assert!(mismatch(verify(
        &key,
        Some(SIGNATURE),
        Some("1700000001"),
        BODY.as_bytes(),
        now
    )));
    let newline = format!("{BODY}\n");
    assert!(mismatch(verify(
        &key,
        Some(SIGNATURE),
        Some(TIMESTAMP),
        newline.as_bytes(),
        now
    )));
    // The message without its "|" is not what was signed.
    let key_pair = SigningKey::from_seed_base64(SEED).unwrap();
    let unjoined = {
        let mut m = TIMESTAMP.as_bytes().to_vec();
        m.extend_from_slice(BODY.as_bytes());
        m
    };
    assert_ne!(key_pair.sign("", &unjoined), SIGNATURE);
    for clock in [1_700_000_000 - 301, 1_700_000_000 + 301] {
        assert!(matches!(
            verify(
                &key,
                Some(SIGNATURE),
                Some(TIMESTAMP),
                BODY.as_bytes(),
                at(clock)
            ),
            Err(WebhookError::Stale { .. })
        ));
    }
}

#[test]
fn missing_and_malformed_headers_say_which() {
    let key = PublicKey::from_base64(PUBLIC).unwrap();
    let now = at(1_700_000_000);
    assert_eq!(
        verify(&key, None, Some(TIMESTAMP), b"", now),
        Err(WebhookError::MissingSignature {
            header: "telnyx-signature-ed25519"
        })
    );
    assert_eq!(
        verify(&key, Some(SIGNATURE), None, b"", now),
        Err(WebhookError::MissingSignature {
            header: "telnyx-timestamp"
        })
    );
    for bad in ["", "17e8", "-1700000000", "1700000000.0", "0x65"] {
        assert!(matches!(
            verify(&key, Some(SIGNATURE), Some(bad), BODY.as_bytes(), now),
            Err(WebhookError::Malformed {
                what: "timestamp",
                ..
            })
        ));
    }
    let short = STANDARD.encode([0u8; 63]);
    for bad in ["not base64!", short.as_str()] {
        assert!(matches!(
            verify(&key, Some(bad), Some(TIMESTAMP), BODY.as_bytes(), now),
            Err(WebhookError::Malformed {
                what: "signature",
                ..
            })
        ));
    }
}

#[derive(Deserialize)]
struct Vectors {
    telnyx: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    what: String,
    public_key: String,
    headers: std::collections::BTreeMap<String, String>,
    body_b64: String,
    now: i64,
    sdk: bool,
}

#[test]
fn every_sdk_vector_gets_the_sdks_verdict() {
    let vectors: Vectors =
        serde_json::from_str(include_str!("fixtures/signature_vectors.json")).unwrap();
    assert_eq!(vectors.telnyx, "4.189.0");
    assert_eq!(vectors.cases.len(), 384);
    let mut accepted = 0;
    for case in &vectors.cases {
        let headers: Vec<(&str, &str)> = case
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let body = STANDARD.decode(&case.body_b64).unwrap();
        let key = PublicKey::from_base64(&case.public_key).unwrap();
        let ours = verify_request(&key, &request(&headers, &body), at(case.now));
        assert_eq!(
            ours.is_ok(),
            case.sdk,
            "{}: ours {ours:?}, telnyx-python {}",
            case.what,
            case.sdk
        );
        accepted += usize::from(case.sdk);
    }
    assert_eq!(
        accepted, 90,
        "30 genuine, 30 with capital headers, 30 at +300 s"
    );
}

#[test]
fn the_replay_key_is_the_event_id_so_a_retried_delivery_is_a_repeat() {
    let key = SigningKey::from_seed_base64(SEED).unwrap();
    let public = key.public_key();
    let first = br#"{"data":{"id":"e-1","event_type":"call.hangup"},"meta":{"attempt":1}}"#;
    let retry = br#"{"data":{"id":"e-1","event_type":"call.hangup"},"meta":{"attempt":2}}"#;
    let keyed = |body: &[u8], ts: &str| {
        let sig = key.sign(ts, body);
        verify_request(
            &public,
            &request(
                &[("telnyx-signature-ed25519", &sig), ("telnyx-timestamp", ts)],
                body,
            ),
            at(1_700_000_000),
        )
        .unwrap()
        .replay_key
        .unwrap()
    };
    assert_eq!(keyed(first, "1700000000"), "telnyx:event:e-1");
    assert_eq!(keyed(retry, "1700000100"), keyed(first, "1700000000"));
    // A body without an event id is keyed on its signature.
    let form = b"CallSid=v3:abc&CallStatus=completed";
    let a = keyed(form, "1700000000");
    assert!(a.starts_with("telnyx:sig:"), "{a}");
    assert_ne!(a, keyed(form, "1700000001"));
}

#[test]
fn the_provider_verifies_with_its_public_key_and_says_when_it_has_none() {
    let body = BODY.as_bytes();
    let req = request(
        &[
            ("telnyx-signature-ed25519", SIGNATURE),
            ("telnyx-timestamp", TIMESTAMP),
        ],
        body,
    );
    let without = Telnyx::new(TelnyxConfig::new("KEY0123", "1684641123236054244")).unwrap();
    assert_eq!(
        without.verify_webhook(&req, at(1_700_000_000)),
        Err(WebhookError::MissingSecret {
            setting: "TELNYX_PUBLIC_KEY"
        })
    );
    let with = Telnyx::new(
        TelnyxConfig::new("KEY0123", "1684641123236054244")
            .public_key(PublicKey::from_base64(PUBLIC).unwrap()),
    )
    .unwrap();
    let verified = with.verify_webhook(&req, at(1_700_000_000)).unwrap();
    assert_eq!(
        verified.replay_key.as_deref(),
        Some("telnyx:event:0ccc7b54-4df3-4bca-a65a-3da1ecc777f0")
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the key, time and body: what is signed verifies, and one changed byte of the
    /// body, or a timestamp off by one, does not.
    #[test]
    fn signed_verifies_and_any_change_fails(
        seed in any::<[u8; 32]>(),
        ts in 0u64..4_000_000_000,
        body in prop::collection::vec(any::<u8>(), 0..300),
        flip in any::<(usize, u8)>(),
    ) {
        let key = SigningKey::from_seed_base64(&STANDARD.encode(seed)).unwrap();
        let public = key.public_key();
        let ts = ts.to_string();
        let sig = key.sign(&ts, &body);
        let now = at(ts.parse::<i64>().unwrap());
        prop_assert!(verify(&public, Some(&sig), Some(&ts), &body, now).is_ok());
        if !body.is_empty() && flip.1 != 0 {
            let mut changed = body.clone();
            let i = flip.0 % changed.len();
            changed[i] ^= flip.1;
            prop_assert!(verify(&public, Some(&sig), Some(&ts), &changed, now).is_err());
        }
        let later = (ts.parse::<u64>().unwrap() + 1).to_string();
        prop_assert!(verify(&public, Some(&sig), Some(&later), &body, now).is_err());
    }
}

/// Causes a `call.hangup` carries, as the contract's status table lists them.
const CAUSES: &[&str] = &[
    "normal_clearing",
    "user_busy",
    "timeout",
    "no_answer",
    "call_rejected",
    "not_found",
    "originator_cancel",
    "time_limit",
    "unspecified",
];

/// A status callback as Telnyx posts it: `raw` is an event type (`call.answered`), or a
/// hang-up cause (`user_busy`), which Telnyx reports in a `call.hangup`; anything else is an
/// event type this adapter does not know. Each status is its own delivery (its own `data.id`).
fn status_callback(url: telephony_core::RequestUrl, raw: &str) -> WebhookRequest {
    let (event_type, cause) = if CAUSES.contains(&raw) {
        ("call.hangup", Some(raw))
    } else {
        (raw, None)
    };
    let mut payload = serde_json::json!({
        "call_control_id": "v3:MdI91X4lWFEs7IgbBEOT9M4AigoY08M0WWZFISt1Yw2axZ_IiE4pqg",
        "call_leg_id": "428c31b6-7af4-4bcb-b7f5-5013ef9657c1",
        "call_session_id": "428c31b6-abf3-3bc1-b7f4-5013ef9657c1",
        "connection_id": "1684641123236054244",
        "from": "+13125550001",
        "to": "+14155550100",
        "direction": "outgoing",
    });
    if let Some(c) = cause {
        payload["hangup_cause"] = c.into();
        payload["sip_hangup_cause"] = "200".into();
    }
    let body = serde_json::json!({
        "data": {
            "record_type": "event",
            "event_type": event_type,
            "id": format!("event-{raw}"),
            "occurred_at": "2026-12-03T12:00:00.000000Z",
            "payload": payload,
        },
        "meta": {"attempt": 1},
    });
    let mut headers = http::HeaderMap::new();
    headers.insert("content-type", "application/json".parse().unwrap());
    WebhookRequest::new(http::Method::POST, url, headers, body.to_string())
}

/// Telnyx, as the webhook contract sees it.
fn carrier() -> telephony_testkit::contract::webhooks::WebhookCarrier {
    use telephony_core::{CallStatus, Secret};
    use telephony_testkit::contract::webhooks::{Signs, WebhookCarrier};
    let config = TelnyxConfig::new("KEY0123-telnyx-contract", "1684641123236054244")
        .public_key(PublicKey::from_base64(PUBLIC).unwrap());
    WebhookCarrier {
        provider: std::sync::Arc::new(Telnyx::new(config).unwrap()),
        // What signs: the private key, whose public half the adapter holds.
        secret: Secret::new(SEED),
        // Ed25519 over the timestamp and the body; nothing of the URL.
        signs: Signs::BODY,
        unsigned_headers: vec![("user-agent", "telnyx-webhooks")],
        status_callback,
        statuses: vec![
            ("call.initiated", CallStatus::Initiated),
            ("call.ringing", CallStatus::Ringing),
            ("call.answered", CallStatus::InProgress),
            ("call.bridged", CallStatus::InProgress),
            ("normal_clearing", CallStatus::Completed),
            ("time_limit", CallStatus::Completed),
            ("unspecified", CallStatus::Completed),
            ("user_busy", CallStatus::Busy),
            ("timeout", CallStatus::NoAnswer),
            ("no_answer", CallStatus::NoAnswer),
            ("call_rejected", CallStatus::Failed),
            ("not_found", CallStatus::Failed),
            ("originator_cancel", CallStatus::Canceled),
        ],
        inbound: |url, from, to, secret| {
            let emulator = telephony_testkit::Emulators::builtin()
                .find("telnyx")
                .unwrap();
            emulator.inbound_webhook(url, from, to, secret)
        },
        secrets: vec!["KEY0123-telnyx-contract".to_owned()],
    }
}

telephony_testkit::webhook_contract!(carrier());
