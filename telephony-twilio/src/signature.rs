//! `X-Twilio-Signature`, as twilio-python 9.13's `RequestValidator` computes and checks it.
//!
//! The signed text is the URL Twilio requested followed, for a form POST, by every parameter
//! name and value: names sorted, each name's values sorted and de-duplicated, nothing between
//! them. HMAC-SHA1 with the account's Auth Token, base64. The SDK accepts the signature for the
//! URL with or without its port (`https://h/p` and `https://h:443/p`), and strips any port
//! for the second try. JSON webhooks sign the URL only, with `bodySHA256=<hex>` in its query.
//! Webhooks signed with a SharedKey (`X-Twilio-Webhooks-Signature-Settings:
//! key=…,algorithm=HMAC_SHA256`) use HMAC-SHA256 with the key's secret.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use telephony_core::rest::hex;
use telephony_core::{
    Diagnosis, FormParams, Secret, Url, Verified, WebhookError, WebhookRequest, constant_time_eq,
    url_variants,
};

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-Twilio-Signature";
/// The header that says a SharedKey and its algorithm signed the request.
pub const SETTINGS_HEADER: &str = "X-Twilio-Webhooks-Signature-Settings";
/// The header Twilio repeats on retries of one delivery.
pub const IDEMPOTENCY_HEADER: &str = "I-Twilio-Idempotency-Token";

/// The signature's MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// HMAC-SHA1 with the Auth Token: every webhook, unless configured otherwise.
    HmacSha1,
    /// HMAC-SHA256 with a SharedKey secret.
    HmacSha256,
}

impl Algorithm {
    /// The algorithm a request says it was signed with, read as twilio-python's
    /// `get_signature_algorithm` reads it: the first `algorithm=` part with a value (the name
    /// exact, both trimmed), `HMAC_SHA1` when there is none; the value in any case.
    pub fn of_request(request: &WebhookRequest) -> Result<Algorithm, WebhookError> {
        let Some(settings) = request.header(SETTINGS_HEADER) else {
            return Ok(Algorithm::HmacSha1);
        };
        let algorithm = settings
            .split(',')
            .filter_map(|part| part.split_once('='))
            .find(|(k, v)| k.trim() == "algorithm" && !v.trim().is_empty())
            .map(|(_, v)| v.trim());
        match algorithm {
            None => Ok(Algorithm::HmacSha1),
            Some(a) if a.eq_ignore_ascii_case("HMAC_SHA1") => Ok(Algorithm::HmacSha1),
            Some(a) if a.eq_ignore_ascii_case("HMAC_SHA256") => Ok(Algorithm::HmacSha256),
            Some(other) => Err(WebhookError::UnsupportedAlgorithm(other.to_owned())),
        }
    }
}

/// The signature of `url` and `params` under `key`.
///
/// ```
/// use telephony_twilio::signature::{Algorithm, compute_signature};
///
/// let params = [
///     ("CallSid", "CA1234567890ABCDE"),
///     ("Caller", "+12349013030"),
///     ("Digits", "1234"),
///     ("From", "+12349013030"),
///     ("To", "+18005551212"),
/// ];
/// let sig = compute_signature(
///     "https://mycompany.com/myapp.php?foo=1&bar=2",
///     params.iter().copied(),
///     b"12345",
///     Algorithm::HmacSha1,
/// );
/// assert_eq!(sig, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
/// ```
pub fn compute_signature<'a>(
    url: &str,
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
    key: &[u8],
    algorithm: Algorithm,
) -> String {
    let mut pairs: Vec<(&str, &str)> = params.into_iter().collect();
    pairs.sort_unstable();
    pairs.dedup();
    let mut text = String::with_capacity(url.len() + pairs.len() * 16);
    text.push_str(url);
    for (name, value) in pairs {
        text.push_str(name);
        text.push_str(value);
    }
    match algorithm {
        Algorithm::HmacSha1 => {
            let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("HMAC takes any key length");
            mac.update(text.as_bytes());
            STANDARD.encode(mac.finalize().into_bytes())
        }
        Algorithm::HmacSha256 => {
            let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
            mac.update(text.as_bytes());
            STANDARD.encode(mac.finalize().into_bytes())
        }
    }
}

