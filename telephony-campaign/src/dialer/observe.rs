//! Webhooks handed to the dialer: what each call's follower is waiting for.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use telephony_core::{AnsweredBy, CallNotice, CallStatus};
use tokio::sync::watch;

/// What the webhooks said about one call so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Heard {
    /// The last final status a webhook reported, with its duration in seconds.
    pub(crate) status: Option<(CallStatus, Option<u64>)>,
    /// Machine detection's verdict.
    pub(crate) answered_by: Option<AnsweredBy>,
    /// A recording's URL.
    pub(crate) recording_url: Option<String>,
    /// The call's own id, where the carrier's callbacks name it differently from the id the
    /// create returned (Plivo: the `CallUUID` of the call its `request_uuid` placed).
    pub(crate) own_id: Option<String>,
}

/// Passes verified callbacks to the calls a dialer follows. Cheap to clone; keep one in the
/// webhook handler.
#[derive(Debug, Clone, Default)]
pub struct CallObserver {
    calls: Arc<Mutex<Calls>>,
}

/// The calls followed, and what was heard about calls nobody follows yet: a callback can
/// beat the create's own answer, or name the call by an id its follower learns later.
#[derive(Debug, Default)]
struct Calls {
    followed: HashMap<String, watch::Sender<Heard>>,
    early: HashMap<String, Heard>,
    early_order: std::collections::VecDeque<String>,
}

/// The most callbacks kept for calls nobody follows yet.
const EARLY: usize = 4096;

impl Calls {
    /// Applies `f` to what is known of `id`: its follower's, or kept for one to come.
    fn update(&mut self, id: &str, f: &dyn Fn(&mut Heard)) {
        if let Some(tx) = self.followed.get(id) {
            tx.send_modify(|h| f(h));
            return;
        }
        if !self.early.contains_key(id) {
            if self.early_order.len() >= EARLY
                && let Some(oldest) = self.early_order.pop_front()
            {
                self.early.remove(&oldest);
            }
            self.early_order.push_back(id.to_owned());
        }
        f(self.early.entry(id.to_owned()).or_default());
    }

    /// Makes `own` a second name of the call followed as `first`, with anything heard early
    /// under it.
    fn alias(&mut self, first: &str, own: &str) {
        let Some(tx) = self.followed.get(first).cloned() else {
            return;
        };
        let early = self.early.remove(own);
        tx.send_modify(|h| {
            h.own_id = Some(own.to_owned());
            if let Some(e) = early {
                merge(h, e);
            }
        });
        self.followed.entry(own.to_owned()).or_insert(tx);
    }
}

/// Adds what `later` knows to `h`.
fn merge(h: &mut Heard, later: Heard) {
    if later.status.is_some() {
        h.status = later.status;
    }
    if later.answered_by.is_some() {
        h.answered_by = later.answered_by;
    }
    if later.recording_url.is_some() {
        h.recording_url = later.recording_url;
    }
}

impl CallObserver {
    /// Starts listening for `call_id`'s callbacks (with any that came before).
    pub(crate) fn watch(&self, call_id: &str) -> watch::Receiver<Heard> {
        let mut calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        let early = calls.early.remove(call_id).unwrap_or_default();
        calls
            .followed
            .entry(call_id.to_owned())
            .or_insert_with(|| watch::channel(early).0)
            .subscribe()
    }

    /// Learns that the call followed as `first` is `own` to the carrier.
    pub(crate) fn alias(&self, first: &str, own: &str) {
        if first != own {
            self.calls
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .alias(first, own);
        }
    }

    /// Stops listening for `call_id` (and the own id it was learnt to have).
    pub(crate) fn forget(&self, call_id: &str) {
        let mut calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(tx) = calls.followed.remove(call_id)
            && let Some(own) = tx.borrow().own_id.clone()
        {
            calls.followed.remove(&own);
        }
    }

    /// Hands a verified callback over: about a call this dialer follows, it is acted on;
    /// about one it does not follow (yet), kept a while (the last 4,096 such calls), in case
    /// the create's answer or the call's own id is still on its way.
    pub fn observe(&self, notice: &CallNotice) {
        let mut calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        // A status event may name the call by the id its create returned (Plivo's
        // `RequestUUID`, as `initiation_id`) next to its own: both reach the follower, which
        // learns the own id, and later callbacks by the own id reach it too.
        if let CallNotice::Status(event) = notice
            && let Some(first) = event.initiation_id.as_deref()
            && first != event.call_id.as_str()
        {
            calls.alias(first, event.call_id.as_str());
        }
        let mut update = |id: &str, f: &dyn Fn(&mut Heard)| calls.update(id, f);
        match notice {
            CallNotice::Status(event) => {
                // A status event that beats the create's answer is kept under both of the
                // call's names, for whichever its follower watches.
                let mut ids = vec![event.call_id.as_str()];
                ids.extend(
                    event
                        .initiation_id
                        .as_deref()
                        .filter(|i| *i != event.call_id.as_str()),
                );
                let secs = event.duration.map(|d| d.as_secs());
                for id in ids {
                    if event.status.is_terminal() {
                        update(id, &|h| {
                            h.status = Some((event.status.clone(), secs));
                            if event.answered_by.is_some() {
                                h.answered_by.clone_from(&event.answered_by);
                            }
                        });
                    } else if let Some(by) = &event.answered_by {
                        update(id, &|h| h.answered_by = Some(by.clone()));
                    }
                }
            }
            CallNotice::Machine(result) => {
                update(result.call_id.as_str(), &|h| {
                    h.answered_by = Some(result.answered_by.clone());
                });
            }
            CallNotice::Recording(ready) => {
                if let Some(call) = &ready.call_id {
                    let url = ready.url.to_string();
                    update(call.as_str(), &|h| h.recording_url = Some(url.clone()));
                }
            }
            _ => {}
        }
    }
}
