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
    Diagnosis, FormParams, RequestUrl, Secret, Verified, WebhookError, WebhookRequest,
    constant_time_eq, url_variants,
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
    sign_text(url, &params_text(params), key, algorithm)
}

/// The parameters' part of the signed text: names sorted, each name's values sorted and
/// de-duplicated, every name and value concatenated. Built once per request, however many
/// URLs it is tried with.
fn params_text<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<(&str, &str)> = params.into_iter().collect();
    pairs.sort_unstable();
    pairs.dedup();
    let mut text = String::with_capacity(pairs.iter().map(|(k, v)| k.len() + v.len()).sum());
    for (name, value) in pairs {
        text.push_str(name);
        text.push_str(value);
    }
    text
}

/// The signature of `url` followed by the parameters' text.
fn sign_text(url: &str, params: &str, key: &[u8], algorithm: Algorithm) -> String {
    match algorithm {
        Algorithm::HmacSha1 => {
            let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("HMAC takes any key length");
            mac.update(url.as_bytes());
            mac.update(params.as_bytes());
            STANDARD.encode(mac.finalize().into_bytes())
        }
        Algorithm::HmacSha256 => {
            let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
            mac.update(url.as_bytes());
            mac.update(params.as_bytes());
            STANDARD.encode(mac.finalize().into_bytes())
        }
    }
}

/// The URL as twilio-python's `urlparse(url).geturl()` writes it back: the scheme lower-cased;
/// an empty query (`?` at the end), and for the schemes Python splits parameters from (http,
/// https), an empty `;` parameter at the end of the path, dropped. Everything else verbatim:
/// the host's case, the port, the path and every character of the query.
pub fn sdk_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let scheme = scheme.to_ascii_lowercase();
    let netloc_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (netloc, target) = rest.split_at(netloc_end);
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target, None),
    };
    let mut path = path.to_owned();
    if scheme == "http" || scheme == "https" {
        let last = path.rfind('/').map_or(0, |i| i + 1);
        if let Some(semi) = path[last..].find(';').map(|i| last + i)
            && semi + 1 == path.len()
        {
            path.truncate(semi);
        }
    }
    let query = query
        .filter(|q| !q.is_empty())
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    format!("{scheme}://{netloc}{path}{query}")
}

