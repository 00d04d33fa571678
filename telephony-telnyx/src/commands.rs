//! The bodies of the Call Control commands this adapter sends, and the `command_id` each
//! carries so that Telnyx ignores it when it arrives twice.
//!
//! Telnyx drops a command whose `command_id` it has seen for the same call (for `dial`, the
//! same `command_id` on another dial). Every command here carries one:
//!
//! - answering, rejecting and hanging up a call: derived from the call's id, so a retried
//!   request, or a second delivery of the same webhook answered again, is one command;
//! - placing a call: derived from the host's [`OutboundCall::idempotency_key`] when it set
//!   one (so the host may retry a create that may have reached Telnyx), else a fresh UUID for
//!   this `initiate_call`, which its own retries reuse.

use serde::Serialize;
use sha2::{Digest, Sha256};
use telephony_core::audio::{AudioFormat, Encoding};
use telephony_core::{CallTarget, Error, MachineDetection, OutboundCall, StreamSpec};

use crate::client_state;
use crate::media::STREAM_FORMATS;
use crate::recording::RecordFields;

/// A `command_id` for `what` on `subject`: `what-` and 32 hex digits of SHA-256.
pub fn command_id(what: &str, subject: &str) -> String {
    let digest = Sha256::digest(format!("{what}\n{subject}").as_bytes());
    format!("{what}-{}", telephony_core::rest::hex(&digest[..16]))
}

/// The stream fields of `dial` and `answer`: bidirectional RTP (never the MP3 default), the
/// caller's track only, the same G.711 codec both ways.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct StreamFields {
    /// The media WebSocket.
    pub stream_url: String,
    /// `inbound_track`: the caller, never the agent's own audio.
    pub stream_track: &'static str,
    /// The codec Telnyx streams to us.
    pub stream_codec: &'static str,
    /// `rtp`: raw audio in 20 ms frames, played as it comes.
    pub stream_bidirectional_mode: &'static str,
    /// The codec we send.
    pub stream_bidirectional_codec: &'static str,
    /// Our parameters, echoed in the stream's `start` (see [`client_state`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_state: Option<String>,
}

impl StreamFields {
    /// The fields for `stream`.
    ///
    /// # Errors
    ///
    /// A URL that is not `wss://` (or `ws://` for a local test), a format Telnyx cannot stream
    /// both ways, or parameters too long for `client_state`.
    pub fn new(stream: &StreamSpec) -> Result<StreamFields, Error> {
        if !matches!(stream.url.scheme(), "wss" | "ws") {
            return Err(Error::invalid_request(format!(
                "stream URL {}: Telnyx streams to a WebSocket (wss://)",
                stream.url
            )));
        }
        let format = stream.audio.unwrap_or(AudioFormat::MULAW_8K);
        if !STREAM_FORMATS.contains(&format) {
            return Err(Error::invalid_request(format!(
                "Telnyx cannot stream {format} both ways: ask for PCMU or PCMA at 8 kHz"
            )));
        }
        let codec = if format.encoding == Encoding::Alaw {
            "PCMA"
        } else {
            "PCMU"
        };
        Ok(StreamFields {
            stream_url: stream.url.to_string(),
            stream_track: "inbound_track",
            stream_codec: codec,
            stream_bidirectional_mode: "rtp",
            stream_bidirectional_codec: codec,
            client_state: client_state::encode(&stream.parameters)
                .map_err(Error::invalid_request)?,
        })
    }
}

/// `POST /calls`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Dial {
    /// The Call Control application.
    pub connection_id: String,
    /// Who to call.
    pub to: String,
    /// The caller ID.
    pub from: String,
    /// Where this call's events go (else the application's webhook URL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    /// `POST`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url_method: Option<&'static str>,
    /// How long it rings, 5 to 600 s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
    /// How long it may last, at most 14 400 s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_limit_secs: Option<u64>,
    /// `detect`, or `greeting_end`: on a machine, a second event when its greeting ends
    /// with a beep or silence (`detect_beep` reports only a beep, so a greeting that ends in
    /// silence would never be reported; telnyx-python 4.189 `call_dial_params.py`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answering_machine_detection: Option<&'static str>,
    /// Telnyx ignores a second dial with the same id.
    pub command_id: String,
    /// The stream the call connects to when answered.
    #[serde(flatten)]
    pub stream: StreamFields,
    /// Recording from the answer, where asked.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub record: Option<RecordFields>,
}

