//! The REST rules every adapter keeps, against a wiremock fake of its carrier.
//!
//! Each rule is a public async function that takes a [`RestCarrier`] (where the carrier's
//! endpoints are, what it answers, how to build the adapter against a base URL) and panics
//! when the adapter breaks it. [`rest_contract!`](crate::rest_contract) turns them into one
//! `#[tokio::test]` each, so an adapter's `tests/rest.rs` runs them all in a few lines:
//!
//! ```ignore
//! fn carrier() -> RestCarrier { /* Twilio's paths, bodies and adapter */ }
//!
//! telephony_testkit::rest_contract!(carrier(), follows_links);
//! ```
//!
//! The rules go through [`TelephonyProvider`], the interface hosts hold: placing a call (a
//! request that creates something), reading one (a read), and listing the account's numbers
//! (pages). No rule sleeps through a retry: the adapter is built with [`Waits::http`], whose
//! retry policy writes each wait down and returns at once, and the rules read the waits back.
//! A timeout is a fake that does not answer for far longer than the client waits, so only
//! the client's own timeout ends the request.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use telephony_core::rest::{HttpConfig, RetryPolicy};
use telephony_core::{
    CallId, Error, OutboundCall, PageProblem, TelephonyProvider, TransportKind, Url,
};
use wiremock::matchers::{any, method, path, query_param};
use wiremock::{Mock, MockBuilder, MockServer, Request, Respond, ResponseTemplate};

/// One carrier, as the REST rules see it: what differs between carriers, and nothing else.
#[derive(Debug, Clone)]
pub struct RestCarrier {
    /// The provider's name, as its errors start: `Twilio`.
    pub name: &'static str,
    /// The adapter with every base URL it has at `base`, and these HTTP settings.
    pub adapter: fn(base: Url, http: HttpConfig) -> Arc<dyn TelephonyProvider>,
    /// A call to place ([`TelephonyProvider::initiate_call`]) that the adapter accepts.
    pub outbound: OutboundCall,
    /// Where the call is placed, and the carrier's answer when it is.
    pub create: Endpoint,
    /// A call to read ([`TelephonyProvider::call_status`]).
    pub call: CallId,
    /// Where it is read (the first request a status makes), and the carrier's answer.
    pub read: Endpoint,
    /// The account's numbers ([`TelephonyProvider::phone_numbers`]).
    pub numbers: Listing,
    /// The carrier's error body for `status`, carrying `message` where the carrier writes its
    /// message (Twilio's `{code, message, more_info}`, Plivo's `{api_id, error}`, Vonage's
    /// problem details).
    pub error_body: fn(status: u16, message: &str) -> serde_json::Value,
    /// What a 401 tells the host to check: `TWILIO_AUTH_TOKEN`.
    pub auth_setting: &'static str,
    /// The credentials the adapter holds, none of which may ever print.
    pub secrets: Vec<String>,
}

/// An endpoint: a method and a path, and the carrier's answer when it succeeds.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `GET`, `POST`, …
    pub method: &'static str,
    /// The path, from the API's root: `/2010-04-01/Accounts/AC…/Calls.json`.
    pub path: String,
    /// The success status: 200, 201.
    pub status: u16,
    /// The success body.
    pub body: serde_json::Value,
}

impl Endpoint {
    /// An endpoint answering `status` with `body`.
    pub fn new(
        method: &'static str,
        path: impl Into<String>,
        status: u16,
        body: serde_json::Value,
    ) -> Endpoint {
        Endpoint {
            method,
            path: path.into(),
            status,
            body,
        }
    }

    fn mock(&self) -> MockBuilder {
        Mock::given(method(self.method)).and(path(self.path.as_str()))
    }

    fn success(&self) -> ResponseTemplate {
        ResponseTemplate::new(self.status).set_body_json(&self.body)
    }
}

/// The account's numbers, page by page.
#[derive(Debug, Clone)]
pub struct Listing {
    /// The listing's path, from the API's root.
    pub path: String,
    /// A page holding one number. With `Some(link)` the page says another follows: at `link`
    /// (a path and query from the API's root) for a carrier that follows links, wherever the
    /// adapter counts to for one that pages by index (which ignores `link`).
    pub page: fn(next: Option<&str>) -> serde_json::Value,
}

/// The waits a retry policy asked for, written down instead of slept.
#[derive(Debug, Clone, Default)]
pub struct Waits(Arc<Mutex<Vec<Duration>>>);

