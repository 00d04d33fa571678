//! `X-Twilio-Signature` against vectors made and checked by twilio 9.13's own
//! `RequestValidator` (tools/twilio_vectors.py): repeated keys, URLs with and without a port,
//! JSON bodies through `bodySHA256`, and HMAC-SHA256 SharedKey webhooks.

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