/// The two spellings of a URL the SDK tries, from the URL as received: with its port (`:443`
/// for https, `:80` for anything else, added when there is none) and without (the authority
/// cut at its first `:`, which is how twilio-python removes any port). Both go through
/// [`sdk_url`] first.
pub fn port_variants(url: &str) -> (String, String) {
    let url = sdk_url(url);
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.clone(), url);
    };
    let netloc_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (netloc, target) = rest.split_at(netloc_end);
    // Python's `port`: what follows the host (after `]` for an IPv6 literal); a port of 0
    // counts as none, as `if uri.port` reads it.
    let after_host = if netloc.starts_with('[') {
        netloc.find(']').map_or(netloc.len(), |i| i + 1)
    } else {
        0
    };
    let port = netloc[after_host..]
        .split_once(':')
        .map(|(_, p)| p)
        .filter(|p| p.parse::<u16>().is_ok_and(|n| n != 0));
    match port {
        Some(_) => {
            let stripped = netloc.split(':').next().unwrap_or(netloc);
            (url.clone(), format!("{scheme}://{stripped}{target}"))
        }
        None => {
            let default = if scheme == "https" { 443 } else { 80 };
            (
                format!("{scheme}://{netloc}:{default}{target}"),
                url.clone(),
            )
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

    /// Authenticates a webhook exactly as twilio-python does, on the URL exactly as received;
    /// on a mismatch, tries the usual proxy rewrites of the URL to say what went wrong.
    ///
    /// The replay key is the signature: it is computed from everything signed, so Twilio's
    /// own retry of a delivery (the same request again) has the same key, and nothing the
    /// signature does not cover can make a replay look new.
    pub fn validate(&self, request: &WebhookRequest) -> Result<Verified, WebhookError> {
        let signature = request
            .header(SIGNATURE_HEADER)
            .ok_or(WebhookError::MissingSignature {
                header: SIGNATURE_HEADER,
            })?;
        let algorithm = Algorithm::of_request(request)?;
        let key = self.key(algorithm)?;
        let params = params_text(signed_params(request)?.iter());
        if matches_url(request.url.as_str(), &params, signature, key, algorithm) {
            return Ok(Verified::new().with_replay_key(
                Some(format!("twilio:{signature}")),
                std::time::Duration::from_secs(24 * 3600),
            ));
        }
        // The diagnosis hashes the request once per variant: only for requests of the size
        // Twilio sends, so a forged megabyte costs two hashes, not twenty.
        let diagnosis = (params.len() + request.body.len() <= DIAGNOSIS_LIMIT)
            .then(|| self.diagnose(request, &params, signature, key, algorithm))
            .flatten();
        Err(WebhookError::Mismatch { diagnosis })
    }

    fn diagnose(
        &self,
        request: &WebhookRequest,
        params: &str,
        signature: &str,
        key: &[u8],
        algorithm: Algorithm,
    ) -> Option<Diagnosis> {
        for (url, reason) in url_variants(&request.url, &request.headers) {
            if matches_url(url.as_str(), params, signature, key, algorithm) {
                return Some(Diagnosis {
                    signed_url: url.to_string(),
                    reason,
                });
            }
        }
        if !request.is_form() && request.method != http::Method::GET {
            let body = FormParams::parse(&request.body);
            if !body.is_empty()
                && matches_url(
                    request.url.as_str(),
                    &params_text(body.iter()),
                    signature,
                    key,
                    algorithm,
                )
            {
                return Some(Diagnosis {
                    signed_url: request.url.to_string(),
                    reason: "with the body read as a form: the request's Content-Type is not application/x-www-form-urlencoded, so a proxy or client changed it",
                });
            }
        }
        None
    }
}

/// The most bytes of parameters and body a failed check hashes again to explain itself.
const DIAGNOSIS_LIMIT: usize = 64 * 1024;

/// The most parameters a signed form may have: Twilio's callbacks carry a few dozen.
pub const MAX_PARAMS: usize = 1000;

/// The parameters that go into the signature, as twilio-python is given them: a form POST's
/// body; nothing for a GET; nothing for another body, which `bodySHA256` in the query covers
/// instead (checked here).
fn signed_params(request: &WebhookRequest) -> Result<FormParams, WebhookError> {
    if request.method != http::Method::GET && request.is_form() {
        let params = request.body_params();
        if params.len() > MAX_PARAMS {
            return Err(WebhookError::Malformed {
                what: "form body",
                detail: format!(
                    "{} parameters, more than the {MAX_PARAMS} accepted",
                    params.len()
                ),
            });
        }
        return Ok(params);
    }
    let body_hash = request
        .query_params()
        .get_nonempty("bodySHA256")
        .map(str::to_owned);
    if let Some(expected) = body_hash {
        let actual = hex(&Sha256::digest(&request.body));
        if !constant_time_eq(actual.as_bytes(), expected.as_bytes()) {
            let diagnosis = (request.body.len() <= DIAGNOSIS_LIMIT)
                .then(|| {
                    telephony_core::body_variants(&request.body)
                        .into_iter()
                        .find(|(b, _)| hex(&Sha256::digest(b)) == expected)
                        .map(|(_, why)| why)
                })
                .flatten();
            return Err(WebhookError::BodyHashMismatch { diagnosis });
        }
    }
    Ok(FormParams::default())
}

/// Whether `signature` signs `url` (either spelling of its port) followed by `params`.
fn matches_url(url: &str, params: &str, signature: &str, key: &[u8], algorithm: Algorithm) -> bool {
    let (with_port, without_port) = port_variants(url);
    [without_port, with_port].iter().any(|u| {
        let expected = sign_text(u, params, key, algorithm);
        constant_time_eq(expected.as_bytes(), signature.as_bytes())
    })
}

/// Signs a request the way Twilio does: for tests, the emulator and `telephony webhook sign`.
/// The URL is taken as given and signed without its port (as [`port_variants`] writes it; the
/// validator accepts either spelling). A JSON body gets `bodySHA256` added to the URL's query,
/// and the URL is returned with the signature.
pub fn sign_request(
    token: &Secret,
    url: &RequestUrl,
    form: &[(&str, &str)],
    json_body: Option<&[u8]>,
) -> (RequestUrl, String) {
    let mut url = url.clone();
    let params: Vec<(&str, &str)> = match json_body {
        Some(body) => {
            let query = FormParams::parse(url.query().unwrap_or("").as_bytes());
            if query.get_nonempty("bodySHA256").is_none() {
                let hash = hex(&Sha256::digest(body));
                let joined = match url.query() {
                    Some("") | None => format!("{}?bodySHA256={hash}", url.without_query()),
                    Some(_) => format!("{url}&bodySHA256={hash}"),
                };
                url = RequestUrl::parse(&joined).unwrap_or(url);
            }
            Vec::new()
        }
        None => form.to_vec(),
    };
    let (_, without_port) = port_variants(url.as_str());
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
            let (w, wo) = port_variants(input);
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
        let hash = FormParams::parse(url.query().unwrap().as_bytes())
            .get("bodySHA256")
            .unwrap()
            .to_owned();
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
        let url: RequestUrl = "https://h/answer?CallSid=CA1&From=%2B1415".parse().unwrap();
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
        // The key comes from what is signed, never from the unsigned idempotency header.
        assert_eq!(v.replay_key, Some(format!("twilio:{sig}")));
        r.headers.remove(IDEMPOTENCY_HEADER);
        let again = RequestValidator::new(Secret::new("t"))
            .validate(&r)
            .unwrap();
        assert_eq!(again.replay_key, v.replay_key);
    }

    /// The URL is checked as received, character for character, as twilio-python hashes it:
    /// the cases a WHATWG parser would have changed (a host's capitals, an explicit default
    /// port, an empty path, a quote in the query).
    #[test]
    fn the_url_is_checked_exactly_as_received() {
        let v = RequestValidator::new(Secret::new("tok"));
        for url in [
            "https://Example.COM/hook",
            "https://example.com:443/hook?x=1",
            "https://example.com?x=1",
            "https://example.com/hook?who='x'&y=%7e",
            "https://example.com",
            "http://Example.com:8080/a;b?c=d",
        ] {
            let sig = compute_signature(&sdk_url(url), DOC_PARAMS, b"tok", Algorithm::HmacSha1);
            assert!(
                v.validate(&request(url, &sig, &DOC_PARAMS)).is_ok(),
                "{url}"
            );
        }
        // Another spelling of the same URL is another URL.
        let sig = compute_signature(
            "https://Example.COM/hook",
            DOC_PARAMS,
            b"tok",
            Algorithm::HmacSha1,
        );
        assert!(
            v.validate(&request("https://example.com/hook", &sig, &DOC_PARAMS))
                .is_err()
        );
    }

    /// A failed check explains itself by hashing the request again for each near variant of
    /// its URL: only for requests of the size Twilio sends. A forged megabyte costs the two
    /// hashes of the check itself, and no diagnosis.
    #[test]
    fn a_large_forgery_gets_no_diagnosis_and_its_rehashing() {
        let v = RequestValidator::new(Secret::new("tok"));
        let value = "v".repeat(2000);
        for (count, diagnosed) in [(4, true), (400, false)] {
            let pairs: Vec<(String, &str)> = (0..count)
                .map(|i| (format!("k{i}"), value.as_str()))
                .collect();
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), *v)).collect();
            let sig = compute_signature(
                "https://h/status",
                pairs.clone(),
                b"tok",
                Algorithm::HmacSha1,
            );
            let r = request("http://h/status", &sig, &pairs);
            let Err(WebhookError::Mismatch { diagnosis }) = v.validate(&r) else {
                panic!("a mismatch")
            };
            assert_eq!(diagnosis.is_some(), diagnosed, "{count} parameters");
        }
    }

    #[test]
    fn a_form_with_too_many_parameters_is_refused_before_hashing() {
        let many: Vec<(String, String)> = (0..=MAX_PARAMS)
            .map(|i| (format!("k{i}"), "v".to_owned()))
            .collect();
        let pairs: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = request("https://h/p", "bogus", &pairs);
        assert!(matches!(
            RequestValidator::new(Secret::new("t")).validate(&r),
            Err(WebhookError::Malformed {
                what: "form body",
                ..
            })
        ));
    }
}
