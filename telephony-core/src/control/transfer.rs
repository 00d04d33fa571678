//! Transfer: handing the caller to a person, cold or warm, and the events that follow.
//!
//! A transfer is carried by the carrier and by callbacks, never by state in the adapter: what
//! a later callback needs (which caller, which room, the brief) travels in the callback's URL
//! or the carrier's client state ([`TransferRef`]), signed like every webhook, so any replica
//! can take the next step.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::Error;
use crate::id::{CallId, E164};

/// Where a transfer goes: a phone number, or a SIP address with optional headers.
///
/// ```
/// use telephony_core::TransferTarget;
///
/// let person: TransferTarget = "+14155550123".parse()?;
/// let desk: TransferTarget = "sip:desk@pbx.example.com".parse()?;
/// assert!(matches!(person, TransferTarget::Number(_)));
/// assert_eq!(desk.to_string(), "sip:desk@pbx.example.com");
/// assert!("desk@pbx".parse::<TransferTarget>().is_err());
/// # Ok::<(), telephony_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TransferTarget {
    /// A phone number.
    Number(E164),
    /// A SIP endpoint.
    Sip(SipTarget),
}

impl TransferTarget {
    /// The target as a carrier's `to` takes it: the number, or the SIP URI.
    pub fn address(&self) -> &str {
        match self {
            TransferTarget::Number(n) => n.as_str(),
            TransferTarget::Sip(s) => s.uri(),
        }
    }
}

impl fmt::Display for TransferTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.address())
    }
}

impl FromStr for TransferTarget {
    type Err = Error;

    /// `sip:…`/`sips:…` is a SIP target; anything else must be an E.164 number.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if is_sip(s) {
            return SipTarget::new(s).map(TransferTarget::Sip);
        }
        Ok(TransferTarget::Number(E164::new(s)?))
    }
}

impl From<E164> for TransferTarget {
    fn from(n: E164) -> TransferTarget {
        TransferTarget::Number(n)
    }
}

impl From<SipTarget> for TransferTarget {
    fn from(s: SipTarget) -> TransferTarget {
        TransferTarget::Sip(s)
    }
}

/// A SIP URI to transfer to, with headers to send on the INVITE (carriers send them as
/// `X-` headers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SipTarget {
    uri: String,
    /// Header names (without the `X-` prefix a carrier adds) and values, in order.
    pub headers: Vec<(String, String)>,
}

impl SipTarget {
    /// A `sip:` or `sips:` URI with a user part and a host: `sip:desk@pbx.example.com`.
    pub fn new(uri: &str) -> Result<SipTarget, Error> {
        let uri = uri.trim();
        let bad = |why: &str| Error::invalid_request(format!("SIP target {uri:?}: {why}"));
        let rest = if let Some(rest) = strip_prefix_ignore_case(uri, "sips:") {
            rest
        } else if let Some(rest) = strip_prefix_ignore_case(uri, "sip:") {
            rest
        } else {
            return Err(bad("expected sip: or sips:"));
        };
        if uri.len() > 512 {
            return Err(bad("longer than 512 characters"));
        }
        if uri
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '<' | '>' | '"'))
        {
            return Err(bad("spaces, quotes, angle brackets or control characters"));
        }
        let host = match rest.split_once('@') {
            Some((user, host)) if !user.is_empty() => host,
            _ => return Err(bad("expected user@host")),
        };
        let host = host.split([';', '?']).next().unwrap_or("");
        if host.is_empty() || host.starts_with(':') {
            return Err(bad("no host"));
        }
        Ok(SipTarget {
            uri: uri.to_owned(),
            headers: Vec::new(),
        })
    }

    /// Adds a header; names are letters, digits and `-`, values printable text.
    pub fn header(mut self, name: &str, value: &str) -> Result<SipTarget, Error> {
        let name = name.trim();
        let name = name
            .strip_prefix("X-")
            .or_else(|| name.strip_prefix("x-"))
            .unwrap_or(name);
        if name.is_empty()
            || name.len() > 64
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(Error::invalid_request(format!("SIP header name {name:?}")));
        }
        if value.len() > 256 || value.chars().any(|c| c.is_control()) {
            return Err(Error::invalid_request(format!(
                "SIP header {name}: value longer than 256 characters or with control characters"
            )));
        }
        self.headers.push((name.to_owned(), value.to_owned()));
        Ok(self)
    }

    /// The URI.
    pub fn uri(&self) -> &str {
        &self.uri
    }
}

