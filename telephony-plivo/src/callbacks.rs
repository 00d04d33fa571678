//! Every callback that can reach the status URL, read as a [`CallNotice`]: a call's status, an
//! asynchronous machine-detection verdict, a finished recording, or a step of a transfer (its
//! URL's query carries a [`TransferRef`], which Plivo's V3 signature covers). The tables that
//! map a transfer leg's outcome are here, one each.

use std::time::{Duration, UNIX_EPOCH};

use telephony_core::{
    CallId, CallNotice, DecodeError, Error, FormParams, MachineResult, RecordingFormat,
    RecordingId, RecordingReady, TransferEvent, TransferFailure, TransferLeg, TransferNotice,
    TransferRef, Url, WebhookRequest, parse_seconds,
};

use crate::KIND;
use crate::status;

/// Reads any callback at the status URL. A transfer's notice carries the URL its callback
/// came to ([`TransferNotice::url`]), where
/// [`continue_transfer`](telephony_core::TelephonyProvider::continue_transfer) points Plivo's
/// next fetch.
pub(crate) fn parse_callback(request: &WebhookRequest) -> Result<CallNotice, Error> {
    // A transfer's state is read only under a V3 signature, which covers the URL's query;
    // V2 (accepted only when configured) signs neither the query nor the body.
    let v3 = request.headers.contains_key("x-plivo-signature-v3");
    if let Ok(url) = request.url.to_url()
        && v3
        && let Some(transfer) = TransferRef::from_query(&url)
    {
        return transfer_notice(request, transfer, url);
    }
    let p = request.params();
    if p.get_nonempty("record_url").is_some() || p.get_nonempty("RecordUrl").is_some() {
        return recording(&p).map(|r| CallNotice::Recording(Box::new(r)));
    }
    if p.get("Event") == Some("MachineDetection") {
        return machine(&p).map(CallNotice::Machine);
    }
    status::parse_status_callback(request).map(|e| CallNotice::Status(Box::new(e)))
}

fn call_id(p: &FormParams, name: &str) -> Option<CallId> {
    p.get_nonempty(name).and_then(|c| CallId::new(c).ok())
}

/// A transfer leg's callback.
///
/// - The caller's leg (`leg=caller`): with `DialStatus`, the outcome of a cold transfer's
///   `<Dial>` ([`dial_outcome`]); without, the caller fetching its document: a cold transfer's
///   (the reference names the target) is [`TransferEvent::TransferStarted`], the `<Dial>` to
///   come; a warm one's (no target: the caller only joins the room) is
///   [`TransferEvent::Bridged`], the caller entering the room the target is briefed in.
/// - The target's leg (`leg=target`, a warm transfer's new call): its ring, answer and hangup
///   requests ([`target_step`]).
///
/// The notice carries `url`, the URL the callback came to.
fn transfer_notice(
    request: &WebhookRequest,
    transfer: TransferRef,
    url: Url,
) -> Result<CallNotice, Error> {
    let p = request.params();
    let call = call_id(&p, "CallUUID");
    let notice = match transfer.leg {
        TransferLeg::Caller => match p.get_nonempty("DialStatus") {
            Some(dial) => TransferNotice::new(transfer, dial_outcome(dial))
                .leg_call(call_id(&p, "DialBLegUUID")),
            None if transfer.target.is_some() => {
                TransferNotice::new(transfer, TransferEvent::TransferStarted).leg_call(call)
            }
            None => TransferNotice::new(transfer, TransferEvent::Bridged).leg_call(call),
        },
        TransferLeg::Target => {
            let status = status::parse_status_callback(request);
            match target_step(&p) {
                Some(event) => TransferNotice::new(transfer, event)
                    .leg_call(call)
                    .status(status.ok()),
                // Neither ringing, answered nor ended: a status, as said.
                None => return status.map(|e| CallNotice::Status(Box::new(e))),
            }
        }
    };
    Ok(CallNotice::Transfer(Box::new(notice.url(Some(url)))))
}

