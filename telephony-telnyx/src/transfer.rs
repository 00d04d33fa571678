//! Transfer on Telnyx, cold and warm, carried by the legs' `client_state` (telnyx-python
//! 4.189 `types/calls/action_transfer_params.py`, `action_bridge_params.py`,
//! `action_speak_params.py`, `action_start_playback_params.py`,
//! `action_stop_streaming_params.py`, `types/call_dial_params.py`).
//!
//! **Cold** (native): the caller's stream stops (`actions/streaming_stop`, so the agent
//! cannot talk into the transferred call; what Telnyx does to a stream on transfer is
//! unverified), then `actions/transfer` dials the target and bridges it on answer. The
//! caller's leg carries the [`TransferRef`] about itself in `client_state`, the target's leg
//! the one about the target in `target_leg_client_state`. When the target is not reached
//! Telnyx keeps the caller's leg up: [`step`] says the fallback to it (`actions/speak`) and
//! hangs up once `call.speak.ended` arrives, or hangs up at once without a fallback.
//!
//! **Warm** (composed from a dial and a bridge; no conference): the target is dialled on a
//! new leg (`POST /calls`, no stream) while the caller stays with the agent; on its
//! `call.answered` the brief is spoken or played to it alone (`actions/speak` /
//! `actions/playback_start`), and on `call.speak.ended` / `call.playback.ended` (or at once
//! without a brief) the caller's stream stops and `actions/bridge` joins the two. The caller
//! never hears the brief; a hold URL has nothing to play over on Telnyx (the caller is with
//! the agent until the bridge) and is not used.
//!
//! The state says whether the transfer is warm ([`TransferRef::warm`]), so a later step knows
//! a cold transfer from a warm one from the signed state alone. Commands on the target use the
//! `call_control_id` of the callback at hand, not the dial's answer (Dograh saw it change
//! once the leg was answered; call-control.md a.2).
//!
//! Every command carries a `command_id` derived from the transfer's id and the leg, so a
//! callback delivered twice, or followed on two replicas, sends each command once.

use telephony_core::control::TransferStep;
use telephony_core::{
    Brief, CallId, E164, Error, Transfer, TransferEvent, TransferFailure, TransferLeg,
    TransferMode, TransferNotice, TransferRef, TransferStarted, TransferTarget,
};

use crate::client::{TelnyxClient, call_ended};
use crate::client_state::{self, TransferState};
use crate::commands::command_id;
use crate::events::{self, EventData};

/// Telnyx's longest `speak` payload, in characters.
const MAX_SPEECH: usize = 3000;

/// The most of Telnyx's words for a failure kept in a caller's `client_state`.
const MAX_RAW: usize = 64;

/// Whether `transfer` is a cold one ([`TransferRef::warm`] unset).
pub fn is_cold(transfer: &TransferRef) -> bool {
    !transfer.warm
}

/// The reference of a new transfer of `caller`: about the caller's leg for a cold transfer
/// (the command is on it), about the target's for a warm one.
pub fn new_ref(caller: &CallId, transfer: &Transfer) -> TransferRef {
    let leg = if transfer.is_warm() {
        TransferLeg::Target
    } else {
        TransferLeg::Caller
    };
    TransferRef::for_transfer(caller.clone(), transfer, leg)
}

/// A transfer, checked and written, ready to send: nothing in it is refused later.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The reference.
    pub transfer: TransferRef,
    /// The command's body: `actions/transfer` (cold) or `POST /calls` (warm).
    pub body: serde_json::Value,
}

