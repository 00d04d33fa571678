//! [`Dialer`]: runs a [`Campaign`] against a provider, through a [`CampaignStore`].

mod attempt;
mod dispatch;
mod observe;

use std::sync::Arc;
use std::time::Duration;

use jiff::tz::TimeZone;
use telephony_core::{
    CallNotice, CallTarget, E164, MachineDetection, RecordingOptions, StreamSpec,
    TelephonyProvider, Url,
};
use tokio::sync::mpsc;

use crate::store::{CampaignState, CampaignStore, ContactResult, Progress, StoreError};
use crate::window::{UnknownZone, zone};
use crate::{CallingWindow, Contact, DialerEvent, DoNotCall, RetryPolicy};

pub use observe::CallObserver;

/// What the dialer does when machine detection says a machine answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OnMachine {
    /// Hangs up at once (the default): the outcome is [`Machine`](crate::Outcome::Machine).
    #[default]
    HangUp,
    /// Leaves the call to the agent (to leave a message); the outcome is still a machine.
    Continue,
}

/// How the dialer learns how each call ended: by polling the carrier's call status, from
/// the first poll `first` after the create, each later one `factor` times later, at most
/// `max` apart; webhooks passed to [`RunningCampaign::observe`] settle a call at once.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Polling {
    /// The wait before the first poll.
    pub first: Duration,
    /// The longest wait between polls.
    pub max: Duration,
    /// What each wait is multiplied by.
    pub factor: f64,
    /// How long a call is followed before its outcome is recorded as unconfirmed.
    pub give_up_after: Duration,
}

impl Default for Polling {
    fn default() -> Polling {
        Polling {
            first: Duration::from_secs(2),
            max: Duration::from_secs(15),
            factor: 1.5,
            give_up_after: Duration::from_secs(6 * 3600),
        }
    }
}

impl Polling {
    /// Polls from `first`, up to `max` apart.
    pub fn new(first: Duration, max: Duration) -> Polling {
        Polling {
            first,
            max: max.max(first),
            ..Polling::default()
        }
    }

    /// Sets how long a call is followed before it is recorded as unconfirmed.
    pub fn give_up_after(mut self, limit: Duration) -> Polling {
        self.give_up_after = limit;
        self
    }
}

/// A campaign: who to call, from which numbers, with what, and under which limits.
///
/// ```
/// use std::time::Duration;
/// use telephony_campaign::{Campaign, Contact, Outcome, Retry, RetryPolicy};
/// use telephony_core::StreamSpec;
///
/// let campaign = Campaign::new("renewals-2026-12", StreamSpec::new("wss://agent.example.com/media".parse()?))
///     .from("+14155550199".parse()?)
///     .contacts([Contact::new("+14155550100".parse()?).var("name", "Ada")])
///     .calls_per_second(1.0)
///     .concurrency(20)
///     .window("09:00-20:00 mon-fri".parse()?)
///     .default_zone("America/New_York")?
///     .retry(RetryPolicy::default().on(Outcome::Busy, Retry::new(3, Duration::from_secs(300))));
/// assert_eq!(campaign.id(), "renewals-2026-12");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Campaign {
    pub(crate) id: String,
    pub(crate) target: CallTarget,
    pub(crate) contacts: Vec<Contact>,
    pub(crate) from: Vec<E164>,
    pub(crate) cps: Option<f64>,
    pub(crate) concurrency: usize,
    pub(crate) retry: RetryPolicy,
    pub(crate) window: CallingWindow,
    pub(crate) zone: TimeZone,
    pub(crate) dnc: Option<Arc<dyn DoNotCall>>,
    pub(crate) machine_detection: Option<MachineDetection>,
    pub(crate) on_machine: OnMachine,
    pub(crate) ring_timeout: Option<Duration>,
    pub(crate) time_limit: Option<Duration>,
    pub(crate) record: Option<RecordingOptions>,
    pub(crate) status_callback: Option<Url>,
    pub(crate) pacing_key: Option<String>,
    pub(crate) polling: Polling,
    pub(crate) lease: Duration,
}

impl Campaign {
    /// A campaign named `id` (the store's key for it: the same id resumes it), whose calls
    /// are streamed to `stream` once answered; each contact's variables are added to the
    /// stream's parameters.
    pub fn new(id: impl Into<String>, stream: StreamSpec) -> Campaign {
        Campaign::with_target(id, CallTarget::Stream(stream))
    }

    /// A campaign whose calls fetch their instructions from `answer_url` once answered
    /// (Plivo places calls only this way): each contact's variables are added to the URL's
    /// query, for the host's answer handler to pass on to the stream.
    pub fn answer_url(id: impl Into<String>, answer_url: Url) -> Campaign {
        Campaign::with_target(id, CallTarget::AnswerUrl(answer_url))
    }