/// The two spellings of a URL the SDK tries: with its port (the scheme's default added when
/// there is none) and without (any port removed). Like Python's `urlparse(...).geturl()`, an
/// empty query or fragment is dropped.
pub fn port_variants(url: &Url) -> (String, String) {
    let mut base = url.clone();
    if base.query() == Some("") {
        base.set_query(None);
    }
    if base.fragment() == Some("") {
        base.set_fragment(None);
    }
    let text = base.as_str().to_owned();
    match base.port() {
        Some(_) => {
            let mut stripped = base.clone();
            let _ = stripped.set_port(None);
            (text, stripped.as_str().to_owned())
        }
        None => {
            let default = if base.scheme() == "https" { 443 } else { 80 };
            let authority_end = base.scheme().len() + 3 + base.host_str().map_or(0, str::len);
            let with = if text.len() >= authority_end {
                format!(
                    "{}:{default}{}",
                    &text[..authority_end],
                    &text[authority_end..]
                )
            } else {
                text.clone()
            };
            (with, text)
        }
    }
}

/// Checks `X-Twilio-Signature`, and explains a mismatch.
#[derive(Debug, Clone)]
pub struct RequestValidator {
    token: Option<Secret>,
    shared_key: Option<Secret>,
}

/// Where the SharedKey secret is set, for [`WebhookError::MissingSecret`].
pub const SHARED_KEY_SETTING: &str = "the SharedKey secret (TwilioConfig::shared_key_secret)";

impl RequestValidator {
    /// A validator for webhooks signed with this Auth Token.
    pub fn new(auth_token: Secret) -> RequestValidator {
        RequestValidator {
            token: Some(auth_token),
            shared_key: None,
        }
    }

    /// A validator for webhooks signed HMAC-SHA256 with this SharedKey secret only: a request
    /// signed with the Auth Token is refused with [`WebhookError::MissingSecret`].
    pub fn shared_key_only(secret: Secret) -> RequestValidator {
        RequestValidator {
            token: None,
            shared_key: Some(secret),
        }
    }

    /// Also accepts webhooks signed HMAC-SHA256 with this SharedKey secret.
    pub fn with_shared_key(mut self, secret: Secret) -> RequestValidator {
        self.shared_key = Some(secret);
        self
    }

    fn key(&self, algorithm: Algorithm) -> Result<&[u8], WebhookError> {
        let (secret, setting) = match algorithm {
            Algorithm::HmacSha1 => (&self.token, "TWILIO_AUTH_TOKEN"),
            Algorithm::HmacSha256 => (&self.shared_key, SHARED_KEY_SETTING),
        };
        secret
            .as_ref()
            .map(|s| s.expose().as_bytes())
            .ok_or(WebhookError::MissingSecret { setting })
    }

    /// Authenticates a webhook exactly as twilio-python does; on a mismatch, tries the usual
    /// proxy rewrites of the URL to say what went wrong.
    pub fn validate(&self, request: &WebhookRequest) -> Result<Verified, WebhookError> {
        let signature = request
            .header(SIGNATURE_HEADER)
            .ok_or(WebhookError::MissingSignature {
                header: SIGNATURE_HEADER,
            })?;
        let algorithm = Algorithm::of_request(request)?;
        let key = self.key(algorithm)?;
        let params = signed_params(request)?;
        if matches_url(&request.url, &params, signature, key, algorithm) {
            let token = request
                .header(IDEMPOTENCY_HEADER)
                .map(|t| format!("twilio:{t}"));
            return Ok(
                Verified::new().with_replay_key(token, std::time::Duration::from_secs(24 * 3600))
            );
        }
        Err(WebhookError::Mismatch {
            diagnosis: self.diagnose(request, &params, signature, key, algorithm),
        })
    }

