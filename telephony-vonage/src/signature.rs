//! Vonage's signed webhooks: `Authorization: Bearer <JWT>`, HS256 with the account's signature
//! secret.
//!
//! [`VonageValidator`] checks, in order:
//!
//! 1. the header is `Bearer` and a three-part JWT;
//! 2. the token's `alg` is `HS256`, exactly (`none`, `HS512`, `RS256`… are refused before any
//!    key is used);
//! 3. the HMAC-SHA256 signature, in constant time;
//! 4. `exp` and `nbf` where present, and `iat` within a window around `now` (5 minutes by
//!    default; `now` is passed in, so tests and replays of old traffic choose the clock);
//! 5. `api_key` and `application_id` where both the token and the validator have them: a token
//!    another account or application signed is refused;
//! 6. `payload_hash`, the SHA-256 hex of the raw body (of the query, as compact JSON, for a
//!    `GET` without one: see [`payload_hash_for`]), whenever the claim is present; a token
//!    without the claim on a request that carries a payload is refused, unless told otherwise (see
//!    [`require_payload_hash`](VonageValidator::require_payload_hash)). vonage 4.9's `verify_signature`
//!    checks the signature only and leaves this to the application, so a captured token could
//!    carry any body there; not here.
//!
//! What the hash covers is all a webhook's fields are read from (see [`covers_query`]): a
//! POST's body, never its query string, which nothing signs.
//!
//! The token's `jti` (or, for a token without one, its signature's bytes) comes back as the
//! replay key, for a [`ReplayGuard`](telephony_core::ReplayGuard).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use telephony_core::media::json::lenient_u64;
use telephony_core::rest::hex;
use telephony_core::{
    FormParams, RequestUrl, Secret, Verified, WebhookError, WebhookRequest, constant_time_eq,
};

/// The header that carries the token.
pub const HEADER: &str = "Authorization";

const B64URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The claims of a signed webhook's token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebhookClaims {
    /// Issued at, Unix seconds.
    #[serde(
        default,
        deserialize_with = "lenient_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub iat: Option<u64>,
    /// A unique id: the replay key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// The issuer, `Vonage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// The SHA-256 hex of the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_hash: Option<String>,
    /// The account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// The application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
    /// Expiry, Unix seconds.
    #[serde(
        default,
        deserialize_with = "lenient_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub exp: Option<u64>,
    /// Not before, Unix seconds.
    #[serde(
        default,
        deserialize_with = "lenient_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub nbf: Option<u64>,
}

#[derive(Deserialize)]
struct TokenHeader {
    #[serde(default)]
    alg: Option<String>,
}

/// The lower-case SHA-256 hex of `body`: the `payload_hash` claim.
pub fn payload_hash(body: &[u8]) -> String {
    hex(&Sha256::digest(body))
}

/// What `payload_hash` covers for a request: the raw body, or, for a `GET` without one (an
/// answer or event webhook sent with `GET`), its query parameters as a compact JSON object in
/// the order received (`{}` for no query).
///
/// Vonage's API Support article "How do I verify that the Voice API Webhook request and it's
/// payload has not been tampered during transit?" (api.support.vonage.com, article
/// 19033783342876) gives the rule: an object of the query parameters for a `GET` or of the
/// body for a `POST`, in the parameters' order, turned into a JSON string with no whitespace,
/// hashed with SHA-256. Vonage's own Node.js snippet for signed webhooks
/// (vonage-node-code-snippets, `messages/signed-webhooks/verify-signed-webhook.js`) does the
/// same: SHA-256 of `JSON.stringify` of the query merged with the parsed body. No Vonage SDK
/// (Python, Node, Java) computes the hash: they check the token's signature only. So the rule
/// is documented twice by Vonage but not by an SDK, and not checked here against live traffic.
pub fn payload_hash_for(method: &http::Method, url: &RequestUrl, body: &[u8]) -> String {
    if covers_query(method, body) {
        let pairs: Vec<(String, String)> = FormParams::parse(url.query().unwrap_or("").as_bytes())
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        return payload_hash(query_json(&pairs).as_bytes());
    }
    payload_hash(body)
}

