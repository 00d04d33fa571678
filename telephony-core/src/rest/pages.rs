//! Following a listing's pages: only on the configured API, never in a loop, never for ever.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

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
    /// credentials never leave for a host a response named. A next page that was already read
    /// (its URL, or an answer the same as one already read: an API that ignores the page
    /// asked for), or more pages than [`HttpConfig::max_pages`](super::HttpConfig::max_pages),
    /// is an [`Error::Page`], never part of the list.
    ///
    /// Without the items told apart, a page already read comes back unseen when the API wraps
    /// it anew (a new next link, a request id): an adapter lists through
    /// [`pages_by`](Self::pages_by), which knows the items apart and never lists one twice, and
    /// the contract's `a_next_page_that_repeats_is_an_error` holds it to that.
    pub async fn pages<P, T>(
        &self,
        base: &Url,
        read: impl FnMut(P) -> (Vec<T>, Next),
    ) -> Result<Vec<T>, Error>
    where
        P: DeserializeOwned,
    {
        self.pages_by(base, |_: &T| None::<()>, read).await
    }

    /// [`pages`](Self::pages), with `key` telling the items apart (a number's id): an item
    /// already listed is not listed again (a listing by offset shifts when the account changes
    /// between pages), and a page of nothing but items already listed is the API serving a page
    /// already read again: an [`Error::Page`]
    /// ([`PageProblem::Repeated`]), like a link back. Items `key` gives `None` are all kept.
    pub async fn pages_by<P, T, K>(
        &self,
        base: &Url,
        key: impl Fn(&T) -> Option<K>,
        mut read: impl FnMut(P) -> (Vec<T>, Next),
    ) -> Result<Vec<T>, Error>
    where
        P: DeserializeOwned,
        K: Hash + Eq,
    {
        let max = self.client().config().max_pages;
        let page_error = |problem| {
            Error::Page(PageError::new(
                self.client().api().provider(),
                self.operation(),
                problem,
            ))
        };
        let repeated = |shown: &str| {
            page_error(PageProblem::Repeated {
                link: shown.chars().take(200).collect(),
            })
        };
        let mut url = self.first_url().clone();
        // How the page being read was named: the link, or the URL the adapter built.
        let mut shown = url.to_string();
        let mut read_already = HashSet::new();
        let mut answers = HashSet::new();
        let mut listed = HashSet::new();
        let mut items = Vec::new();
        while read_already.len() < max {
            read_already.insert(url.clone());
            let answer = self.success_at(&url).await?;
            if !answers.insert(fingerprint(&answer.body)) {
                return Err(repeated(&shown));
            }
            let (got, next) = read(self.read(&answer)?);
            let on_page = got.len();
            let before = items.len();
            items.extend(
                got.into_iter()
                    .filter(|item| key(item).is_none_or(|k| listed.insert(k))),
            );
            if on_page > 0 && items.len() == before {
                return Err(repeated(&shown));
            }
            let next = match next {
                Next::Done => return Ok(items),
                Next::Link(link) => {
                    let next = next_page_url(base, &link).map_err(page_error)?;
                    shown = link;
                    next
                }
                Next::Url(next) => {
                    shown = next.to_string();
                    next
                }
            };
            if read_already.contains(&next) {
                return Err(repeated(&shown));
            }
            url = next;
        }
        Err(page_error(PageProblem::TooManyPages { max }))
    }
}