/// `s` without `prefix`, compared without case (never slicing inside a character).
fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Whether `s` is a SIP address (`sip:…` or `sips:…`, any case): what a target that is not a
/// number must be.
pub fn is_sip(s: &str) -> bool {
    strip_prefix_ignore_case(s, "sip:").is_some() || strip_prefix_ignore_case(s, "sips:").is_some()
}

/// What the target hears before being bridged to the caller (a warm transfer's brief); the
/// caller never hears it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Brief {
    /// Text to speech.
    Say(String),
    /// An audio file to play.
    Play(Url),
}

/// Cold or warm.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransferMode {
    /// The call leaves the agent's stream at once and rings the target.
    Cold,
    /// The target is dialled on a new leg while the caller stays with the agent; once it
    /// answers, it hears the brief, then the caller is moved to it (hearing `hold` meanwhile,
    /// where the carrier plays one). If it does not answer, the caller never left the agent.
    Warm {
        /// What the target hears first.
        brief: Option<Brief>,
        /// Audio the caller hears while being connected (carrier's default when `None`).
        hold: Option<Url>,
    },
}

/// What a cold transfer does when the target does not answer, is busy or fails.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoAnswer {
    /// End the call.
    Hangup,
    /// Say this to the caller, then end the call.
    SayAndHangup(String),
}

/// A transfer to ask for ([`TelephonyProvider::transfer`](crate::TelephonyProvider::transfer)).
///
/// ```
/// use std::time::Duration;
/// use telephony_core::{Brief, Transfer};
///
/// let t = Transfer::warm("+14155550123".parse()?, Some(Brief::Say("A caller about a refund.".into())))
///     .timeout(Duration::from_secs(25))
///     .events("https://agent.example.com/status".parse()?);
/// assert!(t.is_warm());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Transfer {
    /// Where to.
    pub target: TransferTarget,
    /// Cold or warm.
    pub mode: TransferMode,
    /// The caller id the target sees; by default a number of ours the carrier picks (the
    /// called number of an inbound call, the caller id of an outbound one).
    pub caller_id: Option<E164>,
    /// How long the target may ring.
    pub timeout: Option<Duration>,
    /// A cold transfer's fallback.
    pub on_no_answer: NoAnswer,
    /// Where the transfer's callbacks go: the host's status callback URL. Required for a warm
    /// transfer (its steps are taken there); a cold one reports its result there when set.
    pub events: Option<Url>,
}

impl Transfer {
    /// A cold transfer to `target`.
    pub fn cold(target: TransferTarget) -> Transfer {
        Transfer {
            target,
            mode: TransferMode::Cold,
            caller_id: None,
            timeout: None,
            on_no_answer: NoAnswer::Hangup,
            events: None,
        }
    }

    /// A warm transfer to `target`, with a brief for it.
    pub fn warm(target: TransferTarget, brief: Option<Brief>) -> Transfer {
        Transfer {
            mode: TransferMode::Warm { brief, hold: None },
            ..Transfer::cold(target)
        }
    }

    /// Sets the caller id.
    pub fn caller_id(mut self, number: E164) -> Transfer {
        self.caller_id = Some(number);
        self
    }

    /// Sets the ring timeout.
    pub fn timeout(mut self, timeout: Duration) -> Transfer {
        self.timeout = Some(timeout);
        self
    }

    /// Sets the cold fallback.
    pub fn on_no_answer(mut self, fallback: NoAnswer) -> Transfer {
        self.on_no_answer = fallback;
        self
    }

    /// Sets where the transfer's callbacks go.
    pub fn events(mut self, url: Url) -> Transfer {
        self.events = Some(url);
        self
    }

    /// Sets the caller's hold audio (warm only).
    pub fn hold(mut self, url: Url) -> Transfer {
        if let TransferMode::Warm { hold, .. } = &mut self.mode {
            *hold = Some(url);
        }
        self
    }

    /// Whether it is warm.
    pub fn is_warm(&self) -> bool {
        matches!(self.mode, TransferMode::Warm { .. })
    }

    /// The ring timeout in whole seconds, within 5..=600 (30 by default), as carriers take it.
    pub fn timeout_secs(&self) -> u64 {
        self.timeout.map_or(30, |t| t.as_secs().clamp(5, 600))
    }

