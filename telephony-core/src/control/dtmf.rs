//! Digits to press on a live call.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// DTMF to send: `0`–`9`, `*`, `#`, `A`–`D`, and `w` (half a second's pause) or `W` (a
/// second's), at most 64. A carrier that takes fewer of these refuses the rest before any
/// request ([`Dtmf::check`]).
///
/// ```
/// use telephony_core::Dtmf;
///
/// let d = Dtmf::new("1w2#")?;
/// assert_eq!(d.as_str(), "1w2#");
/// assert!(Dtmf::new("12e").is_err());
/// assert!(Dtmf::new("").is_err());
/// # Ok::<(), telephony_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Dtmf(String);

impl Dtmf {
    /// Validates digits.
    pub fn new(digits: &str) -> Result<Dtmf, Error> {
        let d = digits.trim();
        if d.is_empty() || d.len() > 64 {
            return Err(Error::invalid_request(format!(
                "DTMF {d:?}: 1 to 64 digits"
            )));
        }
        if let Some(c) = d.chars().find(|c| !Dtmf::allowed(*c)) {
            return Err(Error::invalid_request(format!(
                "DTMF {d:?}: {c:?} is not 0-9, *, #, A-D, w or W"
            )));
        }
        Ok(Dtmf(d.to_owned()))
    }

    fn allowed(c: char) -> bool {
        c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D' | 'w' | 'W')
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Refuses digits outside `allowed` (a carrier's set), naming the carrier's rule.
    pub fn check(&self, allowed: impl Fn(char) -> bool, rule: &str) -> Result<(), Error> {
        match self.0.chars().find(|c| !allowed(*c)) {
            Some(c) => Err(Error::invalid_request(format!(
                "DTMF {:?}: {c:?} not accepted ({rule})",
                self.0
            ))),
            None => Ok(()),
        }
    }
}

impl fmt::Display for Dtmf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Dtmf {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dtmf::new(s)
    }
}

impl TryFrom<String> for Dtmf {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Dtmf::new(&s)
    }
}

impl From<Dtmf> for String {
    fn from(d: Dtmf) -> String {
        d.0
    }
}

/// How the digits went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DtmfRoute {
    /// Through the carrier's API.
    Rest,
    /// As tones on the media stream: send them with
    /// [`MediaSession`](crate::MediaSession)'s DTMF (the stream's `MediaCommand::SendDtmf`).
    MediaStream,
}
