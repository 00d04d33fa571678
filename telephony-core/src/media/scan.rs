//! A fast path for the one message that arrives fifty times a second: a JSON `media` event
//! (Twilio, Plivo). It reads exactly the fields the protocols use, without allocating and
//! without a general JSON parser, and gives up (returns `None`) on anything it is not sure
//! of: another event, a string with escapes among those it reads, a `\u` escape in any string
//! (where serde_json would judge surrogate pairs), a key it does not expect, a repeated key, a
//! value of another type, malformed JSON. The caller then parses the message the general way,
//! which gives the same answer or the error, so the fast path changes speed, never meaning.

/// The fields of a `media` event that the protocols read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaMessage<'a> {
    /// `sequenceNumber`, a number or a string of digits.
    pub sequence: Option<u64>,
    /// `media.track`.
    pub track: Option<&'a str>,
    /// `media.timestamp`, a number or a string of digits.
    pub timestamp: Option<u64>,
    /// `media.payload`: base64, still encoded, as the message wrote it. It is found by its
    /// closing quote alone, so a payload that a sender wrote with JSON escapes (`\/`) comes
    /// out with them, and then does not decode: the caller parses such a message the general
    /// way, which unescapes it. So does anything else JSON forbids in a string (a control
    /// character, an unknown escape, a lone surrogate escape): none of it is base64, so
    /// [`media_audio`], unlike `media_message` alone, never reads a payload serde_json rejects.
    pub payload: &'a str,
}

/// Reads `text` as a `media` event, or says it is not one it can read quickly.
///
/// Top-level keys read: `event` (which must be `"media"`), `media`, `sequenceNumber`; passed
/// over when they are null or strings valid as JSON with no `\u` escape: the protocol's own
/// `skip` keys (at most eight: a stream id, extra headers). In `media`: `track`, `timestamp`,
/// `payload`, and `chunk` passed over. Any other key, or a key twice, sends the message to the
/// general parser.
pub fn media_message<'a>(text: &'a str, skip: &[&'static str]) -> Option<MediaMessage<'a>> {
    media_message_keyed(text, "sequenceNumber", skip)
}

/// [`media_message`] for a protocol whose sequence number has another key (Telnyx's
/// `sequence_number`): `sequence_key` is read in place of `sequenceNumber`, which is then
/// a key like any other the protocol does not expect.
pub fn media_message_keyed<'a>(
    text: &'a str,
    sequence_key: &'static str,
    skip: &[&'static str],
) -> Option<MediaMessage<'a>> {
    if skip.len() > 8 {
        return None;
    }
    let mut s = Scanner {
        text,
        b: text.as_bytes(),
        i: 0,
    };
    let mut event = false;
    let mut sequence = None;
    let mut media = None;
    let mut seen_sequence = false;
    let mut skipped = 0u8;
    let read: [&'static str; 3] = ["event", sequence_key, "media"];
    s.ws();
    s.eat(b'{')?;
    s.ws();
    if !s.peek_is(b'}') {
        loop {
            let key = s.key(&read).or_else(|| s.key(skip))?;
            s.ws();
            s.eat(b':')?;
            s.ws();
            match key {
                "event" => {
                    if event || !s.literal(b"\"media\"") {
                        return None;
                    }
                    event = true;
                }
                "media" => {
                    if media.is_some() {
                        return None;
                    }
                    media = Some(s.media_object()?);
                }
                k if k == sequence_key => {
                    if seen_sequence {
                        return None;
                    }
                    seen_sequence = true;
                    sequence = s.counter()?;
                }
                _ => {
                    let bit = 1u8 << skip.iter().position(|k| *k == key)?;
                    if skipped & bit != 0 {
                        return None;
                    }
                    skipped |= bit;
                    s.string_or_null()?;
                }
            }
            s.ws();
            if s.eat(b',').is_some() {
                s.ws();
                continue;
            }
            break;
        }
    }
    s.eat(b'}')?;
    s.ws();
    if s.i != s.b.len() || !event {
        return None;
    }
    let (track, timestamp, payload) = media?;
    Some(MediaMessage {
        sequence,
        track,
        timestamp,
        payload,
    })
}

fn find_quote(bytes: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if let Some(cpu) = super::avx2() {
        return super::simd::find_quote(cpu, bytes);
    }
    bytes.iter().position(|&c| c == b'"')
}

/// The fast path whole: `text` read as a `media` event with [`media_message`], and its
/// payload decoded into `payload` (replacing what it held). `None` when either step gives up,
/// and the caller then parses the message the general way.
pub fn media_audio<'a>(
    text: &'a str,
    skip: &[&'static str],
    payload: &mut Vec<u8>,
) -> Option<MediaMessage<'a>> {
    media_audio_keyed(text, "sequenceNumber", skip, payload)
}

