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

mod carrier;
mod client;
pub mod client_state;
pub mod commands;
mod config;
pub mod events;
mod media;
mod provider;
mod resources;
pub mod signature;

use telephony_core::ProviderKind;

pub use carrier::{CARRIER, TelnyxCarrier};
pub use client::{CALL_ENDED, TelnyxClient};
pub use config::TelnyxConfig;
pub use media::{STREAM_FORMATS, TelnyxMediaProtocol};
pub use provider::Telnyx;
pub use resources::{Application, CallResource, DetailRecord, NumberResource};

/// Telnyx's [`ProviderKind`]: `telnyx`.
pub const KIND: ProviderKind = ProviderKind::new("telnyx", "Telnyx");