/// Checks `transfer` of `caller` and writes its command, before any request. A warm transfer
/// without a caller id gets its `from` when it [starts](start).
///
/// # Errors
///
/// What [`Transfer::check`] refuses, a fallback longer than Telnyx speaks (3000
/// characters), a brief to play that is not an http(s) URL, or a state too long for
/// `client_state`.
pub fn plan(connection_id: &str, caller: &CallId, transfer: &Transfer) -> Result<Planned, Error> {
    transfer.check()?;
    if let Some(text) =
        &TransferRef::for_transfer(caller.clone(), transfer, TransferLeg::Caller).fallback
        && text.chars().count() > MAX_SPEECH
    {
        return Err(Error::invalid_request(format!(
            "a fallback longer than {MAX_SPEECH} characters: Telnyx speaks at most {MAX_SPEECH}"
        )));
    }
    if let TransferMode::Warm {
        brief: Some(Brief::Play(url)),
        ..
    } = &transfer.mode
        && !matches!(url.scheme(), "https" | "http")
    {
        return Err(Error::invalid_request(format!(
            "brief {url}: Telnyx plays WAV or MP3 from an http(s) URL"
        )));
    }
    let r = new_ref(caller, transfer);
    let target_state = client_state::encode_transfer(&r.for_leg(TransferLeg::Target), None)?;
    // The largest state the caller's leg will carry (a fallback's, with the failure): checked
    // now, so no later step is refused.
    client_state::encode_transfer(
        &r.for_leg(TransferLeg::Caller),
        Some((TransferFailure::CallerGone, &"x".repeat(MAX_RAW))),
    )?;
    let mut body = serde_json::json!({
        "to": transfer.target.address(),
        "timeout_secs": transfer.timeout_secs(),
    });
    if let TransferTarget::Sip(sip) = &transfer.target
        && !sip.headers.is_empty()
    {
        body["custom_headers"] = sip
            .headers
            .iter()
            .map(|(name, value)| serde_json::json!({"name": format!("X-{name}"), "value": value}))
            .collect();
    }
    if let Some(events) = &transfer.events {
        body["webhook_url"] = events.as_str().into();
        body["webhook_url_method"] = "POST".into();
    }
    if let Some(from) = &transfer.caller_id {
        body["from"] = from.as_str().into();
    }
    if transfer.is_warm() {
        body["connection_id"] = connection_id.into();
        body["client_state"] = target_state.into();
        body["command_id"] = command_id("dial", &format!("{connection_id}\n{}", r.id)).into();
    } else {
        // What the caller's leg carries (Telnyx keeps it up when the target is not reached),
        // without a failure yet: the fallback's step adds it.
        body["client_state"] =
            client_state::encode_transfer(&r.for_leg(TransferLeg::Caller), None)?.into();
        body["target_leg_client_state"] = target_state.into();
        body["command_id"] = command_id("transfer", &format!("{caller}\n{}", r.id)).into();
    }
    Ok(Planned { transfer: r, body })
}

impl Planned {
    /// Whether the command still needs a `from`: a warm transfer without a caller id (a
    /// cold one's defaults to the call's own number at Telnyx).
    pub fn needs_from(&self) -> bool {
        !is_cold(&self.transfer) && self.body.get("from").is_none()
    }
}

/// Sends a planned transfer: the cold one's stream stop and `actions/transfer` on the caller,
/// or the warm one's dial of the target, from `from` where the plan has no caller id.
///
/// # Errors
///
/// A warm transfer with no number to dial from, Telnyx's refusal (a caller that ended is a
/// 422 with code `90018`), or a transport error.
pub async fn start(
    client: &TelnyxClient,
    planned: &Planned,
    from: Option<&E164>,
) -> Result<TransferStarted, Error> {
    let r = &planned.transfer;
    let caller = r.caller.as_str();
    if is_cold(r) {
        stop_stream(client, caller, &r.id).await?;
        client.command(caller, "transfer", &planned.body).await?;
        return Ok(TransferStarted::new(caller, None));
    }
    let mut body = planned.body.clone();
    if planned.needs_from() {
        let from = from.ok_or_else(|| {
            Error::invalid_request(
                "a warm transfer on Telnyx dials the target from a number of ours: set Transfer::caller_id",
            )
        })?;
        body["from"] = from.as_str().into();
    }
    let created = client.dial_leg(&body).await?;
    let target = CallId::new(created.call_control_id).map_err(|e| {
        Error::Decode(telephony_core::DecodeError::new(
            crate::KIND,
            "created call",
            e.to_string(),
        ))
    })?;
    Ok(TransferStarted::new(r.id.clone(), Some(target)))
}

/// Stops every stream of `call` (`actions/streaming_stop` without a `stream_id`). A refusal
/// other than the call's end (a call with no stream; what Telnyx answers then is
/// unverified) lets the transfer go on.
async fn stop_stream(client: &TelnyxClient, call: &str, transfer: &str) -> Result<(), Error> {
    let body = serde_json::json!({
        "command_id": command_id("streaming_stop", &format!("{call}\n{transfer}")),
    });
    match client.command(call, "streaming_stop", &body).await {
        Err(e) if e.http_status() == Some(422) && !call_ended(&e) => Ok(()),
        other => other,
    }
}

