//! Telnyx media streaming, both directions, in bidirectional RTP mode.
//!
//! In: `connected`, `start` (`stream_id` at the top, the call's `call_control_id`,
//! `client_state` and `custom_parameters` inside, and the `media_format`), `media` (the RTP
//! payload without its header, base64), `dtmf`, `mark` (a mark sent earlier, played or
//! cleared), `error` and `stop`. Counters arrive as strings or numbers. Out: `media`, `mark`,
//! `clear`, as text frames. Telnyx takes 20 ms to 30 s of audio a message; this library sends
//! exact 20 ms frames so that a `clear` drops what was not heard.
//!
//! The stream's custom parameters travel in the call's `client_state` (see
//! [`client_state`](crate::client_state)), which Telnyx echoes in `start`; parameters in
//! `custom_parameters` (set by `streaming_start`) are read too.

use std::borrow::Cow;
use std::time::Duration;

use serde::Deserialize;
use telephony_core::audio::{AudioFormat, Encoding, SampleRate};
use telephony_core::media::json::{
    DtmfObject, JsonAudio, MediaObject, borrowed_str, keep, lenient_u64, malformed,
    ordered_strings, push_string, text_frame,
};
use telephony_core::media::{Framing, StreamStart, b64, scan};
use telephony_core::{
    CallId, MediaCommand, MediaError, MediaEvent, MediaProtocol, ProviderKind, WsMessage,
};

use crate::KIND;

/// The formats a Telnyx stream carries in both directions: G.711 at 8 kHz, μ-law first.
/// Telnyx transcodes a stream only between PCMU and PCMA, so one of them is what a call
/// from the phone network can carry both ways.
pub const STREAM_FORMATS: &[AudioFormat] = &[
    AudioFormat::MULAW_8K,
    AudioFormat::new(Encoding::Alaw, SampleRate::Hz8000),
];

/// One Telnyx media streaming connection.
#[derive(Debug, Default)]
pub struct TelnyxMediaProtocol {
    stream_id: Option<String>,
    format: Option<AudioFormat>,
    audio: JsonAudio,
    text: String,
    out: String,
}

impl TelnyxMediaProtocol {
    /// A protocol for a new connection.
    pub fn new() -> TelnyxMediaProtocol {
        TelnyxMediaProtocol {
            out: String::with_capacity(1024),
            ..TelnyxMediaProtocol::default()
        }
    }

    /// The stream's id, once `start` came.
    pub fn stream_id(&self) -> Option<&str> {
        self.stream_id.as_deref()
    }
}

/// The wire format a `start` announces.
fn format_of(format: Option<&MediaFormat>) -> Result<AudioFormat, MediaError> {
    let Some(f) = format else {
        // No media_format: the stream's default codec.
        return Ok(AudioFormat::MULAW_8K);
    };
    let encoding = f.encoding.as_deref().unwrap_or("PCMU");
    let rate = f.sample_rate.unwrap_or(8000);
    if f.channels.is_some_and(|c| c != 1) {
        return Err(malformed(KIND, "media format with more than one channel"));
    }
    match (encoding.to_ascii_uppercase().as_str(), rate) {
        ("PCMU", 8000) => Ok(AudioFormat::MULAW_8K),
        ("PCMA", 8000) => Ok(AudioFormat::new(Encoding::Alaw, SampleRate::Hz8000)),
        (other, r) => Err(malformed(
            KIND,
            format!(
                "media format {other} at {r} Hz: this library streams PCMU or PCMA at 8 kHz (ask for one in the stream's audio)"
            ),
        )),
    }
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    event: Cow<'a, str>,
    #[serde(default, borrow, deserialize_with = "borrowed_str")]
    stream_id: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "lenient_u64")]
    sequence_number: Option<u64>,
    #[serde(default, borrow)]
    media: Option<MediaObject<'a>>,
    #[serde(default)]
    start: Option<Start>,
    #[serde(default)]
    dtmf: Option<DtmfObject>,
    #[serde(default)]
    mark: Option<Mark>,
    #[serde(default)]
    error: Option<serde_json::Value>,
    #[serde(default)]
    payload: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Start {
    #[serde(default)]
    call_control_id: Option<String>,
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    client_state: Option<String>,
    #[serde(default, deserialize_with = "ordered_strings")]
    custom_parameters: Vec<(String, String)>,
    #[serde(default)]
    media_format: Option<MediaFormat>,
}

