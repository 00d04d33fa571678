//! The carrier's clock, as its answers' `Date` headers tell it: what a health check compares
//! with this machine's, since signatures with a time window (Vonage's signed callbacks, Telnyx's
//! webhooks) fail when the two disagree.
//!
//! Nothing is kept unless asked: [`observe_server_date`] runs any adapter operation and returns,
//! with its result, the `Date` of the last answer the operation received. The adapters need no
//! change; every request they send goes through [`RestClient`](super::RestClient), which notes
//! the header for the observer of the task it runs in.

use std::cell::RefCell;
use std::future::Future;
use std::time::{Duration, SystemTime};

/// The carrier's clock at one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerDate {
    /// What the answer's `Date` header said (whole seconds, as HTTP dates are).
    pub date: SystemTime,
    /// This machine's clock when the answer's headers arrived.
    pub received: SystemTime,
}

impl ServerDate {
    /// A server time seen at `received`.
    pub fn new(date: SystemTime, received: SystemTime) -> ServerDate {
        ServerDate { date, received }
    }

    /// How far the carrier's clock is ahead of this machine's (negative: behind), in seconds.
    /// An HTTP date has whole seconds, so a difference under one second means nothing.
    pub fn skew_seconds(&self) -> f64 {
        match self.date.duration_since(self.received) {
            Ok(ahead) => ahead.as_secs_f64(),
            Err(behind) => -behind.duration().as_secs_f64(),
        }
    }

    /// The size of the difference, whichever way.
    pub fn skew(&self) -> Duration {
        Duration::from_secs_f64(self.skew_seconds().abs())
    }
}

tokio::task_local! {
    static OBSERVED: RefCell<Option<ServerDate>>;
}

/// Runs `operation` (any adapter call: `provider.phone_numbers()`) and returns its result with
/// the `Date` of the last answer it received, where any carried one. Requests sent from other
/// tasks are not seen.
///
/// ```no_run
/// # async fn f(provider: &dyn telephony_core::TelephonyProvider) {
/// use telephony_core::rest::observe_server_date;
///
/// let (numbers, date) = observe_server_date(provider.phone_numbers()).await;
/// if let Some(date) = date {
///     println!("the carrier's clock is {:+.0} s from ours", date.skew_seconds());
/// }
/// # let _ = numbers;
/// # }
/// ```
pub async fn observe_server_date<F: Future>(operation: F) -> (F::Output, Option<ServerDate>) {
    OBSERVED
        .scope(RefCell::new(None), async move {
            let output = operation.await;
            let seen = OBSERVED.with(|cell| *cell.borrow());
            (output, seen)
        })
        .await
}

/// Notes an answer's `Date` for the task's observer, if there is one.
pub(super) fn note(headers: &reqwest::header::HeaderMap) {
    let received = SystemTime::now();
    let Some(date) = headers
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
    else {
        return;
    };
    let _ = OBSERVED.try_with(|cell| {
        *cell.borrow_mut() = Some(ServerDate::new(date, received));
    });
}

#[cfg(test)]
mod tests {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::rest::HttpConfig;
    use crate::rest::client::tests::client_with;

    #[tokio::test]
    async fn the_last_answers_date_is_seen_by_its_observer_only() {
        let server = MockServer::start().await;
        let ahead = SystemTime::now() + Duration::from_secs(3600);
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(401).insert_header("Date", httpdate::fmt_http_date(ahead)),
            )
            .mount(&server)
            .await;
        let rest = client_with(HttpConfig::default());
        let url: url::Url = server.uri().parse().unwrap();
        let (answer, date) = observe_server_date(rest.get(url.clone(), "probe").send()).await;
        assert_eq!(answer.unwrap().status, 401);
        let date = date.expect("the Date header was seen");
        assert!((date.skew_seconds() - 3600.0).abs() < 5.0, "{date:?}");
        // Outside an observer the header is not kept anywhere.
        rest.get(url, "probe").send().await.unwrap();
        let (_, none) = observe_server_date(async {}).await;
        assert_eq!(none, None);
    }

    #[test]
    fn skew_is_signed() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let behind = ServerDate::new(now - Duration::from_secs(90), now);
        assert_eq!(behind.skew_seconds(), -90.0);
        assert_eq!(behind.skew(), Duration::from_secs(90));
    }
}
