//! The carrier's HTTP side: the REST faults it can inject, the webhooks it sends to the host,
//! and the loopback server it serves on.

use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use telephony::Url;

use super::Carrier;

/// A REST operation, for fault knobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// Placing a call.
    CreateCall,
    /// Reading a call.
    FetchCall,
    /// Hanging up or changing a live call.
    UpdateCall,
    /// Numbers, applications, configuration.
    Numbers,
    /// Reading the account's balance.
    Balance,
    /// Every operation.
    Any,
}

/// How an injected fault answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// A 429 with `Retry-After` in whole seconds.
    RateLimited {
        /// Seconds.
        retry_after: u64,
    },
    /// This status, with the provider's error body.
    Status(u16),
}

/// A request the emulator sends to the host, signed.
#[derive(Debug, Clone)]
pub(crate) struct Webhook {
    pub(crate) method: String,
    pub(crate) url: Url,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Vec<u8>,
}

impl Webhook {
    /// As a host receives it. (A header the HTTP types refuse is left out: the emulators
    /// write only valid ones.)
    pub(crate) fn into_request(self) -> telephony::WebhookRequest {
        let method = http::Method::from_bytes(self.method.as_bytes()).unwrap_or(http::Method::POST);
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                headers.append(name, value);
            }
        }
        telephony::WebhookRequest::new(method, exact(&self.url), headers, self.body)
    }
}

impl Carrier {
    /// The fault to answer `op` with, if one is queued; then the configured delay.
    pub(crate) async fn fault(&self, op: Operation) -> Option<(u16, Option<u64>)> {
        let (delay, fault) = {
            let mut s = self.lock();
            let delay = s.settings.delay;
            let found = s
                .faults
                .iter()
                .position(|(o, _, n)| *n > 0 && (*o == op || *o == Operation::Any));
            let fault = found.map(|i| {
                let entry = &mut s.faults[i];
                entry.2 -= 1;
                let f = entry.1;
                if entry.2 == 0 {
                    s.faults.remove(i);
                }
                f
            });
            (delay, fault)
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        fault.map(|f| match f {
            Fault::RateLimited { retry_after } => (429, Some(retry_after)),
            Fault::Status(s) => (s, None),
        })
    }

    /// Sends a webhook; the host's status, or `None` when unreachable.
    pub(crate) async fn send(&self, hook: &Webhook) -> Option<(u16, String)> {
        let method =
            reqwest::Method::from_bytes(hook.method.as_bytes()).unwrap_or(reqwest::Method::POST);
        let mut req = self
            .http
            .request(method, hook.url.clone())
            .body(hook.body.clone());
        for (k, v) in &hook.headers {
            req = req.header(*k, v);
        }
        let resp = req.send().await.ok()?;
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap_or_default();
        Some((status, body))
    }
}

/// An error answer with a `Retry-After` when asked.
pub(crate) fn fault_response(status: u16, retry_after: Option<u64>, body: String) -> Response {
    let mut r = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        body,
    )
        .into_response();
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    if let Some(s) = retry_after
        && let Ok(v) = HeaderValue::from_str(&s.to_string())
    {
        r.headers_mut().insert("retry-after", v);
    }
    r
}

/// The `user:password` of a Basic `Authorization` header.
pub(crate) fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine as _;
    let v = headers.get("authorization")?.to_str().ok()?;
    let encoded = v
        .strip_prefix("Basic ")
        .or_else(|| v.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// A loopback port for a fake, and its base URL.
pub(crate) async fn bind() -> std::io::Result<(tokio::net::TcpListener, Url)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let url =
        Url::parse(&format!("http://{addr}/")).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok((listener, url))
}

/// The URL the fake is about to request, as the server will receive it: the string a
/// signature covers. (A URL that could not be a request's, with credentials or a fragment,
/// keeps only what a request carries.)
pub(crate) fn exact(url: &Url) -> telephony::RequestUrl {
    telephony::RequestUrl::try_from(url).unwrap_or_else(|_| {
        let mut plain = url.clone();
        plain.set_fragment(None);
        let _ = plain.set_username("");
        let _ = plain.set_password(None);
        telephony::RequestUrl::try_from(&plain)
            .unwrap_or_else(|_| telephony::RequestUrl::parse("http://invalid/").expect("valid"))
    })
}

/// Serves `router` on `listener` for as long as the runtime runs, counting its connections.
/// Every answer carries the carrier's `Date` ([`Fake::clock_skew`](super::Fake::clock_skew)).
pub(crate) fn serve(carrier: &Arc<Carrier>, listener: tokio::net::TcpListener, router: Router) {
    let clock = Arc::downgrade(carrier);
    let router = router.layer(axum::middleware::map_response(move |response: Response| {
        let clock = clock.clone();
        async move { dated(clock.upgrade().as_deref(), response) }
    }));
    let _ = carrier
        .connections
        .set(crate::serve_counted(listener, router));
}

/// `response` with the carrier's clock in its `Date` header: this machine's time shifted by
/// the configured skew (the server's own `Date` where there is none).
fn dated(carrier: Option<&Carrier>, mut response: Response) -> Response {
    let Some(carrier) = carrier else {
        return response;
    };
    let (offset, ahead) = carrier.lock().settings.clock_skew;
    if offset.is_zero() {
        return response;
    }
    let now = SystemTime::now();
    let shifted = if ahead {
        now.checked_add(offset)
    } else {
        now.checked_sub(offset)
    };
    if let Some(date) = shifted
        && let Ok(value) = HeaderValue::from_str(&httpdate::fmt_http_date(date))
    {
        response
            .headers_mut()
            .insert(axum::http::header::DATE, value);
    }
    response
}
