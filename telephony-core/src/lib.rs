//! The provider-neutral core of telephony-rs.
//!
//! - [`TelephonyProvider`]: the one trait every carrier adapter implements, object-safe, so a
//!   host holds `Arc<dyn TelephonyProvider>` chosen at run time.
//! - The call model: [`CallId`], [`E164`], [`OutboundCall`], [`CallStatus`] and [`CallEvent`],
//!   [`CallCost`] and the account's [`Balance`] (exact decimals), [`InboundCall`],
//!   [`PhoneNumber`] (with whether it takes voice calls and SMS).
//! - Webhooks: [`WebhookRequest`], [`PublicUrl`] (the URL the provider really called, behind
//!   proxies), [`constant_time_eq`], typed rejections with a [`Diagnosis`], and
//!   [`ReplayGuard`].
//! - Media: [`MediaProtocol`] (sans-IO) and [`MediaSession`], which adds the audio path and a
//!   [`PlaybackTracker`] that knows what the caller heard.
//! - [`Error`], with predicates for the decisions callers make; [`Secret`], which never prints.
//! - Feature `http` (default): [`rest`], the one REST request path adapters share: retries,
//!   `Retry-After`, timeouts, page guards and errors that name what to check.
//!
//! Nothing here knows a provider's name; the adapters live in their own crates.
//!
//! ```
//! use telephony_core::{CallStatus, E164, OutboundCall, StreamSpec};
//!
//! let call = OutboundCall::stream(
//!     E164::new("+14155550100")?,
//!     E164::new("+14155550199")?,
//!     StreamSpec::new("wss://agent.example.com/media".parse()?),
//! );
//! assert!(CallStatus::Completed.is_terminal());
//! assert!(E164::new("0800 123").is_err()); // fails before any request
//! # let _ = call;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// No `unsafe`, with one measured exception: the AVX2 blocks of the media fast path (base64
// and the payload's closing quote, in `media/simd.rs`), where every 20 ms of every call passes.
#![deny(unsafe_code)]

mod account;
mod carrier;
pub mod control;
mod error;
mod id;
mod markup;
pub mod media;
mod model;
mod money;
mod number;
mod provider;
#[cfg(feature = "http")]
pub mod rest;
mod secret;
mod status;
mod webhook;

pub use account::Balance;
pub use carrier::{Carrier, Recognition, Signed, WebhookScheme};
pub use control::{
    Brief, CallNotice, Dtmf, MachineResult, NoAnswer, RecordingChannels, RecordingFormat,
    RecordingId, RecordingOptions, RecordingReady, RecordingStarted, SipTarget, Transfer,
    TransferEvent, TransferFailure, TransferLeg, TransferMode, TransferNotice, TransferRef,
    TransferStarted, TransferTarget,
};
pub use error::{
    ApiError, ConfigError, DecodeError, Error, PageError, PageProblem, TransportError,
    TransportKind,
};
pub use id::{CallId, E164, InvalidCallId, InvalidE164};
pub use markup::{Markup, StreamSpec, XmlElement, is_loopback_host};
pub use media::{
    MediaCommand, MediaError, MediaEvent, MediaProtocol, MediaSession, PlaybackTracker,
    STREAM_TOKEN_PARAMETER, SessionConfig, SessionEvent, StreamAuth, StreamAuthError, StreamStart,
    WsMessage,
};
pub use model::{
    CallEvent, CallInfo, CallInitiation, CallTarget, HangupOutcome, InboundCall, MachineDetection,
    OutboundCall, parse_seconds,
};
pub use money::{CallCost, Currency, parse_decimal};
pub use number::{Drift, InboundDrift, InboundUpdate, PhoneNumber};
pub use provider::{CallAnswer, Capabilities, ProviderKind, TelephonyProvider};
pub use secret::{Secret, redact_url};
pub use status::{AnsweredBy, CallStatus, Direction, Unrecognized};
pub use webhook::{
    Diagnosis, FormParams, InvalidNetwork, InvalidRequestUrl, IpNet, MAX_REPLAY_KEY,
    MemoryReplayGuard, PublicUrl, PublicUrlError, ReplayGuard, RequestUrl, TrustedProxies,
    Verified, WebhookError, WebhookRequest, body_variants, bounded_replay_key, check_replay,
    constant_time_eq, url_variants,
};

/// Decimal amounts, re-exported for [`CallCost`].
pub use rust_decimal::Decimal;
/// The audio core, re-exported.
pub use telephony_audio as audio;
/// URLs, re-exported.
pub use url::Url;
