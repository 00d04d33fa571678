//! Webhooks: the request as received, the public URL the provider called, constant-time
//! comparison, typed rejections with a diagnosis, and replay guards.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderMap, Method};
use thiserror::Error;
use url::Url;

use crate::error::DecodeError;
use crate::id::CallId;
use crate::provider::ProviderKind;

/// A webhook request as it arrived, framework-free: the method, the public URL the provider
/// called (see [`PublicUrl`]), the headers, and the body's raw bytes exactly as sent.
#[derive(Debug, Clone)]
pub struct WebhookRequest {
    /// `GET` or `POST`.
    pub method: Method,
    /// The URL the provider requested, as the provider saw it (scheme, host, port, path, query).
    pub url: Url,
    /// The request headers.
    pub headers: HeaderMap,
    /// The body, byte for byte.
    pub body: Bytes,
}

impl WebhookRequest {
    /// A request.
    pub fn new(method: Method, url: Url, headers: HeaderMap, body: impl Into<Bytes>) -> Self {
        WebhookRequest {
            method,
            url,
            headers,
            body: body.into(),
        }
    }

    /// A `POST` with a form body, as most providers send callbacks. For tests and tools.
    pub fn form_post(url: Url, params: &[(&str, &str)]) -> WebhookRequest {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        WebhookRequest::new(Method::POST, url, headers, body)
    }

    /// A header's value, if present and valid text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the body is a form (`application/x-www-form-urlencoded`).
    pub fn is_form(&self) -> bool {
        self.header("content-type").is_some_and(|ct| {
            ct.split(';').next().is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        })
    }

    /// Whether the body is JSON.
    pub fn is_json(&self) -> bool {
        self.header("content-type").is_some_and(|ct| {
            let media = ct.split(';').next().unwrap_or("").trim();
            media.eq_ignore_ascii_case("application/json") || media.ends_with("+json")
        })
    }

    /// The query string's parameters.
    pub fn query_params(&self) -> FormParams {
        FormParams::parse(self.url.query().unwrap_or("").as_bytes())
    }

    /// The form body's parameters (empty unless the body is a form).
    pub fn body_params(&self) -> FormParams {
        if self.is_form() {
            FormParams::parse(&self.body)
        } else {
            FormParams::default()
        }
    }

    /// The parameters a provider sent: the query for `GET`, the form body for `POST`.
    pub fn params(&self) -> FormParams {
        if self.method == Method::GET {
            self.query_params()
        } else {
            self.body_params()
        }
    }
}

/// Form or query parameters in the order sent, repeated names kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormParams(Vec<(String, String)>);

