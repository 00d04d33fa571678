//! Plivo Audio Streams, both directions.
//!
//! In: `start` (there is no `connected`), `media`, `dtmf`, `playedStream` (also `played`),
//! `clearedAudio`, and `stop` if it arrives; the socket closing is the authoritative end.
//! Out: `playAudio`, `checkpoint`, `clearAudio`, `sendDTMF`. One codec for the whole stream,
//! the one the first `start` announced: a later `start` with the same format is taken as the
//! same stream announced again, one with another format is refused
//! ([`MediaError::FormatChanged`]) and the stream keeps its format. L16's byte order is
//! configurable, little-endian by default.

use std::borrow::Cow;
use std::time::Duration;

use serde::Deserialize;
use telephony_core::audio::{AudioFormat, Encoding, SampleRate};
use telephony_core::media::json::{
    DtmfObject, JsonAudio, MediaObject, borrowed_str, dtmf_digit, keep, lenient_u64, malformed,
    push_string, text_frame,
};
use telephony_core::media::{Framing, StreamStart, b64, scan};
use telephony_core::{
    CallId, MediaCommand, MediaError, MediaEvent, MediaProtocol, ProviderKind, WsMessage,
};

use crate::KIND;
use crate::config::ByteOrder;

/// One Plivo Audio Streams connection.
#[derive(Debug)]
pub struct PlivoMediaProtocol {
    byte_order: ByteOrder,
    stream_id: Option<String>,
    format: Option<AudioFormat>,
    first_timestamp: Option<u64>,
    audio: JsonAudio,
    text: String,
    out: String,
}

impl PlivoMediaProtocol {
    /// A protocol for a new connection, reading L16 in `byte_order`.
    pub fn new(byte_order: ByteOrder) -> PlivoMediaProtocol {
        PlivoMediaProtocol {
            byte_order,
            stream_id: None,
            format: None,
            first_timestamp: None,
            audio: JsonAudio::new(),
            text: String::new(),
            out: String::with_capacity(2048),
        }
    }

    /// The stream's id, once `start` came.
    pub fn stream_id(&self) -> Option<&str> {
        self.stream_id.as_deref()
    }

    /// Plivo stamps media with the wall clock: the time since the stream's first packet.
    fn since_first(&mut self, timestamp: Option<u64>) -> Option<Duration> {
        timestamp.map(|t| {
            let first = *self.first_timestamp.get_or_insert(t);
            Duration::from_millis(t.saturating_sub(first))
        })
    }

    fn format_of(
        &self,
        encoding: Option<&str>,
        rate: Option<u64>,
    ) -> Result<AudioFormat, MediaError> {
        let encoding = encoding.unwrap_or("audio/x-l16");
        let media = encoding
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        // A rate may also come inside the content type: audio/x-l16;rate=16000.
        let rate = rate.or_else(|| {
            encoding
                .split(';')
                .filter_map(|p| p.trim().strip_prefix("rate="))
                .find_map(|r| r.parse().ok())
        });
        match (media.as_str(), rate.unwrap_or(8000)) {
            ("audio/x-mulaw" | "audio/mulaw" | "audio/pcmu", 8000) => Ok(AudioFormat::MULAW_8K),
            ("audio/x-l16" | "audio/l16", r @ (8000 | 16000)) => {
                let e = match self.byte_order {
                    ByteOrder::Little => Encoding::L16Le,
                    ByteOrder::Big => Encoding::L16Be,
                };
                let rate = if r == 8000 {
                    SampleRate::Hz8000
                } else {
                    SampleRate::Hz16000
                };
                Ok(AudioFormat::new(e, rate))
            }
            (other, r) => Err(malformed(
                KIND,
                format!(
                    "media format {other} at {r} Hz: Plivo streams μ-law 8 kHz or L16 at 8 or 16 kHz"
                ),
            )),
        }
    }

    fn begin(&mut self, event: &str) -> Result<&str, MediaError> {
        let id = self
            .stream_id
            .as_deref()
            .ok_or(MediaError::NotStarted { provider: KIND })?;
        self.out.clear();
        self.out.push_str("{\"event\":\"");
        self.out.push_str(event);
        self.out.push_str("\",\"streamId\":");
        Ok(id)
    }
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    event: Cow<'a, str>,
    #[serde(
        rename = "streamId",
        default,
        borrow,
        deserialize_with = "borrowed_str"
    )]
    stream_id: Option<Cow<'a, str>>,
    #[serde(rename = "sequenceNumber", default, deserialize_with = "lenient_u64")]
    sequence_number: Option<u64>,
    #[serde(default, borrow)]
    media: Option<MediaObject<'a>>,
    #[serde(default)]
    start: Option<Start>,
    #[serde(default)]
    dtmf: Option<DtmfObject>,
    #[serde(default, borrow, deserialize_with = "borrowed_str")]
    name: Option<Cow<'a, str>>,
    #[serde(default)]
    extra_headers: Option<String>,
}