/// Whether `payload_hash` covers the query (a `GET` without a body) rather than the body: the
/// one part of a request a webhook's fields may be read from.
pub fn covers_query(method: &http::Method, body: &[u8]) -> bool {
    body.is_empty() && method == http::Method::GET
}

fn hmac(secret: &Secret) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).expect("HMAC takes any key length")
}

/// Signs `claims` as Vonage does (HS256): for tests, the emulator and `telephony webhook sign`.
pub fn sign(secret: &Secret, claims: &WebhookClaims) -> String {
    let header = B64URL.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = B64URL.encode(serde_json::to_vec(claims).expect("claims serialize"));
    let signing_input = format!("{header}.{payload}");
    let mut mac = hmac(secret);
    mac.update(signing_input.as_bytes());
    let sig = B64URL.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{sig}")
}

/// The claims Vonage puts in a webhook's token for a request with `payload_hash` (see
/// [`payload_hash_for`]), issued at `now`: `iat`, a `jti`, `iss: Vonage`, the hash, and the
/// account and application when given.
pub fn claims_for(
    payload_hash: String,
    now: SystemTime,
    jti: impl Into<String>,
    api_key: Option<&str>,
    application_id: Option<&str>,
) -> WebhookClaims {
    WebhookClaims {
        iat: Some(unix(now)),
        jti: Some(jti.into()),
        iss: Some("Vonage".into()),
        payload_hash: Some(payload_hash),
        api_key: api_key.map(str::to_owned),
        application_id: application_id.map(str::to_owned),
        exp: None,
        nbf: None,
    }
}