/// A cold transfer's `<Dial>` outcome (`DialStatus` on the `action` request: `completed`,
/// `busy`, `failed`, `timeout`, `no-answer`, per Plivo's "Dial status reporting") → step:
/// `completed` (the target answered, and the bridged call is over) is
/// [`TransferEvent::TargetEnded`]; busy is [`TransferFailure::Busy`]; no answer or a timeout is
/// [`TransferFailure::NoAnswer`]; anything else failed, with Plivo's words kept.
pub(crate) fn dial_outcome(dial_status: &str) -> TransferEvent {
    let reason = match dial_status {
        "completed" => return TransferEvent::TargetEnded,
        "busy" => TransferFailure::Busy,
        "no-answer" | "timeout" => TransferFailure::NoAnswer,
        _ => TransferFailure::Failed,
    };
    TransferEvent::TransferFailed {
        reason,
        raw: dial_status.to_owned(),
    }
}

/// What a warm transfer's target leg said: ringing (its `ring_url`), answered (its
/// `answer_url`: `in-progress` and no hangup cause) or ended (its `hangup_url`, or any request
/// with a `HangupCause`: [`target_outcome`]). `None` for anything else.
pub(crate) fn target_step(p: &FormParams) -> Option<TransferEvent> {
    let status = p.get("CallStatus").unwrap_or("");
    let cause = p.get_nonempty("HangupCause");
    let hangup = cause.is_some() || p.get("Event") == Some("Hangup");
    match status {
        "ringing" if !hangup => Some(TransferEvent::TransferRinging),
        "in-progress" if !hangup => Some(TransferEvent::TransferAnswered),
        "completed" | "busy" | "no-answer" | "cancel" | "timeout" | "failed" => {
            Some(target_outcome(status, cause))
        }
        _ if hangup => Some(target_outcome(status, cause)),
        _ => None,
    }
}

/// A warm transfer's target leg ended → step. A call Plivo calls `completed` was answered, so
/// it is [`TransferEvent::TargetEnded`], whatever the cause. Otherwise the target was not
/// reached, told by the `HangupCause` (`USER_BUSY` is busy; `NO_ANSWER`, `NO_USER_RESPONSE`
/// and `ORIGINATOR_CANCEL`, the ring timeout running out, are no answer) or, for a cause not
/// in this table, by the status (`busy`, `no-answer`); anything else failed. The cause is kept
/// as Plivo's words where sent, else the status.
pub(crate) fn target_outcome(call_status: &str, hangup_cause: Option<&str>) -> TransferEvent {
    if call_status == "completed" {
        return TransferEvent::TargetEnded;
    }
    let by_cause = match hangup_cause {
        Some("USER_BUSY") => Some(TransferFailure::Busy),
        Some("NO_ANSWER" | "NO_USER_RESPONSE" | "ORIGINATOR_CANCEL") => {
            Some(TransferFailure::NoAnswer)
        }
        _ => None,
    };
    let reason = by_cause.unwrap_or(match call_status {
        "busy" => TransferFailure::Busy,
        // Plivo's `timeout` is the ring timeout running out: nobody answered.
        "no-answer" | "timeout" => TransferFailure::NoAnswer,
        _ => TransferFailure::Failed,
    });
    TransferEvent::TransferFailed {
        reason,
        raw: hangup_cause.unwrap_or(call_status).to_owned(),
    }
}

/// The asynchronous machine-detection callback (`Event=MachineDetection`, `Machine`,
/// `CallUUID`, per Plivo's "Asynchronous machine detection"), through [`status::answered_by`].
fn machine(p: &FormParams) -> Result<MachineResult, Error> {
    let what = "machine detection callback";
    let call = p.call_id(KIND, "CallUUID", what)?;
    let raw = p.required(KIND, "Machine", what)?;
    Ok(MachineResult::new(
        call,
        status::answered_by(raw),
        format!("Machine={raw}"),
    ))
}

/// The names a recording callback uses: the Record API's (`record_url`, `call_uuid`, …, per
/// "Start recording a call"), or the `<Record>` element's (`RecordUrl`, `RecordingID`,
/// `RecordingDuration`, as Plivo's examples read them; its `…Ms` fields are assumed to follow
/// the API's and are unverified).
struct RecordingFields {
    url: &'static str,
    id: &'static str,
    call: &'static str,
    duration_ms: &'static str,
    duration: &'static str,
    start_ms: &'static str,
}

const API_FIELDS: RecordingFields = RecordingFields {
    url: "record_url",
    id: "recording_id",
    call: "call_uuid",
    duration_ms: "recording_duration_ms",
    duration: "recording_duration",
    start_ms: "recording_start_ms",
};

