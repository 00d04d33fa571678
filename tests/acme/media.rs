//! Acme's media stream: JSON text frames, built on core's JSON helpers
//! (`telephony_core::media::json`), and Acme's side of a stream for the media contract.
//!
//! ```text
//! Acme → agent   {"event":"start","call","stream","format":"audio/pcmu;rate=8000","params":{…}}
//!                {"event":"audio","media":{"payload":"<base64>","timestamp":20}}
//!                {"event":"key","dtmf":{"digit":"5"}}
//!                {"event":"played","name":"…"}   {"event":"cleared"}   {"event":"hangup"}
//! agent → Acme   {"event":"audio","stream","payload":"<base64>"}
//!                {"event":"mark","stream","name":"…"}   {"event":"clear","stream"}
//! ```

use std::borrow::Cow;
use std::time::Duration;

use serde::Deserialize;
use telephony::audio::{AudioFormat, Encoding, SampleRate};
use telephony::media::{AudioTrack, Framing};
use telephony::{
    MediaCommand, MediaError, MediaEvent, MediaProtocol, ProviderKind, StreamStart, WsMessage,
};
use telephony_core::media::b64;
use telephony_core::media::json::{
    DtmfObject, MediaObject, borrowed_str, keep, malformed, ordered_strings, push_string,
    text_frame,
};
use telephony_testkit::contract::media::CarrierSide;
use telephony_testkit::{FromAgent, ProviderMessage, Violation};

use super::KIND;

/// The formats Acme streams, the default first.
pub(crate) const FORMATS: &[AudioFormat] = &[AudioFormat::MULAW_8K, AudioFormat::L16LE_16K];

/// Acme's name for a format.
fn content_type(format: AudioFormat) -> String {
    let codec = match format.encoding {
        Encoding::Mulaw => "pcmu",
        _ => "l16",
    };
    format!("audio/{codec};rate={}", format.rate.hz())
}

fn format_of(content_type: &str) -> Option<AudioFormat> {
    let (codec, rate) = content_type.strip_prefix("audio/")?.split_once(";rate=")?;
    let rate = SampleRate::from_hz(rate.parse().ok()?)?;
    let format = match codec {
        "pcmu" => AudioFormat::new(Encoding::Mulaw, rate),
        "l16" => AudioFormat::new(Encoding::L16Le, rate),
        _ => return None,
    };
    FORMATS.contains(&format).then_some(format)
}

/// One message from Acme, borrowed where it can be.
#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(borrow)]
    event: Cow<'a, str>,
    #[serde(default)]
    call: Option<String>,
    #[serde(default)]
    stream: Option<String>,
    #[serde(default)]
    format: Option<String>,
    #[serde(default, deserialize_with = "ordered_strings")]
    params: Vec<(String, String)>,
    #[serde(default, borrow)]
    media: Option<MediaObject<'a>>,
    #[serde(default)]
    dtmf: Option<DtmfObject>,
    #[serde(default, borrow, deserialize_with = "borrowed_str")]
    name: Option<Cow<'a, str>>,
}

/// Acme's protocol, for one connection.
#[derive(Debug, Default)]
pub(crate) struct AcmeMedia {
    format: Option<AudioFormat>,
    stream: String,
    audio: Vec<u8>,
    name: String,
    event: String,
    out: String,
}

impl AcmeMedia {
    pub(crate) fn new() -> AcmeMedia {
        AcmeMedia::default()
    }
}

impl MediaProtocol for AcmeMedia {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn wire_format(&self) -> Option<AudioFormat> {
        self.format
    }

    fn framing(&self) -> Framing {
        Framing {
            frame: Duration::from_millis(20),
            strict: false,
        }
    }

    fn decode<'a>(&'a mut self, message: WsMessage<'a>) -> Result<MediaEvent<'a>, MediaError> {
        let text = text_frame(KIND, message)?;
        let wire: Wire<'a> =
            serde_json::from_str(text).map_err(|e| malformed(KIND, format!("not JSON: {e}")))?;
        let AcmeMedia {
            format,
            stream,
            audio,
            name,
            event,
            ..
        } = self;
        Ok(match keep(wire.event, event) {
            "start" => {
                let announced = wire.format.as_deref().unwrap_or("");
                let now = format_of(announced)
                    .ok_or_else(|| malformed(KIND, format!("a start in {announced:?}")))?;
                if let Some(was) = *format
                    && was != now
                {
                    return Err(MediaError::FormatChanged {
                        provider: KIND,
                        was,
                        now,
                    });
                }
                *format = Some(now);
                *stream = wire.stream.clone().unwrap_or_default();
                let mut start = StreamStart::new(now);
                start.stream_id = wire.stream;
                start.call_id = wire.call.and_then(|c| telephony::CallId::new(c).ok());
                start.parameters = wire.params;
                MediaEvent::Start(start)
            }
            "audio" => {
                let media = wire
                    .media
                    .ok_or_else(|| malformed(KIND, "audio without media"))?;
                if format.is_none() {
                    return Err(MediaError::NotStarted { provider: KIND });
                }
                b64::decode_payload(KIND, &media.payload, audio)?;
                MediaEvent::Audio {
                    payload: audio,
                    track: AudioTrack::Inbound,
                    timestamp: media.timestamp.map(Duration::from_millis),
                    sequence: None,
                }
            }
            "key" => DtmfObject::event(KIND, wire.dtmf)?,
            "played" => {
                let played = wire
                    .name
                    .ok_or_else(|| malformed(KIND, "played without a name"))?;
                MediaEvent::Mark {
                    name: keep(played, name),
                }
            }
            "cleared" => MediaEvent::Cleared,
            "hangup" => MediaEvent::Stop,
            other => MediaEvent::Unknown { event: other },
        })
    }

