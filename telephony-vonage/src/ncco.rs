//! NCCO, the Call Control Object: the JSON array of actions that tells Vonage what a call does.
//!
//! Typed actions with serde, and [`Ncco::to_json`], which refuses what Vonage would reject or
//! what would break a call: a websocket `uri` that is not `ws(s)://`, `headers` over 512 bytes,
//! an empty `talk`, a `connect` without exactly one endpoint, numbers that are not digits,
//! options out of their documented ranges.
//!
//! ```
//! use telephony_vonage::ncco::{Connect, Endpoint, Ncco, Talk, Websocket};
//! use telephony_core::audio::SampleRate;
//!
//! let ncco = Ncco::new()
//!     .talk(Talk::new("Connecting you").language("en-GB"))
//!     .connect(
//!         Connect::to(Endpoint::Websocket(
//!             Websocket::new("wss://agent.example.com/vonage", SampleRate::Hz16000)?
//!                 .header("call_uuid", "63f61863-4a51-4f6b-86e1-46edebcf9356"),
//!         ))
//!         .synchronous("https://agent.example.com/vonage/events"),
//!     );
//! assert_eq!(
//!     ncco.to_json()?,
//!     r#"[{"action":"talk","text":"Connecting you","language":"en-GB"},{"action":"connect","endpoint":[{"type":"websocket","uri":"wss://agent.example.com/vonage","content-type":"audio/l16;rate=16000","headers":{"call_uuid":"63f61863-4a51-4f6b-86e1-46edebcf9356"}}],"eventType":"synchronous","eventUrl":["https://agent.example.com/vonage/events"]}]"#
//! );
//! # Ok::<(), telephony_vonage::ncco::NccoError>(())
//! ```

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use telephony_core::audio::SampleRate;
use telephony_core::media::json::push_string;
use thiserror::Error;

/// Why an NCCO cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid NCCO: {0}")]
pub struct NccoError(pub String);

fn fail<T>(msg: impl Into<String>) -> Result<T, NccoError> {
    Err(NccoError(msg.into()))
}

/// The websocket `headers` limit, in bytes of JSON.
pub const HEADERS_LIMIT: usize = 512;

/// An HTTP method for a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    /// `GET`.
    #[serde(rename = "GET")]
    Get,
    /// `POST`.
    #[serde(rename = "POST")]
    Post,
}

fn serialize_pairs<S: Serializer>(pairs: &[(String, Value)], s: S) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(pairs.len()))?;
    for (k, v) in pairs {
        map.serialize_entry(k, v)?;
    }
    map.end()
}

/// A JSON object's members in document order (serde_json's own map sorts them).
fn deserialize_pairs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, Value)>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<(String, Value)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object of headers")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(entry) = map.next_entry::<String, Value>()? {
                out.push(entry);
            }
            Ok(out)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
    }
    d.deserialize_any(V)
}

fn headers_json(headers: &[(String, Value)]) -> String {
    let mut s = String::from("{");
    for (i, (k, v)) in headers.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        push_string(&mut s, k);
        s.push(':');
        s.push_str(&v.to_string());
    }
    s.push('}');
    s
}

/// A whole NCCO: actions run in order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ncco(pub Vec<Action>);

impl Ncco {
    /// An empty NCCO; add actions with the methods below.
    pub fn new() -> Ncco {
        Ncco(Vec::new())
    }

    /// Appends any action.
    pub fn action(mut self, action: impl Into<Action>) -> Ncco {
        self.0.push(action.into());
        self
    }

    /// Appends a `talk`.
    pub fn talk(self, talk: Talk) -> Ncco {
        self.action(talk)
    }

    /// Appends a `stream`.
    pub fn stream(self, stream: Stream) -> Ncco {
        self.action(stream)
    }

    /// Appends a `connect`.
    pub fn connect(self, connect: Connect) -> Ncco {
        self.action(connect)
    }

    /// Appends a `record`.
    pub fn record(self, record: Record) -> Ncco {
        self.action(record)
    }

    /// Appends an `input`.
    pub fn input(self, input: Input) -> Ncco {
        self.action(input)
    }

    /// Appends a `notify`.
    pub fn notify(self, notify: Notify) -> Ncco {
        self.action(notify)
    }

    /// Checks every action against Vonage's documented limits.
    pub fn validate(&self) -> Result<(), NccoError> {
        if self.0.is_empty() {
            return fail("an NCCO needs at least one action");
        }
        for (i, a) in self.0.iter().enumerate() {
            a.validate()
                .map_err(|e| NccoError(format!("action {i} ({}): {}", a.name(), e.0)))?;
        }
        Ok(())
    }