    fn with_target(id: impl Into<String>, target: CallTarget) -> Campaign {
        Campaign {
            id: id.into(),
            target,
            contacts: Vec::new(),
            from: Vec::new(),
            cps: None,
            concurrency: 10,
            retry: RetryPolicy::default(),
            window: CallingWindow::always(),
            zone: TimeZone::UTC,
            dnc: None,
            machine_detection: None,
            on_machine: OnMachine::default(),
            ring_timeout: None,
            time_limit: None,
            record: None,
            status_callback: None,
            pacing_key: None,
            polling: Polling::default(),
            lease: Duration::from_secs(30),
        }
    }

    /// Its id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Adds contacts (a number already in the campaign, in this list or in the store, is
    /// kept once). A dialer that joins a campaign another one loaded needs none.
    pub fn contacts(mut self, contacts: impl IntoIterator<Item = Contact>) -> Campaign {
        self.contacts.extend(contacts);
        self
    }

    /// Adds a caller id. With several, attempts rotate through them.
    pub fn from(mut self, number: E164) -> Campaign {
        self.from.push(number);
        self
    }

    /// Sets the account's calls per second, shared by every dialer on the same store (the
    /// carrier's documented default otherwise: Twilio 1, Plivo 2, Vonage 3).
    pub fn calls_per_second(mut self, cps: f64) -> Campaign {
        self.cps = Some(cps);
        self
    }

    /// Sets how many of this dialer's calls may be under way at once (10 by default).
    pub fn concurrency(mut self, n: usize) -> Campaign {
        self.concurrency = n.max(1);
        self
    }

    /// Sets the retry policy.
    pub fn retry(mut self, policy: RetryPolicy) -> Campaign {
        self.retry = policy;
        self
    }

    /// Sets the calling window (always open by default).
    pub fn window(mut self, window: CallingWindow) -> Campaign {
        self.window = window;
        self
    }

    /// Sets the zone of contacts without one (UTC by default).
    pub fn default_zone(mut self, name: &str) -> Result<Campaign, UnknownZone> {
        self.zone = zone(name)?;
        Ok(self)
    }

    /// Sets the do-not-call check, asked before every attempt.
    pub fn do_not_call(mut self, check: Arc<dyn DoNotCall>) -> Campaign {
        self.dnc = Some(check);
        self
    }

    /// Turns on machine detection, and says what to do on a machine.
    pub fn machine_detection(mut self, mode: MachineDetection, on_machine: OnMachine) -> Campaign {
        self.machine_detection = Some(mode);
        self.on_machine = on_machine;
        self
    }

    /// Sets how long each call rings.
    pub fn ring_timeout(mut self, timeout: Duration) -> Campaign {
        self.ring_timeout = Some(timeout);
        self
    }

    /// Sets the longest a call may last.
    pub fn time_limit(mut self, limit: Duration) -> Campaign {
        self.time_limit = Some(limit);
        self
    }

    /// Records every call from its answer.
    pub fn record(mut self, options: RecordingOptions) -> Campaign {
        self.record = Some(options);
        self
    }

    /// Points the carrier's status webhooks at the host's server, which passes them to
    /// [`RunningCampaign::observe`]: calls are then settled as their webhooks arrive, and
    /// polled rarely, as a safety net.
    pub fn status_callback(mut self, url: Url) -> Campaign {
        self.status_callback = Some(url);
        self
    }

    /// Names the pacing budget (the provider's id by default). Give each carrier account its
    /// own name when one store serves several accounts of one carrier.
    pub fn pacing_key(mut self, key: impl Into<String>) -> Campaign {
        self.pacing_key = Some(key.into());
        self
    }

    /// Sets how calls are polled.
    pub fn polling(mut self, polling: Polling) -> Campaign {
        self.polling = polling;
        self
    }

    /// Sets this dialer's lease on its claims (30 s by default): how long after a crash its
    /// contacts pass to another dialer.
    pub fn lease(mut self, lease: Duration) -> Campaign {
        self.lease = lease.max(Duration::from_millis(100));
        self
    }
}

/// Why a campaign could not start or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DialerError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The campaign is not one that can run.
    #[error("invalid campaign: {0}")]
    Invalid(String),
    /// The provider cannot take the campaign's calls (a call option it lacks).
    #[error(transparent)]
    Provider(#[from] telephony_core::Error),
}

/// Runs campaigns: one provider, one store.
#[derive(Debug, Clone)]
pub struct Dialer {
    provider: Arc<dyn TelephonyProvider>,
    store: Arc<dyn CampaignStore>,
}

impl Dialer {
    /// A dialer placing calls through `provider`, its state in `store`.
    pub fn new(provider: Arc<dyn TelephonyProvider>, store: Arc<dyn CampaignStore>) -> Dialer {
        Dialer { provider, store }
    }