/// A transfer leg's event as a step of the transfer, where it is one:
///
/// | leg | event | step |
/// |---|---|---|
/// | target | `call.initiated` | started |
/// | target | `call.ringing` | ringing |
/// | target | `call.answered` | answered |
/// | target | `call.speak.ended`, `call.playback.ended` (a warm brief's end) | brief ended (the bridge is next) |
/// | any | `call.bridged` | bridged |
/// | target | `call.hangup` | failed by [`failure`], or target ended after a normal end |
/// | caller | `call.speak.ended` of a cold transfer's fallback | failed (again: the fallback was said, the call ends next) |
///
/// Any other event of a leg (its streaming, its DTMF, the caller's own hang-up) is no step.
pub fn notice(data: &EventData, state: &TransferState) -> Option<TransferNotice> {
    let r = &state.transfer;
    let payload = &data.payload;
    let event = match (r.leg, data.event_type.as_str()) {
        (TransferLeg::Target, "call.initiated") => TransferEvent::TransferStarted,
        (TransferLeg::Target, "call.ringing") => TransferEvent::TransferRinging,
        (TransferLeg::Target, "call.answered") => TransferEvent::TransferAnswered,
        (TransferLeg::Target, "call.speak.ended" | "call.playback.ended")
            if r.brief.is_some() && !is_cold(r) =>
        {
            TransferEvent::BriefEnded
        }
        (_, "call.bridged") => TransferEvent::Bridged,
        (TransferLeg::Target, "call.hangup") => {
            let cause = payload.hangup_cause.as_deref().unwrap_or("");
            match failure(cause, is_cold(r)) {
                Some(reason) => TransferEvent::TransferFailed {
                    reason,
                    raw: if cause.is_empty() {
                        data.event_type.clone()
                    } else {
                        cause.to_owned()
                    },
                },
                None => TransferEvent::TargetEnded,
            }
        }
        (TransferLeg::Caller, "call.speak.ended") => match &state.failed {
            Some((reason, raw)) => TransferEvent::TransferFailed {
                reason: *reason,
                raw: raw.clone(),
            },
            None => return None,
        },
        _ => return None,
    };
    let leg_call = payload
        .call_control_id
        .clone()
        .and_then(|id| CallId::new(id).ok());
    Some(
        TransferNotice::new(r.clone(), event)
            .leg_call(leg_call)
            .status(events::event_of(data).ok()),
    )
}

/// A target's `hangup_cause` → why the transfer failed; `None` for a normal end (the target
/// answered, then hung up). An open set: an unknown cause is a failure, kept as sent.
///
/// | cause | failure |
/// |---|---|
/// | `user_busy` (`busy`) | busy |
/// | `timeout`, `no_answer`, `no_user_response` | no answer |
/// | `originator_cancel` of a cold transfer (the caller hung up while it rang) | caller gone |
/// | `normal_clearing`, `user_hangup`, `normal_unspecified`, `unspecified`, `time_limit`, none | — (target ended) |
/// | `call_rejected`, `unallocated_number`, `not_found`, any other | failed |
pub fn failure(cause: &str, cold: bool) -> Option<TransferFailure> {
    match cause {
        "user_busy" | "busy" => Some(TransferFailure::Busy),
        "timeout" | "no_answer" | "no_user_response" => Some(TransferFailure::NoAnswer),
        "originator_cancel" if cold => Some(TransferFailure::CallerGone),
        "normal_clearing" | "user_hangup" | "normal_unspecified" | "unspecified" | "time_limit"
        | "" => None,
        _ => Some(TransferFailure::Failed),
    }
}

/// The step a transfer callback asks for ([`TelephonyProvider::continue_transfer`](telephony_core::TelephonyProvider::continue_transfer)):
///
/// - a warm target answered: brief it (`speak` / `playback_start`), or bridge at once
///   without a brief; its brief ended ([`TransferEvent::BriefEnded`]): bridge. The bridge
///   gives [`TransferEvent::Bridged`];
///   a caller gone by then gives `TransferFailed { CallerGone }` and the target is hung up;
/// - a cold target not reached: say the fallback to the caller, or hang it up;
/// - a cold transfer's fallback said: hang up the caller.
///
/// # Errors
///
/// Telnyx's refusal of a command (other than a leg that ended), or a transport error.
pub async fn step(client: &TelnyxClient, notice: &TransferNotice) -> Result<TransferStep, Error> {
    let r = &notice.transfer;
    let seen = notice.status.as_ref().and_then(|s| s.raw_event.as_deref());
    match (r.leg, &notice.event) {
        (TransferLeg::Target, TransferEvent::TransferAnswered) if !is_cold(r) => {
            let Some(target) = &notice.leg_call else {
                return Ok(TransferStep::none());
            };
            match &r.brief {
                Some(brief) => brief_target(client, r, target, brief).await,
                None => bridge(client, r, target).await,
            }
        }
        (TransferLeg::Target, TransferEvent::BriefEnded) if !is_cold(r) && r.brief.is_some() => {
            match &notice.leg_call {
                Some(target) => bridge(client, r, target).await,
                None => Ok(TransferStep::none()),
            }
        }
        (TransferLeg::Target, TransferEvent::TransferFailed { reason, raw })
            if is_cold(r) && *reason != TransferFailure::CallerGone =>
        {
            fallback(client, r, *reason, raw).await
        }
        (TransferLeg::Caller, TransferEvent::TransferFailed { .. })
            if seen == Some("call.speak.ended") =>
        {
            client.hangup(r.caller.as_str()).await?;
            Ok(TransferStep::none())
        }
        _ => Ok(TransferStep::none()),
    }
}