    /// The JSON, compact, once [`validate`](Self::validate) passes.
    pub fn to_json(&self) -> Result<String, NccoError> {
        self.validate()?;
        serde_json::to_string(self).map_err(|e| NccoError(e.to_string()))
    }

    /// The JSON value, once [`validate`](Self::validate) passes.
    pub fn to_value(&self) -> Result<serde_json::Value, NccoError> {
        self.validate()?;
        serde_json::to_value(self).map_err(|e| NccoError(e.to_string()))
    }
}

/// One NCCO action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
#[non_exhaustive]
pub enum Action {
    /// Speak text.
    Talk(Talk),
    /// Play an audio file.
    Stream(Stream),
    /// Connect the call to a phone, a SIP URI or a WebSocket.
    Connect(Connect),
    /// Record the call.
    Record(Record),
    /// Collect DTMF or speech.
    Input(Input),
    /// Send a request to a webhook.
    Notify(Notify),
}

impl Action {
    /// The action's name on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Talk(_) => "talk",
            Action::Stream(_) => "stream",
            Action::Connect(_) => "connect",
            Action::Record(_) => "record",
            Action::Input(_) => "input",
            Action::Notify(_) => "notify",
        }
    }

    fn validate(&self) -> Result<(), NccoError> {
        match self {
            Action::Talk(a) => a.validate(),
            Action::Stream(a) => a.validate(),
            Action::Connect(a) => a.validate(),
            Action::Record(a) => a.validate(),
            Action::Input(a) => a.validate(),
            Action::Notify(a) => a.validate(),
        }
    }
}

macro_rules! into_action {
    ($($t:ident),*) => {$(
        impl From<$t> for Action {
            fn from(a: $t) -> Action {
                Action::$t(a)
            }
        }
    )*};
}
into_action!(Talk, Stream, Connect, Record, Input, Notify);

fn check_level(level: Option<f64>) -> Result<(), NccoError> {
    match level {
        Some(l) if !(-1.0..=1.0).contains(&l) => fail(format!("level {l} is outside -1 to 1")),
        _ => Ok(()),
    }
}

fn check_url(what: &str, url: &str) -> Result<(), NccoError> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => Ok(()),
        _ => fail(format!("{what} {url:?} is not an absolute http(s) URL")),
    }
}

fn check_event_url(urls: &Option<Vec<String>>) -> Result<(), NccoError> {
    match urls.as_deref() {
        None => Ok(()),
        Some([one]) => check_url("eventUrl", one),
        Some(other) => fail(format!(
            "eventUrl holds {} URLs; Vonage takes exactly one",
            other.len()
        )),
    }
}

fn check_range(what: &str, v: Option<f64>, lo: f64, hi: f64) -> Result<(), NccoError> {
    match v {
        Some(x) if !(lo..=hi).contains(&x) => fail(format!("{what} {x} is outside {lo} to {hi}")),
        _ => Ok(()),
    }
}

fn check_digits(what: &str, number: &str) -> Result<(), NccoError> {
    if (7..=15).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        fail(format!(
            "{what} {number:?}: Vonage takes 7 to 15 digits with the country code, no +"
        ))
    }
}

/// `talk`: text-to-speech.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Talk {
    /// What to say, up to 1500 characters; SSML inside `<speak>` is allowed.
    pub text: String,
    /// Whether the caller's input (an `input` action next) interrupts it.
    #[serde(rename = "bargeIn", default, skip_serializing_if = "Option::is_none")]
    pub barge_in: Option<bool>,
    /// How many times to say it; 0 repeats until the call ends.
    #[serde(rename = "loop", default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<u32>,
    /// Volume, -1 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<f64>,
    /// The language, BCP-47: `en-US`, `de-DE`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The voice style of the language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<u32>,
    /// Whether to use the premium voice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub premium: Option<bool>,
}

impl Talk {
    /// Says `text`.
    pub fn new(text: impl Into<String>) -> Talk {
        Talk {
            text: text.into(),
            barge_in: None,
            repeat: None,
            level: None,
            language: None,
            style: None,
            premium: None,
        }
    }

    /// Lets the caller interrupt (with an `input` action next).
    pub fn barge_in(mut self, on: bool) -> Talk {
        self.barge_in = Some(on);
        self
    }

    /// Sets how many times to say it (0: until the call ends).
    pub fn repeat(mut self, times: u32) -> Talk {
        self.repeat = Some(times);
        self
    }

