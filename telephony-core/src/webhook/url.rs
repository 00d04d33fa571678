//! The URL a webhook was sent to, exactly as the provider requested it.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;
use url::Url;

/// The URL of a webhook request, kept as the text the provider signed: the scheme, the
/// authority (what the `Host` header says) and the request target, verbatim.
///
/// No parser normalizes it. The carriers' SDKs hash the URL string as given, so a host's
/// capital letters, an explicit default port, an empty path and every character of the query
/// stay as they came (a WHATWG parser such as [`Url`] lower-cases the host, drops `:443`, adds
/// a `/` path and percent-encodes `'` in a query, and each of those breaks a signature).
///
/// What it does check: the authority is a host and an optional port, nothing else (a `Host`
/// header carrying a path, a fragment or credentials is refused, so a request signed for one
/// path cannot be presented as another), and the target holds no fragment, space or control
/// character.
///
/// ```
/// use telephony_core::RequestUrl;
///
/// let url: RequestUrl = "https://Agent.Example.com:443/hook?who='x'".parse()?;
/// assert_eq!(url.as_str(), "https://Agent.Example.com:443/hook?who='x'"); // as given
/// assert_eq!((url.host(), url.port()), ("Agent.Example.com", Some(443)));
/// assert_eq!((url.path(), url.query()), ("/hook", Some("who='x'")));
///
/// let from_request = RequestUrl::from_parts("https", "agent.example.com", "/hook?a=1")?;
/// assert_eq!(from_request.as_str(), "https://agent.example.com/hook?a=1");
/// assert!(RequestUrl::from_parts("https", "agent.example.com/other#", "/hook").is_err());
/// # Ok::<(), telephony_core::InvalidRequestUrl>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RequestUrl {
    text: String,
    /// Where the authority starts: after `scheme://`.
    authority_start: usize,
    /// Where the authority ends and the target (path, query) starts.
    target_start: usize,
    /// Where the `?` of the query is, if there is one.
    query_mark: Option<usize>,
}

/// A URL that cannot be a webhook's: what is wrong, and the text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("not a webhook URL: {reason}: {text:?}")]
pub struct InvalidRequestUrl {
    /// What is wrong.
    pub reason: &'static str,
    /// The text given (shortened when long).
    pub text: String,
}

impl InvalidRequestUrl {
    fn new(reason: &'static str, text: &str) -> InvalidRequestUrl {
        let text = match text.char_indices().nth(200) {
            Some((i, _)) => format!("{}…", &text[..i]),
            None => text.to_owned(),
        };
        InvalidRequestUrl { reason, text }
    }
}

impl RequestUrl {
    /// Reads an absolute URL, `scheme://host[:port][/path][?query]`, keeping every character.
    ///
    /// # Errors
    ///
    /// [`InvalidRequestUrl`] when it has no scheme, when the authority is anything but a host
    /// and an optional port (credentials included), or when it holds a fragment, a space or a
    /// control character.
    pub fn parse(text: &str) -> Result<RequestUrl, InvalidRequestUrl> {
        let bad = |reason| InvalidRequestUrl::new(reason, text);
        let (scheme, rest) = text.split_once("://").ok_or_else(|| bad("no scheme://"))?;
        check_scheme(scheme).map_err(bad)?;
        let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        check_authority(&rest[..authority_len]).map_err(bad)?;
        check_target(&rest[authority_len..]).map_err(bad)?;
        let authority_start = scheme.len() + 3;
        let target_start = authority_start + authority_len;
        let query_mark = text[target_start..].find('?').map(|i| target_start + i);
        Ok(RequestUrl {
            text: text.to_owned(),
            authority_start,
            target_start,
            query_mark,
        })
    }

    /// The URL of a request from its parts as received: the scheme the server (or a trusted
    /// proxy) says, the `Host` header verbatim, and the request target (`/path?query`, as in
    /// the request line).
    ///
    /// # Errors
    ///
    /// [`InvalidRequestUrl`] when the authority is anything but a host and an optional port,
    /// or the target does not start with `/` or holds a fragment, a space or a control
    /// character.
    pub fn from_parts(
        scheme: &str,
        authority: &str,
        target: &str,
    ) -> Result<RequestUrl, InvalidRequestUrl> {
        let text = format!("{scheme}://{authority}{target}");
        let bad = |reason| InvalidRequestUrl::new(reason, &text);
        check_scheme(scheme).map_err(bad)?;
        check_authority(authority).map_err(bad)?;
        if !target.starts_with('/') {
            return Err(bad("the request target does not start with /"));
        }
        check_target(target).map_err(bad)?;
        let authority_start = scheme.len() + 3;
        let target_start = authority_start + authority.len();
        let query_mark = target.find('?').map(|i| target_start + i);
        Ok(RequestUrl {
            text,
            authority_start,
            target_start,
            query_mark,
        })
    }