#[derive(Deserialize)]
struct MediaFormat {
    #[serde(default)]
    encoding: Option<String>,
    #[serde(default, deserialize_with = "lenient_u64")]
    sample_rate: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    channels: Option<u64>,
}

#[derive(Deserialize)]
struct Mark {
    #[serde(default)]
    name: Option<String>,
}

/// What an `error` frame says, in a line.
fn error_text(error: Option<&serde_json::Value>) -> String {
    let Some(value) = error else {
        return "error".to_owned();
    };
    let field = |k: &str| {
        value.get(k).and_then(|v| {
            v.as_str()
                .map(str::to_owned)
                .or_else(|| v.as_u64().map(|n| n.to_string()))
        })
    };
    let parts: Vec<String> = ["code", "title", "detail"]
        .iter()
        .filter_map(|k| field(k))
        .collect();
    if parts.is_empty() {
        format!("error: {value}")
    } else {
        format!("error: {}", parts.join(" "))
    }
}

impl MediaProtocol for TelnyxMediaProtocol {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn wire_format(&self) -> Option<AudioFormat> {
        self.format
    }

    /// Exact 20 ms frames: Telnyx takes 20 ms to 30 s a message, so a shorter tail is padded.
    fn framing(&self) -> Framing {
        Framing {
            frame: Duration::from_millis(20),
            strict: true,
        }
    }

    fn decode<'a>(&'a mut self, message: WsMessage<'a>) -> Result<MediaEvent<'a>, MediaError> {
        let text = text_frame(KIND, message)?;
        // Fifty times a second: the media event, read without a general parser.
        if let Some(m) =
            scan::media_audio_keyed(text, "sequence_number", &["stream_id"], self.audio.buffer())
        {
            let timestamp = m.timestamp.map(Duration::from_millis);
            return Ok(self.audio.event(m.track, timestamp, m.sequence));
        }
        let msg: Message<'a> =
            serde_json::from_str(text).map_err(|e| malformed(KIND, e.to_string()))?;
        match msg.event.as_ref() {
            "connected" => Ok(MediaEvent::Connected),
            "start" => {
                let start = msg
                    .start
                    .ok_or_else(|| malformed(KIND, "start without a start object"))?;
                let format = format_of(start.media_format.as_ref())?;
                if let Some(was) = self.format
                    && was != format
                {
                    return Err(MediaError::FormatChanged {
                        provider: KIND,
                        was,
                        now: format,
                    });
                }
                self.format = Some(format);
                self.stream_id = msg.stream_id.map(Cow::into_owned);
                let mut s = StreamStart::new(format);
                s.stream_id.clone_from(&self.stream_id);
                s.call_id = start.call_control_id.and_then(|c| CallId::new(c).ok());
                s.account_id = start.user_id;
                s.parameters = start.custom_parameters;
                if let Some(state) = start.client_state.as_deref() {
                    s.parameters
                        .extend(crate::client_state::parameters(state).unwrap_or_default());
                }
                Ok(MediaEvent::Start(s))
            }
            "media" => {
                let media = msg
                    .media
                    .ok_or_else(|| malformed(KIND, "media without a media object"))?;
                self.audio.decode(KIND, &media.payload)?;
                let timestamp = media.timestamp.map(Duration::from_millis);
                Ok(self
                    .audio
                    .event(media.track.as_deref(), timestamp, msg.sequence_number))
            }
            "dtmf" => DtmfObject::event(KIND, msg.dtmf),
            "mark" => {
                let name = msg
                    .mark
                    .and_then(|m| m.name)
                    .ok_or_else(|| malformed(KIND, "mark without a name"))?;
                self.text = name;
                Ok(MediaEvent::Mark { name: &self.text })
            }
            "stop" => Ok(MediaEvent::Stop),
            "error" => {
                self.text = error_text(msg.error.as_ref().or(msg.payload.as_ref()));
                Ok(MediaEvent::Unknown { event: &self.text })
            }
            _ => Ok(MediaEvent::Unknown {
                event: keep(msg.event, &mut self.text),
            }),
        }
    }

