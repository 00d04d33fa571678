//! TwiML, built with types: every text and attribute escaped, and the mistakes that keep calls
//! open or break streams refused at build time.
//!
//! ```
//! use telephony_twilio::twiml::{Say, Stream, VoiceResponse};
//!
//! let stream = Stream::new("wss://agent.example.com/media")?.parameter("tenant", "acme");
//! let doc = VoiceResponse::new()
//!     .say(Say::new("Connecting you now."))
//!     .connect_stream(stream)?
//!     .hangup();
//! assert_eq!(
//!     doc.to_xml(),
//!     "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Say>Connecting you now.</Say>\
//!      <Connect><Stream url=\"wss://agent.example.com/media\"><Parameter name=\"tenant\" value=\"acme\"/>\
//!      </Stream></Connect><Hangup/></Response>"
//! );
//! # Ok::<(), telephony_twilio::twiml::TwimlError>(())
//! ```

use std::time::Duration;

use telephony_core::{E164, XmlElement};
use thiserror::Error;

mod control;

pub use control::{Conference, DialParty, LEG_EVENTS, Recording, sip_address};

/// TwiML that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TwimlError {
    /// A stream URL that Twilio refuses.
    #[error("stream URL {url:?}: {reason}")]
    StreamUrl {
        /// The URL.
        url: String,
        /// Why.
        reason: &'static str,
    },
    /// A `<Connect><Stream>` (bidirectional) asking for a track Twilio does not stream there.
    #[error(
        "<Connect><Stream track=\"{track}\">: a bidirectional stream carries only inbound_track; fork other tracks with <Start><Stream>"
    )]
    BidirectionalTrack {
        /// The track asked for.
        track: &'static str,
    },
    /// A value out of Twilio's range.
    #[error("{what}: {reason}")]
    Invalid {
        /// What.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

/// A `<Response>`: the verbs, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VoiceResponse {
    verbs: Vec<XmlElement>,
}

impl VoiceResponse {
    /// An empty response (Twilio hangs up after it).
    pub fn new() -> VoiceResponse {
        VoiceResponse::default()
    }

    fn verb(mut self, e: XmlElement) -> VoiceResponse {
        self.verbs.push(e);
        self
    }

    /// `<Say>`.
    pub fn say(self, say: Say) -> VoiceResponse {
        self.verb(say.element())
    }

    /// `<Play>` a URL.
    pub fn play(self, url: &str) -> VoiceResponse {
        self.verb(XmlElement::new("Play").text(url))
    }

    /// `<Play digits="…">`: DTMF tones (`w` waits half a second).
    pub fn play_digits(self, digits: &str) -> VoiceResponse {
        self.verb(XmlElement::new("Play").attr("digits", digits))
    }

    /// `<Pause length="…">`, in whole seconds (at least 1).
    pub fn pause(self, length: Duration) -> VoiceResponse {
        self.verb(XmlElement::new("Pause").attr("length", length.as_secs().max(1).to_string()))
    }

    /// `<Hangup/>`.
    pub fn hangup(self) -> VoiceResponse {
        self.verb(XmlElement::new("Hangup"))
    }

    /// `<Redirect>` to more TwiML (POST).
    pub fn redirect(self, url: &str) -> VoiceResponse {
        self.verb(XmlElement::new("Redirect").attr("method", "POST").text(url))
    }

    /// `<Dial>`.
    pub fn dial(self, dial: Dial) -> VoiceResponse {
        self.verb(dial.element())
    }

    /// `<Gather>`.
    pub fn gather(self, gather: Gather) -> VoiceResponse {
        self.verb(gather.element())
    }

    /// `<Connect><Stream>`: a bidirectional stream. Twilio runs the next verb only once our
    /// server closes the WebSocket; follow it with [`hangup`](Self::hangup), not a
    /// `<Pause>`, or the call stays open and billing after the agent is done.
    ///
    /// A bidirectional stream carries the caller's audio only: a [`Track`] other than
    /// [`Track::Inbound`] is refused ([`TwimlError::BidirectionalTrack`]).
    pub fn connect_stream(self, stream: Stream) -> Result<VoiceResponse, TwimlError> {
        match stream.track {
            None | Some(Track::Inbound) => {}
            Some(track) => {
                return Err(TwimlError::BidirectionalTrack {
                    track: track.as_str(),
                });
            }
        }
        Ok(self.verb(XmlElement::new("Connect").child(stream.element())))
    }

    /// `<Start><Stream>`: a one-way fork of the call's audio; Twilio moves straight on to the
    /// next verb, and audio sent back is not played.
    pub fn start_stream(self, stream: Stream) -> VoiceResponse {
        self.verb(XmlElement::new("Start").child(stream.element()))
    }

