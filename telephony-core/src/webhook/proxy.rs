//! The public URL a provider called, rebuilt behind proxies, and which proxies to trust.

use std::net::IpAddr;

use http::HeaderMap;
use thiserror::Error;

use super::{InvalidRequestUrl, RequestUrl};

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

/// Rebuilds the URL a provider called, which is what it signed, character for character.
///
/// Behind a TLS-terminating proxy our server sees `http://internal-host/path`, while Twilio
/// signed `https://agent.example.com/path`: verifying against the former fails every request.
/// Either configure the public base URL (exactly as it is configured at the carrier: the
/// carriers sign the URL as written, capital letters and ports included), or trust the
/// proxy's `Forwarded` / `X-Forwarded-Proto`, `-Host`, `-Port` and `-Prefix` headers. The host
/// comes from the `Host` header verbatim, and must be a host and an optional port: a `Host`
/// carrying a path or a fragment is refused. A WebSocket upgrade's URL gets `ws` or `wss`, as
/// the carrier called it.
///
/// ```
/// use http::HeaderMap;
/// use telephony_core::{PublicUrl, TrustedProxies};
///
/// let public = PublicUrl::from_base("https://agent.example.com/voice");
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
    base: Option<String>,
    trusted: TrustedProxies,
    default_scheme: &'static str,
}

/// The public URL could not be rebuilt.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("cannot rebuild the public URL: {0}")]
pub struct PublicUrlError(pub String);

