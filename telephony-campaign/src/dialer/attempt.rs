//! One attempt at a contact: recorded, dialled, followed to its end, and settled; or, for an
//! attempt a stopped dialer left in flight, reconciled.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use telephony_core::{AnsweredBy, CallId, CallTarget, E164, OutboundCall};
use tokio::sync::OwnedSemaphorePermit;

use super::dispatch::{Shared, settle};
use super::{Campaign, OnMachine};
use crate::store::{Attempt, AttemptResult, Claimed, Next, millis};
use crate::{Contact, DialerEvent, Outcome};

/// The create for one attempt: the campaign's target with the contact's variables added (to
/// the stream's parameters, or the answer URL's query), and the campaign's call options.
pub(crate) fn outbound(
    campaign: &Campaign,
    contact: &Contact,
    from: &E164,
    key: &str,
) -> OutboundCall {
    let target = match &campaign.target {
        CallTarget::Stream(stream) => {
            let mut stream = stream.clone();
            stream.parameters.extend(contact.vars.iter().cloned());
            CallTarget::Stream(stream)
        }
        CallTarget::AnswerUrl(url) => {
            let mut url = url.clone();
            if !contact.vars.is_empty() {
                url.query_pairs_mut().extend_pairs(contact.vars.iter());
            }
            CallTarget::AnswerUrl(url)
        }
        other => other.clone(),
    };
    let mut call = OutboundCall::with_target(contact.number.clone(), from.clone(), target)
        .idempotency_key(key);
    call.status_callback.clone_from(&campaign.status_callback);
    call.machine_detection = campaign.machine_detection;
    call.ring_timeout = campaign.ring_timeout;
    call.time_limit = campaign.time_limit;
    call.record.clone_from(&campaign.record);
    call
}

/// The caller id for attempt `n` at `number`: attempts rotate through the pool, starting at
/// a place fixed by the number (so contacts spread over the pool).
fn caller_id<'a>(pool: &'a [E164], number: &E164, n: u32) -> &'a E164 {
    let spread = number.digits().bytes().fold(0usize, |h, b| {
        h.wrapping_mul(31).wrapping_add(usize::from(b))
    });
    &pool[spread.wrapping_add(n as usize) % pool.len()]
}

/// Whether a verdict is a machine's.
fn is_machine(by: Option<&AnsweredBy>) -> bool {
    matches!(
        by,
        Some(
            AnsweredBy::Machine
                | AnsweredBy::MachineEndBeep
                | AnsweredBy::MachineGreetingEnded
                | AnsweredBy::Fax
        )
    )
}

/// What follows an attempt that ended with `result`.
fn next(shared: &Shared, result: &AttemptResult, retryable: bool) -> Next {
    if !retryable {
        return Next::Done;
    }
    match shared.campaign.retry.next(result.outcome, result.attempts) {
        Some(wait) => {
            Next::RetryAt(millis(SystemTime::now().checked_add(wait).unwrap_or_else(
                || SystemTime::now() + Duration::from_secs(365 * 24 * 3600),
            )))
        }
        None => Next::Done,
    }
}

/// Dials a claimed contact (its slot already taken) and follows the call to its end.
pub(crate) async fn dial(shared: Arc<Shared>, claimed: Claimed, permit: OwnedSemaphorePermit) {
    let _permit = permit;
    let contact = &claimed.contact;
    let n = claimed.attempts + 1;
    // The key is the same whoever makes attempt n: a carrier that deduplicates creates
    // (Telnyx's command_id) places no second call for it.
    let key = format!("{}-{}-{n}", shared.campaign.id, contact.number.digits());
    let from = caller_id(&shared.campaign.from, &contact.number, n).clone();
    let mut attempt = Attempt::new(
        n,
        key.clone(),
        from.as_str().to_owned(),
        millis(SystemTime::now()),
    );
    // Durable before the create: a crash from here on is reconciled, never re-dialled.
    if !record(&shared, &claimed, &attempt).await {
        // Not recorded, so not dialled: the lease lapsed (the store refuses a lapsed owner)
        // or the claim passed on. Still held here, it is given back to be dialled once.
        super::dispatch::give_back(&shared, &claimed).await;
        return;
    }
    shared.emit(DialerEvent::Dialing {
        number: contact.number.clone(),
        attempt: attempt.clone(),
    });
    let call = outbound(&shared.campaign, contact, &from, &key);
    shared.note_create();
    match shared.provider.initiate_call(&call).await {
        Ok(placed) => {
            let call_id = placed.call_id.as_str().to_owned();
            attempt.call_id = Some(call_id.clone());
            shared.emit(DialerEvent::Placed {
                number: contact.number.clone(),
                attempt: n,
                call_id: call_id.clone(),
            });
            // If this write fails the attempt stays "may have acted": still never re-dialled.
            record(&shared, &claimed, &attempt).await;
            let result = follow(&shared, n, &placed.call_id).await;
            let next = next(&shared, &result, true);
            settle(&shared, &claimed, result, next).await;
        }
        Err(e) if e.may_have_acted() => {
            let mut result = AttemptResult::new(n, Outcome::Unconfirmed, millis(SystemTime::now()));
            result.detail = Some(format!("the create may have reached the carrier: {e}"));
            settle(&shared, &claimed, result, Next::Done).await;
        }
        Err(e) => {
            // Refused before anything happened: a failed attempt, retried only when the
            // refusal was a passing one (throttling, an outage).
            let mut result = AttemptResult::new(n, Outcome::Failed, millis(SystemTime::now()));
            result.detail = Some(e.to_string());
            let next = next(&shared, &result, e.is_retryable());
            settle(&shared, &claimed, result, next).await;
        }
    }
}

