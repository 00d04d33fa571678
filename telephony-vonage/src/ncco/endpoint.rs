//! Where a `connect` goes: a WebSocket (the media stream, with its audio format and the
//! headers echoed back in its first message), a phone number, or a SIP URI.

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use telephony_core::audio::SampleRate;
use telephony_core::media::json::push_string;

use super::{NccoError, check_digits, fail};

/// The websocket `headers` limit, in bytes of JSON.
pub const HEADERS_LIMIT: usize = 512;

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
