//! When a request is sent again, and how long to wait first: one loop for every adapter.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use url::Url;

use super::pages::MAX_PAGES;
use crate::error::{ConfigError, Error, TransportError, TransportKind};
use crate::provider::ProviderKind;

/// Timeouts, retries and the page cap for one provider's client.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpConfig {
    /// How long to wait for a connection.
    pub connect_timeout: Duration,
    /// How long a whole request may take.
    pub request_timeout: Duration,
    /// When and how often to try again.
    pub retry: RetryPolicy,
    /// The most pages one listing reads; a listing still going after them is an
    /// [`Error::Page`], never part of the list.
    pub max_pages: usize,
}

impl Default for HttpConfig {
    /// Connect within 5 s, answer within 30 s, up to 3 attempts, at most [`MAX_PAGES`] pages.
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            max_pages: MAX_PAGES,
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

    /// Sets the most pages one listing reads (at least 1).
    pub fn max_pages(mut self, pages: usize) -> HttpConfig {
        self.max_pages = pages.max(1);
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
    sleep: Option<Sleep>,
}

impl Default for RetryPolicy {
    /// 3 attempts, from 250 ms, waiting at most 10 s.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            sleep: None,
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

    /// Waits before a retry with `sleep` instead of tokio's timer. A test passes one that
    /// writes the wait down and returns at once, and then reads exactly what the policy asked
    /// for (a backoff, a `Retry-After`) without sleeping through it.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    /// use telephony_core::rest::RetryPolicy;
    ///
    /// let waits = Arc::new(Mutex::new(Vec::<Duration>::new()));
    /// let log = waits.clone();
    /// let policy = RetryPolicy::default().sleep_with(move |wait| {
    ///     log.lock().unwrap().push(wait);
    ///     std::future::ready(())
    /// });
    /// # let _ = policy;
    /// ```
    pub fn sleep_with<F, Fut>(mut self, sleep: F) -> RetryPolicy
    where
        F: Fn(Duration) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.sleep = Some(Sleep(Arc::new(move |wait| Box::pin(sleep(wait)))));
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

    async fn pause(&self, wait: Duration) {
        match &self.sleep {
            Some(Sleep(sleep)) => sleep(wait).await,
            None => tokio::time::sleep(wait).await,
        }
    }
}

type SleepFn = dyn Fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync;

/// A substitute for tokio's timer ([`RetryPolicy::sleep_with`]). Two policies are equal only
/// when they share the same one.
#[derive(Clone)]
struct Sleep(Arc<SleepFn>);

impl PartialEq for Sleep {
    fn eq(&self, other: &Sleep) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Sleep {}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sleep(custom)")
    }
}

/// Sends a request built by `make` (once per attempt) under `policy`, and returns the final
/// response, whatever its status, or the transport error.
///
/// An idempotent request is sent again after a 429, a 500, 502, 503 or 504, a timeout or a
/// connection that never opened. One that is not (it creates something: a call) is sent again
/// only where the provider cannot have acted on it, a 429 or a connection that never opened;
/// its transport errors say [`Error::may_have_acted`] where it may have.
pub(super) async fn send(
    provider: ProviderKind,
    operation: &str,
    policy: &RetryPolicy,
    idempotent: bool,
    asked_wait: impl Fn(&reqwest::header::HeaderMap) -> Option<Duration>,
    make: impl Fn() -> reqwest::RequestBuilder,
) -> Result<reqwest::Response, Error> {
    let mut attempt = 1;
    loop {
        let last = attempt >= policy.max_attempts;
        match make().send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let retryable =
                    status == 429 || (idempotent && matches!(status, 500 | 502 | 503 | 504));
                if !retryable || last {
                    return Ok(response);
                }
                let wait = match asked_wait(response.headers()) {
                    Some(asked) if asked > policy.max_delay => return Ok(response),
                    Some(asked) => asked,
                    None => policy.backoff(attempt),
                };
                drop(response);
                policy.pause(wait).await;
            }
            Err(e) => {
                let kind = transport_kind(&e);
                let retryable = match kind {
                    TransportKind::Connect => true,
                    TransportKind::Timeout => idempotent,
                    TransportKind::Other => false,
                };
                if !retryable || last {
                    let error = transport_error(provider, operation, e);
                    return Err(if idempotent {
                        error
                    } else {
                        error.after_create()
                    });
                }
                policy.pause(policy.backoff(attempt)).await;
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
pub(super) fn transport_error(provider: ProviderKind, operation: &str, e: reqwest::Error) -> Error {
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

    #[test]
    fn policies_with_their_own_sleep_are_equal_only_to_themselves() {
        let skip = RetryPolicy::default().sleep_with(|_| std::future::ready(()));
        assert_eq!(skip, skip.clone());
        assert_ne!(skip, RetryPolicy::default());
        assert_ne!(
            skip,
            RetryPolicy::default().sleep_with(|_| std::future::ready(()))
        );
        assert!(format!("{skip:?}").contains("Sleep(custom)"));
    }

    #[test]
    fn the_default_page_cap_is_max_pages_and_never_zero() {
        assert_eq!(HttpConfig::default().max_pages, MAX_PAGES);
        assert_eq!(HttpConfig::default().max_pages(0).max_pages, 1);
    }
}
