//! Transfer on Vonage: cold through a `connect` NCCO, warm through a named conversation.
//!
//! **Cold** (native): the caller's call is moved to a new NCCO (`PUT /v1/calls/{uuid}`,
//! `{"action":"transfer","destination":{"type":"ncco","ncco":[…]}}` → 204; vonage-python-sdk
//! voice `transfer_call_ncco`) holding one `connect` to the target, with the caller id
//! (`from`: digits, `^[1-9]\d{6,14}$`, vonage_utils `PhoneNumber`) and the ring `timeout`
//! (1 to 120 s). The connect's `eventUrl` is [`Transfer::events`] with the transfer's
//! [`TransferRef`] (leg `caller`) in its query, signed with a key of the adapter's (Vonage
//! signs no URL: [`Vonage::transfer_callback_url`]). With a
//! [`NoAnswer::SayAndHangup`] fallback the connect is `eventType: "synchronous"`, which lets
//! its `eventUrl` answer with an NCCO that replaces the call's when the leg ends in certain
//! states (NCCO reference, "Connect": "enable eventUrl to return an NCCO that overrides the
//! current NCCO when a call moves to specific states"; which states exactly is not listed
//! there): [`continue_transfer`](telephony_core::TelephonyProvider::continue_transfer)
//! answers a failure with `[{"action":"talk","text":…}]`. The caller's leg leaves the agent's
//! conversation; whether Vonage also closes the agent's websocket leg on the transfer is
//! unverified.
//!
//! **Warm** (composed, through a conversation): the target is called on a new leg
//! (`POST /v1/calls`) whose NCCO is the brief (`talk` or `stream`) and then
//! `{"action":"conversation","name":ROOM,"startOnEnter":true,"endOnExit":true}`, with the
//! `TransferRef` (leg `target`) in its `event_url` and `ringing_timer` as the ring timeout.
//! The caller stays with the agent meanwhile. When the target answers, `continue_transfer`
//! moves the caller into `ROOM` with `startOnEnter: false` (and `musicOnHoldUrl`, the hold
//! audio) and `endOnExit: true`: the caller hears the hold audio until the target, its brief
//! over, enters and starts the conversation, and never hears the brief. A target that is
//! busy, does not answer or fails never took the caller from the agent. A caller gone by the
//! answer is [`TransferFailure::CallerGone`], and the target's leg is hung up.
//!
//! The callbacks of both legs are read through [`transfer_event`].

use telephony_core::control::TransferStep;
use telephony_core::{
    Brief, CallId, Error, Markup, NoAnswer, TelephonyProvider, Transfer, TransferEvent,
    TransferFailure, TransferLeg, TransferMode, TransferNotice, TransferRef, TransferStarted,
    TransferTarget,
};

use crate::Vonage;
use crate::ncco::{Connect, Conversation, Endpoint, Method, Ncco, Phone, Sip, Stream, Talk};
use crate::resources::CreateCall;

/// Vonage's longest ring, in seconds: a `connect`'s `timeout` and a call's `ringing_timer`.
pub const MAX_RING_SECS: u64 = 120;

/// A transfer leg's `status` → the transfer's step; `None` for a status that is not one
/// (`human`, `machine`, `disconnected`, anything new). The one table, for both legs:
///
/// | `status` | step |
/// |---|---|
/// | `started` | [`TransferStarted`](TransferEvent::TransferStarted) |
/// | `ringing` | [`TransferRinging`](TransferEvent::TransferRinging) |
/// | `answered` | [`TransferAnswered`](TransferEvent::TransferAnswered) |
/// | `completed` | [`TargetEnded`](TransferEvent::TargetEnded) |
/// | `busy` | [`TransferFailed`](TransferEvent::TransferFailed) [`Busy`](TransferFailure::Busy) |
/// | `timeout`, `unanswered` | `TransferFailed` [`NoAnswer`](TransferFailure::NoAnswer) |
/// | `rejected`, `failed`, `cancelled` | `TransferFailed` [`Failed`](TransferFailure::Failed) |
pub fn transfer_event(status: &str) -> Option<TransferEvent> {
    let failed = |reason| {
        Some(TransferEvent::TransferFailed {
            reason,
            raw: status.to_owned(),
        })
    };
    match status {
        "started" => Some(TransferEvent::TransferStarted),
        "ringing" => Some(TransferEvent::TransferRinging),
        "answered" => Some(TransferEvent::TransferAnswered),
        "completed" => Some(TransferEvent::TargetEnded),
        "busy" => failed(TransferFailure::Busy),
        "timeout" | "unanswered" => failed(TransferFailure::NoAnswer),
        "rejected" | "failed" | "cancelled" => failed(TransferFailure::Failed),
        _ => None,
    }
}

