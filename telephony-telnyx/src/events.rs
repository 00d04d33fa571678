//! Telnyx's webhook events, read into the normalized model (one table), and the values that
//! go with them: hang-up causes, machine detection's verdicts, call cost.
//!
//! Every Call Control event is one JSON envelope,
//! `{"data":{"event_type","id","occurred_at","payload":{…}},"meta":{…}}`, posted to the
//! application's webhook URL or the call's own `webhook_url`. Events may arrive twice, late or
//! out of order: `data.id` is the delivery's key (the replay guard's), `occurred_at` orders
//! them. `event_type` sometimes arrives with underscores (`streaming_started`); it is read
//! with dots.

use std::time::SystemTime;

use rust_decimal::Decimal;
use serde::Deserialize;
use telephony_core::{
    AnsweredBy, CallCost, CallEvent, CallId, CallStatus, Currency, DecodeError, Direction, E164,
    Error, InboundCall, WebhookRequest, parse_decimal,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::KIND;

/// The envelope of every event.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct Envelope {
    /// The event.
    pub data: EventData,
}

/// One event: its type, its delivery id, when it happened, and its payload.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct EventData {
    /// `call.answered`, `call.hangup`, `streaming.started`, … (with dots).
    pub event_type: String,
    /// Unique to the event: a repeated delivery carries the same id.
    #[serde(default)]
    pub id: Option<String>,
    /// When it happened (RFC 3339).
    #[serde(default)]
    pub occurred_at: Option<String>,
    /// What it says.
    #[serde(default)]
    pub payload: Payload,
}

/// The payload fields an adapter reads; every other field is ignored.
#[derive(Debug, Clone, Default, Deserialize)]
#[non_exhaustive]
pub struct Payload {
    /// The id commands take (`v3:…`): the call's id in this library.
    #[serde(default)]
    pub call_control_id: Option<String>,
    /// The leg's UUID.
    #[serde(default)]
    pub call_leg_id: Option<String>,
    /// The session's UUID, shared by the legs of one session.
    #[serde(default)]
    pub call_session_id: Option<String>,
    /// The Call Control application.
    #[serde(default)]
    pub connection_id: Option<String>,
    /// What the last command set, echoed (base64).
    #[serde(default)]
    pub client_state: Option<String>,
    /// The caller.
    #[serde(default)]
    pub from: Option<String>,
    /// The called party.
    #[serde(default)]
    pub to: Option<String>,
    /// `incoming` or `outgoing`.
    #[serde(default)]
    pub direction: Option<String>,
    /// `parked`, `bridging`, `answered`, `hangup`, …
    #[serde(default)]
    pub state: Option<String>,
    /// Why the call ended (`call.hangup`).
    #[serde(default)]
    pub hangup_cause: Option<String>,
    /// The SIP code that ended it, or `unspecified` (`call.hangup`).
    #[serde(default, deserialize_with = "telephony_core::rest::string_or_number")]
    pub sip_hangup_cause: Option<String>,
    /// `caller`, `callee` or `unknown` (`call.hangup`).
    #[serde(default)]
    pub hangup_source: Option<String>,
    /// Machine detection's verdict (`call.machine.*`).
    #[serde(default)]
    pub result: Option<String>,
    /// The total (`call.cost`), as a decimal string.
    #[serde(default, deserialize_with = "telephony_core::rest::string_or_number")]
    pub total_cost: Option<String>,
    /// The parts of the cost, each in its own currency (`call.cost`).
    #[serde(default)]
    pub cost_parts: Vec<CostPart>,
    /// The billed time (`call.cost`).
    #[serde(default, deserialize_with = "telephony_core::rest::string_or_number")]
    pub billed_duration_secs: Option<String>,
    /// Why a stream failed (`streaming.failed`).
    #[serde(default)]
    pub failure_reason: Option<String>,
    /// The key pressed (`call.dtmf.received`).
    #[serde(default)]
    pub digit: Option<String>,
    /// The recording's files, links valid 10 minutes (`call.recording.saved`).
    #[serde(default)]
    pub recording_urls: Option<RecordingUrls>,
    /// The recording's permanent files, where support enabled them (`call.recording.saved`).
    #[serde(default)]
    pub public_recording_urls: Option<RecordingUrls>,
    /// `single` or `dual` (`call.recording.saved`).
    #[serde(default, deserialize_with = "telephony_core::rest::string_or_number")]
    pub channels: Option<String>,
    /// When the recording started, RFC 3339 (`call.recording.saved`).
    #[serde(default)]
    pub recording_started_at: Option<String>,
    /// When the recording ended, RFC 3339 (`call.recording.saved`).
    #[serde(default)]
    pub recording_ended_at: Option<String>,
    /// The recording's id, where the event names it (the SDK's `call.recording.saved` does
    /// not; its conference twin does).
    #[serde(default)]
    pub recording_id: Option<String>,
    /// Why recording failed (`call.recording.error`).
    #[serde(default)]
    pub reason: Option<String>,
}

