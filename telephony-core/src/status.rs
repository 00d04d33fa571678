//! The normalized values a carrier's words are mapped to, each a closed set of names plus one
//! fallback for what no table knows: [`CallStatus`], [`Direction`], [`AnsweredBy`].
//!
//! Each is ONE string in JSON, both ways: a named value is its name (`"completed"`,
//! `"no-answer"`, `"machine-end-beep"`), the fallback is the provider's text exactly as sent
//! (`"EARLY MEDIA"`), and reading any string back gives the value it came from. The fallback
//! never holds one of its enum's own names: [`CallStatus::from_raw`] (and its siblings), the
//! only way to build it, and the deserializer give the named variant for those, so
//! `"completed"` is always [`CallStatus::Completed`] and no value has two spellings.
//!
//! ```
//! use telephony_core::CallStatus;
//!
//! let early = CallStatus::from_raw("EARLY MEDIA");
//! assert_eq!(serde_json::to_string(&early)?, r#""EARLY MEDIA""#);
//! assert_eq!(serde_json::from_str::<CallStatus>(r#""EARLY MEDIA""#)?, early);
//! assert_eq!(serde_json::to_string(&CallStatus::NoAnswer)?, r#""no-answer""#);
//! // A provider's text that is one of our names is that status, never the fallback.
//! assert_eq!(CallStatus::from_raw("completed"), CallStatus::Completed);
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A provider's value that no adapter table knew, exactly as sent: what
/// [`CallStatus::Unknown`], [`Direction::Unknown`] and [`AnsweredBy::Other`] hold.
///
/// It is never one of its enum's names (those are the named variants), which is why it is
/// built only through [`CallStatus::from_raw`], [`Direction::from_raw`] and
/// [`AnsweredBy::from_raw`]. Read it as a `&str` ([`as_str`](Self::as_str), `Deref`, or
/// comparing with a string).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Unrecognized(String);

impl Unrecognized {
    /// The text as the provider sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl Deref for Unrecognized {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Unrecognized {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Unrecognized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for Unrecognized {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Unrecognized {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// The names of an enum's variants, its fallback, and what follows from them: `from_raw`,
/// `as_str`, and serde as one string.
macro_rules! named_values {
    ($enum:ident, $fallback:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $enum {
            /// Every name a named variant has, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($name),+];

            /// The value a provider's text stands for when no adapter table knew it: the
            #[doc = concat!("named variant if the text is one of [`", stringify!($enum), "::NAMES`]")]
            /// (exactly, case and all), else the fallback holding the text as sent. The
            /// fallback can be built no other way, so it never holds one of those names.
            pub fn from_raw(raw: impl Into<String>) -> $enum {
                let raw = raw.into();
                match raw.as_str() {
                    $($name => $enum::$variant,)+
                    _ => $enum::$fallback(Unrecognized(raw)),
                }
            }

            /// What this value is in JSON: its name, or the provider's text for the fallback.
            pub fn as_str(&self) -> &str {
                match self {
                    $($enum::$variant => $name,)+
                    $enum::$fallback(raw) => raw.as_str(),
                }
            }
        }

        impl Serialize for $enum {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $enum {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d).map($enum::from_raw)
            }
        }
    };
}

/// Where a call is in its life, the same for every provider.
///
/// Each adapter maps its provider's values through one table; a value no table knows becomes
/// [`CallStatus::Unknown`] with the text as sent ([`CallStatus::from_raw`]), never an error.
///
/// In JSON it is one string, both ways: a named status is its name (`"in-progress"`), an
/// unknown one the provider's text as sent (`"EARLY MEDIA"`), and any string reads back as the
/// status it came from. [`Unknown`](Self::Unknown) never holds one of [`NAMES`](Self::NAMES),
/// so no status has two spellings.
///
/// ```
/// use telephony_core::CallStatus;
///
/// let early = CallStatus::from_raw("EARLY MEDIA");
/// assert_eq!(serde_json::to_string(&early)?, r#""EARLY MEDIA""#);
/// assert_eq!(serde_json::from_str::<CallStatus>(r#""EARLY MEDIA""#)?, early);
/// assert_eq!(serde_json::to_string(&CallStatus::NoAnswer)?, r#""no-answer""#);
/// // A provider's text that is one of our names is that status, never the fallback.
/// assert_eq!(CallStatus::from_raw("completed"), CallStatus::Completed);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CallStatus {
    /// Accepted by the provider, not dialled yet.
    Queued,
    /// Dialling.
    Initiated,
    /// The far end is ringing.
    Ringing,
    /// Answered and connected.
    InProgress,
    /// Ended after being answered.
    Completed,
    /// The far end was busy.
    Busy,
    /// Nobody answered.
    NoAnswer,
    /// The call could not be placed or broke (invalid number, carrier error, dropped).
    Failed,
    /// Ended before it was answered, by us.
    Canceled,
    /// A value the adapter's table does not know, as the provider sent it.
    Unknown(Unrecognized),
}

