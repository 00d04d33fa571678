//! JSON pieces every provider's media protocol needs: counters that arrive as strings or
//! numbers, parameter objects kept in order, string literals written without allocating, and
//! the objects and steps the JSON protocols share (a text frame, a `media` object, a `dtmf`
//! object, an event name kept for the caller).

use std::borrow::Cow;
use std::fmt::Write as _;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::media::{MediaError, MediaEvent, WsMessage};
use crate::provider::ProviderKind;

/// The text of a JSON protocol's message; a binary frame is
/// [`MediaError::UnexpectedFrame`].
pub fn text_frame<'a>(
    provider: ProviderKind,
    message: WsMessage<'a>,
) -> Result<&'a str, MediaError> {
    match message {
        WsMessage::Text(t) => Ok(t),
        WsMessage::Binary(b) => Err(MediaError::UnexpectedFrame {
            provider,
            kind: "binary",
            len: b.len(),
        }),
    }
}

/// [`MediaError::Malformed`] with `detail`.
pub fn malformed(provider: ProviderKind, detail: impl Into<String>) -> MediaError {
    MediaError::Malformed {
        provider,
        detail: detail.into(),
    }
}

/// The audio of a JSON stream's `media` events: the buffer each payload decodes into (one per
/// connection, reused for every message, so reading audio allocates nothing) and the
/// [`MediaEvent::Audio`] it gives.
///
/// ```
/// use std::time::Duration;
/// use telephony_core::ProviderKind;
/// use telephony_core::media::json::JsonAudio;
/// use telephony_core::media::{AudioTrack, MediaEvent, scan};
///
/// const P: ProviderKind = ProviderKind::new("acme", "Acme");
/// let mut audio = JsonAudio::new();
/// let text = r#"{"event":"media","media":{"track":"inbound","timestamp":"40","payload":"/38A"}}"#;
/// // The fast path, where it can read the message; else the payload the general parser found.
/// let m = scan::media_audio(text, &[], audio.buffer()).unwrap();
/// let event = audio.event(m.track, m.timestamp.map(Duration::from_millis), m.sequence);
/// assert!(matches!(event, MediaEvent::Audio { payload: [0xff, 0x7f, 0x00], track: AudioTrack::Inbound, .. }));
/// audio.decode(P, "/38A")?;
/// # Ok::<(), telephony_core::MediaError>(())
/// ```
#[derive(Debug)]
pub struct JsonAudio {
    payload: Vec<u8>,
}

impl Default for JsonAudio {
    fn default() -> JsonAudio {
        JsonAudio::new()
    }
}

impl JsonAudio {
    /// A buffer for a connection (room for a few hundred bytes of audio a message).
    pub fn new() -> JsonAudio {
        JsonAudio {
            payload: Vec::with_capacity(512),
        }
    }

    /// The buffer, for the fast path to decode into ([`scan::media_audio`](super::scan::media_audio)).
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.payload
    }

    /// Decodes a `media` object's base64 `payload` into the buffer.
    ///
    /// # Errors
    ///
    /// [`MediaError::Malformed`] for a payload that is not base64; the buffer is then empty.
    pub fn decode(&mut self, provider: ProviderKind, payload: &str) -> Result<(), MediaError> {
        super::b64::decode_payload(provider, payload, &mut self.payload)
    }

    /// The event for the audio in the buffer: `track` as the message names it (`outbound` or
    /// `outbound_track` is the outbound track, anything else the caller's), the provider's
    /// timestamp from the start of the stream, its sequence number.
    pub fn event(
        &self,
        track: Option<&str>,
        timestamp: Option<std::time::Duration>,
        sequence: Option<u64>,
    ) -> MediaEvent<'_> {
        let track = match track {
            Some("outbound" | "outbound_track") => super::AudioTrack::Outbound,
            _ => super::AudioTrack::Inbound,
        };
        MediaEvent::Audio {
            payload: &self.payload,
            track,
            timestamp,
            sequence,
        }
    }
}

/// A string read from a message, as an event can carry it: borrowed from the message when it
/// had no escapes, else kept in `store` (the protocol's, reused from message to message).
pub fn keep<'a>(text: Cow<'a, str>, store: &'a mut String) -> &'a str {
    match text {
        Cow::Borrowed(s) => s,
        Cow::Owned(s) => {
            *store = s;
            store
        }
    }
}