/// A recording's files by format.
#[derive(Debug, Clone, Default, Deserialize)]
#[non_exhaustive]
pub struct RecordingUrls {
    /// The MP3.
    #[serde(default)]
    pub mp3: Option<String>,
    /// The WAV.
    #[serde(default)]
    pub wav: Option<String>,
}

/// One part of a call's cost.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct CostPart {
    /// `call-control`, `sip-trunking`, `call-recording`, …
    #[serde(default)]
    pub call_part: Option<String>,
    /// The amount, a decimal string.
    #[serde(default, deserialize_with = "telephony_core::rest::string_or_number")]
    pub cost: Option<String>,
    /// Its currency.
    #[serde(default)]
    pub currency: Option<String>,
    /// The rate per minute.
    #[serde(default, deserialize_with = "telephony_core::rest::string_or_number")]
    pub rate: Option<String>,
}

/// Reads an event's envelope.
///
/// # Errors
///
/// A body that is not a Telnyx event (not JSON, no `data.event_type`).
pub fn envelope(body: &[u8]) -> Result<Envelope, Error> {
    let mut envelope: Envelope = telephony_core::rest::decode_json(KIND, "webhook event", body)?;
    envelope.data.event_type = event_type(&envelope.data.event_type);
    Ok(envelope)
}

/// An event type with dots, as current deliveries write it: `streaming_started` and the v1
/// `call_answered` read as `streaming.started` and `call.answered`, and `call.streaming.*` as
/// `streaming.*`. A type that has dots keeps its underscores (`call.ai_gather.ended`).
pub fn event_type(raw: &str) -> String {
    let raw = raw.trim();
    let dotted = if raw.contains('.') {
        raw.to_owned()
    } else {
        raw.replace('_', ".")
    };
    // The streaming events have no `call.` prefix; some writers add one.
    match dotted.strip_prefix("call.streaming.") {
        Some(rest) => format!("streaming.{rest}"),
        None => dotted,
    }
}

/// `hangup_cause` → the normalized status of the ended call. An open set: a cause not listed
/// ends the call as completed, and the cause is kept as sent.
///
/// | cause | status |
/// |---|---|
/// | `user_busy` | busy |
/// | `timeout`, `no_answer`, `no_user_response` | no-answer |
/// | `call_rejected`, `not_found`, `unallocated_number`, `destination_out_of_order`, `network_out_of_order`, `service_unavailable`, `subscriber_absent`, `recovery_on_timer_expire` | failed |
/// | `originator_cancel` | canceled (ended by its originator before it was answered) |
/// | `normal_clearing`, `time_limit`, `user_hangup`, `normal_unspecified`, `unspecified`, any other | completed |
pub fn hangup_status(cause: &str) -> CallStatus {
    match cause {
        "user_busy" => CallStatus::Busy,
        "timeout" | "no_answer" | "no_user_response" => CallStatus::NoAnswer,
        "call_rejected"
        | "not_found"
        | "unallocated_number"
        | "destination_out_of_order"
        | "network_out_of_order"
        | "service_unavailable"
        | "subscriber_absent"
        | "recovery_on_timer_expire" => CallStatus::Failed,
        "originator_cancel" => CallStatus::Canceled,
        _ => CallStatus::Completed,
    }
}

