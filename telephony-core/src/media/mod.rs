//! The media WebSocket, sans-IO: a [`MediaProtocol`] turns a provider's frames into
//! [`MediaEvent`]s and [`MediaCommand`]s into frames; a [`MediaSession`] adds the audio path
//! (decode, resample, encode, frame) and a [`PlaybackTracker`].
//!
//! Nothing here touches a socket: feed frames in from any WebSocket library and send what comes
//! out, so protocols and sessions are tested with plain values.

mod auth;
pub mod b64;
pub mod json;
mod pacer;
mod playback;
pub mod scan;
mod session;
#[cfg(target_arch = "x86_64")]
mod simd;

use std::fmt;
use std::time::Duration;

use telephony_audio::{AudioError, AudioFormat, Avx2, Backend};
use thiserror::Error;

use crate::id::CallId;
use crate::provider::ProviderKind;

pub use auth::{STREAM_TOKEN_PARAMETER, StreamAuth, StreamAuthError};
pub use pacer::Pacer;
pub use playback::{MarkFate, PlaybackTracker};
pub use session::{MediaSession, SessionConfig, SessionEvent};

/// The proof that the media fast path's AVX2 blocks (`simd`) may run: this CPU has AVX2 and
/// `TELEPHONY_SIMD` does not keep it from being used ([`Backend::detect`], which caches the
/// answer, carries the token of its CPU check). `None` off x86-64.
#[inline]
fn avx2() -> Option<Avx2> {
    Backend::detect().avx2_token()
}

/// One WebSocket message, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsMessage<'a> {
    /// A text message.
    Text(&'a str),
    /// A binary message.
    Binary(&'a [u8]),
}

/// Which side of the call a piece of audio is from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AudioTrack {
    /// The caller, what the agent listens to.
    Inbound,
    /// What is played to the caller (only on streams that fork both tracks).
    Outbound,
}

/// The start of a stream: who, what format, and the custom parameters the answer document set.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamStart {
    /// The provider's id for the stream (Twilio `streamSid`, Plivo `streamId`).
    pub stream_id: Option<String>,
    /// The call (absent for Vonage unless the answer put it in the headers).
    pub call_id: Option<CallId>,
    /// The account.
    pub account_id: Option<String>,
    /// The wire audio format, both directions.
    pub format: AudioFormat,
    /// The custom parameters, in order.
    pub parameters: Vec<(String, String)>,
}

impl StreamStart {
    /// A start with a format and nothing else known.
    pub fn new(format: AudioFormat) -> StreamStart {
        StreamStart {
            stream_id: None,
            call_id: None,
            account_id: None,
            format,
            parameters: Vec::new(),
        }
    }

    /// A custom parameter's value.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What one provider message says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaEvent<'a> {
    /// The socket is up (Twilio `connected`).
    Connected,
    /// The stream started; the format is known from here on.
    Start(StreamStart),
    /// Audio, in the wire format, decoded from its transport encoding (base64) but not from
    /// its codec.
    Audio {
        /// The audio bytes.
        payload: &'a [u8],
        /// Whose audio.
        track: AudioTrack,
        /// The provider's timestamp, from the start of the stream.
        timestamp: Option<Duration>,
        /// The provider's sequence number.
        sequence: Option<u64>,
    },
    /// The caller pressed a key.
    Dtmf {
        /// The key: `0`–`9`, `*`, `#`, `A`–`D`.
        digit: char,
        /// How long, where the provider says.
        duration: Option<Duration>,
    },
    /// A playback marker came back: the audio sent before it finished playing, or was
    /// cleared (the session tells which).
    Mark {
        /// The marker's name.
        name: &'a str,
    },
    /// The provider confirms that buffered audio was dropped.
    Cleared,
    /// The provider ended the stream.
    Stop,
    /// A message this adapter does not know. Reported, not fatal.
    Unknown {
        /// Its event name, as sent.
        event: &'a str,
    },
}

