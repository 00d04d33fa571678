//! Twilio's values mapped to the normalized model (one table each), and the webhook parsers.

use std::time::SystemTime;

use telephony_core::{
    AnsweredBy, CallEvent, CallId, CallStatus, DecodeError, Direction, Error, InboundCall,
    WebhookRequest,
};

use crate::KIND;
use crate::resources::{parse_rfc2822, parse_seconds};

pub use crate::callbacks::{
    parse_callback, parse_machine_callback, parse_recording_callback, parse_transfer_callback,
};

/// Twilio `CallStatus` → normalized status. Every documented value is listed; anything else
/// is kept as [`CallStatus::Unknown`].
pub fn call_status(raw: &str) -> CallStatus {
    match raw {
        "queued" => CallStatus::Queued,
        "initiated" => CallStatus::Initiated,
        "ringing" => CallStatus::Ringing,
        "in-progress" => CallStatus::InProgress,
        "completed" => CallStatus::Completed,
        "busy" => CallStatus::Busy,
        "no-answer" => CallStatus::NoAnswer,
        "failed" => CallStatus::Failed,
        "canceled" => CallStatus::Canceled,
        other => CallStatus::from_raw(other),
    }
}

/// Twilio `Direction` → normalized direction.
pub fn direction(raw: &str) -> Direction {
    match raw {
        "inbound" => Direction::Inbound,
        "outbound-api" | "outbound-dial" | "outbound" => Direction::Outbound,
        other => Direction::from_raw(other),
    }
}

/// Twilio `AnsweredBy` → normalized verdict: the one table for every place Twilio says it
/// (the status callback, the answer request, the call resource, the async AMD callback).
///
/// `MachineDetection=Enable` gives `human`, `machine_start`, `fax`, `unknown`;
/// `DetectMessageEnd` gives `human`, `machine_end_beep`, `machine_end_silence`,
/// `machine_end_other`, `fax`, `unknown` (Twilio's answering-machine-detection page; the same
/// list in Telnyx's TeXML copy). Anything else is kept as [`AnsweredBy::Other`].
pub fn answered_by(raw: &str) -> AnsweredBy {
    match raw {
        "human" => AnsweredBy::Human,
        "machine_start" => AnsweredBy::Machine,
        "machine_end_beep" => AnsweredBy::MachineEndBeep,
        "machine_end_silence" | "machine_end_other" => AnsweredBy::MachineGreetingEnded,
        "fax" => AnsweredBy::Fax,
        "unknown" => AnsweredBy::Undetermined,
        other => AnsweredBy::from_raw(other),
    }
}

/// A call status callback (`StatusCallback` on the call or the number), form or query.
///
/// Unknown values are kept, never an error; only a missing `CallSid` or `CallStatus` is.
pub fn parse_status_callback(request: &WebhookRequest) -> Result<CallEvent, Error> {
    let what = "status callback";
    let p = request.params();
    let raw = p.required(KIND, "CallStatus", what)?;
    let mut event = CallEvent::new(p.call_id(KIND, "CallSid", what)?, call_status(raw), raw);
    event.direction = p.get_nonempty("Direction").map(direction);
    event.from = p.get_nonempty("From").map(str::to_owned);
    event.to = p.get_nonempty("To").map(str::to_owned);
    event.duration = p.get("CallDuration").and_then(parse_seconds);
    event.answered_by = p.get_nonempty("AnsweredBy").map(answered_by);
    event.sip_code = p.get("SipResponseCode").and_then(|s| s.trim().parse().ok());
    event.timestamp = p.get("Timestamp").and_then(parse_rfc2822);
    event.sequence = p.get("SequenceNumber").and_then(|s| s.trim().parse().ok());
    event.account_id = p.get_nonempty("AccountSid").map(str::to_owned);
    event.parent_call_id = p
        .get_nonempty("ParentCallSid")
        .and_then(|s| CallId::new(s).ok());
    event.raw_event = p.get_nonempty("CallbackSource").map(str::to_owned);
    Ok(event)
}

/// The voice webhook of an inbound call: `CallSid`, `From` (else `Caller`), `To` (else
/// `Called`), `AccountSid`. Only a missing `CallSid` or called number is an error.
pub fn parse_inbound(request: &WebhookRequest) -> Result<InboundCall, Error> {
    let what = "inbound call webhook";
    let p = request.params();
    let id = p.call_id(KIND, "CallSid", what)?;
    // `Caller` and `Called` carry the same numbers as `From` and `To`: either pair will do,
    // and an empty `From` must not hide a `Caller` that is there.
    let from = p
        .get_nonempty("From")
        .or_else(|| p.get_nonempty("Caller"))
        .unwrap_or("");
    let to = p
        .get_nonempty("To")
        .or_else(|| p.get_nonempty("Called"))
        .unwrap_or("");
    if to.is_empty() {
        return Err(Error::Decode(DecodeError::new(
            KIND,
            what,
            "no To parameter",
        )));
    }
    Ok(
        InboundCall::new(id, from, to)
            .with_account(p.get_nonempty("AccountSid").map(str::to_owned)),
    )
}