    fn diagnose(
        &self,
        request: &WebhookRequest,
        params: &FormParams,
        signature: &str,
        key: &[u8],
        algorithm: Algorithm,
    ) -> Option<Diagnosis> {
        for (url, reason) in url_variants(&request.url, &request.headers) {
            if matches_url(&url, params, signature, key, algorithm) {
                return Some(Diagnosis {
                    signed_url: url.to_string(),
                    reason,
                });
            }
        }
        if !request.is_form() && request.method != http::Method::GET {
            let body = FormParams::parse(&request.body);
            if !body.is_empty() && matches_url(&request.url, &body, signature, key, algorithm) {
                return Some(Diagnosis {
                    signed_url: request.url.to_string(),
                    reason: "with the body read as a form: the request's Content-Type is not application/x-www-form-urlencoded, so a proxy or client changed it",
                });
            }
        }
        None
    }
}

/// The parameters that go into the signature: a form POST's body; nothing for GET or JSON.
/// For JSON, the body is checked against `bodySHA256` instead.
fn signed_params(request: &WebhookRequest) -> Result<FormParams, WebhookError> {
    let body_hash = request
        .url
        .query_pairs()
        .find(|(k, _)| k == "bodySHA256")
        .map(|(_, v)| v.into_owned());
    if let Some(expected) = body_hash {
        let actual = hex(&Sha256::digest(&request.body));
        if !constant_time_eq(actual.as_bytes(), expected.as_bytes()) {
            let diagnosis = telephony_core::body_variants(&request.body)
                .into_iter()
                .find(|(b, _)| hex(&Sha256::digest(b)) == expected)
                .map(|(_, why)| why);
            return Err(WebhookError::BodyHashMismatch { diagnosis });
        }
        return Ok(FormParams::default());
    }
    if request.method == http::Method::GET {
        return Ok(FormParams::default());
    }
    Ok(request.body_params())
}

fn matches_url(
    url: &Url,
    params: &FormParams,
    signature: &str,
    key: &[u8],
    algorithm: Algorithm,
) -> bool {
    let (with_port, without_port) = port_variants(url);
    [without_port, with_port].iter().any(|u| {
        let expected = compute_signature(u, params.iter(), key, algorithm);
        constant_time_eq(expected.as_bytes(), signature.as_bytes())
    })
}

