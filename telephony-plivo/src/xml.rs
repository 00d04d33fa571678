//! Plivo XML, built with types: every value escaped, and the combinations Plivo rejects
//! refused when the document is built.
//!
//! ```
//! use telephony_plivo::xml::{PlivoResponse, Stream, StreamAudio};
//!
//! let stream = Stream::new("wss://agent.example.com/plivo")
//!     .bidirectional(true)
//!     .keep_call_alive(true)
//!     .audio(StreamAudio::Mulaw8k)
//!     .extra_header("tenant", "acme");
//! let doc = PlivoResponse::new().stream(stream).hangup().to_xml()?;
//! assert!(doc.contains(">wss://agent.example.com/plivo</Stream><Hangup/></Response>"));
//! # Ok::<(), telephony_plivo::xml::PlivoXmlError>(())
//! ```

use std::time::Duration;

use telephony_core::XmlElement;
use telephony_core::audio::{AudioFormat, Encoding, SampleRate};
use thiserror::Error;

mod control;
mod dial;

pub use control::{Conference, Record, RecordChannels, RecordFormat};
pub use dial::{Dial, SIP_HEADER_NAME_LIMIT, SIP_HEADER_VALUE_LIMIT, sip_headers_value};

/// Plivo XML that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PlivoXmlError {
    /// A stream URL Plivo cannot use.
    #[error("stream URL {url:?}: {reason}")]
    StreamUrl {
        /// The URL.
        url: String,
        /// Why.
        reason: &'static str,
    },
    /// `audioTrack` of `outbound` or `both` on a bidirectional stream.
    #[error("audioTrack {0} is not allowed on a bidirectional stream: use inbound")]
    TrackWithBidirectional(&'static str),
    /// `extraHeaders` Plivo refuses.
    #[error("extraHeaders: {0}")]
    ExtraHeaders(String),
    /// Audio Plivo cannot stream.
    #[error("Plivo streams μ-law at 8000 Hz, or L16 at 8000 or 16000 Hz; it cannot stream {0}")]
    UnsupportedAudio(AudioFormat),
    /// `sipHeaders` Plivo would not send.
    #[error("sipHeaders: {0}")]
    SipHeaders(String),
    /// A recording Plivo cannot make from the answer.
    #[error("Record: {0}")]
    Recording(String),
    /// A `<Dial>` with nothing to dial.
    #[error("a Dial needs at least one Number or User")]
    EmptyDial,
}

/// How Plivo calls back a URL the XML names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// `GET`: the parameters in the query.
    Get,
    /// `POST`, a form body (the default).
    #[default]
    Post,
}

impl Method {
    /// `GET` or `POST`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// A `<Response>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlivoResponse {
    elements: Vec<Element>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Element {
    Ready(XmlElement),
    Stream(Box<Stream>),
    Dial(Box<Dial>),
}

impl PlivoResponse {
    /// An empty response.
    pub fn new() -> PlivoResponse {
        PlivoResponse::default()
    }

    fn push(mut self, e: XmlElement) -> PlivoResponse {
        self.elements.push(Element::Ready(e));
        self
    }

    /// `<Stream>`: the call's audio to a WebSocket.
    pub fn stream(mut self, stream: Stream) -> PlivoResponse {
        self.elements.push(Element::Stream(Box::new(stream)));
        self
    }

    /// `<Speak>`: text to speech.
    pub fn speak(self, speak: Speak) -> PlivoResponse {
        self.push(speak.element())
    }

    /// `<Play>` a URL.
    pub fn play(self, url: &str) -> PlivoResponse {
        self.push(XmlElement::new("Play").text(url))
    }

    /// `<Wait length="…">`, whole seconds, at least 1.
    pub fn wait(self, length: Duration) -> PlivoResponse {
        self.push(XmlElement::new("Wait").attr("length", length.as_secs().max(1).to_string()))
    }

    /// `<Hangup/>`.
    pub fn hangup(self) -> PlivoResponse {
        self.push(XmlElement::new("Hangup"))
    }

