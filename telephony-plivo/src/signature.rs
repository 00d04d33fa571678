//! Plivo's webhook signatures, as plivo-python 4.63 computes them, on the URL exactly as
//! received.
//!
//! **V3** (`X-Plivo-Signature-V3`, `X-Plivo-Signature-V3-Nonce`): HMAC-SHA256 with the Auth
//! Token over a string built from the URL and the parameters, then `.` and the nonce, base64.
//! The string is `scheme://host[:port]/path` (the scheme lower-cased, the host and port as
//! sent; query, fragment and the last segment's `;params` dropped), then:
//!
//! - GET: `?` and the query sorted by name (each name's values sorted), `k=v` joined by `&`,
//!   decoded, nothing re-encoded; no `?` when there is no query.
//! - POST with a body: `?`, always; the sorted query; a `.` only when there was a query; then
//!   every body parameter as name and value run together, sorted by name.
//! - POST without a body: as GET.
//!
//! The header may hold several signatures separated by commas (Plivo signs with each of an
//! account's tokens); any one that matches exactly suffices.
//!
//! **V2** (`X-Plivo-Signature-V2`, `-Nonce`): HMAC-SHA256 over `scheme://host/path` and the
//! nonce, base64; the query and the body are not signed at all.
//!
//! Where this is stricter than the SDK, on purpose:
//!
//! - **The nonce must be what Plivo sends: decimal digits** (20 of them). Both schemes put
//!   the nonce last, right after text an attacker can choose, so a nonce allowed to carry
//!   other characters lets one signature pass for another request: a V3 signature replayed
//!   as V2 with `V2-Nonce = <rest of the V3 string>.<nonce>` signs nothing of the body, and a
//!   V3 POST re-cut as a GET moves its parameters into a longer nonce.
//! - **V2 is refused unless the validator is told to accept it**
//!   ([`PlivoValidator::accept_v2`]): it signs neither the query nor the body, so a V2
//!   signature authenticates the URL's path and nothing else.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use telephony_core::{
    Diagnosis, FormParams, RequestUrl, Secret, Verified, WebhookError, WebhookRequest,
    constant_time_eq, url_variants,
};

/// The V3 signature header.
pub const V3_HEADER: &str = "X-Plivo-Signature-V3";
/// The V3 nonce header.
pub const V3_NONCE_HEADER: &str = "X-Plivo-Signature-V3-Nonce";
/// The V2 signature header.
pub const V2_HEADER: &str = "X-Plivo-Signature-V2";
/// The V2 nonce header.
pub const V2_NONCE_HEADER: &str = "X-Plivo-Signature-V2-Nonce";

/// The most parameters a signed form may have: Plivo's callbacks carry a few dozen.
pub const MAX_PARAMS: usize = 1000;

/// The most bytes of parameters a failed check hashes again to explain itself.
const DIAGNOSIS_LIMIT: usize = 64 * 1024;

/// `scheme://host[:port]/path` as Python's `urlunparse(urlparse(url)[:3] + ('', '', ''))`
/// writes it: the scheme lower-cased, the host and port as given, the path without its query
/// or (for http and https) the last segment's `;params`.
pub fn base_url(url: &RequestUrl) -> String {
    let scheme = url.scheme().to_ascii_lowercase();
    let mut path = url.path();
    if scheme == "http" || scheme == "https" {
        let last = path.rfind('/').map_or(0, |i| i + 1);
        if let Some(semi) = path[last..].find(';') {
            path = &path[..last + semi];
        }
    }
    format!("{scheme}://{}{path}", url.authority())
}

/// The query as Python's `parse_qs(..., keep_blank_values=True)` reads it.
fn query_map(url: &RequestUrl) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in FormParams::parse(url.query().unwrap_or("").as_bytes()).iter() {
        map.entry(k.to_owned()).or_default().push(v.to_owned());
    }
    map
}

fn sorted_query(map: &BTreeMap<String, Vec<String>>) -> String {
    let mut parts = Vec::new();
    for (k, values) in map {
        let mut values = values.clone();
        values.sort();
        parts.push(
            values
                .iter()
                .map(|v| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&"),
        );
    }
    parts.join("&")
}

fn grouped<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in params {
        map.entry(k.to_owned()).or_default().push(v.to_owned());
    }
    map
}

/// The string a V3 signature of a GET covers: `params` merged with the query (the query's
/// values replace same-named parameters, as the SDK's `dict.update` does).
pub fn construct_get_url<'a>(
    url: &RequestUrl,
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    let mut merged = grouped(params);
    merged.extend(query_map(url));
    let qs = sorted_query(&merged);
    let base = base_url(url);
    if qs.is_empty() {
        base
    } else {
        format!("{base}?{qs}")
    }
}

