//! Near variants of a request that did not verify: what a proxy or framework most often
//! changes, to say what went wrong.

use http::HeaderMap;

use super::{InvalidRequestUrl, RequestUrl};

/// Near variants of a received URL, each with what it would mean if the signature matched it:
/// the ways a deployment most often changes the URL between the provider and the verifier.
/// For diagnosis only: a signature that matches a variant is still a mismatch.
pub fn url_variants(url: &RequestUrl, headers: &HeaderMap) -> Vec<(RequestUrl, &'static str)> {
    let mut out: Vec<(RequestUrl, &'static str)> = Vec::new();
    let mut push = |u: Result<RequestUrl, InvalidRequestUrl>, why: &'static str| {
        if let Ok(u) = u
            && &u != url
            && !out.iter().any(|(o, _)| o == &u)
        {
            out.push((u, why));
        }
    };
    let flipped = match url.scheme() {
        "http" => Some((
            "https",
            "the provider called https but this server saw http: a TLS-terminating proxy; configure the public base URL or trust the proxy's X-Forwarded-Proto",
        )),
        "https" => Some((
            "http",
            "the provider called http but the URL here says https",
        )),
        "ws" => Some((
            "wss",
            "the provider called wss but this server saw ws: a TLS-terminating proxy; configure the public base URL or trust the proxy's X-Forwarded-Proto",
        )),
        "wss" => Some(("ws", "the provider called ws but the URL here says wss")),
        _ => None,
    };
    if let Some((scheme, why)) = flipped {
        push(url.with_scheme(scheme), why);
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
                push(
                    url.with_authority(h).and_then(|u| u.with_scheme(scheme)),
                    why,
                );
            }
        }
    }
    if let Some(port) = header("x-forwarded-port").and_then(|p| p.parse::<u16>().ok()) {
        for scheme in [url.scheme(), "https"] {
            push(
                url.with_authority(&format!("{}:{port}", url.host()))
                    .and_then(|u| u.with_scheme(scheme)),
                "the port the proxy listens on (X-Forwarded-Port): the provider called it; trust the proxy or configure the public base URL with the port",
            );
        }
    }
    if let Some(prefix) = header("x-forwarded-prefix") {
        let prefix = prefix.trim_end_matches('/');
        for scheme in [url.scheme(), "https"] {
            push(
                url.with_path(&format!("{prefix}{}", url.path()))
                    .and_then(|u| u.with_scheme(scheme)),
                "a path prefix the proxy strips (X-Forwarded-Prefix); configure the public base URL with it",
            );
        }
    }
    if url.query().is_some() {
        push(
            Ok(url.without_query()),
            "the URL without its query string: something added query parameters after the provider signed",
        );
    }
    let path = url.path();
    if path.ends_with('/') && path.len() > 1 {
        push(
            url.with_path(path.trim_end_matches('/')),
            "no trailing slash: the URL configured at the provider has none",
        );
    } else {
        push(
            url.with_path(&format!("{path}/")),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_cover_the_usual_proxy_changes() {
        let url: RequestUrl = "http://internal/s?x=1".parse().unwrap();
        let mut h = HeaderMap::new();
        for (k, val) in [
            ("x-forwarded-host", "a.example.com"),
            ("x-forwarded-prefix", "/v"),
            ("x-forwarded-port", "8443"),
        ] {
            h.append(k, val.parse().unwrap());
        }
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
        // A forwarded host that is not a host gives no variant.
        let mut h = HeaderMap::new();
        h.append("x-forwarded-host", "a.example.com/x".parse().unwrap());
        assert!(
            url_variants(&url, &h)
                .iter()
                .all(|(u, _)| !u.as_str().contains("a.example.com"))
        );
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
}
