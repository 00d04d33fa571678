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

/// Which leg a transfer callback is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferLeg {
    /// The new leg to the target.
    Target,
    /// The caller being moved.
    Caller,
}

/// What a transfer's callbacks carry, so the next step needs no state: the transfer's id
/// (its room), the caller, and what the target hears first. Adapters put it in the callback
/// URL's query ([`to_query`](Self::to_query)), where the carrier signs it, or in client state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TransferRef {
    /// The transfer's id, also its room name: `xfer-…`.
    pub id: String,
    /// The caller's call.
    pub caller: CallId,
    /// Which leg the callback is about.
    pub leg: TransferLeg,
    /// What the target hears before being bridged.
    pub brief: Option<Brief>,
    /// What the caller hears while being connected.
    pub hold: Option<Url>,
    /// What a cold transfer's caller hears when the target is not reached, before the call
    /// ends.
    pub fallback: Option<String>,
    /// The target, where a later step dials it (Plivo reads the dial from a document the host
    /// serves).
    pub target: Option<TransferTarget>,
    /// The caller id the target sees, where a later step dials it.
    pub caller_id: Option<E164>,
    /// The target's ring timeout in seconds, where a later step dials it.
    pub timeout_secs: Option<u64>,
    /// Whether the transfer is warm (cold otherwise).
    pub warm: bool,
}

const Q_ID: &str = "telephony_transfer";
const Q_CALLER: &str = "telephony_caller";
const Q_LEG: &str = "telephony_leg";
const Q_SAY: &str = "telephony_say";
const Q_PLAY: &str = "telephony_play";
const Q_HOLD: &str = "telephony_hold";
const Q_FALLBACK: &str = "telephony_fallback";
const Q_TARGET: &str = "telephony_target";
const Q_HEADER: &str = "telephony_header";
const Q_FROM: &str = "telephony_from";
const Q_TIMEOUT: &str = "telephony_timeout";
const Q_MODE: &str = "telephony_mode";

impl TransferRef {
    /// A reference for a new warm transfer of `caller`, with a fresh room name.
    pub fn new(caller: CallId, brief: Option<Brief>, hold: Option<Url>) -> TransferRef {
        TransferRef {
            id: fresh_room(),
            caller,
            leg: TransferLeg::Target,
            brief,
            hold,
            fallback: None,
            target: None,
            caller_id: None,
            timeout_secs: None,
            warm: true,
        }
    }

    /// A reference for `transfer` of `caller`, about `leg`, carrying everything a later step
    /// may need: the brief and hold audio of a warm one, the fallback of a cold one, the
    /// target, caller id and timeout.
    pub fn for_transfer(caller: CallId, transfer: &Transfer, leg: TransferLeg) -> TransferRef {
        let (brief, hold) = match &transfer.mode {
            TransferMode::Warm { brief, hold } => (brief.clone(), hold.clone()),
            TransferMode::Cold => (None, None),
        };
        let fallback = match &transfer.on_no_answer {
            NoAnswer::SayAndHangup(text) if !transfer.is_warm() => Some(text.clone()),
            _ => None,
        };
        TransferRef {
            leg,
            fallback,
            target: Some(transfer.target.clone()),
            caller_id: transfer.caller_id.clone(),
            timeout_secs: Some(transfer.timeout_secs()),
            warm: transfer.is_warm(),
            ..TransferRef::new(caller, brief, hold)
        }
    }

    /// The same transfer, about another leg.
    pub fn for_leg(&self, leg: TransferLeg) -> TransferRef {
        TransferRef {
            leg,
            ..self.clone()
        }
    }

