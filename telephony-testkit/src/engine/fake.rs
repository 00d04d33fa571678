//! [`Fake`]: the knobs and records every fake shares.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use telephony::{Decimal, ProviderKind, Url};

use super::{Carrier, Fault, Operation};
use crate::record::{CallRecord, Callee};
use crate::script::CallerScript;

/// How fast a fake's calls were created: [`Fake::create_rate`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct CreateRate {
    /// Calls created in all.
    pub calls: usize,
    /// The most created within any span of the window asked for.
    pub busiest: usize,
    /// Calls per second from the first create to the last.
    pub per_second: f64,
}

/// What a number of the emulated account can take, as its carrier's numbers API reports it:
/// `add_number_with` on each fake stages a number without voice (Telnyx's numbers API says
/// neither, so its fake has no such knob).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct NumberFeatures {
    /// Voice calls. A call to a number without voice never rings: the fake's `ring` refuses
    /// it.
    pub voice: bool,
    /// SMS.
    pub sms: bool,
}

impl NumberFeatures {
    /// Voice and SMS, what `add_number` gives.
    pub const VOICE_AND_SMS: NumberFeatures = NumberFeatures {
        voice: true,
        sms: true,
    };

    /// A number that takes these.
    pub const fn new(voice: bool, sms: bool) -> NumberFeatures {
        NumberFeatures { voice, sms }
    }
}

impl Default for NumberFeatures {
    fn default() -> NumberFeatures {
        NumberFeatures::VOICE_AND_SMS
    }
}

/// The knobs and records every fake shares; each fake derefs to one.
#[derive(Debug, Clone)]
pub struct Fake {
    pub(crate) carrier: Arc<Carrier>,
}

impl Fake {
    /// The fake's base URL: give it to the adapter as its API host.
    pub fn base_url(&self) -> Url {
        self.carrier.base_url.clone()
    }

    /// Which provider it emulates.
    pub fn kind(&self) -> ProviderKind {
        self.carrier.dialect.kind()
    }

    /// Runs calls `factor` times faster than real time (ringing, speech, media frames): 1 is
    /// real time, as a demo wants; tests use 5 to 20. Set it before placing calls.
    pub fn speed(&self, factor: f64) {
        let factor = if factor.is_finite() {
            factor.clamp(0.01, 200.0)
        } else {
            1.0
        };
        self.carrier.lock().settings.frame = Duration::from_millis(20).div_f64(factor);
    }

    /// What callers say on calls placed from now on.
    pub fn script(&self, script: CallerScript) {
        self.carrier.lock().settings.script = script;
    }

    /// How long calls ring before the callee answers (or is busy, or fails), in call time.
    pub fn ring_time(&self, ring: Duration) {
        self.carrier.lock().settings.ring = ring;
    }

    /// What the callee at `number` does.
    pub fn callee(&self, number: &telephony::E164, callee: Callee) {
        self.carrier
            .lock()
            .settings
            .callees
            .insert(number.digits().to_owned(), callee);
    }

    /// What a minute of call costs (whole minutes are billed).
    pub fn rate_per_minute(&self, rate: Decimal) {
        self.carrier.lock().settings.rate = rate;
    }

    /// The account's balance, as the carrier's balance API reports it, in its currency
    /// (Twilio, Plivo and Telnyx: US dollars; Vonage: euros). 20.00 unless set; a low one
    /// stages an account about to stop calling.
    pub fn balance(&self, amount: Decimal) {
        self.carrier.lock().settings.balance = amount;
    }

    /// The balance the carrier reports now.
    pub fn account_balance(&self) -> Decimal {
        self.carrier.lock().settings.balance
    }

    /// Answers the next `times` requests of `op` with `fault` instead.
    pub fn fail_next(&self, op: Operation, fault: Fault, times: u32) {
        self.carrier.lock().faults.push_back((op, fault, times));
    }