    /// `<Stop><Stream name="…"/>`.
    pub fn stop_stream(self, name: &str) -> VoiceResponse {
        self.verb(XmlElement::new("Stop").child(XmlElement::new("Stream").attr("name", name)))
    }

    /// The document.
    pub fn to_xml(&self) -> String {
        let mut root = XmlElement::new("Response");
        for v in &self.verbs {
            root = root.child(v.clone());
        }
        root.to_document()
    }
}

/// `<Say>`: text to speech.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Say {
    text: String,
    voice: Option<String>,
    language: Option<String>,
    loops: Option<u32>,
}

impl Say {
    /// Says `text`.
    pub fn new(text: impl Into<String>) -> Say {
        Say {
            text: text.into(),
            voice: None,
            language: None,
            loops: None,
        }
    }

    /// The voice: `alice`, `man`, `woman`, `Polly.Joanna`, `Google.en-US-Neural2-F`, …
    pub fn voice(mut self, voice: impl Into<String>) -> Say {
        self.voice = Some(voice.into());
        self
    }

    /// The language: `en-US`, …
    pub fn language(mut self, language: impl Into<String>) -> Say {
        self.language = Some(language.into());
        self
    }

    /// How many times (0 = until the call ends).
    pub fn loops(mut self, n: u32) -> Say {
        self.loops = Some(n);
        self
    }

    fn element(&self) -> XmlElement {
        XmlElement::new("Say")
            .attr_opt("voice", self.voice.clone())
            .attr_opt("language", self.language.clone())
            .attr_opt("loop", self.loops.map(|n| n.to_string()))
            .text(self.text.clone())
    }
}

/// Which audio a `<Stream>` carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Track {
    /// The caller (the default; the only one `<Connect>` allows).
    Inbound,
    /// What the call plays.
    Outbound,
    /// Both.
    Both,
}

impl Track {
    fn as_str(self) -> &'static str {
        match self {
            Track::Inbound => "inbound_track",
            Track::Outbound => "outbound_track",
            Track::Both => "both_tracks",
        }
    }
}

/// `<Stream>`: a media stream to our WebSocket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    url: String,
    name: Option<String>,
    track: Option<Track>,
    status_callback: Option<String>,
    parameters: Vec<(String, String)>,
}

impl Stream {
    /// A stream to `url`, which must be `wss://` and carry no query string (Twilio refuses
    /// both, errors 31922; pass data as [`parameter`](Self::parameter)s). `ws://` is accepted
    /// for a loopback host only, where the emulated Twilio of `telephony-testkit` connects.
    pub fn new(url: &str) -> Result<Stream, TwimlError> {
        let parsed = url::Url::parse(url).map_err(|_| TwimlError::StreamUrl {
            url: url.to_owned(),
            reason: "not a URL",
        })?;
        let loopback_ws = parsed.scheme() == "ws" && telephony_core::is_loopback_host(&parsed);
        if parsed.scheme() != "wss" && !loopback_ws {
            return Err(TwimlError::StreamUrl {
                url: url.to_owned(),
                reason: "Twilio streams only to wss:// URLs",
            });
        }
        if parsed.query().is_some() {
            return Err(TwimlError::StreamUrl {
                url: url.to_owned(),
                reason: "Twilio does not support query strings on stream URLs: use parameters",
            });
        }
        Ok(Stream {
            url: url.to_owned(),
            name: None,
            track: None,
            status_callback: None,
            parameters: Vec::new(),
        })
    }

    /// A name, unique in the call (for `<Stop>`).
    pub fn name(mut self, name: impl Into<String>) -> Stream {
        self.name = Some(name.into());
        self
    }

    /// The track.
    pub fn track(mut self, track: Track) -> Stream {
        self.track = Some(track);
        self
    }

    /// Where Twilio posts the stream's status (`stream-started`, `stream-stopped`,
    /// `stream-error`).
    pub fn status_callback(mut self, url: impl Into<String>) -> Stream {
        self.status_callback = Some(url.into());
        self
    }

    /// A custom parameter, delivered in the stream's `start` message.
    pub fn parameter(mut self, name: impl Into<String>, value: impl Into<String>) -> Stream {
        self.parameters.push((name.into(), value.into()));
        self
    }

