//! What `telephony campaign run` prints as the campaign goes: a line per finished attempt, the campaign's state, and progress redrawn in place on a terminal.

use std::fmt::Write as _;
use std::io::{IsTerminal as _, Write as _};
use std::time::{Duration, SystemTime};

use telephony_campaign::store::from_millis;
use telephony_campaign::{CampaignState, DialerEvent, Progress};

use crate::calls::out;

use super::{one_line, timestamp};

/// What `run` prints as the campaign goes.
pub(super) struct View {
    quiet: bool,
    pub(super) tty: bool,
    /// A progress line is on the terminal, to clear before anything else is printed.
    drawn: bool,
    /// The campaign's state as the dialer last reported it.
    state: Option<CampaignState>,
    id: String,
    names: String,
}

impl View {
    pub(super) fn new(quiet: bool, id: &str, names: &str) -> View {
        View {
            quiet,
            tty: std::io::stderr().is_terminal(),
            drawn: false,
            state: None,
            id: id.to_owned(),
            names: names.to_owned(),
        }
    }

    /// Takes the progress line off the terminal.
    pub(super) fn clear(&mut self) {
        if self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
            self.drawn = false;
        }
    }

    pub(super) fn event(&mut self, event: DialerEvent) {
        match event {
            DialerEvent::Ended {
                number,
                result,
                retry_at,
            } => {
                if self.quiet {
                    return;
                }
                let mut line = format!("{number} {} attempt {}", result.outcome, result.attempts);
                match (&result.call_id, result.duration_secs) {
                    (Some(id), Some(secs)) => {
                        let _ = write!(line, " ({id}, {secs} s)");
                    }
                    (Some(id), None) => {
                        let _ = write!(line, " ({id})");
                    }
                    (None, _) => {}
                }
                if let Some(detail) = &result.detail {
                    let _ = write!(line, ": {}", one_line(detail));
                }
                if let Some(at) = retry_at {
                    let _ = write!(line, ", retry at {}", timestamp(at));
                }
                self.clear();
                out(line);
            }
            DialerEvent::State(state) => {
                let before = self.state.replace(state);
                let note = match state {
                    CampaignState::Paused => format!(
                        "campaign {} is paused: waiting for `telephony campaign resume {}`",
                        self.id, self.names
                    ),
                    CampaignState::Cancelled => format!(
                        "campaign {} is cancelled: calls under way end, then this stops",
                        self.id
                    ),
                    // Running from the start goes without saying.
                    CampaignState::Running if before.is_none() => return,
                    CampaignState::Running => format!("campaign {} is running again", self.id),
                };
                self.clear();
                eprintln!("{note}");
            }
            DialerEvent::StoreError(e) => {
                self.clear();
                eprintln!("telephony: {} (trying again)", one_line(&e));
            }
            DialerEvent::Reconciling { number, attempt } => {
                self.clear();
                eprintln!(
                    "{number}: attempt {} was left under way by a dialer that stopped; settling \
                     it from the carrier, not dialling again",
                    attempt.number
                );
            }
            // Dialing, Placed and Deferred show in the counts.
            _ => {}
        }
    }

    pub(super) fn progress(&mut self, p: &Progress, cps: f64) {
        let mut line = String::new();
        if let Some(state) = p.state.filter(|s| *s != CampaignState::Running) {
            let _ = write!(line, "{state}  ");
        }
        let _ = write!(
            line,
            "dialled {}  in progress {}  retrying {}  done {}/{}  {cps:.1} calls/s",
            p.dialled, p.in_progress, p.retrying, p.done, p.total
        );
        // Nothing under way, and the next contact not due yet: a retry's delay, or a calling
        // window that is closed.
        if p.in_progress == 0
            && let Some(due) = p.next_due_ms.map(from_millis)
            && due > SystemTime::now() + Duration::from_secs(1)
        {
            let _ = write!(line, "  next call at {}", timestamp(due));
        }
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r\x1b[K{line}");
            let _ = err.flush();
            self.drawn = true;
        } else {
            let _ = writeln!(err, "{line}");
        }
    }
}