const XML_FIELDS: RecordingFields = RecordingFields {
    url: "RecordUrl",
    id: "RecordingID",
    call: "CallUUID",
    duration_ms: "RecordingDurationMs",
    duration: "RecordingDuration",
    start_ms: "RecordingStartMs",
};

/// A finished recording's callback.
fn recording(p: &FormParams) -> Result<RecordingReady, Error> {
    let what = "recording callback";
    let f = if p.get_nonempty(API_FIELDS.url).is_some() {
        API_FIELDS
    } else {
        XML_FIELDS
    };
    let raw_url = p.required(KIND, f.url, what)?;
    let url = Url::parse(raw_url).map_err(|e| {
        Error::Decode(DecodeError::new(
            KIND,
            what,
            format!("{} {raw_url:?}: {e}", f.url),
        ))
    })?;
    let mut ready = RecordingReady::new(url);
    ready.format = ready
        .url
        .path()
        .rsplit_once('.')
        .and_then(|(_, ext)| RecordingFormat::from_name(ext));
    ready.recording_id = p.get_nonempty(f.id).and_then(|i| RecordingId::new(i).ok());
    ready.call_id = call_id(p, f.call);
    ready.duration = p
        .get(f.duration_ms)
        .and_then(millis)
        .or_else(|| p.get(f.duration).and_then(parse_seconds));
    ready.started_at = p
        .get(f.start_ms)
        .and_then(millis)
        .and_then(|d| UNIX_EPOCH.checked_add(d));
    Ok(ready)
}

/// Milliseconds as Plivo writes them (`"345100.00000"`), never panicking on what it sent.
pub(crate) fn millis(s: &str) -> Option<Duration> {
    let v: f64 = s.trim().parse().ok()?;
    // Up to about 285 000 years: far past any epoch time or length, and exact in an f64.
    (v.is_finite() && (0.0..9.0e15).contains(&v)).then(|| Duration::from_millis(v.round() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_read_plivo_decimals_and_refuse_the_rest() {
        assert_eq!(millis("345100.00000"), Some(Duration::from_millis(345_100)));
        assert_eq!(millis(" 12 "), Some(Duration::from_millis(12)));
        for bad in ["", "-1", "NaN", "inf", "1e300", "x"] {
            assert_eq!(millis(bad), None, "{bad}");
        }
        assert!(millis("1407235163907.00000").is_some());
    }

    #[test]
    fn the_outcome_tables() {
        let failed = |reason, raw: &str| TransferEvent::TransferFailed {
            reason,
            raw: raw.to_owned(),
        };
        assert_eq!(dial_outcome("completed"), TransferEvent::TargetEnded);
        assert_eq!(dial_outcome("busy"), failed(TransferFailure::Busy, "busy"));
        for s in ["no-answer", "timeout"] {
            assert_eq!(dial_outcome(s), failed(TransferFailure::NoAnswer, s));
        }
        for s in ["failed", "cancel", "something-new"] {
            assert_eq!(dial_outcome(s), failed(TransferFailure::Failed, s));
        }
        assert_eq!(
            target_outcome("completed", Some("NORMAL_CLEARING")),
            TransferEvent::TargetEnded
        );
        for (status, cause, reason, raw) in [
            (
                "busy",
                Some("USER_BUSY"),
                TransferFailure::Busy,
                "USER_BUSY",
            ),
            (
                "no-answer",
                Some("NO_ANSWER"),
                TransferFailure::NoAnswer,
                "NO_ANSWER",
            ),
            (
                "cancel",
                Some("ORIGINATOR_CANCEL"),
                TransferFailure::NoAnswer,
                "ORIGINATOR_CANCEL",
            ),
            (
                "no-answer",
                Some("NO_USER_RESPONSE"),
                TransferFailure::NoAnswer,
                "NO_USER_RESPONSE",
            ),
            (
                "busy",
                Some("CALL_REJECTED"),
                TransferFailure::Busy,
                "CALL_REJECTED",
            ),
            (
                "failed",
                Some("UNALLOCATED_NUMBER"),
                TransferFailure::Failed,
                "UNALLOCATED_NUMBER",
            ),
            ("timeout", None, TransferFailure::NoAnswer, "timeout"),
            ("no-answer", None, TransferFailure::NoAnswer, "no-answer"),
        ] {
            assert_eq!(
                target_outcome(status, cause),
                failed(reason, raw),
                "{status} {cause:?}"
            );
        }
    }
}