impl FormParams {
    /// Parses `application/x-www-form-urlencoded` text. Bytes that are not UTF-8 after
    /// decoding are replaced, never an error.
    pub fn parse(input: &[u8]) -> FormParams {
        FormParams(
            url::form_urlencoded::parse(input)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name` if present and not empty.
    pub fn get_nonempty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// The first value of `name`, present and not empty, or a decode error of `what` (the
    /// webhook being parsed, as `provider` sent it) that names the missing parameter.
    pub fn required(
        &self,
        provider: ProviderKind,
        name: &str,
        what: &str,
    ) -> Result<&str, DecodeError> {
        self.get_nonempty(name)
            .ok_or_else(|| DecodeError::new(provider, what, format!("no {name} parameter")))
    }

    /// [`required`](Self::required), read as a [`CallId`].
    pub fn call_id(
        &self,
        provider: ProviderKind,
        name: &str,
        what: &str,
    ) -> Result<CallId, DecodeError> {
        CallId::new(self.required(provider, name, what)?)
            .map_err(|e| DecodeError::new(provider, what, e.to_string()))
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every pair, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for FormParams {
    fn from_iter<T: IntoIterator<Item = (K, V)>>(iter: T) -> Self {
        FormParams(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

/// Compares two byte strings in time that depends only on their lengths, so a signature
/// check does not tell an attacker how many leading bytes were right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Which peers may set `Forwarded` and `X-Forwarded-*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustedProxies {
    /// Nobody: forwarding headers are ignored.
    None,
    /// Every peer. Only right when every request reaches us through a proxy that overwrites
    /// these headers.
    All,
    /// Peers in these networks.
    Networks(Vec<IpNet>),
}

impl TrustedProxies {
    /// Peers in the given networks (`10.0.0.0/8`, `::1/128`, `192.168.1.7`).
    pub fn networks<I, S>(networks: I) -> Result<TrustedProxies, InvalidNetwork>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Ok(TrustedProxies::Networks(
            networks
                .into_iter()
                .map(|s| s.as_ref().parse())
                .collect::<Result<_, _>>()?,
        ))
    }

    /// Loopback and the private ranges (10/8, 172.16/12, 192.168/16, fc00::/7): a proxy on
    /// the same host or network.
    pub fn private() -> TrustedProxies {
        TrustedProxies::networks([
            "127.0.0.0/8",
            "::1/128",
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "fc00::/7",
        ])
        .unwrap_or(TrustedProxies::None)
    }

    /// Whether `peer` is trusted.
    pub fn trusts(&self, peer: Option<IpAddr>) -> bool {
        match self {
            TrustedProxies::None => false,
            TrustedProxies::All => true,
            TrustedProxies::Networks(nets) => {
                peer.is_some_and(|ip| nets.iter().any(|n| n.contains(ip)))
            }
        }
    }
}

/// An IP network: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

/// A network that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid network {0:?}: expected an address with an optional /prefix, such as 10.0.0.0/8")]
pub struct InvalidNetwork(pub String);

impl std::str::FromStr for IpNet {
    type Err = InvalidNetwork;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InvalidNetwork(s.to_owned());
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|&p| p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(IpNet { addr, prefix })
    }
}

impl IpNet {
    /// Whether `ip` is in the network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V6(v6)) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            _ => ip,
        };
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// Rebuilds the URL a provider called, which is what it signed.
///
/// Behind a TLS-terminating proxy our server sees `http://internal-host/path`, while Twilio
/// signed `https://agent.example.com/path`: verifying against the former fails every request.
/// Either configure the public base URL, or trust the proxy's `Forwarded` /
/// `X-Forwarded-Proto`, `-Host`, `-Port` and `-Prefix` headers.
///
/// ```
/// use http::HeaderMap;
/// use telephony_core::{PublicUrl, TrustedProxies};
///
/// let public = PublicUrl::from_base("https://agent.example.com/voice".parse()?);
/// let url = public.resolve(None, &HeaderMap::new(), "/twilio/status?x=1")?;
/// assert_eq!(url.as_str(), "https://agent.example.com/voice/twilio/status?x=1");
///
/// let mut headers = HeaderMap::new();
/// headers.insert("host", "10.0.0.5:8080".parse()?);
/// headers.insert("x-forwarded-proto", "https".parse()?);
/// headers.insert("x-forwarded-host", "agent.example.com".parse()?);
/// let public = PublicUrl::from_headers(TrustedProxies::private());
/// let url = public.resolve(Some("10.0.0.2".parse()?), &headers, "/twilio/status")?;
/// assert_eq!(url.as_str(), "https://agent.example.com/twilio/status");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    base: Option<Url>,
    trusted: TrustedProxies,
    default_scheme: &'static str,
}

/// The public URL could not be rebuilt.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("cannot rebuild the public URL: {0}")]
pub struct PublicUrlError(pub String);

impl PublicUrl {
    /// Every public URL is `base` followed by the request's path and query: the most robust
    /// choice, immune to proxies.
    pub fn from_base(base: Url) -> PublicUrl {
        PublicUrl {
            base: Some(base),
            trusted: TrustedProxies::None,
            default_scheme: "http",
        }
    }

    /// The public URL comes from the request's `Host` and, for trusted peers, the forwarding
    /// headers.
    pub fn from_headers(trusted: TrustedProxies) -> PublicUrl {
        PublicUrl {
            base: None,
            trusted,
            default_scheme: "http",
        }
    }

    /// The scheme assumed when nothing says otherwise (`http` by default; `https` when this
    /// server terminates TLS itself).
    pub fn default_scheme(mut self, scheme: &'static str) -> PublicUrl {
        self.default_scheme = scheme;
        self
    }