    /// Sets the volume, -1 to 1.
    pub fn level(mut self, level: f64) -> Talk {
        self.level = Some(level);
        self
    }

    /// Sets the language.
    pub fn language(mut self, language: impl Into<String>) -> Talk {
        self.language = Some(language.into());
        self
    }

    /// Sets the voice style.
    pub fn style(mut self, style: u32) -> Talk {
        self.style = Some(style);
        self
    }

    /// Uses the premium voice.
    pub fn premium(mut self, on: bool) -> Talk {
        self.premium = Some(on);
        self
    }

    fn validate(&self) -> Result<(), NccoError> {
        let n = self.text.chars().count();
        if self.text.trim().is_empty() {
            return fail("text is empty");
        }
        if n > 1500 {
            return fail(format!(
                "text has {n} characters; Vonage speaks at most 1500"
            ));
        }
        check_level(self.level)
    }
}

/// `stream`: plays an audio file (MP3 or WAV) from a URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Stream {
    /// The file's URL, as a one-element array.
    #[serde(rename = "streamUrl")]
    pub stream_url: Vec<String>,
    /// Volume, -1 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<f64>,
    /// Whether input interrupts it.
    #[serde(rename = "bargeIn", default, skip_serializing_if = "Option::is_none")]
    pub barge_in: Option<bool>,
    /// How many times to play it; 0 repeats until the call ends.
    #[serde(rename = "loop", default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<u32>,
}

impl Stream {
    /// Plays the file at `url`.
    pub fn new(url: impl Into<String>) -> Stream {
        Stream {
            stream_url: vec![url.into()],
            level: None,
            barge_in: None,
            repeat: None,
        }
    }

    /// Sets the volume.
    pub fn level(mut self, level: f64) -> Stream {
        self.level = Some(level);
        self
    }

    /// Lets input interrupt.
    pub fn barge_in(mut self, on: bool) -> Stream {
        self.barge_in = Some(on);
        self
    }

    /// Sets how many times to play it.
    pub fn repeat(mut self, times: u32) -> Stream {
        self.repeat = Some(times);
        self
    }

    fn validate(&self) -> Result<(), NccoError> {
        match self.stream_url.as_slice() {
            [one] => check_url("streamUrl", one)?,
            other => {
                return fail(format!("streamUrl holds {} URLs; exactly one", other.len()));
            }
        }
        check_level(self.level)
    }
}

/// The audio a websocket endpoint streams: 16-bit linear PCM, little-endian, at one rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContentType {
    /// `audio/l16;rate=8000`.
    #[serde(rename = "audio/l16;rate=8000")]
    L16At8k,
    /// `audio/l16;rate=16000`.
    #[serde(rename = "audio/l16;rate=16000")]
    L16At16k,
    /// `audio/l16;rate=24000`.
    #[serde(rename = "audio/l16;rate=24000")]
    L16At24k,
}

impl ContentType {
    /// The content type for `rate`, if Vonage streams at it.
    pub fn for_rate(rate: SampleRate) -> Option<ContentType> {
        match rate {
            SampleRate::Hz8000 => Some(ContentType::L16At8k),
            SampleRate::Hz16000 => Some(ContentType::L16At16k),
            SampleRate::Hz24000 => Some(ContentType::L16At24k),
            _ => None,
        }
    }

    /// The rate.
    pub fn rate(self) -> SampleRate {
        match self {
            ContentType::L16At8k => SampleRate::Hz8000,
            ContentType::L16At16k => SampleRate::Hz16000,
            ContentType::L16At24k => SampleRate::Hz24000,
        }
    }

    /// The text on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentType::L16At8k => "audio/l16;rate=8000",
            ContentType::L16At16k => "audio/l16;rate=16000",
            ContentType::L16At24k => "audio/l16;rate=24000",
        }
    }
}

/// A WebSocket endpoint: Vonage connects to `uri` and streams the call's audio both ways.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Websocket {
    /// The `ws://` or `wss://` URI.
    pub uri: String,
    /// The audio format.
    #[serde(rename = "content-type")]
    pub content_type: ContentType,
    /// Name/value pairs echoed at the top level of the first WebSocket message, in order; at
    /// most 512 bytes of JSON. The socket carries no call id otherwise: put it here. Values
    /// are usually strings; any JSON is allowed.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "serialize_pairs",
        deserialize_with = "deserialize_pairs"
    )]
    pub headers: Vec<(String, Value)>,
}