/// [`media_audio`] with [`media_message_keyed`]'s sequence key.
pub fn media_audio_keyed<'a>(
    text: &'a str,
    sequence_key: &'static str,
    skip: &[&'static str],
    payload: &mut Vec<u8>,
) -> Option<MediaMessage<'a>> {
    let m = media_message_keyed(text, sequence_key, skip)?;
    super::b64::decode_into(m.payload.as_bytes(), payload).ok()?;
    Some(m)
}

struct Scanner<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
}

/// Where the first `"`, backslash or control character is in `bytes`: eight bytes at a time,
/// the byte found by the lowest flag in the word that holds it; the last few bytes one by one.
fn special(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // High bit set in each byte of `x` below `n` (exact for the first such byte, as a borrow
    // only runs upwards from it; n <= 0x80).
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGH;
    let mut at = 0;
    for w in bytes.chunks_exact(8) {
        let Ok(w) = <[u8; 8]>::try_from(w) else {
            break;
        };
        let x = u64::from_le_bytes(w);
        let hit = below(x, 0x20)
            | below(x ^ (ONES * u64::from(b'"')), 1)
            | below(x ^ (ONES * u64::from(b'\\')), 1);
        if hit != 0 {
            return Some(at + (hit.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    bytes[at..]
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|p| at + p)
}

impl<'a> Scanner<'a> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn peek_is(&self, c: u8) -> bool {
        self.b.get(self.i) == Some(&c)
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        if self.peek_is(c) {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }

    /// Whether `bytes` come next; passes over them if so.
    #[inline]
    fn literal(&mut self, bytes: &[u8]) -> bool {
        let next = self.b.get(self.i..self.i + bytes.len()) == Some(bytes);
        if next {
            self.i += bytes.len();
        }
        next
    }

    /// An object key, which must be one of `keys` written plainly (`"name"`): compared in
    /// place, with no search for its closing quote. A key written any other way (with
    /// escapes, or one not in the list) gives `None`, for the general parser to judge.
    #[inline]
    fn key(&mut self, keys: &[&'static str]) -> Option<&'static str> {
        let rest = self.b.get(self.i..)?;
        if rest.first() != Some(&b'"') {
            return None;
        }
        let key = keys.iter().find(|k| {
            let n = k.len();
            rest.get(1..=n) == Some(k.as_bytes()) && rest.get(n + 1) == Some(&b'"')
        })?;
        self.i += key.len() + 2;
        Some(key)
    }

    /// A string without escapes (or control characters, which JSON forbids), borrowed.
    fn plain_string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        let len = special(self.b.get(start..)?)?;
        if self.b[start + len] != b'"' {
            return None;
        }
        self.i = start + len + 1;
        // Between two ASCII quotes of a `str`: whole characters.
        self.text.get(start..start + len)
    }

    /// The payload: up to the next quote (base64 has none), found 32 bytes a step where AVX2
    /// runs, else by the standard library's word-at-a-time search. What it holds is checked by
    /// decoding it.
    fn payload_string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        let len = find_quote(self.b.get(start..)?)?;
        // A quote escaped as `\"` ends nothing: leave such a message to the general parser.
        if len > 0 && self.b[start + len - 1] == b'\\' {
            return None;
        }
        self.i = start + len + 1;
        self.text.get(start..start + len)
    }

    /// Passes over a string, checking it is valid JSON as serde_json checks a string: no
    /// control characters, and only the escapes JSON has. A `\u` escape, valid or not, gives
    /// `None`: serde_json rejects a surrogate that is not half of a pair (`\ud800` alone or
    /// before anything but a `\udc00`–`\udfff` escape, `\udc00` alone), and rather than
    /// judge pairs here, the fast path leaves every such string to it. The messages it exists
    /// for have none: Twilio's `streamSid` is `MZ` and hex digits, Plivo's `streamId` a UUID,
    /// its `extra_headers` `name=value` pairs of letters and digits.
    fn any_string(&mut self) -> Option<()> {
        self.eat(b'"')?;
        loop {
            self.i += special(self.b.get(self.i..)?)?;
            match self.b[self.i] {
                b'"' => {
                    self.i += 1;
                    return Some(());
                }
                b'\\' => {
                    self.i += 1;
                    match *self.b.get(self.i)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 1,
                        // `\u`, and escapes JSON does not have.
                        _ => return None,
                    }
                }
                // A control character: not JSON.
                _ => return None,
            }
        }
    }

    fn null(&mut self) -> Option<()> {
        if self.b.get(self.i..self.i + 4)? == b"null" {
            self.i += 4;
            Some(())
        } else {
            None
        }
    }

    fn string_or_null(&mut self) -> Option<()> {
        if self.peek_is(b'"') {
            self.any_string()
        } else {
            self.null()
        }
    }

    /// Digits as JSON writes a non-negative integer: `0`, or no leading zero.
    fn digits(&mut self) -> Option<u64> {
        let start = self.i;
        let mut v: u64 = 0;
        while let Some(&c) = self.b.get(self.i) {
            if !c.is_ascii_digit() {
                break;
            }
            v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
            self.i += 1;
        }
        let len = self.i - start;
        if len == 0 || (len > 1 && self.b[start] == b'0') {
            return None;
        }
        Some(v)
    }

    /// A counter, as the lenient reader takes it: a non-negative integer, or a string of
    /// digits. Anything else (a fraction, a sign, spaces, null) goes to the general parser.
    fn counter(&mut self) -> Option<Option<u64>> {
        if self.eat(b'"').is_some() {
            let v = self.digits()?;
            self.eat(b'"')?;
            return Some(Some(v));
        }
        let v = self.digits()?;
        // A fraction or an exponent follows: not a plain integer.
        if let Some(b'.' | b'e' | b'E') = self.b.get(self.i) {
            return None;
        }
        Some(Some(v))
    }

    /// The `media` object: `(track, timestamp, payload)`.
    #[allow(clippy::type_complexity)]
    fn media_object(&mut self) -> Option<(Option<&'a str>, Option<u64>, &'a str)> {
        self.eat(b'{')?;
        let (mut track, mut timestamp, mut payload) = (None, None, None);
        let (mut seen_track, mut seen_timestamp, mut seen_chunk) = (false, false, false);
        self.ws();
        if !self.peek_is(b'}') {
            loop {
                let key = self.key(&["payload", "track", "timestamp", "chunk"])?;
                self.ws();
                self.eat(b':')?;
                self.ws();
                match key {
                    "payload" if payload.is_none() => payload = Some(self.payload_string()?),
                    "track" if !seen_track => {
                        seen_track = true;
                        track = if self.peek_is(b'"') {
                            Some(self.plain_string()?)
                        } else {
                            self.null()?;
                            None
                        };
                    }
                    "timestamp" if !seen_timestamp => {
                        seen_timestamp = true;
                        timestamp = self.counter()?;
                    }
                    "chunk" if !seen_chunk => {
                        seen_chunk = true;
                        self.counter()?;
                    }
                    _ => return None,
                }
                self.ws();
                if self.eat(b',').is_some() {
                    self.ws();
                    continue;
                }
                break;
            }
        }
        self.eat(b'}')?;
        Some((track, timestamp, payload?))
    }
}

#[cfg(test)]
mod tests {
    /// The keys Twilio's and Plivo's media messages carry that the fast path passes over.
    const SKIP: &[&str] = &["streamSid", "streamId", "extra_headers"];
    use super::*;

    const TWILIO: &str = r#"{"event":"media","sequenceNumber":"4","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0","media":{"track":"inbound","chunk":"2","timestamp":"5","payload":"no+JhoaJjpzS"}}"#;
    const PLIVO: &str = r#"{"event":"media","sequenceNumber":42,"streamId":"b77e037d-4119-44b5-902d-25826b654539","media":{"track":"inbound","timestamp":"1705312200000","chunk":41,"payload":"AAA="},"extra_headers":"a=1;b=2"}"#;

    #[test]
    fn reads_the_documented_media_messages() {
        assert_eq!(
            media_message(TWILIO, SKIP),
            Some(MediaMessage {
                sequence: Some(4),
                track: Some("inbound"),
                timestamp: Some(5),
                payload: "no+JhoaJjpzS",
            })
        );
        assert_eq!(
            media_message(PLIVO, SKIP),
            Some(MediaMessage {
                sequence: Some(42),
                track: Some("inbound"),
                timestamp: Some(1_705_312_200_000),
                payload: "AAA=",
            })
        );
        let spaced = " {\n \"event\" : \"media\" ,\t\"media\" : { \"payload\" : \"\" , \"track\" : null } }\r\n";
        assert_eq!(
            media_message(spaced, SKIP),
            Some(MediaMessage {
                sequence: None,
                track: None,
                timestamp: None,
                payload: "",
            })
        );
        // A payload with escapes comes out as written; it will not decode, and the caller
        // then parses the message the general way.
        let escaped = r#"{"event":"media","media":{"payload":"AB\/C"}}"#;
        assert_eq!(
            media_message(escaped, SKIP).map(|m| m.payload),
            Some("AB\\/C")
        );
        let quoted = r#"{"event":"media","media":{"payload":"AB\"C"}}"#;
        assert_eq!(media_message(quoted, SKIP), None);
        let escaped_skip =
            r#"{"event":"media","streamSid":"M\"Z\/\\\n","media":{"payload":"AA=="}}"#;
        assert_eq!(
            media_message(escaped_skip, SKIP).map(|m| m.payload),
            Some("AA==")
        );
        // A `\u` escape in a skipped string, even a valid one, is for serde_json to judge.
        let unicode_skip =
            r#"{"event":"media","streamSid":"M\"Z\u00e9","media":{"payload":"AA=="}}"#;
        assert_eq!(media_message(unicode_skip, SKIP), None);
    }

    #[test]
    fn a_sequence_under_another_key_is_read_only_where_the_protocol_names_it() {
        const TELNYX: &str = r#"{"event":"media","sequence_number":"4","stream_id":"32DE0DEA","media":{"track":"inbound","chunk":"2","timestamp":"5","payload":"no+JhoaJjpzS"}}"#;
        let m = media_message_keyed(TELNYX, "sequence_number", &["stream_id"]).unwrap();
        assert_eq!(m.sequence, Some(4));
        assert_eq!(m.timestamp, Some(5));
        // Under the default key it is a key the protocol does not expect: the general parser
        // judges the message.
        assert_eq!(media_message(TELNYX, &["stream_id"]), None);
        // Both spellings at once: not for the fast path either.
        let both = TELNYX.replace(r#""stream_id""#, r#""sequenceNumber":"5","stream_id""#);
        assert_eq!(
            media_message_keyed(&both, "sequence_number", &["stream_id"]),
            None
        );
        let mut payload = Vec::new();
        assert!(
            media_audio_keyed(TELNYX, "sequence_number", &["stream_id"], &mut payload).is_some()
        );
        assert_eq!(payload.len(), 9);
    }

    #[test]
    fn finds_the_first_special_byte_wherever_it_is() {
        for len in 0..40 {
            for at in 0..len {
                for c in [b'"', b'\\', 0x00, 0x1F, b'\n'] {
                    // Bytes around the thresholds, that must not count.
                    let mut text: Vec<u8> = (0..len)
                        .map(|i| [b' ', b'!', b'#', b']', b'[', 0x7F, 0xE9][i % 7])
                        .collect();
                    text[at] = c;
                    if at + 1 < len {
                        text[at + 1] = b'"';
                    }
                    assert_eq!(special(&text), Some(at), "{len} {at} {c}");
                }
            }
            let plain: Vec<u8> = (0..len).map(|i| b"abc \x7F\xFF!#"[i % 8]).collect();
            assert_eq!(special(&plain), None);
        }
    }

    #[test]
    fn gives_up_on_whatever_the_general_parser_should_judge() {
        for text in [
            r#"{"event":"mark","media":{"payload":""}}"#,
            r#"{"event":"med\u0069a","media":{"payload":""}}"#,
            r#"{"event":"media","media":{"payload":"", "payload":""}}"#,
            r#"{"event":"media","event":"media","media":{"payload":""}}"#,
            r#"{"event":"media","media":{"track":"inbound"}}"#,
            r#"{"event":"media"}"#,
            r#"{"media":{"payload":""}}"#,
            r#"{"event":"media","media":{"payload":""},"start":{}}"#,
            r#"{"event":"media","media":{"payload":"","other":1}}"#,
            r#"{"event":"media","media":{"payload":5}}"#,
            r#"{"event":"media","media":{"payload":"","timestamp":"-5"}}"#,
            r#"{"event":"media","media":{"payload":"","timestamp":1.5}}"#,
            r#"{"event":"media","media":{"payload":"","timestamp":" 5"}}"#,
            r#"{"event":"media","media":{"payload":"","timestamp":01}}"#,
            r#"{"event":"media","media":{"payload":"","timestamp":99999999999999999999}}"#,
            r#"{"event":"media","sequenceNumber":null,"media":{"payload":""}}"#,
            r#"{"event":"media","streamSid":5,"media":{"payload":""}}"#,
            r#"{"event":"media","streamSid":"bad \x escape","media":{"payload":""}}"#,
            r#"{"event":"media","media":{"payload":""}} trailing"#,
            r#"{"event":"media","media":{"payload":""},}"#,
            r#"{"event":"media","media":{"payload":""}"#,
            "",
            "[]",
        ] {
            assert_eq!(media_message(text, SKIP), None, "{text}");
        }
    }

    /// The Twilio message above with one field's value written as `value`.
    fn twilio_with(field: &str, value: &str) -> String {
        let mut fields = [
            ("sequenceNumber", "\"4\""),
            ("streamSid", "\"MZ18ad3ab5a668481ce02b83e7395059f0\""),
            ("track", "\"inbound\""),
            ("chunk", "\"2\""),
            ("timestamp", "\"5\""),
            ("payload", "\"no+JhoaJjpzS\""),
        ];
        for f in &mut fields {
            if f.0 == field {
                f.1 = value;
            }
        }
        let [seq, sid, track, chunk, ts, payload] = fields.map(|f| f.1);
        format!(
            r#"{{"event":"media","sequenceNumber":{seq},"streamSid":{sid},"media":{{"track":{track},"chunk":{chunk},"timestamp":{ts},"payload":{payload}}}}}"#
        )
    }

    #[test]
    fn the_reported_lone_high_surrogate_in_stream_sid_is_not_read() {
        let text = r#"{"event":"media","sequenceNumber":"4","streamSid":"\ud800","media":{"track":"inbound","chunk":"2","timestamp":"5","payload":"no+JhoaJjpzS"}}"#;
        assert!(serde_json::from_str::<serde_json::Value>(text).is_err());
        assert_eq!(media_message(text, SKIP), None);
        assert_eq!(media_audio(text, SKIP, &mut Vec::new()), None);
    }

    /// Lone surrogates (high at the end, high before a non-surrogate or another high, low
    /// alone or first), in every field and in keys: serde_json rejects each message, and the
    /// fast path never reads one.
    #[test]
    fn lone_surrogates_in_any_field_are_left_to_the_general_parser() {
        let lone = [
            r"\ud800",
            r"\uDBFF",
            r"\udc00",
            r"\uDFFF",
            r"\ud800\u0041",
            r"\ud800\ud800",
            r"\ud800\n",
            r"\ud800x",
            r"\udc00\ud800",
            r"MZ18\ud800ad3a",
        ];
        for bad in lone {
            let quoted = format!("\"{bad}\"");
            let mut texts: Vec<String> =
                ["sequenceNumber", "streamSid", "track", "chunk", "timestamp"]
                    .iter()
                    .map(|field| twilio_with(field, &quoted))
                    .collect();
            texts.extend([
                // Plivo's skipped fields.
                format!(r#"{{"event":"media","streamId":"{bad}","media":{{"payload":"AAA="}}}}"#),
                format!(
                    r#"{{"event":"media","streamId":"b77e","media":{{"payload":"AAA="}},"extra_headers":"a=1;{bad}"}}"#
                ),
                // The event, and fields the fast path does not know, as values and as keys.
                format!(r#"{{"event":"media{bad}","media":{{"payload":"AAA="}}}}"#),
                format!(r#"{{"event":"media","media":{{"payload":"AAA="}},"other":"{bad}"}}"#),
                format!(r#"{{"event":"media","media":{{"payload":"AAA=","other":"{bad}"}}}}"#),
                format!(r#"{{"event":"media","{bad}":"x","media":{{"payload":"AAA="}}}}"#),
                format!(r#"{{"event":"media","stream{bad}Sid":"x","media":{{"payload":"AAA="}}}}"#),
            ]);
            for text in &texts {
                assert!(
                    serde_json::from_str::<serde_json::Value>(text).is_err(),
                    "{text}"
                );
                assert_eq!(media_message(text, SKIP), None, "{text}");
                assert_eq!(media_audio(text, SKIP, &mut Vec::new()), None, "{text}");
            }
            // In the payload, found by its closing quote alone: read as written, it does not
            // decode, so the whole fast path gives up.
            let text = twilio_with("payload", &format!("\"no+J{bad}hoaJjpzS\""));
            assert!(
                serde_json::from_str::<serde_json::Value>(&text).is_err(),
                "{text}"
            );
            assert_eq!(media_audio(&text, SKIP, &mut Vec::new()), None, "{text}");
        }
    }

    /// Escapes JSON does not have and raw control characters, in a skipped string: serde_json
    /// rejects them, so does the fast path. Valid escapes other than `\u` stay on it; `\u`
    /// escapes, valid or not, go to the general parser.
    #[test]
    fn escapes_in_skipped_strings_are_judged_as_serde_json_judges_them() {
        for bad in [
            r"\x41", r"\a", r"\U0041", r"\'", r"\0", r"\e", r"\u00G1", r"\u12", r"\u", "\u{0}",
            "\u{1}", "\u{1f}", "\n", "\t", "\r",
        ] {
            let text = twilio_with("streamSid", &format!("\"MZ{bad}zz\""));
            assert!(
                serde_json::from_str::<serde_json::Value>(&text).is_err(),
                "{text:?}"
            );
            assert_eq!(media_message(&text, SKIP), None, "{text:?}");
        }
        for good in [r#"\"\\\/\b\f\n\r\t"#, "\u{7f}", "é"] {
            let text = twilio_with("streamSid", &format!("\"MZ{good}18\""));
            assert!(
                serde_json::from_str::<serde_json::Value>(&text).is_ok(),
                "{text:?}"
            );
            assert!(media_message(&text, SKIP).is_some(), "{text:?}");
        }
        for unicode in [
            r"\u00e9",
            r"\u0041",
            r"\ud83d\ude00",
            r"\uDBFF\uDFFF",
            r"\uFFFF",
        ] {
            let text = twilio_with("streamSid", &format!("\"MZ{unicode}18\""));
            assert!(
                serde_json::from_str::<serde_json::Value>(&text).is_ok(),
                "{text:?}"
            );
            assert_eq!(media_message(&text, SKIP), None, "{text:?}");
        }
    }

    /// The fast path against serde_json on messages with escapes of every kind in every field.
    mod against_serde_json {
        use super::super::*;
        use super::SKIP;
        use crate::media::json::{borrowed_str, lenient_u64};
        use base64::Engine as _;
        use base64::engine::general_purpose::STANDARD;
        use proptest::prelude::*;
        use serde::Deserialize;
        use std::borrow::Cow;

        /// The shape the Twilio and Plivo protocols read a message into, both combined.
        #[derive(Deserialize)]
        struct Typed<'a> {
            #[serde(borrow)]
            event: Cow<'a, str>,
            #[serde(
                rename = "streamSid",
                default,
                borrow,
                deserialize_with = "borrowed_str"
            )]
            stream_sid: Option<Cow<'a, str>>,
            #[serde(
                rename = "streamId",
                default,
                borrow,
                deserialize_with = "borrowed_str"
            )]
            stream_id: Option<Cow<'a, str>>,
            #[serde(default)]
            extra_headers: Option<String>,
            #[serde(rename = "sequenceNumber", default, deserialize_with = "lenient_u64")]
            sequence_number: Option<u64>,
            #[serde(default, borrow)]
            media: Option<TypedMedia<'a>>,
        }

        #[derive(Deserialize)]
        struct TypedMedia<'a> {
            #[serde(default, borrow, deserialize_with = "borrowed_str")]
            track: Option<Cow<'a, str>>,
            #[serde(default, deserialize_with = "lenient_u64")]
            timestamp: Option<u64>,
            #[serde(borrow)]
            payload: Cow<'a, str>,
        }

        /// `(sequence, track, timestamp, payload)`.
        type Fields = (Option<u64>, Option<String>, Option<u64>, String);

        /// What serde_json reads from `text` as a `Value` (every string checked, unknown
        /// fields included): `None` if it rejects the text or it is not a media event.
        fn general(text: &str) -> Option<Fields> {
            let v: serde_json::Value = serde_json::from_str(text).ok()?;
            let counter = |v: Option<&serde_json::Value>| match v {
                Some(serde_json::Value::Number(n)) => n.as_u64(),
                Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
                _ => None,
            };
            if v.get("event")?.as_str()? != "media" {
                return None;
            }
            let media = v.get("media")?;
            Some((
                counter(v.get("sequenceNumber")),
                media
                    .get("track")
                    .and_then(|t| t.as_str())
                    .map(str::to_owned),
                counter(media.get("timestamp")),
                media.get("payload")?.as_str()?.to_owned(),
            ))
        }

        fn fail(what: &str, text: &str) -> TestCaseError {
            TestCaseError::fail(format!("{what}: {text:?}"))
        }

        /// What the fast path reads from `text`, serde_json reads the same, both as a `Value`
        /// and into the protocols' shape: so a text serde_json rejects is never read.
        fn check_audio(text: &str) -> Result<(), TestCaseError> {
            let mut bytes = vec![7; 5];
            let Some(m) = media_audio(text, SKIP, &mut bytes) else {
                return Ok(());
            };
            let (sequence, track, timestamp, payload) =
                general(text).ok_or_else(|| fail("serde_json rejects a message read", text))?;
            prop_assert_eq!(m.sequence, sequence);
            prop_assert_eq!(m.track.map(str::to_owned), track);
            prop_assert_eq!(m.timestamp, timestamp);
            prop_assert_eq!(m.payload, payload.as_str());
            prop_assert_eq!(STANDARD.decode(&payload).ok(), Some(bytes));
            let t = serde_json::from_str::<Typed<'_>>(text)
                .map_err(|e| fail(&format!("the protocols' shape rejects it ({e})"), text))?;
            let _ = (t.stream_sid, t.stream_id, t.extra_headers);
            prop_assert_eq!(t.event.as_ref(), "media");
            prop_assert_eq!(t.sequence_number, m.sequence);
            let media = t.media.ok_or_else(|| fail("no media object", text))?;
            prop_assert_eq!(media.track.as_deref(), m.track);
            prop_assert_eq!(media.timestamp, m.timestamp);
            prop_assert_eq!(media.payload.as_ref(), m.payload);
            Ok(())
        }

        /// The property, for one text: [`check_audio`]; and `media_message` alone, which finds
        /// the payload by its closing quote and leaves it to the decoder, reads a message whose
        /// rest is sound: with its payload emptied the whole fast path reads it, the same.
        fn check(text: &str) -> Result<(), TestCaseError> {
            check_audio(text)?;
            let Some(m) = media_message(text, SKIP) else {
                return Ok(());
            };
            let start = m.payload.as_ptr() as usize - text.as_ptr() as usize;
            let emptied = format!("{}{}", &text[..start], &text[start + m.payload.len()..]);
            let e = media_audio(&emptied, SKIP, &mut Vec::new())
                .ok_or_else(|| fail("read, but not with its payload emptied", text))?;
            prop_assert_eq!(
                (e.sequence, e.track, e.timestamp),
                (m.sequence, m.track, m.timestamp)
            );
            check_audio(&emptied)?;
            if media_audio(text, SKIP, &mut Vec::new()).is_none() {
                let mut out = Vec::new();
                prop_assert!(
                    crate::media::b64::decode_into(m.payload.as_bytes(), &mut out).is_err()
                );
            }
            Ok(())
        }

        /// One piece of a string's content: plain text, every escape JSON has, `\u` escapes of
        /// every 16-bit unit, surrogates paired, lone and followed by something else, escapes
        /// JSON does not have, raw control characters.
        fn piece() -> impl Strategy<Value = String> {
            let s = |v: &[&'static str]| prop::sample::select(v.to_vec()).prop_map(str::to_owned);
            prop_oneof![
                4 => "[A-Za-z0-9+/=]{1,6}",
                2 => s(&[" ", "é", "\u{7f}", "😀", "\u{2028}"]),
                4 => s(&[r#"\""#, r"\\", r"\/", r"\b", r"\f", r"\n", r"\r", r"\t"]),
                1 => s(&[
                    r"\u0041", r"\u00e9", r"\u00E9", r"\u0000", r"\u001f", r"\u0022", r"\u005C",
                    r"\uD7FF", r"\ue000", r"\uFFFF"
                ]),
                1 => any::<u16>().prop_map(|u| format!("\\u{u:04x}")),
                1 => (0xD800u16..0xDC00).prop_map(|u| format!("\\u{u:04X}")),
                1 => (0xDC00u16..0xE000).prop_map(|u| format!("\\u{u:04x}")),
                1 => (0xD800u16..0xDC00, 0xDC00u16..0xE000)
                    .prop_map(|(h, l)| format!("\\u{h:04x}\\u{l:04X}")),
                1 => (
                    0xD800u16..0xDC00,
                    prop::sample::select(vec![
                        r"\u0041", r"\ud800", r"\uDBFF", r"\uE000", r"\n", r"\\", "x", ""
                    ]),
                )
                    .prop_map(|(h, next)| format!("\\u{h:04x}{next}")),
                1 => s(&[
                    r"\x41", r"\a", r"\U0041", r"\'", r"\0", r"\e", r"\u00G1", r"\u12", r"\u",
                    r"\u{41}", "\\ ", "\\"
                ]),
                1 => (0u8..0x20).prop_map(|c| char::from(c).to_string()),
            ]
        }

        fn string() -> impl Strategy<Value = String> {
            prop::collection::vec(piece(), 0..4).prop_map(|p| format!("\"{}\"", p.concat()))
        }

        fn counter() -> impl Strategy<Value = String> {
            prop_oneof![
                3 => any::<u32>().prop_map(|n| n.to_string()),
                3 => any::<u32>().prop_map(|n| format!("\"{n}\"")),
                1 => prop::sample::select(vec![
                    "null",
                    "\"x\"",
                    "-3",
                    "2.5",
                    "\" 7\"",
                    "01",
                    "\"\\u0034\""
                ])
                .prop_map(str::to_owned),
                1 => string(),
            ]
        }

        fn plain_or(plain: &'static [&'static str]) -> impl Strategy<Value = String> {
            prop_oneof![
                2 => prop::sample::select(plain.to_vec()).prop_map(str::to_owned),
                1 => string(),
            ]
        }

        fn payload() -> impl Strategy<Value = String> {
            prop_oneof![
                3 => prop::collection::vec(any::<u8>(), 0..48).prop_map(|b| format!("\"{}\"", STANDARD.encode(b))),
                1 => (prop::collection::vec(any::<u8>(), 1..48), piece(), any::<prop::sample::Index>()).prop_map(
                    |(b, p, at)| {
                        let mut t = STANDARD.encode(b);
                        t.insert_str(at.index(t.len() + 1), &p);
                        format!("\"{t}\"")
                    }
                ),
                1 => string(),
            ]
        }

        /// A media message: some of its fields, in any order, escapes anywhere in any of them.
        fn message() -> impl Strategy<Value = String> {
            let media = (
                prop::option::of(plain_or(&["\"inbound\"", "\"outbound\"", "null", "5"])),
                prop::option::of(counter()),
                prop::option::of(counter()),
                prop::option::weighted(0.95, payload()),
            );
            let top = (
                prop::option::weighted(
                    0.95,
                    plain_or(&[
                        "\"media\"",
                        "\"media\"",
                        "\"media\"",
                        "\"media\"",
                        "\"mark\"",
                        r#""med\u0069a""#,
                    ]),
                ),
                prop::option::of(counter()),
                prop::option::of(plain_or(&[
                    "\"MZ18ad3ab5a668481ce02b83e7395059f0\"",
                    "null",
                    "5",
                ])),
                prop::option::of(plain_or(&[
                    "\"b77e037d-4119-44b5-902d-25826b654539\"",
                    "null",
                ])),
                prop::option::of(plain_or(&["\"a=1;b=2\"", "null"])),
                prop::option::weighted(
                    0.2,
                    (plain_or(&["\"other\"", r#""stream\u0053id""#]), string()),
                ),
            );
            (media, top, any::<u64>()).prop_map(
                |(
                    (track, timestamp, chunk, payload),
                    (event, seq, sid, id, extra, other),
                    order,
                )| {
                    let field = |k: &str, v: Option<String>| v.map(|v| format!("\"{k}\":{v}"));
                    let inner: Vec<String> = [
                        field("track", track),
                        field("timestamp", timestamp),
                        field("chunk", chunk),
                        field("payload", payload),
                    ]
                    .into_iter()
                    .flatten()
                    .collect();
                    let mut outer: Vec<String> = [
                        field("event", event),
                        field("sequenceNumber", seq),
                        field("streamSid", sid),
                        field("streamId", id),
                        field("extra_headers", extra),
                        other.map(|(k, v)| format!("{k}:{v}")),
                        Some(format!("\"media\":{{{}}}", inner.join(","))),
                    ]
                    .into_iter()
                    .flatten()
                    .collect();
                    let k = outer.len();
                    outer.rotate_left((order % k as u64) as usize);
                    format!("{{{}}}", outer.join(","))
                },
            )
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(4000))]

            #[test]
            fn escapes_anywhere_never_change_what_the_fast_path_reads(text in message()) {
                check(&text)?;
            }

            /// A piece dropped at any point of a message: inside strings, in keys, between
            /// tokens.
            #[test]
            fn a_piece_anywhere_never_changes_what_the_fast_path_reads(
                text in message(),
                p in piece(),
                at in any::<prop::sample::Index>(),
            ) {
                let mut at = at.index(text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                let mut text = text;
                text.insert_str(at, &p);
                check(&text)?;
            }
        }

        #[test]
        fn the_documented_messages_hold_too() {
            for text in [super::TWILIO, super::PLIVO] {
                assert!(media_audio(text, SKIP, &mut Vec::new()).is_some());
                check(text).unwrap();
            }
        }
    }
}
