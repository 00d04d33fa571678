//! Plivo's values mapped to the normalized model (one table each), and the webhook parsers.

use telephony_core::{
    AnsweredBy, CallEvent, CallId, CallStatus, Direction, Error, InboundCall, WebhookRequest,
    parse_seconds,
};

use crate::KIND;

/// Plivo `CallStatus` → normalized status, for every documented value: `queued` (a live-call
/// record of a request not dialled yet), `ringing`, `in-progress`, `completed`, `busy`, `no-answer`, `cancel` (by the caller), `timeout` (a
/// carrier or network failure to connect) and `failed`.
pub fn call_status(raw: &str) -> CallStatus {
    match raw {
        "queued" => CallStatus::Queued,
        "ringing" => CallStatus::Ringing,
        "in-progress" => CallStatus::InProgress,
        "completed" => CallStatus::Completed,
        "busy" => CallStatus::Busy,
        "no-answer" => CallStatus::NoAnswer,
        "cancel" => CallStatus::Canceled,
        "timeout" | "failed" => CallStatus::Failed,
        other => CallStatus::from_raw(other),
    }
}

/// Plivo's machine-detection verdict (`Machine`, on the asynchronous `machine_detection_url`
/// callback or, synchronously, on the answer and hangup requests) → normalized verdict: the
/// one table for both. Plivo documents only `true` (a machine) and `false` (a person); it
/// reports no beep, fax or greeting end. Anything else is kept as sent.
pub fn answered_by(machine: &str) -> AnsweredBy {
    match machine {
        "true" => AnsweredBy::Machine,
        "false" => AnsweredBy::Human,
        other => AnsweredBy::from_raw(other),
    }
}

/// A CDR's `call_state` → normalized status of an ended call.
pub fn cdr_state(raw: &str) -> CallStatus {
    match raw.to_ascii_uppercase().as_str() {
        "ANSWER" | "ANSWERED" => CallStatus::Completed,
        "BUSY" => CallStatus::Busy,
        "NOANSWER" | "NO_ANSWER" | "NO ANSWER" => CallStatus::NoAnswer,
        "CANCEL" | "CANCELED" | "CANCELLED" => CallStatus::Canceled,
        "FAILED" | "FAILURE" | "CONGESTION" => CallStatus::Failed,
        _ => CallStatus::from_raw(raw),
    }
}

/// Plivo `Direction` → normalized direction.
pub fn direction(raw: &str) -> Direction {
    match raw {
        "inbound" => Direction::Inbound,
        "outbound" => Direction::Outbound,
        other => Direction::from_raw(other),
    }
}

/// An answer, ring or hangup callback (`CallUUID`, `CallStatus`, `Event`, `HangupCause`,
/// `Duration`, `BillDuration`, `Direction`, `From`, `To`), form or query.
///
/// `RequestUUID` (or `ALegRequestUUID`), the id `initiate_call` returned, becomes
/// [`CallEvent::initiation_id`]: that is how a host matches these events to the calls it placed.
pub fn parse_status_callback(request: &WebhookRequest) -> Result<CallEvent, Error> {
    let what = "call callback";
    let p = request.params();
    let raw = p.required(KIND, "CallStatus", what)?;
    let mut e = CallEvent::new(p.call_id(KIND, "CallUUID", what)?, call_status(raw), raw);
    e.raw_event = p.get_nonempty("Event").map(str::to_owned);
    e.direction = p.get_nonempty("Direction").map(direction);
    e.from = p.get_nonempty("From").map(str::to_owned);
    e.to = p.get_nonempty("To").map(str::to_owned);
    e.duration = p.get("Duration").and_then(parse_seconds);
    e.billed_duration = p.get("BillDuration").and_then(parse_seconds);
    e.hangup_cause = p
        .get_nonempty("HangupCause")
        .or_else(|| p.get_nonempty("HangupCauseName"))
        .map(str::to_owned);
    e.answered_by = p.get_nonempty("Machine").map(answered_by);
    e.initiation_id = p
        .get_nonempty("RequestUUID")
        .or_else(|| p.get_nonempty("ALegRequestUUID"))
        .map(str::to_owned);
    e.parent_call_id = p
        .get_nonempty("ALegUUID")
        .filter(|a| Some(*a) != p.get("CallUUID"))
        .and_then(|a| CallId::new(a).ok());
    Ok(e)
}

/// The answer request of an inbound call.
pub fn parse_inbound(request: &WebhookRequest) -> Result<InboundCall, Error> {
    let what = "inbound call webhook";
    let p = request.params();
    let id = p.call_id(KIND, "CallUUID", what)?;
    let to = p.required(KIND, "To", what)?;
    Ok(InboundCall::new(id, p.get("From").unwrap_or(""), to))
}

/// What a `<Stream statusCallbackUrl>` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamEvent {
    /// `StartStream`.
    Started,
    /// `StopStream`.
    Stopped,
    /// `DroppedStream`: the socket broke.
    Dropped,
    /// Anything else, as sent.
    Unknown(String),
}

