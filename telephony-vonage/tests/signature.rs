//! Signed webhooks against vectors made with PyJWT and checked by vonage 4.9.1's own
//! `verify_signature` (tools/vonage_vectors.py), and the application JWT against the public key;
//! and, at the end, the webhook contract every adapter runs (tampering, replay keys, every
//! documented status, broken bodies, inbound numbers, secrets).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Deserialize;
use telephony_core::{
    MemoryReplayGuard, Secret, TelephonyProvider, WebhookError, WebhookRequest, check_replay,
};
use telephony_vonage::signature::{
    VonageValidator, WebhookClaims, claims_for, payload_hash, sign, sign_request,
};
use telephony_vonage::{AppClaims, AppJwt, Vonage, VonageConfig};

#[derive(Deserialize)]
struct Vectors {
    secret: String,
    api_key: String,
    application_id: String,
    tolerance_secs: u64,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    method: String,
    url: String,
    body: String,
    authorization: String,
    now: u64,
    expect: String,
    sdk: serde_json::Value,
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn kind(r: &Result<telephony_core::Verified, WebhookError>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(WebhookError::BodyHashMismatch { .. }) => "body_hash_mismatch",
        Err(WebhookError::Expired { .. }) => "expired",
        Err(WebhookError::Stale { .. }) => "stale",
        Err(WebhookError::Malformed { .. }) => "malformed",
        Err(WebhookError::UnsupportedAlgorithm(_)) => "unsupported_algorithm",
        Err(WebhookError::TokenMismatch { .. }) => "token_mismatch",
        Err(WebhookError::WrongAudience { .. }) => "wrong_audience",
        Err(other) => panic!("unexpected {other:?}"),
    }
}

fn request(method: &str, url: &str, body: &str, authorization: &str) -> WebhookRequest {
    let mut headers = http::HeaderMap::new();
    if !body.is_empty() {
        headers.insert("content-type", "application/json".parse().unwrap());
    }
    headers.insert("authorization", authorization.parse().unwrap());
    WebhookRequest::new(
        method.parse().unwrap(),
        url.parse().unwrap(),
        headers,
        body.to_owned(),
    )
}

fn vectors() -> Vectors {
    serde_json::from_str(include_str!("fixtures/signed_webhooks.json")).unwrap()
}

#[test]
fn every_vector_answers_as_expected_and_never_looser_than_the_sdk() {
    let v = vectors();
    let validator = VonageValidator::new(Secret::new(v.secret.clone()))
        .tolerance(Duration::from_secs(v.tolerance_secs))
        .expect_api_key(v.api_key.clone())
        .expect_application_id(v.application_id.clone());
    assert!(v.cases.len() >= 15);
    for c in &v.cases {
        let r = validator.validate(
            &request(&c.method, &c.url, &c.body, &c.authorization),
            at(c.now),
        );
        assert_eq!(kind(&r), c.expect, "{}: {r:?}", c.name);
        // What vonage 4.9.1 refuses, we refuse too.
        if c.sdk != serde_json::Value::Bool(true) {
            assert!(r.is_err(), "{}: the SDK refused it", c.name);
        }
        if let Err(e) = &r {
            assert!(
                !e.to_string().contains(&v.secret),
                "{}: the secret leaked",
                c.name
            );
        }
    }
    // The cases where the SDK says yes and we say no are the point of checking more.
    let stricter: Vec<&str> = v
        .cases
        .iter()
        .filter(|c| c.sdk == serde_json::Value::Bool(true) && c.expect != "ok")
        .map(|c| c.name.as_str())
        .collect();
    for name in [
        "tampered body",
        "iat an hour old",
        "no iat",
        "another application",
        "no payload hash",
    ] {
        assert!(stricter.contains(&name), "{name} not in {stricter:?}");
    }
}

