//! A contact: a number to call, its own variables and, where known, its time zone.

use serde::{Deserialize, Serialize};
use telephony_core::E164;

/// One person to call: an E.164 number, the variables its call's stream receives as
/// parameters (a name, an order number), and the IANA time zone its calling window is read in
/// (the campaign's default zone when `None`).
///
/// A campaign holds each number once: a number listed twice is one contact, the first row's.
///
/// ```
/// use telephony_campaign::Contact;
///
/// let contact = Contact::new("+14155550100".parse()?)
///     .var("first_name", "Ada")
///     .time_zone("America/Los_Angeles");
/// assert_eq!(contact.vars, [("first_name".to_owned(), "Ada".to_owned())]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Contact {
    /// Who to call.
    pub number: E164,
    /// Name/value pairs delivered to the call's media stream, in order.
    #[serde(default)]
    pub vars: Vec<(String, String)>,
    /// The IANA zone the callee lives in (`Europe/Paris`).
    #[serde(default)]
    pub time_zone: Option<String>,
}

impl Contact {
    /// A contact with no variables, in the campaign's default zone.
    pub fn new(number: E164) -> Contact {
        Contact {
            number,
            vars: Vec::new(),
            time_zone: None,
        }
    }

    /// Adds a variable.
    pub fn var(mut self, name: impl Into<String>, value: impl Into<String>) -> Contact {
        self.vars.push((name.into(), value.into()));
        self
    }

    /// Sets the callee's IANA time zone.
    pub fn time_zone(mut self, zone: impl Into<String>) -> Contact {
        self.time_zone = Some(zone.into());
        self
    }
}
