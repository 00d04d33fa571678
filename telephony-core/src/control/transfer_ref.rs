//! A transfer's state, carried by its callbacks ([`TransferRef`]): which caller, which room,
//! what the target hears first, written into a callback URL's query (where the carrier's
//! signature covers it) and read back, so any replica takes the next step.

use serde::{Deserialize, Serialize};
use url::Url;

use super::transfer::{Brief, NoAnswer, Transfer, TransferMode, TransferTarget};
use crate::id::{CallId, E164};

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
    use std::time::Duration;

    use super::*;
    use crate::control::SipTarget;

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
}