    /// Loads the campaign's contacts into the store (keeping those it already holds, with
    /// their state) and starts dialling on the current tokio runtime. A campaign that was
    /// cancelled stays cancelled; resume it first.
    pub async fn start(&self, campaign: Campaign) -> Result<RunningCampaign, DialerError> {
        if campaign.from.is_empty() {
            return Err(DialerError::Invalid(
                "no caller id: add one with Campaign::from".into(),
            ));
        }
        if campaign.id.is_empty() || campaign.id.len() > 200 {
            return Err(DialerError::Invalid(
                "the campaign id must be 1 to 200 characters".into(),
            ));
        }
        let cps = campaign
            .cps
            .unwrap_or_else(|| self.provider.carrier().calls_per_second());
        if !(cps.is_finite() && (0.001..=10_000.0).contains(&cps)) {
            return Err(DialerError::Invalid(format!(
                "calls per second must be from 0.001 to 10000, not {cps}"
            )));
        }
        let carrier = self.provider.carrier();
        if !carrier.outcome_by_polling() && campaign.status_callback.is_none() {
            return Err(DialerError::Invalid(format!(
                "{} tells how a call ended only in its webhooks: set Campaign::status_callback to \
                 the host's server and pass each verified callback to RunningCampaign::observe",
                self.provider.kind().name()
            )));
        }
        for c in &campaign.contacts {
            if let Some(z) = &c.time_zone {
                zone(z).map_err(|e| DialerError::Invalid(format!("{}: {e}", c.number)))?;
            }
        }
        // A call option the carrier cannot take is refused before any contact is claimed.
        let probe = attempt::outbound(
            &campaign,
            &Contact::new(campaign.from[0].clone()),
            &campaign.from[0],
            "probe",
        );
        self.provider
            .capabilities()
            .check_call(self.provider.kind(), &probe)?;
        let now = crate::store::millis(std::time::SystemTime::now());
        self.store
            .add_contacts(&campaign.id, &campaign.contacts, now)
            .await?;
        let (events, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(dispatch::Shared::new(
            self.provider.clone(),
            self.store.clone(),
            campaign,
            cps,
            events,
        ));
        let task = tokio::spawn(dispatch::run(shared.clone()));
        Ok(RunningCampaign {
            shared,
            events: rx,
            task: Some(task),
        })
    }

    /// The campaign's counts, from the store (for a campaign any dialer runs).
    pub async fn progress(&self, campaign: &str) -> Result<Progress, StoreError> {
        self.store.progress(campaign).await
    }
}

/// A campaign this dialer is running: its events, its controls, its end.
#[derive(Debug)]
pub struct RunningCampaign {
    shared: Arc<dispatch::Shared>,
    events: mpsc::UnboundedReceiver<DialerEvent>,
    task: Option<tokio::task::JoinHandle<Result<Progress, DialerError>>>,
}

impl RunningCampaign {
    /// The next event; `None` once the dialer stopped and every event was read.
    pub async fn next_event(&mut self) -> Option<DialerEvent> {
        self.events.recv().await
    }

    /// Hands a verified callback to the dialer (from the host's webhook handler): a final
    /// status settles its attempt at once; a machine verdict hangs up where so configured; a
    /// recording's URL goes into the results. Callbacks about other calls are ignored.
    pub fn observe(&self, notice: &CallNotice) {
        self.shared.observer.observe(notice);
    }

    /// A handle the host's webhook handler keeps, to [`observe`](Self::observe) from
    /// anywhere.
    pub fn observer(&self) -> CallObserver {
        self.shared.observer.clone()
    }

    /// Pauses the campaign for every dialer on the store: nothing new is dialled; calls under
    /// way go on.
    pub async fn pause(&self) -> Result<(), StoreError> {
        self.set(CampaignState::Paused).await
    }

    /// Resumes a paused campaign.
    pub async fn resume(&self) -> Result<(), StoreError> {
        self.set(CampaignState::Running).await
    }

    /// Cancels the campaign for every dialer: nothing new is dialled, ever; calls under way
    /// go on and are recorded, then the dialers stop.
    pub async fn cancel(&self) -> Result<(), StoreError> {
        self.set(CampaignState::Cancelled).await
    }

    async fn set(&self, state: CampaignState) -> Result<(), StoreError> {
        self.shared
            .store
            .set_state(&self.shared.campaign.id, state)
            .await?;
        self.shared.wake.notify_one();
        Ok(())
    }

    /// The counts now, from the store.
    pub async fn progress(&self) -> Result<Progress, StoreError> {
        self.shared.store.progress(&self.shared.campaign.id).await
    }

    /// Every contact with its result, in list order.
    pub async fn results(&self) -> Result<Vec<ContactResult>, StoreError> {
        self.shared.store.results(&self.shared.campaign.id).await
    }

    /// Calls placed by this dialer per second over the last `window` (the achieved rate).
    pub fn calls_per_second(&self, window: Duration) -> f64 {
        self.shared.rate(window)
    }

    /// Waits until this dialer stops (the campaign finished, or was cancelled and its calls
    /// ended), and returns the counts then. Events not yet read stay readable.
    pub async fn finished(&mut self) -> Result<Progress, DialerError> {
        match self.task.take() {
            Some(task) => task
                .await
                .map_err(|e| DialerError::Invalid(format!("the dialer's task failed: {e}")))?,
            None => self.progress().await.map_err(DialerError::from),
        }
    }
}

impl Drop for RunningCampaign {
    fn drop(&mut self) {
        // Dropping the handle stops dialling new contacts; the store keeps the rest for the
        // next run (claims held are released when the lease runs out).
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