/// Settles an attempt a stopped dialer left in flight: from the carrier's status when its
/// call id was recorded, as unconfirmed otherwise. Never dials.
pub(crate) async fn reconcile(shared: Arc<Shared>, claimed: Claimed, permit: OwnedSemaphorePermit) {
    let _permit = permit;
    let Some(attempt) = claimed.in_flight.clone() else {
        return;
    };
    shared.emit(DialerEvent::Reconciling {
        number: claimed.contact.number.clone(),
        attempt: attempt.clone(),
    });
    let call_id = attempt
        .call_id
        .as_deref()
        .and_then(|id| CallId::new(id).ok());
    match call_id {
        Some(id) => {
            let result = follow(&shared, attempt.number, &id).await;
            let next = next(&shared, &result, true);
            settle(&shared, &claimed, result, next).await;
        }
        None => {
            let mut result = AttemptResult::new(
                attempt.number,
                Outcome::Unconfirmed,
                millis(SystemTime::now()),
            );
            result.detail =
                Some("its dialer stopped while the create was in flight; not dialled again".into());
            settle(&shared, &claimed, result, Next::Done).await;
        }
    }
}

/// Writes the attempt, retrying a failing store for as long as it fails (a claim left
/// without its writer would be held by nobody working on it); `false` when the claim passed
/// to another dialer (this one's lease ran out).
async fn record(shared: &Shared, claimed: &Claimed, attempt: &Attempt) -> bool {
    let mut wait = Duration::from_millis(200);
    loop {
        match shared
            .store
            .record_attempt(
                &shared.campaign.id,
                &claimed.contact.number,
                &shared.owner(),
                attempt,
            )
            .await
        {
            Ok(held) => return held,
            Err(e) => {
                shared.emit(DialerEvent::StoreError(e.to_string()));
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(10));
            }
        }
    }
}

/// How long a call read as ended by polling waits for the webhook that tells how, where
/// the carrier's API does not, before it is recorded as unconfirmed.
const ENDED_GRACE: Duration = Duration::from_secs(60);

/// How long a call may go unfound by its id before it is recorded as unconfirmed.
const NOT_FOUND_GRACE: Duration = Duration::from_secs(120);