/// A call's `state` (in payloads and the call resource) → the normalized status, where the
/// state says one.
pub fn state_status(state: &str) -> Option<CallStatus> {
    Some(match state {
        "parked" | "initiated" | "dialing" => CallStatus::Initiated,
        "ringing" | "bridging" | "early" => CallStatus::Ringing,
        "answered" | "active" | "bridged" | "held" => CallStatus::InProgress,
        "hangup" | "ended" => CallStatus::Completed,
        _ => return None,
    })
}

/// Machine detection's `result` → who answered: the one table for every `call.machine.*`
/// event, standard and premium (telnyx-python 4.189 `types/call_machine_*.py`).
///
/// | result | event | answered by |
/// |---|---|---|
/// | `human`, `human_residence`, `human_business` | detection ended | human |
/// | `machine` | detection ended | machine |
/// | `beep_detected` | greeting ended | machine, greeting ended with a beep |
/// | `ended`, `no_beep_detected` | greeting ended | machine, greeting ended without a beep |
/// | `fax_detected` | premium detection ended | fax |
/// | `not_sure`, `silence` | any | undetermined |
/// | any other (`prompt_ended`, `screening` of premium iOS call screening, which this adapter never asks for) | | kept as sent |
pub fn answered_by(result: &str) -> AnsweredBy {
    match result {
        "human" | "human_residence" | "human_business" => AnsweredBy::Human,
        "machine" => AnsweredBy::Machine,
        "beep_detected" => AnsweredBy::MachineEndBeep,
        "ended" | "no_beep_detected" => AnsweredBy::MachineGreetingEnded,
        "fax_detected" => AnsweredBy::Fax,
        "not_sure" | "silence" => AnsweredBy::Undetermined,
        other => AnsweredBy::from_raw(other),
    }
}

/// An event → the normalized status.
///
/// | event | status |
/// |---|---|
/// | `call.initiated` | initiated |
/// | `call.ringing` | ringing |
/// | `call.answered`, `call.bridged`, `call.machine.*`, `call.dtmf.received`, `call.speak.*`, `call.playback.*`, `call.gather.ended`, `streaming.started` | in-progress (they happen only on a live call) |
/// | `call.hangup` | by [`hangup_status`] |
/// | any other (`streaming.stopped`, `call.recording.saved`, `call.cost`, …) | by the payload's `state` where it has one, else unknown with the event type: they come during a call or after it |
pub fn event_status(event_type: &str, payload: &Payload) -> CallStatus {
    match event_type {
        "call.initiated" => CallStatus::Initiated,
        "call.ringing" => CallStatus::Ringing,
        "call.answered" | "call.bridged" | "call.dtmf.received" | "call.gather.ended"
        | "streaming.started" => CallStatus::InProgress,
        t if t.starts_with("call.machine.")
            || t.starts_with("call.speak.")
            || t.starts_with("call.playback.") =>
        {
            CallStatus::InProgress
        }
        "call.hangup" => hangup_status(payload.hangup_cause.as_deref().unwrap_or("")),
        other => payload
            .state
            .as_deref()
            .and_then(state_status)
            .unwrap_or_else(|| CallStatus::from_raw(other)),
    }
}

/// `incoming`/`outgoing` → direction.
pub fn direction(raw: &str) -> Direction {
    match raw {
        "incoming" | "inbound" => Direction::Inbound,
        "outgoing" | "outbound" => Direction::Outbound,
        other => Direction::from_raw(other),
    }
}

/// RFC 3339, as `occurred_at` and `start_time` are written.
pub fn timestamp(s: &str) -> Option<SystemTime> {
    OffsetDateTime::parse(s.trim(), &Rfc3339)
        .ok()
        .map(SystemTime::from)
}

