//! Twilio for telephony-rs.
//!
//! - [`Twilio`]: the [`TelephonyProvider`](telephony_core::TelephonyProvider): place, follow,
//!   price and hang up calls, list numbers and point them at our webhook, verify webhooks,
//!   answer with a stream.
//! - [`TwilioClient`]: the REST API (one pooled client, retries that never dial twice,
//!   regional edges through [`TwilioConfig::base_url`] or `TWILIO_EDGE`/`TWILIO_REGION`).
//! - [`twiml`]: a TwiML builder that escapes everything and refuses what Twilio would reject.
//! - [`signature`]: `X-Twilio-Signature` exactly as twilio-python 9.13 checks it, a signer, and
//!   a diagnosis when it fails (most often a TLS-terminating proxy).
//! - [`status`]: Twilio's values mapped to the normalized model, and the webhook parsers.
//! - [`TwilioMediaProtocol`]: Media Streams, both directions.
//!
//! ```
//! use telephony_core::{StreamSpec, TelephonyProvider};
//! use telephony_twilio::{Twilio, TwilioConfig};
//!
//! let twilio = Twilio::new(TwilioConfig::new("AC0123456789abcdef0123456789abcdef", "token"))?;
//! let answer = twilio.answer(
//!     &StreamSpec::new("wss://agent.example.com/media".parse().unwrap()).parameter("lead", "42"),
//! )?;
//! assert!(answer.body.contains("<Connect><Stream url=\"wss://agent.example.com/media\">"));
//! assert!(answer.body.ends_with("</Connect><Hangup/></Response>"));
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
pub mod twiml;

use telephony_core::ProviderKind;

pub use carrier::{CARRIER, TwilioCarrier};
pub use client::{CallInstructions, CreateCall, MAX_PAGES, STATUS_EVENTS, TwilioClient};
pub use config::{Credentials, TwilioConfig, regional_base_url};
pub use media::TwilioMediaProtocol;
pub use provider::Twilio;
pub use resources::{CallResource, NumberResource};

/// Twilio's [`ProviderKind`]: `twilio`.
pub const KIND: ProviderKind = ProviderKind::new("twilio", "Twilio");
