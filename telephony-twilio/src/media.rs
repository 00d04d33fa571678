//! Twilio Media Streams, both directions.
//!
//! In: `connected`, `start` (ids, media format, custom parameters), `media` (base64 μ-law
//! 8 kHz), `dtmf`, `mark`, `stop`; counters arrive as strings or numbers; an unknown event is
//! reported, not fatal. Out: `media`, `mark`, `clear`, always as text frames (a binary frame
//! makes Twilio log warning 31950).

use std::borrow::Cow;
use std::time::Duration;

use serde::Deserialize;
use telephony_core::audio::AudioFormat;
use telephony_core::media::json::{
    DtmfObject, JsonAudio, MediaObject, borrowed_str, keep, lenient_u64, malformed,
    ordered_strings, push_string, text_frame,
};
use telephony_core::media::{Framing, StreamStart, b64, scan};
use telephony_core::{
    CallId, MediaCommand, MediaError, MediaEvent, MediaProtocol, ProviderKind, WsMessage,
};

use crate::KIND;

/// One Twilio Media Streams connection.
#[derive(Debug, Default)]
pub struct TwilioMediaProtocol {
    stream_sid: Option<String>,
    /// `{"event":"media","streamSid":"MZ…","media":{"payload":"`, written once per stream.
    media_prefix: String,
    audio: JsonAudio,
    text: String,
    out: String,
}

impl TwilioMediaProtocol {
    /// A protocol for a new connection.
    pub fn new() -> TwilioMediaProtocol {
        TwilioMediaProtocol {
            out: String::with_capacity(1024),
            ..TwilioMediaProtocol::default()
        }
    }

    /// The stream's SID, once `start` came.
    pub fn stream_sid(&self) -> Option<&str> {
        self.stream_sid.as_deref()
    }
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    event: Cow<'a, str>,
    #[serde(
        rename = "streamSid",
        default,
        borrow,
        deserialize_with = "borrowed_str"
    )]
    stream_sid: Option<Cow<'a, str>>,
    #[serde(rename = "sequenceNumber", default, deserialize_with = "lenient_u64")]
    sequence_number: Option<u64>,
    #[serde(default, borrow)]
    media: Option<MediaObject<'a>>,
    #[serde(default)]
    start: Option<Start>,
    #[serde(default)]
    dtmf: Option<DtmfObject>,
    #[serde(default, borrow)]
    mark: Option<Mark<'a>>,
}

#[derive(Deserialize)]
struct Start {
    #[serde(rename = "streamSid", default)]
    stream_sid: Option<String>,
    #[serde(rename = "accountSid", default)]
    account_sid: Option<String>,
    #[serde(rename = "callSid", default)]
    call_sid: Option<String>,
    #[serde(rename = "mediaFormat", default)]
    media_format: Option<MediaFormat>,
    #[serde(
        rename = "customParameters",
        default,
        deserialize_with = "ordered_strings"
    )]
    custom_parameters: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct MediaFormat {
    #[serde(default)]
    encoding: Option<String>,
    #[serde(rename = "sampleRate", default, deserialize_with = "lenient_u64")]
    sample_rate: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    channels: Option<u64>,
}

#[derive(Deserialize)]
struct Mark<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
}

impl MediaProtocol for TwilioMediaProtocol {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn wire_format(&self) -> Option<AudioFormat> {
        Some(AudioFormat::MULAW_8K)
    }

    fn framing(&self) -> Framing {
        Framing {
            frame: Duration::from_millis(20),
            strict: false,
        }
    }

    fn decode<'a>(&'a mut self, message: WsMessage<'a>) -> Result<MediaEvent<'a>, MediaError> {
        let text = text_frame(KIND, message)?;
        // Fifty times a second: the media event, read without a general parser.
        // A payload that does not decode as written (JSON escapes in it) is read again below.
        if let Some(m) = scan::media_audio(text, &["streamSid"], self.audio.buffer()) {
            let timestamp = m.timestamp.map(Duration::from_millis);
            return Ok(self.audio.event(m.track, timestamp, m.sequence));
        }
        let msg: Message<'a> =
            serde_json::from_str(text).map_err(|e| malformed(KIND, format!("{e}")))?;
        match msg.event.as_ref() {
            "connected" => Ok(MediaEvent::Connected),
            "start" => {
                let start = msg
                    .start
                    .ok_or_else(|| malformed(KIND, "start without a start object"))?;
                let format = match &start.media_format {
                    None => AudioFormat::MULAW_8K,
                    Some(f) => {
                        let mulaw = f
                            .encoding
                            .as_deref()
                            .is_none_or(|e| e.eq_ignore_ascii_case("audio/x-mulaw"));
                        if !mulaw
                            || f.sample_rate.is_some_and(|r| r != 8000)
                            || f.channels.is_some_and(|c| c != 1)
                        {
                            return Err(malformed(
                                KIND,
                                format!(
                                    "media format {:?} at {:?} Hz, {:?} channels: Twilio streams μ-law 8 kHz mono",
                                    f.encoding, f.sample_rate, f.channels
                                ),
                            ));
                        }
                        AudioFormat::MULAW_8K
                    }
                };
                let sid = start
                    .stream_sid
                    .clone()
                    .or_else(|| msg.stream_sid.map(Cow::into_owned));
                self.stream_sid.clone_from(&sid);
                self.media_prefix.clear();
                if let Some(sid) = &sid {
                    self.media_prefix
                        .push_str("{\"event\":\"media\",\"streamSid\":");
                    push_string(&mut self.media_prefix, sid);
                    self.media_prefix.push_str(",\"media\":{\"payload\":\"");
                }
                let mut s = StreamStart::new(format);
                s.stream_id = sid;
                s.call_id = start.call_sid.and_then(|c| CallId::new(c).ok());
                s.account_id = start.account_sid;
                s.parameters = start.custom_parameters;
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
                let mark = msg
                    .mark
                    .ok_or_else(|| malformed(KIND, "mark without a mark object"))?;
                Ok(MediaEvent::Mark {
                    name: keep(mark.name, &mut self.text),
                })
            }
            "stop" => Ok(MediaEvent::Stop),
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
        let sid = self
            .stream_sid
            .as_deref()
            .ok_or(MediaError::NotStarted { provider: KIND })?;
        self.out.clear();
        match command {
            MediaCommand::Audio(frame) => {
                self.out.push_str(&self.media_prefix);
                b64::encode_into(frame, &mut self.out);
                self.out.push_str("\"}}");
            }
            MediaCommand::Mark(name) => {
                self.out.push_str("{\"event\":\"mark\",\"streamSid\":");
                push_string(&mut self.out, sid);
                self.out.push_str(",\"mark\":{\"name\":");
                push_string(&mut self.out, name);
                self.out.push_str("}}");
            }
            MediaCommand::Clear => {
                self.out.push_str("{\"event\":\"clear\",\"streamSid\":");
                push_string(&mut self.out, sid);
                self.out.push('}');
            }
            MediaCommand::SendDtmf(_) => {
                return Err(MediaError::Unsupported {
                    provider: KIND,
                    what: "send DTMF on the stream (play the tones as audio instead; a <Play digits> update ends the stream)",
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