impl Websocket {
    /// A websocket endpoint at `uri` streaming L16 at `rate` (8, 16 or 24 kHz).
    pub fn new(uri: impl Into<String>, rate: SampleRate) -> Result<Websocket, NccoError> {
        let content_type = ContentType::for_rate(rate).ok_or_else(|| {
            NccoError(format!(
                "Vonage streams L16 at 8000, 16000 or 24000 Hz, not {} Hz",
                rate.hz()
            ))
        })?;
        Ok(Websocket {
            uri: uri.into(),
            content_type,
            headers: Vec::new(),
        })
    }

    /// Adds a header (a string, or any JSON value).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<Value>) -> Websocket {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The size of the headers as Vonage counts them: their JSON.
    pub fn headers_len(&self) -> usize {
        headers_json(&self.headers).len()
    }

    fn validate(&self) -> Result<(), NccoError> {
        match url::Url::parse(&self.uri) {
            Ok(u) if matches!(u.scheme(), "wss" | "ws") && u.host().is_some() => {}
            _ => {
                return fail(format!(
                    "websocket uri {:?} is not a ws(s):// URL",
                    self.uri
                ));
            }
        }
        let len = self.headers_len();
        if len > HEADERS_LIMIT {
            return fail(format!(
                "websocket headers take {len} bytes; Vonage allows {HEADERS_LIMIT}"
            ));
        }
        if let Some((k, _)) = self
            .headers
            .iter()
            .find(|(k, _)| k.is_empty() || k == "event" || k == "content-type")
        {
            return fail(format!(
                "websocket header {k:?}: headers come back beside `event` and `content-type` in the first message, so they cannot be empty or take those names"
            ));
        }
        Ok(())
    }
}

/// A phone endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Phone {
    /// The number, digits with the country code, no `+`.
    pub number: String,
    /// Digits to send when the call is answered (`0`–`9`, `*`, `#`, `p` for a pause).
    #[serde(
        rename = "dtmfAnswer",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub dtmf_answer: Option<String>,
}

impl Phone {
    /// Calls `number` (with or without `+`).
    pub fn new(number: impl AsRef<str>) -> Phone {
        Phone {
            number: number.as_ref().trim_start_matches('+').to_owned(),
            dtmf_answer: None,
        }
    }

    /// Sends digits when answered.
    pub fn dtmf_answer(mut self, digits: impl Into<String>) -> Phone {
        self.dtmf_answer = Some(digits.into());
        self
    }

    fn validate(&self) -> Result<(), NccoError> {
        check_digits("phone number", &self.number)?;
        if let Some(d) = &self.dtmf_answer
            && !d.chars().all(|c| c.is_ascii_digit() || "*#p".contains(c))
        {
            return fail(format!("dtmfAnswer {d:?}: digits, *, # and p only"));
        }
        Ok(())
    }
}

/// A SIP endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Sip {
    /// The SIP URI: `sip:agent@pbx.example.com`.
    pub uri: String,
    /// Headers sent as `X-` SIP headers.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "serialize_pairs",
        deserialize_with = "deserialize_pairs"
    )]
    pub headers: Vec<(String, Value)>,
}

impl Sip {
    /// Calls `uri`.
    pub fn new(uri: impl Into<String>) -> Sip {
        Sip {
            uri: uri.into(),
            headers: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<Value>) -> Sip {
        self.headers.push((name.into(), value.into()));
        self
    }

    fn validate(&self) -> Result<(), NccoError> {
        if !(self.uri.starts_with("sip:") || self.uri.starts_with("sips:")) || self.uri.len() < 5 {
            return fail(format!("sip uri {:?} does not start with sip:", self.uri));
        }
        Ok(())
    }
}

/// Where `connect` connects the call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
#[non_exhaustive]
pub enum Endpoint {
    /// A phone number.
    Phone(Phone),
    /// A WebSocket: the media stream.
    Websocket(Websocket),
    /// A SIP URI.
    Sip(Sip),
}

impl Endpoint {
    /// Checks the endpoint as Vonage would.
    pub fn validate(&self) -> Result<(), NccoError> {
        match self {
            Endpoint::Phone(p) => p.validate(),
            Endpoint::Websocket(w) => w.validate(),
            Endpoint::Sip(s) => s.validate(),
        }
    }
}

/// What a `connect` does on an answering machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MachineDetection {
    /// Report `machine` or `human` and go on.
    Continue,
    /// Hang up on a machine.
    Hangup,
}

