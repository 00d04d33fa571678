//! Plivo for telephony-rs.
//!
//! - [`Plivo`]: the [`TelephonyProvider`](telephony_core::TelephonyProvider).
//! - [`PlivoClient`]: the REST API (calls, call records, live and queued calls, numbers,
//!   applications), retrying without ever placing a call twice.
//! - [`xml`]: Plivo XML that refuses what Plivo would reject (`audioTrack` of `both` on a
//!   bidirectional stream, `extraHeaders` over 512 bytes or outside letters and digits).
//! - [`signature`]: `X-Plivo-Signature-V3` (and V2) exactly as plivo-python 4.63 checks them,
//!   with a signer and a diagnosis.
//! - [`status`]: Plivo's values mapped to the normalized model, and the webhook parsers.
//! - [`PlivoMediaProtocol`]: Audio Streams, both directions.
//!
//! **Call control.** [`Plivo`] implements the trait's call-control methods:
//! - [`transfer`](telephony_core::TelephonyProvider::transfer), cold (the call moved to a
//!   `<Dial>` of a number or a SIP `<User>` with `sipHeaders`) or warm (the target called, then
//!   both legs joined in a `<Conference>`: composed, Plivo has no warm transfer of its own).
//!   Plivo takes no inline XML, so every step's document comes from the status URL
//!   ([`Transfer::events`](telephony_core::Transfer), required even for a cold transfer),
//!   answered with [`control::follow`](telephony_core::control::follow); the caller never gets
//!   the target's brief.
//! - [`parse_callback`](telephony_core::TelephonyProvider::parse_callback): status, the
//!   asynchronous machine-detection verdict (`Event=MachineDetection`), a finished recording
//!   (the Record API's `record_url` or `<Record>`'s `RecordUrl`), a transfer leg's step.
//! - Recording from the answer ([`StreamSpec::record`](telephony_core::StreamSpec): a
//!   `<Record recordSession>` before the stream), or mid-call with
//!   [`start_recording`](telephony_core::TelephonyProvider::start_recording) and
//!   [`stop_recording`](telephony_core::TelephonyProvider::stop_recording) (which stops all of
//!   the call's recordings); not from placing a call, which Plivo's Call API cannot.
//!   [`download_recording`](telephony_core::TelephonyProvider::download_recording) streams the
//!   file from Plivo's hosts only, with credentials only to the API host;
//!   [`delete_recording`](telephony_core::TelephonyProvider::delete_recording).
//! - Machine detection (`machine_detection=true`, asynchronous at the status callback when
//!   there is one); Plivo tells machine from human only, so waiting for the greeting's end is
//!   refused.
//! - [`send_dtmf`](telephony_core::TelephonyProvider::send_dtmf) through the DTMF API (`0-9`,
//!   `*`, `#`), besides the stream's `sendDTMF`.
//!
//! **Call ids.** [`initiate_call`](telephony_core::TelephonyProvider::initiate_call) returns
//! Plivo's `request_uuid`; the call itself gets a `CallUUID` when answered. Callbacks carry
//! both, and the request id comes out as
//! [`CallEvent::initiation_id`](telephony_core::CallEvent::initiation_id).
//!
//! ```
//! use telephony_core::{StreamSpec, TelephonyProvider};
//! use telephony_plivo::{Plivo, PlivoConfig};
//!
//! let plivo = Plivo::new(PlivoConfig::new("MAXXXXXXXXXXXXXXXXX1", "token"))?;
//! let answer = plivo.answer(&StreamSpec::new("wss://agent.example.com/plivo".parse().unwrap()))?;
//! assert!(answer.body.contains("bidirectional=\"true\""));
//! assert!(answer.body.contains("keepCallAlive=\"true\""));
//! assert!(answer.body.ends_with("</Stream><Hangup/></Response>"));
//! # Ok::<(), telephony_core::Error>(())
//! ```

#![forbid(unsafe_code)]

mod callbacks;
mod carrier;
mod client;
mod config;
mod dtmf;
mod inbound;
mod media;
mod provider;
mod recording;
mod resources;
pub mod signature;
pub mod status;
mod transfer;
pub mod xml;

use telephony_core::ProviderKind;

pub use carrier::{CARRIER, PlivoCarrier};
pub use client::{AccountResource, CreateCall, PlivoClient, StartRecording};
pub use config::{ByteOrder, PlivoConfig};
pub use media::PlivoMediaProtocol;
pub use provider::Plivo;
pub use resources::{
    Application, CallCreated, Cdr, LiveCall, NumberResource, RecordingResource, RecordingStart,
};

/// Plivo's [`ProviderKind`]: `plivo`.
pub const KIND: ProviderKind = ProviderKind::new("plivo", "Plivo");