    /// `<Redirect>` to more XML, fetched with a POST.
    pub fn redirect(self, url: &str) -> PlivoResponse {
        self.redirect_with(url, Method::Post)
    }

    /// `<Redirect>` to more XML, fetched with `method`.
    pub fn redirect_with(self, url: &str, method: Method) -> PlivoResponse {
        self.push(
            XmlElement::new("Redirect")
                .attr("method", method.as_str())
                .text(url),
        )
    }

    /// `<Dial>` numbers or SIP endpoints (checked when the document is built).
    pub fn dial(mut self, dial: Dial) -> PlivoResponse {
        self.elements.push(Element::Dial(Box::new(dial)));
        self
    }

    /// The document, or what makes it invalid.
    pub fn to_xml(&self) -> Result<String, PlivoXmlError> {
        let mut root = XmlElement::new("Response");
        for e in &self.elements {
            root = root.child(match e {
                Element::Ready(x) => x.clone(),
                Element::Stream(s) => s.element()?,
                Element::Dial(d) => d.element()?,
            });
        }
        Ok(root.to_document())
    }
}

/// `<Speak>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Speak {
    text: String,
    voice: Option<String>,
    language: Option<String>,
}

impl Speak {
    /// Speaks `text`.
    pub fn new(text: impl Into<String>) -> Speak {
        Speak {
            text: text.into(),
            voice: None,
            language: None,
        }
    }

    /// The voice: `WOMAN`, `MAN`, `Polly.Joanna`, …
    pub fn voice(mut self, voice: impl Into<String>) -> Speak {
        self.voice = Some(voice.into());
        self
    }

    /// The language: `en-US`, …
    pub fn language(mut self, language: impl Into<String>) -> Speak {
        self.language = Some(language.into());
        self
    }

    fn element(&self) -> XmlElement {
        XmlElement::new("Speak")
            .attr_opt("voice", self.voice.clone())
            .attr_opt("language", self.language.clone())
            .text(self.text.clone())
    }
}

/// Which audio a `<Stream>` carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AudioTrack {
    /// The caller (the default, and the only one a bidirectional stream allows).
    Inbound,
    /// What the call plays.
    Outbound,
    /// Both.
    Both,
}

impl AudioTrack {
    fn as_str(self) -> &'static str {
        match self {
            AudioTrack::Inbound => "inbound",
            AudioTrack::Outbound => "outbound",
            AudioTrack::Both => "both",
        }
    }
}

/// The audio a `<Stream>` carries both ways. Plivo's own default is L16 at 8 kHz, which
/// surprises people who expect μ-law; the builder always writes the content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamAudio {
    /// `audio/x-mulaw;rate=8000`.
    Mulaw8k,
    /// `audio/x-l16;rate=8000`.
    L16At8k,
    /// `audio/x-l16;rate=16000`.
    L16At16k,
}

impl StreamAudio {
    /// The stream audio for `format`, or why Plivo cannot stream it. Either L16 byte order
    /// maps to the same `contentType`: the order on the wire is
    /// [`PlivoConfig::l16_byte_order`](crate::PlivoConfig::l16_byte_order)'s.
    pub fn for_format(format: AudioFormat) -> Result<StreamAudio, PlivoXmlError> {
        match (format.encoding, format.rate) {
            (Encoding::Mulaw, SampleRate::Hz8000) => Ok(StreamAudio::Mulaw8k),
            (Encoding::L16Le | Encoding::L16Be, SampleRate::Hz8000) => Ok(StreamAudio::L16At8k),
            (Encoding::L16Le | Encoding::L16Be, SampleRate::Hz16000) => Ok(StreamAudio::L16At16k),
            _ => Err(PlivoXmlError::UnsupportedAudio(format)),
        }
    }

    /// The `contentType` value.
    pub fn content_type(self) -> &'static str {
        match self {
            StreamAudio::Mulaw8k => "audio/x-mulaw;rate=8000",
            StreamAudio::L16At8k => "audio/x-l16;rate=8000",
            StreamAudio::L16At16k => "audio/x-l16;rate=16000",
        }
    }
}