/// Advanced machine detection (it can wait for the greeting's beep).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AdvancedMachineDetection {
    /// Go on, or hang up on a machine.
    pub behavior: MachineDetection,
    /// `default`, `detect` or `detect_beep`.
    pub mode: AmdMode,
    /// How long to wait for a beep, 45 to 120 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beep_timeout: Option<u32>,
}

impl AdvancedMachineDetection {
    /// Detection with `behavior` in `mode`.
    pub fn new(behavior: MachineDetection, mode: AmdMode) -> AdvancedMachineDetection {
        AdvancedMachineDetection {
            behavior,
            mode,
            beep_timeout: None,
        }
    }

    /// Sets how long to wait for the beep, 45 to 120 s.
    pub fn beep_timeout(mut self, seconds: u32) -> AdvancedMachineDetection {
        self.beep_timeout = Some(seconds);
        self
    }
}

/// How advanced machine detection runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AmdMode {
    /// Vonage's default.
    Default,
    /// Human or machine only.
    Detect,
    /// Human or machine, then the end of the machine's greeting (its beep).
    DetectBeep,
}

/// The only `eventType`: `synchronous`, which sends the connect leg's failure to `eventUrl` and
/// takes an NCCO in answer, for a fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    /// `synchronous`.
    Synchronous,
}

/// `connect`: connects the call to one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Connect {
    /// The endpoint, as a one-element array.
    pub endpoint: Vec<Endpoint>,
    /// The caller id for phone endpoints: digits, no `+`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Use a random number of the account as the caller id.
    #[serde(
        rename = "randomFromNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub random_from_number: Option<bool>,
    /// `synchronous`: the leg's failure goes to `eventUrl`, which may answer with an NCCO.
    #[serde(rename = "eventType", default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<EventType>,
    /// Seconds to let it ring, 1 to 120 (Vonage's default is 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u32>,
    /// The longest the leg may last, in seconds (up to 7200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Answering-machine detection.
    #[serde(
        rename = "machineDetection",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub machine_detection: Option<MachineDetection>,
    /// Advanced answering-machine detection.
    #[serde(
        rename = "advancedMachineDetection",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub advanced_machine_detection: Option<AdvancedMachineDetection>,
    /// Where the leg's events go, as a one-element array.
    #[serde(rename = "eventUrl", default, skip_serializing_if = "Option::is_none")]
    pub event_url: Option<Vec<String>>,
    /// The method for `eventUrl`.
    #[serde(
        rename = "eventMethod",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub event_method: Option<Method>,
    /// A ringback tone URL played while the endpoint rings.
    #[serde(
        rename = "ringbackTone",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ringback_tone: Option<String>,
}

impl Connect {
    /// Connects to `endpoint`.
    pub fn to(endpoint: Endpoint) -> Connect {
        Connect {
            endpoint: vec![endpoint],
            from: None,
            random_from_number: None,
            event_type: None,
            timeout: None,
            limit: None,
            machine_detection: None,
            advanced_machine_detection: None,
            event_url: None,
            event_method: None,
            ringback_tone: None,
        }
    }

    /// Sets the caller id (with or without `+`).
    pub fn from(mut self, number: impl AsRef<str>) -> Connect {
        self.from = Some(number.as_ref().trim_start_matches('+').to_owned());
        self
    }

    /// `eventType: synchronous` with `eventUrl`: the leg's events, its failure included
    /// (`failed`, `unanswered`, a WebSocket `disconnected`), go to `url`, which can answer
    /// with a fallback NCCO.
    pub fn synchronous(mut self, url: impl Into<String>) -> Connect {
        self.event_type = Some(EventType::Synchronous);
        self.event_url = Some(vec![url.into()]);
        self
    }

    /// Sets where events go, without `eventType`.
    pub fn event_url(mut self, url: impl Into<String>) -> Connect {
        self.event_url = Some(vec![url.into()]);
        self
    }

    /// Sets the method for `eventUrl`.
    pub fn event_method(mut self, method: Method) -> Connect {
        self.event_method = Some(method);
        self
    }

    /// Uses a random number of the account as the caller id.
    pub fn random_from_number(mut self) -> Connect {
        self.random_from_number = Some(true);
        self
    }

    /// Sets advanced answering-machine detection.
    pub fn advanced_machine_detection(mut self, amd: AdvancedMachineDetection) -> Connect {
        self.advanced_machine_detection = Some(amd);
        self
    }

    /// Sets how long to ring.
    pub fn timeout(mut self, seconds: u32) -> Connect {
        self.timeout = Some(seconds);
        self
    }

