//! What an attempt came to, read from the carrier's final status.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use telephony_core::{AnsweredBy, CallInfo, CallStatus};

/// What one attempt came to, or how a contact ended without one.
///
/// Serialized as one lowercase string (`"no_answer"`), in events, the store and the results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// A person answered.
    Answered,
    /// An answering machine answered (machine detection said so).
    Machine,
    /// The line was busy.
    Busy,
    /// Nobody answered.
    NoAnswer,
    /// The call failed: a carrier error, an unreachable number, or a create the carrier
    /// refused.
    Failed,
    /// The call was cancelled before it was answered.
    Canceled,
    /// The do-not-call check refused the number: never dialled.
    DoNotCall,
    /// A create that may have reached the carrier when its dialer stopped (a crash, a lost
    /// response), and that neither the carrier's status nor a webhook has confirmed: never
    /// dialled again, so a person is not called twice. The results list it for a human.
    Unconfirmed,
}

impl Outcome {
    /// Every outcome, in a stable order.
    pub const ALL: [Outcome; 8] = [
        Outcome::Answered,
        Outcome::Machine,
        Outcome::Busy,
        Outcome::NoAnswer,
        Outcome::Failed,
        Outcome::Canceled,
        Outcome::DoNotCall,
        Outcome::Unconfirmed,
    ];

    /// Its name, as serialized.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Answered => "answered",
            Outcome::Machine => "machine",
            Outcome::Busy => "busy",
            Outcome::NoAnswer => "no_answer",
            Outcome::Failed => "failed",
            Outcome::Canceled => "canceled",
            Outcome::DoNotCall => "do_not_call",
            Outcome::Unconfirmed => "unconfirmed",
        }
    }

    /// The outcome a call's final state implies: `None` while the call is not over (or its
    /// status is one the adapter does not know).
    pub fn of_call(info: &CallInfo) -> Option<Outcome> {
        Outcome::of_status(&info.status, info.answered_by.as_ref())
    }

    /// The outcome a final status implies, with machine detection's verdict where known: a
    /// completed call a machine answered is [`Outcome::Machine`].
    pub fn of_status(status: &CallStatus, answered_by: Option<&AnsweredBy>) -> Option<Outcome> {
        Some(match status {
            CallStatus::Completed => match answered_by {
                Some(
                    AnsweredBy::Machine
                    | AnsweredBy::MachineEndBeep
                    | AnsweredBy::MachineGreetingEnded
                    | AnsweredBy::Fax,
                ) => Outcome::Machine,
                _ => Outcome::Answered,
            },
            CallStatus::Busy => Outcome::Busy,
            CallStatus::NoAnswer => Outcome::NoAnswer,
            CallStatus::Failed => Outcome::Failed,
            CallStatus::Canceled => Outcome::Canceled,
            _ => return None,
        })
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not an [`Outcome`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown outcome {0:?}; expected one of answered, machine, busy, no_answer, failed, canceled, do_not_call, unconfirmed"
)]
pub struct UnknownOutcome(pub String);

impl FromStr for Outcome {
    type Err = UnknownOutcome;

    fn from_str(s: &str) -> Result<Outcome, UnknownOutcome> {
        let wanted = s.trim().to_ascii_lowercase().replace('-', "_");
        Outcome::ALL
            .into_iter()
            .find(|o| o.as_str() == wanted)
            .ok_or_else(|| UnknownOutcome(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_as_strings() {
        for o in Outcome::ALL {
            assert_eq!(o.as_str().parse::<Outcome>(), Ok(o));
            assert_eq!(serde_json::to_string(&o).unwrap(), format!("\"{o}\""));
        }
        assert_eq!("no-answer".parse::<Outcome>(), Ok(Outcome::NoAnswer));
        assert!("maybe".parse::<Outcome>().is_err());
    }

    #[test]
    fn a_machine_that_completed_is_a_machine() {
        let m = Outcome::of_status(&CallStatus::Completed, Some(&AnsweredBy::MachineEndBeep));
        assert_eq!(m, Some(Outcome::Machine));
        let h = Outcome::of_status(&CallStatus::Completed, Some(&AnsweredBy::Human));
        assert_eq!(h, Some(Outcome::Answered));
        assert_eq!(Outcome::of_status(&CallStatus::Ringing, None), None);
        assert_eq!(Outcome::of_status(&CallStatus::from_raw("x"), None), None);
    }
}
