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
//! request that creates something), reading one (a read, and a call the carrier does not
//! know), hanging it up (ended, already ended, failed), its cost (priced or not yet),
//! listing the account's numbers (pages), and pointing a number's inbound calls at a URL
//! (what was there before, nothing to change, a number not the account's, and the read-only
//! drift report, which never writes). No rule sleeps through a retry: the adapter is built with [`Waits::http`], whose
//! retry policy writes each wait down and returns at once, and the rules read the waits back.
//! A timeout is a fake that does not answer for far longer than the client waits, so only
//! the client's own timeout ends the request.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use telephony_core::rest::{HttpConfig, RetryPolicy};
use telephony_core::{
    CallId, E164, Error, HangupOutcome, OutboundCall, PageProblem, TelephonyProvider, Url,
};
use wiremock::matchers::{any, method, path, query_param};
use wiremock::{Mock, MockBuilder, MockServer, Request, Respond, ResponseTemplate};

pub use super::account::*;
pub use super::control::*;
pub use super::rest_calls::*;

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
    /// How the call is hung up ([`TelephonyProvider::hangup`]).
    pub hangup: Hangup,
    /// Where its cost is read ([`TelephonyProvider::call_cost`]).
    pub cost: Cost,
    /// The account's numbers ([`TelephonyProvider::phone_numbers`]).
    pub numbers: Listing,
    /// What pointing a number at a URL reads and writes
    /// ([`TelephonyProvider::configure_inbound`]).
    pub inbound: Inbound,
    /// Where the account's balance is read and what it says
    /// ([`TelephonyProvider::balance`]); `None` for a carrier without a balance API.
    pub balance: Option<BalanceRead>,
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
    /// The success body; `null` for none (a 204).
    pub body: serde_json::Value,
}

/// Hanging up [`RestCarrier::call`], which reads as live at [`RestCarrier::read`].
#[derive(Debug, Clone)]
pub struct Hangup {
    /// The request that ends the call, and the carrier's answer when it does.
    pub endpoint: Endpoint,
    /// What that answer means: [`HangupOutcome::Ended`], or [`HangupOutcome::Canceled`]
    /// where the carrier says it canceled the call.
    pub outcome: HangupOutcome,
    /// The carrier's answer to the same request when the call had already ended, a status
    /// and a body: Twilio's 404 20404, Plivo's 404, Vonage's 404 or 410, Telnyx's 422 90018.
    pub already_ended: (u16, serde_json::Value),
}

/// The cost of [`RestCarrier::call`].
#[derive(Debug, Clone)]
pub struct Cost {
    /// Where it is read, and the carrier's answer once the call is priced.
    pub endpoint: Endpoint,
    /// The amount that answer gives, as the adapter reports it (a positive charge), with
    /// every digit the carrier wrote: `0.01300`.
    pub amount: &'static str,
    /// Its currency: `USD`.
    pub currency: &'static str,
    /// The carrier's answer (same status) while the call is not priced yet.
    pub unpriced: serde_json::Value,
}

/// What [`TelephonyProvider::configure_inbound`] reads and writes at the carrier.
#[derive(Debug, Clone)]
pub struct Inbound {
    /// A number the account owns, linked to the application the adapter configures (where
    /// the carrier has one).
    pub number: E164,
    /// The carrier's answers to every read `configure_inbound` makes (the number, its
    /// application) while the number's calls go to `current`.
    pub reads: fn(current: &str) -> Vec<Endpoint>,
    /// What it writes to send them to another URL, each once, and the carrier's answers.
    pub writes: Vec<Endpoint>,
    /// A number the account does not own.
    pub stranger: E164,
    /// The carrier's answers to the reads for `stranger`: an empty listing, a 404.
    pub not_owned: Vec<Endpoint>,
    /// The carrier's answers to the reads for `number` while it reports that the number
    /// cannot take voice calls (Twilio `capabilities.voice: false`, Plivo `voice_enabled:
    /// false`, Vonage `features` without `VOICE`); `None` where the carrier's numbers do not
    /// say (Telnyx), so that the adapter never claims they do.
    pub voiceless: Option<Vec<Endpoint>>,
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

    pub(super) fn mock(&self) -> MockBuilder {
        Mock::given(method(self.method)).and(path(self.path.as_str()))
    }

    pub(super) fn success(&self) -> ResponseTemplate {
        self.answer(self.status, &self.body)
    }

    /// `status` with `body`, or with no body for `null`.
    pub(super) fn answer(&self, status: u16, body: &serde_json::Value) -> ResponseTemplate {
        let answer = ResponseTemplate::new(status);
        match body {
            serde_json::Value::Null => answer,
            body => answer.set_body_json(body),
        }
    }
}

/// The account's numbers, page by page.
#[derive(Debug, Clone)]
pub struct Listing {
    /// The listing's path, from the API's root.
    pub path: String,
    /// Page `n` (from 1), holding one number of its own: a different number on every page
    /// (`+1415555` and four digits of `n`, say), as a listing that moves has. With
    /// `Some(link)` the page says another follows: at `link` (a path and query from the API's
    /// root) for a carrier that follows links, wherever the adapter counts to for one that
    /// pages by index (which ignores `link`).
    pub page: fn(n: u32, next: Option<&str>) -> serde_json::Value,
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
            a_call_the_carrier_does_not_know_is_not_found,
            hangup_ends_a_live_call,
            hangup_of_a_call_already_ended_is_success,
            a_failed_hangup_is_an_error,
            cost_is_the_exact_decimal_once_priced,
            inbound_reports_where_the_number_went_before,
            inbound_already_right_changes_nothing,
            inbound_on_a_number_not_owned_is_an_error,
            inbound_drift_reads_and_never_writes,
            a_listing_page_is_retried_like_a_read,
            a_listing_that_never_ends_is_an_error,
            a_next_page_that_repeats_is_an_error,
            unsupported_control_is_refused_before_any_request,
            supported_control_reaches_the_carrier,
            unsupported_call_options_are_refused_before_any_request,
            unsupported_balance_is_refused_before_any_request,
            supported_balance_reaches_the_carrier,
            inbound_refuses_a_number_without_voice);
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

