//! The dialer's loop: claim the next contact due, check it may be called now, take the
//! account's next create slot, and hand it to an attempt task.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use telephony_core::TelephonyProvider;
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio::task::JoinSet;

use super::observe::CallObserver;
use super::{Campaign, DialerError, attempt};
use crate::event::DeferReason;
use crate::store::{AttemptResult, CampaignState, CampaignStore, Claimed, Next, Progress, millis};
use crate::window::zone;
use crate::{DialerEvent, Outcome};

/// How long the loop sleeps when nothing is due, at most: it also wakes when an attempt ends
/// or the host changes the campaign's state.
const IDLE: Duration = Duration::from_millis(500);

/// How long a failing store is left before the next try.
const STORE_BACKOFF: Duration = Duration::from_secs(1);

/// What the loop and every attempt task share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) provider: Arc<dyn TelephonyProvider>,
    pub(crate) store: Arc<dyn CampaignStore>,
    pub(crate) campaign: Campaign,
    /// This dialer's name in the store: its claims and its lease. A new one is taken when
    /// the dialer finds itself idle with claims nobody works on (see [`rotate_owner`]).
    owner: Mutex<String>,
    pub(crate) interval: Duration,
    pub(crate) pacing_key: String,
    /// `None` once the dialer stopped: the host's `next_event` then ends after the last one.
    events: Mutex<Option<mpsc::UnboundedSender<DialerEvent>>>,
    pub(crate) observer: CallObserver,
    pub(crate) wake: Notify,
    /// When this dialer's recent creates were sent (for the achieved rate).
    placed: Mutex<VecDeque<Instant>>,
    /// Until when the store surely holds this dialer's lease: the last renewal that
    /// succeeded, counted from when it was sent.
    lease_until: Mutex<Instant>,
}

impl Shared {
    pub(crate) fn new(
        provider: Arc<dyn TelephonyProvider>,
        store: Arc<dyn CampaignStore>,
        campaign: Campaign,
        cps: f64,
        events: mpsc::UnboundedSender<DialerEvent>,
    ) -> Shared {
        let pacing_key = campaign
            .pacing_key
            .clone()
            .unwrap_or_else(|| provider.kind().id().to_owned());
        Shared {
            provider,
            store,
            interval: Duration::from_secs_f64(1.0 / cps),
            pacing_key,
            owner: Mutex::new(new_owner()),
            campaign,
            events: Mutex::new(Some(events)),
            observer: CallObserver::default(),
            wake: Notify::new(),
            placed: Mutex::new(VecDeque::new()),
            lease_until: Mutex::new(Instant::now()),
        }
    }

    pub(crate) fn emit(&self, event: DialerEvent) {
        let events = self
            .events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // A host that dropped its receiver wants no events.
        if let Some(events) = events.as_ref() {
            let _ = events.send(event);
        }
    }

    pub(crate) fn note_create(&self) {
        let now = Instant::now();
        let mut placed = self
            .placed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        placed.push_back(now);
        while placed.len() > 10_000 {
            placed.pop_front();
        }
    }

    pub(crate) fn rate(&self, window: Duration) -> f64 {
        let placed = self
            .placed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(since) = Instant::now().checked_sub(window) else {
            return 0.0;
        };
        let n = placed.iter().rev().take_while(|t| **t >= since).count();
        n as f64 / window.as_secs_f64().max(1e-3)
    }

    fn id(&self) -> &str {
        &self.campaign.id
    }

    /// This dialer's name in the store now.
    pub(crate) fn owner(&self) -> String {
        self.owner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Renews the lease, and notes how long it surely holds.
    pub(crate) async fn renew_lease(&self) -> Result<(), crate::StoreError> {
        let sent = Instant::now();
        self.store
            .heartbeat(&self.owner(), self.campaign.lease)
            .await?;
        let mut until = self
            .lease_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *until = (*until).max(sent + self.campaign.lease);
        Ok(())
    }

    /// Whether the lease surely holds for a while yet (a third of it): a create is sent only
    /// then, so no other dialer can be taking this one's contacts while it dials them.
    pub(crate) fn lease_is_fresh(&self) -> bool {
        let until = *self
            .lease_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Instant::now() + self.campaign.lease / 3 < until
    }
}

/// A task aborted when its handle is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn new_owner() -> String {
    format!("dialer-{}", uuid::Uuid::new_v4().simple())
}

/// Renews the dialer's lease until dropped: every third of the lease, on a fixed schedule
/// (a slow renewal does not push the next one back).
async fn keep_lease(shared: Arc<Shared>) {
    let mut every = tokio::time::interval(shared.campaign.lease / 3);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    every.tick().await;
    loop {
        every.tick().await;
        if let Err(e) = shared.renew_lease().await {
            shared.emit(DialerEvent::StoreError(e.to_string()));
        }
    }
}