/// A page's answer, to know it again: two pages of a listing that moves never answer the same
/// bytes.
fn fingerprint(body: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    body.hash(&mut h);
    h.finish()
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
    use std::sync::atomic::{AtomicU32, Ordering};

    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

    use super::*;
    use crate::rest::HttpConfig;
    use crate::rest::client::tests::client_with;

    /// Page `n` of `/numbers` holds the numbers `n` and `n + 1`: each page new, the second
    /// overlapping the first by one, as a listing by offset does when a number is rented
    /// between two pages.
    struct Overlapping(AtomicU32);

    impl Respond for Overlapping {
        fn respond(&self, _: &Request) -> ResponseTemplate {
            let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
            ResponseTemplate::new(200).set_body_json(serde_json::json!([n, n + 1]))
        }
    }

    async fn numbers(respond: impl Respond + 'static, times: u64) -> MockServer {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/numbers"))
            .respond_with(respond)
            .expect(times)
            .mount(&server)
            .await;
        server
    }

    fn problem(err: &Error) -> Option<&PageProblem> {
        match err {
            Error::Page(p) => Some(&p.problem),
            _ => None,
        }
    }

    /// A URL the adapter builds must not bring it back to a page it read, and counts
    /// against the cap like a link.
    #[tokio::test]
    async fn urls_the_adapter_builds_are_guarded_too() {
        let server = numbers(Overlapping(AtomicU32::new(0)), 4).await;
        let base: Url = server.uri().parse().unwrap();
        let first = base.join("/numbers?index=1").unwrap();
        let rest = client_with(HttpConfig::default().max_pages(3));
        let request = rest.get(first.clone(), "list numbers");
        let err = request
            .pages(&base, |page: Vec<u32>| (page, Next::Url(first.clone())))
            .await
            .unwrap_err();
        assert!(
            matches!(problem(&err), Some(PageProblem::Repeated { .. })),
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
        assert_eq!(
            problem(&err),
            Some(&PageProblem::TooManyPages { max: 3 }),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "Acme list numbers: {}",
                PageProblem::TooManyPages { max: 3 }
            )
        );
    }

    /// A `meta.next` that names the same page every time (Plivo's, in issue 18): an error at
    /// the second page, not a request per page up to the cap.
    #[tokio::test]
    async fn a_next_link_that_repeats_is_an_error_at_once() {
        let server = numbers(Overlapping(AtomicU32::new(10)), 2).await;
        let base: Url = server.uri().parse().unwrap();
        let rest = client_with(HttpConfig::default());
        let err = rest
            .get(base.join("/numbers?offset=0").unwrap(), "list numbers")
            .pages(&base, |page: Vec<u32>| {
                (page, Next::link(Some("/numbers?offset=20".into())))
            })
            .await
            .unwrap_err();
        assert_eq!(
            problem(&err),
            Some(&PageProblem::Repeated {
                link: "/numbers?offset=20".into()
            }),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "Acme list numbers: the next page \"/numbers?offset=20\" repeats a page already read"
        );
    }

    /// An API that ignores the page asked for answers the same page to every new URL: the
    /// second answer is an error, whatever the URL, so nothing is listed twice.
    #[tokio::test]
    async fn the_same_answer_to_a_new_url_is_an_error() {
        let same = ResponseTemplate::new(200).set_body_json(serde_json::json!([7, 8]));
        let server = numbers(same, 2).await;
        let base: Url = server.uri().parse().unwrap();
        let rest = client_with(HttpConfig::default());
        let mut index = 1;
        let err = rest
            .get(base.join("/numbers?index=1").unwrap(), "list numbers")
            .pages(&base, |page: Vec<u32>| {
                index += 1;
                let next = base.join(&format!("/numbers?index={index}")).unwrap();
                (page, Next::Url(next))
            })
            .await
            .unwrap_err();
        assert!(
            matches!(problem(&err), Some(PageProblem::Repeated { link }) if link.ends_with("index=2")),
            "{err}"
        );
    }

    /// With the items told apart: one listed on an earlier page is not listed again, and a
    /// page of nothing but those (a page already read, in a new wrapper) is an error.
    #[tokio::test]
    async fn items_told_apart_are_never_listed_twice() {
        let server = numbers(Overlapping(AtomicU32::new(0)), 3).await;
        let base: Url = server.uri().parse().unwrap();
        let rest = client_with(HttpConfig::default());
        let mut pages = 0;
        let listed = rest
            .get(base.join("/numbers?index=1").unwrap(), "list numbers")
            .pages_by(
                &base,
                |n: &u32| Some(*n),
                |page: Vec<u32>| {
                    pages += 1;
                    let next = match pages {
                        3 => Next::Done,
                        p => Next::Url(base.join(&format!("/numbers?index={}", p + 1)).unwrap()),
                    };
                    (page, next)
                },
            )
            .await
            .unwrap();
        // [1, 2], [2, 3], [3, 4]: each number once, in order.
        assert_eq!(listed, [1, 2, 3, 4]);

        // The second page holds the first's numbers again, in another order and wrapper.
        struct Again(AtomicU32);
        impl Respond for Again {
            fn respond(&self, _: &Request) -> ResponseTemplate {
                let body = match self.0.fetch_add(1, Ordering::SeqCst) {
                    0 => serde_json::json!({"page": 1, "items": [1, 2]}),
                    _ => serde_json::json!({"page": 2, "items": [2, 1]}),
                };
                ResponseTemplate::new(200).set_body_json(body)
            }
        }
        #[derive(serde::Deserialize)]
        struct Page {
            items: Vec<u32>,
        }
        let server = numbers(Again(AtomicU32::new(0)), 2).await;
        let base: Url = server.uri().parse().unwrap();
        let mut index = 1;
        let err = rest
            .get(base.join("/numbers?index=1").unwrap(), "list numbers")
            .pages_by(
                &base,
                |n: &u32| Some(*n),
                |page: Page| {
                    index += 1;
                    let next = base.join(&format!("/numbers?index={index}")).unwrap();
                    (page.items, Next::Url(next))
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(problem(&err), Some(PageProblem::Repeated { .. })),
            "{err}"
        );
    }
}