/// What a `<Stream statusCallback>` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamEvent {
    /// `stream-started`.
    Started,
    /// `stream-stopped`.
    Stopped,
    /// `stream-error`, with Twilio's `StreamError` text.
    Error(String),
    /// Anything else, as sent.
    Unknown(String),
}

/// A stream status callback: a type of its own, apart from call status.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamStatus {
    /// The call.
    pub call_id: CallId,
    /// The stream, `MZ…`.
    pub stream_id: String,
    /// The stream's name, when it has one.
    pub stream_name: Option<String>,
    /// What happened.
    pub event: StreamEvent,
    /// When.
    pub timestamp: Option<SystemTime>,
    /// The account.
    pub account_id: Option<String>,
}

/// A `<Stream statusCallback>` request.
pub fn parse_stream_status(request: &WebhookRequest) -> Result<StreamStatus, Error> {
    let what = "stream status callback";
    let p = request.params();
    let raw = p.required(KIND, "StreamEvent", what)?;
    let event = match raw {
        "stream-started" => StreamEvent::Started,
        "stream-stopped" => StreamEvent::Stopped,
        "stream-error" => StreamEvent::Error(p.get("StreamError").unwrap_or("").to_owned()),
        other => StreamEvent::Unknown(other.to_owned()),
    };
    Ok(StreamStatus {
        call_id: p.call_id(KIND, "CallSid", what)?,
        stream_id: p.required(KIND, "StreamSid", what)?.to_owned(),
        stream_name: p.get_nonempty("StreamName").map(str::to_owned),
        event,
        timestamp: p.get("Timestamp").and_then(parse_rfc2822),
        account_id: p.get_nonempty("AccountSid").map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    // Every documented CallStatus is read through the whole callback by the webhook contract
    // (tests/signature.rs).
    #[test]
    fn directions_and_amd() {
        assert_eq!(direction("inbound"), Direction::Inbound);
        assert_eq!(direction("outbound-api"), Direction::Outbound);
        assert_eq!(direction("outbound-dial"), Direction::Outbound);
        assert_eq!(
            direction("trunking-originating"),
            Direction::from_raw("trunking-originating")
        );
        for (raw, v) in [
            ("human", AnsweredBy::Human),
            ("machine_start", AnsweredBy::Machine),
            ("machine_end_beep", AnsweredBy::MachineEndBeep),
            ("machine_end_silence", AnsweredBy::MachineGreetingEnded),
            ("machine_end_other", AnsweredBy::MachineGreetingEnded),
            ("fax", AnsweredBy::Fax),
            ("unknown", AnsweredBy::Undetermined),
            ("robot", AnsweredBy::from_raw("robot")),
        ] {
            assert_eq!(answered_by(raw), v, "{raw}");
        }
    }

    #[test]
    fn a_completed_callback() {
        let r = WebhookRequest::form_post(
            "https://a/status".parse().unwrap(),
            &[
                ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
                ("CallSid", "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
                ("CallStatus", "completed"),
                ("Direction", "outbound-api"),
                ("From", "+14155550199"),
                ("To", "+14155550100"),
                ("CallDuration", "17"),
                ("AnsweredBy", "human"),
                ("SipResponseCode", "200"),
                ("Timestamp", "Sun, 24 Aug 2025 13:49:54 +0000"),
                ("SequenceNumber", "3"),
                ("CallbackSource", "call-progress-events"),
            ],
        );
        let e = parse_status_callback(&r).unwrap();
        assert_eq!(e.status, CallStatus::Completed);
        assert_eq!(e.duration, Some(Duration::from_secs(17)));
        assert_eq!(e.sip_code, Some(200));
        assert_eq!(e.sequence, Some(3));
        assert_eq!(e.answered_by, Some(AnsweredBy::Human));
        assert_eq!(e.direction, Some(Direction::Outbound));
        assert_eq!(
            e.timestamp
                .unwrap()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
            1_756_043_394
        );
        assert!(
            parse_status_callback(&WebhookRequest::form_post(
                "https://a/s".parse().unwrap(),
                &[("CallSid", "CA1")]
            ))
            .is_err()
        );
    }
}