/// The `Authorization` header value for a webhook (`method`, `url`, `body`), signed at `now`.
pub fn sign_request(
    secret: &Secret,
    method: &http::Method,
    url: &RequestUrl,
    body: &[u8],
    now: SystemTime,
    jti: &str,
) -> String {
    let hash = payload_hash_for(method, url, body);
    format!(
        "Bearer {}",
        sign(secret, &claims_for(hash, now, jti, None, None))
    )
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn malformed(detail: impl Into<String>) -> WebhookError {
    WebhookError::Malformed {
        what: "token",
        detail: detail.into(),
    }
}

/// Checks Vonage's signed webhooks. See the [module](self) for what is checked.
#[derive(Debug, Clone)]
pub struct VonageValidator {
    secret: Secret,
    tolerance: Duration,
    api_key: Option<String>,
    application_id: Option<String>,
    require_payload_hash: bool,
}

impl VonageValidator {
    /// A validator for the account's signature secret, with a 5-minute `iat` window.
    pub fn new(signature_secret: Secret) -> VonageValidator {
        VonageValidator {
            secret: signature_secret,
            tolerance: Duration::from_secs(300),
            api_key: None,
            application_id: None,
            require_payload_hash: true,
        }
    }

    /// Sets how far `iat` may be from now, either way.
    pub fn tolerance(mut self, tolerance: Duration) -> VonageValidator {
        self.tolerance = tolerance;
        self
    }

    /// Refuses tokens whose `api_key` claim names another account.
    pub fn expect_api_key(mut self, api_key: impl Into<String>) -> VonageValidator {
        self.api_key = Some(api_key.into());
        self
    }

    /// Refuses tokens whose `application_id` claim names another application.
    pub fn expect_application_id(mut self, id: impl Into<String>) -> VonageValidator {
        self.application_id = Some(id.into());
        self
    }

    /// Whether a request that carries a payload (a body, or a `GET`'s query) must have a token
    /// with `payload_hash` (on by default: without the claim nothing ties the payload to the
    /// signature, so a captured token could carry any fields). Vonage documents the claim as
    /// optional; turn this off only for an integration known to send tokens without it.
    pub fn require_payload_hash(mut self, on: bool) -> VonageValidator {
        self.require_payload_hash = on;
        self
    }

    /// Authenticates a webhook at `now`; the token's `jti` is the replay key.
    pub fn validate(
        &self,
        request: &WebhookRequest,
        now: SystemTime,
    ) -> Result<Verified, WebhookError> {
        let header = request
            .header(HEADER)
            .ok_or(WebhookError::MissingSignature { header: HEADER })?;
        let token = bearer(header)?;
        let claims = self.verify_token(token, now)?;
        self.check_payload(&claims, request)?;
        let remember = self
            .tolerance
            .saturating_mul(2)
            .max(Duration::from_secs(60));
        // The jti names a delivery; a token without one is still unique by its signature, as
        // bytes: base64url text has several spellings of the same bytes (padding, unused
        // bits), and the key must not change with the spelling.
        let key = match claims.jti.as_deref().filter(|j| !j.is_empty()) {
            Some(jti) => format!("vonage:{jti}"),
            None => {
                let sig = B64URL
                    .decode(token.rsplit('.').next().unwrap_or_default())
                    .unwrap_or_default();
                format!("vonage-token:{}", hex(&sig))
            }
        };
        Ok(Verified::new().with_replay_key(Some(key), remember))
    }

    /// Checks a token's algorithm, signature, times and parties, and returns its claims. The
    /// body is not looked at: see [`validate`](Self::validate).
    pub fn verify_token(
        &self,
        token: &str,
        now: SystemTime,
    ) -> Result<WebhookClaims, WebhookError> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("a JWT has three parts separated by dots"));
        };
        let header_json = B64URL
            .decode(h)
            .map_err(|e| malformed(format!("header is not base64url: {e}")))?;
        let header: TokenHeader = serde_json::from_slice(&header_json)
            .map_err(|e| malformed(format!("header is not a JSON object: {e}")))?;
        match header.alg.as_deref() {
            Some("HS256") => {}
            Some(other) => return Err(WebhookError::UnsupportedAlgorithm(other.to_owned())),
            None => return Err(malformed("header has no alg")),
        }
        let sig = B64URL
            .decode(s)
            .map_err(|e| malformed(format!("signature is not base64url: {e}")))?;
        let mut mac = hmac(&self.secret);
        mac.update(h.as_bytes());
        mac.update(b".");
        mac.update(p.as_bytes());
        if mac.verify_slice(&sig).is_err() {
            return Err(WebhookError::TokenMismatch {
                hint: "wrong VONAGE_SIGNATURE_SECRET (the account's signature secret in the dashboard's API settings, not the API secret), or a token Vonage did not sign".into(),
            });
        }
        let payload = B64URL
            .decode(p)
            .map_err(|e| malformed(format!("claims are not base64url: {e}")))?;
        let claims: WebhookClaims = serde_json::from_slice(&payload)
            .map_err(|e| malformed(format!("claims are not a JSON object: {e}")))?;
        self.check_times(&claims, now)?;
        self.check_parties(&claims)?;
        Ok(claims)
    }

    fn check_times(&self, claims: &WebhookClaims, now: SystemTime) -> Result<(), WebhookError> {
        let t = unix(now);
        let signed = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        if let Some(exp) = claims.exp
            && t >= exp
        {
            return Err(WebhookError::Expired {
                expired_at: signed(exp),
                now: signed(t),
            });
        }
        let tol = self.tolerance.as_secs();
        if let Some(nbf) = claims.nbf
            && nbf > t.saturating_add(tol)
        {
            return Err(WebhookError::Stale {
                signed_at: signed(nbf),
                now: signed(t),
                tolerance: self.tolerance,
            });
        }
        let iat = claims
            .iat
            .ok_or_else(|| malformed("no iat claim, so its age cannot be bounded"))?;
        if iat.abs_diff(t) > tol {
            return Err(WebhookError::Stale {
                signed_at: signed(iat),
                now: signed(t),
                tolerance: self.tolerance,
            });
        }
        Ok(())
    }

    fn check_parties(&self, claims: &WebhookClaims) -> Result<(), WebhookError> {
        for (name, claim, expected, setting) in [
            ("api_key", &claims.api_key, &self.api_key, "VONAGE_API_KEY"),
            (
                "application_id",
                &claims.application_id,
                &self.application_id,
                "VONAGE_APPLICATION_ID",
            ),
        ] {
            if let (Some(got), Some(want)) = (claim, expected)
                && got != want
            {
                return Err(WebhookError::WrongAudience {
                    detail: format!(
                        "{name} {got}, while {setting} is {want}: a webhook for another account or application, signed with the same secret"
                    ),
                });
            }
        }
        Ok(())
    }

    fn check_payload(
        &self,
        claims: &WebhookClaims,
        request: &WebhookRequest,
    ) -> Result<(), WebhookError> {
        let Some(expected) = claims.payload_hash.as_deref() else {
            // What the fields are read from: the query of a GET without a body, else the body.
            let payload = if covers_query(&request.method, &request.body) {
                request.url.query().is_some_and(|q| !q.is_empty())
            } else {
                !request.body.is_empty()
            };
            if self.require_payload_hash && payload {
                return Err(malformed(
                    "no payload_hash claim, so what the request carries is not covered by the signature (VonageConfig::allow_unhashed_payloads accepts such tokens)",
                ));
            }
            return Ok(());
        };
        let expected = expected.trim().to_ascii_lowercase();
        let actual = payload_hash_for(&request.method, &request.url, &request.body);
        if constant_time_eq(actual.as_bytes(), expected.as_bytes()) {
            return Ok(());
        }
        // A GET with neither query nor body carries nothing to tamper with: a hash of the empty
        // string is as good as the rule's `{}`.
        if request.method == http::Method::GET
            && request.body.is_empty()
            && request.url.query().is_none_or(str::is_empty)
            && constant_time_eq(payload_hash(b"").as_bytes(), expected.as_bytes())
        {
            return Ok(());
        }
        let diagnosis = telephony_core::body_variants(&request.body)
            .into_iter()
            .find(|(b, _)| constant_time_eq(payload_hash(b).as_bytes(), expected.as_bytes()))
            .map(|(_, why)| why);
        Err(WebhookError::BodyHashMismatch { diagnosis })
    }
}