/// The request timeout of [`Waits::http`]: never reached by a fake that answers.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The request timeout the timeout rules set, against a fake that answers after [`NEVER`].
pub const SHORT_TIMEOUT: Duration = Duration::from_millis(200);

/// How long a fake takes to answer a request that must time out: far beyond
/// [`SHORT_TIMEOUT`].
pub const NEVER: Duration = Duration::from_secs(60);

impl Waits {
    /// The default retry policy (3 attempts, from 250 ms), its waits written here.
    pub fn policy(&self) -> RetryPolicy {
        let log = self.0.clone();
        RetryPolicy::default().sleep_with(move |wait| {
            log.lock().expect("waits").push(wait);
            std::future::ready(())
        })
    }

    /// HTTP settings for tests: [`REQUEST_TIMEOUT`], and [`policy`](Self::policy).
    pub fn http(&self) -> HttpConfig {
        HttpConfig::default()
            .request_timeout(REQUEST_TIMEOUT)
            .retry(self.policy())
    }

    /// The waits so far, in order.
    pub fn taken(&self) -> Vec<Duration> {
        self.0.lock().expect("waits").clone()
    }
}

/// Runs every REST rule as a `#[tokio::test]` of its own, for the carrier the expression
/// gives ([`RestCarrier`]). With `follows_links`, also the rules for listings that follow the
/// links their pages give (Twilio's `next_page_uri`, Plivo's `meta.next`).
///
/// ```ignore
/// telephony_testkit::rest_contract!(carrier(), follows_links);
/// ```
///
/// The test crate needs tokio with its `macros` and `rt` features.
#[macro_export]
macro_rules! rest_contract {
    ($carrier:expr) => {
        $crate::rest_contract!(@rules rest_contract, $carrier;
            create_is_not_retried_after_a_server_error,
            create_is_not_retried_after_a_timeout,
            create_is_retried_after_a_429_as_long_as_asked,
            create_is_retried_when_the_connection_never_opened,
            reads_retry_server_errors,
            reads_retry_timeouts_up_to_the_limit,
            reads_back_off_with_jitter_that_doubles,
            a_read_waits_as_long_as_retry_after_asks,
            a_429_asking_too_long_a_wait_is_returned_with_the_wait,
            a_401_says_what_to_check_and_no_secret,
            a_403_is_an_auth_error_with_a_hint,
            a_client_error_is_final,
            an_error_without_a_message_says_what_the_body_was,
            an_unreadable_answer_is_a_decode_error,
            a_listing_page_is_retried_like_a_read,
            a_listing_that_never_ends_is_an_error);
    };
    ($carrier:expr, follows_links) => {
        $crate::rest_contract!($carrier);
        $crate::rest_contract!(@rules rest_contract_links, $carrier;
            a_next_page_keeps_the_base_url_prefix,
            a_next_page_on_another_host_is_refused,
            a_next_page_that_points_back_is_an_error);
    };
    (@rules $module:ident, $carrier:expr; $($rule:ident),+) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[::tokio::test]
                async fn $rule() {
                    $crate::contract::rest::$rule(&$carrier).await;
                }
            )+
        }
    };
}

fn adapter(
    carrier: &RestCarrier,
    server: &MockServer,
    http: HttpConfig,
) -> Arc<dyn TelephonyProvider> {
    (carrier.adapter)(server.uri().parse().expect("the fake's URL"), http)
}

fn error(carrier: &RestCarrier, status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json((carrier.error_body)(status, message))
}

fn page(listing: &Listing, next: Option<&str>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json((listing.page)(next))
}

/// One rule's fake carrier, and the waits its adapter's retries asked for.
struct Scene<'c> {
    carrier: &'c RestCarrier,
    server: MockServer,
    waits: Waits,
}

