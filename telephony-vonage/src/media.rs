//! Vonage's Voice API WebSocket, both directions.
//!
//! In: the first text message, `websocket:connected`, carries the content type and, at its top
//! level, the `headers` the NCCO set (there is no call id otherwise); then binary messages of
//! 16-bit little-endian PCM, 20 ms each, and the text events `websocket:dtmf`,
//! `websocket:cleared` and `websocket:notify`.
//!
//! Out: binary frames of exactly 20 ms (320, 640 or 960 bytes at 8, 16 or 24 kHz; Vonage drops
//! the call over a frame of another size, so [`encode`](MediaProtocol::encode) refuses one),
//! `{"action":"clear"}`, and `{"action":"notify","payload":{"name":…}}` as the playback mark.
//!
//! Audio that arrives before `websocket:connected` is decoded in the format the answer asked
//! for, never dropped.

use std::time::Duration;

use telephony_core::audio::{AudioFormat, Encoding, SampleRate};
use telephony_core::media::json::{dtmf_digit, malformed, push_string};
use telephony_core::media::{AudioTrack, Framing, StreamStart};
use telephony_core::{
    CallId, MediaCommand, MediaError, MediaEvent, MediaProtocol, ProviderKind, WsMessage,
};

use crate::KIND;

/// The stream parameter (websocket header) that carries the call's uuid, as
/// [`answer_call`](telephony_core::TelephonyProvider::answer_call) sets it.
pub const CALL_UUID_HEADER: &str = "call_uuid";

/// One Vonage WebSocket connection.
#[derive(Debug)]
pub struct VonageMediaProtocol {
    expected: AudioFormat,
    format: Option<AudioFormat>,
    received: u64,
    frames: u64,
    text: String,
    out: String,
}

impl VonageMediaProtocol {
    /// A protocol for a new connection whose answer asked for L16 at `rate` (8, 16 or 24 kHz;
    /// another rate is taken as 16 kHz). `websocket:connected` confirms or corrects it.
    pub fn new(rate: SampleRate) -> VonageMediaProtocol {
        let rate = match rate {
            SampleRate::Hz8000 | SampleRate::Hz16000 | SampleRate::Hz24000 => rate,
            _ => SampleRate::Hz16000,
        };
        VonageMediaProtocol {
            expected: AudioFormat::new(Encoding::L16Le, rate),
            format: None,
            received: 0,
            frames: 0,
            text: String::new(),
            out: String::with_capacity(128),
        }
    }

    /// Whether `websocket:connected` came.
    pub fn is_connected(&self) -> bool {
        self.format.is_some()
    }

    /// The size every outbound frame must have, in bytes.
    pub fn frame_bytes(&self) -> usize {
        let format = self.format.unwrap_or(self.expected);
        format.rate.samples_per_20ms() * 2
    }

    fn keep(&mut self, s: String) -> &str {
        self.text = s;
        &self.text
    }
}

/// `audio/l16;rate=16000` → the format, forgiving case and spaces.
pub fn content_type_format(content_type: &str) -> Option<AudioFormat> {
    let mut parts = content_type.split(';');
    let media = parts.next()?.trim();
    if !media.eq_ignore_ascii_case("audio/l16") {
        return None;
    }
    let rate = parts
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim().eq_ignore_ascii_case("rate").then(|| v.trim())
        })
        .next()?;
    let rate = match rate {
        "8000" => SampleRate::Hz8000,
        "16000" => SampleRate::Hz16000,
        "24000" => SampleRate::Hz24000,
        _ => return None,
    };
    Some(AudioFormat::new(Encoding::L16Le, rate))
}