/// Runs the campaign on this dialer until it is finished or cancelled and every attempt
/// this dialer started has ended, then closes the events (whatever the outcome).
pub(crate) async fn run(shared: Arc<Shared>) -> Result<Progress, DialerError> {
    let outcome = run_until_stopped(shared.clone()).await;
    shared
        .events
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    outcome
}

async fn run_until_stopped(shared: Arc<Shared>) -> Result<Progress, DialerError> {
    shared.renew_lease().await?;
    // Renewed alongside the loop: when the loop ends or is dropped (the host dropped its
    // handle), renewal stops with it and the claims pass on once the lease runs out.
    let lease = AbortOnDrop(tokio::spawn(keep_lease(shared.clone())));
    let permits = Arc::new(Semaphore::new(
        shared.campaign.concurrency.min(Semaphore::MAX_PERMITS),
    ));
    let mut tasks = JoinSet::new();
    let mut state = None;
    let mut idle_held = 0u32;
    let outcome = loop {
        // Attempts that ended free their slot.
        while tasks.try_join_next().is_some() {}
        let now_state = match shared.store.state(shared.id()).await {
            Ok(Some(s)) => s,
            Ok(None) => {
                break Err(DialerError::Invalid(format!(
                    "campaign {:?} is not in the store",
                    shared.id()
                )));
            }
            Err(e) => {
                shared.emit(DialerEvent::StoreError(e.to_string()));
                tokio::time::sleep(STORE_BACKOFF).await;
                continue;
            }
        };
        if state != Some(now_state) {
            state = Some(now_state);
            shared.emit(DialerEvent::State(now_state));
        }
        match now_state {
            CampaignState::Cancelled => break Ok(()),
            CampaignState::Paused => {
                idle(&shared, &mut tasks, IDLE).await;
                continue;
            }
            CampaignState::Running => {}
        }
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
        };
        let now = SystemTime::now();
        let claimed = match shared
            .store
            .claim(shared.id(), &shared.owner(), millis(now))
            .await
        {
            Ok(c) => c,
            Err(e) => {
                shared.emit(DialerEvent::StoreError(e.to_string()));
                tokio::time::sleep(STORE_BACKOFF).await;
                continue;
            }
        };
        let Some(claimed) = claimed else {
            drop(permit);
            match shared.store.progress(shared.id()).await {
                Ok(p) if p.is_finished() && tasks.is_empty() => break Ok(()),
                Ok(p) => {
                    // Idle, with nothing of its own under way, while contacts are held: some
                    // may be this dialer's, held by nobody working on them (a claim whose
                    // answer was lost, an attempt whose task ended early). A new name lets
                    // them go: released, or taken back as orphans and settled.
                    if tasks.is_empty() && p.in_progress > 0 {
                        idle_held += 1;
                        if idle_held >= 3 {
                            idle_held = 0;
                            rotate_owner(&shared).await;
                        }
                    } else {
                        idle_held = 0;
                    }
                    let until_due = p.next_due_ms.map(|due| {
                        Duration::from_millis(due.saturating_sub(millis(SystemTime::now())))
                    });
                    let wait = until_due
                        .map_or(IDLE, |d| d.min(IDLE))
                        .max(Duration::from_millis(5));
                    idle(&shared, &mut tasks, wait).await;
                }
                Err(e) => {
                    shared.emit(DialerEvent::StoreError(e.to_string()));
                    tokio::time::sleep(STORE_BACKOFF).await;
                }
            }
            continue;
        };
        if claimed.in_flight.is_some() {
            tasks.spawn(attempt::reconcile(shared.clone(), claimed, permit));
            continue;
        }
        if let Some(ready) = ready_to_dial(&shared, claimed).await {
            tasks.spawn(attempt::dial(shared.clone(), ready, permit));
        }
    };
    while tasks.join_next().await.is_some() {}
    drop(lease);
    let _ = shared.store.retire(&shared.owner()).await;
    let progress = shared.store.progress(shared.id()).await;
    if let Ok(p) = &progress {
        shared.emit(DialerEvent::Finished(p.clone()));
    }
    outcome?;
    Ok(progress?)
}

/// Takes a new name in the store, giving up the old one's claims (see the loop), when no
/// attempt of this dialer is under way.
async fn rotate_owner(shared: &Shared) {
    let old = shared.owner();
    if let Err(e) = shared.store.retire(&old).await {
        shared.emit(DialerEvent::StoreError(e.to_string()));
        return;
    }
    *shared
        .owner
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = new_owner();
    if let Err(e) = shared.renew_lease().await {
        shared.emit(DialerEvent::StoreError(e.to_string()));
    }
}

/// Waits up to `wait` for something to change: an attempt ending, the host's pause, resume
/// or cancel.
async fn idle(shared: &Shared, tasks: &mut JoinSet<()>, wait: Duration) {
    tokio::select! {
        () = tokio::time::sleep(wait) => {}
        () = shared.wake.notified() => {}
        Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
    }
}