impl<'c> Scene<'c> {
    async fn new(carrier: &'c RestCarrier) -> Scene<'c> {
        Scene {
            carrier,
            server: MockServer::start().await,
            waits: Waits::default(),
        }
    }

    /// The adapter, its retries waiting in `self.waits`.
    fn adapter(&self) -> Arc<dyn TelephonyProvider> {
        adapter(self.carrier, &self.server, self.waits.http())
    }

    /// The adapter, with a timeout the fake's [`NEVER`] goes past.
    fn impatient(&self) -> Arc<dyn TelephonyProvider> {
        let http = self.waits.http().request_timeout(SHORT_TIMEOUT);
        adapter(self.carrier, &self.server, http)
    }

    /// `endpoint` answers `answer`, and must be asked exactly `times`.
    async fn answers(&self, endpoint: &Endpoint, answer: ResponseTemplate, times: u64) {
        endpoint
            .mock()
            .respond_with(answer)
            .expect(times)
            .mount(&self.server)
            .await;
    }

    /// `endpoint` answers `failure` `times` times, then succeeds once.
    async fn fails_then_succeeds(
        &self,
        endpoint: &Endpoint,
        failure: ResponseTemplate,
        times: u64,
    ) {
        endpoint
            .mock()
            .respond_with(failure)
            .up_to_n_times(times)
            .expect(times)
            .with_priority(1)
            .mount(&self.server)
            .await;
        self.answers_after(endpoint).await;
    }

    async fn answers_after(&self, endpoint: &Endpoint) {
        endpoint
            .mock()
            .respond_with(endpoint.success())
            .expect(1)
            .with_priority(2)
            .mount(&self.server)
            .await;
    }

    /// The error of reading the call from a fake that answers `answer`, once.
    async fn read_error(&self, answer: ResponseTemplate) -> Error {
        self.answers(&self.carrier.read, answer, 1).await;
        self.adapter()
            .call_status(&self.carrier.call)
            .await
            .expect_err("the read fails")
    }

    /// What must never print: the adapter's credentials, and what each request carried in
    /// its `Authorization` header (Basic's encoded pair, a bearer token).
    async fn secrets(&self) -> Vec<String> {
        let mut secrets = self.carrier.secrets.clone();
        for request in self.server.received_requests().await.unwrap_or_default() {
            if let Some(credential) = request
                .headers
                .get("authorization")
                .and_then(|h| h.to_str().ok())
                .and_then(|h| h.split_once(' '))
                .map(|(_, credential)| credential.to_owned())
            {
                secrets.push(credential);
            }
        }
        secrets
    }

    fn retries(&self) -> usize {
        self.waits.taken().len()
    }
}

fn backoff(retry: u32) -> (Duration, Duration) {
    let full = RetryPolicy::default().base_delay * (1 << (retry - 1));
    (full / 2, full)
}

fn is_transport(err: &Error, kind: TransportKind) -> bool {
    matches!(err, Error::Transport(t) if t.kind == kind)
}

/// A 500 may come after the carrier placed the call: trying again could ring someone twice,
/// so it is final, and says the call may have been placed.
pub async fn create_is_not_retried_after_a_server_error(carrier: &RestCarrier) {
    let scene = Scene::new(carrier).await;
    let failure = error(carrier, 500, "internal trouble");
    scene.answers(&carrier.create, failure, 1).await;
    let err = scene
        .adapter()
        .initiate_call(&carrier.outbound)
        .await
        .expect_err("a 500 is an error");
    assert_eq!(err.http_status(), Some(500), "{err}");
    assert!(err.may_have_acted() && !err.is_retryable(), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("internal trouble") && text.contains("check before repeating"),
        "{text}"
    );
    assert_eq!(scene.retries(), 0);
}

/// A request that was sent and never answered may have placed the call: final too.
pub async fn create_is_not_retried_after_a_timeout(carrier: &RestCarrier) {
    let scene = Scene::new(carrier).await;
    let slow = carrier.create.success().set_delay(NEVER);
    scene.answers(&carrier.create, slow, 1).await;
    let err = scene
        .impatient()
        .initiate_call(&carrier.outbound)
        .await
        .expect_err("no answer is an error");
    assert!(is_transport(&err, TransportKind::Timeout), "{err}");
    assert!(err.may_have_acted() && !err.is_retryable(), "{err}");
    assert_eq!(scene.retries(), 0);
}

/// A 429 was refused before anything happened: safe to send again, after the wait the
/// carrier asked for, with the same credentials.
pub async fn create_is_retried_after_a_429_as_long_as_asked(carrier: &RestCarrier) {
    let scene = Scene::new(carrier).await;
    let refused = error(carrier, 429, "too many requests").insert_header("retry-after", "2");
    scene.fails_then_succeeds(&carrier.create, refused, 1).await;
    scene
        .adapter()
        .initiate_call(&carrier.outbound)
        .await
        .expect("placed on the second attempt");
    let asked = [Duration::from_secs(2)];
    assert_eq!(scene.waits.taken(), asked, "Retry-After, not a backoff");
    let sent = scene.server.received_requests().await.expect("recording");
    let auth: Vec<_> = sent
        .iter()
        .map(|r| r.headers.get("authorization"))
        .collect();
    assert_eq!(auth.len(), 2);
    assert!(
        auth[0].is_some() && auth[0] == auth[1],
        "every attempt carries the same credentials"
    );
}

/// A connection that never opened sent nothing: retried, and still retryable for the host.
pub async fn create_is_retried_when_the_connection_never_opened(carrier: &RestCarrier) {
    // A loopback port nobody listens on: bound, then let go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let waits = Waits::default();
    let nowhere = format!("http://127.0.0.1:{port}").parse().expect("a URL");
    let err = (carrier.adapter)(nowhere, waits.http())
        .initiate_call(&carrier.outbound)
        .await
        .expect_err("nobody listens");
    assert!(is_transport(&err, TransportKind::Connect), "{err}");
    assert!(err.is_retryable() && !err.may_have_acted(), "{err}");
    let target = format!("could not connect to http://127.0.0.1:{port}");
    assert!(err.to_string().contains(&target), "{err}");
    assert_eq!(waits.taken().len(), 2, "3 attempts in all");
}

/// A read is retried after a server error, and the retry succeeds.
pub async fn reads_retry_server_errors(carrier: &RestCarrier) {
    for status in [500, 502, 503, 504] {
        let scene = Scene::new(carrier).await;
        let failure = error(carrier, status, "try again");
        scene.fails_then_succeeds(&carrier.read, failure, 1).await;
        scene
            .adapter()
            .call_status(&carrier.call)
            .await
            .unwrap_or_else(|e| panic!("after a {status}: {e}"));
        assert_eq!(scene.retries(), 1, "after a {status}");
    }
}

/// A read that gets no answer is sent again, up to the policy's attempts; the error is a
/// timeout the host may retry.
pub async fn reads_retry_timeouts_up_to_the_limit(carrier: &RestCarrier) {
    let scene = Scene::new(carrier).await;
    let slow = carrier.read.success().set_delay(NEVER);
    scene.answers(&carrier.read, slow, 3).await;
    let err = scene
        .impatient()
        .call_status(&carrier.call)
        .await
        .expect_err("no answer is an error");
    assert!(is_transport(&err, TransportKind::Timeout), "{err}");
    assert!(err.is_retryable() && !err.may_have_acted(), "{err}");
    assert_eq!(scene.retries(), 2, "3 attempts in all");
}

/// Without a `Retry-After`, each wait is a random share (half to all) of a backoff that
/// doubles: 250 ms, then 500 ms.
pub async fn reads_back_off_with_jitter_that_doubles(carrier: &RestCarrier) {
    let scene = Scene::new(carrier).await;
    let busy = error(carrier, 503, "busy");
    scene.fails_then_succeeds(&carrier.read, busy, 2).await;
    scene
        .adapter()
        .call_status(&carrier.call)
        .await
        .expect("the third attempt succeeds");
    let taken = scene.waits.taken();
    assert_eq!(taken.len(), 2, "{taken:?}");
    for (retry, wait) in (1..).zip(&taken) {
        let (least, most) = backoff(retry);
        assert!(
            (least..=most).contains(wait),
            "retry {retry} waited {wait:?}, not within {least:?}..={most:?}"
        );
    }
}

/// A 429's `Retry-After` is the wait, in place of the backoff.
pub async fn a_read_waits_as_long_as_retry_after_asks(carrier: &RestCarrier) {
    let scene = Scene::new(carrier).await;
    let refused = error(carrier, 429, "too many requests").insert_header("retry-after", "1");
    scene.fails_then_succeeds(&carrier.read, refused, 1).await;
    scene
        .adapter()
        .call_status(&carrier.call)
        .await
        .expect("the second attempt succeeds");
    assert_eq!(scene.waits.taken(), [Duration::from_secs(1)]);
}

/// A `Retry-After` longer than the policy waits ends the retries: the 429 is returned at once,
/// retryable, with the wait the carrier asked for and what to do.
pub async fn a_429_asking_too_long_a_wait_is_returned_with_the_wait(carrier: &RestCarrier) {
    let scene = Scene::new(carrier).await;
    let refused = error(carrier, 429, "too many requests").insert_header("retry-after", "120");
    let err = scene.read_error(refused).await;
    assert!(err.is_retryable() && !err.is_auth(), "{err}");
    let api = err.api().expect("an API error");
    let asked = (429, Some(Duration::from_secs(120)));
    assert_eq!((api.status, api.retry_after), asked);
    let text = err.to_string();
    let hint = format!(
        "rate limited: slow down, or ask {} to raise the account's limits",
        carrier.name
    );
    assert!(text.contains(&hint), "{text}");
    assert_eq!(scene.retries(), 0);
}

/// A 401 is not retried, says which settings to check, and prints no credential, nor does
/// the adapter's `Debug`.
pub async fn a_401_says_what_to_check_and_no_secret(carrier: &RestCarrier) {
    let scene = Scene::new(carrier).await;
    let err = scene.read_error(error(carrier, 401, "Authenticate")).await;
    let auth = err.is_auth() && !err.is_retryable() && !err.is_config();
    assert!(auth, "{err}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("{} answered 401", carrier.name))
            && text.contains("Authenticate")
            && text.contains(carrier.auth_setting),
        "{text}"
    );
    let shown = format!("{err} {err:?} {:?}", scene.adapter());
    for secret in scene.secrets().await {
        assert!(!shown.contains(&secret), "{secret} in {shown}");
    }
}

/// A 403 is the credentials' or the account's, not the request's: not retried, with a hint.
pub async fn a_403_is_an_auth_error_with_a_hint(carrier: &RestCarrier) {
    let scene = Scene::new(carrier).await;
    let err = scene.read_error(error(carrier, 403, "Forbidden")).await;
    assert!(err.is_auth() && !err.is_retryable(), "{err}");
    let hint = err.api().and_then(|a| a.hint.as_deref());
    assert!(hint.is_some(), "a 403 says what may be wrong: {err}");
}

/// A 400 is the request's fault: sent once, and not for the host to retry.
pub async fn a_client_error_is_final(carrier: &RestCarrier) {
    let scene = Scene::new(carrier).await;
    let err = scene.read_error(error(carrier, 400, "Bad Request")).await;
    assert_eq!(err.http_status(), Some(400), "{err}");
    let last = !err.is_retryable() && !err.is_auth() && !err.may_have_acted();
    assert!(last, "{err}");
    assert!(err.to_string().contains("Bad Request"), "{err}");
}

/// An error the carrier did not write (a proxy's page, nothing at all) says what came back.
pub async fn an_error_without_a_message_says_what_the_body_was(carrier: &RestCarrier) {
    let html = "<html>gateway says no</html>";
    let quoted = format!("no error message (body: {html:?})");
    for (body, expected) in [(html, quoted.as_str()), ("", "no error body")] {
        let scene = Scene::new(carrier).await;
        let err = scene
            .read_error(ResponseTemplate::new(400).set_body_string(body))
            .await;
        let message = err.api().map(|a| a.message.as_str());
        assert_eq!(message, Some(expected), "{err}");
    }
}

/// A success whose body is not what the carrier documents is a decode error that names the
/// carrier and quotes the body.
pub async fn an_unreadable_answer_is_a_decode_error(carrier: &RestCarrier) {
    let scene = Scene::new(carrier).await;
    let html = ResponseTemplate::new(carrier.read.status).set_body_string("<html>oops</html>");
    let err = scene.read_error(html).await;
    assert!(matches!(err, Error::Decode(_)), "{err}");
    let text = err.to_string();
    let named = text.starts_with(&format!("{}: cannot read", carrier.name));
    assert!(named && text.contains("oops"), "{text}");
}

/// Every page of a listing is a read: retried after a server error.
pub async fn a_listing_page_is_retried_like_a_read(carrier: &RestCarrier) {
    let scene = Scene::new(carrier).await;
    let listing = Endpoint::new(
        "GET",
        carrier.numbers.path.as_str(),
        200,
        (carrier.numbers.page)(None),
    );
    let failure = error(carrier, 500, "try again");
    scene.fails_then_succeeds(&listing, failure, 1).await;
    let numbers = scene
        .adapter()
        .phone_numbers()
        .await
        .expect("the second attempt succeeds");
    assert_eq!(numbers.len(), 1, "{numbers:?}");
    assert_eq!(scene.retries(), 1);
}

/// Answers every page with one more, never the same.
struct Endless {
    listing: Listing,
    served: AtomicUsize,
}

impl Respond for Endless {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.served.fetch_add(1, Ordering::SeqCst) + 1;
        let next = format!("{}?contract_page={n}", self.listing.path);
        page(&self.listing, Some(&next))
    }
}

