//! telephony-rs: telephony provider adapters for voice agents and call automation.
//!
//! One typed interface, [`TelephonyProvider`], over the carriers: place outbound calls, route
//! inbound ones, authenticate every webhook, follow call status to the end, hang up, read the
//! cost, list numbers and point them at a webhook, answer with the document that starts a media
//! stream, and run the media WebSocket with the audio conversion it needs.
//!
//! This facade re-exports the provider-neutral core (everything at the root) and each adapter
//! behind a feature:
//!
//! | feature | module | default |
//! |---|---|---|
//! | `twilio` | [`twilio`] | yes |
//! | `plivo` | [`plivo`] | yes |
//! | `vonage` | [`vonage`] | yes |
//! | `telnyx` | [`telnyx`] | yes |
#![cfg_attr(
    feature = "axum",
    doc = "| `axum` | [`axum`], [`stream`]: verified webhooks, the router as a handler, media over WebSockets | no |"
)]
#![cfg_attr(
    not(feature = "axum"),
    doc = "| `axum` | `axum`, `stream`: verified webhooks, the router as a handler, media over WebSockets | no |"
)]
//!
//! Call control is on the same trait: [`transfer`](TelephonyProvider::transfer) to a person
//! (cold, or warm with a brief), recording ([`start_recording`](TelephonyProvider::start_recording),
//! [`download_recording`](TelephonyProvider::download_recording), …), answering-machine
//! detection ([`OutboundCall::machine_detection`]) and DTMF
//! ([`send_dtmf`](TelephonyProvider::send_dtmf), or tones on the media stream). Their callbacks
//! come to the status URL, where [`control::follow`] reads them as [`CallNotice`]s.
//!
//! What needs more than one provider lives here: [`ProviderConfig`] (settings from the
//! environment or a config file, built into `Arc<dyn TelephonyProvider>`) and the
//! [`InboundRouter`] (one webhook URL for every number and provider).
//!
//! The audio core is [`audio`].
//!
//! ```
//! use telephony::{OutboundCall, StreamSpec, TelephonyProvider};
//! use telephony::twilio::{Twilio, TwilioConfig};
//!
//! let twilio = Twilio::new(TwilioConfig::new("AC0123456789abcdef0123456789abcdef", "token"))?;
//! let markup = twilio.answer(&StreamSpec::new("wss://agent.example.com/media".parse().unwrap()))?;
//! assert!(markup.body.contains("<Connect><Stream"));
//! # Ok::<(), telephony::Error>(())
//! ```

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
mod registry;
mod router;

#[cfg(feature = "axum")]
pub mod axum;
#[cfg(feature = "doctor")]
pub mod doctor;
#[cfg(feature = "axum")]
pub mod stream;

pub use config::ProviderConfig;
pub use registry::Registry;
pub use router::{Delivery, InboundRouter, MemoryDirectory, NumberDirectory, Outcome, Reply};
// What hosts use, by name: the wire fast path (the media scanner, base64) and the helpers the
// adapters share (`telephony_core::rest`, the diagnosis variants) stay in telephony-core.
pub use telephony_core::{
    AnsweredBy, ApiError, Balance, CallAnswer, CallCost, CallEvent, CallId, CallInfo,
    CallInitiation, CallStatus, CallTarget, Capabilities, Carrier, ConfigError, Currency, Decimal,
    DecodeError, Diagnosis, Direction, Drift, E164, Error, FormParams, HangupOutcome, InboundCall,
    InboundDrift, InboundUpdate, InvalidCallId, InvalidE164, InvalidNetwork, InvalidRequestUrl,
    IpNet, MachineDetection, Markup, MediaCommand, MediaError, MediaEvent, MediaProtocol,
    MediaSession, MemoryReplayGuard, OutboundCall, PageError, PageProblem, PhoneNumber,
    PlaybackTracker, ProviderKind, PublicUrl, PublicUrlError, Recognition, ReplayGuard, RequestUrl,
    STREAM_TOKEN_PARAMETER, Secret, SessionConfig, SessionEvent, Signed, StreamAuth,
    StreamAuthError, StreamSpec, StreamStart, TelephonyProvider, TransportError, TransportKind,
    TrustedProxies, Url, Verified, WebhookError, WebhookRequest, WebhookScheme, WsMessage, audio,
    check_replay, redact_url,
};
// Call control: transfer, recording, machine detection's verdict, DTMF, and the callbacks
// that report them.
pub use telephony_core::{
    Brief, CallNotice, Dtmf, MachineResult, NoAnswer, RecordingChannels, RecordingFormat,
    RecordingId, RecordingOptions, RecordingReady, RecordingStarted, SipTarget, Transfer,
    TransferEvent, TransferFailure, TransferLeg, TransferMode, TransferNotice, TransferRef,
    TransferStarted, TransferTarget,
};

/// Call control: the model, and [`follow`](control::follow), which reads a callback at the
/// status URL and takes the step a warm transfer needs there.
pub mod control {
    pub use telephony_core::control::*;
}

/// The media stream's types: the protocol seam, the session, pacing and playback.
pub mod media {
    pub use telephony_core::media::{
        AudioTrack, Framing, MarkFate, MediaCommand, MediaError, MediaEvent, MediaProtocol,
        MediaSession, Pacer, PlaybackTracker, STREAM_TOKEN_PARAMETER, SessionConfig, SessionEvent,
        StreamAuth, StreamAuthError, StreamStart, WsMessage,
    };
}

#[cfg(feature = "twilio")]
pub use telephony_twilio as twilio;

#[cfg(feature = "plivo")]
pub use telephony_plivo as plivo;

#[cfg(feature = "vonage")]
pub use telephony_vonage as vonage;

#[cfg(feature = "telnyx")]
pub use telephony_telnyx as telnyx;