/// A `call.cost` payload's cost: the total in the currency every part shares. Parts in more
/// than one currency have no one total, and give `None` (the parts stay in the payload).
///
/// # Errors
///
/// An amount or currency that is not one.
pub fn cost(payload: &Payload) -> Result<Option<CallCost>, Error> {
    let mut currency: Option<&str> = None;
    let mut sum = Decimal::ZERO;
    let mut rate = None;
    for part in &payload.cost_parts {
        let Some(code) = part.currency.as_deref() else {
            continue;
        };
        if currency.is_some_and(|c| !c.eq_ignore_ascii_case(code)) {
            return Ok(None);
        }
        currency = Some(code);
        if let Some(amount) = part.cost.as_deref() {
            sum += decimal(amount, "cost_parts[].cost")?;
        }
        if part.call_part.as_deref() == Some("call-control") {
            rate = part
                .rate
                .as_deref()
                .map(|r| decimal(r, "cost_parts[].rate"))
                .transpose()?;
        }
    }
    let Some(code) = currency else {
        return Ok(None);
    };
    let currency = Currency::new(code).ok_or_else(|| {
        Error::Decode(DecodeError::new(
            KIND,
            "call cost",
            format!("currency {code:?} is not an ISO 4217 code"),
        ))
    })?;
    let amount = match payload.total_cost.as_deref() {
        Some(total) => decimal(total, "total_cost")?,
        None => sum,
    };
    Ok(Some(CallCost::new(amount, currency).with_rate(rate)))
}

fn decimal(s: &str, field: &str) -> Result<Decimal, Error> {
    parse_decimal(KIND, field, Some(s))?
        .ok_or_else(|| Error::Decode(DecodeError::new(KIND, field, "empty")))
}

/// A call id from a payload.
fn call_id(payload: &Payload, what: &str) -> Result<CallId, Error> {
    let id = payload.call_control_id.as_deref().ok_or_else(|| {
        Error::Decode(DecodeError::new(
            KIND,
            what,
            "the payload has no call_control_id",
        ))
    })?;
    CallId::new(id).map_err(|e| Error::Decode(DecodeError::new(KIND, what, e.to_string())))
}

/// A webhook event as a [`CallEvent`]: the status by [`event_status`], the event type in
/// `raw_event`, the hang-up cause (or a `call.recording.error`'s reason) in `raw_status`
/// (else the event type), the SIP code, the session as the conversation, machine detection's
/// verdict and the cost where the event has them.
///
/// # Errors
///
/// A body that is not a Telnyx event, an event about no call, a cost that is not a decimal.
pub fn parse_event(request: &WebhookRequest) -> Result<CallEvent, Error> {
    event_of(&envelope(&request.body)?.data)
}

/// An event already read ([`envelope`]) as a [`CallEvent`], as [`parse_event`] reads it; a
/// `call.recording.error`'s reason is its `raw_status`.
///
/// # Errors
///
/// An event about no call, a cost that is not a decimal.
pub fn event_of(data: &EventData) -> Result<CallEvent, Error> {
    let payload = &data.payload;
    let call_id = call_id(payload, "webhook event")?;
    let status = event_status(&data.event_type, payload);
    let raw_status = match data.event_type.as_str() {
        "call.hangup" => payload.hangup_cause.clone(),
        "call.recording.error" => payload.reason.clone(),
        _ => None,
    }
    .unwrap_or_else(|| data.event_type.clone());
    let mut event = CallEvent::new(call_id, status, raw_status);
    event.raw_event = Some(data.event_type.clone());
    event.direction = payload.direction.as_deref().map(direction);
    event.from.clone_from(&payload.from);
    event.to.clone_from(&payload.to);
    event.hangup_cause.clone_from(&payload.hangup_cause);
    event.sip_code = payload
        .sip_hangup_cause
        .as_deref()
        .and_then(|c| c.parse().ok());
    event.timestamp = data.occurred_at.as_deref().and_then(timestamp);
    event.conversation_id.clone_from(&payload.call_session_id);
    if data.event_type.starts_with("call.machine.") {
        event.answered_by = payload.result.as_deref().map(answered_by);
    }
    if data.event_type == "call.cost" {
        event.cost = cost(payload)?;
        event.billed_duration = payload
            .billed_duration_secs
            .as_deref()
            .and_then(telephony_core::parse_seconds);
    }
    Ok(event)
}