/// Answers with a page whose next link is the page asked for.
struct PointsBack(Listing);

impl Respond for PointsBack {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let url = &request.url;
        let itself = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        page(&self.0, Some(&itself))
    }
}

/// The listing (at `prefix` and its path) answers with `respond`, asked exactly `times`.
async fn listing_answers(
    scene: &Scene<'_>,
    prefix: &str,
    respond: impl Respond + 'static,
    times: u64,
) {
    Mock::given(method("GET"))
        .and(path(format!("{prefix}{}", scene.carrier.numbers.path)))
        .respond_with(respond)
        .up_to_n_times(times)
        .expect(times)
        .with_priority(2)
        .mount(&scene.server)
        .await;
}

fn page_problem(err: &Error) -> Option<&PageProblem> {
    match err {
        Error::Page(p) => Some(&p.problem),
        _ => None,
    }
}

/// A listing still going after the page cap is an error, not a partial list.
pub async fn a_listing_that_never_ends_is_an_error(carrier: &RestCarrier) {
    const CAP: usize = 5;
    let scene = Scene::new(carrier).await;
    let endless = Endless {
        listing: carrier.numbers.clone(),
        served: AtomicUsize::new(0),
    };
    listing_answers(&scene, "", endless, CAP as u64).await;
    let err = adapter(carrier, &scene.server, scene.waits.http().max_pages(CAP))
        .phone_numbers()
        .await
        .expect_err("a listing that never ends is an error");
    let capped = PageProblem::TooManyPages { max: CAP };
    assert_eq!(page_problem(&err), Some(&capped), "{err}");
    assert!(err.to_string().contains("list numbers"), "{err}");
}

