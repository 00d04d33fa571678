//! Plivo's values mapped to the normalized model (one table each), and the webhook parsers.

use std::time::SystemTime;

use telephony_core::{
    AnsweredBy, CallEvent, CallId, CallStatus, Direction, Error, InboundCall, WebhookRequest,
    parse_seconds,
};
use time::OffsetDateTime;

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

/// The outcome of a call record whose `call_state` is missing or not in [`cdr_state`]'s table.
/// Plivo keeps a record only for a call that ended, so the outcome is always final:
///
/// - `answered` (the record has an `answer_time`, or billed seconds): [`CallStatus::Completed`];
/// - else the hangup cause (Plivo's "Hangup causes" table) says why it was not answered: a
///   busy line is [`CallStatus::Busy`]; code 1000 (`Canceled`: the Hangup Call API before an
///   answer) is [`CallStatus::Canceled`]; a destination issue (codes 2000–2999), the
///   account's limits (1010, out of credits; 1020, the simultaneous dial limit) or an `Error`
///   hangup source is [`CallStatus::Failed`];
/// - anything else, no cause at all included, ended unanswered: [`CallStatus::NoAnswer`].
pub fn ended_call(
    answered: bool,
    cause_code: Option<&str>,
    cause_name: Option<&str>,
    hangup_source: Option<&str>,
) -> CallStatus {
    if answered {
        return CallStatus::Completed;
    }
    let code = cause_code.and_then(|c| c.trim().parse::<u32>().ok());
    let name = cause_name.unwrap_or_default().trim().to_ascii_lowercase();
    if name.contains("busy") {
        return CallStatus::Busy;
    }
    if code == Some(1000) || matches!(name.as_str(), "canceled" | "cancelled") {
        return CallStatus::Canceled;
    }
    let error = hangup_source.is_some_and(|s| s.trim().eq_ignore_ascii_case("error"));
    if error || matches!(code, Some(1010 | 1020 | 2000..=2999)) {
        return CallStatus::Failed;
    }
    CallStatus::NoAnswer
}

/// A time as Plivo's call records write it: `2017-05-22 17:49:40+05:30` (the account's zone,
/// with its offset), with or without fractional seconds (`2020-08-05 16:15:15.852059+05:30`),
/// or RFC 3339. A time without an offset is `None`: Plivo writes those in the zone set in the
/// account's console, which the text does not say, and reading it as UTC would be hours off.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use telephony_plivo::status::timestamp;
///
/// let end = timestamp("2017-05-22 17:49:40+05:30").unwrap();
/// assert_eq!(end, SystemTime::UNIX_EPOCH + Duration::from_secs(1_495_455_580));
/// assert_eq!(timestamp("2017-05-22 13:17:49.050872"), None);
/// ```
pub fn timestamp(s: &str) -> Option<SystemTime> {
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;

    let s = s.trim();
    let with_offset = format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second][optional [.[subsecond]]][offset_hour sign:mandatory]:[offset_minute]"
    );
    let compact_offset = format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second][optional [.[subsecond]]][offset_hour sign:mandatory][offset_minute]"
    );
    OffsetDateTime::parse(s, &with_offset)
        .or_else(|_| OffsetDateTime::parse(s, &compact_offset))
        .or_else(|_| OffsetDateTime::parse(s, &Rfc3339))
        .ok()
        .map(SystemTime::from)
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
    fn a_record_without_a_state_ends_by_its_answer_and_its_cause() {
        use CallStatus::*;
        for (answered, code, name, source, status) in [
            // plivo-python's callGetResponse.json: no answer_time, nothing billed, no cause.
            (false, None, None, None, NoAnswer),
            (
                true,
                Some("4000"),
                Some("Normal Hangup"),
                Some("Callee"),
                Completed,
            ),
            // Answered, then an error: it was answered all the same.
            (
                true,
                Some("8011"),
                Some("Invalid Answer XML"),
                Some("Error"),
                Completed,
            ),
            (false, None, Some("Busy Line"), Some("Callee"), Busy),
            (
                false,
                Some("1000"),
                Some("Canceled"),
                Some("API Request"),
                Canceled,
            ),
            (false, None, Some("Cancelled"), None, Canceled),
            (
                false,
                Some("1010"),
                Some("Canceled (Out Of Credits)"),
                Some("Plivo"),
                Failed,
            ),
            (
                false,
                Some("2000"),
                Some("Invalid Destination Address"),
                None,
                Failed,
            ),
            (false, Some(" 2010 "), None, Some("Carrier"), Failed),
            (
                false,
                Some("8011"),
                Some("Invalid Answer XML"),
                Some("Error"),
                Failed,
            ),
            (
                false,
                Some("3010"),
                Some("No Answer"),
                Some("Callee"),
                NoAnswer,
            ),
            (
                false,
                Some("not a code"),
                Some("Ring Timeout Reached"),
                None,
                NoAnswer,
            ),
        ] {
            assert_eq!(
                ended_call(answered, code, name, source),
                status,
                "{answered} {code:?} {name:?} {source:?}"
            );
        }
    }

    #[test]
    fn times_as_plivo_writes_them() {
        let at = |secs: u64, nanos: u32| {
            Some(
                SystemTime::UNIX_EPOCH
                    + Duration::from_secs(secs)
                    + Duration::from_nanos(u64::from(nanos)),
            )
        };
        for (text, time) in [
            // plivo-python's callGetResponse.json.
            ("2017-05-22 17:49:40+05:30", at(1_495_455_580, 0)),
            (" 2017-05-22 17:49:30+05:30 ", at(1_495_455_570, 0)),
            // Its recordingGetResponse.json's add_time.
            (
                "2020-08-05 16:15:15.852059+05:30",
                at(1_596_624_315, 852_059_000),
            ),
            ("2017-05-22 12:19:40+00:00", at(1_495_455_580, 0)),
            ("2017-05-22 08:19:40-0400", at(1_495_455_580, 0)),
            ("2017-05-22T12:19:40Z", at(1_495_455_580, 0)),
            // No offset (its liveCallGetResponse.json's session_start): the zone is unknown.
            ("2017-05-22 13:17:49.050872", None),
            ("2017-05-22 17:49:40", None),
            ("", None),
            ("yesterday", None),
        ] {
            assert_eq!(timestamp(text), time, "{text:?}");
        }
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