#[test]
fn the_errors_say_what_happened() {
    let v = vectors();
    let validator = VonageValidator::new(Secret::new(v.secret.clone()))
        .expect_application_id(v.application_id.clone());
    let find = |name: &str| v.cases.iter().find(|c| c.name == name).unwrap();
    let text = |name: &str| {
        let c = find(name);
        validator
            .validate(
                &request(&c.method, &c.url, &c.body, &c.authorization),
                at(c.now),
            )
            .unwrap_err()
            .to_string()
    };
    assert_eq!(text("alg none"), "unsupported signature algorithm \"none\"");
    assert!(text("wrong secret").contains("VONAGE_SIGNATURE_SECRET"));
    assert!(text("tampered body").contains("changed after signing"));
    assert!(
        text("iat an hour old").contains("1699996400"),
        "{}",
        text("iat an hour old")
    );
    assert!(text("another application").contains("VONAGE_APPLICATION_ID"));
    // A framework that parsed the JSON and wrote it again, pretty: the diagnosis says so.
    let valid = find("valid");
    let pretty = valid
        .body
        .replace("\",\"", "\",\n  \"")
        .replace("\":\"", "\": \"");
    assert_ne!(pretty, valid.body);
    let e = validator
        .validate(
            &request(&valid.method, &valid.url, &pretty, &valid.authorization),
            at(valid.now),
        )
        .unwrap_err();
    assert!(
        matches!(e, WebhookError::BodyHashMismatch { diagnosis: Some(d) } if d.contains("re-encoded")),
        "{e}"
    );
    let missing = validator
        .validate(
            &WebhookRequest::new(
                http::Method::POST,
                "https://a.example.com/e".parse().unwrap(),
                http::HeaderMap::new(),
                "{}",
            ),
            at(v.cases[0].now),
        )
        .unwrap_err();
    assert_eq!(
        missing,
        WebhookError::MissingSignature {
            header: "Authorization"
        }
    );
}

#[test]
fn our_signer_agrees_with_jsonwebtoken_and_the_jti_is_remembered() {
    let secret = Secret::new("sig-secret");
    let body = br#"{"status":"completed","uuid":"u-1"}"#;
    let now = at(1_700_000_000);
    let token = sign(
        &secret,
        &claims_for(payload_hash(body), now, "jti-9", Some("a1b2c3d"), None),
    );
    // An independent HS256 implementation reads our token...
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let decoded = jsonwebtoken::decode::<WebhookClaims>(
        &token,
        &DecodingKey::from_secret(b"sig-secret"),
        &validation,
    )
    .unwrap();
    assert_eq!(decoded.claims.jti.as_deref(), Some("jti-9"));
    assert_eq!(decoded.claims.iss.as_deref(), Some("Vonage"));
    // ...and ours reads its tokens.
    let theirs = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &decoded.claims,
        &EncodingKey::from_secret(b"sig-secret"),
    )
    .unwrap();
    let validator = VonageValidator::new(secret.clone()).expect_api_key("a1b2c3d");
    let mut r = request(
        "POST",
        "https://a.example.com/e",
        std::str::from_utf8(body).unwrap(),
        &format!("Bearer {theirs}"),
    );
    let verified = validator.validate(&r, now).unwrap();
    assert_eq!(verified.replay_key.as_deref(), Some("vonage:jti-9"));

    // The same delivery twice is a replay (the in-memory guard keeps time by the real clock).
    let guard = MemoryReplayGuard::new(16);
    let rt = tokio_runtime();
    rt.block_on(async {
        let real = SystemTime::now();
        check_replay(&guard, &verified, real).await.unwrap();
        assert_eq!(
            check_replay(&guard, &verified, real).await,
            Err(WebhookError::Replayed("vonage:jti-9".into()))
        );
    });

    // sign_request writes the whole header.
    r.headers.insert(
        "authorization",
        sign_request(&secret, &r.method, &r.url, body, now, "jti-10")
            .parse()
            .unwrap(),
    );
    assert!(validator.validate(&r, now).is_ok());
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

const APP: &str = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab";
const KEY: &str = include_str!("fixtures/test_private.key");
const PUBLIC: &str = include_str!("fixtures/test_public.pem");

fn verify_app_jwt(token: &str) -> AppClaims {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = 0;
    let data = jsonwebtoken::decode::<AppClaims>(
        token,
        &DecodingKey::from_rsa_pem(PUBLIC.as_bytes()).unwrap(),
        &validation,
    )
    .unwrap();
    assert_eq!(data.header.alg, Algorithm::RS256);
    assert_eq!(data.header.typ.as_deref(), Some("JWT"));
    data.claims
}