pub(super) fn adapter(
    carrier: &RestCarrier,
    server: &MockServer,
    http: HttpConfig,
) -> Arc<dyn TelephonyProvider> {
    (carrier.adapter)(server.uri().parse().expect("the fake's URL"), http)
}

pub(super) fn error(carrier: &RestCarrier, status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json((carrier.error_body)(status, message))
}

fn page(listing: &Listing, n: u32, next: Option<&str>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json((listing.page)(n, next))
}

/// One rule's fake carrier, and the waits its adapter's retries asked for.
pub(super) struct Scene<'c> {
    pub(super) carrier: &'c RestCarrier,
    pub(super) server: MockServer,
    pub(super) waits: Waits,
}

impl<'c> Scene<'c> {
    pub(super) async fn new(carrier: &'c RestCarrier) -> Scene<'c> {
        Scene {
            carrier,
            server: MockServer::start().await,
            waits: Waits::default(),
        }
    }

    /// The adapter, its retries waiting in `self.waits`.
    pub(super) fn adapter(&self) -> Arc<dyn TelephonyProvider> {
        adapter(self.carrier, &self.server, self.waits.http())
    }

    /// The adapter, with a timeout the fake's [`NEVER`] goes past.
    pub(super) fn impatient(&self) -> Arc<dyn TelephonyProvider> {
        let http = self.waits.http().request_timeout(SHORT_TIMEOUT);
        adapter(self.carrier, &self.server, http)
    }

    /// `endpoint` answers `answer`, and must be asked exactly `times`.
    pub(super) async fn answers(&self, endpoint: &Endpoint, answer: ResponseTemplate, times: u64) {
        endpoint
            .mock()
            .respond_with(answer)
            .expect(times)
            .mount(&self.server)
            .await;
    }

    /// `endpoint` answers `failure` `times` times, then succeeds once.
    pub(super) async fn fails_then_succeeds(
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
    pub(super) async fn read_error(&self, answer: ResponseTemplate) -> Error {
        self.answers(&self.carrier.read, answer, 1).await;
        self.adapter()
            .call_status(&self.carrier.call)
            .await
            .expect_err("the read fails")
    }

    /// What must never print: the adapter's credentials, and what each request carried in
    /// its `Authorization` header (Basic's encoded pair, a bearer token).
    pub(super) async fn secrets(&self) -> Vec<String> {
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

    pub(super) fn retries(&self) -> usize {
        self.waits.taken().len()
    }
}

/// Every page of a listing is a read: retried after a server error.
pub async fn a_listing_page_is_retried_like_a_read(carrier: &RestCarrier) {
    let scene = Scene::new(carrier).await;
    let listing = Endpoint::new(
        "GET",
        carrier.numbers.path.as_str(),
        200,
        (carrier.numbers.page)(1, None),
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

/// Answers every page with one more, never the same (`fresh`), or with the first page again,
/// its next link a new one each time (not `fresh`: an API that ignores the page asked for).
struct Endless {
    listing: Listing,
    served: AtomicUsize,
    fresh: bool,
}

impl Endless {
    fn new(listing: &Listing, fresh: bool) -> Endless {
        Endless {
            listing: listing.clone(),
            served: AtomicUsize::new(0),
            fresh,
        }
    }
}

impl Respond for Endless {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.served.fetch_add(1, Ordering::SeqCst) + 1;
        let next = format!("{}?contract_page={}", self.listing.path, n + 1);
        let number = if self.fresh {
            u32::try_from(n).unwrap_or(u32::MAX)
        } else {
            1
        };
        page(&self.listing, number, Some(&next))
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
        page(&self.0, 1, Some(&itself))
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
    let endless = Endless::new(&carrier.numbers, true);
    listing_answers(&scene, "", endless, CAP as u64).await;
    let err = adapter(carrier, &scene.server, scene.waits.http().max_pages(CAP))
        .phone_numbers()
        .await
        .expect_err("a listing that never ends is an error");
    let capped = PageProblem::TooManyPages { max: CAP };
    assert_eq!(page_problem(&err), Some(&capped), "{err}");
    assert!(err.to_string().contains("list numbers"), "{err}");
}

/// A next page that repeats the one before (an API that ignores the page asked for, whatever
/// link or index the adapter sends) is an error at the second page: never a loop of requests
/// up to the cap, never a list with the same number twice.
pub async fn a_next_page_that_repeats_is_an_error(carrier: &RestCarrier) {
    let scene = Scene::new(carrier).await;
    listing_answers(&scene, "", Endless::new(&carrier.numbers, false), 2).await;
    let err = scene
        .adapter()
        .phone_numbers()
        .await
        .expect_err("a page that repeats is an error");
    let repeated = matches!(page_problem(&err), Some(PageProblem::Repeated { .. }));
    assert!(repeated, "{err}");
    assert!(!err.is_retryable() && !err.is_auth(), "{err}");
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
        .respond_with(page(listing, 2, None))
        .expect(1)
        .with_priority(1)
        .mount(&scene.server)
        .await;
    let next = format!("{}?contract_page=2", listing.path);
    listing_answers(&scene, PREFIX, page(listing, 1, Some(&next)), 1).await;
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
        .respond_with(page(&carrier.numbers, 2, None))
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
        listing_answers(&scene, "", page(&carrier.numbers, 1, Some(&link)), 1).await;
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