    /// The URL the provider called, for a request from `peer` with these headers and this
    /// path and query (as in the request line).
    pub fn resolve(
        &self,
        peer: Option<IpAddr>,
        headers: &HeaderMap,
        path_and_query: &str,
    ) -> Result<Url, PublicUrlError> {
        let path_and_query = if path_and_query.starts_with('/') {
            path_and_query.to_owned()
        } else {
            format!("/{path_and_query}")
        };
        if let Some(base) = &self.base {
            let prefix = base.path().trim_end_matches('/');
            let mut origin = base.clone();
            origin.set_path("");
            origin.set_query(None);
            let text = format!(
                "{}{prefix}{path_and_query}",
                origin.as_str().trim_end_matches('/')
            );
            return Url::parse(&text).map_err(|e| PublicUrlError(format!("{text}: {e}")));
        }
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let mut scheme = self.default_scheme.to_owned();
        let mut host = header("host").map(str::to_owned);
        let mut prefix = String::new();
        if self.trusted.trusts(peer) {
            let forwarded = header("forwarded").map(parse_forwarded).unwrap_or_default();
            let first = |name: &str| {
                header(name)
                    .and_then(|v| v.split(',').next())
                    .map(|v| v.trim().to_owned())
                    .filter(|v| !v.is_empty())
            };
            if let Some(proto) = forwarded.proto.or_else(|| first("x-forwarded-proto")) {
                scheme = proto.to_ascii_lowercase();
            }
            if let Some(h) = forwarded.host.or_else(|| first("x-forwarded-host")) {
                host = Some(h);
            }
            if let Some(port) = first("x-forwarded-port")
                && let Some(h) = &host
                && !has_port(h)
            {
                host = Some(format!("{h}:{port}"));
            }
            if let Some(p) = first("x-forwarded-prefix") {
                prefix = p.trim_end_matches('/').to_owned();
                if !prefix.is_empty() && !prefix.starts_with('/') {
                    prefix.insert(0, '/');
                }
            }
        }
        let host = host.ok_or_else(|| PublicUrlError("the request has no Host header".into()))?;
        if scheme != "http" && scheme != "https" {
            return Err(PublicUrlError(format!("unexpected scheme {scheme:?}")));
        }
        let text = format!("{scheme}://{host}{prefix}{path_and_query}");
        let mut url = Url::parse(&text).map_err(|e| PublicUrlError(format!("{text}: {e}")))?;
        // The port the scheme implies is the same URL; keep the canonical form.
        if url.port_or_known_default() == url.port() && url.port().is_some() {
            let default = if scheme == "https" { 443 } else { 80 };
            if url.port() == Some(default) {
                let _ = url.set_port(None);
            }
        }
        Ok(url)
    }
}

fn has_port(host: &str) -> bool {
    match host.rfind(':') {
        Some(i) => !host.ends_with(']') && host[i + 1..].bytes().all(|b| b.is_ascii_digit()),
        None => false,
    }
}

#[derive(Debug, Default)]
struct Forwarded {
    proto: Option<String>,
    host: Option<String>,
}

/// The first element of an RFC 7239 `Forwarded` header: the proxy nearest the client.
fn parse_forwarded(value: &str) -> Forwarded {
    let mut out = Forwarded::default();
    let first = value.split(',').next().unwrap_or("");
    for pair in first.split(';') {
        let Some((k, v)) = pair.split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches('"').to_owned();
        match k.trim().to_ascii_lowercase().as_str() {
            "proto" if !v.is_empty() => out.proto = Some(v),
            "host" if !v.is_empty() => out.host = Some(v),
            _ => {}
        }
    }
    out
}

/// Why a webhook was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The request carries no signature.
    #[error("no {header} header: the request is not signed")]
    MissingSignature {
        /// The header expected.
        header: &'static str,
    },
    /// The signature does not match the request.
    #[error("the signature does not match{}", match .diagnosis {
        Some(d) => format!(": {d}"),
        None => ": wrong secret, or the URL or body differ from what the provider signed".into(),
    })]
    Mismatch {
        /// What would have matched, when something close does.
        diagnosis: Option<Diagnosis>,
    },
    /// The body does not hash to what the signature covers: it changed after signing.
    #[error("the body does not match its signed hash: {}",
        .diagnosis.unwrap_or("it was changed after signing (re-encoded by a framework or proxy?)"))]
    BodyHashMismatch {
        /// How the body was changed, when a near variant of it matches the hash.
        diagnosis: Option<&'static str>,
    },
    /// The signed time is outside the accepted window.
    #[error(
        "signed at {signed_at} (unix seconds), outside the {tolerance:?} window around now ({now})"
    )]
    Stale {
        /// When the request was signed.
        signed_at: i64,
        /// Now, as used.
        now: i64,
        /// The window.
        tolerance: Duration,
    },
    /// The token has expired.
    #[error("the token expired at {expired_at} (unix seconds); now is {now}")]
    Expired {
        /// When it expired.
        expired_at: i64,
        /// Now, as used.
        now: i64,
    },
    /// A signed token whose signature does not verify with the configured key.
    #[error("the token's signature does not verify: {hint}")]
    TokenMismatch {
        /// What to check.
        hint: String,
    },
    /// A valid token, for another application or account than this one.
    #[error("the token is for another party: {detail}")]
    WrongAudience {
        /// Whose it is, and whose was expected.
        detail: String,
    },
    /// The adapter has no secret to check signatures with.
    #[error("cannot verify webhooks: {setting} is not set")]
    MissingSecret {
        /// The setting that holds the secret.
        setting: &'static str,
    },
    /// The signature, token or a header is malformed.
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// What was malformed.
        what: &'static str,
        /// How.
        detail: String,
    },
    /// The signature uses an algorithm this library does not implement.
    #[error("unsupported signature algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// The request was seen before.
    #[error("replayed: {0} was already used")]
    Replayed(String),
    /// The replay store failed, so the request could not be checked.
    #[error("the replay store failed: {0}")]
    ReplayStore(String),
}

