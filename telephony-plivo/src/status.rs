//! Plivo's values mapped to the normalized model (one table each), and the webhook parsers.

use std::time::Duration;

use telephony_core::{
    AnsweredBy, CallEvent, CallId, CallStatus, DecodeError, Direction, Error, FormParams,
    InboundCall, WebhookRequest,
};

use crate::KIND;

/// Plivo `CallStatus` → normalized status, for every documented value: `ringing`,
/// `in-progress`, `completed`, `busy`, `no-answer`, `cancel` (by the caller), `timeout` (a
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
        other => CallStatus::Unknown(other.to_owned()),
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
        _ => CallStatus::Unknown(raw.to_owned()),
    }
}

/// Plivo `Direction` → normalized direction.
pub fn direction(raw: &str) -> Direction {
    match raw {
        "inbound" => Direction::Inbound,
        "outbound" => Direction::Outbound,
        other => Direction::Unknown(other.to_owned()),
    }
}

fn required<'a>(p: &'a FormParams, name: &str, what: &str) -> Result<&'a str, Error> {
    p.get_nonempty(name)
        .ok_or_else(|| Error::Decode(DecodeError::new(KIND, what, format!("no {name} parameter"))))
}

fn call_id(p: &FormParams, name: &str, what: &str) -> Result<CallId, Error> {
    CallId::new(required(p, name, what)?)
        .map_err(|e| Error::Decode(DecodeError::new(KIND, what, e.to_string())))
}

fn seconds(s: &str) -> Option<Duration> {
    s.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// An answer, ring or hangup callback (`CallUUID`, `CallStatus`, `Event`, `HangupCause`,
/// `Duration`, `BillDuration`, `Direction`, `From`, `To`), form or query.
///
/// `RequestUUID` (or `ALegRequestUUID`), the id `initiate_call` returned, becomes
/// [`CallEvent::initiation_id`]: that is how a host matches these events to the calls it placed.
pub fn parse_status_callback(request: &WebhookRequest) -> Result<CallEvent, Error> {
    let what = "call callback";
    let p = request.params();
    let raw = required(&p, "CallStatus", what)?;
    let mut e = CallEvent::new(call_id(&p, "CallUUID", what)?, call_status(raw), raw);
    e.raw_event = p.get_nonempty("Event").map(str::to_owned);
    e.direction = p.get_nonempty("Direction").map(direction);
    e.from = p.get_nonempty("From").map(str::to_owned);
    e.to = p.get_nonempty("To").map(str::to_owned);
    e.duration = p.get("Duration").and_then(seconds);
    e.billed_duration = p.get("BillDuration").and_then(seconds);
    e.hangup_cause = p
        .get_nonempty("HangupCause")
        .or_else(|| p.get_nonempty("HangupCauseName"))
        .map(str::to_owned);
    e.answered_by = p.get_nonempty("Machine").map(|m| match m {
        "true" => AnsweredBy::Machine,
        "false" => AnsweredBy::Human,
        other => AnsweredBy::Other(other.to_owned()),
    });
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
    let id = call_id(&p, "CallUUID", what)?;
    let to = required(&p, "To", what)?;
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
    let event = match required(&p, "Event", what)? {
        "StartStream" => StreamEvent::Started,
        "StopStream" => StreamEvent::Stopped,
        "DroppedStream" => StreamEvent::Dropped,
        other => StreamEvent::Unknown(other.to_owned()),
    };
    Ok(StreamStatus {
        call_id: call_id(&p, "CallUUID", what)?,
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
    use super::*;

    #[test]
    fn every_documented_status_maps() {
        for (raw, status, terminal) in [
            ("ringing", CallStatus::Ringing, false),
            ("in-progress", CallStatus::InProgress, false),
            ("completed", CallStatus::Completed, true),
            ("busy", CallStatus::Busy, true),
            ("no-answer", CallStatus::NoAnswer, true),
            ("cancel", CallStatus::Canceled, true),
            ("timeout", CallStatus::Failed, true),
            ("failed", CallStatus::Failed, true),
        ] {
            assert_eq!(call_status(raw), status, "{raw}");
            assert_eq!(call_status(raw).is_terminal(), terminal, "{raw}");
        }
        assert_eq!(call_status("beamed"), CallStatus::Unknown("beamed".into()));
        for (raw, status) in [
            ("ANSWER", CallStatus::Completed),
            ("BUSY", CallStatus::Busy),
            ("NOANSWER", CallStatus::NoAnswer),
            ("CANCEL", CallStatus::Canceled),
            ("FAILED", CallStatus::Failed),
            ("EARLY MEDIA", CallStatus::Unknown("EARLY MEDIA".into())),
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
        for event in ["StartStream", "StopStream", "DroppedStream", "Else"] {
            let r = WebhookRequest::form_post(
                "https://a/s".parse().unwrap(),
                &[("Event", event), ("CallUUID", "c1"), ("StreamID", "s1")],
            );
            let s = parse_stream_status(&r).unwrap();
            assert_eq!(s.stream_id.as_deref(), Some("s1"));
        }
    }
}
