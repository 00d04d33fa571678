//! A provider's side of a media stream without a socket: the messages it sends, as it sends
//! them, and what it makes of the agent's, for benchmarks, the `telephony bench` command and
//! the media contract.

use std::time::Duration;

use telephony::audio::{AudioFormat, Encoder, Profile};
use telephony::{MediaProtocol, ProviderKind, WsMessage};
use tokio_tungstenite::tungstenite::Message;

use crate::emulator::{Emulator, Emulators};
use crate::engine::{AgentSays, CallInfo, Dialect, MediaDialect};
use crate::markup::StreamTarget;
use crate::record::Violation;

/// The built-in emulator of `provider`.
fn emulator(provider: ProviderKind) -> Result<&'static dyn Emulator, String> {
    Emulators::builtin()
        .find(provider.id())
        .ok_or_else(|| format!("no emulated carrier for {:?}", provider.id()))
}

/// One message from the provider: text or binary, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderMessage {
    /// A text frame (JSON).
    Text(String),
    /// A binary frame (Vonage's audio).
    Binary(Vec<u8>),
}

impl ProviderMessage {
    /// As the media protocols take it.
    pub fn as_ws(&self) -> WsMessage<'_> {
        match self {
            ProviderMessage::Text(t) => WsMessage::Text(t),
            ProviderMessage::Binary(b) => WsMessage::Binary(b),
        }
    }

    fn from_message(m: Message) -> ProviderMessage {
        match m {
            Message::Binary(b) => ProviderMessage::Binary(b.to_vec()),
            Message::Text(t) => ProviderMessage::Text(t.as_str().to_owned()),
            other => ProviderMessage::Text(other.to_string()),
        }
    }

    fn into_message(self) -> Message {
        match self {
            ProviderMessage::Text(t) => Message::text(t),
            ProviderMessage::Binary(b) => Message::binary(b),
        }
    }
}

/// What the provider makes of one message from the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FromAgent {
    /// Audio to play, in the wire format (its base64 or binary transport undone).
    Audio(Vec<u8>),
    /// A playback marker, and the message that echoes it once the audio before it played.
    Mark {
        /// Its name.
        name: String,
        /// The provider's echo of it.
        echo: ProviderMessage,
    },
    /// Drop the audio buffered for playback (barge-in).
    Clear,
    /// Play these DTMF keys to the caller.
    Dtmf(String),
    /// What the real provider would punish: see [`Violation`].
    Violation(Violation),
}

impl From<AgentSays> for FromAgent {
    fn from(says: AgentSays) -> FromAgent {
        match says {
            AgentSays::Audio(bytes) => FromAgent::Audio(bytes),
            AgentSays::Mark(name, echo) => FromAgent::Mark {
                name,
                echo: ProviderMessage::from_message(echo),
            },
            AgentSays::Clear => FromAgent::Clear,
            AgentSays::Dtmf(keys) => FromAgent::Dtmf(keys),
            AgentSays::Violation(v) => FromAgent::Violation(v),
        }
    }
}

/// A stream as the provider sent it: the opening, then one message per 20 ms of caller audio,
/// with the wire bytes each carries.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Recorded {
    /// What opened the stream.
    pub opening: Vec<ProviderMessage>,
    /// One message per 20 ms.
    pub frames: Vec<ProviderMessage>,
    /// The wire bytes of each message, in order.
    pub wire: Vec<Vec<u8>>,
}

/// What the provider sends on one stream, message by message, exactly as the emulated carrier
/// sends it over its WebSocket: the opening (`connected` and `start`, Plivo's `start`, Vonage's
/// `websocket:connected` with the call's headers), then one message per 20 ms of caller audio.
pub struct ProviderStream {
    media: Box<dyn MediaDialect>,
    format: AudioFormat,
    call_id: String,
    parameters: Vec<(String, String)>,
}

