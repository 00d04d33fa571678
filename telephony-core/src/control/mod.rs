//! Call control: transfer to a person, recording, answering-machine detection and DTMF, and
//! the callbacks that report them ([`CallNotice`]).
//!
//! The operations are methods of [`TelephonyProvider`](crate::TelephonyProvider)
//! ([`transfer`](crate::TelephonyProvider::transfer),
//! [`start_recording`](crate::TelephonyProvider::start_recording),
//! [`download_recording`](crate::TelephonyProvider::download_recording),
//! [`send_dtmf`](crate::TelephonyProvider::send_dtmf), …), each refused with a typed
//! [`Error::Unsupported`](crate::Error::Unsupported) before any request where the carrier
//! cannot, as its [`Capabilities`](crate::Capabilities) say. Their callbacks arrive at the
//! host's status URL; [`follow`] reads one and takes the step a warm transfer needs there.

mod amd;
mod dtmf;
mod follow;
mod recording;
mod transfer;
mod transfer_ref;

pub use amd::MachineResult;
pub use dtmf::{Dtmf, DtmfRoute};
pub use follow::{Followed, TransferStep, follow};
pub use recording::{
    RecordingChannels, RecordingFormat, RecordingId, RecordingOptions, RecordingReady,
    RecordingStarted,
};
pub use transfer::{
    Brief, NoAnswer, SipTarget, Transfer, TransferEvent, TransferFailure, TransferMode,
    TransferStarted, TransferTarget, is_sip,
};
pub use transfer_ref::{TransferLeg, TransferRef, valid_room};

use serde::{Deserialize, Serialize};

use crate::id::CallId;
use crate::model::CallEvent;

/// What one callback said: a call's status, a machine-detection verdict, a finished
/// recording, or a step of a transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum CallNotice {
    /// A status change.
    Status(Box<CallEvent>),
    /// Answering-machine detection's verdict.
    Machine(MachineResult),
    /// A recording is ready to download.
    Recording(Box<RecordingReady>),
    /// A step of a transfer.
    Transfer(Box<TransferNotice>),
    /// An event with nothing for the host to act on, acknowledged rather than refused
    /// (Vonage's `transfer` event after a call moved between conversations).
    Other {
        /// The call, where the event names one.
        call_id: Option<CallId>,
        /// What the event is, in the carrier's words.
        event: String,
    },
}

/// A step of a transfer, as a callback reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TransferNotice {
    /// Which transfer, and which leg the callback was about.
    pub transfer: TransferRef,
    /// The step.
    pub event: TransferEvent,
    /// The leg's call, where the callback names it (the target's new call).
    pub leg_call: Option<CallId>,
    /// The callback's own status event, where it was one (a transfer leg's ringing,
    /// answered, completed).
    pub status: Option<Box<CallEvent>>,
    /// The URL the callback came to, as the carrier called it: where a next step that the
    /// carrier fetches from the host (Plivo's documents) is pointed back.
    pub url: Option<url::Url>,
}

impl TransferNotice {
    /// A step.
    pub fn new(transfer: TransferRef, event: TransferEvent) -> TransferNotice {
        TransferNotice {
            transfer,
            event,
            leg_call: None,
            status: None,
            url: None,
        }
    }

    /// Sets the URL the callback came to.
    pub fn url(mut self, url: Option<url::Url>) -> TransferNotice {
        self.url = url;
        self
    }

    /// Sets the leg's call.
    pub fn leg_call(mut self, call: Option<CallId>) -> TransferNotice {
        self.leg_call = call;
        self
    }

    /// Sets the status event.
    pub fn status(mut self, status: Option<CallEvent>) -> TransferNotice {
        self.status = status.map(Box::new);
        self
    }
}