named_values!(CallStatus, Unknown {
    Queued => "queued",
    Initiated => "initiated",
    Ringing => "ringing",
    InProgress => "in-progress",
    Completed => "completed",
    Busy => "busy",
    NoAnswer => "no-answer",
    Failed => "failed",
    Canceled => "canceled",
});

impl CallStatus {
    /// Whether the call is over: no further status will follow.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            CallStatus::Completed
                | CallStatus::Busy
                | CallStatus::NoAnswer
                | CallStatus::Failed
                | CallStatus::Canceled
        )
    }

    /// Whether the call has been answered and not yet ended.
    pub fn is_connected(&self) -> bool {
        matches!(self, CallStatus::InProgress)
    }

    /// A stable name: `queued`, `in-progress`, `no-answer`, … (`unknown` for unknown values;
    /// [`as_str`](Self::as_str) gives their text).
    pub fn name(&self) -> &str {
        match self {
            CallStatus::Unknown(_) => "unknown",
            named => named.as_str(),
        }
    }
}

impl fmt::Display for CallStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallStatus::Unknown(raw) => write!(f, "unknown ({raw})"),
            other => f.write_str(other.name()),
        }
    }
}

/// Which way a call goes, seen from the account. One string in JSON, both ways, as
/// [`CallStatus`] is: `"inbound"`, `"outbound"`, or the provider's text as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Direction {
    /// Someone called one of our numbers.
    Inbound,
    /// We placed the call (by API, or by dialling out from another call).
    Outbound,
    /// A value the adapter does not know, as sent ([`Direction::from_raw`]).
    Unknown(Unrecognized),
}

named_values!(Direction, Unknown {
    Inbound => "inbound",
    Outbound => "outbound",
});

/// Who answered, when answering-machine detection ran. One string in JSON, both ways, as
/// [`CallStatus`] is: `"human"`, `"machine-end-beep"`, …, or the provider's text as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AnsweredBy {
    /// A person.
    Human,
    /// A machine, detected as soon as it answered.
    Machine,
    /// A machine, and its greeting ended with a beep: the moment to leave a message.
    MachineEndBeep,
    /// A machine, and its greeting ended without a beep (silence, or a timeout waiting for
    /// one): the moment to leave a message.
    MachineGreetingEnded,
    /// A fax machine.
    Fax,
    /// Detection ran and could not tell.
    Undetermined,
    /// A value the adapter does not know, as sent ([`AnsweredBy::from_raw`]).
    Other(Unrecognized),
}

