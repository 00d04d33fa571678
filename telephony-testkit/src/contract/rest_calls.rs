//! The REST rules on one call: placing it, reading it, hanging it up, its cost, and where a
//! number's inbound calls go. Re-exported by [`rest`](super::rest), with the types they take.

use std::time::Duration;

use telephony_core::rest::RetryPolicy;
use telephony_core::{Drift, Error, HangupOutcome, InboundUpdate, TransportKind, Url};
use wiremock::{Request, ResponseTemplate};

use super::rest::{Endpoint, NEVER, RestCarrier, Scene, Waits, error};

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

/// A call the carrier does not know (a 404) is an error that says so, names the carrier, and
/// is not retried: asking again will not make the call exist.
pub async fn a_call_the_carrier_does_not_know_is_not_found(carrier: &RestCarrier) {
    let scene = Scene::new(carrier).await;
    let unknown = error(carrier, 404, "no such call");
    serves(&scene, &carrier.read, unknown).await;
    let err = scene
        .adapter()
        .call_status(&carrier.call)
        .await
        .expect_err("an unknown call is an error");
    assert!(err.is_not_found() && !err.is_retryable(), "{err}");
    let named = format!("{} answered 404", carrier.name);
    assert!(err.to_string().starts_with(&named), "{err}");
    assert_eq!(scene.retries(), 0);
}

/// `endpoint` answers `answer` however often it is asked.
async fn serves(scene: &Scene<'_>, endpoint: &Endpoint, answer: ResponseTemplate) {
    endpoint
        .mock()
        .respond_with(answer)
        .mount(&scene.server)
        .await;
}

/// The hang-up of a live call (it reads as live, for an adapter that looks first) answered
/// `answer`.
async fn hang_up(scene: &Scene<'_>, answer: ResponseTemplate) -> Result<HangupOutcome, Error> {
    let carrier = scene.carrier;
    serves(scene, &carrier.read, carrier.read.success()).await;
    serves(scene, &carrier.hangup.endpoint, answer).await;
    scene.adapter().hangup(&carrier.call).await
}

/// The carrier's success ends the call: sent once, and reported as the carrier says it
/// (ended, or canceled).
pub async fn hangup_ends_a_live_call(carrier: &RestCarrier) {
    let scene = Scene::new(carrier).await;
    let hangup = &carrier.hangup;
    let outcome = hang_up(&scene, hangup.endpoint.success()).await;
    assert_eq!(outcome.expect("hung up"), hangup.outcome);
    let sent = scene.server.received_requests().await.expect("recording");
    let ends = |r: &&Request| {
        r.method.as_str() == hangup.endpoint.method && r.url.path() == hangup.endpoint.path
    };
    assert_eq!(sent.iter().filter(ends).count(), 1, "sent once");
}

/// A call that ended before the hang-up (the carrier's own "already ended" answer) is
/// success, [`HangupOutcome::AlreadyEnded`], not an error.
pub async fn hangup_of_a_call_already_ended_is_success(carrier: &RestCarrier) {
    let scene = Scene::new(carrier).await;
    let (status, body) = &carrier.hangup.already_ended;
    let ended = carrier.hangup.endpoint.answer(*status, body);
    let outcome = hang_up(&scene, ended).await;
    let outcome = outcome.unwrap_or_else(|e| panic!("an ended call is success: {e}"));
    assert_eq!(outcome, HangupOutcome::AlreadyEnded);
}

/// A server error on the hang-up is an error naming the carrier, never a call reported
/// ended that may still be up.
pub async fn a_failed_hangup_is_an_error(carrier: &RestCarrier) {
    let scene = Scene::new(carrier).await;
    let failure = error(carrier, 500, "internal trouble");
    let err = hang_up(&scene, failure)
        .await
        .expect_err("a 500 is an error");
    assert_eq!(err.http_status(), Some(500), "{err}");
    let named = format!("{} answered 500", carrier.name);
    let text = err.to_string();
    assert!(
        text.starts_with(&named) && text.contains("internal trouble"),
        "{text}"
    );
}

/// A priced call's cost is the exact decimal the carrier wrote (every digit: no float on the
/// way) in its currency; before it is priced, `None`, not an error and not zero.
pub async fn cost_is_the_exact_decimal_once_priced(carrier: &RestCarrier) {
    let cost = &carrier.cost;
    let scene = Scene::new(carrier).await;
    let unpriced = cost.endpoint.answer(cost.endpoint.status, &cost.unpriced);
    serves(&scene, &cost.endpoint, cost.endpoint.success()).await;
    let priced = scene
        .adapter()
        .call_cost(&carrier.call)
        .await
        .expect("a priced call")
        .expect("priced");
    let got = (priced.amount.to_string(), priced.currency.code().to_owned());
    assert_eq!(got, (cost.amount.to_owned(), cost.currency.to_owned()));
    let scene = Scene::new(carrier).await;
    serves(&scene, &cost.endpoint, unpriced).await;
    let none = scene.adapter().call_cost(&carrier.call).await;
    assert_eq!(none.expect("an unpriced call"), None);
}

/// Where the number's calls went before every inbound rule.
const BEFORE: &str = "https://old.example.com/inbound";
/// Where the rules point them.
const AFTER: &str = "https://agent.example.com/inbound";

/// The carrier answering `reads` as often as asked (at least once each), each write
/// expected `writes` times.
async fn inbound_scene<'c>(carrier: &'c RestCarrier, reads: &[Endpoint], writes: u64) -> Scene<'c> {
    let scene = Scene::new(carrier).await;
    for read in reads {
        let answer = read.success();
        read.mock()
            .respond_with(answer)
            .expect(1..)
            .mount(&scene.server)
            .await;
    }
    for write in &carrier.inbound.writes {
        scene.answers(write, write.success(), writes).await;
    }
    scene
}

