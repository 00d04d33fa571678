//! Twilio's side of a Media Stream: `connected` and `start`, 20 ms μ-law `media`, `dtmf` and
//! `stop` to the agent; `media`, `mark` and `clear` read from it, marks echoed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tokio_tungstenite::tungstenite::Message;

use super::ACCOUNT_SID;
use crate::engine::{AgentSays, MediaDialect};
use crate::record::Violation;

pub(super) struct TwilioMedia {
    pub(super) stream_sid: String,
    pub(super) call_sid: String,
    pub(super) parameters: Vec<(String, String)>,
    pub(super) seq: u64,
    pub(super) chunk: u64,
}

impl TwilioMedia {
    fn seq(&mut self) -> String {
        self.seq += 1;
        self.seq.to_string()
    }
}

impl MediaDialect for TwilioMedia {
    fn opening(&mut self) -> Vec<Message> {
        let params: serde_json::Map<String, serde_json::Value> = self
            .parameters
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let connected =
            serde_json::json!({"event": "connected", "protocol": "Call", "version": "1.0.0"});
        let start = serde_json::json!({
            "event": "start",
            "sequenceNumber": self.seq(),
            "start": {
                "accountSid": ACCOUNT_SID,
                "streamSid": self.stream_sid,
                "callSid": self.call_sid,
                "tracks": ["inbound"],
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                "customParameters": params,
            },
            "streamSid": self.stream_sid,
        });
        vec![
            Message::text(connected.to_string()),
            Message::text(start.to_string()),
        ]
    }

    fn media(&mut self, frame: &[u8]) -> Message {
        self.chunk += 1;
        let m = serde_json::json!({
            "event": "media",
            "sequenceNumber": self.seq(),
            "media": {
                "track": "inbound",
                "chunk": self.chunk.to_string(),
                "timestamp": ((self.chunk - 1) * 20).to_string(),
                "payload": STANDARD.encode(frame),
            },
            "streamSid": self.stream_sid,
        });
        Message::text(m.to_string())
    }

    fn dtmf(&mut self, digit: char) -> Message {
        let m = serde_json::json!({
            "event": "dtmf",
            "streamSid": self.stream_sid,
            "sequenceNumber": self.seq(),
            "dtmf": {"track": "inbound_track", "digit": digit.to_string()},
        });
        Message::text(m.to_string())
    }

    fn stop(&mut self) -> Option<Message> {
        let m = serde_json::json!({
            "event": "stop",
            "sequenceNumber": self.seq(),
            "streamSid": self.stream_sid,
            "stop": {"accountSid": ACCOUNT_SID, "callSid": self.call_sid},
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
        let event = v.get("event").and_then(|e| e.as_str()).unwrap_or("");
        if let Some(sid) = v.get("streamSid").and_then(|s| s.as_str())
            && sid != self.stream_sid
        {
            return vec![AgentSays::Violation(Violation::WrongStream(sid.to_owned()))];
        }
        match event {
            "media" => {
                let payload = v
                    .pointer("/media/payload")
                    .and_then(|p| p.as_str())
                    .and_then(|p| STANDARD.decode(p).ok());
                match payload {
                    Some(bytes) => vec![AgentSays::Audio(bytes)],
                    None => vec![AgentSays::Violation(Violation::Malformed(
                        "media without a base64 payload".into(),
                    ))],
                }
            }
            "mark" => match v.pointer("/mark/name").and_then(|n| n.as_str()) {
                Some(name) => {
                    let echo = serde_json::json!({
                        "event": "mark",
                        "sequenceNumber": self.seq(),
                        "streamSid": self.stream_sid,
                        "mark": {"name": name},
                    });
                    vec![AgentSays::Mark(
                        name.to_owned(),
                        Message::text(echo.to_string()),
                    )]
                }
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
        Some(&self.stream_sid)
    }

    fn cleared(&mut self, pending: Vec<(String, Message)>) -> Vec<Message> {
        // Twilio returns every pending mark at once when the audio is cleared.
        pending.into_iter().map(|(_, m)| m).collect()
    }
}
