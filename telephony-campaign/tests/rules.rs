//! The campaign's rules on the emulated Twilio, through the real adapter: calling windows in
//! each callee's zone, the do-not-call check, pause, resume and cancel, and what a crashed
//! dialer left behind (reconciled, never dialled again).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use telephony_campaign::store::{Attempt, AttemptResult, CampaignStore, ContactStatus, millis};
use telephony_campaign::{
    CallingWindow, Campaign, CampaignState, Contact, DeferReason, Dialer, DialerEvent,
    DoNotCallList, Outcome, Polling, RunningCampaign, SqliteStore, zone,
};
use telephony_core::{CallTarget, E164, OutboundCall, StreamSpec};
use telephony_testkit::{Emulated, Emulators};

async fn twilio() -> Emulated {
    let fake = Emulators::builtin()
        .find("twilio")
        .unwrap()
        .start()
        .await
        .unwrap();
    fake.speed(20.0);
    fake.ring_time(Duration::from_secs(1));
    fake
}

fn number(i: usize) -> E164 {
    format!("+1415{:07}", 2_000_000 + i).parse().unwrap()
}

fn campaign(id: &str) -> Campaign {
    // Nobody listens here: an answered call's stream fails and the call ends at once.
    Campaign::new(
        id,
        StreamSpec::new("ws://127.0.0.1:9/media".parse().unwrap()),
    )
    .from(number(9_999))
    .calls_per_second(50.0)
    .polling(Polling::new(
        Duration::from_millis(50),
        Duration::from_millis(200),
    ))
}

fn calls_to(fake: &Emulated, n: &E164) -> usize {
    fake.calls().iter().filter(|c| c.to == n.as_str()).count()
}

/// Reads events until `f` says stop; panics on a store error or the end of events.
async fn until(running: &mut RunningCampaign, mut f: impl FnMut(&DialerEvent) -> bool) {
    loop {
        let event = running
            .next_event()
            .await
            .expect("the dialer stopped early");
        if let DialerEvent::StoreError(e) = &event {
            panic!("{e}");
        }
        if f(&event) {
            return;
        }
    }
}