impl std::fmt::Debug for ProviderStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderStream")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl ProviderStream {
    /// A stream of `provider` in `format`, for a call whose answer asked for it: the formats
    /// its emulator streams ([`Emulator::stream_formats`]).
    ///
    /// # Errors
    ///
    /// A provider no built-in emulator emulates, or a format it does not stream.
    pub fn new(provider: ProviderKind, format: AudioFormat) -> Result<ProviderStream, String> {
        emulator(provider)?.provider_stream(format)
    }

    /// `emulator`'s side of a stream in `format`, spoken by `dialect`, for call `call_id`
    /// whose answer set the `agent` parameter and `headers` besides (Vonage's echo them).
    pub(crate) fn emulated(
        emulator: &dyn Emulator,
        dialect: Box<dyn Dialect>,
        call_id: &str,
        headers: Vec<(String, serde_json::Value)>,
        format: AudioFormat,
    ) -> Result<ProviderStream, String> {
        if !emulator.stream_formats().contains(&format) {
            return Err(format!(
                "{} does not stream {}@{}",
                emulator.kind(),
                format.encoding.name(),
                format.rate.hz()
            ));
        }
        let call = CallInfo::detached(call_id, "", "+14155550199", "+14155550100", false);
        let parameters = vec![("agent".to_owned(), "bench".to_owned())];
        let headers_json = headers
            .into_iter()
            .chain(
                parameters
                    .iter()
                    .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))),
            )
            .collect();
        let target = StreamTarget {
            url: "wss://agent.example.com/media".into(),
            parameters,
            headers_json,
            format,
            then_continue: false,
        };
        Ok(ProviderStream {
            media: dialect.media(&call, &target),
            format,
            call_id: call_id.to_owned(),
            parameters: target.parameters,
        })
    }

    /// `length` of speech-like caller audio (the scripted caller's voice), as this provider
    /// sends it: for benches and allocation counts, where the messages are made up front.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    pub fn record_speech(
        provider: ProviderKind,
        format: AudioFormat,
        length: Duration,
    ) -> Result<Recorded, String> {
        let mut stream = ProviderStream::new(provider, format)?;
        let caller = crate::resample(
            &crate::speech_like(length, 7),
            crate::SCRIPT_RATE,
            format.rate,
        );
        let mut bytes = Vec::new();
        Encoder::new(format.rate, format, Profile::HighQuality).encode(&caller, &mut bytes);
        let frame = format.rate.samples_per_20ms() * format.encoding.bytes_per_sample();
        let wire: Vec<Vec<u8>> = bytes.chunks_exact(frame).map(<[u8]>::to_vec).collect();
        Ok(Recorded {
            opening: stream.opening(),
            frames: wire.iter().map(|f| stream.media(f)).collect(),
            wire,
        })
    }

    /// The media protocol an adapter runs on a stream of `provider` in `format` (Plivo's L16
    /// byte order as the format says), as `TelephonyProvider::media_protocol` gives it: its
    /// emulator's [`Emulator::media_protocol`].
    ///
    /// # Panics
    ///
    /// When no built-in emulator emulates `provider` (where [`new`](Self::new) and
    /// [`record_speech`](Self::record_speech) return an error).
    pub fn protocol(provider: ProviderKind, format: AudioFormat) -> Box<dyn MediaProtocol> {
        match emulator(provider) {
            Ok(emulator) => emulator.media_protocol(format),
            Err(e) => panic!("{e}"),
        }
    }

    /// The wire format.
    pub fn format(&self) -> AudioFormat {
        self.format
    }

    /// What opens the stream, in order.
    pub fn opening(&mut self) -> Vec<ProviderMessage> {
        self.media
            .opening()
            .into_iter()
            .map(ProviderMessage::from_message)
            .collect()
    }

    /// The message that carries one 20 ms frame of caller audio (`frame`: wire bytes).
    pub fn media(&mut self, frame: &[u8]) -> ProviderMessage {
        ProviderMessage::from_message(self.media.media(frame))
    }

    /// A key press.
    pub fn dtmf(&mut self, digit: char) -> ProviderMessage {
        ProviderMessage::from_message(self.media.dtmf(digit))
    }

    /// What ends the stream, where the provider sends a message before it closes the socket
    /// (Twilio's `stop`); `None` where it just closes it.
    pub fn stop(&mut self) -> Option<ProviderMessage> {
        self.media.stop().map(ProviderMessage::from_message)
    }

    /// What the provider makes of one message from the agent: audio to play, a mark and its
    /// echo, a clear, keys to play, or a violation of its protocol.
    pub fn agent(&mut self, message: WsMessage<'_>) -> Vec<FromAgent> {
        let message = match message {
            WsMessage::Text(t) => Message::text(t),
            WsMessage::Binary(b) => Message::binary(b.to_vec()),
        };
        self.media
            .agent(&message)
            .into_iter()
            .map(FromAgent::from)
            .collect()
    }

    /// What the provider sends when the agent clears, given the marks it holds that have not
    /// played (each with its echo): Twilio returns them at once, Plivo and Vonage confirm the
    /// clear.
    pub fn cleared(&mut self, pending: Vec<(String, ProviderMessage)>) -> Vec<ProviderMessage> {
        let pending = pending
            .into_iter()
            .map(|(name, echo)| (name, echo.into_message()))
            .collect();
        self.media
            .cleared(pending)
            .into_iter()
            .map(ProviderMessage::from_message)
            .collect()
    }

    /// The call the stream carries, as the provider's start names it (Vonage's, through the
    /// headers the answer set).
    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// The provider's id for the stream, where its start names one (Twilio's `streamSid`,
    /// Plivo's `streamId`).
    pub fn stream_id(&self) -> Option<&str> {
        self.media.stream_id()
    }

    /// The custom parameters the answer set, which the start carries back.
    pub fn parameters(&self) -> &[(String, String)] {
        &self.parameters
    }

    /// How long one media message carries.
    pub fn frame(&self) -> Duration {
        Duration::from_millis(20)
    }
}
