//! Vonage's values mapped to the normalized model (one table), and the webhook parsers.
//!
//! Vonage sends events as JSON (`event_method` `POST`, the default) or as a query string
//! (`GET`); answer requests as a query string (`GET`, the default) or JSON (`POST`). The
//! parsers read both, and numbers written as strings or as numbers.

use std::time::{Duration, SystemTime};

use rust_decimal::Decimal;
use telephony_core::{
    CallCost, CallEvent, CallId, CallStatus, Currency, DecodeError, Direction, Error, FormParams,
    InboundCall, WebhookRequest, parse_seconds,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::KIND;

/// Vonage's call `status` → the normalized status, for every documented value.
///
/// | Vonage | normalized | meaning |
/// |---|---|---|
/// | `started` | initiated | the platform started the call |
/// | `ringing` | ringing | the destination is ringing |
/// | `answered` | in-progress | answered |
/// | `machine`, `human` | in-progress | machine detection's verdict on an answered call |
/// | `completed` | completed | ended after being answered |
/// | `busy` | busy | the destination was busy |
/// | `cancelled` | canceled | ended before it was answered, by us or the caller |
/// | `failed` | failed | could not connect (a bad number, a carrier error) |
/// | `rejected` | failed | refused before connecting (restricted, or declined by the platform) |
/// | `timeout` | no-answer | rang out (`ringing_timer`) |
/// | `unanswered` | no-answer | not answered, or the destination was unreachable |
/// | `disconnected` | failed | a leg (a WebSocket) closed; see [`is_unexpected_disconnect`] |
pub fn call_status(raw: &str) -> CallStatus {
    match raw {
        "started" => CallStatus::Initiated,
        "ringing" => CallStatus::Ringing,
        "answered" | "machine" | "human" => CallStatus::InProgress,
        "completed" => CallStatus::Completed,
        "busy" => CallStatus::Busy,
        "cancelled" => CallStatus::Canceled,
        "failed" | "rejected" | "disconnected" => CallStatus::Failed,
        "timeout" | "unanswered" => CallStatus::NoAnswer,
        other => CallStatus::from_raw(other),
    }
}

/// Vonage `direction` → normalized direction.
pub fn direction(raw: &str) -> Direction {
    match raw {
        "inbound" => Direction::Inbound,
        "outbound" => Direction::Outbound,
        other => Direction::from_raw(other),
    }
}

/// Whether an event says a leg (a WebSocket) closed: `disconnected`, for whatever reason.
///
/// Vonage sends it when the socket closes, whichever side closed it; hanging up through the
/// API (as this library does) does not produce it. The event is the WebSocket leg's: its
/// `uuid` is that leg's and its `to` the socket's URI, so match it to the call by
/// [`CallEvent::conversation_id`]. See [`is_unexpected_disconnect`] for the failure to report.
pub fn is_disconnect(event: &CallEvent) -> bool {
    event.raw_status == "disconnected"
}

/// Whether an event is a WebSocket that dropped without the host closing it: a
/// [`disconnected`](is_disconnect) when `closed_by_host` is false.
///
/// Vonage's event cannot tell who closed the socket, only the host knows: pass whether it
/// closed this conversation's socket itself (a session that ended its stream on purpose). If
/// it did not, the media stream failed and the caller may be left in silence: a failure to
/// report. The caller's leg goes on to the NCCO's next action, or ends; with `eventType:
/// synchronous` (as the answer sets when the stream has a status callback) the event request
/// may be answered with a fallback NCCO.
///
/// ```
/// # use telephony_core::{CallEvent, CallId, CallStatus};
/// use telephony_vonage::status::{call_status, is_unexpected_disconnect};
///
/// let event = CallEvent::new(CallId::new("u-1")?, call_status("disconnected"), "disconnected");
/// let closed_by_host = false; // say, looked up by event.conversation_id
/// assert!(is_unexpected_disconnect(&event, closed_by_host));
/// assert!(!is_unexpected_disconnect(&event, true));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn is_unexpected_disconnect(event: &CallEvent, closed_by_host: bool) -> bool {
    is_disconnect(event) && !closed_by_host
}

/// Parses Vonage's timestamps: RFC 3339 (`2020-01-01T12:00:00.000Z`), or `2020-01-01 12:00:00`
/// taken as UTC.
pub fn timestamp(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.into());
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::PrimitiveDateTime::parse(s, &fmt)
        .ok()
        .map(|t| t.assume_utc().into())
}

/// A webhook's fields, from what its token's `payload_hash` covers (see
/// [`covers_query`](crate::signature::covers_query)): the query string of a `GET` without a
/// body, else the body (JSON, or a form), and never a POST's query string, which nothing
/// signs. Strings as sent, numbers as their text, objects as JSON text, nulls dropped.
pub fn fields(request: &WebhookRequest, what: &str) -> Result<FormParams, Error> {
    let body = request.body.as_ref();
    if crate::signature::covers_query(&request.method, body) {
        return Ok(request.query_params());
    }
    let looks_json =
        request.is_json() || body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if !body.is_empty() && looks_json {
        let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
            Error::Decode(DecodeError::new(
                KIND,
                what,
                format!("body is not JSON: {e}"),
            ))
        })?;
        let serde_json::Value::Object(map) = value else {
            return Err(Error::Decode(DecodeError::new(
                KIND,
                what,
                "body is not a JSON object",
            )));
        };
        return Ok(map
            .into_iter()
            .filter_map(|(k, v)| {
                let v = match v {
                    serde_json::Value::Null => return None,
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                Some((k, v))
            })
            .collect());
    }
    if request.is_form() {
        return Ok(request.body_params());
    }
    Ok(FormParams::default())
}