    /// Answers every REST request `delay` late.
    pub fn delay_responses(&self, delay: Duration) {
        self.carrier.lock().settings.delay = delay;
    }

    /// Sets the carrier's clock `offset` ahead of this machine's (`ahead`), or behind it:
    /// every REST answer's `Date` header says the carrier's time, so a client comparing it
    /// with its own clock (`telephony doctor`'s clock check) sees the difference. Zero, the
    /// default, is this machine's time.
    pub fn clock_skew(&self, offset: Duration, ahead: bool) {
        self.carrier.lock().settings.clock_skew = (offset, ahead);
    }

    /// Drops each media stream's connection `after` it opened (call time), without a word.
    pub fn drop_streams_after(&self, after: Option<Duration>) {
        self.carrier.lock().settings.drop_stream_after = after;
    }

    /// How long the person a call is transferred to talks once bridged, in call time, before
    /// hanging up (2 s by default).
    pub fn talk_time(&self, stay: Duration) {
        self.carrier.lock().settings.room_stay = stay;
    }

    /// Every recording, in the order started (deleted ones included, without their file).
    pub fn recordings(&self) -> Vec<super::Recording> {
        let s = self.carrier.lock();
        s.recording_order
            .iter()
            .filter_map(|id| s.recordings.get(id).cloned())
            .collect()
    }

    /// Every call, in the order placed.
    pub fn calls(&self) -> Vec<CallRecord> {
        let s = self.carrier.lock();
        s.order
            .iter()
            .filter_map(|id| s.calls.get(id).map(|c| c.record.clone()))
            .collect()
    }

    /// One call, by the provider's id (Plivo: the `CallUUID` or the `request_uuid`).
    pub fn call(&self, id: &str) -> Option<CallRecord> {
        let s = self.carrier.lock();
        s.calls
            .get(id)
            .or_else(|| s.calls.values().find(|c| c.info.secondary_id == id))
            .map(|c| c.record.clone())
    }

    /// Waits until a call is over and its last webhook sent, and returns it.
    pub async fn wait(&self, id: &str) -> Option<CallRecord> {
        let mut done = {
            let s = self.carrier.lock();
            let entry = s
                .calls
                .get(id)
                .or_else(|| s.calls.values().find(|c| c.info.secondary_id == id))?;
            entry.done.subscribe()
        };
        let _ = done.wait_for(|d| *d).await;
        let id = {
            let s = self.carrier.lock();
            s.calls
                .get(id)
                .or_else(|| s.calls.values().find(|c| c.info.secondary_id == id))
                .map(|c| c.record.id.clone())?
        };
        self.call(&id)
    }

    /// How fast calls were created, as the carrier saw them: the most created within any
    /// `window`-long span, and the rate from the first to the last (what a pacing test
    /// compares with its cap).
    pub fn create_rate(&self, window: Duration) -> CreateRate {
        let mut times: Vec<std::time::SystemTime> =
            self.calls().iter().map(|c| c.created).collect();
        times.sort();
        let (mut busiest, mut start) = (0, 0);
        for end in 0..times.len() {
            while times[end].duration_since(times[start]).unwrap_or_default() > window {
                start += 1;
            }
            busiest = busiest.max(end - start + 1);
        }
        let span = match (times.first(), times.last()) {
            (Some(first), Some(last)) => last.duration_since(*first).unwrap_or_default(),
            _ => Duration::ZERO,
        };
        CreateRate {
            calls: times.len(),
            busiest,
            per_second: times.len().saturating_sub(1) as f64 / span.as_secs_f64().max(1e-3),
        }
    }

    /// Calls whose life is still running (a task each): zero once every call ended.
    pub fn running(&self) -> usize {
        self.carrier.running.load(Ordering::SeqCst)
    }

    /// Connections open to the fake's server now: REST clients' kept-alive connections, and
    /// anything mid-request.
    pub fn open_connections(&self) -> usize {
        self.carrier
            .connections
            .get()
            .map_or(0, crate::Connections::count)
    }
}