/// Behind a base URL with a path (a proxy, a gateway), the next page keeps the prefix: a
/// page's link is from the API's root.
pub async fn a_next_page_keeps_the_base_url_prefix(carrier: &RestCarrier) {
    const PREFIX: &str = "/gateway/carrier";
    let scene = Scene::new(carrier).await;
    let listing = &carrier.numbers;
    Mock::given(method("GET"))
        .and(path(format!("{PREFIX}{}", listing.path)))
        .and(query_param("contract_page", "2"))
        .respond_with(page(listing, None))
        .expect(1)
        .with_priority(1)
        .mount(&scene.server)
        .await;
    let next = format!("{}?contract_page=2", listing.path);
    listing_answers(&scene, PREFIX, page(listing, Some(&next)), 1).await;
    let base = format!("{}{PREFIX}", scene.server.uri());
    let numbers = (carrier.adapter)(base.parse().expect("a URL"), scene.waits.http())
        .phone_numbers()
        .await
        .expect("two pages");
    assert_eq!(numbers.len(), 2, "{numbers:?}");
}

/// A page that names another host is not followed: the credentials never go there.
pub async fn a_next_page_on_another_host_is_refused(carrier: &RestCarrier) {
    let elsewhere = MockServer::start().await;
    Mock::given(any())
        .respond_with(page(&carrier.numbers, None))
        .expect(0)
        .mount(&elsewhere)
        .await;
    let host = elsewhere.uri().trim_start_matches("http://").to_owned();
    let listing = &carrier.numbers.path;
    for link in [
        format!("http://{host}{listing}?page=1"),
        format!("//{host}{listing}?page=1"),
        format!("/\\{host}{listing}?page=1"),
    ] {
        let scene = Scene::new(carrier).await;
        listing_answers(&scene, "", page(&carrier.numbers, Some(&link)), 1).await;
        let err = scene
            .adapter()
            .phone_numbers()
            .await
            .expect_err("another host is refused");
        let refused = matches!(page_problem(&err), Some(PageProblem::OtherOrigin { .. }));
        assert!(refused, "{link}: {err}");
        assert!(!err.is_retryable() && !err.is_auth(), "{err}");
        let text = err.to_string();
        assert!(text.contains("list numbers"), "{text}");
        for secret in scene.secrets().await {
            assert!(!text.contains(&secret), "{secret} in {text}");
        }
    }
}

/// A page whose next link is a page already read is an error, never a loop.
pub async fn a_next_page_that_points_back_is_an_error(carrier: &RestCarrier) {
    let scene = Scene::new(carrier).await;
    listing_answers(&scene, "", PointsBack(carrier.numbers.clone()), 1).await;
    let err = scene
        .adapter()
        .phone_numbers()
        .await
        .expect_err("a loop is an error");
    let repeated = matches!(page_problem(&err), Some(PageProblem::Repeated { .. }));
    assert!(repeated, "{err}");
}
