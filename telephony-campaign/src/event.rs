//! What a running campaign tells its host.

use std::time::SystemTime;

use telephony_core::E164;

use crate::store::{Attempt, AttemptResult, CampaignState, Progress};

/// Why a contact was given back without an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeferReason {
    /// Its calling window is closed now.
    Window,
    /// The campaign was paused while it waited for its slot.
    Paused,
    /// The do-not-call check could not answer.
    DoNotCallUnavailable,
    /// The store failed while the contact waited for its slot.
    StoreFailed,
}

/// One thing that happened in a campaign, in the order it happened on this dialer.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DialerEvent {
    /// An attempt was recorded and its create is being sent.
    Dialing {
        /// The contact.
        number: E164,
        /// The attempt.
        attempt: Attempt,
    },
    /// The carrier accepted the create.
    Placed {
        /// The contact.
        number: E164,
        /// Which attempt.
        attempt: u32,
        /// The carrier's id for the call.
        call_id: String,
    },
    /// An attempt a stopped dialer left in flight is being settled from the carrier's
    /// status (or, without a call id, reported as unconfirmed): never dialled again.
    Reconciling {
        /// The contact.
        number: E164,
        /// The attempt it left.
        attempt: Attempt,
    },
    /// An attempt ended (or a contact was settled without one: do-not-call, unconfirmed).
    Ended {
        /// The contact.
        number: E164,
        /// What it came to.
        result: AttemptResult,
        /// When the contact is called again, or `None` when it is done.
        retry_at: Option<SystemTime>,
    },
    /// A contact was given back, due again at `until`.
    Deferred {
        /// The contact.
        number: E164,
        /// When it is due again.
        until: SystemTime,
        /// Why.
        reason: DeferReason,
    },
    /// The campaign's state changed (here or from another process: `telephony campaign
    /// pause`).
    State(CampaignState),
    /// The store failed; the dialer waits and tries again.
    StoreError(String),
    /// This dialer stopped: the campaign finished (or was cancelled), with the counts then.
    Finished(Progress),
}