    /// The checks every adapter makes before any request: a warm transfer needs `events`.
    pub fn check(&self) -> Result<(), Error> {
        if self.is_warm() && self.events.is_none() {
            return Err(Error::invalid_request(
                "a warm transfer needs an events URL (Transfer::events): its steps are taken there",
            ));
        }
        if let TransferMode::Warm {
            brief: Some(Brief::Say(text)),
            ..
        } = &self.mode
            && text.chars().count() > 1000
        {
            return Err(Error::invalid_request(
                "a brief longer than 1000 characters",
            ));
        }
        Ok(())
    }
}

/// What a transfer request started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TransferStarted {
    /// The transfer's id: the room (conference) name of a warm transfer, the call's id for a
    /// cold one.
    pub transfer_id: String,
    /// The new leg to the target, where the carrier made one at once (warm).
    pub target_call: Option<CallId>,
}

impl TransferStarted {
    /// A record.
    pub fn new(transfer_id: impl Into<String>, target_call: Option<CallId>) -> TransferStarted {
        TransferStarted {
            transfer_id: transfer_id.into(),
            target_call,
        }
    }
}

/// Why a transfer did not reach the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TransferFailure {
    /// The target was busy.
    Busy,
    /// Nobody answered in time.
    NoAnswer,
    /// The call to the target failed (invalid number, rejected, carrier error).
    Failed,
    /// The caller hung up before the target was bridged.
    CallerGone,
}

impl fmt::Display for TransferFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransferFailure::Busy => "busy",
            TransferFailure::NoAnswer => "no-answer",
            TransferFailure::Failed => "failed",
            TransferFailure::CallerGone => "caller-gone",
        })
    }
}

/// One step of a transfer, as the callbacks report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum TransferEvent {
    /// The target's leg exists and is being dialled.
    TransferStarted,
    /// The target is ringing.
    TransferRinging,
    /// The target answered (a warm transfer's brief plays now).
    TransferAnswered,
    /// The target heard the brief (where the carrier reports its end: Telnyx's
    /// `call.speak.ended`); the caller is moved to it next.
    BriefEnded,
    /// The target was not reached; a warm transfer's caller is still with the agent.
    TransferFailed {
        /// Why.
        reason: TransferFailure,
        /// The carrier's words for it.
        raw: String,
    },
    /// The caller and the target are connected.
    Bridged,
    /// The target's leg ended after it was bridged or answered.
    TargetEnded,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse() {
        assert!(matches!(
            "+442079460000".parse::<TransferTarget>(),
            Ok(TransferTarget::Number(_))
        ));
        assert!(matches!(
            "SIP:a@b.example".parse::<TransferTarget>(),
            Ok(TransferTarget::Sip(_))
        ));
        assert!(matches!(
            "sips:a@b.example;transport=tls".parse::<TransferTarget>(),
            Ok(TransferTarget::Sip(_))
        ));
        for bad in [
            "sip:",
            "sip:@host",
            "sip:user@",
            "sip:a b@c",
            "4420",
            "sip:a@b\"c",
            "sip:a@<b>",
            "sié",
            "siéé:a@b",
            "é",
            "sips",
        ] {
            assert!(bad.parse::<TransferTarget>().is_err(), "{bad}");
            assert!(SipTarget::new(bad).is_err(), "{bad}");
        }
        let s = SipTarget::new("sip:a@b")
            .unwrap()
            .header("X-Case", "42")
            .unwrap();
        assert_eq!(s.headers, vec![("Case".to_owned(), "42".to_owned())]);
        assert!(
            SipTarget::new("sip:a@b")
                .unwrap()
                .header("bad name", "1")
                .is_err()
        );
        assert!(
            SipTarget::new("sip:a@b")
                .unwrap()
                .header("Ok", "a\r\nb")
                .is_err()
        );
    }

    #[test]
    fn warm_needs_events() {
        let t = Transfer::warm("+14155550123".parse().unwrap(), None);
        assert!(t.check().is_err());
        assert!(
            t.events(Url::parse("https://a.example/s").unwrap())
                .check()
                .is_ok()
        );
        assert!(
            Transfer::cold("+14155550123".parse().unwrap())
                .check()
                .is_ok()
        );
    }
}
