//! Where a campaign's state lives: the seam every dialer (and every replica) goes through.
//!
//! A [`CampaignStore`] holds the contacts, the claim a dialer holds on each, the attempt in
//! flight, the results, the campaign's state (running, paused, cancelled) and the account's
//! pacing. Every operation is atomic in the store, so dialers in several processes (or on
//! several machines, with [`RedisStore`](crate::RedisStore)) share one campaign safely:
//! - a contact is claimed by one dialer at a time, and a claim whose dialer stopped renewing
//!   its lease (it crashed) passes to another with the attempt it left in flight;
//! - an attempt is recorded before the carrier is asked to dial, so a crash never leaves an
//!   unknown call;
//! - pacing reserves the account's next create slot, one budget for every dialer.
//!
//! Both stores are also a webhook [`ReplayGuard`](telephony_core::ReplayGuard): give each
//! replica's router its store too, in an `Arc`, with the facade's
//! `telephony::InboundRouter::replay_guard(store.clone())`, and a webhook one replica took is
//! a repeat on every other replica on the same file or Redis (acknowledged, not handled twice).

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use telephony_core::E164;

use crate::{Contact, Outcome};

#[cfg(test)]
pub(crate) mod contract;
#[cfg(feature = "redis")]
pub(crate) mod redis;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;

/// A store that failed: its connection, its file, or data it holds that does not read back.
#[derive(Debug, thiserror::Error)]
#[error("campaign store: {message}")]
pub struct StoreError {
    message: String,
}

impl StoreError {
    /// An error with this message (never put a credential in it).
    pub fn new(message: impl fmt::Display) -> StoreError {
        StoreError {
            message: message.to_string(),
        }
    }
}

/// Milliseconds since the Unix epoch: the store's clock.
pub fn millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The time `ms` milliseconds after the Unix epoch.
pub fn from_millis(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

/// A campaign's state, as every dialer on it reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignState {
    /// Dialling.
    Running,
    /// Dialling nothing new until resumed; calls under way go on.
    Paused,
    /// Dialling nothing new, ever; calls under way go on and are recorded.
    Cancelled,
}

impl CampaignState {
    /// Its name: `running`, `paused` or `cancelled`.
    pub fn as_str(&self) -> &'static str {
        match self {
            CampaignState::Running => "running",
            CampaignState::Paused => "paused",
            CampaignState::Cancelled => "cancelled",
        }
    }

    /// The state named `s`.
    pub fn parse(s: &str) -> Option<CampaignState> {
        match s {
            "running" => Some(CampaignState::Running),
            "paused" => Some(CampaignState::Paused),
            "cancelled" => Some(CampaignState::Cancelled),
            _ => None,
        }
    }
}

impl fmt::Display for CampaignState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One attempt at a contact, as recorded before the carrier is asked to dial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Attempt {
    /// Which attempt at the contact: 1 for the first.
    pub number: u32,
    /// The attempt's idempotency key, unique in the campaign (sent where the carrier takes one).
    pub key: String,
    /// The caller id it dials from.
    pub from: String,
    /// When it was recorded (ms since the epoch).
    pub started_ms: u64,
    /// The carrier's call id once the create answered; `None` while the create may be in
    /// flight: such an attempt may have placed a call nobody knows the id of.
    pub call_id: Option<String>,
}

impl Attempt {
    /// An attempt about to be sent.
    pub fn new(number: u32, key: String, from: String, started_ms: u64) -> Attempt {
        Attempt {
            number,
            key,
            from,
            started_ms,
            call_id: None,
        }
    }
}

/// A contact claimed by a dialer: its details, how many attempts it has had, and the attempt
/// a dialer that stopped left in flight (to reconcile, never to dial again).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Claimed {
    /// The contact.
    pub contact: Contact,
    /// Attempts finished so far.
    pub attempts: u32,
    /// The attempt in flight when its dialer stopped, if any.
    pub in_flight: Option<Attempt>,
}