/// Points the carrier's number at [`AFTER`] while its calls go to `current`, each write
/// expected `writes` times.
async fn configure<'c>(
    carrier: &'c RestCarrier,
    current: &str,
    writes: u64,
) -> (Scene<'c>, InboundUpdate) {
    let scene = inbound_scene(carrier, &(carrier.inbound.reads)(current), writes).await;
    let update = scene
        .adapter()
        .configure_inbound(&carrier.inbound.number, &after())
        .await
        .expect("configured");
    (scene, update)
}

fn after() -> Url {
    AFTER.parse().expect("a URL")
}

/// What a request's body says, JSON or a form, decoded.
fn body_says(request: &Request, text: &str) -> bool {
    let mut form = url::form_urlencoded::parse(&request.body);
    String::from_utf8_lossy(&request.body).contains(text) || form.any(|(_, v)| v == text)
}

/// A number whose calls went elsewhere is pointed at the URL (which a write carries), and
/// the update says where they went before: changed, and drifted.
pub async fn inbound_reports_where_the_number_went_before(carrier: &RestCarrier) {
    let (scene, update) = configure(carrier, BEFORE, 1).await;
    let number = &carrier.inbound.number;
    assert_eq!((&update.number, update.url.as_str()), (number, AFTER));
    assert_eq!(update.previous_url.as_deref(), Some(BEFORE), "{update:?}");
    assert!(update.changed && update.drifted(), "{update:?}");
    let sent = scene.server.received_requests().await.expect("recording");
    let carries = sent
        .iter()
        .any(|r| r.method.as_str() != "GET" && body_says(r, AFTER));
    assert!(carries, "no write carried {AFTER}");
}

/// A number already pointed at the URL is left alone: nothing written, nothing changed, and
/// the URL it had is the one it keeps.
pub async fn inbound_already_right_changes_nothing(carrier: &RestCarrier) {
    let (_scene, update) = configure(carrier, AFTER, 0).await;
    assert!(!update.changed && !update.drifted(), "{update:?}");
    assert_eq!(update.previous_url.as_deref(), Some(AFTER), "{update:?}");
}

/// A number the account does not own is an error naming the number and the carrier, with
/// nothing written and nothing retried.
pub async fn inbound_on_a_number_not_owned_is_an_error(carrier: &RestCarrier) {
    let inbound = &carrier.inbound;
    let scene = inbound_scene(carrier, &inbound.not_owned, 0).await;
    let err = scene
        .adapter()
        .configure_inbound(&inbound.stranger, &after())
        .await
        .expect_err("not the account's number");
    let text = err.to_string();
    let named = text.contains(inbound.stranger.as_str()) && text.contains(carrier.name);
    assert!(named && !err.is_retryable(), "{text}");
    assert_eq!(scene.retries(), 0);
}

/// [`TelephonyProvider::inbound_drift`](telephony_core::TelephonyProvider::inbound_drift)
/// sends only reads: while the number's calls go to `BEFORE` it reports them there and a
/// [`Drift::Url`] to the URL asked about; while they go to that URL, no `Drift::Url`; a
/// number not the account's is an error. Nothing is written in any of them. A carrier that
/// cannot tell refuses with `Unsupported` before any request.
pub async fn inbound_drift_reads_and_never_writes(carrier: &RestCarrier) {
    let inbound = &carrier.inbound;
    for current in [BEFORE, AFTER] {
        let scene = Scene::new(carrier).await;
        for read in (inbound.reads)(current) {
            read.mock()
                .respond_with(read.success())
                .mount(&scene.server)
                .await;
        }
        for write in &inbound.writes {
            scene.answers(write, write.success(), 0).await;
        }
        let found = scene
            .adapter()
            .inbound_drift(&inbound.number, Some(&after()))
            .await;
        let sent = scene.server.received_requests().await.expect("recording");
        let found = match found {
            Err(Error::Unsupported { .. }) => {
                assert!(sent.is_empty(), "Unsupported after {} requests", sent.len());
                return;
            }
            other => other.expect("the number's set-up, read"),
        };
        for r in &sent {
            assert_eq!(
                r.method.as_str(),
                "GET",
                "inbound_drift wrote: {} {}",
                r.method,
                r.url
            );
        }
        assert_eq!(found.number, inbound.number);
        assert_eq!(found.current_url.as_deref(), Some(current), "{found:?}");
        let url_drift: Vec<&Drift> = found
            .drift
            .iter()
            .filter(|d| matches!(d, Drift::Url { .. }))
            .collect();
        if current == AFTER {
            assert!(url_drift.is_empty(), "{found:?}");
        } else {
            let expected = Drift::Url {
                found: Some(BEFORE.to_owned()),
            };
            assert_eq!(url_drift, [&expected], "{found:?}");
        }
    }
    let scene = Scene::new(carrier).await;
    for read in &inbound.not_owned {
        read.mock()
            .respond_with(read.success())
            .mount(&scene.server)
            .await;
    }
    for write in &inbound.writes {
        scene.answers(write, write.success(), 0).await;
    }
    let err = scene
        .adapter()
        .inbound_drift(&inbound.stranger, Some(&after()))
        .await
        .expect_err("not the account's number");
    assert!(err.to_string().contains(inbound.stranger.as_str()), "{err}");
}