    /// The URL, exactly as received: what the provider signed.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The scheme, as given (`https`).
    pub fn scheme(&self) -> &str {
        &self.text[..self.authority_start - 3]
    }

    /// The authority, `host[:port]`, as given.
    pub fn authority(&self) -> &str {
        &self.text[self.authority_start..self.target_start]
    }

    /// The host, as given (an IPv6 address keeps its brackets).
    pub fn host(&self) -> &str {
        let authority = self.authority();
        match port_colon(authority) {
            Some(i) => &authority[..i],
            None => authority,
        }
    }

    /// The port, when the authority names one (`:443` included).
    pub fn port(&self) -> Option<u16> {
        let authority = self.authority();
        port_colon(authority).and_then(|i| authority[i + 1..].parse().ok())
    }

    /// The path, as given: empty when the URL has none (`https://host?x=1`).
    pub fn path(&self) -> &str {
        &self.text[self.target_start..self.query_mark.unwrap_or(self.text.len())]
    }

    /// The query after `?`, as given (still percent-encoded), when there is a `?`.
    pub fn query(&self) -> Option<&str> {
        self.query_mark.map(|i| &self.text[i + 1..])
    }

    /// The path and query: what follows the authority.
    pub fn target(&self) -> &str {
        &self.text[self.target_start..]
    }

    /// `scheme://authority`.
    pub fn origin(&self) -> &str {
        &self.text[..self.target_start]
    }

    /// The same URL with another scheme (`http` for `https`: what a TLS-terminating proxy
    /// makes of it).
    pub fn with_scheme(&self, scheme: &str) -> Result<RequestUrl, InvalidRequestUrl> {
        RequestUrl::parse(&format!(
            "{scheme}://{}",
            &self.text[self.authority_start..]
        ))
    }

    /// The same URL with another authority (`host[:port]`).
    pub fn with_authority(&self, authority: &str) -> Result<RequestUrl, InvalidRequestUrl> {
        check_authority(authority).map_err(|reason| InvalidRequestUrl::new(reason, authority))?;
        RequestUrl::parse(&format!("{}://{authority}{}", self.scheme(), self.target()))
    }

    /// The same URL with another path (and the same query).
    pub fn with_path(&self, path: &str) -> Result<RequestUrl, InvalidRequestUrl> {
        let query = self.query().map(|q| format!("?{q}")).unwrap_or_default();
        RequestUrl::parse(&format!("{}{path}{query}", self.origin()))
    }

    /// The same URL without its query.
    pub fn without_query(&self) -> RequestUrl {
        let end = self.query_mark.unwrap_or(self.text.len());
        RequestUrl {
            text: self.text[..end].to_owned(),
            query_mark: None,
            ..*self
        }
    }

    /// The URL as a WHATWG parser reads it (host lower-cased, default port dropped, the query
    /// percent-encoded): for making requests to it, never for checking a signature.
    ///
    /// # Errors
    ///
    /// When the parser refuses it.
    pub fn to_url(&self) -> Result<Url, url::ParseError> {
        Url::parse(&self.text)
    }
}

/// Where the `:` before the port is in an authority, if it has a port.
fn port_colon(authority: &str) -> Option<usize> {
    let after_host = if authority.starts_with('[') {
        authority.find(']')? + 1
    } else {
        0
    };
    authority[after_host..].find(':').map(|i| after_host + i)
}

fn check_scheme(scheme: &str) -> Result<(), &'static str> {
    let mut chars = scheme.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) {
        Ok(())
    } else {
        Err("the scheme is not a scheme")
    }
}

/// A host (a name, an IPv4 address, or an IPv6 address in brackets) and an optional port of
/// digits: nothing else, so no path, query, fragment or credentials can ride in a `Host`.
fn check_authority(authority: &str) -> Result<(), &'static str> {
    if authority.is_empty() {
        return Err("no host");
    }
    if authority.contains('@') {
        return Err("the authority carries credentials");
    }
    let (host, port) = match port_colon(authority) {
        Some(i) => (&authority[..i], Some(&authority[i + 1..])),
        None => (authority, None),
    };
    if let Some(v6) = host.strip_prefix('[') {
        let inside = v6.strip_suffix(']').ok_or("an unclosed [ in the host")?;
        let (address, zone) = match inside.split_once("%25") {
            Some((a, z)) => (a, Some(z)),
            None => (inside, None),
        };
        if address.is_empty()
            || !address
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err("the host is not an IPv6 address");
        }
        if zone.is_some_and(|z| z.is_empty() || !z.chars().all(is_unreserved)) {
            return Err("the IPv6 zone is malformed");
        }
    } else if host.is_empty() || !host.chars().all(is_unreserved) {
        return Err("the host is not a host name or address");
    }
    match port {
        None => Ok(()),
        Some(p)
            if (1..=5).contains(&p.len())
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u32>().is_ok_and(|n| n <= 65535) =>
        {
            Ok(())
        }
        Some(_) => Err("the port is not a port number"),
    }
}