    /// Sets the longest the leg may last.
    pub fn limit(mut self, seconds: u32) -> Connect {
        self.limit = Some(seconds);
        self
    }

    /// Sets answering-machine detection.
    pub fn machine_detection(mut self, behavior: MachineDetection) -> Connect {
        self.machine_detection = Some(behavior);
        self
    }

    /// Sets a ringback tone.
    pub fn ringback_tone(mut self, url: impl Into<String>) -> Connect {
        self.ringback_tone = Some(url.into());
        self
    }

    fn validate(&self) -> Result<(), NccoError> {
        let [endpoint] = self.endpoint.as_slice() else {
            return fail(format!(
                "endpoint holds {} endpoints; connect takes exactly one",
                self.endpoint.len()
            ));
        };
        endpoint.validate()?;
        if let Some(f) = &self.from {
            check_digits("from", f)?;
        }
        if self.from.is_some() && self.random_from_number == Some(true) {
            return fail("from and randomFromNumber exclude each other");
        }
        if self.event_type.is_some() && self.event_url.is_none() {
            return fail("eventType synchronous needs an eventUrl to send the events to");
        }
        check_event_url(&self.event_url)?;
        if let Some(l) = self.limit
            && !(1..=7200).contains(&l)
        {
            return fail(format!("limit {l} s is outside 1 to 7200"));
        }
        if let Some(t) = self.timeout
            && !(1..=120).contains(&t)
        {
            return fail(format!("timeout {t} s is outside 1 to 120"));
        }
        if let Some(a) = &self.advanced_machine_detection
            && let Some(b) = a.beep_timeout
            && !(45..=120).contains(&b)
        {
            return fail(format!("beep_timeout {b} s is outside 45 to 120"));
        }
        if self.machine_detection.is_some() && self.advanced_machine_detection.is_some() {
            return fail("machineDetection and advanced_machine_detection exclude each other");
        }
        if let Some(r) = &self.ringback_tone {
            check_url("ringbackTone", r)?;
        }
        Ok(())
    }
}

/// A recording's file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordFormat {
    /// MP3 (the default).
    Mp3,
    /// WAV.
    Wav,
    /// Ogg.
    Ogg,
}

/// `record`: records the call; the recording's URL goes to `eventUrl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Record {
    /// The file format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<RecordFormat>,
    /// `conversation`: each side on its own channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<String>,
    /// Channels when split, 1 to 32.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channels: Option<u32>,
    /// Stop after this many seconds of silence, 3 to 10.
    #[serde(
        rename = "endOnSilence",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub end_on_silence: Option<u32>,
    /// Stop when this key is pressed.
    #[serde(rename = "endOnKey", default, skip_serializing_if = "Option::is_none")]
    pub end_on_key: Option<String>,
    /// The longest recording, 3 to 7200 s.
    #[serde(rename = "timeOut", default, skip_serializing_if = "Option::is_none")]
    pub time_out: Option<u32>,
    /// Beep when recording starts.
    #[serde(rename = "beepStart", default, skip_serializing_if = "Option::is_none")]
    pub beep_start: Option<bool>,
    /// Where the recording's URL goes.
    #[serde(rename = "eventUrl", default, skip_serializing_if = "Option::is_none")]
    pub event_url: Option<Vec<String>>,
    /// The method for `eventUrl`.
    #[serde(
        rename = "eventMethod",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub event_method: Option<Method>,
}

impl Record {
    /// A recording with Vonage's defaults.
    pub fn new() -> Record {
        Record {
            format: None,
            split: None,
            channels: None,
            end_on_silence: None,
            end_on_key: None,
            time_out: None,
            beep_start: None,
            event_url: None,
            event_method: None,
        }
    }

    /// Sets the format.
    pub fn format(mut self, format: RecordFormat) -> Record {
        self.format = Some(format);
        self
    }

    /// Each side on its own channel.
    pub fn split_conversation(mut self, channels: u32) -> Record {
        self.split = Some("conversation".into());
        self.channels = Some(channels);
        self
    }

    /// Stops after seconds of silence.
    pub fn end_on_silence(mut self, seconds: u32) -> Record {
        self.end_on_silence = Some(seconds);
        self
    }

    /// Stops on a key.
    pub fn end_on_key(mut self, key: char) -> Record {
        self.end_on_key = Some(key.to_string());
        self
    }

    /// Sets the longest recording.
    pub fn time_out(mut self, seconds: u32) -> Record {
        self.time_out = Some(seconds);
        self
    }