/// `<Stream>`: the WebSocket URL is the element's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    url: String,
    bidirectional: bool,
    track: Option<AudioTrack>,
    timeout: Option<Duration>,
    status_callback: Option<String>,
    status_callback_method: Method,
    audio: StreamAudio,
    extra_headers: Vec<(String, String)>,
    keep_call_alive: bool,
}

/// The longest `extraHeaders` Plivo accepts, in bytes.
pub const EXTRA_HEADERS_LIMIT: usize = 512;

impl Stream {
    /// A one-way μ-law stream to `url` (checked when the document is built).
    pub fn new(url: impl Into<String>) -> Stream {
        Stream {
            url: url.into(),
            bidirectional: false,
            track: None,
            timeout: None,
            status_callback: None,
            status_callback_method: Method::Post,
            audio: StreamAudio::Mulaw8k,
            extra_headers: Vec::new(),
            keep_call_alive: false,
        }
    }

    /// Whether audio may be sent back (`playAudio`).
    pub fn bidirectional(mut self, yes: bool) -> Stream {
        self.bidirectional = yes;
        self
    }

    /// The track.
    pub fn track(mut self, track: AudioTrack) -> Stream {
        self.track = Some(track);
        self
    }

    /// `streamTimeout`: the longest the stream may run (Plivo's default is a day).
    pub fn timeout(mut self, t: Duration) -> Stream {
        self.timeout = Some(t);
        self
    }

    /// Where Plivo reports `StartStream`, `StopStream` and `DroppedStream` (with a POST unless
    /// [`status_callback_method`](Self::status_callback_method) says otherwise).
    pub fn status_callback(mut self, url: impl Into<String>) -> Stream {
        self.status_callback = Some(url.into());
        self
    }

    /// How Plivo calls the status callback: `POST` (the default) or `GET`.
    pub fn status_callback_method(mut self, method: Method) -> Stream {
        self.status_callback_method = method;
        self
    }

    /// The audio format.
    pub fn audio(mut self, audio: StreamAudio) -> Stream {
        self.audio = audio;
        self
    }

    /// A value delivered on the WebSocket as `extra_headers`: letters and digits only, at most
    /// 512 bytes in all.
    pub fn extra_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Stream {
        self.extra_headers.push((name.into(), value.into()));
        self
    }

    /// Keep the call on the stream alone; the XML after it runs only once the socket closes.
    pub fn keep_call_alive(mut self, yes: bool) -> Stream {
        self.keep_call_alive = yes;
        self
    }

