//! Vonage for telephony-rs.
//!
//! - [`Vonage`]: the [`TelephonyProvider`](telephony_core::TelephonyProvider).
//! - [`VonageClient`]: the Voice API (calls, hang-up, transfer, mute, DTMF, file downloads)
//!   with an RS256 application JWT that is cached and renewed before it expires, and the
//!   Numbers and Applications APIs with the account's key and secret; retries that never place
//!   a call twice.
//! - [`ncco`]: typed NCCO actions that refuse what Vonage would reject (a websocket's
//!   `headers` over 512 bytes, a `uri` that is not `ws(s)://`, an empty `talk`, …).
//! - [`signature`]: signed webhooks, `Authorization: Bearer` HS256 tokens, with the
//!   `payload_hash` check vonage 4.9 leaves to the application, an `iat` window, and the `jti`
//!   as the replay key.
//! - [`status`]: Vonage's event values mapped to the normalized model, and the parsers.
//! - Call control, through the trait:
//!   - [`transfer`](telephony_core::TelephonyProvider::transfer): cold, natively (the call
//!     moved to a `connect` NCCO, a fallback `talk` answered to its synchronous event); warm,
//!     composed through a named conversation (the target called and briefed on its own leg,
//!     the caller moved in on hold once it answers). See [`transfer`](mod@transfer).
//!   - [`parse_callback`](telephony_core::TelephonyProvider::parse_callback): statuses,
//!     machine-detection verdicts ([`amd`], one table), recordings and transfer steps; what the
//!     adapter writes in a callback URL's query (which Vonage does not sign) is signed with a
//!     key derived from the application's private key and read only when it verifies.
//!   - Recording through the NCCO's `record` (on answer, and on create with an inline NCCO;
//!     mono or one channel per side), announced to a callback, downloaded with the
//!     application JWT ([`download_recording`](telephony_core::TelephonyProvider::download_recording),
//!     [`Vonage::download_recording_url`]). Vonage has no API to start, stop or delete one:
//!     refused as unsupported.
//!   - Machine detection: standard for `Detect`, advanced `detect_beep` for
//!     `DetectGreetingEnd`.
//!   - [`send_dtmf`](telephony_core::TelephonyProvider::send_dtmf): `PUT /v1/calls/{uuid}/dtmf`,
//!     the pauses `w` and `W` as Vonage's `p` (500 ms) once and twice.
//! - [`VonageMediaProtocol`]: the WebSocket, binary L16 audio and JSON control, with outbound
//!   frames of exactly 20 ms; [`pacer`] sends ahead of real time within Vonage's buffer.
//!
//! ```
//! use telephony_core::{InboundCall, CallId, StreamSpec, TelephonyProvider};
//! use telephony_vonage::{Vonage, VonageConfig};
//!
//! # let key = include_str!("../tests/fixtures/test_private.key");
//! let vonage = Vonage::new(VonageConfig::new("aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab", key))?;
//! let call = InboundCall::new(CallId::new("63f61863-4a51-4f6b-86e1-46edebcf9356")?, "447700900123", "447700900000");
//! let answer = vonage.answer_call(&call, &StreamSpec::new("wss://agent.example.com/vonage".parse().unwrap()))?;
//! assert_eq!(
//!     answer.body,
//!     r#"[{"action":"connect","endpoint":[{"type":"websocket","uri":"wss://agent.example.com/vonage","content-type":"audio/l16;rate=16000","headers":{"call_uuid":"63f61863-4a51-4f6b-86e1-46edebcf9356","from":"447700900123","to":"447700900000"}}]}]"#
//! );
//! # Ok::<(), telephony_core::Error>(())
//! ```

#![forbid(unsafe_code)]

pub mod amd;
pub mod application;
mod callback;
mod carrier;
mod client;
mod config;
mod inbound;
mod jwt;
mod media;
pub mod ncco;
mod provider;
mod recording;
mod resources;
pub mod signature;
mod signed_query;
pub mod status;
pub mod transfer;

use std::time::Duration;

use telephony_core::ProviderKind;
use telephony_core::media::Pacer;

pub use carrier::{CARRIER, VonageCarrier};
pub use client::{BalanceResource, CallControl, VonageClient};
pub use config::VonageConfig;
pub use jwt::{AppClaims, AppJwt};
pub use media::{CALL_UUID_HEADER, VonageMediaProtocol, content_type_format};
pub use provider::Vonage;
pub use resources::{CallCreated, CallResource, CreateCall, FromNumber, OwnedNumber};

/// Vonage's [`ProviderKind`]: `vonage`.
pub const KIND: ProviderKind = ProviderKind::new("vonage", "Vonage");

/// Frames Vonage buffers for playback. Its tutorial says 3072 messages (about a minute);
/// older documentation said 1024.
pub const BUFFER_FRAMES: u32 = 3072;

/// A [`Pacer`] for Vonage's WebSocket: the first 10 s of a reply (500 frames) go at once, then
/// one 20 ms frame every 18 ms, as Vonage advises so jitter never leaves a gap. At 18 ms the
/// cushion grows by a frame every ten; after about eight minutes of unbroken audio it would
/// reach Vonage's buffer, so the pacer never lets more than 3000 frames (a 72-frame margin
/// under [`BUFFER_FRAMES`]) wait there, and at that cap sends in real time, one frame per
/// 20 ms.
pub fn pacer() -> Pacer {
    Pacer::new(
        Duration::from_millis(20),
        500,
        Duration::from_millis(18),
        BUFFER_FRAMES - 72,
    )
}