/// A stream status callback.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamStatus {
    /// The call.
    pub call_id: CallId,
    /// The stream, when Plivo says which.
    pub stream_id: Option<String>,
    /// What happened.
    pub event: StreamEvent,
    /// Plivo's reason for a drop or error, when sent.
    pub error: Option<String>,
}

/// A stream status callback request.
pub fn parse_stream_status(request: &WebhookRequest) -> Result<StreamStatus, Error> {
    let what = "stream status callback";
    let p = request.params();
    let event = match p.required(KIND, "Event", what)? {
        "StartStream" => StreamEvent::Started,
        "StopStream" => StreamEvent::Stopped,
        "DroppedStream" => StreamEvent::Dropped,
        other => StreamEvent::Unknown(other.to_owned()),
    };
    Ok(StreamStatus {
        call_id: p.call_id(KIND, "CallUUID", what)?,
        stream_id: ["StreamID", "StreamId", "StreamUUID"]
            .iter()
            .find_map(|k| p.get_nonempty(k))
            .map(str::to_owned),
        event,
        error: p
            .get_nonempty("Error")
            .or_else(|| p.get_nonempty("Reason"))
            .map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    // Every documented CallStatus is read through the whole callback by the webhook contract
    // (tests/signature.rs); the CDR's states are read here.
    #[test]
    fn cdr_states_and_directions_map() {
        for (raw, status) in [
            ("ANSWER", CallStatus::Completed),
            ("BUSY", CallStatus::Busy),
            ("NOANSWER", CallStatus::NoAnswer),
            ("CANCEL", CallStatus::Canceled),
            ("FAILED", CallStatus::Failed),
            ("EARLY MEDIA", CallStatus::from_raw("EARLY MEDIA")),
        ] {
            assert_eq!(cdr_state(raw), status, "{raw}");
        }
        assert_eq!(direction("inbound"), Direction::Inbound);
        assert_eq!(direction("outbound"), Direction::Outbound);
    }

    #[test]
    fn a_hangup_callback() {
        let r = WebhookRequest::form_post(
            "https://a/hangup".parse().unwrap(),
            &[
                ("CallUUID", "b2a7c1d4-5e6f-4a8b-9c0d-1e2f3a4b5c6d"),
                ("RequestUUID", "2e94fb9a-a58f-4a1c-86ac-59cba3e4a2b5"),
                ("CallStatus", "completed"),
                ("Event", "Hangup"),
                ("HangupCause", "NORMAL_CLEARING"),
                ("Duration", "17"),
                ("BillDuration", "60"),
                ("Direction", "outbound"),
                ("From", "14155550199"),
                ("To", "14155550100"),
            ],
        );
        let e = parse_status_callback(&r).unwrap();
        assert_eq!(e.status, CallStatus::Completed);
        assert_eq!(e.raw_event.as_deref(), Some("Hangup"));
        assert_eq!(e.hangup_cause.as_deref(), Some("NORMAL_CLEARING"));
        assert_eq!(e.duration, Some(Duration::from_secs(17)));
        assert_eq!(e.billed_duration, Some(Duration::from_secs(60)));
        assert_eq!(
            e.initiation_id.as_deref(),
            Some("2e94fb9a-a58f-4a1c-86ac-59cba3e4a2b5")
        );
        let inbound = parse_inbound(&r).unwrap();
        assert_eq!(inbound.to_number.unwrap().as_str(), "+14155550100");
    }

    #[test]
    fn stream_status_callbacks_say_which_event() {
        for (event, parsed) in [
            ("StartStream", StreamEvent::Started),
            ("StopStream", StreamEvent::Stopped),
            ("DroppedStream", StreamEvent::Dropped),
            ("PausedStream", StreamEvent::Unknown("PausedStream".into())),
        ] {
            let r = WebhookRequest::form_post(
                "https://a/s".parse().unwrap(),
                &[("Event", event), ("CallUUID", "c1"), ("StreamID", "s1")],
            );
            let s = parse_stream_status(&r).unwrap();
            assert_eq!(s.event, parsed, "{event}");
            assert_eq!(s.call_id.as_str(), "c1");
            assert_eq!(s.stream_id.as_deref(), Some("s1"));
            assert_eq!(s.error, None);
        }
        let r = WebhookRequest::form_post(
            "https://a/s".parse().unwrap(),
            &[
                ("Event", "DroppedStream"),
                ("CallUUID", "c1"),
                ("StreamId", "s2"),
                ("Error", "socket closed"),
            ],
        );
        let s = parse_stream_status(&r).unwrap();
        assert_eq!(
            (s.event, s.stream_id.as_deref(), s.error.as_deref()),
            (StreamEvent::Dropped, Some("s2"), Some("socket closed"))
        );
        for missing in [&[("CallUUID", "c1")][..], &[("Event", "StartStream")][..]] {
            let r = WebhookRequest::form_post("https://a/s".parse().unwrap(), missing);
            assert!(
                matches!(parse_stream_status(&r), Err(Error::Decode(_))),
                "{missing:?}"
            );
        }
    }
}
