//! Outbound campaigns: "call these people", at the pace the carrier allows, with retries,
//! in the callee's calling hours, and never anyone twice, on one machine or many.
//!
//! A [`Campaign`] is a list of [`Contact`]s (a number, variables for the agent, a time
//! zone), the stream each answered call is connected to, caller ids, and limits: calls per
//! second per carrier account, concurrent calls, a [`RetryPolicy`] per [`Outcome`], a
//! [`CallingWindow`] read in each callee's zone, and a [`DoNotCall`] check. A [`Dialer`]
//! runs it against any [`TelephonyProvider`](telephony_core::TelephonyProvider), with its
//! state in a [`CampaignStore`]:
//!
//! - [`SqliteStore`], the default: one file, SQLite compiled in, nothing to install;
//! - [`RedisStore`], for several replicas: they share each contact's claim, one
//!   calls-per-second budget for the account, and (as a
//!   [`ReplayGuard`](telephony_core::ReplayGuard)) the webhook replay keys.
//!
//! ```no_run
//! use std::sync::Arc;
//! use telephony_campaign::{Campaign, Contact, Dialer, DialerEvent, SqliteStore};
//! use telephony_core::StreamSpec;
//!
//! # async fn run(provider: Arc<dyn telephony_core::TelephonyProvider>) -> Result<(), Box<dyn std::error::Error>> {
//! let store = Arc::new(SqliteStore::open("campaign.db")?);
//! let campaign = Campaign::new("renewals", StreamSpec::new("wss://agent.example.com/media".parse()?))
//!     .from("+14155550199".parse()?)
//!     .contacts([Contact::new("+14155550100".parse()?).var("name", "Ada")])
//!     .window("09:00-20:00".parse()?);
//! let mut running = Dialer::new(provider, store).start(campaign).await?;
//! while let Some(event) = running.next_event().await {
//!     if let DialerEvent::Ended { number, result, .. } = event {
//!         println!("{number}: {}", result.outcome);
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! # Never twice
//!
//! Each attempt is written to the store before the carrier is asked to dial, and again with
//! the call's id. A dialer that crashes leaves its claims to the next dialer once its lease
//! runs out; an attempt it left in flight is settled from the carrier's call status (with
//! its call id) or reported as [`Outcome::Unconfirmed`] (when the create may have reached
//! the carrier and its id never came back): it is never dialled again. A contact whose
//! attempt was never recorded is dialled once.
//!
//! # Outcomes
//!
//! Each call is followed to its end by polling the carrier's status with backoff, or, with
//! [`Campaign::status_callback`], by the webhooks the host passes to
//! [`RunningCampaign::observe`]. Machine outcomes need machine detection
//! ([`Campaign::machine_detection`]); by polling, only carriers whose call resource reports
//! the verdict (Twilio) tell a machine from a person.

mod contact;
pub mod csv;
mod dialer;
mod dnc;
mod event;
mod outcome;
mod retry;
pub mod store;
mod window;

pub use contact::Contact;
pub use dialer::{
    CallObserver, Campaign, Dialer, DialerError, OnMachine, Polling, RunningCampaign,
};
pub use dnc::{DncError, DoNotCall, DoNotCallList};
pub use event::{DeferReason, DialerEvent};
pub use outcome::{Outcome, UnknownOutcome};
pub use retry::{Retry, RetryPolicy};
pub use store::{CampaignState, CampaignStore, Progress, StoreError, StoreUrl};
pub use window::{CallingWindow, InvalidWindow, UnknownZone, zone};

#[cfg(feature = "redis")]
pub use store::redis::RedisStore;
#[cfg(feature = "sqlite")]
pub use store::sqlite::SqliteStore;
