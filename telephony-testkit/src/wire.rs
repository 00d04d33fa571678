//! A provider's side of a media stream without a socket: the messages it sends, as it sends
//! them, for benchmarks and the `telephony bench` command.

use std::time::Duration;

use telephony::audio::{AudioFormat, Encoder, Profile};
use telephony::{MediaProtocol, ProviderKind, WsMessage};
use tokio_tungstenite::tungstenite::Message;

use crate::emulator::{Emulator, Emulators};
use crate::engine::{CallInfo, Dialect, MediaDialect};
use crate::markup::StreamTarget;

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

    /// How long one media message carries.
    pub fn frame(&self) -> Duration {
        Duration::from_millis(20)
    }
}
