//! `X-Twilio-Signature` against vectors made and checked by twilio 9.13's own
//! `RequestValidator` (tools/twilio_vectors.py): repeated keys, URLs with and without a port,
//! JSON bodies through `bodySHA256`, and HMAC-SHA256 SharedKey webhooks; and, at the end, the
//! webhook contract every adapter runs (tampering, replay keys, every documented status,
//! broken bodies, inbound numbers, secrets).

use serde::Deserialize;
use telephony_core::{Secret, TelephonyProvider, Verified, WebhookError, WebhookRequest};
use telephony_twilio::signature::{
    Algorithm, RequestValidator, SHARED_KEY_SETTING, compute_signature, sign_request,
};
use telephony_twilio::{Twilio, TwilioConfig};

#[derive(Deserialize)]
struct Vectors {
    generated_by: String,
    auth_token: String,
    shared_key_secret: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    method: String,
    url: String,
    content_type: Option<String>,
    body: String,
    headers: std::collections::BTreeMap<String, String>,
    signed_with: SignedWith,
    signer: bool,
    unsigned_url: Option<String>,
    expect: String,
    sdk: bool,
    note: Option<String>,
}

#[derive(Deserialize)]
struct SignedWith {
    url: String,
    params: Vec<(String, String)>,
    algorithm: String,
    key: String,
}

fn vectors() -> Vectors {
    serde_json::from_str(include_str!("fixtures/signature_vectors.json")).unwrap()
}

impl Case {
    fn request(&self) -> WebhookRequest {
        let mut headers = http::HeaderMap::new();
        for (k, v) in &self.headers {
            headers.insert(
                http::HeaderName::try_from(k.as_str()).unwrap(),
                v.parse().unwrap(),
            );
        }
        if let Some(ct) = &self.content_type {
            headers.insert("content-type", ct.parse().unwrap());
        }
        WebhookRequest::new(
            self.method.parse().unwrap(),
            self.url.parse().unwrap(),
            headers,
            self.body.clone(),
        )
    }
}

fn kind(r: &Result<Verified, WebhookError>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(WebhookError::Mismatch { .. }) => "mismatch",
        Err(WebhookError::BodyHashMismatch { .. }) => "body_hash_mismatch",
        Err(WebhookError::UnsupportedAlgorithm(_)) => "unsupported_algorithm",
        Err(other) => panic!("unexpected {other:?}"),
    }
}