fn invalid(e: impl std::fmt::Display) -> Error {
    Error::invalid_request(e.to_string())
}

/// Whether `digits` is a number Vonage takes: `^[1-9]\d{6,14}$`.
fn vonage_number(digits: &str) -> bool {
    (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// The endpoint `target` is dialled at, checked.
fn endpoint(target: &TransferTarget) -> Result<Endpoint, Error> {
    let endpoint = match target {
        TransferTarget::Number(n) => Endpoint::Phone(Phone::new(n.digits())),
        // Vonage sends `headers` as `X-` headers (vonage-python-sdk `SipEndpoint`).
        TransferTarget::Sip(sip) => {
            let mut s = Sip::new(sip.uri());
            for (k, v) in &sip.headers {
                s = s.header(k.clone(), v.clone());
            }
            Endpoint::Sip(s)
        }
        _ => return Err(invalid("a transfer target this adapter does not know")),
    };
    endpoint
        .validate()
        .map_err(|e| invalid(format!("transfer target: {}", e.0)))?;
    Ok(endpoint)
}

/// The ring timeout in seconds: the transfer's (30 by default), at most 120 on Vonage.
fn ring_secs(t: &Transfer) -> Result<u32, Error> {
    let secs = t.timeout_secs();
    if secs > MAX_RING_SECS {
        return Err(invalid(format!(
            "a {secs} s ring timeout: Vonage rings a transfer's target for at most {MAX_RING_SECS} s"
        )));
    }
    Ok(u32::try_from(secs).unwrap_or(30))
}

/// The caller id given, checked before any request.
fn given_caller_id(t: &Transfer) -> Result<Option<String>, Error> {
    match &t.caller_id {
        Some(n) if vonage_number(n.digits()) => Ok(Some(n.digits().to_owned())),
        Some(n) => Err(invalid(format!(
            "caller id {n}: Vonage presents 7 to 15 digits"
        ))),
        None => Ok(None),
    }
}

/// The caller id the target sees: the one given, else the call's number of ours (the called
/// number of an inbound call, the caller id of an outbound one).
async fn caller_id(v: &Vonage, call: &CallId, given: Option<String>) -> Result<String, Error> {
    if let Some(n) = given {
        return Ok(n);
    }
    let info = v.call_status(call).await?;
    let ours = info.number_of_ours();
    let digits = ours.map(|n| n.trim_start_matches('+').to_owned());
    match digits {
        Some(d) if vonage_number(&d) => Ok(d),
        _ => Err(invalid(format!(
            "call {call}: its number of ours ({}) is not one Vonage can present to the target; set Transfer::caller_id",
            ours.unwrap_or("unknown")
        ))),
    }
}

/// Where the caller waits for the target in a warm transfer.
fn caller_room(r: &TransferRef) -> Conversation {
    let mut room = Conversation::named(r.id.clone())
        .start_on_enter(false)
        .end_on_exit(true);
    if let Some(hold) = &r.hold {
        room = room.music_on_hold(hold.as_str());
    }
    room
}

/// Starts a transfer of `call`.
pub(crate) async fn transfer(
    v: &Vonage,
    call: &CallId,
    t: &Transfer,
) -> Result<TransferStarted, Error> {
    t.check()?;
    let endpoint = endpoint(&t.target)?;
    let secs = ring_secs(t)?;
    let given = given_caller_id(t)?;
    match &t.mode {
        TransferMode::Cold => cold(v, call, t, endpoint, secs, given).await,
        TransferMode::Warm { brief, .. } => {
            warm(v, call, t, brief.as_ref(), endpoint, secs, given).await
        }
        _ => Err(invalid("a transfer mode this adapter does not know")),
    }
}

async fn cold(
    v: &Vonage,
    call: &CallId,
    t: &Transfer,
    endpoint: Endpoint,
    secs: u32,
    given: Option<String>,
) -> Result<TransferStarted, Error> {
    let fallback = match &t.on_no_answer {
        NoAnswer::Hangup => false,
        NoAnswer::SayAndHangup(text) => {
            Ncco::new()
                .talk(Talk::new(text.clone()))
                .validate()
                .map_err(|e| invalid(format!("the fallback: {}", e.0)))?;
            true
        }
        _ => return Err(invalid("a fallback this adapter does not know")),
    };
    if fallback && t.events.is_none() {
        return Err(invalid(
            "a Vonage cold transfer says its fallback in the answer to the connect's synchronous event: set Transfer::events",
        ));
    }
    let reference = TransferRef::for_transfer(call.clone(), t, TransferLeg::Caller);
    let from = caller_id(v, call, given).await?;
    let mut connect = Connect::to(endpoint).from(from).timeout(secs);
    if let Some(events) = &t.events {
        let url = v.transfer_callback_url(&reference, events);
        connect = if fallback {
            connect.synchronous(url.as_str())
        } else {
            connect.event_url(url.as_str())
        }
        .event_method(Method::Post);
    }
    let ncco = Ncco::new().connect(connect);
    ncco.validate().map_err(invalid)?;
    v.client().transfer_ncco(call.as_str(), &ncco).await?;
    Ok(TransferStarted::new(call.as_str(), None))
}

async fn warm(
    v: &Vonage,
    call: &CallId,
    t: &Transfer,
    brief: Option<&Brief>,
    endpoint: Endpoint,
    secs: u32,
    given: Option<String>,
) -> Result<TransferStarted, Error> {
    let Some(events) = &t.events else {
        return Err(invalid("a warm transfer needs Transfer::events"));
    };
    let reference = TransferRef::for_transfer(call.clone(), t, TransferLeg::Target);
    let mut target = Ncco::new();
    match brief {
        Some(Brief::Say(text)) => target = target.talk(Talk::new(text.clone())),
        Some(Brief::Play(url)) => target = target.stream(Stream::new(url.as_str())),
        Some(_) => return Err(invalid("a brief this adapter does not know")),
        None => {}
    }
    let target = target.conversation(
        Conversation::named(reference.id.clone())
            .start_on_enter(true)
            .end_on_exit(true),
    );
    // Both NCCOs are checked now, the caller's too (its hold audio), before any request.
    Ncco::new()
        .conversation(caller_room(&reference))
        .validate()
        .map_err(invalid)?;
    let mut create = CreateCall::ncco(endpoint, &target).map_err(invalid)?;
    let from = caller_id(v, call, given).await?;
    create = create
        .from(from)
        .event_url(v.transfer_callback_url(&reference, events).as_str());
    create.ringing_timer = Some(secs);
    let created = v.client().create_call(&create).await?;
    Ok(TransferStarted::new(
        reference.id,
        Some(CallId::new(created.uuid)?),
    ))
}

/// The step a transfer needs after a callback about it.
pub(crate) async fn continue_transfer(
    v: &Vonage,
    n: &TransferNotice,
) -> Result<TransferStep, Error> {
    let r = &n.transfer;
    match (r.leg, &n.event) {
        // Warm: the target answered (its brief plays now): the caller goes to the room.
        (TransferLeg::Target, TransferEvent::TransferAnswered) => {
            let ncco = Ncco::new().conversation(caller_room(r));
            if v.client()
                .transfer_ncco_if_live(r.caller.as_str(), &ncco)
                .await?
            {
                return Ok(TransferStep::none().event(TransferEvent::Bridged));
            }
            if let Some(leg) = &n.leg_call {
                v.client().hangup(leg.as_str()).await?;
            }
            Ok(TransferStep::none().event(TransferEvent::TransferFailed {
                reason: TransferFailure::CallerGone,
                raw: "the caller's call had ended when the target answered".to_owned(),
            }))
        }
        // Warm: the target's leg ended. Bridged, its leaving ended the room and the caller
        // with it (endOnExit); gone before it entered (during its brief), it left the caller
        // alone on hold in the room, which nothing else would end. Either way the caller's
        // call is ended here (already ended is no error).
        (TransferLeg::Target, TransferEvent::TargetEnded) => {
            v.client().hangup(r.caller.as_str()).await?;
            Ok(TransferStep::none())
        }
        // Cold: the connect bridges the caller on the answer.
        (TransferLeg::Caller, TransferEvent::TransferAnswered) => {
            Ok(TransferStep::none().event(TransferEvent::Bridged))
        }
        // Cold: not reached; the fallback is the answer to the synchronous event.
        (TransferLeg::Caller, TransferEvent::TransferFailed { reason, .. })
            if *reason != TransferFailure::CallerGone =>
        {
            match &r.fallback {
                Some(text) => {
                    let ncco = Ncco::new().talk(Talk::new(text.clone()));
                    Ok(TransferStep::reply(Markup::json(
                        ncco.to_json().map_err(invalid)?,
                    )))
                }
                None => Ok(TransferStep::none()),
            }
        }
        _ => Ok(TransferStep::none()),
    }
}