named_values!(AnsweredBy, Other {
    Human => "human",
    Machine => "machine",
    MachineEndBeep => "machine-end-beep",
    MachineGreetingEnded => "machine-greeting-ended",
    Fax => "fax",
    Undetermined => "undetermined",
});

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Every value has one spelling, and reads back as itself.
    fn round_trips<T>(value: &T)
    where
        T: Serialize + for<'de> Deserialize<'de> + PartialEq + fmt::Debug,
    {
        let json = serde_json::to_value(value).unwrap();
        assert!(json.is_string(), "{value:?} is {json}");
        assert_eq!(&serde_json::from_value::<T>(json).unwrap(), value);
    }

    #[test]
    fn named_values_keep_their_names() {
        let statuses = [
            (CallStatus::Queued, "queued"),
            (CallStatus::Initiated, "initiated"),
            (CallStatus::Ringing, "ringing"),
            (CallStatus::InProgress, "in-progress"),
            (CallStatus::Completed, "completed"),
            (CallStatus::Busy, "busy"),
            (CallStatus::NoAnswer, "no-answer"),
            (CallStatus::Failed, "failed"),
            (CallStatus::Canceled, "canceled"),
        ];
        assert_eq!(statuses.len(), CallStatus::NAMES.len());
        for (status, name) in statuses {
            assert_eq!(serde_json::to_value(&status).unwrap(), name);
            assert_eq!(CallStatus::from_raw(name), status);
            assert_eq!(status.name(), name);
            assert_eq!(status.to_string(), name);
        }
        for (by, name) in [
            (AnsweredBy::Human, "human"),
            (AnsweredBy::Machine, "machine"),
            (AnsweredBy::MachineEndBeep, "machine-end-beep"),
            (AnsweredBy::MachineGreetingEnded, "machine-greeting-ended"),
            (AnsweredBy::Fax, "fax"),
            (AnsweredBy::Undetermined, "undetermined"),
        ] {
            assert_eq!(serde_json::to_value(&by).unwrap(), name);
            assert_eq!(AnsweredBy::from_raw(name), by);
        }
        for (d, name) in [
            (Direction::Inbound, "inbound"),
            (Direction::Outbound, "outbound"),
        ] {
            assert_eq!(serde_json::to_value(&d).unwrap(), name);
            assert_eq!(Direction::from_raw(name), d);
        }
    }

    #[test]
    fn the_fallback_is_the_text_as_sent() {
        let early = CallStatus::from_raw("EARLY MEDIA");
        assert!(matches!(&early, CallStatus::Unknown(raw) if raw == "EARLY MEDIA"));
        assert_eq!(serde_json::to_value(&early).unwrap(), "EARLY MEDIA");
        assert_eq!(early.name(), "unknown");
        assert_eq!(early.to_string(), "unknown (EARLY MEDIA)");
        // Not one of our names, case and all: kept as sent.
        let shouting = CallStatus::from_raw("COMPLETED");
        assert!(matches!(&shouting, CallStatus::Unknown(raw) if raw.as_str() == "COMPLETED"));
        // The word "unknown" and nothing at all are values like any other.
        for raw in ["unknown", ""] {
            assert!(matches!(CallStatus::from_raw(raw), CallStatus::Unknown(r) if r == raw));
        }
        let robot = AnsweredBy::from_raw("robot");
        assert_eq!(serde_json::to_string(&robot).unwrap(), r#""robot""#);
        assert_eq!(
            serde_json::from_str::<AnsweredBy>(r#""robot""#).unwrap(),
            robot
        );
        assert_eq!(
            serde_json::to_string(&Direction::from_raw("trunking-originating")).unwrap(),
            r#""trunking-originating""#
        );
        // The shape the fallback had before (an object) is not a status.
        assert!(serde_json::from_str::<CallStatus>(r#"{"unknown": "x"}"#).is_err());
    }

    /// Any text, or any of the names.
    fn raw() -> impl Strategy<Value = String> {
        let names: Vec<&str> = CallStatus::NAMES
            .iter()
            .chain(AnsweredBy::NAMES)
            .chain(Direction::NAMES)
            .copied()
            .collect();
        prop_oneof![
            any::<String>(),
            "[a-z-]{0,24}",
            proptest::sample::select(names).prop_map(str::to_owned),
        ]
    }

    proptest! {
        #[test]
        fn call_status_is_one_string_both_ways(raw in raw()) {
            let status = CallStatus::from_raw(raw.as_str());
            prop_assert_eq!(serde_json::to_value(&status).unwrap(), raw.as_str());
            prop_assert_eq!(status.as_str(), raw.as_str());
            round_trips(&status);
            // The fallback never holds a name.
            if let CallStatus::Unknown(held) = &status {
                prop_assert!(!CallStatus::NAMES.contains(&held.as_str()));
            }
        }

        #[test]
        fn answered_by_is_one_string_both_ways(raw in raw()) {
            let by = AnsweredBy::from_raw(raw.as_str());
            prop_assert_eq!(serde_json::to_value(&by).unwrap(), raw.as_str());
            round_trips(&by);
            if let AnsweredBy::Other(held) = &by {
                prop_assert!(!AnsweredBy::NAMES.contains(&held.as_str()));
            }
        }

        #[test]
        fn direction_is_one_string_both_ways(raw in raw()) {
            let d = Direction::from_raw(raw.as_str());
            prop_assert_eq!(serde_json::to_value(&d).unwrap(), raw.as_str());
            round_trips(&d);
            if let Direction::Unknown(held) = &d {
                prop_assert!(!Direction::NAMES.contains(&held.as_str()));
            }
        }
    }
}
