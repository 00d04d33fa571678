//! A provider's side of a media stream without a socket: the messages it sends, as it sends
//! them, for benchmarks and the `telephony bench` command.

use std::time::{Duration, SystemTime};

use telephony::MediaProtocol;
use telephony::audio::{Encoder, Profile};

use telephony::Decimal;
use telephony::audio::{AudioFormat, Encoding};
use telephony::{ProviderKind, WsMessage};
use tokio_tungstenite::tungstenite::Message;

use crate::engine::{CallInfo, Hooks, MediaDialect};
use crate::markup::StreamTarget;

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
    /// A stream of `provider` (`twilio`, `plivo` or `vonage`) in `format`, for a call whose
    /// answer asked for it: Twilio streams μ-law 8 kHz only; Plivo μ-law 8 kHz or L16 at 8 or
    /// 16 kHz; Vonage L16 little-endian at 8, 16 or 24 kHz.
    pub fn new(provider: ProviderKind, format: AudioFormat) -> Result<ProviderStream, String> {
        let ok = match provider.id() {
            "twilio" => format == AudioFormat::MULAW_8K,
            "plivo" => {
                format == AudioFormat::MULAW_8K
                    || (matches!(format.encoding, Encoding::L16Le | Encoding::L16Be)
                        && matches!(format.rate.hz(), 8000 | 16000))
            }
            "vonage" => {
                format.encoding == Encoding::L16Le
                    && matches!(format.rate.hz(), 8000 | 16000 | 24000)
            }
            other => return Err(format!("no emulated carrier for {other:?}")),
        };
        if !ok {
            return Err(format!(
                "{provider} does not stream {}@{}",
                format.encoding.name(),
                format.rate.hz()
            ));
        }
        let (dialect, id) = match provider.id() {
            "twilio" => (
                crate::twilio::dialect(),
                "CA0123456789abcdef0123456789abcdef",
            ),
            "plivo" => (
                crate::plivo::dialect(),
                "4f2c8a1e-7b3d-4e5f-9a6b-1c2d3e4f5a6b",
            ),
            _ => (
                crate::vonage::dialect(),
                "63f61863-4a51-4f6b-86e1-46edebcf9356",
            ),
        };
        let call = CallInfo {
            id: id.to_owned(),
            secondary_id: String::new(),
            from: "+14155550199".into(),
            to: "+14155550100".into(),
            inbound: false,
            hooks: Hooks::default(),
            answered: true,
            duration_secs: None,
            price: None,
            rate: Decimal::ZERO,
            created: SystemTime::now(),
        };
        let target = StreamTarget {
            url: "wss://agent.example.com/media".into(),
            parameters: vec![("agent".into(), "bench".into())],
            headers_json: vec![
                (
                    telephony::vonage::CALL_UUID_HEADER.into(),
                    serde_json::Value::String(id.into()),
                ),
                ("agent".into(), serde_json::Value::String("bench".into())),
            ],
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
    /// byte order as the format says), as `TelephonyProvider::media_protocol` gives it.
    pub fn protocol(provider: ProviderKind, format: AudioFormat) -> Box<dyn MediaProtocol> {
        match provider.id() {
            "twilio" => Box::new(telephony::twilio::TwilioMediaProtocol::new()),
            "plivo" => Box::new(telephony::plivo::PlivoMediaProtocol::new(
                if format.encoding == Encoding::L16Be {
                    telephony::plivo::ByteOrder::Big
                } else {
                    telephony::plivo::ByteOrder::Little
                },
            )),
            _ => Box::new(telephony::vonage::VonageMediaProtocol::new(format.rate)),
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