/// Follows a placed call until it ends: its webhooks (through the observer) settle it at
/// once; polls of its status, with backoff, settle it otherwise.
async fn follow(shared: &Shared, n: u32, call: &CallId) -> AttemptResult {
    let polling = shared.campaign.polling;
    let (mut wait, max) = if shared.campaign.status_callback.is_some() {
        // Webhooks come; polls are the safety net for a lost one.
        (polling.max, polling.max.saturating_mul(4))
    } else {
        (polling.first, polling.max)
    };
    let mut heard = shared.observer.watch(call.as_str());
    let started = Instant::now();
    let mut hung_up = false;
    let mut machine: Option<AnsweredBy> = None;
    // The id the carrier knows the call by once it exists (Plivo: its CallUUID, learnt from
    // a poll or a callback), polled and hung up by from then on.
    let mut own = call.clone();
    let mut not_found_since: Option<Instant> = None;
    let mut ended_since: Option<Instant> = None;
    let by_polling = shared.provider.carrier().outcome_by_polling();
    let result = loop {
        let now_heard = heard.borrow_and_update().clone();
        if let Some(id) = now_heard
            .own_id
            .as_deref()
            .and_then(|id| CallId::new(id).ok())
        {
            own = id;
        }
        if is_machine(now_heard.answered_by.as_ref()) {
            machine.clone_from(&now_heard.answered_by);
        }
        if let Some((status, secs)) = &now_heard.status
            && let Some(outcome) =
                Outcome::of_status(status, machine.as_ref().or(now_heard.answered_by.as_ref()))
        {
            let mut r = AttemptResult::new(n, outcome, millis(SystemTime::now()));
            r.duration_secs = *secs;
            r.recording_url.clone_from(&now_heard.recording_url);
            break r;
        }
        if machine.is_some() && !hung_up && shared.campaign.on_machine == OnMachine::HangUp {
            hung_up = true;
            if let Err(e) = shared.provider.hangup(&own).await {
                tracing::warn!(call = %call, error = %e, "hanging up on a machine failed");
            }
        }
        tokio::select! {
            changed = heard.changed() => {
                if changed.is_ok() {
                    continue;
                }
            }
            () = tokio::time::sleep(wait) => {}
        }
        wait = wait.mul_f64(polling.factor.clamp(1.0, 10.0)).min(max);
        match shared.provider.call_status(&own).await {
            Ok(info) => {
                not_found_since = None;
                if info.call_id != own && !info.call_id.as_str().is_empty() {
                    shared.observer.alias(call.as_str(), info.call_id.as_str());
                    own = info.call_id.clone();
                }
                if is_machine(info.answered_by.as_ref()) {
                    machine.clone_from(&info.answered_by);
                }
                let by = machine.as_ref().or(info.answered_by.as_ref());
                match Outcome::of_status(&info.status, by) {
                    // Where the carrier's API does not say how a call ended, an end read by
                    // polling waits for the webhooks that do, a while.
                    Some(_) if !by_polling => {
                        let since = *ended_since.get_or_insert_with(Instant::now);
                        if since.elapsed() > ENDED_GRACE {
                            let mut r = AttemptResult::new(
                                n,
                                Outcome::Unconfirmed,
                                millis(SystemTime::now()),
                            );
                            r.detail = Some(format!(
                                "the call ended; {} tells how only in its webhooks, and none came",
                                shared.provider.kind().name()
                            ));
                            break r;
                        }
                    }
                    Some(outcome) => {
                        let mut r = AttemptResult::new(n, outcome, millis(SystemTime::now()));
                        r.duration_secs = info.duration.map(|d| d.as_secs());
                        r.cost = info.cost.map(|c| format!("{} {}", c.amount, c.currency));
                        r.recording_url.clone_from(&heard.borrow().recording_url);
                        break r;
                    }
                    None => {}
                }
            }
            Err(e) if e.is_not_found() => {
                // A call the carrier no longer finds by this id (Plivo files an ended call
                // under its CallUUID only): its callbacks may still tell; past a grace
                // period, it is unconfirmed, with the carrier's reason.
                let since = *not_found_since.get_or_insert_with(Instant::now);
                if since.elapsed() > NOT_FOUND_GRACE {
                    let mut r =
                        AttemptResult::new(n, Outcome::Unconfirmed, millis(SystemTime::now()));
                    r.detail = Some(format!("the carrier no longer finds the call: {e}"));
                    break r;
                }
            }
            Err(e) => {
                tracing::debug!(call = %call, error = %e, "polling the call's status failed; trying again");
            }
        }
        if started.elapsed() > polling.give_up_after {
            let mut r = AttemptResult::new(n, Outcome::Unconfirmed, millis(SystemTime::now()));
            r.detail = Some(format!(
                "no final status after {} s",
                polling.give_up_after.as_secs()
            ));
            break r;
        }
    };
    shared.observer.forget(call.as_str());
    let mut result = result;
    result.call_id = Some(own.as_str().to_owned());
    if result.cost.is_none() && matches!(result.outcome, Outcome::Answered | Outcome::Machine) {
        match shared.provider.call_cost(&own).await {
            Ok(Some(cost)) => result.cost = Some(format!("{} {}", cost.amount, cost.currency)),
            Ok(None) => {}
            Err(e) => tracing::debug!(call = %call, error = %e, "reading the call's cost failed"),
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_rotate_through_the_caller_pool() {
        let pool: Vec<E164> = (0..3)
            .map(|i| format!("+1415555019{i}").parse().unwrap())
            .collect();
        let n: E164 = "+14155550100".parse().unwrap();
        let picks: Vec<_> = (1..=3).map(|a| caller_id(&pool, &n, a).clone()).collect();
        let mut sorted = picks.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 3, "{picks:?}");
        assert_eq!(caller_id(&pool, &n, 1), caller_id(&pool, &n, 4));
    }
}