/// A `media` object as Twilio-style JSON streams send it:
/// `{"track": "inbound", "timestamp": "5", "payload": "<base64>"}`, read without allocating.
#[derive(Debug, Deserialize)]
pub struct MediaObject<'a> {
    /// Which side of the call the audio is.
    #[serde(default, borrow, deserialize_with = "borrowed_str")]
    pub track: Option<Cow<'a, str>>,
    /// The provider's timestamp, in milliseconds (a string or a number).
    #[serde(default, deserialize_with = "lenient_u64")]
    pub timestamp: Option<u64>,
    /// The audio, base64.
    #[serde(borrow)]
    pub payload: Cow<'a, str>,
}

/// A `dtmf` object: `{"digit": "5"}`.
#[derive(Debug, Deserialize)]
pub struct DtmfObject {
    /// The key pressed.
    #[serde(default)]
    pub digit: Option<String>,
}

impl DtmfObject {
    /// The [`MediaEvent::Dtmf`] a message's `dtmf` object gives; no object, or anything but
    /// one key, is [`MediaError::Malformed`].
    pub fn event(
        provider: ProviderKind,
        dtmf: Option<DtmfObject>,
    ) -> Result<MediaEvent<'static>, MediaError> {
        let digit = dtmf
            .and_then(|d| d.digit)
            .and_then(|d| dtmf_digit(&d))
            .ok_or_else(|| malformed(provider, "dtmf without a single-key digit"))?;
        Ok(MediaEvent::Dtmf {
            digit,
            duration: None,
        })
    }
}

/// Deserializes an optional string that borrows from the message where it can (no escapes),
/// as `#[serde(borrow)]` does for a plain `Cow<str>` field but not inside an `Option`: so a
/// media message is read without allocating.
pub fn borrowed_str<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<std::borrow::Cow<'de, str>>, D::Error> {
    use std::borrow::Cow;
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<Cow<'de, str>>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string or null")
        }
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Borrowed(v)))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v.to_owned())))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v)))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_str(V)
        }
    }
    d.deserialize_option(V)
}

/// Deserializes a counter a provider writes as a number (`42`), a string of digits (`"42"`),
/// or null. Anything else becomes `None`, never an error.
pub fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a number or a string of digits")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(u64::try_from(v).ok())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok((v >= 0.0 && v.is_finite()).then_some(v as u64))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(v.trim().parse().ok())
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(V)
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<de::IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map
                .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                .is_some()
            {}
            Ok(None)
        }
    }
    d.deserialize_any(V)
}

/// Deserializes a JSON object of parameters in document order; values that are not strings
/// keep their JSON text. A null or missing object is empty.
pub fn ordered_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<(String, String)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object of parameters")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
                let v = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                out.push((k, v));
            }
            Ok(out)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(V)
        }
    }
    d.deserialize_any(V)
}

