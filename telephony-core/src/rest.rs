//! The HTTP plumbing every adapter shares: one pooled client with timeouts, and retries that
//! never place a call twice.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime};

use serde::de::DeserializeOwned;

use url::Url;

use crate::error::{ConfigError, DecodeError, Error, PageProblem, TransportError, TransportKind};
use crate::provider::ProviderKind;

/// Timeouts and retries for one provider's client.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpConfig {
    /// How long to wait for a connection.
    pub connect_timeout: Duration,
    /// How long a whole request may take.
    pub request_timeout: Duration,
    /// When and how often to try again.
    pub retry: RetryPolicy,
}

impl Default for HttpConfig {
    /// Connect within 5 s, answer within 30 s, up to 3 attempts.
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
        }
    }
}

impl HttpConfig {
    /// Sets the connect timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> HttpConfig {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the request timeout.
    pub fn request_timeout(mut self, timeout: Duration) -> HttpConfig {
        self.request_timeout = timeout;
        self
    }

    /// Sets the retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> HttpConfig {
        self.retry = retry;
        self
    }

    /// A pooled client with these timeouts, TLS by rustls.
    pub fn client(&self) -> Result<reqwest::Client, ConfigError> {
        reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .timeout(self.request_timeout)
            .user_agent(concat!("telephony-rs/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError::new("http client", e.to_string()))
    }
}

/// When to try a request again: exponential backoff with full jitter, honouring `Retry-After`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    /// The first backoff; each retry doubles it.
    pub base_delay: Duration,
    /// The longest wait; a `Retry-After` beyond it ends the retries.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 3 attempts, from 250 ms, waiting at most 10 s.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// Sets the number of attempts.
    pub fn max_attempts(mut self, attempts: u32) -> RetryPolicy {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the first backoff.
    pub fn base_delay(mut self, delay: Duration) -> RetryPolicy {
        self.base_delay = delay;
        self
    }

    /// Sets the longest wait.
    pub fn max_delay(mut self, delay: Duration) -> RetryPolicy {
        self.max_delay = delay;
        self
    }

    /// The backoff before retry number `retry` (1-based): a random share, from half to all, of
    /// `base * 2^(retry-1)`, capped.
    fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << (retry.saturating_sub(1)).min(16))
            .min(self.max_delay);
        let mut h = RandomState::new().build_hasher();
        h.write_u32(retry);
        let share = 0.5 + (h.finish() % 1000) as f64 / 2000.0;
        exp.mul_f64(share)
    }
}

/// Whether a request may be sent twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Reading, or setting a value: retry on rate limits, server errors, timeouts and
    /// connection failures.
    Idempotent,
    /// Creating something (placing a call): retry only when the provider cannot have acted on
    /// it, a 429 or a connection that never opened. A 500 or a timeout after sending is final,
    /// so nobody is dialled twice.
    CreatesResource,
}

/// Sends a request built by `make` (once per attempt) under `policy`, and returns the final
/// response, whatever its status, or the transport error.
pub async fn send_with_retries(
    provider: ProviderKind,
    operation: &str,
    policy: &RetryPolicy,
    idempotency: Idempotency,
    make: impl Fn() -> reqwest::RequestBuilder,
) -> Result<reqwest::Response, Error> {
    let mut attempt = 1;
    loop {
        let last = attempt >= policy.max_attempts;
        match make().send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let retryable = status == 429
                    || (idempotency == Idempotency::Idempotent
                        && matches!(status, 500 | 502 | 503 | 504));
                if !retryable || last {
                    return Ok(response);
                }
                let wait = match retry_after(response.headers(), SystemTime::now()) {
                    Some(asked) if asked > policy.max_delay => return Ok(response),
                    Some(asked) => asked,
                    None => policy.backoff(attempt),
                };
                drop(response);
                tokio::time::sleep(wait).await;
            }
            Err(e) => {
                let kind = transport_kind(&e);
                let retryable = match kind {
                    TransportKind::Connect => true,
                    TransportKind::Timeout => idempotency == Idempotency::Idempotent,
                    TransportKind::Other => false,
                };
                if !retryable || last {
                    let error = transport_error(provider, operation, e);
                    return Err(match idempotency {
                        Idempotency::CreatesResource => error.after_create(),
                        Idempotency::Idempotent => error,
                    });
                }
                tokio::time::sleep(policy.backoff(attempt)).await;
            }
        }
        attempt += 1;
    }
}

fn transport_kind(e: &reqwest::Error) -> TransportKind {
    if e.is_connect() {
        TransportKind::Connect
    } else if e.is_timeout() {
        TransportKind::Timeout
    } else {
        TransportKind::Other
    }
}