/// Signs a request the way Twilio does: for tests, the emulator and `telephony webhook sign`.
/// A JSON body gets `bodySHA256` added to the URL, which is returned with the signature.
pub fn sign_request(
    token: &Secret,
    url: &Url,
    form: &[(&str, &str)],
    json_body: Option<&[u8]>,
) -> (Url, String) {
    let mut url = url.clone();
    let params: Vec<(&str, &str)> = match json_body {
        Some(body) => {
            if !url.query_pairs().any(|(k, _)| k == "bodySHA256") {
                url.query_pairs_mut()
                    .append_pair("bodySHA256", &hex(&Sha256::digest(body)));
            }
            Vec::new()
        }
        None => form.to_vec(),
    };
    let (_, without_port) = port_variants(&url);
    let sig = compute_signature(
        &without_port,
        params,
        token.expose().as_bytes(),
        Algorithm::HmacSha1,
    );
    (url, sig)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, Method};

    fn request(url: &str, sig: &str, params: &[(&str, &str)]) -> WebhookRequest {
        let mut r = WebhookRequest::form_post(url.parse().unwrap(), params);
        r.headers.insert(SIGNATURE_HEADER, sig.parse().unwrap());
        r
    }

    const DOC_PARAMS: [(&str, &str); 5] = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+12349013030"),
        ("Digits", "1234"),
        ("From", "+12349013030"),
        ("To", "+18005551212"),
    ];

    #[test]
    fn the_documented_example() {
        let v = RequestValidator::new(Secret::new("12345"));
        let r = request(
            "https://mycompany.com/myapp.php?foo=1&bar=2",
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
            &DOC_PARAMS,
        );
        assert!(v.validate(&r).is_ok());
        let mut tampered = DOC_PARAMS;
        tampered[2] = ("Digits", "1235");
        let r = request(
            "https://mycompany.com/myapp.php?foo=1&bar=2",
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
            &tampered,
        );
        assert!(matches!(v.validate(&r), Err(WebhookError::Mismatch { .. })));
    }

    #[test]
    fn repeated_keys_are_sorted_and_deduplicated() {
        let a = compute_signature(
            "https://h/p",
            [("b", "2"), ("a", "z"), ("a", "y"), ("a", "z")],
            b"k",
            Algorithm::HmacSha1,
        );
        let b = compute_signature(
            "https://h/p",
            [("a", "y"), ("a", "z"), ("b", "2")],
            b"k",
            Algorithm::HmacSha1,
        );
        assert_eq!(a, b);
        // Empty values count, and concatenation is ambiguous, as in the SDK.
        let c = compute_signature("u", [("", "x")], b"k", Algorithm::HmacSha1);
        let d = compute_signature("u", [("x", "")], b"k", Algorithm::HmacSha1);
        assert_eq!(c, d);
    }

    #[test]
    fn port_spellings_as_the_sdk_tries_them() {
        let cases = [
            ("https://h/p", ("https://h:443/p", "https://h/p")),
            ("https://h:443/p", ("https://h:443/p", "https://h/p")),
            (
                "https://h:8443/p?q=1",
                ("https://h:8443/p?q=1", "https://h/p?q=1"),
            ),
            ("http://h/p", ("http://h:80/p", "http://h/p")),
            ("https://h/p?", ("https://h:443/p", "https://h/p")),
        ];
        for (input, (with, without)) in cases {
            let (w, wo) = port_variants(&input.parse().unwrap());
            assert_eq!((w.as_str(), wo.as_str()), (with, without), "{input}");
        }
    }

    #[test]
    fn signatures_with_and_without_the_port_both_validate() {
        let token = Secret::new("tok");
        let v = RequestValidator::new(token.clone());
        for (received, signed) in [
            ("https://h/p", "https://h:443/p"),
            ("https://h:443/p", "https://h/p"),
            ("https://h:8443/p", "https://h:8443/p"),
            ("https://h:8443/p", "https://h/p"),
        ] {
            let sig = compute_signature(signed, DOC_PARAMS, b"tok", Algorithm::HmacSha1);
            assert!(
                v.validate(&request(received, &sig, &DOC_PARAMS)).is_ok(),
                "{received} / {signed}"
            );
        }
        let sig = compute_signature("https://h/p?", DOC_PARAMS, b"tok", Algorithm::HmacSha1);
        assert!(
            v.validate(&request("https://h/p?", &sig, &DOC_PARAMS))
                .is_err(),
            "the SDK drops an empty ?"
        );
    }

    #[test]
    fn json_bodies_go_through_body_sha256() {
        let token = Secret::new("tok");
        let body = br#"{"CallSid":"CA1","CallStatus":"ringing"}"#;
        let (url, sig) = sign_request(
            &token,
            &"https://h/status?x=1".parse().unwrap(),
            &[],
            Some(body),
        );
        let hash = url
            .query_pairs()
            .find(|(k, _)| k == "bodySHA256")
            .unwrap()
            .1
            .into_owned();
        assert_eq!(hash, hex(&Sha256::digest(body)));
        assert_eq!(hash.len(), 64);
        let mut headers = HeaderMap::new();
        headers.insert(SIGNATURE_HEADER, sig.parse().unwrap());
        headers.insert("content-type", "application/json".parse().unwrap());
        let ok = WebhookRequest::new(Method::POST, url.clone(), headers.clone(), body.to_vec());
        let v = RequestValidator::new(token);
        assert!(v.validate(&ok).is_ok());
        let changed =
            WebhookRequest::new(Method::POST, url, headers, br#"{"CallSid":"CA2"}"#.to_vec());
        assert_eq!(
            v.validate(&changed),
            Err(WebhookError::BodyHashMismatch { diagnosis: None })
        );
        let mut newline = body.to_vec();
        newline.push(b'\n');
        let reencoded =
            WebhookRequest::new(Method::POST, ok.url.clone(), ok.headers.clone(), newline);
        let e = v.validate(&reencoded).unwrap_err().to_string();
        assert!(e.contains("trailing newline was added"), "{e}");
    }

    #[test]
    fn get_requests_sign_the_url_only() {
        let token = Secret::new("tok");
        let url: Url = "https://h/answer?CallSid=CA1&From=%2B1415".parse().unwrap();
        let sig = compute_signature(url.as_str(), [], b"tok", Algorithm::HmacSha1);
        let mut headers = HeaderMap::new();
        headers.insert(SIGNATURE_HEADER, sig.parse().unwrap());
        let r = WebhookRequest::new(Method::GET, url, headers, Vec::new());
        assert!(RequestValidator::new(token).validate(&r).is_ok());
    }

    #[test]
    fn shared_key_sha256() {
        let sig = compute_signature("https://h/p", DOC_PARAMS, b"shared", Algorithm::HmacSha256);
        assert_eq!(sig.len(), 44);
        let mut r = request("https://h/p", &sig, &DOC_PARAMS);
        r.headers.insert(
            SETTINGS_HEADER,
            "key=KSxxx, algorithm=HMAC_SHA256".parse().unwrap(),
        );
        let without = RequestValidator::new(Secret::new("tok"));
        assert_eq!(
            without.validate(&r),
            Err(WebhookError::MissingSecret {
                setting: SHARED_KEY_SETTING
            })
        );
        let only = RequestValidator::shared_key_only(Secret::new("shared"));
        assert!(only.validate(&r).is_ok());
        let sha1 = request(
            "https://h/p",
            &compute_signature("https://h/p", DOC_PARAMS, b"tok", Algorithm::HmacSha1),
            &DOC_PARAMS,
        );
        assert_eq!(
            only.validate(&sha1),
            Err(WebhookError::MissingSecret {
                setting: "TWILIO_AUTH_TOKEN"
            })
        );
        let with = without.with_shared_key(Secret::new("shared"));
        assert!(with.validate(&r).is_ok());
        r.headers
            .insert(SETTINGS_HEADER, "algorithm=HMAC_MD5".parse().unwrap());
        assert_eq!(
            with.validate(&r),
            Err(WebhookError::UnsupportedAlgorithm("HMAC_MD5".into()))
        );
    }

    #[test]
    fn a_tls_terminating_proxy_is_diagnosed() {
        let sig = compute_signature(
            "https://agent.example.com/status",
            DOC_PARAMS,
            b"tok",
            Algorithm::HmacSha1,
        );
        let r = request("http://agent.example.com/status", &sig, &DOC_PARAMS);
        let err = RequestValidator::new(Secret::new("tok"))
            .validate(&r)
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("https://agent.example.com/status")
                && text.contains("TLS-terminating proxy"),
            "{text}"
        );
    }

    #[test]
    fn missing_signature_and_replay_key() {
        let r = WebhookRequest::form_post("https://h/p".parse().unwrap(), &DOC_PARAMS);
        assert_eq!(
            RequestValidator::new(Secret::new("t")).validate(&r),
            Err(WebhookError::MissingSignature {
                header: SIGNATURE_HEADER
            })
        );
        let sig = compute_signature("https://h/p", DOC_PARAMS, b"t", Algorithm::HmacSha1);
        let mut r = request("https://h/p", &sig, &DOC_PARAMS);
        r.headers
            .insert(IDEMPOTENCY_HEADER, "abc-123".parse().unwrap());
        let v = RequestValidator::new(Secret::new("t"))
            .validate(&r)
            .unwrap();
        assert_eq!(v.replay_key.as_deref(), Some("twilio:abc-123"));
    }
}