/// Appends `s` to `out` as a JSON string literal, quotes included.
pub fn push_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The single DTMF key in `text` (`0`–`9`, `*`, `#`, `A`–`D`), upper-cased.
pub fn dtmf_digit(text: &str) -> Option<char> {
    let mut chars = text.trim().chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii_digit() || "*#ABCDabcd".contains(c) => {
            Some(c.to_ascii_uppercase())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "lenient_u64")]
        n: Option<u64>,
        #[serde(default, deserialize_with = "ordered_strings")]
        p: Vec<(String, String)>,
    }

    #[derive(Deserialize)]
    struct B<'a> {
        #[serde(default, borrow, deserialize_with = "borrowed_str")]
        s: Option<std::borrow::Cow<'a, str>>,
    }

    #[test]
    fn optional_strings_borrow_unless_escaped() {
        use std::borrow::Cow;
        let b: B<'_> = serde_json::from_str(r#"{"s":"inbound"}"#).unwrap();
        assert!(matches!(b.s, Some(Cow::Borrowed("inbound"))));
        let b: B<'_> = serde_json::from_str(r#"{"s":"in\"bound"}"#).unwrap();
        assert!(matches!(b.s.as_deref(), Some("in\"bound")));
        assert!(matches!(b.s, Some(Cow::Owned(_))));
        for json in [r#"{"s":null}"#, "{}"] {
            let b: B<'_> = serde_json::from_str(json).unwrap();
            assert!(b.s.is_none(), "{json}");
        }
        assert!(serde_json::from_str::<B<'_>>(r#"{"s":4}"#).is_err());
    }

    #[test]
    fn lenient_counters_and_ordered_parameters() {
        for (json, n) in [
            (r#"{"n":4}"#, Some(4)),
            (r#"{"n":"4"}"#, Some(4)),
            (r#"{"n":" 4 "}"#, Some(4)),
            (r#"{"n":-1}"#, None),
            (r#"{"n":"x"}"#, None),
            (r#"{"n":null}"#, None),
            (r#"{"n":[1]}"#, None),
            (r#"{"n":{"a":1}}"#, None),
            (r#"{}"#, None),
        ] {
            let t: T = serde_json::from_str(json).unwrap();
            assert_eq!(t.n, n, "{json}");
        }
        let t: T = serde_json::from_str(r#"{"p":{"z":"1","a":2,"m":true}}"#).unwrap();
        assert_eq!(
            t.p,
            [("z", "1"), ("a", "2"), ("m", "true")].map(|(a, b)| (a.to_string(), b.to_string()))
        );
        let t: T = serde_json::from_str(r#"{"p":null}"#).unwrap();
        assert!(t.p.is_empty());
    }

    #[test]
    fn strings_and_digits() {
        let mut s = String::new();
        push_string(&mut s, "a\"b\\c\nd\u{1}é");
        assert_eq!(s, r#""a\"b\\c\nd\u0001é""#);
        assert_eq!(
            serde_json::from_str::<String>(&s).unwrap(),
            "a\"b\\c\nd\u{1}é"
        );
        assert_eq!(dtmf_digit("5"), Some('5'));
        assert_eq!(dtmf_digit("#"), Some('#'));
        assert_eq!(dtmf_digit("a"), Some('A'));
        assert_eq!(dtmf_digit("12"), None);
        assert_eq!(dtmf_digit("x"), None);
    }

    const KIND: ProviderKind = ProviderKind::new("acme", "Acme");

    #[test]
    fn a_media_object_borrows_its_payload_and_reads_counters_either_way() {
        let m: MediaObject<'_> =
            serde_json::from_str(r#"{"track":"inbound","timestamp":"5","payload":"AAA="}"#)
                .unwrap();
        assert!(matches!(m.payload, Cow::Borrowed("AAA=")));
        assert_eq!(
            (m.track.as_deref(), m.timestamp),
            (Some("inbound"), Some(5))
        );
        let m: MediaObject<'_> =
            serde_json::from_str(r#"{"timestamp":7,"payload":"A\u0041"}"#).unwrap();
        assert_eq!(
            (m.track, m.timestamp, m.payload.as_ref()),
            (None, Some(7), "AA")
        );
        assert!(serde_json::from_str::<MediaObject<'_>>(r#"{"track":"inbound"}"#).is_err());
    }

    #[test]
    fn a_dtmf_object_gives_one_key_or_a_malformed_error() {
        let one: DtmfObject = serde_json::from_str(r##"{"digit":"#"}"##).unwrap();
        assert!(matches!(
            DtmfObject::event(KIND, Some(one)),
            Ok(MediaEvent::Dtmf {
                digit: '#',
                duration: None
            })
        ));
        for bad in [r#"{"digit":"12"}"#, r#"{}"#] {
            let d: DtmfObject = serde_json::from_str(bad).unwrap();
            assert!(matches!(
                DtmfObject::event(KIND, Some(d)),
                Err(MediaError::Malformed { .. })
            ));
        }
        assert!(DtmfObject::event(KIND, None).is_err());
    }

    #[test]
    fn a_binary_frame_is_not_text_and_a_kept_string_outlives_its_message() {
        assert_eq!(text_frame(KIND, WsMessage::Text("{}")).unwrap(), "{}");
        assert!(matches!(
            text_frame(KIND, WsMessage::Binary(&[1, 2, 3])),
            Err(MediaError::UnexpectedFrame {
                kind: "binary",
                len: 3,
                ..
            })
        ));
        let mut store = String::new();
        assert_eq!(keep(Cow::Borrowed("mark-1"), &mut store), "mark-1");
        assert!(store.is_empty());
        assert_eq!(keep(Cow::Owned("mark\"2".into()), &mut store), "mark\"2");
        assert!(
            matches!(malformed(KIND, "x"), MediaError::Malformed { detail, .. } if detail == "x")
        );
    }
}