/// A reqwest failure as this crate's error, naming the host it tried (`scheme://host:port`)
/// and, through its source, the cause. The URL's credentials, path and query (which may hold
/// secrets) are dropped.
pub fn transport_error(provider: ProviderKind, operation: &str, e: reqwest::Error) -> Error {
    Error::Transport(TransportError {
        provider,
        operation: operation.to_owned(),
        kind: transport_kind(&e),
        target: e.url().and_then(origin),
        source: Box::new(e.without_url()),
        may_have_acted: false,
    })
}

/// `scheme://host:port` of `url` (the port as the scheme implies when not given), and nothing
/// else of it.
fn origin(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port_or_known_default() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    })
}

/// The wait a `Retry-After` header asks for: seconds, or an HTTP date.
pub fn retry_after(headers: &reqwest::header::HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A finished exchange: the status, headers and whole body of the final response.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The response headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body.
    pub body: bytes::Bytes,
}

impl Answer {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Sends with [`send_with_retries`] and reads the whole answer, whatever its status.
pub async fn exchange(
    provider: ProviderKind,
    operation: &str,
    policy: &RetryPolicy,
    idempotency: Idempotency,
    make: impl Fn() -> reqwest::RequestBuilder,
) -> Result<Answer, Error> {
    let response = send_with_retries(provider, operation, policy, idempotency, make).await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = body(provider, operation, response).await?;
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// Reads a response body, or fails as a transport error.
pub async fn body(
    provider: ProviderKind,
    operation: &str,
    response: reqwest::Response,
) -> Result<bytes::Bytes, Error> {
    response
        .bytes()
        .await
        .map_err(|e| transport_error(provider, operation, e))
}

/// Decodes a JSON body into `T`, naming what it was on failure.
pub fn decode_json<T: DeserializeOwned>(
    provider: ProviderKind,
    what: &str,
    body: &[u8],
) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| {
        Error::Decode(DecodeError::new(
            provider,
            what,
            format!("{e} (body starts {:?})", preview(body)),
        ))
    })
}

/// Deserializes a field a provider writes as a string, a number or null, as text: prices,
/// durations and counts that come either way.
pub fn string_or_number<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    use serde::Deserialize as _;
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        Some(other) => Some(other.to_string()),
    })
}

/// The URL of a listing's next page, from the link a page gives (Twilio `next_page_uri`,
/// Plivo `meta.next`): the configured `base`'s origin and path prefix, and only the link's path
/// and query. The link's path is taken from the API's root, so a base of
/// `https://proxy.example.com/twilio` and a link `/2010-04-01/…?Page=1` give
/// `https://proxy.example.com/twilio/2010-04-01/…?Page=1`. An absolute or `//host` link is
/// accepted only on `base`'s own scheme, host and port (its path then taken as it is);
/// anything else is refused, so Basic-auth credentials never go to a host a response named.
///
/// ```
/// use telephony_core::{PageProblem, Url, rest::next_page_url};
///
/// let base: Url = "https://proxy.example.com/twilio".parse()?;
/// assert_eq!(
///     next_page_url(&base, "/2010-04-01/Accounts/AC1/IncomingPhoneNumbers.json?Page=1")?.as_str(),
///     "https://proxy.example.com/twilio/2010-04-01/Accounts/AC1/IncomingPhoneNumbers.json?Page=1"
/// );
/// assert!(matches!(
///     next_page_url(&base, "//evil.example.net/steal"),
///     Err(PageProblem::OtherOrigin { .. })
/// ));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn next_page_url(base: &Url, link: &str) -> Result<Url, PageProblem> {
    let shown: String = link.chars().take(200).collect();
    let link = link.trim();
    let prefix = base.path().trim_end_matches('/').to_owned();
    // Anything a URL parser could read a host from: a scheme, `//`, or a backslash that
    // special schemes read as a slash.
    let names_host = Url::parse(link).is_ok()
        || link.starts_with("//")
        || link.starts_with('\\')
        || link.starts_with("/\\");
    let mut next = base.clone();
    next.set_fragment(None);
    if names_host {
        let absolute = base.join(link).map_err(|e| PageProblem::Malformed {
            link: shown.clone(),
            detail: e.to_string(),
        })?;
        if absolute.origin() != base.origin() {
            return Err(PageProblem::OtherOrigin {
                link: shown,
                expected: base.origin().ascii_serialization(),
            });
        }
        next.set_path(absolute.path());
        next.set_query(absolute.query());
    } else {
        let without_fragment = link.split('#').next().unwrap_or("");
        let (path, query) = match without_fragment.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (without_fragment, None),
        };
        let slash = if path.starts_with('/') { "" } else { "/" };
        next.set_path(&format!("{prefix}{slash}{path}"));
        next.set_query(query);
    }
    // Dot segments (`/../`) are resolved by the URL parser: the result must still be under
    // the base's path.
    let inside = next.path() == prefix || next.path().starts_with(&format!("{prefix}/"));
    if !inside || next.origin() != base.origin() {
        return Err(PageProblem::OutsidePrefix {
            link: shown,
            prefix,
        });
    }
    Ok(next)
}