/// The string a V3 signature of a POST covers.
pub fn construct_post_url<'a>(
    url: &RequestUrl,
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    let params = grouped(params);
    if params.is_empty() {
        return construct_get_url(url, []);
    }
    let query = query_map(url);
    let mut s = base_url(url);
    s.push('?');
    s.push_str(&sorted_query(&query));
    if !query.is_empty() {
        s.push('.');
    }
    for (k, values) in &params {
        let mut values = values.clone();
        values.sort();
        for v in values {
            s.push_str(k);
            s.push_str(&v);
        }
    }
    s
}

fn hmac_b64(key: &[u8], parts: &[&[u8]]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

/// A V3 signature of `signed` (from [`construct_get_url`] or [`construct_post_url`]).
pub fn signature_v3(token: &Secret, signed: &str, nonce: &str) -> String {
    hmac_b64(
        token.expose().as_bytes(),
        &[signed.as_bytes(), b".", nonce.as_bytes()],
    )
}

/// A V2 signature of `url`.
pub fn signature_v2(token: &Secret, url: &RequestUrl, nonce: &str) -> String {
    hmac_b64(
        token.expose().as_bytes(),
        &[base_url(url).as_bytes(), nonce.as_bytes()],
    )
}

/// The string a V3 signature of this request covers.
pub fn signed_string(request: &WebhookRequest) -> String {
    signed_string_at(request, &request.url, &request.body_params())
}

fn signed_string_at(request: &WebhookRequest, url: &RequestUrl, body: &FormParams) -> String {
    if request.method == http::Method::GET {
        construct_get_url(url, [])
    } else {
        construct_post_url(url, body.iter())
    }
}

/// Signs a request as Plivo does (V3), for tests, the emulator and `telephony webhook sign`.
pub fn sign_v3(
    token: &Secret,
    method: &http::Method,
    url: &RequestUrl,
    form: &FormParams,
    nonce: &str,
) -> String {
    let signed = if method == http::Method::GET {
        construct_get_url(url, [])
    } else {
        construct_post_url(url, form.iter())
    };
    signature_v3(token, &signed, nonce)
}

/// A nonce for signing: 20 decimal digits, as Plivo sends, from the clock and a counter.
pub fn fresh_nonce() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{:010}{:010}",
        now.as_secs() % 10_000_000_000,
        (u64::from(now.subsec_nanos()) + n) % 10_000_000_000
    )
}

/// Whether `nonce` has the form Plivo sends: decimal digits, a sane number of them.
pub fn is_plivo_nonce(nonce: &str) -> bool {
    (1..=64).contains(&nonce.len()) && nonce.bytes().all(|b| b.is_ascii_digit())
}

/// Checks Plivo's V3 signature (and V2, where configured to accept it), and explains a
/// mismatch.
#[derive(Debug, Clone)]
pub struct PlivoValidator {
    token: Secret,
    accept_v2: bool,
}

impl PlivoValidator {
    /// A validator for the account's Auth Token: V3 signatures only.
    pub fn new(auth_token: Secret) -> PlivoValidator {
        PlivoValidator {
            token: auth_token,
            accept_v2: false,
        }
    }

    /// Also accepts V2 signatures on requests without a V3 one. V2 signs only the URL's
    /// scheme, host and path and the nonce (not the query, not the body), so a V2 signature
    /// says nothing about what a request carries: accept it only for an application that
    /// Plivo still signs that way.
    pub fn accept_v2(mut self, accept: bool) -> PlivoValidator {
        self.accept_v2 = accept;
        self
    }

    fn v3_matches(&self, header: &str, signed: &str, nonce: &str) -> bool {
        let expected = signature_v3(&self.token, signed, nonce);
        // Exactly one comma-separated element, no trimming, as the SDK compares.
        header.split(',').fold(false, |found, sig| {
            found | constant_time_eq(sig.as_bytes(), expected.as_bytes())
        })
    }

    fn nonce<'r>(request: &'r WebhookRequest, name: &'static str) -> Result<&'r str, WebhookError> {
        let nonce = request.header(name).ok_or(WebhookError::Malformed {
            what: "signature",
            detail: format!("a signature without {name}"),
        })?;
        if !is_plivo_nonce(nonce) {
            return Err(WebhookError::Malformed {
                what: "nonce",
                detail: format!("{name} is not decimal digits, as Plivo's nonces are"),
            });
        }
        Ok(nonce)
    }