impl PublicUrl {
    /// Every public URL is `base` followed by the request's path and query: the most robust
    /// choice, immune to proxies. Give the base exactly as the carrier has it configured
    /// (`https://Agent.example.com:443/voice` stays that); a base that is not an absolute URL
    /// without a query makes [`resolve`](Self::resolve) fail.
    pub fn from_base(base: impl AsRef<str>) -> PublicUrl {
        PublicUrl {
            base: Some(base.as_ref().to_owned()),
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
    /// request target (the path and query as in the request line, verbatim).
    ///
    /// # Errors
    ///
    /// [`PublicUrlError`] when the base is not a URL, there is no `Host`, or the `Host` (or a
    /// trusted forwarding header) is not a host and an optional port.
    pub fn resolve(
        &self,
        peer: Option<IpAddr>,
        headers: &HeaderMap,
        target: &str,
    ) -> Result<RequestUrl, PublicUrlError> {
        let target = if target.starts_with('/') {
            target.to_owned()
        } else {
            format!("/{target}")
        };
        let websocket = headers
            .get(http::header::UPGRADE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
        let error = |e: InvalidRequestUrl| PublicUrlError(e.to_string());
        let (scheme, authority, prefix) = match &self.base {
            Some(base) => {
                let base = RequestUrl::parse(base).map_err(error)?;
                if base.query().is_some() {
                    return Err(PublicUrlError(format!(
                        "the public base URL {base} has a query string"
                    )));
                }
                (
                    base.scheme().to_ascii_lowercase(),
                    base.authority().to_owned(),
                    base.path().trim_end_matches('/').to_owned(),
                )
            }
            None => self.request_parts(peer, headers)?,
        };
        let scheme = match (scheme.as_str(), websocket) {
            ("http", true) => "ws",
            ("https", true) => "wss",
            (s, _) => s,
        };
        RequestUrl::from_parts(scheme, &authority, &format!("{prefix}{target}")).map_err(error)
    }

    /// The scheme, authority and path prefix a request's headers give.
    fn request_parts(
        &self,
        peer: Option<IpAddr>,
        headers: &HeaderMap,
    ) -> Result<(String, String, String), PublicUrlError> {
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
            // The port the proxy listened on, when the host does not say it and it is not the
            // scheme's own (a client leaves a default port out of `Host`, so the carrier's URL
            // had none).
            let default_port = if scheme == "https" { "443" } else { "80" };
            if let Some(port) = first("x-forwarded-port")
                && port != default_port
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
                if prefix.contains(['?', '#']) {
                    return Err(PublicUrlError(format!(
                        "the X-Forwarded-Prefix {prefix:?} is not a path"
                    )));
                }
            }
        }
        let host = host.ok_or_else(|| PublicUrlError("the request has no Host header".into()))?;
        if scheme != "http" && scheme != "https" {
            return Err(PublicUrlError(format!("unexpected scheme {scheme:?}")));
        }
        Ok((scheme, host, prefix))
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
    fn public_url_from_base_keeps_the_base_as_written() {
        let p = PublicUrl::from_base("https://a.example.com/pre/");
        let u = p.resolve(None, &HeaderMap::new(), "/x/y?b=2&a=1").unwrap();
        assert_eq!(u.as_str(), "https://a.example.com/pre/x/y?b=2&a=1");
        let p = PublicUrl::from_base("https://a.example.com:8443");
        let u = p.resolve(None, &HeaderMap::new(), "x").unwrap();
        assert_eq!(u.as_str(), "https://a.example.com:8443/x");
        // Capital letters and a default port stay: the carrier signs the URL as configured.
        let p = PublicUrl::from_base("https://Agent.Example.com:443/Voice");
        let u = p.resolve(None, &HeaderMap::new(), "/s?who='x'").unwrap();
        assert_eq!(u.as_str(), "https://Agent.Example.com:443/Voice/s?who='x'");
        for bad in [
            "agent.example.com",
            "https://a.example.com/?q=1",
            "https://a/b#",
        ] {
            assert!(
                PublicUrl::from_base(bad)
                    .resolve(None, &HeaderMap::new(), "/s")
                    .is_err(),
                "{bad}"
            );
        }
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

        for (port, expected) in [
            ("443", "https://c.example.com/s"),
            ("8443", "https://c.example.com:8443/s"),
        ] {
            let h = headers(&[
                ("host", "internal"),
                ("x-forwarded-proto", "https"),
                ("x-forwarded-host", "c.example.com"),
                ("x-forwarded-port", port),
            ]);
            let u = PublicUrl::from_headers(TrustedProxies::All)
                .resolve(None, &h, "/s")
                .unwrap();
            assert_eq!(u.as_str(), expected);
        }
        assert!(
            PublicUrl::from_headers(TrustedProxies::All)
                .resolve(None, &HeaderMap::new(), "/s")
                .is_err()
        );
    }

    /// The Host header is kept as sent (its case, its port), and must be a host and an
    /// optional port: one carrying a path or a fragment would let a request signed for one
    /// path verify on another.
    #[test]
    fn the_host_is_verbatim_and_only_a_host() {
        let p = PublicUrl::from_headers(TrustedProxies::None).default_scheme("https");
        let u = p
            .resolve(None, &headers(&[("host", "Agent.Example.com:443")]), "/s")
            .unwrap();
        assert_eq!(u.as_str(), "https://Agent.Example.com:443/s");
        for host in [
            "agent.example.com/plivo/status#",
            "agent.example.com/other",
            "agent.example.com?x=",
            "user@agent.example.com",
            "agent.example.com:80:80",
        ] {
            assert!(
                p.resolve(None, &headers(&[("host", host)]), "/s").is_err(),
                "{host}"
            );
            let forwarded = headers(&[("host", "internal"), ("x-forwarded-host", host)]);
            assert!(
                PublicUrl::from_headers(TrustedProxies::All)
                    .resolve(None, &forwarded, "/s")
                    .is_err(),
                "forwarded {host}"
            );
        }
        let prefix = headers(&[("host", "internal"), ("x-forwarded-prefix", "/a?b")]);
        assert!(
            PublicUrl::from_headers(TrustedProxies::All)
                .resolve(None, &prefix, "/s")
                .is_err()
        );
    }

    #[test]
    fn a_websocket_upgrade_is_ws_or_wss() {
        let h = headers(&[("host", "agent.example.com"), ("upgrade", "websocket")]);
        let u = PublicUrl::from_headers(TrustedProxies::None)
            .default_scheme("https")
            .resolve(None, &h, "/media")
            .unwrap();
        assert_eq!(u.as_str(), "wss://agent.example.com/media");
        let u = PublicUrl::from_base("http://agent.example.com")
            .resolve(None, &h, "/media")
            .unwrap();
        assert_eq!(u.as_str(), "ws://agent.example.com/media");
    }
}