    /// Beeps at the start.
    pub fn beep_start(mut self, on: bool) -> Record {
        self.beep_start = Some(on);
        self
    }

    /// Sets where the recording's URL goes.
    pub fn event_url(mut self, url: impl Into<String>) -> Record {
        self.event_url = Some(vec![url.into()]);
        self
    }

    /// Sets the method for `eventUrl`.
    pub fn event_method(mut self, method: Method) -> Record {
        self.event_method = Some(method);
        self
    }

    fn validate(&self) -> Result<(), NccoError> {
        check_range("channels", self.channels.map(f64::from), 1.0, 32.0)?;
        check_range(
            "endOnSilence",
            self.end_on_silence.map(f64::from),
            3.0,
            10.0,
        )?;
        check_range("timeOut", self.time_out.map(f64::from), 3.0, 7200.0)?;
        if let Some(k) = &self.end_on_key
            && !(k.len() == 1
                && k.chars()
                    .all(|c| c.is_ascii_digit() || c == '*' || c == '#'))
        {
            return fail(format!("endOnKey {k:?}: one of 0-9, * and #"));
        }
        if let Some(s) = &self.split
            && s != "conversation"
        {
            return fail(format!("split {s:?}: only conversation"));
        }
        check_event_url(&self.event_url)
    }
}

impl Default for Record {
    fn default() -> Self {
        Record::new()
    }
}

/// What `input` listens for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputType {
    /// Keys.
    Dtmf,
    /// Speech recognition.
    Speech,
}

/// `input` DTMF settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DtmfSettings {
    /// Seconds to wait after a key for the next, 0 to 10.
    #[serde(rename = "timeOut", default, skip_serializing_if = "Option::is_none")]
    pub time_out: Option<u32>,
    /// Keys to collect, 1 to 20.
    #[serde(rename = "maxDigits", default, skip_serializing_if = "Option::is_none")]
    pub max_digits: Option<u32>,
    /// Whether `#` ends the input.
    #[serde(
        rename = "submitOnHash",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub submit_on_hash: Option<bool>,
}

impl DtmfSettings {
    /// Vonage's defaults (wait 3 s after a key, collect 4, `#` does not submit).
    pub fn new() -> DtmfSettings {
        DtmfSettings::default()
    }

    /// Sets the seconds to wait after a key.
    pub fn time_out(mut self, seconds: u32) -> DtmfSettings {
        self.time_out = Some(seconds);
        self
    }

    /// Sets how many keys to collect.
    pub fn max_digits(mut self, digits: u32) -> DtmfSettings {
        self.max_digits = Some(digits);
        self
    }

    /// Lets `#` end the input.
    pub fn submit_on_hash(mut self, on: bool) -> DtmfSettings {
        self.submit_on_hash = Some(on);
        self
    }
}

/// `input` speech settings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SpeechSettings {
    /// The leg to listen to (the call's uuid), as a one-element array.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<Vec<String>>,
    /// Seconds of silence that end the utterance, 0.4 to 10.
    #[serde(
        rename = "endOnSilence",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub end_on_silence: Option<f64>,
    /// The language, BCP-47.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Hints: words and phrases likely said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Vec<String>>,
    /// Seconds to wait for speech to start, 1 to 60.
    #[serde(
        rename = "startTimeout",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub start_timeout: Option<u32>,
    /// The longest utterance, 1 to 60 s.
    #[serde(
        rename = "maxDuration",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub max_duration: Option<u32>,
    /// Whether to keep the audio.
    #[serde(rename = "saveAudio", default, skip_serializing_if = "Option::is_none")]
    pub save_audio: Option<bool>,
    /// Voice activity sensitivity, 0 to 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<u32>,
}

impl SpeechSettings {
    /// Vonage's defaults.
    pub fn new() -> SpeechSettings {
        SpeechSettings::default()
    }

    /// Listens to this leg (the call's uuid).
    pub fn uuid(mut self, uuid: impl Into<String>) -> SpeechSettings {
        self.uuid = Some(vec![uuid.into()]);
        self
    }

    /// Sets the seconds of silence that end the utterance.
    pub fn end_on_silence(mut self, seconds: f64) -> SpeechSettings {
        self.end_on_silence = Some(seconds);
        self
    }

    /// Sets the language.
    pub fn language(mut self, language: impl Into<String>) -> SpeechSettings {
        self.language = Some(language.into());
        self
    }

