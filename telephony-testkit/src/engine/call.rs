//! A call's life: the phases every provider has, placing a call, ringing, answering (the
//! answer document fetched and run), hang-up through the API, the status callbacks of each
//! phase, and the duration and price at the end.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use telephony::{Decimal, Url};
use tokio::sync::{mpsc, watch};

use super::media::run_stream;
use super::{CallEntry, CallInfo, Carrier, Control, Hooks};
use crate::markup::Instruction;
use crate::record::{CallRecord, Callee, Happening, Violation};

/// A call's life, as every provider has it; each dialect names the phases its own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Initiated,
    Ringing,
    Answered,
    Completed,
    Busy,
    NoAnswer,
    Failed,
    Canceled,
}

impl Phase {
    pub(crate) fn is_final(self) -> bool {
        matches!(
            self,
            Phase::Completed | Phase::Busy | Phase::NoAnswer | Phase::Failed | Phase::Canceled
        )
    }
}

/// What answers the call.
#[derive(Debug, Clone)]
pub(crate) enum AnswerWith {
    /// Fetch this URL with this method.
    Url(Url, String),
    /// Run this document, given at creation.
    Inline(String),
    /// Announce the call at this URL (the reply is not read) and wait for the API's answer
    /// command ([`Control::Answer`]), as a carrier that takes commands does (Telnyx).
    Command(Url),
}

/// How long a call announced to the host waits for its answer command, in call time, before
/// the carrier hangs it up.
const FIRST_COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// A call to place.
#[derive(Debug, Clone)]
pub(crate) struct Dial {
    pub(crate) id: String,
    pub(crate) secondary_id: String,
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) inbound: bool,
    pub(crate) answer: AnswerWith,
    pub(crate) hooks: Hooks,
    pub(crate) ring_timeout: Option<Duration>,
}

impl Carrier {
    /// Registers a call and starts its life.
    pub(crate) fn place(self: &Arc<Self>, dial: Dial) -> (String, watch::Receiver<bool>) {
        let (done_tx, done_rx) = watch::channel(false);
        let (control_tx, control_rx) = mpsc::unbounded_channel();
        let rate = self.lock().settings.rate;
        let info = CallInfo {
            id: dial.id.clone(),
            secondary_id: dial.secondary_id.clone(),
            from: dial.from.clone(),
            to: dial.to.clone(),
            inbound: dial.inbound,
            hooks: dial.hooks.clone(),
            answered: false,
            duration_secs: None,
            price: None,
            rate,
            created: std::time::SystemTime::now(),
        };
        {
            let mut s = self.lock();
            s.order.push(dial.id.clone());
            s.calls.insert(
                dial.id.clone(),
                CallEntry {
                    record: CallRecord::new(
                        dial.id.clone(),
                        dial.inbound,
                        dial.from.clone(),
                        dial.to.clone(),
                    ),
                    info,
                    control: Some(control_tx),
                    done: done_tx,
                    created: Instant::now(),
                },
            );
        }
        let carrier = self.clone();
        let id = dial.id.clone();
        self.running.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            let c = carrier.clone();
            let id2 = dial.id.clone();
            run_call(carrier, dial, control_rx).await;
            c.running.fetch_sub(1, Ordering::SeqCst);
            let s = c.lock();
            if let Some(entry) = s.calls.get(&id2) {
                entry.done.send_replace(true);
            }
        });
        (id, done_rx)
    }

    /// Asks a live call to end (the API's hang-up). `false` when it is over already.
    pub(crate) fn hangup(&self, id: &str) -> bool {
        self.command(id, Control::Hangup)
    }

    /// Passes the API's `command` to a live call. `false` when it is over already.
    pub(crate) fn command(&self, id: &str, command: Control) -> bool {
        let s = self.lock();
        match s.calls.get(id) {
            Some(c) if !c.record.is_over() => c
                .control
                .as_ref()
                .is_some_and(|tx| tx.send(command).is_ok()),
            _ => false,
        }
    }

    fn set_phase(&self, id: &str, phase: Phase) {
        let raw = self.dialect.raw_status(phase);
        let status = self.dialect.normalize(raw);
        {
            let mut s = self.lock();
            if let Some(c) = s.calls.get_mut(id) {
                c.record.status = status.clone();
                raw.clone_into(&mut c.record.raw_status);
                if phase == Phase::Answered {
                    c.info.answered = true;
                }
            }
        }
        self.note(
            id,
            Happening::Status {
                raw: raw.to_owned(),
                status,
            },
        );
    }

    async fn status_callback(&self, id: &str, phase: Phase) {
        let Some(info) = self.info(id) else { return };
        if let Some(hook) = self.dialect.status_request(&info, phase) {
            let answered = self.send(&hook).await.map(|(s, _)| s);
            self.note(
                id,
                Happening::Callback {
                    event: self.dialect.raw_status(phase).to_owned(),
                    answered,
                },
            );
        }
    }

    async fn phase(&self, id: &str, phase: Phase) {
        self.set_phase(id, phase);
        self.status_callback(id, phase).await;
    }
}

/// Waits `call_time` (at the emulator's speed) unless the call is hung up meanwhile.
async fn wait_or_hangup(
    carrier: &Carrier,
    call_time: Duration,
    control: &mut mpsc::UnboundedReceiver<Control>,
) -> bool {
    let wall = carrier.wall(call_time);
    tokio::select! {
        () = tokio::time::sleep(wall) => false,
        c = control.recv() => matches!(c, Some(Control::Hangup)),
    }
}