fn is_unreserved(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~".contains(c)
}

/// A path and query as they may appear in a request line: no fragment, no whitespace, no
/// control characters.
fn check_target(target: &str) -> Result<(), &'static str> {
    if target.contains('#') {
        return Err("a fragment (#), which no request carries");
    }
    if target.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("a space or control character in the path or query");
    }
    Ok(())
}

impl FromStr for RequestUrl {
    type Err = InvalidRequestUrl;

    fn from_str(s: &str) -> Result<RequestUrl, InvalidRequestUrl> {
        RequestUrl::parse(s)
    }
}

impl TryFrom<&str> for RequestUrl {
    type Error = InvalidRequestUrl;

    fn try_from(s: &str) -> Result<RequestUrl, InvalidRequestUrl> {
        RequestUrl::parse(s)
    }
}

impl TryFrom<&Url> for RequestUrl {
    type Error = InvalidRequestUrl;

    /// The URL's serialization, which the WHATWG parser has already normalized.
    fn try_from(url: &Url) -> Result<RequestUrl, InvalidRequestUrl> {
        RequestUrl::parse(url.as_str())
    }
}

impl TryFrom<Url> for RequestUrl {
    type Error = InvalidRequestUrl;

    fn try_from(url: Url) -> Result<RequestUrl, InvalidRequestUrl> {
        RequestUrl::parse(url.as_str())
    }
}

impl fmt::Display for RequestUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for RequestUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestUrl({:?})", self.text)
    }
}

impl AsRef<str> for RequestUrl {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_every_character_a_parser_would_change() {
        for text in [
            "https://Example.COM/hook",
            "https://host:443/a/b",
            "https://host?x=1",
            "https://host",
            "https://host/p?q='quoted'&x=a%20b+c&y=%7e",
            "https://host/p?",
            "http://[::1]:8080/x",
            "https://h/ünï?ç=é",
            "wss://agent.example.com/media",
        ] {
            let url = RequestUrl::parse(text).unwrap();
            assert_eq!(url.as_str(), text);
            assert_eq!(url.to_string(), text);
            assert_eq!(format!("{}{}", url.origin(), url.target()), text);
        }
        let url = RequestUrl::parse("https://host?x=1").unwrap();
        assert_eq!(
            (url.path(), url.query(), url.port()),
            ("", Some("x=1"), None)
        );
        let url = RequestUrl::parse("http://[::1]:8080/x?").unwrap();
        assert_eq!((url.host(), url.port()), ("[::1]", Some(8080)));
        assert_eq!((url.path(), url.query()), ("/x", Some("")));
    }

    #[test]
    fn an_authority_is_a_host_and_a_port_and_nothing_else() {
        for authority in [
            "agent.example.com/plivo/status#",
            "agent.example.com/other",
            "agent.example.com?x=1",
            "agent.example.com#frag",
            "user:pass@agent.example.com",
            "agent.example.com:",
            "agent.example.com:99999",
            "agent.example.com:8o",
            "agent example.com",
            "",
            "[::1",
            "[zz::1]",
            "a\\b",
            "a%2fb",
        ] {
            assert!(
                RequestUrl::from_parts("https", authority, "/hook").is_err(),
                "{authority:?}"
            );
        }
        for authority in [
            "agent.example.com",
            "Agent.Example.COM:443",
            "10.0.0.5:8080",
            "[2001:db8::1]:443",
            "[fe80::1%25eth0]",
            "localhost",
        ] {
            let url = RequestUrl::from_parts("https", authority, "/hook").unwrap();
            assert_eq!(url.authority(), authority);
        }
    }

    #[test]
    fn a_target_has_no_fragment_space_or_control_character() {
        for target in ["/a#b", "/a b", "/a\tb", "/a\u{0}", "hook"] {
            assert!(
                RequestUrl::from_parts("https", "h", target).is_err(),
                "{target:?}"
            );
        }
        assert!(RequestUrl::parse("https://h/a#").is_err());
        assert!(RequestUrl::parse("no-scheme/a").is_err());
        assert!(RequestUrl::parse("1http://h/a").is_err());
    }

    #[test]
    fn variants_change_one_part_only() {
        let url = RequestUrl::parse("http://Internal:8080/s/?x=1").unwrap();
        assert_eq!(
            url.with_scheme("https").unwrap().as_str(),
            "https://Internal:8080/s/?x=1"
        );
        assert_eq!(
            url.with_authority("a.example.com").unwrap().as_str(),
            "http://a.example.com/s/?x=1"
        );
        assert!(url.with_authority("a.example.com/x").is_err());
        assert_eq!(
            url.with_path("/s").unwrap().as_str(),
            "http://Internal:8080/s?x=1"
        );
        assert_eq!(url.without_query().as_str(), "http://Internal:8080/s/");
        assert_eq!(url.without_query().query(), None);
    }
}
