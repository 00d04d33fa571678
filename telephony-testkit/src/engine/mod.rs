//! The carrier every fake shares: calls and their state machine, the webhooks it sends, the
//! media stream it runs as the provider would, the faults it can inject, and its HTTP server.
//!
//! Here, the carrier and the state behind it; [`call`] runs a call's life, [`media`] a media
//! stream, [`http`] the HTTP side (serving, webhooks sent, faults), [`dialect`] is what each
//! provider plugs in, and [`fake`] the handle every fake derefs to.

mod call;
mod control;
mod dialect;
mod fake;
mod http;
mod media;
mod run;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use telephony::{Decimal, Url};
use tokio::sync::{mpsc, watch};

use crate::record::{CallRecord, Callee, Happening, Moment};
use crate::script::CallerScript;

pub(crate) use call::{AnswerWith, Dial, Next, Phase};
pub use control::Recording;
pub(crate) use control::{AmdMode, AmdVerdict};
pub(crate) use dialect::{AgentSays, CallInfo, DialOutcome, Dialect, Hooks, MediaDialect};
pub use fake::{CreateRate, Fake, NumberFeatures};
pub use http::{Fault, Operation};
pub(crate) use http::{Webhook, basic_auth, bind, exact, fault_response, serve};

/// The emulator's knobs.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Wall time per 20 ms of call audio: 20 ms is real time; less runs faster.
    pub(crate) frame: Duration,
    /// How long calls ring, in call time.
    pub(crate) ring: Duration,
    /// Who answers which number (digits): the default is [`Callee::Answer`].
    pub(crate) callees: HashMap<String, Callee>,
    /// What callers say.
    pub(crate) script: CallerScript,
    /// What a minute costs.
    pub(crate) rate: Decimal,
    /// The account's balance, in the carrier's currency, as its balance API reports it.
    pub(crate) balance: Decimal,
    /// Faults: responses to fail, a delay, a stream to drop.
    pub(crate) delay: Duration,
    pub(crate) drop_stream_after: Option<Duration>,
    /// How far the carrier's clock is from this machine's, and whether ahead: every REST
    /// answer's `Date` header is shifted by it.
    pub(crate) clock_skew: (Duration, bool),
    /// How long a member stays in a room once it started, in call time, before leaving (the
    /// person a call was transferred to, talking with the caller).
    pub(crate) room_stay: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            frame: Duration::from_millis(20),
            ring: Duration::from_millis(200),
            callees: HashMap::new(),
            script: CallerScript::default(),
            rate: Decimal::new(140, 4),
            balance: Decimal::new(2000, 2),
            delay: Duration::ZERO,
            drop_stream_after: None,
            clock_skew: (Duration::ZERO, true),
            room_stay: Duration::from_secs(2),
        }
    }
}

#[derive(Debug)]
pub(crate) struct CallEntry {
    pub(crate) record: CallRecord,
    pub(crate) info: CallInfo,
    pub(crate) control: Option<mpsc::UnboundedSender<Control>>,
    pub(crate) done: watch::Sender<bool>,
    pub(crate) created: Instant,
    /// When its media stream opened (recordings are cut from the stream's audio).
    pub(crate) stream_opened: Option<Instant>,
    /// The call this leg was dialled from.
    pub(crate) parent: Option<String>,
    /// Its phase, for those waiting on it (a dial waiting for its leg's answer).
    pub(crate) phase: watch::Sender<Option<call::Phase>>,
}

/// What the API asks of a live call.
#[derive(Debug, Clone)]
pub(crate) enum Control {
    /// End it (or cancel it while it rings).
    Hangup,
    /// Answer a call waiting for a command ([`AnswerWith::Command`]) with this document.
    Answer(String),
    /// Refuse a call waiting for a command.
    Reject,
    /// Leave what the call is doing (a stream ends with its stop) and run this instead: a
    /// live call's new instructions (Twilio's update with TwiML, Plivo's transfer, Vonage's
    /// transfer, Telnyx's transfer or bridge).
    Redirect(Next),
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) calls: HashMap<String, CallEntry>,
    pub(crate) order: Vec<String>,
    pub(crate) settings: Settings,
    pub(crate) faults: VecDeque<(Operation, Fault, u32)>,
    pub(crate) seq: u64,
    pub(crate) rooms: control::Rooms,
    pub(crate) recordings: HashMap<String, Recording>,
    pub(crate) recording_order: Vec<String>,
}

/// The shared carrier behind one fake.
pub(crate) struct Carrier {
    pub(crate) dialect: Box<dyn Dialect>,
    pub(crate) base_url: Url,
    pub(crate) http: reqwest::Client,
    pub(crate) state: Mutex<State>,
    pub(crate) running: AtomicUsize,
    /// The server's open connections, once it serves.
    pub(crate) connections: std::sync::OnceLock<crate::Connections>,
}

impl std::fmt::Debug for Carrier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Carrier")
            .field("provider", &self.dialect.kind())
            .field("base_url", &self.base_url.as_str())
            .finish_non_exhaustive()
    }
}

impl Carrier {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn next_seq(&self) -> u64 {
        let mut s = self.lock();
        s.seq += 1;
        s.seq
    }

    /// Wall time for `call_time` of call audio at the emulator's speed.
    pub(crate) fn wall(&self, call_time: Duration) -> Duration {
        let frame = self.lock().settings.frame;
        // A length from the adapter under test may be anything: past what a Duration holds,
        // it is for ever.
        Duration::try_from_secs_f64(call_time.as_secs_f64() * frame.as_secs_f64() / 0.02)
            .unwrap_or(Duration::MAX)
    }

    /// Call time for `wall` at the emulator's speed.
    fn call_time(&self, wall: Duration) -> Duration {
        let frame = self.lock().settings.frame.max(Duration::from_micros(10));
        wall.mul_f64(0.02 / frame.as_secs_f64())
    }

    pub(crate) fn note(&self, id: &str, what: Happening) {
        let mut s = self.lock();
        if let Some(c) = s.calls.get_mut(id) {
            let at = c.created.elapsed();
            if let Happening::Violation(v) = &what {
                c.record.violations.push(v.clone());
            }
            c.record.timeline.push(Moment { at, what });
        }
    }

    pub(crate) fn info(&self, id: &str) -> Option<CallInfo> {
        self.lock().calls.get(id).map(|c| c.info.clone())
    }
}

/// A new carrier with `dialect`, served at `base_url`.
pub(crate) fn carrier(dialect: Box<dyn Dialect>, base_url: Url) -> Arc<Carrier> {
    Arc::new(Carrier {
        dialect,
        base_url,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default(),
        state: Mutex::new(State::default()),
        running: AtomicUsize::new(0),
        connections: std::sync::OnceLock::new(),
    })
}

/// A time as RFC 3339 (`2026-12-03T12:00:00Z`), as JSON webhooks and resources write it.
pub(crate) fn rfc3339(t: std::time::SystemTime) -> String {
    let t: time::OffsetDateTime = t.into();
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