/// What one attempt came to, as the results record it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AttemptResult {
    /// How many attempts the contact has had, this one included (0 where none was made:
    /// do-not-call).
    pub attempts: u32,
    /// The outcome.
    pub outcome: Outcome,
    /// The carrier's id for the call, where one was placed.
    pub call_id: Option<String>,
    /// How long the call lasted once answered, in seconds.
    pub duration_secs: Option<u64>,
    /// What it cost, as `amount currency` (`0.0130 USD`), where the carrier priced it.
    pub cost: Option<String>,
    /// The call's recording, where one was made and reported.
    pub recording_url: Option<String>,
    /// Why, in words, where the outcome needs explaining (the carrier's refusal).
    pub detail: Option<String>,
    /// When it ended (ms since the epoch).
    pub ended_ms: u64,
}

impl AttemptResult {
    /// A result with nothing but its outcome.
    pub fn new(attempts: u32, outcome: Outcome, ended_ms: u64) -> AttemptResult {
        AttemptResult {
            attempts,
            outcome,
            call_id: None,
            duration_secs: None,
            cost: None,
            recording_url: None,
            detail: None,
            ended_ms,
        }
    }
}

/// What happens to a contact after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Called again from this time on (ms since the epoch).
    RetryAt(u64),
    /// Done: the result is final.
    Done,
}

/// Where a contact stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactStatus {
    /// Waiting for its (next) attempt.
    Pending,
    /// Claimed by a dialer: being called, or about to be.
    Claimed,
    /// Finished.
    Done,
}

/// A contact's line in the results.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ContactResult {
    /// The contact.
    pub contact: Contact,
    /// Where it stands.
    pub status: ContactStatus,
    /// Attempts made.
    pub attempts: u32,
    /// Its last attempt's result (final once `status` is done).
    pub last: Option<AttemptResult>,
}

/// How far a campaign has come.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Progress {
    /// Contacts in all.
    pub total: u64,
    /// Contacts not attempted yet.
    pub pending: u64,
    /// Contacts waiting for a retry.
    pub retrying: u64,
    /// Contacts claimed by a dialer now (being called).
    pub in_progress: u64,
    /// Contacts finished.
    pub done: u64,
    /// Attempts made in all.
    pub dialled: u64,
    /// Finished contacts by final outcome.
    pub outcomes: BTreeMap<Outcome, u64>,
    /// When the earliest pending contact is due (ms since the epoch).
    pub next_due_ms: Option<u64>,
    /// The campaign's state, `None` for a campaign the store does not hold.
    pub state: Option<CampaignState>,
}

impl Progress {
    /// Whether nothing is left to call or under way.
    pub fn is_finished(&self) -> bool {
        self.pending + self.retrying + self.in_progress == 0
    }
}

/// The state of campaigns, shared by every dialer that runs them. See the [module](self).
///
/// Implementations: [`SqliteStore`](crate::SqliteStore), one file, for dialers on one
/// machine; [`RedisStore`](crate::RedisStore), for dialers on many. Both also keep a webhook
/// replay guard's keys ([`telephony_core::ReplayGuard`]).
#[async_trait]
pub trait CampaignStore: Send + Sync + fmt::Debug {
    /// Adds the contacts a campaign does not hold yet (by number), creating the campaign
    /// (running) if it is new; contacts it holds keep their state. Returns how many were
    /// added.
    async fn add_contacts(
        &self,
        campaign: &str,
        contacts: &[Contact],
        now_ms: u64,
    ) -> Result<u64, StoreError>;

    /// The campaign's state, `None` when the store does not hold it.
    async fn state(&self, campaign: &str) -> Result<Option<CampaignState>, StoreError>;

    /// Sets the campaign's state; `false` when the store does not hold it.
    async fn set_state(&self, campaign: &str, state: CampaignState) -> Result<bool, StoreError>;

    /// Keeps `owner`'s claims for `lease` from now. A dialer renews well within its lease;
    /// once a lease runs out, the owner's claims pass to whoever claims next.
    async fn heartbeat(&self, owner: &str, lease: Duration) -> Result<(), StoreError>;

    /// Ends `owner`'s lease at once (a dialer that stops cleanly, its claims released).
    async fn retire(&self, owner: &str) -> Result<(), StoreError>;

    /// Claims the next contact due at `now_ms` for `owner`: a pending contact whose time has
    /// come (earliest first, then in list order), or one claimed by an owner whose lease ran
    /// out (with the attempt it left in flight). `None` when nothing is due.
    async fn claim(
        &self,
        campaign: &str,
        owner: &str,
        now_ms: u64,
    ) -> Result<Option<Claimed>, StoreError>;

