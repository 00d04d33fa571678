//! Twilio for telephony-rs.
//!
//! - [`Twilio`]: the [`TelephonyProvider`](telephony_core::TelephonyProvider): place, follow,
//!   price and hang up calls, list numbers and point them at our webhook, verify webhooks,
//!   answer with a stream; and call control:
//!   - transfer to a number or a SIP address (headers on the URI): cold, natively (the call's
//!     TwiML replaced by a `<Dial>`, its fallback said from the `<Dial action>`'s reply), or
//!     warm, composed through a conference (the target dialled and briefed on a call of its
//!     own, then the caller moved into the room on hold audio, never hearing the brief);
//!   - recording, natively: on create (`Record=true`), on answer (`<Start><Recording>`), or
//!     mid-call (started and stopped through the call's Recordings), mono or dual; the WAV
//!     downloaded with the account's auth, streamed into any writer; deleted;
//!   - answering-machine detection on create (`Enable` or `DetectMessageEnd`), asynchronous
//!     when there is a status callback, its verdicts through one table
//!     ([`status::answered_by`]);
//!   - every callback at the status URL read by [`status::parse_callback`]: status, verdict,
//!     recording, transfer step;
//!   - DTMF: Twilio has no API for it on a live call, so
//!     [`send_dtmf`](telephony_core::TelephonyProvider::send_dtmf) refuses; tones go on the
//!     media stream.
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

mod balance;
mod callbacks;
mod carrier;
mod client;
mod config;
mod media;
mod provider;
mod recording;
mod resources;
pub mod signature;
pub mod status;
mod transfer;
pub mod twiml;

use telephony_core::ProviderKind;

pub use carrier::{CARRIER, TwilioCarrier};
pub use client::{CallInstructions, CreateCall, MAX_PAGES, STATUS_EVENTS, TwilioClient};
pub use config::{Credentials, TwilioConfig, regional_base_url};
pub use media::TwilioMediaProtocol;
pub use provider::Twilio;
pub use recording::CURRENT_RECORDING;
pub use resources::{
    BalanceResource, CallResource, ConferenceResource, NumberCapabilities, NumberResource,
    RecordingResource,
};
pub use transfer::MAX_TWIML;

/// Twilio's [`ProviderKind`]: `twilio`.
pub const KIND: ProviderKind = ProviderKind::new("twilio", "Twilio");