#[test]
fn the_vectors_come_from_the_sdk() {
    let v = vectors();
    assert!(v.generated_by.contains("twilio 9.13"), "{}", v.generated_by);
    assert!(v.cases.len() >= 40);
    for name in [
        "documented example",
        "repeated keys",
        "port 8443, signed without any port",
        "no port, signed with :443",
        "JSON body with bodySHA256",
        "SharedKey HMAC-SHA256",
        "SharedKey, a JSON body",
    ] {
        assert!(v.cases.iter().any(|c| c.name == name), "{name} missing");
    }
    assert_eq!(
        v.cases[0].headers["X-Twilio-Signature"],
        "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    );
}

#[test]
fn the_validator_agrees_with_the_sdk_on_every_vector() {
    let v = vectors();
    let validator = RequestValidator::new(Secret::new(v.auth_token.clone()))
        .with_shared_key(Secret::new(v.shared_key_secret.clone()));
    for c in &v.cases {
        let r = validator.validate(&c.request());
        assert_eq!(kind(&r), c.expect, "{}: {r:?}", c.name);
        if c.expect == "ok" {
            assert!(c.sdk, "{}: we accept what the SDK refuses", c.name);
        } else {
            assert!(
                !c.sdk || c.note.is_some(),
                "{}: the SDK accepts it and no note says why we do not",
                c.name
            );
        }
        if let Err(e) = &r {
            let text = format!("{e} {e:?}");
            assert!(
                !text.contains(&v.shared_key_secret),
                "{}: the secret leaked",
                c.name
            );
        }
    }
}

#[test]
fn the_signer_makes_the_sdks_signatures() {
    let v = vectors();
    let key = |name: &str| match name {
        "auth_token" => v.auth_token.clone(),
        "shared_key" => v.shared_key_secret.clone(),
        other => panic!("key {other}"),
    };
    for c in &v.cases {
        let s = &c.signed_with;
        let algorithm = match s.algorithm.as_str() {
            "HMAC_SHA1" => Algorithm::HmacSha1,
            "HMAC_SHA256" => Algorithm::HmacSha256,
            other => panic!("{other}"),
        };
        let ours = compute_signature(
            &s.url,
            s.params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            key(&s.key).as_bytes(),
            algorithm,
        );
        assert_eq!(
            ours, c.headers["X-Twilio-Signature"],
            "{}: compute_signature",
            c.name
        );
        if !c.signer {
            continue;
        }
        // What the emulator and `telephony webhook sign` send for this request.
        let token = Secret::new(v.auth_token.clone());
        let form: Vec<(&str, &str)> = s
            .params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (url, signature) = match &c.unsigned_url {
            Some(unsigned) => sign_request(
                &token,
                &unsigned.parse().unwrap(),
                &[],
                Some(c.body.as_bytes()),
            ),
            None => sign_request(&token, &c.url.parse().unwrap(), &form, None),
        };
        assert_eq!(url.as_str(), c.url, "{}: the signed URL", c.name);
        assert_eq!(signature, c.headers["X-Twilio-Signature"], "{}", c.name);
    }
}

#[test]
fn the_algorithm_is_read_as_the_sdk_reads_it() {
    let v = vectors();
    for c in &v.cases {
        let Some(settings) = c.headers.get("X-Twilio-Webhooks-Signature-Settings") else {
            continue;
        };
        let got = Algorithm::of_request(&c.request());
        if c.expect == "unsupported_algorithm" {
            assert!(got.is_err(), "{}", c.name);
            continue;
        }
        // The SDK's choice is the one that verifies: the algorithm it was signed with, where
        // the SDK accepted the request.
        if c.sdk {
            let signed = match c.signed_with.algorithm.as_str() {
                "HMAC_SHA256" => Algorithm::HmacSha256,
                _ => Algorithm::HmacSha1,
            };
            assert_eq!(got, Ok(signed), "{}: {settings}", c.name);
        }
    }
}

#[test]
fn a_provider_without_a_token_says_which_secret_is_missing() {
    const SID: &str = "AC0123456789abcdef0123456789abcdef";
    let v = vectors();
    let documented = v
        .cases
        .iter()
        .find(|c| c.name == "documented example")
        .unwrap()
        .request();
    let shared = v
        .cases
        .iter()
        .find(|c| c.name == "SharedKey HMAC-SHA256")
        .unwrap()
        .request();
    let now = std::time::SystemTime::now();

    let mut config = TwilioConfig::new(SID, "rest-only")
        .api_key("SK0123456789abcdef0123456789abcdef", "key-secret");
    config.webhook_token = None;
    let twilio = Twilio::new(config.clone()).unwrap();
    assert_eq!(
        twilio.verify_webhook(&documented, now),
        Err(WebhookError::MissingSecret {
            setting: "TWILIO_AUTH_TOKEN"
        })
    );
    assert!(
        twilio
            .verify_webhook(&documented, now)
            .unwrap_err()
            .to_string()
            .contains("TWILIO_AUTH_TOKEN is not set")
    );
    assert!(twilio.validate_config().is_err());

    // A SharedKey alone verifies SharedKey webhooks and says what is missing for the others.
    let only_shared = Twilio::new(
        config
            .clone()
            .shared_key_secret(v.shared_key_secret.clone()),
    )
    .unwrap();
    assert!(only_shared.verify_webhook(&shared, now).is_ok());
    assert_eq!(
        only_shared.verify_webhook(&documented, now),
        Err(WebhookError::MissingSecret {
            setting: "TWILIO_AUTH_TOKEN"
        })
    );

    // The Auth Token alone: a SharedKey webhook names the missing SharedKey secret.
    let token_only = Twilio::new(TwilioConfig::new(SID, v.auth_token.clone())).unwrap();
    assert!(token_only.verify_webhook(&documented, now).is_ok());
    assert_eq!(
        token_only.verify_webhook(&shared, now),
        Err(WebhookError::MissingSecret {
            setting: SHARED_KEY_SETTING
        })
    );
}

/// A call's status callback as Twilio sends it (`StatusCallback` with every event).
fn status_callback(url: telephony_core::RequestUrl, status: &str) -> WebhookRequest {
    WebhookRequest::form_post(
        url,
        &[
            ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
            ("ApiVersion", "2010-04-01"),
            ("CallSid", "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            ("CallStatus", status),
            ("Called", "+14155550100"),
            ("Caller", "+14155550199"),
            ("Direction", "outbound-api"),
            ("From", "+14155550199"),
            ("SequenceNumber", "2"),
            ("Timestamp", "Sun, 24 Aug 2025 13:49:54 +0000"),
            ("To", "+14155550100"),
        ],
    )
}

/// Twilio, as the webhook contract sees it.
fn carrier() -> telephony_testkit::contract::webhooks::WebhookCarrier {
    use telephony_core::CallStatus;
    use telephony_testkit::contract::webhooks::{Signs, WebhookCarrier};
    const TOKEN: &str = "the-auth-token-0123456789abcdef";
    WebhookCarrier {
        provider: std::sync::Arc::new(
            Twilio::new(TwilioConfig::new(
                "AC0123456789abcdef0123456789abcdef",
                TOKEN,
            ))
            .unwrap(),
        ),
        secret: Secret::new(TOKEN),
        signs: Signs::ALL,
        unsigned_headers: vec![(
            telephony_twilio::signature::IDEMPOTENCY_HEADER,
            "2f0d7f2c-contract",
        )],
        status_callback,
        // Every CallStatus Twilio documents.
        statuses: vec![
            ("queued", CallStatus::Queued),
            ("initiated", CallStatus::Initiated),
            ("ringing", CallStatus::Ringing),
            ("in-progress", CallStatus::InProgress),
            ("completed", CallStatus::Completed),
            ("busy", CallStatus::Busy),
            ("no-answer", CallStatus::NoAnswer),
            ("failed", CallStatus::Failed),
            ("canceled", CallStatus::Canceled),
        ],
        inbound: |url, from, to, secret| {
            let emulator = telephony_testkit::Emulators::builtin()
                .find("twilio")
                .unwrap();
            emulator.inbound_webhook(url, from, to, secret)
        },
        secrets: vec![TOKEN.to_owned()],
    }
}

telephony_testkit::webhook_contract!(carrier());