/// Announces a call at `url` and waits for its answer command: the document, or `None` when
/// the call ended meanwhile (rejected, hung up, or left unanswered past
/// [`FIRST_COMMAND_TIMEOUT`]), its last phase set.
async fn await_answer_command(
    carrier: &Carrier,
    id: &str,
    url: &Url,
    control: &mut mpsc::UnboundedReceiver<Control>,
) -> Option<String> {
    let info = carrier.info(id)?;
    let hook = carrier.dialect.answer_request(&info, url, "POST");
    let reply = carrier.send(&hook).await;
    carrier.note(
        id,
        Happening::Answered {
            url: url.to_string(),
            status: reply.as_ref().map(|(s, _)| *s),
        },
    );
    tokio::select! {
        () = tokio::time::sleep(carrier.wall(FIRST_COMMAND_TIMEOUT)) => {
            carrier.phase(id, Phase::Failed).await;
            None
        }
        c = control.recv() => match c {
            Some(Control::Answer(doc)) => Some(doc),
            Some(Control::Reject) => {
                carrier.phase(id, Phase::Failed).await;
                None
            }
            Some(Control::Hangup) | None => {
                carrier.note(id, Happening::HungUp);
                carrier.phase(id, Phase::Canceled).await;
                None
            }
        }
    }
}

async fn run_call(
    carrier: Arc<Carrier>,
    dial: Dial,
    mut control: mpsc::UnboundedReceiver<Control>,
) {
    let id = dial.id.clone();
    let (ring, callee, script) = {
        let s = carrier.lock();
        let digits: String = dial.to.chars().filter(char::is_ascii_digit).collect();
        (
            s.settings.ring,
            s.settings.callees.get(&digits).copied().unwrap_or_default(),
            s.settings.script.clone(),
        )
    };
    if !dial.inbound {
        carrier.phase(&id, Phase::Initiated).await;
    }
    carrier.phase(&id, Phase::Ringing).await;
    let ring = match callee {
        Callee::NoAnswer => dial.ring_timeout.unwrap_or(Duration::from_secs(3)),
        _ => ring,
    };
    if wait_or_hangup(&carrier, ring, &mut control).await {
        carrier.note(&id, Happening::HungUp);
        carrier.phase(&id, Phase::Canceled).await;
        return;
    }
    match callee {
        Callee::Busy => return carrier.phase(&id, Phase::Busy).await,
        Callee::NoAnswer => return carrier.phase(&id, Phase::NoAnswer).await,
        Callee::Fail => return carrier.phase(&id, Phase::Failed).await,
        _ => {}
    }
    let commanded = match &dial.answer {
        AnswerWith::Command(url) => {
            match await_answer_command(&carrier, &id, url, &mut control).await {
                Some(doc) => Some(doc),
                None => return,
            }
        }
        _ => None,
    };
    let answered_at = Instant::now();
    carrier.phase(&id, Phase::Answered).await;
    let document = match &dial.answer {
        AnswerWith::Command(_) => commanded,
        AnswerWith::Inline(doc) => {
            carrier.note(
                &id,
                Happening::Answered {
                    url: "inline".into(),
                    status: None,
                },
            );
            Some(doc.clone())
        }
        AnswerWith::Url(url, method) => {
            let info = carrier.info(&id);
            match info {
                Some(info) => {
                    let hook = carrier.dialect.answer_request(&info, url, method);
                    let answer = carrier.send(&hook).await;
                    carrier.note(
                        &id,
                        Happening::Answered {
                            url: url.to_string(),
                            status: answer.as_ref().map(|(s, _)| *s),
                        },
                    );
                    answer
                        .filter(|(s, _)| (200..300).contains(s))
                        .map(|(_, b)| b)
                }
                None => None,
            }
        }
    };
    let instructions = match document.map(|d| carrier.dialect.parse_answer(&d)) {
        Some(Ok(i)) => i,
        Some(Err(e)) => {
            carrier.note(
                &id,
                Happening::Violation(Violation::Malformed(format!("answer: {e}"))),
            );
            Vec::new()
        }
        None => Vec::new(),
    };
    let mut hung_up = false;
    for instruction in instructions {
        match instruction {
            Instruction::Say(text) => {
                let length = Duration::from_millis(60 * text.chars().count() as u64);
                carrier.note(&id, Happening::Said(text));
                if wait_or_hangup(&carrier, length, &mut control).await {
                    hung_up = true;
                }
            }
            Instruction::Pause(d) => {
                if wait_or_hangup(&carrier, d, &mut control).await {
                    hung_up = true;
                }
            }
            Instruction::Stream(target) => {
                if run_stream(&carrier, &id, &target, &script, &mut control).await {
                    hung_up = true;
                }
            }
            Instruction::Hangup => break,
            Instruction::Other(_) => {}
        }
        if hung_up {
            carrier.note(&id, Happening::HungUp);
            break;
        }
    }
    let seconds = carrier
        .call_time(answered_at.elapsed())
        .as_secs_f64()
        .ceil()
        .max(1.0) as u64;
    {
        let mut s = carrier.lock();
        if let Some(c) = s.calls.get_mut(&id) {
            let minutes = Decimal::from(seconds.div_ceil(60));
            let price = c.info.rate * minutes;
            c.info.duration_secs = Some(seconds);
            c.info.price = Some(price);
            c.record.duration = Some(Duration::from_secs(seconds));
            c.record.price = Some(price);
        }
    }
    carrier.phase(&id, Phase::Completed).await;
}