/// A compact JSON object of the query's parameters, in order, each string escaped as
/// JavaScript's `JSON.stringify` escapes it (the serializer of Vonage's reference snippet):
/// `"`, `\\` and the control characters, `\b \f \n \r \t` by name and the others as
/// `\u00xx`; everything else as it is, non-ASCII and `/` included.
fn query_json(pairs: &[(String, String)]) -> String {
    fn push(out: &mut String, s: &str) {
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if u32::from(c) < 0x20 => {
                    out.push_str(&format!("\\u{:04x}", u32::from(c)));
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }
    let mut s = String::from("{");
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        push(&mut s, k);
        s.push(':');
        push(&mut s, v);
    }
    s.push('}');
    s
}

fn bearer(header: &str) -> Result<&str, WebhookError> {
    let header = header.trim();
    match header.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(WebhookError::Malformed {
            what: "Authorization header",
            detail: "expected `Bearer` and a JWT".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn signed_post(secret: &Secret, body: &str, at: u64) -> WebhookRequest {
        let mut r = WebhookRequest::new(
            http::Method::POST,
            "https://agent.example.com/vonage/events".parse().unwrap(),
            http::HeaderMap::new(),
            body.to_owned(),
        );
        r.headers
            .insert("content-type", "application/json".parse().unwrap());
        r.headers.insert(
            "authorization",
            sign_request(
                secret,
                &http::Method::POST,
                &"https://agent.example.com/vonage/events".parse().unwrap(),
                body.as_bytes(),
                t(at),
                "jti-1",
            )
            .parse()
            .unwrap(),
        );
        r
    }

    #[test]
    fn a_signed_request_verifies_and_its_jti_is_the_replay_key() {
        let secret = Secret::new("sig-secret");
        let r = signed_post(&secret, r#"{"status":"answered"}"#, 1_700_000_000);
        let v = VonageValidator::new(secret.clone())
            .validate(&r, t(1_700_000_010))
            .unwrap();
        assert_eq!(v.replay_key.as_deref(), Some("vonage:jti-1"));
        assert_eq!(v.remember_for, Some(Duration::from_secs(600)));
        // The query JSON rule for GETs without a body.
        let pairs =
            [("uuid", "u-1"), ("to", "447700900000")].map(|(k, v)| (k.to_owned(), v.to_owned()));
        assert_eq!(query_json(&pairs), r#"{"uuid":"u-1","to":"447700900000"}"#);
    }

    /// A token signed over an empty POST, sent with a query of forged fields: the token is
    /// good, and the fields are never read, because nothing signs a POST's query.
    #[test]
    fn a_posts_query_is_never_read_as_its_fields() {
        let secret = Secret::new("sig-secret");
        let forged = "https://agent.example.com/vonage/events?uuid=victim&status=completed&duration=9999&price=99.99";
        let mut r = WebhookRequest::new(
            http::Method::POST,
            forged.parse().unwrap(),
            http::HeaderMap::new(),
            "",
        );
        r.headers.insert(
            "authorization",
            sign_request(
                &secret,
                &http::Method::POST,
                &forged.parse().unwrap(),
                b"",
                t(1_700_000_000),
                "jti-empty",
            )
            .parse()
            .unwrap(),
        );
        assert!(
            VonageValidator::new(secret)
                .validate(&r, t(1_700_000_000))
                .is_ok()
        );
        let fields = crate::status::fields(&r, "event").unwrap();
        assert!(fields.is_empty(), "{fields:?}");
        assert!(crate::status::parse_event(&r, telephony_core::Currency::EUR).is_err());
    }

    #[test]
    fn a_token_without_jti_is_remembered_by_its_signature() {
        let secret = Secret::new("sig-secret");
        let body = "{}";
        let mut claims = claims_for(
            payload_hash(body.as_bytes()),
            t(1_700_000_000),
            "x",
            None,
            None,
        );
        claims.jti = None;
        let token = sign(&secret, &claims);
        let mut r = signed_post(&secret, body, 1_700_000_000);
        r.headers
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let v = VonageValidator::new(secret)
            .validate(&r, t(1_700_000_000))
            .unwrap();
        let sig = B64URL.decode(token.rsplit('.').next().unwrap()).unwrap();
        assert_eq!(v.replay_key, Some(format!("vonage-token:{}", hex(&sig))));
        // The same token with its signature padded, as a lenient decoder reads it, is the
        // same delivery: the same key.
        let padded = format!("{token}=");
        r.headers
            .insert("authorization", format!("Bearer {padded}").parse().unwrap());
        let again = VonageValidator::new(Secret::new("sig-secret"))
            .validate(&r, t(1_700_000_000))
            .unwrap();
        assert_eq!(again.replay_key, v.replay_key);
    }

    #[test]
    fn a_get_is_hashed_over_its_query_not_its_empty_body() {
        let url: RequestUrl = "https://a.example.com/answer?uuid=u-1&to=447700900000"
            .parse()
            .unwrap();
        assert_eq!(
            payload_hash_for(&http::Method::GET, &url, b""),
            payload_hash(br#"{"uuid":"u-1","to":"447700900000"}"#)
        );
        assert_eq!(
            payload_hash_for(&http::Method::POST, &url, b"{}"),
            payload_hash(b"{}")
        );
        // A token over an empty body does not authenticate a GET's query.
        let secret = Secret::new("s");
        let empty = sign(
            &secret,
            &claims_for(payload_hash(b""), t(1_700_000_000), "j", None, None),
        );
        let mut headers = http::HeaderMap::new();
        headers.insert("authorization", format!("Bearer {empty}").parse().unwrap());
        let r = WebhookRequest::new(http::Method::GET, url, headers, "");
        assert!(matches!(
            VonageValidator::new(secret).validate(&r, t(1_700_000_000)),
            Err(WebhookError::BodyHashMismatch { .. })
        ));
    }

    fn signed_get(secret: &Secret, url: &str, claims: &WebhookClaims) -> WebhookRequest {
        let mut headers = http::HeaderMap::new();
        let token = sign(secret, claims);
        headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
        WebhookRequest::new(http::Method::GET, url.parse().unwrap(), headers, "")
    }

    /// A token without `payload_hash` covers nothing a request carries: by default it is
    /// refused when there is something to cover (a GET's query, which is where a GET's fields
    /// are read from), and accepted when there is not, or when told to
    /// (`require_payload_hash(false)`).
    #[test]
    fn a_get_without_a_payload_hash_claim_needs_the_opt_out_when_it_has_a_query() {
        let secret = Secret::new("sig-secret");
        let mut claims = claims_for(String::new(), t(1_700_000_000), "j-get", None, None);
        claims.payload_hash = None;
        for (url, refused_by_default) in [
            (
                "https://a.example.com/answer?uuid=u-1&to=447700900000&from=447700900001",
                true,
            ),
            ("https://a.example.com/answer", false),
        ] {
            let r = signed_get(&secret, url, &claims);
            for require in [false, true] {
                let verdict = VonageValidator::new(secret.clone())
                    .require_payload_hash(require)
                    .validate(&r, t(1_700_000_005));
                if require && refused_by_default {
                    assert!(verdict.is_err(), "{url}");
                } else {
                    let v = verdict.unwrap_or_else(|e| panic!("{url} require={require}: {e}"));
                    assert_eq!(v.replay_key.as_deref(), Some("vonage:j-get"));
                }
            }
        }
        // A POST with a body and no claim is what `require_payload_hash` refuses.
        let mut post = signed_post(&secret, "{}", 1_700_000_000);
        post.headers.insert(
            "authorization",
            format!("Bearer {}", sign(&secret, &claims))
                .parse()
                .unwrap(),
        );
        let validator = VonageValidator::new(secret.clone());
        assert!(validator.validate(&post, t(1_700_000_000)).is_err());
        assert!(
            validator
                .require_payload_hash(false)
                .validate(&post, t(1_700_000_000))
                .is_ok()
        );
    }

    #[test]
    fn a_get_with_a_payload_hash_claim_is_checked_against_its_query() {
        let secret = Secret::new("sig-secret");
        let url = "https://a.example.com/answer?uuid=u-1&to=447700900000&from=447700900001";
        let hash = payload_hash(br#"{"uuid":"u-1","to":"447700900000","from":"447700900001"}"#);
        let claims = claims_for(hash, t(1_700_000_000), "j", None, None);
        let validator = VonageValidator::new(secret.clone());
        assert!(
            validator
                .validate(&signed_get(&secret, url, &claims), t(1_700_000_000))
                .is_ok()
        );
        // Another order, or another value, is another payload.
        for tampered in [
            "https://a.example.com/answer?to=447700900000&uuid=u-1&from=447700900001",
            "https://a.example.com/answer?uuid=u-1&to=447700900009&from=447700900001",
        ] {
            assert!(matches!(
                validator.validate(&signed_get(&secret, tampered, &claims), t(1_700_000_000)),
                Err(WebhookError::BodyHashMismatch { .. })
            ));
        }
        // No query at all: `{}` by the rule, or the empty string; nothing else.
        let bare = "https://a.example.com/answer";
        for (payload, ok) in [(&b"{}"[..], true), (b"", true), (b"{\"a\":\"b\"}", false)] {
            let claims = claims_for(payload_hash(payload), t(1_700_000_000), "j", None, None);
            let r = validator.validate(&signed_get(&secret, bare, &claims), t(1_700_000_000));
            assert_eq!(r.is_ok(), ok, "{:?}", String::from_utf8_lossy(payload));
        }
    }

    /// The escapes of `JSON.stringify`, the serializer of Vonage's reference snippet.
    #[test]
    fn query_json_escapes_as_json_stringify_does() {
        let pairs = [
            ("q", "a\"b\\c/d"),
            ("c", "\u{8}\u{c}\n\r\t\u{1}\u{1f}"),
            ("name", "Zoë 😀"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        assert_eq!(
            query_json(&pairs),
            r#"{"q":"a\"b\\c/d","c":"\b\f\n\r\t\u0001\u001f","name":"Zoë 😀"}"#
        );
        assert_eq!(query_json(&[]), "{}");
        // Percent-encoding and `+` are decoded before hashing, as a web framework's query parser
        // hands the values over.
        let url: RequestUrl = "https://a.example.com/?from=%2B44%20770&text=a+b"
            .parse()
            .unwrap();
        assert_eq!(
            payload_hash_for(&http::Method::GET, &url, b""),
            payload_hash(br#"{"from":"+44 770","text":"a b"}"#)
        );
    }

    #[test]
    fn bearer_forms() {
        assert_eq!(bearer("Bearer a.b.c").unwrap(), "a.b.c");
        assert_eq!(bearer("bearer   a.b.c ").unwrap(), "a.b.c");
        assert!(bearer("Basic abc").is_err());
        assert!(bearer("Bearer").is_err());
    }
}