fn required<'a>(p: &'a FormParams, name: &str, what: &str) -> Result<&'a str, Error> {
    p.get_nonempty(name)
        .ok_or_else(|| Error::Decode(DecodeError::new(KIND, what, format!("no {name} field"))))
}

/// Whole seconds, or fractional ones as Vonage sometimes writes them.
fn seconds(s: &str) -> Option<Duration> {
    parse_seconds(s).or_else(|| Duration::try_from_secs_f64(s.trim().parse::<f64>().ok()?).ok())
}

/// A price or rate as an exact decimal.
pub(crate) fn decimal(what: &str, s: Option<&str>) -> Result<Option<Decimal>, Error> {
    telephony_core::parse_decimal(KIND, what, s)
}

/// An event webhook (`event_url`): the status and everything the event carries, in
/// `currency` for the price.
///
/// Events without a `status` (an `input`'s result, a recording, a transfer) are not call
/// statuses and fail with a decode error naming what they are.
pub fn parse_event(request: &WebhookRequest, currency: Currency) -> Result<CallEvent, Error> {
    let what = "event webhook";
    event_from(&fields(request, what)?, currency, what)
}

/// [`parse_event`] over fields already read.
pub(crate) fn event_from(
    p: &FormParams,
    currency: Currency,
    what: &str,
) -> Result<CallEvent, Error> {
    let Some(raw) = p.get_nonempty("status") else {
        let kind = if p.get("dtmf").is_some() || p.get("speech").is_some() {
            "an input result"
        } else if p.get("recording_url").is_some() {
            "a recording"
        } else if p.get("conversation_uuid_to").is_some() {
            "a transfer"
        } else {
            "not a call status"
        };
        return Err(Error::Decode(DecodeError::new(
            KIND,
            what,
            format!("no status field: {kind}"),
        )));
    };
    // Machine detection's events name the call `call_uuid`.
    let uuid = p
        .get_nonempty("uuid")
        .or_else(|| p.get_nonempty("call_uuid"))
        .ok_or_else(|| Error::Decode(DecodeError::new(KIND, what, "no uuid field")))?;
    let id = CallId::new(uuid)
        .map_err(|e| Error::Decode(DecodeError::new(KIND, what, e.to_string())))?;
    let mut e = CallEvent::new(id, call_status(raw), raw);
    e.direction = p.get_nonempty("direction").map(direction);
    e.from = p.get_nonempty("from").map(str::to_owned);
    e.to = p.get_nonempty("to").map(str::to_owned);
    e.duration = p.get("duration").and_then(seconds);
    e.timestamp = p.get("timestamp").and_then(timestamp);
    e.conversation_id = p.get_nonempty("conversation_uuid").map(str::to_owned);
    e.network = p.get_nonempty("network").map(str::to_owned);
    // Machine detection's verdict, through the one table (crate::amd).
    e.answered_by = crate::amd::answered_by(raw, p.get_nonempty("sub_state"));
    e.hangup_cause = p
        .get_nonempty("detail")
        .or_else(|| p.get_nonempty("reason"))
        .map(str::to_owned)
        .or_else(|| match p.get_nonempty("disconnected_by") {
            Some("user") => Some("hung up by the caller or callee".to_owned()),
            Some("platform") => Some("ended by the platform: the NCCO ran out of actions".to_owned()),
            Some(other) => Some(format!("ended by {other}")),
            None => None,
        })
        .or_else(|| {
            (raw == "disconnected").then(|| {
                "the WebSocket disconnected: the media stream dropped (Vonage does not send this when the call is hung up through the API)".to_owned()
            })
        });
    e.sip_code = p.get("sip_code").and_then(|c| c.trim().parse().ok());
    // A price that does not read leaves the cost out, not the event: a `completed` matters
    // more than its price, which `call_cost` can fetch again.
    if let Ok(Some(amount)) = decimal("price", p.get("price")) {
        let rate = decimal("rate", p.get("rate")).ok().flatten();
        e.cost = Some(CallCost::new(amount.abs(), currency).with_rate(rate));
    }
    Ok(e)
}

/// The answer request (`answer_url`): `uuid`, `conversation_uuid`, `from`, `to`, from a GET's
/// query or a POST's JSON. An event (it has a `status`) is refused, so an event webhook that
/// shares the answer URL never starts a second stream.
pub fn parse_answer(request: &WebhookRequest) -> Result<InboundCall, Error> {
    let what = "answer webhook";
    let p = fields(request, what)?;
    if let Some(status) = p.get_nonempty("status") {
        return Err(Error::Decode(DecodeError::new(
            KIND,
            what,
            format!("an event (status {status}), not an answer request"),
        )));
    }
    let id = CallId::new(required(&p, "uuid", what)?)
        .map_err(|e| Error::Decode(DecodeError::new(KIND, what, e.to_string())))?;
    let to = required(&p, "to", what)?;
    let from = p
        .get_nonempty("from")
        .or_else(|| p.get_nonempty("from_user"))
        .unwrap_or("");
    Ok(InboundCall::new(id, from, to)
        .with_conversation(p.get_nonempty("conversation_uuid").map(str::to_owned)))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Every documented status is read through the whole event by the webhook contract
    // (tests/signature.rs).
    #[test]
    fn directions_map() {
        assert_eq!(direction("inbound"), Direction::Inbound);
        assert_eq!(direction("outbound"), Direction::Outbound);
        assert_eq!(direction("sideways"), Direction::from_raw("sideways"));
    }

    #[test]
    fn timestamps() {
        let t = timestamp("2020-01-01T12:00:00.000Z").unwrap();
        assert_eq!(
            t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs(),
            1_577_880_000
        );
        assert_eq!(timestamp("2020-01-01 12:00:00"), Some(t));
        assert_eq!(timestamp("yesterday"), None);
    }
}
