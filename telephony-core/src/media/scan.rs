//! A fast path for the one message that arrives fifty times a second: a JSON `media` event
//! (Twilio, Plivo). It reads exactly the fields the protocols use, without allocating and
//! without a general JSON parser, and gives up (returns `None`) on anything it is not sure
//! of: another event, a string with escapes among those it reads, a key it does not expect,
//! a repeated key, a value of another type, malformed JSON. The caller then parses the message
//! the general way, which gives the same answer or the error, so the fast path changes speed,
//! never meaning.

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
    /// way, which unescapes it.
    pub payload: &'a str,
}

/// Reads `text` as a `media` event, or says it is not one it can read quickly.
///
/// Top-level keys read: `event` (which must be `"media"`), `media`, `sequenceNumber`; passed
/// over when they are strings or null: `streamSid`, `streamId`, `extra_headers`. In `media`:
/// `track`, `timestamp`, `payload`, and `chunk` passed over. Any other key sends the message
/// to the general parser.
pub fn media_message(text: &str) -> Option<MediaMessage<'_>> {
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
    s.ws();
    s.eat(b'{')?;
    s.ws();
    if !s.peek_is(b'}') {
        loop {
            let key = s.key(&[
                "event",
                "sequenceNumber",
                "media",
                "streamSid",
                "streamId",
                "extra_headers",
            ])?;
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
                "sequenceNumber" => {
                    if seen_sequence {
                        return None;
                    }
                    seen_sequence = true;
                    sequence = s.counter()?;
                }
                "streamSid" | "streamId" | "extra_headers" => {
                    let bit = match key {
                        "streamSid" => 1,
                        "streamId" => 2,
                        _ => 4,
                    };
                    if skipped & bit != 0 {
                        return None;
                    }
                    skipped |= bit;
                    s.string_or_null()?;
                }
                _ => return None,
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
    if super::simd::available() {
        return super::simd::find_quote(bytes);
    }
    bytes.iter().position(|&c| c == b'"')
}

/// The fast path whole: `text` read as a `media` event with [`media_message`], and its
/// payload decoded into `payload` (replacing what it held). `None` when either step gives up,
/// and the caller then parses the message the general way.
pub fn media_audio<'a>(text: &'a str, payload: &mut Vec<u8>) -> Option<MediaMessage<'a>> {
    let m = media_message(text)?;
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

    /// Passes over a string, escapes and all, checking it is valid JSON.
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
                        b'u' => {
                            let hex = self.b.get(self.i + 1..self.i + 5)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            self.i += 5;
                        }
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
    use super::*;

    const TWILIO: &str = r#"{"event":"media","sequenceNumber":"4","streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0","media":{"track":"inbound","chunk":"2","timestamp":"5","payload":"no+JhoaJjpzS"}}"#;
    const PLIVO: &str = r#"{"event":"media","sequenceNumber":42,"streamId":"b77e037d-4119-44b5-902d-25826b654539","media":{"track":"inbound","timestamp":"1705312200000","chunk":41,"payload":"AAA="},"extra_headers":"a=1;b=2"}"#;

    #[test]
    fn reads_the_documented_media_messages() {
        assert_eq!(
            media_message(TWILIO),
            Some(MediaMessage {
                sequence: Some(4),
                track: Some("inbound"),
                timestamp: Some(5),
                payload: "no+JhoaJjpzS",
            })
        );
        assert_eq!(
            media_message(PLIVO),
            Some(MediaMessage {
                sequence: Some(42),
                track: Some("inbound"),
                timestamp: Some(1_705_312_200_000),
                payload: "AAA=",
            })
        );
        let spaced = " {\n \"event\" : \"media\" ,\t\"media\" : { \"payload\" : \"\" , \"track\" : null } }\r\n";
        assert_eq!(
            media_message(spaced),
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
        assert_eq!(media_message(escaped).map(|m| m.payload), Some("AB\\/C"));
        let quoted = r#"{"event":"media","media":{"payload":"AB\"C"}}"#;
        assert_eq!(media_message(quoted), None);
        let escaped_skip =
            r#"{"event":"media","streamSid":"M\"Z\u00e9","media":{"payload":"AA=="}}"#;
        assert_eq!(media_message(escaped_skip).map(|m| m.payload), Some("AA=="));
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
            assert_eq!(media_message(text), None, "{text}");
        }
    }
}