/// A variant of the request that the signature does match, and what that says about the
/// deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    /// The URL the signature matches.
    pub signed_url: String,
    /// Why the URL differs from the one received.
    pub reason: &'static str,
}

impl fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "it matches this request at {}: {}",
            self.signed_url, self.reason
        )
    }
}

/// Near variants of a received URL, each with what it would mean if the signature matched it:
/// the ways a deployment most often changes the URL between the provider and the verifier.
pub fn url_variants(url: &Url, headers: &HeaderMap) -> Vec<(Url, &'static str)> {
    let mut out: Vec<(Url, &'static str)> = Vec::new();
    let mut push = |u: Url, why: &'static str| {
        if &u != url && !out.iter().any(|(o, _)| o == &u) {
            out.push((u, why));
        }
    };
    let flipped = match url.scheme() {
        "http" => Some("https"),
        "https" => Some("http"),
        _ => None,
    };
    if let Some(s) = flipped {
        let mut u = url.clone();
        if u.set_scheme(s).is_ok() {
            let why = if s == "https" {
                "the provider called https but this server saw http: a TLS-terminating proxy; configure the public base URL or trust the proxy's X-Forwarded-Proto"
            } else {
                "the provider called http but the URL here says https"
            };
            push(u, why);
        }
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
    };
    for (name, why) in [
        (
            "x-forwarded-host",
            "another host: the proxy's X-Forwarded-Host; trust the proxy or configure the public base URL",
        ),
        (
            "x-original-host",
            "another host: the proxy's X-Original-Host; configure the public base URL",
        ),
    ] {
        if let Some(h) = header(name) {
            for scheme in ["https", "http"] {
                if let Ok(mut u) = Url::parse(&format!("{scheme}://{h}")) {
                    u.set_path(url.path());
                    u.set_query(url.query());
                    push(u, why);
                }
            }
        }
    }
    if let Some(port) = header("x-forwarded-port").and_then(|p| p.parse::<u16>().ok()) {
        for scheme in [url.scheme(), "https"] {
            let mut u = url.clone();
            let _ = u.set_scheme(scheme);
            if u.set_port(Some(port)).is_ok() {
                push(
                    u,
                    "the port the proxy listens on (X-Forwarded-Port): the provider called it; trust the proxy or configure the public base URL with the port",
                );
            }
        }
    }
    if let Some(prefix) = header("x-forwarded-prefix") {
        let prefix = prefix.trim_end_matches('/');
        for scheme in [url.scheme(), "https"] {
            let mut u = url.clone();
            let _ = u.set_scheme(scheme);
            u.set_path(&format!("{prefix}{}", url.path()));
            push(
                u,
                "a path prefix the proxy strips (X-Forwarded-Prefix); configure the public base URL with it",
            );
        }
    }
    if url.query().is_some() {
        let mut u = url.clone();
        u.set_query(None);
        push(
            u,
            "the URL without its query string: something added query parameters after the provider signed",
        );
    }
    let mut u = url.clone();
    if url.path().ends_with('/') && url.path().len() > 1 {
        u.set_path(url.path().trim_end_matches('/'));
        push(
            u,
            "no trailing slash: the URL configured at the provider has none",
        );
    } else {
        u.set_path(&format!("{}/", url.path()));
        push(
            u,
            "a trailing slash: the URL configured at the provider has one",
        );
    }
    out
}