fn text_of(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

impl MediaProtocol for VonageMediaProtocol {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn wire_format(&self) -> Option<AudioFormat> {
        Some(self.format.unwrap_or(self.expected))
    }

    fn framing(&self) -> Framing {
        Framing {
            frame: Duration::from_millis(20),
            strict: true,
        }
    }

    fn decode<'a>(&'a mut self, message: WsMessage<'a>) -> Result<MediaEvent<'a>, MediaError> {
        let text = match message {
            WsMessage::Binary(audio) => {
                if audio.is_empty() {
                    return Err(malformed(KIND, "an empty binary message"));
                }
                if audio.len() % 2 != 0 {
                    return Err(malformed(
                        KIND,
                        format!(
                            "a binary message of {} bytes: not whole 16-bit samples",
                            audio.len()
                        ),
                    ));
                }
                let rate = u128::from(self.wire_format().map_or(16000, |f| f.rate.hz()));
                let nanos = u128::from(self.received) * 500_000_000 / rate;
                let timestamp = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
                self.received = self.received.saturating_add(audio.len() as u64);
                self.frames = self.frames.saturating_add(1);
                return Ok(MediaEvent::Audio {
                    payload: audio,
                    track: AudioTrack::Inbound,
                    timestamp: Some(timestamp),
                    sequence: Some(self.frames),
                });
            }
            WsMessage::Text(t) => t,
        };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| malformed(KIND, e.to_string()))?;
        let serde_json::Value::Object(map) = value else {
            return Err(malformed(KIND, "a text message that is not a JSON object"));
        };
        let event = match map.get("event") {
            Some(serde_json::Value::String(e)) => e.clone(),
            _ => return Err(malformed(KIND, "a text message without an event")),
        };
        match event.as_str() {
            "websocket:connected" => {
                let ct = map
                    .get("content-type")
                    .and_then(|v| v.as_str())
                    .ok_or_else(|| malformed(KIND, "websocket:connected without a content-type"))?;
                let format = content_type_format(ct).ok_or_else(|| {
                    malformed(KIND, format!(
                        "content-type {ct:?}: Vonage streams audio/l16 at 8000, 16000 or 24000 Hz"
                    ))
                })?;
                self.format = Some(format);
                let mut start = StreamStart::new(format);
                for (k, v) in &map {
                    if k == "event" || k == "content-type" {
                        continue;
                    }
                    if let Some(v) = text_of(v) {
                        start.parameters.push((k.clone(), v));
                    }
                }
                start.call_id = start
                    .parameter(CALL_UUID_HEADER)
                    .or_else(|| start.parameter("uuid"))
                    .and_then(|id| CallId::new(id).ok());
                Ok(MediaEvent::Start(start))
            }
            "websocket:dtmf" => {
                let nested = map.get("dtmf");
                let field = |name: &str| {
                    map.get(name)
                        .or_else(|| nested.and_then(|d| d.get(name)))
                        .and_then(text_of)
                };
                let digit = field("digit")
                    .and_then(|d| dtmf_digit(&d))
                    .ok_or_else(|| malformed(KIND, "websocket:dtmf without a single-key digit"))?;
                let duration = field("duration")
                    .and_then(|d| d.trim().parse::<u64>().ok())
                    .map(Duration::from_millis);
                Ok(MediaEvent::Dtmf { digit, duration })
            }
            "websocket:cleared" => Ok(MediaEvent::Cleared),
            "websocket:notify" => {
                let name = match map.get("payload") {
                    Some(serde_json::Value::Object(p)) => match p.get("name") {
                        Some(n) => text_of(n),
                        None => Some(serde_json::Value::Object(p.clone()).to_string()),
                    },
                    Some(other) => text_of(other),
                    None => None,
                }
                .ok_or_else(|| malformed(KIND, "websocket:notify without a payload"))?;
                Ok(MediaEvent::Mark {
                    name: self.keep(name),
                })
            }
            _ => Ok(MediaEvent::Unknown {
                event: self.keep(event),
            }),
        }
    }

    fn encode(
        &mut self,
        command: MediaCommand<'_>,
        out: &mut dyn FnMut(WsMessage<'_>),
    ) -> Result<(), MediaError> {
        match command {
            MediaCommand::Audio(frame) => {
                let expected = self.frame_bytes();
                if frame.len() != expected {
                    return Err(MediaError::FrameSize {
                        provider: KIND,
                        expected,
                        got: frame.len(),
                    });
                }
                out(WsMessage::Binary(frame));
                return Ok(());
            }
            MediaCommand::Mark(name) => {
                self.out.clear();
                self.out
                    .push_str("{\"action\":\"notify\",\"payload\":{\"name\":");
                push_string(&mut self.out, name);
                self.out.push_str("}}");
            }
            MediaCommand::Clear => {
                self.out.clear();
                self.out.push_str("{\"action\":\"clear\"}");
            }
            MediaCommand::SendDtmf(_) => {
                return Err(MediaError::Unsupported {
                    provider: KIND,
                    what: "send DTMF on the WebSocket (use VonageClient::send_dtmf, PUT /v1/calls/{uuid}/dtmf)",
                });
            }
            _ => {
                return Err(MediaError::Unsupported {
                    provider: KIND,
                    what: "send this command",
                });
            }
        }
        out(WsMessage::Text(&self.out));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert_eq!(
            content_type_format("audio/l16;rate=16000"),
            Some(AudioFormat::L16LE_16K)
        );
        assert_eq!(
            content_type_format("Audio/L16; rate=24000").map(|f| f.rate),
            Some(SampleRate::Hz24000)
        );
        assert_eq!(content_type_format("audio/l16;rate=44100"), None);
        assert_eq!(content_type_format("audio/pcmu;rate=8000"), None);
        assert_eq!(content_type_format("audio/l16"), None);
    }
}