    /// The `extraHeaders` value, or why Plivo would refuse it.
    pub fn extra_headers_value(&self) -> Result<Option<String>, PlivoXmlError> {
        if self.extra_headers.is_empty() {
            return Ok(None);
        }
        for (k, v) in &self.extra_headers {
            for (what, s) in [("name", k), ("value", v)] {
                if s.is_empty() || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Err(PlivoXmlError::ExtraHeaders(format!(
                        "{what} {s:?} must be letters and digits only ([A-Za-z0-9]+)"
                    )));
                }
            }
        }
        let joined = self
            .extra_headers
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        if joined.len() > EXTRA_HEADERS_LIMIT {
            return Err(PlivoXmlError::ExtraHeaders(format!(
                "{} bytes, over Plivo's limit of {EXTRA_HEADERS_LIMIT}",
                joined.len()
            )));
        }
        Ok(Some(joined))
    }

    fn element(&self) -> Result<XmlElement, PlivoXmlError> {
        let parsed = url::Url::parse(&self.url).map_err(|_| PlivoXmlError::StreamUrl {
            url: self.url.clone(),
            reason: "not a URL",
        })?;
        if !matches!(parsed.scheme(), "wss" | "ws") {
            return Err(PlivoXmlError::StreamUrl {
                url: self.url.clone(),
                reason: "Plivo streams to ws:// or wss:// URLs",
            });
        }
        if self.bidirectional {
            match self.track {
                Some(AudioTrack::Outbound) => {
                    return Err(PlivoXmlError::TrackWithBidirectional("outbound"));
                }
                Some(AudioTrack::Both) => {
                    return Err(PlivoXmlError::TrackWithBidirectional("both"));
                }
                _ => {}
            }
        }
        Ok(XmlElement::new("Stream")
            .attr(
                "bidirectional",
                if self.bidirectional { "true" } else { "false" },
            )
            .attr_opt("audioTrack", self.track.map(AudioTrack::as_str))
            .attr_opt(
                "streamTimeout",
                self.timeout.map(|t| t.as_secs().max(1).to_string()),
            )
            .attr_opt("statusCallbackUrl", self.status_callback.clone())
            .attr_opt(
                "statusCallbackMethod",
                self.status_callback
                    .as_ref()
                    .map(|_| self.status_callback_method.as_str()),
            )
            .attr("contentType", self.audio.content_type())
            .attr_opt("extraHeaders", self.extra_headers_value()?)
            .attr_opt("keepCallAlive", self.keep_call_alive.then_some("true"))
            .text(self.url.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_stream() {
        let doc = PlivoResponse::new()
            .stream(
                Stream::new("wss://agent.example.com/ws/plivo")
                    .bidirectional(true)
                    .keep_call_alive(true)
                    .audio(StreamAudio::Mulaw8k)
                    .track(AudioTrack::Inbound)
                    .timeout(Duration::from_secs(3600))
                    .status_callback("https://agent.example.com/plivo/stream-status")
                    .extra_header("tenant", "acme")
                    .extra_header("callRef", "42"),
            )
            .to_xml()
            .unwrap();
        assert_eq!(
            doc,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Stream bidirectional=\"true\" audioTrack=\"inbound\" \
             streamTimeout=\"3600\" statusCallbackUrl=\"https://agent.example.com/plivo/stream-status\" \
             statusCallbackMethod=\"POST\" contentType=\"audio/x-mulaw;rate=8000\" extraHeaders=\"tenant=acme,callRef=42\" \
             keepCallAlive=\"true\">wss://agent.example.com/ws/plivo</Stream></Response>"
        );
    }

    #[test]
    fn invalid_combinations_are_refused() {
        let bi = |t| {
            PlivoResponse::new()
                .stream(Stream::new("wss://a/b").bidirectional(true).track(t))
                .to_xml()
        };
        assert_eq!(
            bi(AudioTrack::Both),
            Err(PlivoXmlError::TrackWithBidirectional("both"))
        );
        assert_eq!(
            bi(AudioTrack::Outbound),
            Err(PlivoXmlError::TrackWithBidirectional("outbound"))
        );
        assert!(bi(AudioTrack::Inbound).is_ok());
        assert!(
            PlivoResponse::new()
                .stream(Stream::new("wss://a/b").track(AudioTrack::Both))
                .to_xml()
                .is_ok()
        );
        let bad = PlivoResponse::new()
            .stream(Stream::new("wss://a/b").extra_header("call-id", "1"))
            .to_xml();
        assert!(matches!(bad, Err(PlivoXmlError::ExtraHeaders(m)) if m.contains("call-id")));
        let long = "x".repeat(600);
        let bad = PlivoResponse::new()
            .stream(Stream::new("wss://a/b").extra_header("k", long))
            .to_xml();
        assert!(matches!(bad, Err(PlivoXmlError::ExtraHeaders(m)) if m.contains("512")));
        assert!(
            PlivoResponse::new()
                .stream(Stream::new("https://a/b"))
                .to_xml()
                .is_err()
        );
        assert!(
            PlivoResponse::new()
                .stream(Stream::new("nonsense"))
                .to_xml()
                .is_err()
        );
    }

    #[test]
    fn the_other_elements() {
        let doc = PlivoResponse::new()
            .speak(Speak::new("Fish & chips").voice("WOMAN").language("en-GB"))
            .play("https://cdn.example.com/a.mp3")
            .wait(Duration::from_millis(10))
            .dial(
                Dial::new("+14155550100".parse().unwrap())
                    .also("+14155550101".parse().unwrap())
                    .caller_id("+14155550199".parse().unwrap())
                    .timeout(Duration::from_secs(20))
                    .action("https://a/dial"),
            )
            .redirect("https://a/next?x=1&y=2")
            .hangup()
            .to_xml()
            .unwrap();
        for piece in [
            "<Speak voice=\"WOMAN\" language=\"en-GB\">Fish &amp; chips</Speak>",
            "<Play>https://cdn.example.com/a.mp3</Play>",
            "<Wait length=\"1\"/>",
            "<Dial callerId=\"14155550199\" timeout=\"20\" action=\"https://a/dial\" method=\"POST\"><Number>14155550100</Number><Number>14155550101</Number></Dial>",
            "<Redirect method=\"POST\">https://a/next?x=1&amp;y=2</Redirect>",
            "<Hangup/></Response>",
        ] {
            assert!(doc.contains(piece), "{piece} missing from {doc}");
        }
    }

    #[test]
    fn callback_methods_are_settable() {
        let doc = PlivoResponse::new()
            .redirect_with("https://a/next", Method::Get)
            .redirect_with("https://a/other", Method::Post)
            .to_xml()
            .unwrap();
        assert!(
            doc.ends_with(
                "<Response><Redirect method=\"GET\">https://a/next</Redirect><Redirect method=\"POST\">https://a/other</Redirect></Response>"
            ),
            "{doc}"
        );
        let stream = |m: Option<Method>| {
            let mut s = Stream::new("wss://a/s").status_callback("https://a/st");
            if let Some(m) = m {
                s = s.status_callback_method(m);
            }
            PlivoResponse::new().stream(s).to_xml().unwrap()
        };
        for (method, attr) in [
            (None, "statusCallbackMethod=\"POST\""),
            (Some(Method::Post), "statusCallbackMethod=\"POST\""),
            (Some(Method::Get), "statusCallbackMethod=\"GET\""),
        ] {
            let doc = stream(method);
            assert!(
                doc.contains(&format!("statusCallbackUrl=\"https://a/st\" {attr} ")),
                "{method:?}: {doc}"
            );
        }
        // No callback, no method.
        let doc = PlivoResponse::new()
            .stream(Stream::new("wss://a/s").status_callback_method(Method::Get))
            .to_xml()
            .unwrap();
        assert!(!doc.contains("statusCallbackMethod"), "{doc}");
    }

    #[test]
    fn only_the_formats_plivo_streams() {
        let f = AudioFormat::new;
        for (format, audio) in [
            (f(Encoding::Mulaw, SampleRate::Hz8000), StreamAudio::Mulaw8k),
            (f(Encoding::L16Le, SampleRate::Hz8000), StreamAudio::L16At8k),
            (f(Encoding::L16Be, SampleRate::Hz8000), StreamAudio::L16At8k),
            (
                f(Encoding::L16Le, SampleRate::Hz16000),
                StreamAudio::L16At16k,
            ),
            (
                f(Encoding::L16Be, SampleRate::Hz16000),
                StreamAudio::L16At16k,
            ),
        ] {
            assert_eq!(StreamAudio::for_format(format), Ok(audio), "{format}");
        }
        for format in [
            f(Encoding::Alaw, SampleRate::Hz8000),
            f(Encoding::Mulaw, SampleRate::Hz16000),
            f(Encoding::L16Le, SampleRate::Hz24000),
            f(Encoding::F32Le, SampleRate::Hz16000),
        ] {
            let e = StreamAudio::for_format(format).unwrap_err();
            assert_eq!(e, PlivoXmlError::UnsupportedAudio(format));
            let text = e.to_string();
            assert!(
                text.contains("μ-law at 8000 Hz, or L16 at 8000 or 16000 Hz")
                    && text.contains(&format.to_string()),
                "{text}"
            );
        }
    }
}