/// What to send to the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaCommand<'a> {
    /// One frame of audio in the wire format.
    Audio(&'a [u8]),
    /// A playback marker, to come back once the audio before it has played.
    Mark(&'a str),
    /// Drop all audio buffered at the provider (barge-in).
    Clear,
    /// Play DTMF tones to the caller.
    SendDtmf(&'a str),
}

/// How outbound audio must be cut into messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framing {
    /// The duration of one message of audio.
    pub frame: Duration,
    /// Whether every message must be exactly that long (Vonage drops the call otherwise).
    pub strict: bool,
}

/// A media message that breaks the provider's protocol, or a command it cannot carry.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MediaError {
    /// The stream did not prove it came through an answer this server gave (see
    /// [`StreamAuth`]): nothing it carries may be acted on, and the connection should close.
    #[error("{provider} media stream refused: {reason}")]
    Unauthenticated {
        /// The provider it claims to be.
        provider: ProviderKind,
        /// Why.
        reason: StreamAuthError,
    },
    /// The message is not valid for this protocol.
    #[error("{provider} media stream: malformed message: {detail}")]
    Malformed {
        /// The provider.
        provider: ProviderKind,
        /// What is wrong.
        detail: String,
    },
    /// A binary message where only text is used, or the reverse.
    #[error("{provider} media stream: unexpected {kind} message ({len} bytes)")]
    UnexpectedFrame {
        /// The provider.
        provider: ProviderKind,
        /// `binary` or `text`.
        kind: &'static str,
        /// Its size.
        len: usize,
    },
    /// Audio arrived, or was sent, before the stream said its format.
    #[error("{provider} media stream: audio before the stream started")]
    NotStarted {
        /// The provider.
        provider: ProviderKind,
    },
    /// The provider's stream cannot carry this command.
    #[error("{provider} media stream cannot {what}")]
    Unsupported {
        /// The provider.
        provider: ProviderKind,
        /// What was asked.
        what: &'static str,
    },
    /// An outbound frame of the wrong size, refused before it reached a provider that drops
    /// the call over it (Vonage).
    #[error(
        "{provider} media stream: a frame of {got} bytes; every frame must be exactly {expected}"
    )]
    FrameSize {
        /// The provider.
        provider: ProviderKind,
        /// The size the provider requires.
        expected: usize,
        /// The size given.
        got: usize,
    },
    /// A later `start` announced another format than the stream's first: one format holds
    /// for the whole stream, so the change is refused and the stream keeps its format.
    #[error(
        "{provider} media stream: started as {was}, then a start announced {now}: one format holds for the whole stream"
    )]
    FormatChanged {
        /// The provider.
        provider: ProviderKind,
        /// The format the stream started with, still in force.
        was: AudioFormat,
        /// The format announced later.
        now: AudioFormat,
    },
    /// The audio is not a whole number of samples, or similar.
    #[error("{provider} media stream: {source}")]
    Audio {
        /// The provider.
        provider: ProviderKind,
        /// The audio problem.
        source: AudioError,
    },
}

/// One provider's media WebSocket protocol, both directions, for one connection.
pub trait MediaProtocol: Send + fmt::Debug {
    /// Which provider.
    fn kind(&self) -> ProviderKind;

    /// The wire format, once known (for most providers, after the start message).
    fn wire_format(&self) -> Option<AudioFormat>;

    /// How outbound audio must be framed.
    fn framing(&self) -> Framing;

    /// Reads one message. Bad input is an error that leaves the protocol usable.
    fn decode<'a>(&'a mut self, message: WsMessage<'a>) -> Result<MediaEvent<'a>, MediaError>;

    /// Writes the messages for one command, passing each to `out`.
    fn encode(
        &mut self,
        command: MediaCommand<'_>,
        out: &mut dyn FnMut(WsMessage<'_>),
    ) -> Result<(), MediaError>;
}