/// Lower-case hexadecimal, as signatures and body hashes are written.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// The first 120 characters of a body, for error messages.
pub fn preview(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut s: String = text.chars().take(120).collect();
    if text.chars().count() > 120 {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = reqwest::header::HeaderMap::new();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(7)));
        h.insert(
            "retry-after",
            "Sun, 06 Nov 1994 08:49:40 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(3)));
        h.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after(&h, now), None);
    }

    #[test]
    fn next_pages_keep_the_configured_origin_and_prefix() {
        let base: Url = "https://proxy.example.com/twilio/".parse().unwrap();
        let next = |link: &str| next_page_url(&base, link).map(|u| u.to_string());
        assert_eq!(
            next("/2010-04-01/Accounts/AC1/X.json?PageSize=100&Page=1&PageToken=PA1#frag").unwrap(),
            "https://proxy.example.com/twilio/2010-04-01/Accounts/AC1/X.json?PageSize=100&Page=1&PageToken=PA1"
        );
        assert_eq!(
            next("v1/Number/?offset=20").unwrap(),
            "https://proxy.example.com/twilio/v1/Number/?offset=20"
        );
        // Absolute on the same origin: its path as it is.
        assert_eq!(
            next("https://proxy.example.com:443/twilio/2010-04-01/X.json?Page=2").unwrap(),
            "https://proxy.example.com/twilio/2010-04-01/X.json?Page=2"
        );
        for other in [
            "https://evil.example.net/twilio/2010-04-01/X.json",
            "http://proxy.example.com/twilio/2010-04-01/X.json",
            "https://proxy.example.com:8443/twilio/X.json",
            "//evil.example.net/twilio/X.json",
            "\\\\evil.example.net/twilio/X.json",
            "/\\evil.example.net/twilio/X.json",
            "https://user:pw@evil.example.net/",
        ] {
            assert!(
                matches!(
                    next_page_url(&base, other),
                    Err(PageProblem::OtherOrigin { .. })
                ),
                "{other}: {:?}",
                next(other)
            );
        }
        for outside in [
            "/../../admin",
            "/%2e%2e/admin",
            "https://proxy.example.com/admin",
        ] {
            assert!(
                matches!(
                    next_page_url(&base, outside),
                    Err(PageProblem::OutsidePrefix { .. })
                ),
                "{outside}: {:?}",
                next(outside)
            );
        }
        let e = next_page_url(&base, "//evil.example.net/x").unwrap_err();
        assert!(e.to_string().contains("https://proxy.example.com"), "{e}");
        // No prefix: the link's path from the root.
        let root: Url = "http://127.0.0.1:8080".parse().unwrap();
        assert_eq!(
            next_page_url(&root, "/a/b?c=1").unwrap().as_str(),
            "http://127.0.0.1:8080/a/b?c=1"
        );
    }

    #[tokio::test]
    async fn a_refused_connection_names_the_host_and_the_cause_and_no_secret() {
        // A loopback port nobody listens on: bound, then let go.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://user:hunter2@127.0.0.1:{port}/calls?token=s3cr3t");
        let e = reqwest::Client::new().get(&url).send().await.unwrap_err();
        let error = transport_error(ProviderKind::new("acme", "Acme"), "fetch call", e);
        let text = error.to_string();
        assert!(
            text.starts_with(&format!(
                "Acme fetch call: could not connect to http://127.0.0.1:{port}: "
            )),
            "{text}"
        );
        // The innermost cause, not reqwest's "error sending request".
        assert!(
            text.to_lowercase().contains("connection refused")
                && !text.contains("error sending request"),
            "{text}"
        );
        for secret in ["user", "hunter2", "token", "s3cr3t", "/calls"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(error.is_retryable());
    }

    #[test]
    fn an_origin_is_scheme_host_and_port_alone() {
        let origin = |u: &str| origin(&u.parse().unwrap());
        assert_eq!(
            origin("https://k:s@api.example.com/x?y=1").as_deref(),
            Some("https://api.example.com:443")
        );
        assert_eq!(
            origin("http://[::1]:8080/").as_deref(),
            Some("http://[::1]:8080")
        );
    }

    #[test]
    fn backoff_grows_with_jitter_and_stays_capped() {
        let p = RetryPolicy::default();
        for retry in 1..20 {
            let d = p.backoff(retry);
            let full = p
                .base_delay
                .saturating_mul(1 << (retry - 1).min(16))
                .min(p.max_delay);
            assert!(d >= full / 2 && d <= full, "{retry}: {d:?} of {full:?}");
        }
    }
}
