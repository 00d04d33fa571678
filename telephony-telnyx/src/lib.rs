//! Telnyx for telephony-rs, through Call Control v2.
//!
//! - [`Telnyx`]: the [`TelephonyProvider`](telephony_core::TelephonyProvider). Calls are
//!   placed (`POST /calls`) and answered (`actions/answer`) by commands that carry the stream,
//!   each with a `command_id` so that a retried command runs once; their status follows from
//!   the events Telnyx posts; a call that already ended hangs up as success.
//! - [`TelnyxClient`]: the REST API (a bearer API key, `errors[]` read into typed errors,
//!   `x-ratelimit-*` honoured on a 429).
//! - [`signature`]: Ed25519 over `timestamp|body`, with a ±300 s window on the clock passed in.
//! - [`events`]: the webhook events read into the normalized model, every hang-up cause mapped.
//! - [`TelnyxMediaProtocol`]: media streaming in bidirectional RTP mode (never the MP3
//!   default), PCMU or PCMA both ways, exact 20 ms frames out, marks and clear.
//! - Call control (telnyx-python 4.189's command and event models):
//!   - [`transfer`](telephony_core::TelephonyProvider::transfer): cold by `actions/transfer`
//!     (to a number or a SIP URI with `X-` headers, after stopping the caller's stream), warm
//!     by dialling the target, briefing it alone (`speak` / `playback_start`) and
//!     `actions/bridge` (no conference); the transfer's state travels in the legs' signed
//!     `client_state` ([`client_state::encode_transfer`]), so
//!     [`continue_transfer`](telephony_core::TelephonyProvider::continue_transfer) takes the
//!     next step on any replica (the [`transfer`] module);
//!   - [`parse_callback`](telephony_core::TelephonyProvider::parse_callback): statuses,
//!     machine detection's verdicts (one table, [`events::answered_by`]), saved recordings
//!     and transfer steps ([`callbacks`]);
//!   - recording from the answer (`record: record-from-answer` on dial and answer), mid-call
//!     (`record_start` / `record_stop`), download by id (`GET /recordings/{id}`, then its
//!     pre-signed link, followed only to Telnyx or Amazon S3) and delete ([`recording`]);
//!   - answering-machine detection `detect` or `greeting_end` on dial;
//!   - DTMF by `actions/send_dtmf`.
//!
//! Telnyx answers a call with a command, not a document: an inbound call's webhook is
//! answered through [`connect_call`](telephony_core::TelephonyProvider::connect_call), which
//! sends `actions/answer` and leaves the webhook's reply empty, so the `InboundRouter` serves
//! Telnyx as it serves the others. The stream's custom parameters travel in `client_state`
//! ([`client_state`]).
//!
//! ```
//! use telephony_core::{StreamSpec, TelephonyProvider};
//! use telephony_telnyx::{Telnyx, TelnyxConfig};
//!
//! let telnyx = Telnyx::new(TelnyxConfig::new("KEY0123", "1684641123236054244"))?;
//! let answer = telnyx.answer(&StreamSpec::new("wss://agent.example.com/media".parse().unwrap()))?;
//! assert!(answer.body.contains(r#""stream_bidirectional_mode":"rtp""#));
//! # Ok::<(), telephony_core::Error>(())
//! ```

#![forbid(unsafe_code)]

mod actions;
mod balance;
pub mod callbacks;
mod carrier;
mod client;
pub mod client_state;
pub mod commands;
mod config;
pub mod events;
mod media;
mod provider;
pub mod recording;
mod resources;
pub mod signature;
pub mod transfer;

use telephony_core::ProviderKind;

pub use balance::BalanceResource;
pub use carrier::{CARRIER, TelnyxCarrier};
pub use client::{CALL_ENDED, TelnyxClient, call_ended};
pub use config::TelnyxConfig;
pub use media::{STREAM_FORMATS, TelnyxMediaProtocol};
pub use provider::Telnyx;
pub use resources::{Application, CallResource, DetailRecord, NumberResource, RecordingResource};

/// Telnyx's [`ProviderKind`]: `telnyx`.
pub const KIND: ProviderKind = ProviderKind::new("telnyx", "Telnyx");