/// Settles what can be settled before a dial (the do-not-call check, the calling window),
/// then takes the account's next create slot and waits for it. The contact, when it is still
/// to be dialled now.
async fn ready_to_dial(shared: &Shared, claimed: Claimed) -> Option<Claimed> {
    let number = claimed.contact.number.clone();
    if let Some(dnc) = &shared.campaign.dnc {
        match dnc.may_call(&number).await {
            Ok(true) => {}
            Ok(false) => {
                let result = AttemptResult::new(
                    claimed.attempts,
                    Outcome::DoNotCall,
                    millis(SystemTime::now()),
                );
                settle(shared, &claimed, result, Next::Done).await;
                return None;
            }
            Err(e) => {
                tracing::warn!(%number, error = %e, "the do-not-call check failed; trying the contact later");
                let until = SystemTime::now() + Duration::from_secs(60);
                defer(shared, &claimed, until, DeferReason::DoNotCallUnavailable).await;
                return None;
            }
        }
    }
    if let Some(until) = closed_until(shared, &claimed, SystemTime::now()) {
        defer(shared, &claimed, until, DeferReason::Window).await;
        return None;
    }
    match shared.store.pace(&shared.pacing_key, shared.interval).await {
        Ok(wait) => tokio::time::sleep(wait).await,
        Err(e) => {
            shared.emit(DialerEvent::StoreError(e.to_string()));
            defer(
                shared,
                &claimed,
                SystemTime::now(),
                DeferReason::StoreFailed,
            )
            .await;
            tokio::time::sleep(STORE_BACKOFF).await;
            return None;
        }
    }
    // The slot came: the campaign may have been paused, and the window may have closed.
    match shared.store.state(shared.id()).await {
        Ok(Some(CampaignState::Running)) => {}
        _ => {
            defer(shared, &claimed, SystemTime::now(), DeferReason::Paused).await;
            return None;
        }
    }
    if let Some(until) = closed_until(shared, &claimed, SystemTime::now()) {
        defer(shared, &claimed, until, DeferReason::Window).await;
        return None;
    }
    // A lease the store may have let lapse (its renewals failing): another dialer may be
    // taking this contact. Give it back rather than dial it.
    if !shared.lease_is_fresh() {
        defer(
            shared,
            &claimed,
            SystemTime::now(),
            DeferReason::StoreFailed,
        )
        .await;
        tokio::time::sleep(STORE_BACKOFF).await;
        return None;
    }
    Some(claimed)
}

/// When the contact's window opens, if it is closed at `now`.
fn closed_until(shared: &Shared, claimed: &Claimed, now: SystemTime) -> Option<SystemTime> {
    let zone = claimed
        .contact
        .time_zone
        .as_deref()
        .and_then(|z| zone(z).ok())
        .unwrap_or_else(|| shared.campaign.zone.clone());
    match shared.campaign.window.next_open(now, &zone) {
        Some(open) if open <= now => None,
        Some(open) => Some(open),
        // A window with no open day: never.
        None => Some(now + Duration::from_secs(365 * 24 * 3600)),
    }
}

/// Gives a contact back at once, when this dialer still holds it and recorded nothing on it.
pub(crate) async fn give_back(shared: &Shared, claimed: &Claimed) {
    defer(shared, claimed, SystemTime::now(), DeferReason::StoreFailed).await;
}

async fn defer(shared: &Shared, claimed: &Claimed, until: SystemTime, reason: DeferReason) {
    let number = &claimed.contact.number;
    // Retried while the store fails: a claim given back nowhere would stay held by a dialer
    // that no longer works on it.
    let mut wait = Duration::from_millis(200);
    loop {
        match shared
            .store
            .defer(shared.id(), number, &shared.owner(), millis(until))
            .await
        {
            Ok(true) => {
                shared.emit(DialerEvent::Deferred {
                    number: number.clone(),
                    until,
                    reason,
                });
                return;
            }
            // The claim passed to another dialer meanwhile: theirs now.
            Ok(false) => return,
            Err(e) => {
                shared.emit(DialerEvent::StoreError(e.to_string()));
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(10));
            }
        }
    }
}

/// Records a contact's result and tells the host.
pub(crate) async fn settle(shared: &Shared, claimed: &Claimed, result: AttemptResult, next: Next) {
    let number = &claimed.contact.number;
    // A store that fails here is retried: the result must not be lost while this dialer
    // lives (if it dies, the attempt is reconciled from its call id).
    let mut wait = Duration::from_millis(200);
    loop {
        match shared
            .store
            .finish(shared.id(), number, &shared.owner(), &result, next)
            .await
        {
            Ok(true) => break,
            Ok(false) => {
                tracing::warn!(%number, "the claim on this contact passed to another dialer; its result is theirs to record");
                return;
            }
            Err(e) => {
                shared.emit(DialerEvent::StoreError(e.to_string()));
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(10));
            }
        }
    }
    let retry_at = match next {
        Next::RetryAt(ms) => Some(crate::store::from_millis(ms)),
        Next::Done => None,
    };
    shared.emit(DialerEvent::Ended {
        number: number.clone(),
        result,
        retry_at,
    });
    shared.wake.notify_one();
}