/// Near variants of a received body, each with what it would mean if the signed hash matched
/// it: the ways frameworks and proxies most often change a body before the verifier sees it.
pub fn body_variants(body: &[u8]) -> Vec<(Vec<u8>, &'static str)> {
    let mut out: Vec<(Vec<u8>, &'static str)> = Vec::new();
    if let Some(stripped) = body
        .strip_suffix(b"\r\n")
        .or_else(|| body.strip_suffix(b"\n"))
    {
        out.push((
            stripped.to_vec(),
            "a trailing newline was added after signing: verify the raw bytes as received",
        ));
    } else {
        let mut longer = body.to_vec();
        longer.push(b'\n');
        out.push((
            longer,
            "a trailing newline was removed after signing: verify the raw bytes as received",
        ));
    }
    if let Some(compact) = compact_json(body)
        && compact != body
    {
        out.push((
            compact,
            "the JSON was re-encoded with other whitespace after signing (a framework parsed and wrote it again): verify the raw bytes as received",
        ));
    }
    out
}

/// `body` without the whitespace outside its strings, if it looks like JSON.
fn compact_json(body: &[u8]) -> Option<Vec<u8>> {
    let first = *body.iter().find(|b| !b.is_ascii_whitespace())?;
    if first != b'{' && first != b'[' {
        return None;
    }
    let mut out = Vec::with_capacity(body.len());
    let (mut in_string, mut escaped) = (false, false);
    for &b in body {
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
            out.push(b);
        } else if !b.is_ascii_whitespace() {
            out.push(b);
        }
    }
    Some(out)
}

/// A request that authenticated, with what a replay guard should remember.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Verified {
    /// A key unique to this delivery (Plivo nonce, Vonage `jti`, Twilio idempotency token).
    /// Seeing it twice means a replay or a provider retry.
    pub replay_key: Option<String>,
    /// How long the key needs remembering: after that, the signature's own time window
    /// rejects the request anyway.
    pub remember_for: Option<Duration>,
}

impl Verified {
    /// A verified request with nothing to remember.
    pub fn new() -> Verified {
        Verified::default()
    }

    /// Sets the replay key.
    pub fn with_replay_key(mut self, key: Option<String>, remember_for: Duration) -> Verified {
        self.remember_for = key.as_ref().map(|_| remember_for);
        self.replay_key = key;
        self
    }
}

/// Remembers replay keys (Plivo nonces, Vonage `jti`s, Twilio idempotency tokens) so a request
/// captured and sent again is refused. The in-memory [`MemoryReplayGuard`] serves one process;
/// a fleet plugs in a shared store.
#[async_trait]
pub trait ReplayGuard: Send + Sync {
    /// Records `key` until `expires_at`. Returns `false` when it was already recorded.
    async fn first_use(
        &self,
        key: &str,
        expires_at: SystemTime,
    ) -> Result<bool, Box<dyn std::error::Error + Send + Sync>>;
}

/// Checks a verified request against a replay guard.
pub async fn check_replay(
    guard: &dyn ReplayGuard,
    verified: &Verified,
    now: SystemTime,
) -> Result<(), WebhookError> {
    let Some(key) = &verified.replay_key else {
        return Ok(());
    };
    let expires = now + verified.remember_for.unwrap_or(Duration::from_secs(3600));
    match guard.first_use(key, expires).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(WebhookError::Replayed(key.clone())),
        Err(e) => Err(WebhookError::ReplayStore(e.to_string())),
    }
}

/// A bounded in-memory [`ReplayGuard`]: expired keys are dropped as new ones arrive, and when
/// it is full the key closest to expiry makes room (a replay of that one could then pass, so
/// size it above the number of keys a signature window can produce).
#[derive(Debug)]
pub struct MemoryReplayGuard {
    capacity: usize,
    state: Mutex<ReplayState>,
}

#[derive(Debug, Default)]
struct ReplayState {
    keys: HashMap<String, SystemTime>,
    by_expiry: BinaryHeap<Reverse<(SystemTime, String)>>,
}

impl MemoryReplayGuard {
    /// A guard holding at most `capacity` keys.
    pub fn new(capacity: usize) -> MemoryReplayGuard {
        MemoryReplayGuard {
            capacity: capacity.max(1),
            state: Mutex::new(ReplayState::default()),
        }
    }