    fn element(&self) -> XmlElement {
        let mut e = XmlElement::new("Stream")
            .attr("url", self.url.clone())
            .attr_opt("name", self.name.clone())
            .attr_opt("track", self.track.map(Track::as_str))
            .attr_opt("statusCallback", self.status_callback.clone())
            .attr_opt(
                "statusCallbackMethod",
                self.status_callback.as_ref().map(|_| "POST"),
            );
        for (name, value) in &self.parameters {
            e = e.child(
                XmlElement::new("Parameter")
                    .attr("name", name.clone())
                    .attr("value", value.clone()),
            );
        }
        e
    }
}

/// Who a `<Dial>` calls.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DialTarget {
    /// A phone number.
    Number(E164),
    /// A SIP URI.
    Sip(String),
    /// A conference room, by name.
    Conference(String),
}

/// `<Dial>`: connect the caller to another party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dial {
    targets: Vec<DialTarget>,
    /// Nouns with attributes of their own ([`DialParty`], [`Conference`]).
    nouns: Vec<XmlElement>,
    caller_id: Option<E164>,
    timeout: Option<Duration>,
    time_limit: Option<Duration>,
    action: Option<String>,
}

impl Dial {
    /// Dials one target.
    pub fn new(target: DialTarget) -> Dial {
        Dial {
            targets: vec![target],
            nouns: Vec::new(),
            caller_id: None,
            timeout: None,
            time_limit: None,
            action: None,
        }
    }

    /// Also rings another target (the first to answer wins).
    pub fn also(mut self, target: DialTarget) -> Dial {
        self.targets.push(target);
        self
    }

    /// The caller id shown to the far end.
    pub fn caller_id(mut self, number: E164) -> Dial {
        self.caller_id = Some(number);
        self
    }

    /// How long to ring, in whole seconds.
    pub fn timeout(mut self, t: Duration) -> Dial {
        self.timeout = Some(t);
        self
    }

    /// The longest the dialled call may last.
    pub fn time_limit(mut self, t: Duration) -> Dial {
        self.time_limit = Some(t);
        self
    }

    /// Where Twilio posts the outcome and fetches what comes next.
    pub fn action(mut self, url: impl Into<String>) -> Dial {
        self.action = Some(url.into());
        self
    }

    fn element(&self) -> XmlElement {
        let mut e = XmlElement::new("Dial")
            .attr_opt("callerId", self.caller_id.as_ref().map(E164::to_string))
            .attr_opt("timeout", self.timeout.map(|t| t.as_secs().to_string()))
            .attr_opt(
                "timeLimit",
                self.time_limit.map(|t| t.as_secs().to_string()),
            )
            .attr_opt("action", self.action.clone());
        for t in &self.targets {
            e = e.child(match t {
                DialTarget::Number(n) => XmlElement::new("Number").text(n.to_string()),
                DialTarget::Sip(uri) => XmlElement::new("Sip").text(uri.clone()),
                DialTarget::Conference(room) => XmlElement::new("Conference").text(room.clone()),
            });
        }
        for noun in &self.nouns {
            e = e.child(noun.clone());
        }
        e
    }
}

/// `<Gather>`: collect digits or speech.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gather {
    input: &'static str,
    action: Option<String>,
    num_digits: Option<u32>,
    timeout: Option<Duration>,
    finish_on_key: Option<char>,
    prompts: Vec<XmlElement>,
}

impl Gather {
    /// Gathers DTMF digits.
    pub fn digits() -> Gather {
        Gather::with_input("dtmf")
    }

    /// Gathers speech.
    pub fn speech() -> Gather {
        Gather::with_input("speech")
    }

    /// Gathers either.
    pub fn digits_or_speech() -> Gather {
        Gather::with_input("dtmf speech")
    }

    fn with_input(input: &'static str) -> Gather {
        Gather {
            input,
            action: None,
            num_digits: None,
            timeout: None,
            finish_on_key: None,
            prompts: Vec::new(),
        }
    }

    /// Where Twilio posts what was gathered.
    pub fn action(mut self, url: impl Into<String>) -> Gather {
        self.action = Some(url.into());
        self
    }

    /// Stop after this many digits.
    pub fn num_digits(mut self, n: u32) -> Gather {
        self.num_digits = Some(n);
        self
    }

    /// Seconds of silence that end the gather.
    pub fn timeout(mut self, t: Duration) -> Gather {
        self.timeout = Some(t);
        self
    }

    /// The key that ends input (`#` by default at Twilio).
    pub fn finish_on_key(mut self, key: char) -> Gather {
        self.finish_on_key = Some(key);
        self
    }

    /// A prompt said while gathering.
    pub fn say(mut self, say: Say) -> Gather {
        self.prompts.push(say.element());
        self
    }

    /// A prompt played while gathering.
    pub fn play(mut self, url: &str) -> Gather {
        self.prompts.push(XmlElement::new("Play").text(url));
        self
    }

