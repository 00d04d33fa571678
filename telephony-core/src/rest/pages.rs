//! Following a listing's pages: only on the configured API, never in a loop, never for ever.

use std::collections::HashSet;

use serde::de::DeserializeOwned;
use url::Url;

use super::client::{RestApi, RestRequest};
use crate::error::{Error, PageError, PageProblem};

/// The most pages a listing reads unless [`HttpConfig::max_pages`](super::HttpConfig::max_pages)
/// says otherwise: far more than any account has, so a server that keeps answering with a
/// next page cannot keep a client there.
pub const MAX_PAGES: usize = 1000;

/// Where a listing goes after a page, as the adapter reads it from the page.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Next {
    /// The listing is complete.
    Done,
    /// The link the page gave (Twilio's `next_page_uri`, Plivo's `meta.next`): followed only
    /// on the configured API's origin and path ([`next_page_url`]).
    Link(String),
    /// A URL the adapter built itself (Vonage's next `index`).
    Url(Url),
}

impl Next {
    /// The link a page gave, if it gave one that is not blank; else the end.
    pub fn link(link: Option<String>) -> Next {
        match link {
            Some(l) if !l.trim().is_empty() => Next::Link(l),
            _ => Next::Done,
        }
    }
}

impl<A: RestApi> RestRequest<'_, A> {
    /// Reads every page of a listing, this request being the first: `read` takes a page's
    /// items and says where the next one is. Every page is a read, retried as one.
    ///
    /// A link is followed on `base`'s origin and path prefix only ([`next_page_url`]), so the
    /// credentials never leave for a host a response named. A next page that was already read,
    /// or more pages than [`HttpConfig::max_pages`](super::HttpConfig::max_pages), is an
    /// [`Error::Page`], never part of the list.
    pub async fn pages<P, T>(
        &self,
        base: &Url,
        mut read: impl FnMut(P) -> (Vec<T>, Next),
    ) -> Result<Vec<T>, Error>
    where
        P: DeserializeOwned,
    {
        let max = self.client().config().max_pages;
        let page_error = |problem| {
            Error::Page(PageError::new(
                self.client().api().provider(),
                self.operation(),
                problem,
            ))
        };
        let mut url = self.first_url().clone();
        let mut read_already = HashSet::new();
        let mut items = Vec::new();
        while read_already.len() < max {
            read_already.insert(url.clone());
            let page: P = self.decode_at(&url).await?;
            let (got, next) = read(page);
            items.extend(got);
            let (next, shown) = match next {
                Next::Done => return Ok(items),
                Next::Link(link) => (next_page_url(base, &link).map_err(page_error)?, link),
                Next::Url(next) => {
                    let shown = next.to_string();
                    (next, shown)
                }
            };
            if read_already.contains(&next) {
                return Err(page_error(PageProblem::Repeated {
                    link: shown.chars().take(200).collect(),
                }));
            }
            url = next;
        }
        Err(page_error(PageProblem::TooManyPages { max }))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_blank_link_ends_the_listing() {
        assert_eq!(Next::link(None), Next::Done);
        assert_eq!(Next::link(Some("  ".into())), Next::Done);
        assert_eq!(
            Next::link(Some("/p?x=1".into())),
            Next::Link("/p?x=1".into())
        );
    }
}

#[cfg(test)]
mod listing {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::rest::HttpConfig;
    use crate::rest::client::tests::client_with;

    /// A URL the adapter builds must not bring it back to a page it read, and counts
    /// against the cap like a link.
    #[tokio::test]
    async fn urls_the_adapter_builds_are_guarded_too() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/numbers"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([1])))
            .mount(&server)
            .await;
        let base: Url = server.uri().parse().unwrap();
        let first = base.join("/numbers?index=1").unwrap();
        let rest = client_with(HttpConfig::default().max_pages(3));
        let request = rest.get(first.clone(), "list numbers");
        let err = request
            .pages(&base, |page: Vec<u32>| (page, Next::Url(first.clone())))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Page(p) if matches!(p.problem, PageProblem::Repeated { .. })),
            "{err}"
        );
        let mut index = 1;
        let err = request
            .pages(&base, |page: Vec<u32>| {
                index += 1;
                let next = base.join(&format!("/numbers?index={index}")).unwrap();
                (page, Next::Url(next))
            })
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Page(p) if p.problem == PageProblem::TooManyPages { max: 3 }),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "Acme list numbers: {}",
                PageProblem::TooManyPages { max: 3 }
            )
        );
        let all = request
            .pages(&base, |page: Vec<u32>| (page, Next::Done))
            .await
            .unwrap();
        assert_eq!(all, [1]);
    }
}