    /// [`ReplayGuard::first_use`] with an explicit clock.
    pub fn first_use_at(&self, key: &str, expires_at: SystemTime, now: SystemTime) -> bool {
        let mut state = match self.state.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        while let Some(Reverse((expiry, _))) = state.by_expiry.peek() {
            if *expiry > now {
                break;
            }
            if let Some(Reverse((expiry, k))) = state.by_expiry.pop()
                && state.keys.get(&k) == Some(&expiry)
            {
                state.keys.remove(&k);
            }
        }
        if state.keys.get(key).is_some_and(|expiry| *expiry > now) {
            return false;
        }
        while state.keys.len() >= self.capacity {
            let Some(Reverse((expiry, k))) = state.by_expiry.pop() else {
                break;
            };
            if state.keys.get(&k) == Some(&expiry) {
                state.keys.remove(&k);
            }
        }
        state.keys.insert(key.to_owned(), expires_at);
        state.by_expiry.push(Reverse((expires_at, key.to_owned())));
        true
    }

    /// Keys held now.
    pub fn len(&self) -> usize {
        self.state.lock().map(|s| s.keys.len()).unwrap_or(0)
    }

    /// Whether no keys are held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for MemoryReplayGuard {
    /// Room for 100 000 keys.
    fn default() -> Self {
        MemoryReplayGuard::new(100_000)
    }
}

