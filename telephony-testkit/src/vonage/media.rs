//! Vonage's side of the WebSocket: `websocket:connected` with the NCCO's headers echoed,
//! binary L16 frames and `websocket:dtmf` to the agent; binary frames of exactly 20 ms,
//! `clear` and `notify` read from it, notifies echoed.

use tokio_tungstenite::tungstenite::Message;

use crate::engine::{AgentSays, MediaDialect};
use crate::record::Violation;

pub(super) struct VonageMedia {
    pub(super) content_type: &'static str,
    pub(super) frame_bytes: usize,
    pub(super) headers: Vec<(String, serde_json::Value)>,
}

impl MediaDialect for VonageMedia {
    fn opening(&mut self) -> Vec<Message> {
        // The headers come back at the top level, in the order the NCCO wrote them.
        let mut text = String::from("{\"event\":\"websocket:connected\",\"content-type\":");
        text.push_str(&serde_json::Value::String(self.content_type.into()).to_string());
        for (k, v) in &self.headers {
            text.push(',');
            text.push_str(&serde_json::Value::String(k.clone()).to_string());
            text.push(':');
            text.push_str(&v.to_string());
        }
        text.push('}');
        vec![Message::text(text)]
    }

    fn media(&mut self, frame: &[u8]) -> Message {
        Message::binary(frame.to_vec())
    }

    fn dtmf(&mut self, digit: char) -> Message {
        let m = serde_json::json!({"event": "websocket:dtmf", "digit": digit.to_string(), "duration": 260});
        Message::text(m.to_string())
    }

    fn stop(&mut self) -> Option<Message> {
        None
    }

    fn agent(&mut self, message: &Message) -> Vec<AgentSays> {
        match message {
            Message::Binary(b) if b.len() == self.frame_bytes => vec![AgentSays::Audio(b.to_vec())],
            Message::Binary(b) => vec![AgentSays::Violation(Violation::FrameSize {
                got: b.len(),
                expected: self.frame_bytes,
            })],
            Message::Text(t) => {
                let v: serde_json::Value = match serde_json::from_str(t.as_str()) {
                    Ok(v) => v,
                    Err(e) => {
                        return vec![AgentSays::Violation(Violation::Malformed(e.to_string()))];
                    }
                };
                match v.get("action").and_then(|a| a.as_str()).unwrap_or("") {
                    "clear" => vec![AgentSays::Clear],
                    "notify" => {
                        let payload = v.get("payload").cloned().unwrap_or(serde_json::Value::Null);
                        let name = match payload.get("name") {
                            Some(serde_json::Value::String(s)) => s.clone(),
                            _ => payload.to_string(),
                        };
                        let echo =
                            serde_json::json!({"event": "websocket:notify", "payload": payload});
                        vec![AgentSays::Mark(name, Message::text(echo.to_string()))]
                    }
                    other => vec![AgentSays::Violation(Violation::UnknownMessage(
                        other.to_owned(),
                    ))],
                }
            }
            _ => Vec::new(),
        }
    }

    fn cleared(&mut self, _pending: Vec<(String, Message)>) -> Vec<Message> {
        vec![Message::text(r#"{"event":"websocket:cleared"}"#)]
    }
}