#[test]
fn the_application_jwt_verifies_with_the_public_key_and_is_cached() {
    let jwt = AppJwt::new(APP, &Secret::new(KEY), Duration::from_secs(900)).unwrap();
    let now = SystemTime::now();
    let first = jwt.token(now).unwrap();
    let claims = verify_app_jwt(first.expose());
    assert_eq!(claims.application_id, APP);
    assert_eq!(claims.exp - claims.iat, 900);
    assert!(uuid::Uuid::parse_str(&claims.jti).is_ok(), "{}", claims.jti);
    // Reused while more than a third of its life is left...
    let soon = jwt.token(now + Duration::from_secs(590)).unwrap();
    assert_eq!(soon.expose(), first.expose());
    // ...then renewed, with a new jti.
    let later = jwt.token(now + Duration::from_secs(610)).unwrap();
    assert_ne!(later.expose(), first.expose());
    let renewed = verify_app_jwt(later.expose());
    assert_ne!(renewed.jti, claims.jti);
    assert_eq!(renewed.iat, claims.iat + 610);
    // A clock that went back gets a fresh token rather than one issued in its future.
    let back = jwt.token(now - Duration::from_secs(60)).unwrap();
    assert_ne!(back.expose(), later.expose());
    // Every mint is unique.
    let a = verify_app_jwt(&jwt.mint(now).unwrap());
    let b = verify_app_jwt(&jwt.mint(now).unwrap());
    assert_ne!(a.jti, b.jti);
}

/// jsonwebtoken 11 chooses its crypto backend from its crate features at run time and panics
/// at the first signature or verification when two of them (or none) are enabled: a clash in
/// the build fails here, in CI. The adapter built from the config mints tokens that the
/// default backend verifies, identical in form to what `jsonwebtoken::encode` writes.
#[test]
fn one_jsonwebtoken_backend_and_the_adapter_mints_a_token_it_verifies() {
    let vonage = Vonage::new(VonageConfig::new(APP, KEY)).unwrap();
    let jwt = vonage.client().jwt();
    let now = SystemTime::now();
    let token = jwt.token(now).unwrap();
    // Through the process's default provider: the path that panics on a clash.
    let claims = verify_app_jwt(token.expose());
    assert_eq!(claims.application_id, APP);
    // RS256 (PKCS#1 v1.5) is deterministic: jsonwebtoken's own encoding of the same claims
    // is the same token, byte for byte.
    let reference = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &claims,
        &EncodingKey::from_rsa_pem(KEY.as_bytes()).unwrap(),
    )
    .unwrap();
    assert_eq!(
        token.expose(),
        reference,
        "the token is what jsonwebtoken::encode gives for its claims"
    );
}

