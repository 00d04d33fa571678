//! A call's life: the phases every provider has, placing a call, ringing, answering (the
//! answer document fetched and run), hang-up through the API, the status callbacks of each
//! phase, and the duration and price at the end.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use telephony::Url;
use tokio::sync::{mpsc, watch};

use super::run::run_call;
use super::{CallEntry, CallInfo, Carrier, Control, Hooks};
use crate::markup::Instruction;
use crate::record::{CallRecord, Happening};

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
    /// Run these instructions (a leg the carrier dials itself).
    Instructions(Vec<Instruction>),
}

/// What a redirected call runs next.
#[derive(Debug, Clone)]
pub(crate) enum Next {
    /// A document, given.
    Document(String),
    /// A document fetched from this URL with this method.
    Url(Url, String),
    /// Instructions, given.
    Instructions(Vec<Instruction>),
}

/// Why a call stopped what it was doing.
#[derive(Debug, Clone)]
pub(crate) enum Interrupt {
    /// Hung up through the API.
    HungUp,
    /// The far end left (the callee's time in a room ran out, a room ended).
    Left,
    /// New instructions.
    Redirect(Next),
}

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
    /// The call this leg is dialled from.
    pub(crate) parent: Option<String>,
    /// Machine detection asked for.
    pub(crate) amd: Option<super::AmdMode>,
    /// A recording asked for from the answer.
    pub(crate) record: Option<crate::markup::RecordRequest>,
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
            verdict: None,
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
                    stream_opened: None,
                    parent: dial.parent.clone(),
                    phase: watch::channel(None).0,
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
                c.phase.send_replace(Some(phase));
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

    /// A watch on a call's phase.
    pub(crate) fn watch_phase(&self, id: &str) -> Option<watch::Receiver<Option<Phase>>> {
        self.lock().calls.get(id).map(|c| c.phase.subscribe())
    }

    pub(crate) async fn phase(&self, id: &str, phase: Phase) {
        self.set_phase(id, phase);
        self.status_callback(id, phase).await;
    }
}