    /// Authenticates a webhook; the nonce (signed, and of Plivo's form) is returned as the
    /// replay key.
    pub fn validate(&self, request: &WebhookRequest) -> Result<Verified, WebhookError> {
        let day = std::time::Duration::from_secs(24 * 3600);
        let replay_key = |nonce: &str| Some(format!("plivo:{nonce}"));
        if let Some(header) = request.header(V3_HEADER) {
            let nonce = Self::nonce(request, V3_NONCE_HEADER)?;
            let body = if request.method == http::Method::GET {
                FormParams::default()
            } else {
                request.body_params()
            };
            if body.len() > MAX_PARAMS {
                return Err(WebhookError::Malformed {
                    what: "form body",
                    detail: format!(
                        "{} parameters, more than the {MAX_PARAMS} accepted",
                        body.len()
                    ),
                });
            }
            let signed = signed_string_at(request, &request.url, &body);
            if self.v3_matches(header, &signed, nonce) {
                return Ok(Verified::new().with_replay_key(replay_key(nonce), day));
            }
            // Explaining costs a hash per variant: only for requests of the size Plivo sends.
            let diagnosis = (signed.len() <= DIAGNOSIS_LIMIT)
                .then(|| {
                    url_variants(&request.url, &request.headers)
                        .into_iter()
                        .find(|(url, _)| {
                            self.v3_matches(header, &signed_string_at(request, url, &body), nonce)
                        })
                        .map(|(url, reason)| Diagnosis {
                            signed_url: url.to_string(),
                            reason,
                        })
                })
                .flatten();
            return Err(WebhookError::Mismatch { diagnosis });
        }
        if let Some(sig) = request.header(V2_HEADER) {
            if !self.accept_v2 {
                return Err(WebhookError::UnsupportedAlgorithm(
                    "Plivo V2 (it signs neither the query nor the body): this application accepts V3 only; PlivoConfig::accept_v2_signatures opts in".to_owned(),
                ));
            }
            let nonce = Self::nonce(request, V2_NONCE_HEADER)?;
            let expected = signature_v2(&self.token, &request.url, nonce);
            if constant_time_eq(sig.as_bytes(), expected.as_bytes()) {
                return Ok(Verified::new().with_replay_key(replay_key(nonce), day));
            }
            let diagnosis = url_variants(&request.url, &request.headers)
                .into_iter()
                .find(|(url, _)| {
                    constant_time_eq(
                        sig.as_bytes(),
                        signature_v2(&self.token, url, nonce).as_bytes(),
                    )
                })
                .map(|(url, reason)| Diagnosis {
                    signed_url: url.to_string(),
                    reason,
                });
            return Err(WebhookError::Mismatch { diagnosis });
        }
        Err(WebhookError::MissingSignature { header: V3_HEADER })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> RequestUrl {
        s.parse().unwrap()
    }

    #[test]
    fn the_documented_strings() {
        assert_eq!(
            construct_post_url(
                &u("https://example.com/answer/"),
                [("To", "+1"), ("From", "+2"), ("A", "x y")]
            ),
            "https://example.com/answer/?Ax yFrom+2To+1"
        );
        assert_eq!(
            construct_post_url(&u("https://example.com/a?z=1&b=x+y"), [("K", "v")]),
            "https://example.com/a?b=x y&z=1.Kv"
        );
        assert_eq!(
            construct_get_url(&u("https://example.com/a?z=1&a=2"), [("b", "3")]),
            "https://example.com/a?a=2&b=3&z=1"
        );
        assert_eq!(
            construct_get_url(&u("https://example.com/a"), []),
            "https://example.com/a"
        );
        assert_eq!(
            base_url(&u("https://example.com/p;params?q=1")),
            "https://example.com/p"
        );
        assert_eq!(
            base_url(&u("https://example.com:8443/a;x/b;y")),
            "https://example.com:8443/a;x/b"
        );
    }

    #[test]
    fn any_of_several_signatures_may_match_but_only_exactly() {
        let token = Secret::new("tok");
        let url = u("https://example.com/answer/");
        let mut r = WebhookRequest::form_post(url.clone(), &[("CallUUID", "x")]);
        let good = signature_v3(&token, &signed_string(&r), "123");
        r.headers.insert(V3_NONCE_HEADER, "123".parse().unwrap());
        let v = PlivoValidator::new(token);
        for (header, ok) in [
            (format!("bogus,{good}"), true),
            (format!("{good},bogus"), true),
            (good.clone(), true),
            (format!("bogus, {good}"), false),
            ("bogus".to_owned(), false),
        ] {
            r.headers.insert(V3_HEADER, header.parse().unwrap());
            assert_eq!(v.validate(&r).is_ok(), ok, "{header}");
        }
        r.headers.insert(V3_HEADER, good.parse().unwrap());
        assert_eq!(
            v.validate(&r).unwrap().replay_key.as_deref(),
            Some("plivo:123")
        );
        r.headers.remove(V3_NONCE_HEADER);
        assert!(matches!(
            v.validate(&r),
            Err(WebhookError::Malformed { .. })
        ));
    }

    #[test]
    fn a_tls_terminating_proxy_is_diagnosed() {
        let token = Secret::new("tok");
        let signed_at = u("https://agent.example.com/plivo/hangup");
        let params = [("CallUUID", "x"), ("Event", "Hangup")];
        let sig = signature_v3(&token, &construct_post_url(&signed_at, params), "9");
        let mut r = WebhookRequest::form_post(u("http://agent.example.com/plivo/hangup"), &params);
        r.headers.insert(V3_HEADER, sig.parse().unwrap());
        r.headers.insert(V3_NONCE_HEADER, "9".parse().unwrap());
        let text = PlivoValidator::new(token)
            .validate(&r)
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("https://agent.example.com/plivo/hangup")
                && text.contains("TLS-terminating"),
            "{text}"
        );
    }
}