    fn encode(
        &mut self,
        command: MediaCommand<'_>,
        out: &mut dyn FnMut(WsMessage<'_>),
    ) -> Result<(), MediaError> {
        if self.format.is_none() {
            return Err(MediaError::NotStarted { provider: KIND });
        }
        self.out.clear();
        match command {
            MediaCommand::Audio(frame) => {
                self.out
                    .push_str("{\"event\":\"media\",\"media\":{\"payload\":\"");
                b64::encode_into(frame, &mut self.out);
                self.out.push_str("\"}}");
            }
            MediaCommand::Mark(name) => {
                self.out.push_str("{\"event\":\"mark\",\"mark\":{\"name\":");
                push_string(&mut self.out, name);
                self.out.push_str("}}");
            }
            MediaCommand::Clear => self.out.push_str("{\"event\":\"clear\"}"),
            _ => {
                return Err(MediaError::Unsupported {
                    provider: KIND,
                    what: "send this over the stream (Telnyx sends DTMF with the send_dtmf command)",
                });
            }
        }
        out(WsMessage::Text(&self.out));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use telephony_core::media::AudioTrack;

    use super::*;

    fn decode_owned(p: &mut TelnyxMediaProtocol, text: &str) -> Result<String, MediaError> {
        p.decode(WsMessage::Text(text)).map(|e| format!("{e:?}"))
    }

    #[test]
    fn the_documented_start_and_media_frames_read() {
        let mut p = TelnyxMediaProtocol::new();
        assert_eq!(
            decode_owned(&mut p, r#"{"event":"connected","version":"1.0.0"}"#).unwrap(),
            "Connected"
        );
        let start = r#"{"event":"start","sequence_number":"1","stream_id":"32DE0DEA-53CB-4B21-89A4-9E1819C043BC","start":{"user_id":"3E6F995F-85F7-4705-9741-53B116D28237","call_control_id":"v2:T02llQxIyaRkhfRKxgAP8nY511EhFLizdvdUKJiSw8d6A9BborherQ","call_session_id":"ff55a038-6f5d-11ef-9692-02420aeffb1f","from":"+13122010094","to":"+13122123456","tags":["TAG1","TAG2"],"client_state":"aGF2ZSBhIG5pY2UgZGF5ID1d","custom_parameters":{"customer_id":"customer_123"},"media_format":{"encoding":"PCMU","sample_rate":8000,"channels":1}}}"#;
        let MediaEvent::Start(s) = p.decode(WsMessage::Text(start)).unwrap() else {
            panic!("not a start")
        };
        assert_eq!(s.format, AudioFormat::MULAW_8K);
        assert_eq!(
            s.stream_id.as_deref(),
            Some("32DE0DEA-53CB-4B21-89A4-9E1819C043BC")
        );
        assert_eq!(
            s.call_id.as_ref().map(CallId::as_str),
            Some("v2:T02llQxIyaRkhfRKxgAP8nY511EhFLizdvdUKJiSw8d6A9BborherQ")
        );
        // A client_state that is not this library's adds nothing.
        assert_eq!(s.parameter("customer_id"), Some("customer_123"));
        assert_eq!(s.parameters.len(), 1);
        let media = r#"{"event":"media","sequence_number":"4","stream_id":"32DE0DEA-53CB-4B21-89A4-9E1819C043BC","media":{"track":"inbound","chunk":"2","timestamp":"5","payload":"no+JhoaJjpzS"}}"#;
        let MediaEvent::Audio {
            payload,
            timestamp,
            sequence,
            track,
        } = p.decode(WsMessage::Text(media)).unwrap()
        else {
            panic!("not audio")
        };
        assert_eq!(payload.len(), 9);
        assert_eq!(timestamp, Some(Duration::from_millis(5)));
        assert_eq!(sequence, Some(4));
        assert_eq!(track, AudioTrack::Inbound);
    }

    #[test]
    fn dtmf_marks_errors_and_stop() {
        let mut p = TelnyxMediaProtocol::new();
        assert!(matches!(
            p.decode(WsMessage::Text(
                r#"{"event":"dtmf","stream_id":"s","dtmf":{"digit":"7"}}"#
            )),
            Ok(MediaEvent::Dtmf { digit: '7', .. })
        ));
        assert!(matches!(
            p.decode(WsMessage::Text(
                r#"{"event":"mark","stream_id":"s","mark":{"name":"utt-1"}}"#
            )),
            Ok(MediaEvent::Mark { name: "utt-1" })
        ));
        let e = decode_owned(
            &mut p,
            r#"{"event":"error","stream_id":"s","payload":{"code":100002,"title":"Unknown error","detail":"x"}}"#,
        )
        .unwrap();
        assert!(e.contains("100002 Unknown error x"), "{e}");
        assert!(matches!(
            p.decode(WsMessage::Text(
                r#"{"event":"stop","stream_id":"s","stop":{}}"#
            )),
            Ok(MediaEvent::Stop)
        ));
        assert!(p.decode(WsMessage::Text(r#"{"event":"mark"}"#)).is_err());
        assert!(p.decode(WsMessage::Binary(b"\x00\x01")).is_err());
        assert!(p.decode(WsMessage::Text("{")).is_err());
    }

    #[test]
    fn formats_other_than_g711_are_refused_by_name() {
        let mut p = TelnyxMediaProtocol::new();
        let e = p
            .decode(WsMessage::Text(
                r#"{"event":"start","stream_id":"s","start":{"media_format":{"encoding":"OPUS","sample_rate":48000,"channels":1}}}"#,
            ))
            .unwrap_err();
        assert!(e.to_string().contains("OPUS at 48000 Hz"), "{e}");
        let MediaEvent::Start(s) = p
            .decode(WsMessage::Text(
                r#"{"event":"start","stream_id":"s","start":{"media_format":{"encoding":"PCMA","sample_rate":"8000"}}}"#,
            ))
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(s.format.encoding, Encoding::Alaw);
    }

    #[test]
    fn out_goes_media_mark_clear_and_nothing_before_start() {
        let mut p = TelnyxMediaProtocol::new();
        let mut sent = Vec::new();
        assert!(
            p.encode(MediaCommand::Clear, &mut |m| sent.push(format!("{m:?}")))
                .is_err()
        );
        p.decode(WsMessage::Text(
            r#"{"event":"start","stream_id":"s","start":{}}"#,
        ))
        .unwrap();
        let mut texts = Vec::new();
        for c in [
            MediaCommand::Audio(&[0xff, 0x7f, 0x00]),
            MediaCommand::Mark("a\"b"),
            MediaCommand::Clear,
        ] {
            p.encode(c, &mut |m| {
                if let WsMessage::Text(t) = m {
                    texts.push(t.to_owned());
                }
            })
            .unwrap();
        }
        assert_eq!(
            texts,
            [
                r#"{"event":"media","media":{"payload":"/38A"}}"#,
                r#"{"event":"mark","mark":{"name":"a\"b"}}"#,
                r#"{"event":"clear"}"#
            ]
        );
        assert!(p.encode(MediaCommand::SendDtmf("1"), &mut |_| {}).is_err());
    }
}
