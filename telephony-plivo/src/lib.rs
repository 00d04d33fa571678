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

mod carrier;
mod client;
mod config;
mod media;
mod provider;
mod resources;
pub mod signature;
pub mod status;
pub mod xml;

use telephony_core::ProviderKind;

pub use carrier::{CARRIER, PlivoCarrier};
pub use client::{CreateCall, PlivoClient};
pub use config::{ByteOrder, PlivoConfig};
pub use media::PlivoMediaProtocol;
pub use provider::Plivo;
pub use resources::{Application, CallCreated, Cdr, LiveCall, NumberResource};

/// Plivo's [`ProviderKind`]: `plivo`.
pub const KIND: ProviderKind = ProviderKind::new("plivo", "Plivo");
