//! Plivo's side of an Audio Stream: `start`, `media` and `dtmf` to the agent in the stream's
//! content type; `playAudio` (checked against it), `checkpoint`, `clearAudio` and `sendDTMF`
//! read from it, checkpoints echoed as `playedStream`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use telephony::audio::{AudioFormat, Encoding};
use tokio_tungstenite::tungstenite::Message;

use super::AUTH_ID;
use crate::engine::{AgentSays, MediaDialect};
use crate::record::Violation;

pub(super) struct PlivoMedia {
    pub(super) stream_id: String,
    pub(super) call_id: String,
    pub(super) format: AudioFormat,
    pub(super) parameters: Vec<(String, String)>,
    pub(super) seq: u64,
    pub(super) epoch_ms: u64,
}

impl PlivoMedia {
    fn content_type(&self) -> (&'static str, u32) {
        match self.format.encoding {
            Encoding::Mulaw => ("audio/x-mulaw", 8000),
            _ => ("audio/x-l16", self.format.rate.hz()),
        }
    }
}

impl MediaDialect for PlivoMedia {
    fn opening(&mut self) -> Vec<Message> {
        let (encoding, rate) = self.content_type();
        let headers = self
            .parameters
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(";");
        self.seq += 1;
        let start = serde_json::json!({
            "event": "start",
            "sequenceNumber": self.seq,
            "start": {
                "callId": self.call_id,
                "streamId": self.stream_id,
                "accountId": AUTH_ID,
                "tracks": ["inbound"],
                "mediaFormat": {"encoding": encoding, "sampleRate": rate},
            },
            "extra_headers": headers,
        });
        vec![Message::text(start.to_string())]
    }

    fn media(&mut self, frame: &[u8]) -> Message {
        self.seq += 1;
        let m = serde_json::json!({
            "event": "media",
            "sequenceNumber": self.seq,
            "streamId": self.stream_id,
            "media": {
                "track": "inbound",
                "timestamp": (self.epoch_ms + (self.seq - 2) * 20).to_string(),
                "chunk": self.seq - 1,
                "payload": STANDARD.encode(frame),
            },
        });
        Message::text(m.to_string())
    }

    fn dtmf(&mut self, digit: char) -> Message {
        self.seq += 1;
        let m = serde_json::json!({
            "event": "dtmf",
            "sequenceNumber": self.seq,
            "streamId": self.stream_id,
            "dtmf": {"digit": digit.to_string()},
        });
        Message::text(m.to_string())
    }

    fn stop(&mut self) -> Option<Message> {
        // Plivo closes the socket; there is no stop message.
        None
    }

    fn agent(&mut self, message: &Message) -> Vec<AgentSays> {
        let text = match message {
            Message::Text(t) => t.as_str(),
            Message::Binary(b) => {
                return vec![AgentSays::Violation(Violation::BinaryFrame {
                    len: b.len(),
                })];
            }
            _ => return Vec::new(),
        };
        let v: serde_json::Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => return vec![AgentSays::Violation(Violation::Malformed(e.to_string()))],
        };
        let stream_ok = |v: &serde_json::Value| {
            v.get("streamId")
                .and_then(|s| s.as_str())
                .is_none_or(|s| s == self.stream_id)
        };
        if !stream_ok(&v) {
            return vec![AgentSays::Violation(Violation::WrongStream(
                v["streamId"].to_string(),
            ))];
        }
        match v.get("event").and_then(|e| e.as_str()).unwrap_or("") {
            "playAudio" => {
                let (encoding, rate) = self.content_type();
                let ct = v.pointer("/media/contentType").and_then(|c| c.as_str());
                let sr = v
                    .pointer("/media/sampleRate")
                    .and_then(serde_json::Value::as_u64);
                if ct != Some(encoding) || sr != Some(u64::from(rate)) {
                    return vec![AgentSays::Violation(Violation::WrongFormat(format!(
                        "{ct:?} at {sr:?} Hz on a {encoding} stream at {rate} Hz"
                    )))];
                }
                match v
                    .pointer("/media/payload")
                    .and_then(|p| p.as_str())
                    .and_then(|p| STANDARD.decode(p).ok())
                {
                    Some(bytes) => vec![AgentSays::Audio(bytes)],
                    None => vec![AgentSays::Violation(Violation::Malformed(
                        "playAudio without a base64 payload".into(),
                    ))],
                }
            }
            "checkpoint" => match v.get("name").and_then(|n| n.as_str()) {
                Some(name) => {
                    let echo = serde_json::json!({
                        "event": "playedStream",
                        "streamId": self.stream_id,
                        "name": name,
                    });
                    vec![AgentSays::Mark(
                        name.to_owned(),
                        Message::text(echo.to_string()),
                    )]
                }
                None => vec![AgentSays::Violation(Violation::Malformed(
                    "checkpoint without a name".into(),
                ))],
            },
            "clearAudio" => vec![AgentSays::Clear],
            "sendDTMF" => vec![AgentSays::Dtmf(
                v.get("dtmf")
                    .and_then(|d| d.as_str())
                    .unwrap_or("")
                    .to_owned(),
            )],
            other => vec![AgentSays::Violation(Violation::UnknownMessage(
                other.to_owned(),
            ))],
        }
    }

    fn stream_id(&self) -> Option<&str> {
        Some(&self.stream_id)
    }

    fn cleared(&mut self, _pending: Vec<(String, Message)>) -> Vec<Message> {
        self.seq += 1;
        let m = serde_json::json!({
            "event": "clearedAudio",
            "sequenceNumber": self.seq,
            "streamId": self.stream_id,
        });
        vec![Message::text(m.to_string())]
    }
}