    /// Sets hints: words and phrases likely said.
    pub fn context<I, S>(mut self, hints: I) -> SpeechSettings
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.context = Some(hints.into_iter().map(Into::into).collect());
        self
    }

    /// Sets the seconds to wait for speech to start.
    pub fn start_timeout(mut self, seconds: u32) -> SpeechSettings {
        self.start_timeout = Some(seconds);
        self
    }

    /// Sets the longest utterance.
    pub fn max_duration(mut self, seconds: u32) -> SpeechSettings {
        self.max_duration = Some(seconds);
        self
    }

    /// Keeps the audio.
    pub fn save_audio(mut self, on: bool) -> SpeechSettings {
        self.save_audio = Some(on);
        self
    }

    /// Sets the voice activity sensitivity.
    pub fn sensitivity(mut self, sensitivity: u32) -> SpeechSettings {
        self.sensitivity = Some(sensitivity);
        self
    }
}

/// `input`: collects keys or speech and posts them to `eventUrl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Input {
    /// What to listen for.
    #[serde(rename = "type")]
    pub kind: Vec<InputType>,
    /// DTMF settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dtmf: Option<DtmfSettings>,
    /// Speech settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speech: Option<SpeechSettings>,
    /// Where the result goes.
    #[serde(rename = "eventUrl", default, skip_serializing_if = "Option::is_none")]
    pub event_url: Option<Vec<String>>,
    /// The method for `eventUrl`.
    #[serde(
        rename = "eventMethod",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub event_method: Option<Method>,
}

impl Input {
    /// Collects keys.
    pub fn dtmf(settings: DtmfSettings) -> Input {
        Input {
            kind: vec![InputType::Dtmf],
            dtmf: Some(settings),
            speech: None,
            event_url: None,
            event_method: None,
        }
    }

    /// Listens for speech.
    pub fn speech(settings: SpeechSettings) -> Input {
        Input {
            kind: vec![InputType::Speech],
            dtmf: None,
            speech: Some(settings),
            event_url: None,
            event_method: None,
        }
    }

    /// Also listens for the other kind.
    pub fn and_speech(mut self, settings: SpeechSettings) -> Input {
        if !self.kind.contains(&InputType::Speech) {
            self.kind.push(InputType::Speech);
        }
        self.speech = Some(settings);
        self
    }

    /// Sets where the result goes.
    pub fn event_url(mut self, url: impl Into<String>) -> Input {
        self.event_url = Some(vec![url.into()]);
        self
    }

    /// Sets the method for `eventUrl`.
    pub fn event_method(mut self, method: Method) -> Input {
        self.event_method = Some(method);
        self
    }

    fn validate(&self) -> Result<(), NccoError> {
        if self.kind.is_empty() {
            return fail("type is empty: dtmf, speech or both");
        }
        if let Some(d) = &self.dtmf {
            check_range("dtmf.timeOut", d.time_out.map(f64::from), 0.0, 10.0)?;
            check_range("dtmf.maxDigits", d.max_digits.map(f64::from), 1.0, 20.0)?;
        }
        if let Some(s) = &self.speech {
            check_range("speech.endOnSilence", s.end_on_silence, 0.4, 10.0)?;
            check_range(
                "speech.startTimeout",
                s.start_timeout.map(f64::from),
                1.0,
                60.0,
            )?;
            check_range(
                "speech.maxDuration",
                s.max_duration.map(f64::from),
                1.0,
                60.0,
            )?;
            check_range(
                "speech.sensitivity",
                s.sensitivity.map(f64::from),
                0.0,
                100.0,
            )?;
        }
        check_event_url(&self.event_url)
    }
}

/// `notify`: posts a payload to a webhook, then goes on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Notify {
    /// A JSON object sent as the body.
    pub payload: serde_json::Value,
    /// Where it goes, as a one-element array.
    #[serde(rename = "eventUrl")]
    pub event_url: Vec<String>,
    /// The method.
    #[serde(
        rename = "eventMethod",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub event_method: Option<Method>,
}

impl Notify {
    /// Posts `payload` (an object) to `url`.
    pub fn new(payload: serde_json::Value, url: impl Into<String>) -> Notify {
        Notify {
            payload,
            event_url: vec![url.into()],
            event_method: None,
        }
    }

    /// Sets the method for `eventUrl`.
    pub fn event_method(mut self, method: Method) -> Notify {
        self.event_method = Some(method);
        self
    }

    fn validate(&self) -> Result<(), NccoError> {
        if !self.payload.is_object() {
            return fail("payload is not a JSON object");
        }
        check_event_url(&Some(self.event_url.clone()))
    }
}