/// The body of a `speak` of `text`: Telnyx's basic voice (`female`, en-US, plain text; the
/// SDK: "for service_level basic, you may define the gender of the speaker").
fn speech(text: &str, state: String, command: String) -> serde_json::Value {
    serde_json::json!({
        "payload": text,
        "payload_type": "text",
        "service_level": "basic",
        "voice": "female",
        "language": "en-US",
        "client_state": state,
        "command_id": command,
    })
}

/// Says or plays the brief to the target; it keeps the target's state, so its end comes
/// back as a step.
async fn brief_target(
    client: &TelnyxClient,
    r: &TransferRef,
    target: &CallId,
    brief: &Brief,
) -> Result<TransferStep, Error> {
    let state = client_state::encode_transfer(&r.for_leg(TransferLeg::Target), None)?;
    let (action, body) = match brief {
        Brief::Say(text) => (
            "speak",
            speech(
                text,
                state,
                command_id("speak", &format!("{target}\n{}", r.id)),
            ),
        ),
        Brief::Play(url) => (
            "playback_start",
            serde_json::json!({
                "audio_url": url.as_str(),
                "client_state": state,
                "command_id": command_id("playback_start", &format!("{target}\n{}", r.id)),
            }),
        ),
        _ => return bridge(client, r, target).await,
    };
    match client.command(target.as_str(), action, &body).await {
        // The target left: its own call.hangup reports it.
        Err(e) if call_ended(&e) => Ok(TransferStep::none()),
        other => other.map(|()| TransferStep::none()),
    }
}

/// Stops the caller's stream and bridges the caller to the target.
async fn bridge(
    client: &TelnyxClient,
    r: &TransferRef,
    target: &CallId,
) -> Result<TransferStep, Error> {
    let caller = r.caller.as_str();
    if let Err(e) = stop_stream(client, caller, &r.id).await {
        if call_ended(&e) {
            return caller_gone(client, target, &e).await;
        }
        return Err(e);
    }
    let body = serde_json::json!({
        "call_control_id": caller,
        "client_state": client_state::encode_transfer(&r.for_leg(TransferLeg::Target), None)?,
        "command_id": command_id("bridge", &format!("{target}\n{}", r.id)),
    });
    match client.command(target.as_str(), "bridge", &body).await {
        Ok(()) => Ok(TransferStep::none().event(TransferEvent::Bridged)),
        Err(e) if call_ended(&e) => {
            // Which leg ended: the caller's state says (kept 10 minutes after it ends).
            let caller_alive = match client.get_call(caller).await {
                Ok(call) => call.is_alive,
                Err(e) if e.is_not_found() || call_ended(&e) => false,
                Err(e) => return Err(e),
            };
            if caller_alive {
                // The target left: its own call.hangup reports it.
                Ok(TransferStep::none())
            } else {
                caller_gone(client, target, &e).await
            }
        }
        Err(e) => Err(e),
    }
}

/// The caller left before the bridge: the target is hung up (it may have gone too).
async fn caller_gone(
    client: &TelnyxClient,
    target: &CallId,
    why: &Error,
) -> Result<TransferStep, Error> {
    client.hangup(target.as_str()).await?;
    let raw = why
        .provider_code()
        .map(str::to_owned)
        .or_else(|| why.http_status().map(|s| s.to_string()))
        .unwrap_or_else(|| "call ended".to_owned());
    Ok(TransferStep::none().event(TransferEvent::TransferFailed {
        reason: TransferFailure::CallerGone,
        raw,
    }))
}

/// A cold transfer's target was not reached: the fallback is said to the caller (its end
/// comes back as a step, which hangs up), or the caller is hung up.
async fn fallback(
    client: &TelnyxClient,
    r: &TransferRef,
    reason: TransferFailure,
    raw: &str,
) -> Result<TransferStep, Error> {
    let caller = r.caller.as_str();
    let Some(text) = &r.fallback else {
        client.hangup(caller).await?;
        return Ok(TransferStep::none());
    };
    let raw: String = raw.chars().take(MAX_RAW).collect();
    let state =
        client_state::encode_transfer(&r.for_leg(TransferLeg::Caller), Some((reason, &raw)))?;
    let body = speech(
        text,
        state,
        command_id("speak", &format!("{caller}\n{}", r.id)),
    );
    match client.command(caller, "speak", &body).await {
        Err(e) if call_ended(&e) => Ok(TransferStep::none()),
        other => other.map(|()| TransferStep::none()),
    }
}