    /// `url` with this reference in its query (other parameters kept).
    pub fn to_query(&self, url: &Url) -> Url {
        let mut url = url.clone();
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !k.starts_with("telephony_"))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        {
            let mut q = url.query_pairs_mut();
            q.clear();
            for (k, v) in &kept {
                q.append_pair(k, v);
            }
            q.append_pair(Q_ID, &self.id);
            q.append_pair(Q_CALLER, self.caller.as_str());
            q.append_pair(
                Q_LEG,
                match self.leg {
                    TransferLeg::Target => "target",
                    TransferLeg::Caller => "caller",
                },
            );
            match &self.brief {
                Some(Brief::Say(t)) => {
                    q.append_pair(Q_SAY, t);
                }
                Some(Brief::Play(u)) => {
                    q.append_pair(Q_PLAY, u.as_str());
                }
                None => {}
            }
            if let Some(h) = &self.hold {
                q.append_pair(Q_HOLD, h.as_str());
            }
            if let Some(f) = &self.fallback {
                q.append_pair(Q_FALLBACK, f);
            }
            if let Some(t) = &self.target {
                q.append_pair(Q_TARGET, t.address());
                if let TransferTarget::Sip(sip) = t {
                    for (k, v) in &sip.headers {
                        q.append_pair(Q_HEADER, &format!("{k}:{v}"));
                    }
                }
            }
            if let Some(n) = &self.caller_id {
                q.append_pair(Q_FROM, n.as_str());
            }
            if let Some(t) = self.timeout_secs {
                q.append_pair(Q_TIMEOUT, &t.to_string());
            }
            if !self.warm {
                q.append_pair(Q_MODE, "cold");
            }
        }
        url
    }

    /// The reference in `url`'s query, if it carries one.
    pub fn from_query(url: &Url) -> Option<TransferRef> {
        let (mut id, mut caller, mut leg, mut brief, mut hold) = (None, None, None, None, None);
        let (mut fallback, mut target, mut caller_id, mut timeout_secs) = (None, None, None, None);
        let mut warm = true;
        let mut headers: Vec<(String, String)> = Vec::new();
        for (k, v) in url.query_pairs() {
            match &*k {
                Q_ID => id = Some(v.into_owned()),
                Q_CALLER => caller = CallId::new(v.into_owned()).ok(),
                Q_LEG => {
                    leg = match &*v {
                        "target" => Some(TransferLeg::Target),
                        "caller" => Some(TransferLeg::Caller),
                        _ => None,
                    }
                }
                Q_SAY => brief = Some(Brief::Say(v.into_owned())),
                Q_PLAY => brief = Url::parse(&v).ok().map(Brief::Play),
                Q_HOLD => hold = Url::parse(&v).ok(),
                Q_FALLBACK => fallback = Some(v.into_owned()),
                Q_TARGET => target = v.parse::<TransferTarget>().ok(),
                Q_HEADER => {
                    if let Some((k, v)) = v.split_once(':') {
                        headers.push((k.to_owned(), v.to_owned()));
                    }
                }
                Q_FROM => caller_id = E164::new(&v).ok(),
                Q_TIMEOUT => timeout_secs = v.parse::<u64>().ok().map(|t| t.clamp(5, 600)),
                Q_MODE => warm = v != "cold",
                _ => {}
            }
        }
        if let Some(TransferTarget::Sip(sip)) = &mut target {
            for (k, v) in headers {
                *sip = sip.clone().header(&k, &v).ok()?;
            }
        }
        let id = id.filter(|i| valid_room(i))?;
        Some(TransferRef {
            id,
            caller: caller?,
            leg: leg?,
            brief,
            hold,
            fallback,
            target,
            caller_id,
            timeout_secs,
            warm,
        })
    }
}

/// Whether `id` is a room name this library makes: `xfer-` and up to 64 letters, digits or
/// `-`, safe in any carrier's conference name and path.
pub fn valid_room(id: &str) -> bool {
    id.len() <= 69
        && id.strip_prefix("xfer-").is_some_and(|r| {
            !r.is_empty() && r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// A fresh room name: `xfer-` and 32 hex digits from the system's randomness.
fn fresh_room() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut out = String::from("xfer-");
    for _ in 0..2 {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
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
    fn refs_round_trip_through_a_query() {
        let base = Url::parse("https://agent.example.com/status?tenant=7&telephony_leg=x").unwrap();
        let r = TransferRef::new(
            CallId::new("CA1").unwrap(),
            Some(Brief::Say("A caller & a refund?".into())),
            Some(Url::parse("https://x.example/hold.mp3").unwrap()),
        );
        assert!(valid_room(&r.id), "{}", r.id);
        let url = r.to_query(&base);
        assert_eq!(url.query_pairs().filter(|(k, _)| k == "tenant").count(), 1);
        assert_eq!(TransferRef::from_query(&url), Some(r.clone()));
        let sip = SipTarget::new("sip:desk@pbx.example.com")
            .unwrap()
            .header("Case", "a:b")
            .unwrap();
        let cold = Transfer::cold(sip.into())
            .caller_id(E164::new("+14155550100").unwrap())
            .timeout(Duration::from_secs(20))
            .on_no_answer(NoAnswer::SayAndHangup("Sorry.".into()));
        let c = TransferRef::for_transfer(CallId::new("CA2").unwrap(), &cold, TransferLeg::Caller);
        assert_eq!(c.fallback.as_deref(), Some("Sorry."));
        assert_eq!(c.timeout_secs, Some(20));
        assert!(!c.warm);
        assert_eq!(TransferRef::from_query(&c.to_query(&base)), Some(c));
        let caller = r.for_leg(TransferLeg::Caller);
        assert_eq!(
            TransferRef::from_query(&caller.to_query(&url)),
            Some(caller)
        );
        assert_eq!(TransferRef::from_query(&base), None);
        assert_ne!(TransferRef::new(r.caller.clone(), None, None).id, r.id);
        let forged = Url::parse("https://a.example/?telephony_transfer=room%3Cx%3E&telephony_caller=CA1&telephony_leg=target").unwrap();
        assert_eq!(TransferRef::from_query(&forged), None);
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