/// The fixed-offset zone where it is `hour` o'clock now (give or take the minutes).
fn zone_at_local_hour(hour: i64) -> String {
    let utc_hour = i64::try_from(millis(SystemTime::now()) / 3_600_000 % 24).unwrap();
    let mut offset = hour - utc_hour;
    if offset < -12 {
        offset += 24;
    }
    if offset > 14 {
        offset -= 24;
    }
    // The Etc zones' signs are POSIX's: Etc/GMT-5 is five hours ahead of UTC.
    match offset {
        0 => "Etc/GMT".to_owned(),
        o if o > 0 => format!("Etc/GMT-{o}"),
        o => format!("Etc/GMT+{}", -o),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_is_called_outside_their_window() {
    let fake = twilio().await;
    let (noon, midnight) = (zone_at_local_hour(12), zone_at_local_hour(0));
    let window: CallingWindow = "08:00-16:00".parse().unwrap();
    let contacts: Vec<Contact> = (0..20)
        .map(|i| Contact::new(number(i)).time_zone(if i % 2 == 0 { &noon } else { &midnight }))
        .collect();
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let c = campaign("window")
        .contacts(contacts.clone())
        .window(window.clone());
    let mut running = Dialer::new(fake.provider().unwrap(), store.clone())
        .start(c)
        .await
        .unwrap();
    let (mut ended, mut deferred) = (0, Vec::new());
    until(&mut running, |e| {
        match e {
            DialerEvent::Ended { .. } => ended += 1,
            DialerEvent::Deferred {
                number,
                until,
                reason,
            } => {
                assert_eq!(*reason, DeferReason::Window);
                deferred.push((number.clone(), *until));
            }
            _ => {}
        }
        ended == 10 && deferred.len() == 10
    })
    .await;
    running.cancel().await.unwrap();
    let progress = running.finished().await.unwrap();
    assert_eq!((progress.done, progress.pending), (10, 10), "{progress:?}");
    // Every call the carrier saw was placed inside its callee's window; the others wait for
    // 08:00 in their own zone.
    for call in fake.calls() {
        let contact = contacts
            .iter()
            .find(|c| c.number.as_str() == call.to)
            .unwrap();
        let z = zone(contact.time_zone.as_deref().unwrap()).unwrap();
        assert!(
            window.is_open(call.created, &z),
            "{} called outside its window",
            call.to
        );
    }
    assert_eq!(fake.calls().len(), 10);
    let z = zone(&midnight).unwrap();
    for (n, until) in deferred {
        assert_eq!(calls_to(&fake, &n), 0);
        assert!(window.is_open(until, &z) && !window.is_open(until - Duration::from_secs(1), &z));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_do_not_call_list_is_asked_before_every_attempt() {
    let fake = twilio().await;
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let blocked = [number(1), number(3)];
    let c = campaign("dnc")
        .contacts((0..5).map(|i| Contact::new(number(i))))
        .do_not_call(Arc::new(DoNotCallList::new(blocked.clone())));
    let mut running = Dialer::new(fake.provider().unwrap(), store.clone())
        .start(c)
        .await
        .unwrap();
    let progress = running.finished().await.unwrap();
    assert_eq!(
        progress.outcomes.get(&Outcome::DoNotCall),
        Some(&2),
        "{progress:?}"
    );
    assert_eq!(
        progress.outcomes.get(&Outcome::Answered),
        Some(&3),
        "{progress:?}"
    );
    for n in &blocked {
        assert_eq!(calls_to(&fake, n), 0);
    }
    let results = store.results("dnc").await.unwrap();
    assert_eq!(
        (
            results[1].attempts,
            results[1].last.as_ref().unwrap().outcome
        ),
        (0, Outcome::DoNotCall)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_stops_new_dials_resume_goes_on_cancel_ends() {
    let fake = twilio().await;
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let c = campaign("pause")
        .contacts((0..40).map(|i| Contact::new(number(i))))
        .calls_per_second(20.0);
    let dialer = Dialer::new(fake.provider().unwrap(), store.clone());
    let mut running = dialer.start(c).await.unwrap();
    let mut dialled = 0;
    until(&mut running, |e| {
        dialled += usize::from(matches!(e, DialerEvent::Dialing { .. }));
        dialled == 5
    })
    .await;
    running.pause().await.unwrap();
    until(&mut running, |e| {
        matches!(e, DialerEvent::State(CampaignState::Paused))
    })
    .await;
    // Once what was under way has ended, nothing more is dialled while paused.
    loop {
        let p = running.progress().await.unwrap();
        if p.in_progress == 0 {
            break;
        }
        running.next_event().await.unwrap();
    }
    let placed = fake.calls().len();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(fake.calls().len(), placed, "a call was placed while paused");
    assert!(placed < 40);

    running.resume().await.unwrap();
    until(&mut running, |e| {
        matches!(e, DialerEvent::State(CampaignState::Running))
    })
    .await;
    let mut more = 0;
    until(&mut running, |e| {
        more += usize::from(matches!(e, DialerEvent::Dialing { .. }));
        more == 5
    })
    .await;
    running.cancel().await.unwrap();
    let progress = running.finished().await.unwrap();
    assert_eq!(progress.state, Some(CampaignState::Cancelled));
    assert!(
        progress.pending > 0 && progress.in_progress == 0,
        "{progress:?}"
    );
    assert_eq!(
        progress.done as usize,
        fake.calls().len(),
        "every call placed was recorded"
    );

    // A cancelled campaign stays cancelled for a dialer that starts it again.
    let mut again = dialer.start(campaign("pause")).await.unwrap();
    let p = again.finished().await.unwrap();
    assert_eq!(p.done, progress.done);
}

/// A dialer that died mid-campaign left three contacts claimed: one whose call was placed
/// (its id recorded), one whose create was in flight (no id), one not yet attempted. The next
/// dialer settles the first from the carrier, reports the second as unconfirmed without
/// dialling it, and dials the third once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_crashed_dialer_left_is_reconciled_not_redialled() {
    let fake = twilio().await;
    let provider = fake.provider().unwrap();
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let id = "crash";
    let contacts: Vec<Contact> = (0..3).map(|i| Contact::new(number(i))).collect();
    let now = millis(SystemTime::now());
    store.add_contacts(id, &contacts, now).await.unwrap();
    store
        .heartbeat("dead", Duration::from_secs(3600))
        .await
        .unwrap();
    for _ in 0..3 {
        store.claim(id, "dead", now).await.unwrap().unwrap();
    }
    let stream = StreamSpec::new("ws://127.0.0.1:9/media".parse().unwrap());
    let call = OutboundCall::with_target(number(0), number(9_999), CallTarget::Stream(stream));
    let placed = provider.initiate_call(&call).await.unwrap();
    let mut first = Attempt::new(1, "crash-0-1".into(), number(9_999).as_str().into(), now);
    first.call_id = Some(placed.call_id.as_str().to_owned());
    assert!(
        store
            .record_attempt(id, &number(0), "dead", &first)
            .await
            .unwrap()
    );
    let second = Attempt::new(1, "crash-1-1".into(), number(9_999).as_str().into(), now);
    assert!(
        store
            .record_attempt(id, &number(1), "dead", &second)
            .await
            .unwrap()
    );
    // The crash: the lease runs out.
    store.heartbeat("dead", Duration::ZERO).await.unwrap();

    let mut running = Dialer::new(provider, store.clone())
        .start(campaign(id))
        .await
        .unwrap();
    let mut reconciled = Vec::new();
    until(&mut running, |e| {
        if let DialerEvent::Reconciling { number, .. } = e {
            reconciled.push(number.clone());
        }
        matches!(e, DialerEvent::Finished(_))
    })
    .await;
    reconciled.sort();
    assert_eq!(reconciled, [number(0), number(1)]);
    let results = store.results(id).await.unwrap();
    let outcome = |i: usize| {
        let r = &results[i];
        assert_eq!(r.status, ContactStatus::Done);
        r.last.clone().unwrap()
    };
    let r0: AttemptResult = outcome(0);
    assert_eq!((r0.outcome, r0.attempts), (Outcome::Answered, 1));
    assert_eq!(r0.call_id.as_deref(), Some(placed.call_id.as_str()));
    assert_eq!(outcome(1).outcome, Outcome::Unconfirmed);
    assert_eq!(outcome(2).outcome, Outcome::Answered);
    for (i, dialled) in [1, 0, 1].into_iter().enumerate() {
        assert_eq!(calls_to(&fake, &number(i)), dialled, "contact {i}");
    }
}

/// A store that goes down (heartbeats and attempt writes fail) at the first attempt write,
/// for its first few tries: long enough for the dialer's lease to run out meanwhile.
#[derive(Debug)]
struct Flaky {
    inner: SqliteStore,
    failures_left: std::sync::atomic::AtomicU32,
    down: std::sync::atomic::AtomicBool,
}

impl Flaky {
    fn failing(&self) -> bool {
        self.down.load(std::sync::atomic::Ordering::SeqCst)
    }
}

fn outage() -> telephony_campaign::StoreError {
    telephony_campaign::StoreError::new("emulated outage")
}

#[async_trait::async_trait]
impl CampaignStore for Flaky {
    async fn add_contacts(
        &self,
        c: &str,
        contacts: &[Contact],
        now: u64,
    ) -> Result<u64, telephony_campaign::StoreError> {
        self.inner.add_contacts(c, contacts, now).await
    }
    async fn state(
        &self,
        c: &str,
    ) -> Result<Option<CampaignState>, telephony_campaign::StoreError> {
        self.inner.state(c).await
    }
    async fn set_state(
        &self,
        c: &str,
        s: CampaignState,
    ) -> Result<bool, telephony_campaign::StoreError> {
        self.inner.set_state(c, s).await
    }
    async fn heartbeat(
        &self,
        owner: &str,
        lease: Duration,
    ) -> Result<(), telephony_campaign::StoreError> {
        if self.failing() {
            return Err(outage());
        }
        self.inner.heartbeat(owner, lease).await
    }
    async fn retire(&self, owner: &str) -> Result<(), telephony_campaign::StoreError> {
        self.inner.retire(owner).await
    }
    async fn claim(
        &self,
        c: &str,
        owner: &str,
        now: u64,
    ) -> Result<Option<telephony_campaign::store::Claimed>, telephony_campaign::StoreError> {
        self.inner.claim(c, owner, now).await
    }
    async fn record_attempt(
        &self,
        c: &str,
        n: &E164,
        owner: &str,
        a: &Attempt,
    ) -> Result<bool, telephony_campaign::StoreError> {
        use std::sync::atomic::Ordering::SeqCst;
        if self.failures_left.load(SeqCst) > 0 {
            self.down.store(true, SeqCst);
            if self.failures_left.fetch_sub(1, SeqCst) > 1 {
                return Err(outage());
            }
            self.down.store(false, SeqCst);
            return Err(outage());
        }
        self.inner.record_attempt(c, n, owner, a).await
    }
    async fn finish(
        &self,
        c: &str,
        n: &E164,
        owner: &str,
        r: &AttemptResult,
        next: telephony_campaign::store::Next,
    ) -> Result<bool, telephony_campaign::StoreError> {
        self.inner.finish(c, n, owner, r, next).await
    }
    async fn defer(
        &self,
        c: &str,
        n: &E164,
        owner: &str,
        due: u64,
    ) -> Result<bool, telephony_campaign::StoreError> {
        self.inner.defer(c, n, owner, due).await
    }
    async fn pace(
        &self,
        account: &str,
        interval: Duration,
    ) -> Result<Duration, telephony_campaign::StoreError> {
        self.inner.pace(account, interval).await
    }
    async fn progress(
        &self,
        c: &str,
    ) -> Result<telephony_campaign::Progress, telephony_campaign::StoreError> {
        self.inner.progress(c).await
    }
    async fn results(
        &self,
        c: &str,
    ) -> Result<Vec<telephony_campaign::store::ContactResult>, telephony_campaign::StoreError> {
        self.inner.results(c).await
    }
}

/// The store fails heartbeats and attempt writes for longer than the dialer's lease while
/// its first attempt is being written: the dialer never takes its own lapsed claims back as
/// orphans, dials nothing it could not record, and the contact is dialled exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_outage_longer_than_the_lease_dials_nobody_twice() {
    let fake = twilio().await;
    let store = Arc::new(Flaky {
        inner: SqliteStore::in_memory().unwrap(),
        // 200 + 400 + 800 + 1600 ms of retries: ten leases of 300 ms.
        failures_left: std::sync::atomic::AtomicU32::new(5),
        down: std::sync::atomic::AtomicBool::new(false),
    });
    let c = campaign("outage")
        .contacts([Contact::new(number(0))])
        .concurrency(10)
        .lease(Duration::from_millis(300));
    let mut running = Dialer::new(fake.provider().unwrap(), store.clone())
        .start(c)
        .await
        .unwrap();
    let progress = running.finished().await.unwrap();
    assert_eq!(progress.done, 1, "{progress:?}");
    assert_eq!(calls_to(&fake, &number(0)), 1);
    let results = store.results("outage").await.unwrap();
    assert_eq!(
        results[0].last.as_ref().unwrap().outcome,
        Outcome::Answered,
        "{results:?}"
    );
}