    fn element(&self) -> XmlElement {
        let mut e = XmlElement::new("Gather")
            .attr("input", self.input)
            .attr_opt("action", self.action.clone())
            .attr_opt("method", self.action.as_ref().map(|_| "POST"))
            .attr_opt("numDigits", self.num_digits.map(|n| n.to_string()))
            .attr_opt("timeout", self.timeout.map(|t| t.as_secs().to_string()))
            .attr_opt("finishOnKey", self.finish_on_key.map(String::from));
        for p in &self.prompts {
            e = e.child(p.clone());
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_urls_are_checked() {
        assert!(Stream::new("wss://a.example.com/x").is_ok());
        assert!(Stream::new("ws://127.0.0.1:8080/media").is_ok());
        assert!(Stream::new("ws://localhost/media").is_ok());
        assert!(Stream::new("ws://a.example.com/x").is_err());
        let e = Stream::new("https://a.example.com/x").unwrap_err();
        assert!(e.to_string().contains("wss://"), "{e}");
        assert!(Stream::new("wss://a.example.com/x?id=1").is_err());
        assert!(Stream::new("not a url").is_err());
    }

    #[test]
    fn connect_streams_only_the_inbound_track() {
        let stream = || Stream::new("wss://a/media").unwrap();
        for track in [Track::Both, Track::Outbound] {
            let err = VoiceResponse::new()
                .connect_stream(stream().track(track))
                .unwrap_err();
            assert_eq!(
                err,
                TwimlError::BidirectionalTrack {
                    track: track.as_str()
                }
            );
            assert!(err.to_string().contains("<Start><Stream>"), "{err}");
            // A fork may carry any track.
            assert!(
                VoiceResponse::new()
                    .start_stream(stream().track(track))
                    .to_xml()
                    .contains(track.as_str())
            );
        }
        let doc = VoiceResponse::new()
            .connect_stream(stream().track(Track::Inbound))
            .unwrap()
            .to_xml();
        assert!(
            doc.contains(
                "<Connect><Stream url=\"wss://a/media\" track=\"inbound_track\"/></Connect>"
            ),
            "{doc}"
        );
        assert!(VoiceResponse::new().connect_stream(stream()).is_ok());
    }

    #[test]
    fn every_verb_renders() {
        let doc = VoiceResponse::new()
            .say(
                Say::new("Hi & bye")
                    .voice("Polly.Joanna")
                    .language("en-US")
                    .loops(2),
            )
            .play("https://cdn.example.com/a.mp3")
            .play_digits("1w2")
            .pause(Duration::from_millis(300))
            .gather(
                Gather::digits()
                    .num_digits(4)
                    .action("https://a/g")
                    .timeout(Duration::from_secs(5))
                    .finish_on_key('#')
                    .say(Say::new("PIN?")),
            )
            .dial(
                Dial::new(DialTarget::Number("+14155550100".parse().unwrap()))
                    .also(DialTarget::Sip("sip:desk@pbx.example.com".into()))
                    .caller_id("+14155550199".parse().unwrap())
                    .timeout(Duration::from_secs(20)),
            )
            .dial(Dial::new(DialTarget::Conference("room <1>".into())))
            .start_stream(
                Stream::new("wss://a/fork")
                    .unwrap()
                    .track(Track::Both)
                    .name("fork"),
            )
            .stop_stream("fork")
            .redirect("https://a/next?x=1&y=2")
            .hangup()
            .to_xml();
        for piece in [
            "<Say voice=\"Polly.Joanna\" language=\"en-US\" loop=\"2\">Hi &amp; bye</Say>",
            "<Play>https://cdn.example.com/a.mp3</Play>",
            "<Play digits=\"1w2\"/>",
            "<Pause length=\"1\"/>",
            "<Gather input=\"dtmf\" action=\"https://a/g\" method=\"POST\" numDigits=\"4\" timeout=\"5\" finishOnKey=\"#\"><Say>PIN?</Say></Gather>",
            "<Dial callerId=\"+14155550199\" timeout=\"20\"><Number>+14155550100</Number><Sip>sip:desk@pbx.example.com</Sip></Dial>",
            "<Conference>room &lt;1&gt;</Conference>",
            "<Start><Stream url=\"wss://a/fork\" name=\"fork\" track=\"both_tracks\"/></Start>",
            "<Stop><Stream name=\"fork\"/></Stop>",
            "<Redirect method=\"POST\">https://a/next?x=1&amp;y=2</Redirect>",
            "<Hangup/></Response>",
        ] {
            assert!(doc.contains(piece), "{piece} missing from {doc}");
        }
    }
}