#[test]
fn pkcs1_keys_work_and_bad_keys_fail_at_build_with_a_clear_error() {
    let pkcs1 = include_str!("fixtures/test_private_pkcs1.key");
    let jwt = AppJwt::new(APP, &Secret::new(pkcs1), Duration::from_secs(900)).unwrap();
    verify_app_jwt(&jwt.mint(SystemTime::now()).unwrap());

    let build = |key: &str| Vonage::new(VonageConfig::new(APP, key)).unwrap_err();
    let e = build("not a key");
    assert!(e.is_config(), "{e}");
    assert!(e.to_string().contains("BEGIN PRIVATE KEY"), "{e}");
    let e = build("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    assert!(e.to_string().contains("malformed"), "{e}");
    let e =
        build("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n");
    assert!(e.to_string().contains("encrypted"), "{e}");
    // An EC key is a key, but not one that signs RS256.
    let ec = include_str!("fixtures/test_ec.key");
    let e = build(ec);
    assert!(e.is_config(), "{e}");
    let body = ec.lines().nth(1).unwrap();
    assert!(!format!("{:?}", build(ec)).contains(body));

    let missing = VonageConfig::with_key_file(APP, "/nonexistent/private.key").unwrap_err();
    assert!(
        missing.reason.contains("/nonexistent/private.key"),
        "{missing}"
    );
}

#[test]
fn the_provider_verifies_with_its_configured_secret() {
    let plain = Vonage::new(VonageConfig::new(APP, KEY)).unwrap();
    let r = request("POST", "https://a.example.com/e", "{}", "Bearer x.y.z");
    assert_eq!(
        plain.verify_webhook(&r, SystemTime::now()).unwrap_err(),
        WebhookError::MissingSecret {
            setting: "VONAGE_SIGNATURE_SECRET"
        }
    );
    let secret = Secret::new("sig-secret");
    let signed = Vonage::new(VonageConfig::new(APP, KEY).signature_secret(secret.clone())).unwrap();
    let now = at(1_700_000_000);
    let body = r#"{"status":"ringing","uuid":"u-1"}"#;
    let mine = sign(
        &secret,
        &claims_for(payload_hash(body.as_bytes()), now, "j1", None, Some(APP)),
    );
    let r = request(
        "POST",
        "https://a.example.com/e",
        body,
        &format!("Bearer {mine}"),
    );
    assert!(signed.verify_webhook(&r, now).is_ok());
    let other = sign(
        &secret,
        &claims_for(
            payload_hash(body.as_bytes()),
            now,
            "j2",
            None,
            Some("ffffffff-bbbb-4ccc-8ddd-0123456789ab"),
        ),
    );
    let r = request(
        "POST",
        "https://a.example.com/e",
        body,
        &format!("Bearer {other}"),
    );
    assert!(matches!(
        signed.verify_webhook(&r, now),
        Err(WebhookError::WrongAudience { .. })
    ));
}

/// An event webhook as Vonage sends it (`event_url`, JSON), reporting `status`.
fn status_callback(url: telephony_core::RequestUrl, status: &str) -> WebhookRequest {
    let body = serde_json::json!({
        "from": "442079460000",
        "to": "447700900000",
        "uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
        "conversation_uuid": "CON-aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
        "status": status,
        "direction": "outbound",
        "timestamp": "2020-01-01T12:00:00.000Z"
    });
    let mut headers = http::HeaderMap::new();
    headers.insert("content-type", "application/json".parse().unwrap());
    WebhookRequest::new(http::Method::POST, url, headers, body.to_string())
}

/// Vonage, as the webhook contract sees it.
fn carrier() -> telephony_testkit::contract::webhooks::WebhookCarrier {
    use telephony_core::CallStatus;
    use telephony_testkit::contract::webhooks::{Signs, WebhookCarrier};
    const SECRET: &str = "vonage-signature-secret-0123456789";
    const KEY: &str = include_str!("fixtures/test_private.key");
    let config =
        VonageConfig::new("aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab", KEY).signature_secret(SECRET);
    // A line of the private key, which must print no more than the whole.
    let key_line = KEY.lines().nth(3).unwrap().to_owned();
    WebhookCarrier {
        provider: std::sync::Arc::new(Vonage::new(config).unwrap()),
        secret: Secret::new(SECRET),
        // A POST's token covers its body's hash, and nothing of the URL.
        signs: Signs::BODY,
        unsigned_headers: Vec::new(),
        status_callback,
        // Every status Vonage documents.
        statuses: vec![
            ("started", CallStatus::Initiated),
            ("ringing", CallStatus::Ringing),
            ("answered", CallStatus::InProgress),
            ("machine", CallStatus::InProgress),
            ("human", CallStatus::InProgress),
            ("completed", CallStatus::Completed),
            ("busy", CallStatus::Busy),
            ("cancelled", CallStatus::Canceled),
            ("failed", CallStatus::Failed),
            ("rejected", CallStatus::Failed),
            ("disconnected", CallStatus::Failed),
            ("timeout", CallStatus::NoAnswer),
            ("unanswered", CallStatus::NoAnswer),
        ],
        inbound: |url, from, to, secret| {
            let emulator = telephony_testkit::Emulators::builtin()
                .find("vonage")
                .unwrap();
            emulator.inbound_webhook(url, from, to, secret)
        },
        secrets: vec![SECRET.to_owned(), key_line],
    }
}

telephony_testkit::webhook_contract!(carrier());