#[async_trait]
impl ReplayGuard for MemoryReplayGuard {
    async fn first_use(
        &self,
        key: &str,
        expires_at: SystemTime,
    ) -> Result<bool, Box<dyn std::error::Error + Send + Sync>> {
        Ok(self.first_use_at(key, expires_at, SystemTime::now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn networks() {
        let t = TrustedProxies::networks(["10.0.0.0/8", "2001:db8::/32", "192.168.1.7"]).unwrap();
        assert!(t.trusts(Some("10.1.2.3".parse().unwrap())));
        assert!(t.trusts(Some("::ffff:10.1.2.3".parse().unwrap())));
        assert!(t.trusts(Some("2001:db8::1".parse().unwrap())));
        assert!(t.trusts(Some("192.168.1.7".parse().unwrap())));
        assert!(!t.trusts(Some("192.168.1.8".parse().unwrap())));
        assert!(!t.trusts(None));
        assert!(TrustedProxies::networks(["10.0.0.0/33"]).is_err());
        assert!(TrustedProxies::networks(["bogus"]).is_err());
        assert!(
            "0.0.0.0/0"
                .parse::<IpNet>()
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
    }

    #[test]
    fn public_url_from_base_keeps_prefix_and_query() {
        let p = PublicUrl::from_base("https://a.example.com/pre/".parse().unwrap());
        let u = p.resolve(None, &HeaderMap::new(), "/x/y?b=2&a=1").unwrap();
        assert_eq!(u.as_str(), "https://a.example.com/pre/x/y?b=2&a=1");
        let p = PublicUrl::from_base("https://a.example.com:8443".parse().unwrap());
        let u = p.resolve(None, &HeaderMap::new(), "x").unwrap();
        assert_eq!(u.as_str(), "https://a.example.com:8443/x");
    }

    #[test]
    fn public_url_from_forwarding_headers_only_for_trusted_peers() {
        let h = headers(&[
            ("host", "internal:8080"),
            ("x-forwarded-proto", "https, http"),
            ("x-forwarded-host", "a.example.com, internal"),
            ("x-forwarded-prefix", "/voice/"),
        ]);
        let p = PublicUrl::from_headers(TrustedProxies::private());
        let trusted = p
            .resolve(Some("127.0.0.1".parse().unwrap()), &h, "/s?q=1")
            .unwrap();
        assert_eq!(trusted.as_str(), "https://a.example.com/voice/s?q=1");
        let untrusted = p
            .resolve(Some("8.8.8.8".parse().unwrap()), &h, "/s?q=1")
            .unwrap();
        assert_eq!(untrusted.as_str(), "http://internal:8080/s?q=1");

        let h = headers(&[
            ("host", "internal"),
            (
                "forwarded",
                "for=1.2.3.4;proto=https;host=\"b.example.com:8443\", for=5.6.7.8",
            ),
            ("x-forwarded-proto", "http"),
        ]);
        let u = PublicUrl::from_headers(TrustedProxies::All)
            .resolve(None, &h, "/s")
            .unwrap();
        assert_eq!(u.as_str(), "https://b.example.com:8443/s");

        let h = headers(&[
            ("host", "internal"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "c.example.com"),
            ("x-forwarded-port", "443"),
        ]);
        let u = PublicUrl::from_headers(TrustedProxies::All)
            .resolve(None, &h, "/s")
            .unwrap();
        assert_eq!(u.as_str(), "https://c.example.com/s");
        assert!(
            PublicUrl::from_headers(TrustedProxies::All)
                .resolve(None, &HeaderMap::new(), "/s")
                .is_err()
        );
    }

    #[test]
    fn variants_cover_the_usual_proxy_changes() {
        let url: Url = "http://internal/s?x=1".parse().unwrap();
        let h = headers(&[
            ("x-forwarded-host", "a.example.com"),
            ("x-forwarded-prefix", "/v"),
            ("x-forwarded-port", "8443"),
        ]);
        let v: Vec<String> = url_variants(&url, &h)
            .iter()
            .map(|(u, _)| u.to_string())
            .collect();
        for expected in [
            "https://internal/s?x=1",
            "https://a.example.com/s?x=1",
            "http://internal/v/s?x=1",
            "https://internal/v/s?x=1",
            "http://internal/s",
            "http://internal/s/?x=1",
            "https://internal:8443/s?x=1",
        ] {
            assert!(v.contains(&expected.to_string()), "{expected} not in {v:?}");
        }
    }

    #[test]
    fn replay_guard_remembers_until_expiry_and_stays_bounded() {
        let g = MemoryReplayGuard::new(3);
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let later = |s| t0 + Duration::from_secs(s);
        assert!(g.first_use_at("a", later(10), t0));
        assert!(!g.first_use_at("a", later(10), later(5)));
        assert!(
            g.first_use_at("a", later(30), later(11)),
            "expired keys may be used again"
        );
        assert!(g.first_use_at("b", later(40), later(12)));
        assert!(g.first_use_at("c", later(50), later(12)));
        assert!(g.first_use_at("d", later(60), later(12)));
        assert_eq!(g.len(), 3);
        assert!(!g.first_use_at("d", later(60), later(13)));
        assert!(!g.first_use_at("c", later(60), later(13)));
    }

    #[test]
    fn body_variants_undo_what_frameworks_do() {
        let v = body_variants(b"{\n  \"a\": \"x y\",\n  \"b\": [1, 2]\n}\n");
        assert_eq!(v[0].0, b"{\n  \"a\": \"x y\",\n  \"b\": [1, 2]\n}");
        assert_eq!(v[1].0, br#"{"a":"x y","b":[1,2]}"#);
        let v = body_variants(br#"{"a":"q\"  w"}"#);
        assert_eq!(v.len(), 1, "already compact; only the newline variant");
        assert_eq!(v[0].0, b"{\"a\":\"q\\\"  w\"}\n");
        assert_eq!(body_variants(b"a=1&b=2").len(), 1);
    }

    #[test]
    fn form_params_keep_order_and_repeats() {
        let p = FormParams::parse(b"b=2&a=1&b=3&c=&d=%F0%9F%93%9E+x");
        assert_eq!(p.get("b"), Some("2"));
        assert_eq!(p.get_all("b").collect::<Vec<_>>(), ["2", "3"]);
        assert_eq!(p.get("c"), Some(""));
        assert_eq!(p.get_nonempty("c"), None);
        assert_eq!(p.get("d"), Some("📞 x"));
        let bad = FormParams::parse(b"x=%FF%FE");
        assert_eq!(bad.get("x").map(|v| v.chars().count()), Some(2));
    }

    #[test]
    fn required_parameters_name_what_is_missing() {
        const P: ProviderKind = ProviderKind::new("acme", "Acme");
        let p = FormParams::parse(b"Call=c-1&Empty=&Spaced=a+b");
        assert_eq!(p.required(P, "Call", "status callback"), Ok("c-1"));
        assert_eq!(
            p.call_id(P, "Call", "status callback").unwrap().as_str(),
            "c-1"
        );
        for name in ["Empty", "Absent"] {
            assert_eq!(
                p.required(P, name, "status callback")
                    .unwrap_err()
                    .to_string(),
                format!("Acme: cannot read status callback: no {name} parameter")
            );
        }
        let e = p.call_id(P, "Spaced", "inbound call").unwrap_err();
        assert_eq!((e.what.as_str(), e.provider), ("inbound call", P));
    }
}