    /// Records an attempt in flight on a contact `owner` holds: before the carrier is asked
    /// to dial, and again with its call id. `false` when `owner` no longer holds the contact.
    async fn record_attempt(
        &self,
        campaign: &str,
        number: &E164,
        owner: &str,
        attempt: &Attempt,
    ) -> Result<bool, StoreError>;

    /// Records an attempt's result (or, with `next`, only gives the contact back: see
    /// [`defer`](Self::defer)) and releases the claim: the contact is due again at `next`'s
    /// time, or done. `false` when `owner` no longer holds the contact.
    async fn finish(
        &self,
        campaign: &str,
        number: &E164,
        owner: &str,
        result: &AttemptResult,
        next: Next,
    ) -> Result<bool, StoreError>;

    /// Gives a claimed contact back without an attempt, due at `due_ms` (its calling window
    /// opens then, or the campaign was paused). `false` when `owner` no longer holds it.
    async fn defer(
        &self,
        campaign: &str,
        number: &E164,
        owner: &str,
        due_ms: u64,
    ) -> Result<bool, StoreError>;

    /// Reserves the account's next create slot, `interval` after the last one reserved by
    /// any dialer (or now, when that has passed), and returns how long to wait for it.
    async fn pace(&self, account: &str, interval: Duration) -> Result<Duration, StoreError>;

    /// Counts by status.
    async fn progress(&self, campaign: &str) -> Result<Progress, StoreError>;

    /// Every contact with its result, in list order.
    async fn results(&self, campaign: &str) -> Result<Vec<ContactResult>, StoreError>;
}

/// A store named the way the CLI takes it: `sqlite:PATH` (or a path ending `.db`/`.sqlite`),
/// or a `redis://` (or `redis+unix://`) URL. TLS to Redis (`rediss://`) is not built in:
/// reach a remote server over a private network or a TLS tunnel.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// A SQLite file.
    Sqlite(std::path::PathBuf),
    /// A Redis server.
    Redis(String),
}

impl fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreUrl::Sqlite(p) => f.debug_tuple("Sqlite").field(p).finish(),
            StoreUrl::Redis(url) => f.debug_tuple("Redis").field(&redact_url(url)).finish(),
        }
    }
}

/// A URL with its password, if any, replaced by `***` (`telephony_core::redact_url`).
pub use telephony_core::redact_url;

impl std::str::FromStr for StoreUrl {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<StoreUrl, StoreError> {
        if s.starts_with("rediss://") {
            return Err(StoreError::new(
                "rediss:// (TLS) is not built in: use redis:// over a private network or a TLS tunnel",
            ));
        }
        if s.starts_with("redis://") || s.starts_with("redis+unix://") {
            return Ok(StoreUrl::Redis(s.to_owned()));
        }
        if let Some(path) = s
            .strip_prefix("sqlite://")
            .or_else(|| s.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(StoreError::new(
                    "sqlite: needs a file path (sqlite:campaign.db)",
                ));
            }
            return Ok(StoreUrl::Sqlite(path.into()));
        }
        let lower = s.to_ascii_lowercase();
        if [".db", ".sqlite", ".sqlite3"]
            .iter()
            .any(|ext| lower.ends_with(ext))
            && !s.contains("://")
        {
            return Ok(StoreUrl::Sqlite(s.into()));
        }
        Err(StoreError::new(format!(
            "unknown store {:?}: expected sqlite:PATH (or a path ending .db) or redis://HOST:PORT",
            redact_url(s)
        )))
    }
}

impl StoreUrl {
    /// Opens the store.
    pub async fn open(&self) -> Result<std::sync::Arc<dyn CampaignStore>, StoreError> {
        match self {
            #[cfg(feature = "sqlite")]
            StoreUrl::Sqlite(path) => Ok(std::sync::Arc::new(crate::SqliteStore::open(path)?)),
            #[cfg(feature = "redis")]
            StoreUrl::Redis(url) => Ok(std::sync::Arc::new(crate::RedisStore::connect(url).await?)),
            #[allow(unreachable_patterns)]
            _ => Err(StoreError::new(
                "this build has no such store (feature off)",
            )),
        }
    }
}