impl Dial {
    /// The dial for `call` through `connection_id`.
    ///
    /// # Errors
    ///
    /// A target Telnyx cannot run (Call Control fetches no document: place the call with a
    /// stream), limits out of Telnyx's ranges, a stream it cannot carry, or a recording it
    /// cannot make.
    pub fn new(connection_id: &str, call: &OutboundCall) -> Result<Dial, Error> {
        let stream = match &call.target {
            CallTarget::Stream(s) => StreamFields::new(s)?,
            CallTarget::AnswerUrl(_) | CallTarget::Markup(_) => {
                return Err(Error::invalid_request(
                    "Telnyx Call Control runs no answer document: place the call with a stream (OutboundCall::stream)",
                ));
            }
            _ => return Err(Error::invalid_request("a call target Telnyx cannot run")),
        };
        let timeout_secs = call
            .ring_timeout
            .map(|t| t.as_secs())
            .map(|s| {
                if (5..=600).contains(&s) {
                    Ok(s)
                } else {
                    Err(Error::invalid_request(format!(
                        "ring timeout {s} s: Telnyx rings for 5 to 600 s"
                    )))
                }
            })
            .transpose()?;
        let time_limit_secs = call
            .time_limit
            .map(|t| t.as_secs())
            .map(|s| {
                if (1..=14_400).contains(&s) {
                    Ok(s)
                } else {
                    Err(Error::invalid_request(format!(
                        "time limit {s} s: Telnyx allows 1 to 14400 s"
                    )))
                }
            })
            .transpose()?;
        let answering_machine_detection = call.machine_detection.map(|m| match m {
            MachineDetection::DetectGreetingEnd => "greeting_end",
            _ => "detect",
        });
        let command_id = match &call.idempotency_key {
            Some(key) => command_id("dial", &format!("{connection_id}\n{key}")),
            None => format!("dial-{}", uuid::Uuid::new_v4().simple()),
        };
        Ok(Dial {
            connection_id: connection_id.to_owned(),
            to: call.to.as_str().to_owned(),
            from: call.from.as_str().to_owned(),
            webhook_url: call.status_callback.as_ref().map(ToString::to_string),
            webhook_url_method: call.status_callback.as_ref().map(|_| "POST"),
            timeout_secs,
            time_limit_secs,
            answering_machine_detection,
            command_id,
            stream,
            record: call.record.as_ref().map(RecordFields::new).transpose()?,
        })
    }
}

/// `POST /calls/{id}/actions/answer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Answer {
    /// Where this call's later events go, when the stream names a status callback (Telnyx
    /// reports the stream's status among the call's events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    /// `POST`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url_method: Option<&'static str>,
    /// One answer per call, however often it is sent.
    pub command_id: String,
    /// The stream.
    #[serde(flatten)]
    pub stream: StreamFields,
    /// Recording from the answer, where the stream asks for it.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub record: Option<RecordFields>,
}

impl Answer {
    /// The answer of call `call_control_id` with `stream`.
    ///
    /// # Errors
    ///
    /// As [`StreamFields::new`] and [`RecordFields::new`].
    pub fn new(call_control_id: &str, stream: &StreamSpec) -> Result<Answer, Error> {
        Ok(Answer {
            webhook_url: stream.status_callback.as_ref().map(ToString::to_string),
            webhook_url_method: stream.status_callback.as_ref().map(|_| "POST"),
            command_id: command_id("answer", call_control_id),
            stream: StreamFields::new(stream)?,
            record: stream.record.as_ref().map(RecordFields::new).transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn stream() -> StreamSpec {
        StreamSpec::new("wss://agent.example.com/media".parse().unwrap()).parameter("lead", "42")
    }

    #[test]
    fn a_dial_streams_rtp_both_ways_and_carries_its_parameters() {
        let call = OutboundCall::stream(
            "+14155550100".parse().unwrap(),
            "+14155550199".parse().unwrap(),
            stream(),
        )
        .status_callback("https://agent.example.com/status".parse().unwrap())
        .ring_timeout(Duration::from_secs(30));
        let dial = Dial::new("1684641123236054244", &call).unwrap();
        let body = serde_json::to_value(&dial).unwrap();
        assert_eq!(body["stream_bidirectional_mode"], "rtp");
        assert_eq!(body["stream_bidirectional_codec"], "PCMU");
        assert_eq!(body["stream_codec"], "PCMU");
        assert_eq!(body["stream_track"], "inbound_track");
        assert_eq!(body["timeout_secs"], 30);
        assert_eq!(body["webhook_url"], "https://agent.example.com/status");
        let state = body["client_state"].as_str().unwrap();
        assert_eq!(
            client_state::parameters(state).unwrap(),
            [("lead".to_owned(), "42".to_owned())]
        );
        assert!(dial.command_id.starts_with("dial-"));
        // Without a key, each dial is its own; with one, the same key is the same dial.
        assert_ne!(Dial::new("1", &call).unwrap().command_id, dial.command_id);
        let keyed = call.clone().idempotency_key("attempt-7");
        assert_eq!(
            Dial::new("1", &keyed).unwrap().command_id,
            Dial::new("1", &keyed).unwrap().command_id
        );
    }

    #[test]
    fn what_telnyx_cannot_run_is_refused_before_the_wire() {
        let to = "+14155550100".parse().unwrap();
        let from = "+14155550199".parse().unwrap();
        let by_url = OutboundCall::answer_url(to, from, "https://a.example/x".parse().unwrap());
        assert!(Dial::new("1", &by_url).is_err());
        let l16 = OutboundCall::stream(
            "+14155550100".parse().unwrap(),
            "+14155550199".parse().unwrap(),
            stream().audio(AudioFormat::L16LE_16K),
        );
        assert!(
            Dial::new("1", &l16)
                .unwrap_err()
                .to_string()
                .contains("PCMU or PCMA")
        );
        let long = OutboundCall::stream(
            "+14155550100".parse().unwrap(),
            "+14155550199".parse().unwrap(),
            stream(),
        )
        .ring_timeout(Duration::from_secs(601));
        assert!(Dial::new("1", &long).is_err());
        let https = StreamSpec::new("https://agent.example.com/media".parse().unwrap());
        assert!(StreamFields::new(&https).is_err());
    }

    #[test]
    fn answering_the_same_call_twice_is_one_command() {
        let a = Answer::new("v3:abc", &stream()).unwrap();
        let b = Answer::new("v3:abc", &stream()).unwrap();
        assert_eq!(a.command_id, b.command_id);
        assert_ne!(
            a.command_id,
            Answer::new("v3:abd", &stream()).unwrap().command_id
        );
        assert_eq!(a.webhook_url, None);
    }
}