/// The event that announces an inbound call: `call.initiated` with `direction` `incoming`.
///
/// # Errors
///
/// Any other event (it is a status event: read it with [`parse_event`]), or a body that is
/// not a Telnyx event.
pub fn parse_inbound(request: &WebhookRequest) -> Result<InboundCall, Error> {
    let Envelope { data } = envelope(&request.body)?;
    let payload = &data.payload;
    let incoming = payload
        .direction
        .as_deref()
        .is_none_or(|d| direction(d) == Direction::Inbound);
    if data.event_type != "call.initiated" || !incoming {
        return Err(Error::Decode(DecodeError::new(
            KIND,
            "inbound call",
            format!(
                "a {} event{}, not an incoming call.initiated",
                data.event_type,
                payload
                    .direction
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ),
        )));
    }
    let call_id = call_id(payload, "inbound call")?;
    let from = payload.from.clone().unwrap_or_default();
    let to = payload.to.clone().unwrap_or_default();
    let mut call = InboundCall::new(call_id, from.clone(), to.clone())
        .with_account(payload.connection_id.clone())
        .with_conversation(payload.call_session_id.clone());
    call.from_number = E164::parse_lenient(&from).ok();
    call.to_number = E164::parse_lenient(&to).ok();
    Ok(call)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_cause_has_its_status_and_busy_is_busy() {
        assert_eq!(hangup_status("user_busy"), CallStatus::Busy);
        assert_eq!(hangup_status("timeout"), CallStatus::NoAnswer);
        assert_eq!(hangup_status("no_answer"), CallStatus::NoAnswer);
        assert_eq!(hangup_status("call_rejected"), CallStatus::Failed);
        assert_eq!(hangup_status("not_found"), CallStatus::Failed);
        assert_eq!(hangup_status("originator_cancel"), CallStatus::Canceled);
        assert_eq!(hangup_status("normal_clearing"), CallStatus::Completed);
        assert_eq!(hangup_status("time_limit"), CallStatus::Completed);
        assert_eq!(hangup_status("unspecified"), CallStatus::Completed);
        assert_eq!(hangup_status("something_new"), CallStatus::Completed);
    }

    #[test]
    fn underscored_event_types_read_with_dots() {
        assert_eq!(event_type("streaming_started"), "streaming.started");
        assert_eq!(event_type("call_initiated"), "call.initiated");
        assert_eq!(event_type("call.hangup"), "call.hangup");
        assert_eq!(event_type("call.ai_gather.ended"), "call.ai_gather.ended");
        assert_eq!(event_type("call.streaming.started"), "streaming.started");
        assert_eq!(event_type("call_streaming_failed"), "streaming.failed");
    }

    #[test]
    fn a_cost_in_one_currency_is_its_total_and_mixed_currencies_have_none() {
        let payload: Payload = serde_json::from_str(
            r#"{"total_cost":"0.0123","cost_parts":[{"call_part":"call-control","cost":"0.002","currency":"USD","rate":"0.002"},{"call_part":"sip-trunking","cost":"0.0103","currency":"USD","rate":"0.01"}]}"#,
        )
        .unwrap();
        let cost = cost(&payload).unwrap().unwrap();
        assert_eq!(cost.amount.to_string(), "0.0123");
        assert_eq!(cost.currency.code(), "USD");
        assert_eq!(cost.rate.unwrap().to_string(), "0.002");
        let mixed: Payload = serde_json::from_str(
            r#"{"total_cost":"1","cost_parts":[{"cost":"0.5","currency":"USD"},{"cost":"0.5","currency":"EUR"}]}"#,
        )
        .unwrap();
        assert_eq!(super::cost(&mixed).unwrap(), None);
        let bad: Payload =
            serde_json::from_str(r#"{"cost_parts":[{"cost":"abc","currency":"USD"}]}"#).unwrap();
        assert!(super::cost(&bad).is_err());
    }
}
