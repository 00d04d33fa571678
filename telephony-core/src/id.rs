//! Identifiers: call ids and E.164 numbers, validated where they are built.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A provider's identifier for one call: a Twilio `CallSid` (`CA…`), a Plivo `CallUUID`, a
/// Vonage call `uuid`.
///
/// Any non-empty text without control characters or whitespace; providers differ too much for
/// more. It is safe to put in a URL path segment after the adapter encodes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CallId(String);

/// A call id that cannot be one.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid call id {0:?}: expected non-empty text without spaces or control characters")]
pub struct InvalidCallId(pub String);

impl CallId {
    /// Validates and wraps a provider's call id.
    pub fn new(id: impl Into<String>) -> Result<CallId, InvalidCallId> {
        let id = id.into();
        if id.is_empty()
            || id.len() > 256
            || id.chars().any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(InvalidCallId(id));
        }
        Ok(CallId(id))
    }

    /// The id as the provider wrote it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for CallId {
    type Err = InvalidCallId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CallId::new(s)
    }
}

impl TryFrom<String> for CallId {
    type Error = InvalidCallId;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        CallId::new(s)
    }
}

impl From<CallId> for String {
    fn from(id: CallId) -> String {
        id.0
    }
}

impl AsRef<str> for CallId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A phone number in E.164 form: `+` and 8 to 15 digits, the first not 0.
///
/// Built by [`E164::new`] (strict) or [`E164::parse_lenient`] (accepts spaces, dashes, dots,
/// parentheses, and the `+`-less digits Plivo and Vonage send). A number that is not valid fails
/// here, before any request is sent.
///
/// ```
/// use telephony_core::E164;
///
/// let n: E164 = "+14155550123".parse()?;
/// assert_eq!(n.digits(), "14155550123");
/// assert!(E164::new("4155550123").is_err());
/// assert_eq!(E164::parse_lenient("+1 (415) 555-0123")?, n);
/// assert_eq!(E164::parse_lenient("14155550123")?, n);
/// # Ok::<(), telephony_core::InvalidE164>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct E164(String);

/// Why a text is not an E.164 number.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "invalid phone number {input:?}: {reason}; expected E.164, a + and 8 to 15 digits such as +14155550123"
)]
pub struct InvalidE164 {
    /// The text given.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl E164 {
    /// Parses strict E.164: `+` followed by 8 to 15 digits, the first of which is not 0.
    pub fn new(s: &str) -> Result<E164, InvalidE164> {
        let fail = |reason| InvalidE164 {
            input: s.to_owned(),
            reason,
        };
        let digits = s
            .strip_prefix('+')
            .ok_or_else(|| fail("it does not start with +"))?;
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(fail("it has characters other than digits after the +"));
        }
        if !(8..=15).contains(&digits.len()) {
            return Err(fail("it has not 8 to 15 digits"));
        }
        if digits.starts_with('0') {
            return Err(fail("a country code does not start with 0"));
        }
        Ok(E164(s.to_owned()))
    }

    /// Parses what providers and people write: spaces, dashes, dots and parentheses are
    /// dropped, and a leading `+` is optional (Plivo and Vonage send bare digits) as is a
    /// leading `00`.
    pub fn parse_lenient(s: &str) -> Result<E164, InvalidE164> {
        let trimmed = s.trim();
        let mut out = String::with_capacity(trimmed.len() + 1);
        let rest = if let Some(r) = trimmed.strip_prefix('+') {
            r
        } else if let Some(r) = trimmed.strip_prefix("00") {
            r
        } else {
            trimmed
        };
        out.push('+');
        for c in rest.chars() {
            match c {
                '0'..='9' => out.push(c),
                ' ' | '-' | '.' | '(' | ')' | '\u{a0}' => {}
                _ => {
                    return Err(InvalidE164 {
                        input: s.to_owned(),
                        reason: "it has characters other than digits and separators",
                    });
                }
            }
        }
        E164::new(&out).map_err(|e| InvalidE164 {
            input: s.to_owned(),
            reason: e.reason,
        })
    }

    /// The number with its `+`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits without the `+`, as Plivo and Vonage write numbers.
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }

    /// A call's party (caller or called) as a carrier wrote it, in the form every adapter
    /// reports it: digits that are an E.164 number without its `+` (Plivo's and Vonage's
    /// `919798990001`) get the `+` back; anything else is kept as sent, an E.164 number
    /// already, a SIP URI, a client name, `anonymous`, a short code, or digits with
    /// separators (which could be a national form: a country code cannot be guessed).
    ///
    /// ```
    /// use telephony_core::E164;
    ///
    /// assert_eq!(E164::restore_plus("919798990001"), "+919798990001");
    /// assert_eq!(E164::restore_plus("+919879879876"), "+919879879876");
    /// assert_eq!(E164::restore_plus("sip:alice@phone.plivo.com"), "sip:alice@phone.plivo.com");
    /// assert_eq!(E164::restore_plus("4155"), "4155");
    /// ```
    pub fn restore_plus(raw: &str) -> String {
        let digits = raw.trim();
        if !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && let Ok(n) = E164::new(&format!("+{digits}"))
        {
            return n.0;
        }
        raw.to_owned()
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for E164 {
    type Err = InvalidE164;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        E164::new(s)
    }
}

