//! Telnyx's side of a media stream: `connected`, `start` (the stream at the top, the call and
//! its `client_state` inside), `media` frames of 20 ms, `dtmf` and `stop` to the agent;
//! `media`, `mark` and `clear` read from it, marks echoed once played, and every pending mark
//! sent back on a clear.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use telephony::audio::{AudioFormat, Encoding};
use tokio_tungstenite::tungstenite::Message;

use super::ACCOUNT_ID;
use crate::engine::{AgentSays, MediaDialect};
use crate::record::Violation;

pub(super) struct TelnyxMedia {
    pub(super) stream_id: String,
    pub(super) call_control_id: String,
    pub(super) session_id: String,
    pub(super) from: String,
    pub(super) to: String,
    pub(super) parameters: Vec<(String, String)>,
    pub(super) format: AudioFormat,
    pub(super) seq: u64,
}

impl TelnyxMedia {
    fn next(&mut self) -> String {
        self.seq += 1;
        self.seq.to_string()
    }

    fn mark_echo(&self, name: &str) -> Message {
        let m = serde_json::json!({
            "event": "mark",
            "stream_id": self.stream_id,
            "mark": {"name": name},
        });
        Message::text(m.to_string())
    }
}

impl MediaDialect for TelnyxMedia {
    fn opening(&mut self) -> Vec<Message> {
        let connected = serde_json::json!({"event": "connected", "version": "1.0.0"});
        let encoding = if self.format.encoding == Encoding::Alaw {
            "PCMA"
        } else {
            "PCMU"
        };
        let client_state = telephony::telnyx::client_state::encode(&self.parameters)
            .ok()
            .flatten();
        let start = serde_json::json!({
            "event": "start",
            "sequence_number": self.next(),
            "stream_id": self.stream_id,
            "start": {
                "user_id": ACCOUNT_ID,
                "call_control_id": self.call_control_id,
                "call_session_id": self.session_id,
                "from": self.from,
                "to": self.to,
                "tags": [],
                "client_state": client_state,
                "custom_parameters": {},
                "media_format": {"encoding": encoding, "sample_rate": 8000, "channels": 1},
            },
        });
        vec![
            Message::text(connected.to_string()),
            Message::text(start.to_string()),
        ]
    }

    fn media(&mut self, frame: &[u8]) -> Message {
        let seq = self.next();
        let chunk = self.seq - 1;
        let m = serde_json::json!({
            "event": "media",
            "sequence_number": seq,
            "stream_id": self.stream_id,
            "media": {
                "track": "inbound",
                "chunk": chunk.to_string(),
                "timestamp": ((chunk - 1) * 20).to_string(),
                "payload": STANDARD.encode(frame),
            },
        });
        Message::text(m.to_string())
    }

    fn dtmf(&mut self, digit: char) -> Message {
        let m = serde_json::json!({
            "event": "dtmf",
            "sequence_number": self.next(),
            "stream_id": self.stream_id,
            "dtmf": {"digit": digit.to_string()},
        });
        Message::text(m.to_string())
    }

    fn stop(&mut self) -> Option<Message> {
        let m = serde_json::json!({
            "event": "stop",
            "sequence_number": self.next(),
            "stream_id": self.stream_id,
            "stop": {"call_control_id": self.call_control_id, "user_id": ACCOUNT_ID},
        });
        Some(Message::text(m.to_string()))
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
        if let Some(other) = v
            .get("stream_id")
            .and_then(|s| s.as_str())
            .filter(|s| *s != self.stream_id)
        {
            return vec![AgentSays::Violation(Violation::WrongStream(
                other.to_owned(),
            ))];
        }
        match v.get("event").and_then(|e| e.as_str()).unwrap_or("") {
            "media" => match v
                .pointer("/media/payload")
                .and_then(|p| p.as_str())
                .and_then(|p| STANDARD.decode(p).ok())
            {
                // In rtp mode a message carries 20 ms to 30 s of audio.
                Some(bytes) if bytes.len() < 160 => {
                    vec![AgentSays::Violation(Violation::FrameSize {
                        got: bytes.len(),
                        expected: 160,
                    })]
                }
                Some(bytes) => vec![AgentSays::Audio(bytes)],
                None => vec![AgentSays::Violation(Violation::Malformed(
                    "media without a base64 payload".into(),
                ))],
            },
            "mark" => match v.pointer("/mark/name").and_then(|n| n.as_str()) {
                Some(name) => vec![AgentSays::Mark(name.to_owned(), self.mark_echo(name))],
                None => vec![AgentSays::Violation(Violation::Malformed(
                    "mark without a name".into(),
                ))],
            },
            "clear" => vec![AgentSays::Clear],
            other => vec![AgentSays::Violation(Violation::UnknownMessage(
                other.to_owned(),
            ))],
        }
    }

    fn stream_id(&self) -> Option<&str> {
        Some(&self.stream_id)
    }

    /// A clear sends back every mark still queued.
    fn cleared(&mut self, pending: Vec<(String, Message)>) -> Vec<Message> {
        pending.into_iter().map(|(_, echo)| echo).collect()
    }
}