#[derive(Deserialize)]
struct Start {
    #[serde(rename = "callId", default)]
    call_id: Option<String>,
    #[serde(rename = "streamId", default)]
    stream_id: Option<String>,
    #[serde(rename = "accountId", default)]
    account_id: Option<String>,
    #[serde(rename = "mediaFormat", default)]
    media_format: Option<MediaFormat>,
}

#[derive(Deserialize)]
struct MediaFormat {
    #[serde(default)]
    encoding: Option<String>,
    #[serde(rename = "sampleRate", default, deserialize_with = "lenient_u64")]
    sample_rate: Option<u64>,
}

/// `k=v;k2=v2` (or comma-separated, as the XML attribute writes them), in order.
fn parse_extra_headers(s: &str) -> Vec<(String, String)> {
    s.split([';', ','])
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            let k = k.trim();
            (!k.is_empty()).then(|| (k.to_owned(), v.trim().to_owned()))
        })
        .collect()
}

impl MediaProtocol for PlivoMediaProtocol {
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
        // Fifty times a second: the media event, read without a general parser.
        // A payload that does not decode as written (JSON escapes in it) is read again below.
        if let Some(m) =
            scan::media_audio(text, &["streamId", "extra_headers"], self.audio.buffer())
        {
            let timestamp = self.since_first(m.timestamp);
            return Ok(self.audio.event(m.track, timestamp, m.sequence));
        }
        let msg: Message<'a> =
            serde_json::from_str(text).map_err(|e| malformed(KIND, e.to_string()))?;
        match msg.event.as_ref() {
            "start" => {
                let start = msg
                    .start
                    .ok_or_else(|| malformed(KIND, "start without a start object"))?;
                let (encoding, rate) = match &start.media_format {
                    Some(f) => (f.encoding.as_deref(), f.sample_rate),
                    None => (None, None),
                };
                let format = self.format_of(encoding, rate)?;
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
                self.stream_id = start.stream_id.or(msg.stream_id.map(Cow::into_owned));
                self.first_timestamp = None;
                let mut s = StreamStart::new(format);
                s.stream_id.clone_from(&self.stream_id);
                s.call_id = start.call_id.and_then(|c| CallId::new(c).ok());
                s.account_id = start.account_id;
                s.parameters = msg
                    .extra_headers
                    .as_deref()
                    .map(parse_extra_headers)
                    .unwrap_or_default();
                Ok(MediaEvent::Start(s))
            }
            "media" => {
                let media = msg
                    .media
                    .ok_or_else(|| malformed(KIND, "media without a media object"))?;
                self.audio.decode(KIND, &media.payload)?;
                let timestamp = self.since_first(media.timestamp);
                Ok(self
                    .audio
                    .event(media.track.as_deref(), timestamp, msg.sequence_number))
            }
            "dtmf" => DtmfObject::event(KIND, msg.dtmf),
            "playedStream" | "played" => {
                let name = msg
                    .name
                    .ok_or_else(|| malformed(KIND, "playedStream without a name"))?;
                Ok(MediaEvent::Mark {
                    name: keep(name, &mut self.text),
                })
            }
            "clearedAudio" => Ok(MediaEvent::Cleared),
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
        match command {
            MediaCommand::Audio(frame) => {
                let format = self
                    .format
                    .ok_or(MediaError::NotStarted { provider: KIND })?;
                let content_type = match format.encoding {
                    Encoding::Mulaw => "audio/x-mulaw",
                    _ => "audio/x-l16",
                };
                self.out.clear();
                self.out
                    .push_str("{\"event\":\"playAudio\",\"media\":{\"contentType\":\"");
                self.out.push_str(content_type);
                self.out.push_str("\",\"sampleRate\":");
                self.out.push_str(if format.rate == SampleRate::Hz16000 {
                    "16000"
                } else {
                    "8000"
                });
                self.out.push_str(",\"payload\":\"");
                b64::encode_into(frame, &mut self.out);
                self.out.push_str("\"}}");
            }
            MediaCommand::Mark(name) => {
                let id = self.begin("checkpoint")?.to_owned();
                push_string(&mut self.out, &id);
                self.out.push_str(",\"name\":");
                push_string(&mut self.out, name);
                self.out.push('}');
            }
            MediaCommand::Clear => {
                let id = self.begin("clearAudio")?.to_owned();
                push_string(&mut self.out, &id);
                self.out.push('}');
            }
            MediaCommand::SendDtmf(digits) => {
                if digits.is_empty()
                    || !digits.chars().all(|c| dtmf_digit(&c.to_string()).is_some())
                {
                    return Err(MediaError::Unsupported {
                        provider: KIND,
                        what: "send DTMF other than 0-9, *, # and A-D",
                    });
                }
                self.out.clear();
                self.out.push_str("{\"event\":\"sendDTMF\",\"dtmf\":");
                push_string(&mut self.out, digits);
                self.out.push('}');
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