    fn encode(
        &mut self,
        command: MediaCommand<'_>,
        out: &mut dyn FnMut(WsMessage<'_>),
    ) -> Result<(), MediaError> {
        if self.format.is_none() {
            return Err(MediaError::NotStarted { provider: KIND });
        }
        let text = &mut self.out;
        text.clear();
        text.push_str("{\"stream\":");
        push_string(text, &self.stream);
        match command {
            MediaCommand::Audio(bytes) => {
                text.push_str(",\"event\":\"audio\",\"payload\":\"");
                b64::encode_into(bytes, text);
                text.push('"');
            }
            MediaCommand::Mark(name) => {
                text.push_str(",\"event\":\"mark\",\"name\":");
                push_string(text, name);
            }
            MediaCommand::Clear => text.push_str(",\"event\":\"clear\""),
            _ => {
                return Err(MediaError::Unsupported {
                    provider: KIND,
                    what: "send this command",
                });
            }
        }
        text.push('}');
        out(WsMessage::Text(text));
        Ok(())
    }
}

/// Acme's side of one stream, as the media contract drives it: what the emulator of a
/// built-in carrier is to its adapter.
pub(crate) struct AcmeSide {
    format: AudioFormat,
    parameters: Vec<(String, String)>,
    sent: u64,
}

const CALL: &str = "acme-call-1";
const STREAM: &str = "acme-stream-1";

impl AcmeSide {
    pub(crate) fn new(format: AudioFormat) -> AcmeSide {
        AcmeSide {
            format,
            parameters: vec![("agent".into(), "bench".into())],
            sent: 0,
        }
    }
}

fn text(value: serde_json::Value) -> ProviderMessage {
    ProviderMessage::Text(value.to_string())
}

impl CarrierSide for AcmeSide {
    fn opening(&mut self) -> Vec<ProviderMessage> {
        let params: serde_json::Map<String, serde_json::Value> = self
            .parameters
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().into()))
            .collect();
        vec![text(serde_json::json!({
            "event": "start", "call": CALL, "stream": STREAM,
            "format": content_type(self.format), "params": params,
        }))]
    }

    fn media(&mut self, wire: &[u8]) -> ProviderMessage {
        let mut payload = String::new();
        b64::encode_into(wire, &mut payload);
        self.sent += 1;
        let timestamp = (self.sent - 1) * 20;
        text(serde_json::json!({
            "event": "audio", "media": {"payload": payload, "timestamp": timestamp},
        }))
    }

    fn dtmf(&mut self, digit: char) -> ProviderMessage {
        text(serde_json::json!({"event": "key", "dtmf": {"digit": digit.to_string()}}))
    }

    fn stop(&mut self) -> Option<ProviderMessage> {
        Some(text(serde_json::json!({"event": "hangup"})))
    }

    fn agent(&mut self, message: WsMessage<'_>) -> Vec<FromAgent> {
        let refuse = |v| vec![FromAgent::Violation(v)];
        let text = match message {
            WsMessage::Text(t) => t,
            WsMessage::Binary(b) => return refuse(Violation::BinaryFrame { len: b.len() }),
        };
        let v: serde_json::Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => return refuse(Violation::Malformed(e.to_string())),
        };
        if v["stream"] != STREAM {
            return refuse(Violation::WrongStream(v["stream"].to_string()));
        }
        match v["event"].as_str().unwrap_or("") {
            "audio" => {
                let mut bytes = Vec::new();
                let payload = v["payload"].as_str().unwrap_or("");
                match b64::decode_into(payload.as_bytes(), &mut bytes) {
                    Ok(()) => vec![FromAgent::Audio(bytes)],
                    Err(e) => refuse(Violation::Malformed(e.to_string())),
                }
            }
            "mark" => match v["name"].as_str() {
                Some(name) => vec![FromAgent::Mark {
                    name: name.to_owned(),
                    echo: ProviderMessage::Text(
                        serde_json::json!({"event": "played", "name": name}).to_string(),
                    ),
                }],
                None => refuse(Violation::Malformed("a mark without a name".into())),
            },
            "clear" => vec![FromAgent::Clear],
            other => refuse(Violation::UnknownMessage(other.to_owned())),
        }
    }

    fn cleared(&mut self, _pending: Vec<(String, ProviderMessage)>) -> Vec<ProviderMessage> {
        vec![text(serde_json::json!({"event": "cleared"}))]
    }

    fn call_id(&self) -> Option<&str> {
        Some(CALL)
    }

    fn stream_id(&self) -> Option<&str> {
        Some(STREAM)
    }

    fn parameters(&self) -> &[(String, String)] {
        &self.parameters
    }
}