impl TryFrom<String> for E164 {
    type Error = InvalidE164;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        E164::new(&s)
    }
}

impl From<E164> for String {
    fn from(n: E164) -> String {
        n.0
    }
}

impl AsRef<str> for E164 {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_accepts_and_rejects() {
        for ok in [
            "+14155550123",
            "+442071838750",
            "+12345678",
            "+123456789012345",
        ] {
            assert!(E164::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "+",
            "14155550123",
            "+1415555012a",
            "+1234567",
            "+1234567890123456",
            "+04155550123",
            "+1 415 555 0123",
            "++14155550123",
        ] {
            let e = E164::new(bad).unwrap_err();
            assert!(e.to_string().contains("E.164"), "{e}");
        }
    }

    #[test]
    fn lenient_parsing() {
        let n = E164::new("+442071838750").unwrap();
        for s in [
            "442071838750",
            "+44 20 7183 8750",
            "0044-20-7183-8750",
            " +44 (20) 7183.8750 ",
        ] {
            assert_eq!(E164::parse_lenient(s).unwrap(), n, "{s}");
        }
        assert!(E164::parse_lenient("sip:alice@example.com").is_err());
        assert!(E164::parse_lenient("client:alice").is_err());
        assert_eq!(n.digits(), "442071838750");
    }

    #[test]
    fn parties_get_their_plus_back_and_nothing_else_changes() {
        for (raw, reported) in [
            ("919798990001", "+919798990001"),
            (" 14155550100 ", "+14155550100"),
            ("+14155550100", "+14155550100"),
            ("sip:alice@phone.plivo.com", "sip:alice@phone.plivo.com"),
            ("client:alice", "client:alice"),
            ("anonymous", "anonymous"),
            ("", ""),
            // Too short, a leading 0, separators: not known to be E.164, kept as sent.
            ("12345", "12345"),
            ("04155550100", "04155550100"),
            ("415-555-0100", "415-555-0100"),
            ("1234567890123456", "1234567890123456"),
        ] {
            assert_eq!(E164::restore_plus(raw), reported, "{raw:?}");
        }
    }

    #[test]
    fn call_ids() {
        assert!(CallId::new("CA0123456789abcdef0123456789abcdef").is_ok());
        assert!(CallId::new("").is_err());
        assert!(CallId::new("a b").is_err());
        assert!(CallId::new("a\nb").is_err());
        let id: CallId = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(id.as_str(), "abc");
        assert!(serde_json::from_str::<CallId>("\"\"").is_err());
    }
}
