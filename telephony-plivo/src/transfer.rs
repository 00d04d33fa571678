//! Transfer on Plivo, cold or warm, composed of what Plivo has: it takes no inline XML on a
//! call or a transfer, so every document a transfer needs is fetched from the host's status
//! URL ([`Transfer::events`]), which answers with
//! [`control::follow`](telephony_core::control::follow): its reply is
//! [`continue_transfer`]'s document. Each URL carries the transfer's [`TransferRef`] in its
//! query, which Plivo's V3 signature covers. A step's next URL is the one its callback came
//! to ([`TransferNotice::url`], which
//! [`parse_callback`](telephony_core::TelephonyProvider::parse_callback) sets), with the
//! reference for the next leg: the adapter keeps nothing between requests, so any replica
//! takes any step.
//!
//! **Cold.** The caller's call is moved (`POST /Call/{uuid}/`, `legs=aleg`) to the status URL
//! (`leg=caller`); that fetch is [`TransferEvent::TransferStarted`] and is answered with a
//! `<Dial>` to the target whose `action` is the same URL; the `action` request
//! (`DialStatus`) is the outcome, answered with the fallback (`<Speak>` then `<Hangup>`) or a
//! `<Hangup>`.
//!
//! **Warm** (through a conference). The target is called (`POST /Call/`) with its answer,
//! ring and hangup URLs at the status URL (`leg=target`). Its answer
//! ([`TransferEvent::TransferAnswered`]) moves the caller to the status URL (`leg=caller`,
//! a reference with no target, no brief) and is answered with the brief and the room
//! (`startConferenceOnEnter`); the caller's fetch ([`TransferEvent::Bridged`]) is answered with
//! the room alone, waiting for the target (`startConferenceOnEnter="false"`, the hold audio as
//! `waitSound`): the caller never gets the brief. Both legs end the room on leaving. A caller
//! already gone (404 on the move) is [`TransferFailure::CallerGone`], and the target's document
//! is a `<Hangup>`.

use std::time::Duration;

use telephony_core::{
    ApiError, Brief, CallId, E164, Error, Markup, TransferEvent, TransferFailure, TransferLeg,
    TransferMode, TransferNotice, TransferRef, TransferStarted, TransferTarget, Url,
    control::{Transfer, TransferStep},
};

use crate::KIND;
use crate::client::{CreateCall, PlivoClient};
use crate::xml::{Conference, Dial, PlivoResponse, Speak, sip_headers_value};

fn unsupported(operation: &'static str) -> Error {
    Error::Unsupported {
        provider: KIND,
        operation,
    }
}

fn not_live(call: &CallId, operation: &str) -> Error {
    ApiError::new(
        KIND,
        format!("{operation} {call}"),
        404,
        "Plivo knows no live call with this id: it has ended (or it is a request_uuid: pass the call's CallUUID)",
    )
    .into()
}

/// Starts `transfer` of `call` (see the module docs). Everything Plivo could not take is
/// refused before any request.
pub(crate) async fn transfer(
    client: &PlivoClient,
    call: &CallId,
    transfer: &Transfer,
) -> Result<TransferStarted, Error> {
    transfer.check()?;
    let events = transfer.events.as_ref().ok_or_else(|| {
        Error::invalid_request(
            "Plivo reads the transfer's XML from a URL: set Transfer::events (the status URL, answered with control::follow)",
        )
    })?;
    let (to, sip_headers) = match &transfer.target {
        TransferTarget::Number(n) => (n.digits().to_owned(), None),
        TransferTarget::Sip(s) => (
            s.uri().to_owned(),
            sip_headers_value(&s.headers).map_err(Error::invalid_request)?,
        ),
        _ => return Err(unsupported("transfer to this kind of target")),
    };
    let warm = match &transfer.mode {
        TransferMode::Cold => false,
        TransferMode::Warm { .. } => true,
        _ => return Err(unsupported("this transfer mode")),
    };
    let caller_id = match &transfer.caller_id {
        Some(n) => n.clone(),
        None => our_number(client, call).await?,
    };
    if !warm {
        let mut reference = TransferRef::for_transfer(call.clone(), transfer, TransferLeg::Caller);
        reference.caller_id = Some(caller_id);
        let url = reference.to_query(events);
        if !client.transfer_call(call.as_str(), url.as_str()).await? {
            return Err(not_live(call, "transfer call"));
        }
        return Ok(TransferStarted::new(call.as_str(), None));
    }
    let mut reference = TransferRef::for_transfer(call.clone(), transfer, TransferLeg::Target);
    reference.caller_id = Some(caller_id.clone());
    let url = reference.to_query(events).to_string();
    let mut dial = CreateCall::new(caller_id.digits(), to, url.clone());
    dial.ring_url = Some(url.clone());
    dial.ring_method = Some("POST");
    dial.hangup_url = Some(url);
    dial.hangup_method = Some("POST");
    dial.ring_timeout = Some(transfer.timeout_secs());
    dial.sip_headers = sip_headers;
    let created = client.create_call(&dial).await?;
    let target = created
        .request_uuid
        .into_iter()
        .next()
        .and_then(|id| CallId::new(id).ok());
    Ok(TransferStarted::new(reference.id, target))
}

/// The number of ours on a live call: the called number of an inbound call, the caller id of
/// an outbound one (`GET /Call/{uuid}/?status=live`).
async fn our_number(client: &PlivoClient, call: &CallId) -> Result<E164, Error> {
    let live = client
        .get_live_call(call.as_str())
        .await?
        .ok_or_else(|| not_live(call, "fetch live call"))?;
    let ours = match live.direction.as_deref() {
        Some("inbound") => live.to.as_deref(),
        Some("outbound") => live.from.as_deref(),
        _ => None,
    };
    ours.and_then(|n| E164::parse_lenient(n).ok()).ok_or_else(|| {
        Error::invalid_request(format!(
            "Plivo's live call {call} (direction {:?}) names no phone number of ours to show the target: set Transfer::caller_id",
            live.direction.as_deref().unwrap_or("")
        ))
    })
}

fn xml(doc: PlivoResponse) -> Result<Markup, Error> {
    doc.to_xml()
        .map(Markup::xml)
        .map_err(Error::invalid_request)
}

/// Where the callback of `notice` came to: Plivo's next step is a URL there (a `<Dial
/// action>`, the caller's `aleg_url`), carried by the notice itself, so any replica takes it.
fn callback_url(notice: &TransferNotice) -> Result<&Url, Error> {
    notice.url.as_ref().ok_or_else(|| {
        Error::invalid_request(format!(
            "transfer {}: the notice carries no URL its callback came to (TransferNotice::url); Plivo's next step is a URL there, so call continue_transfer with a notice parse_callback read from the request being answered (control::follow does)",
            notice.transfer.id
        ))
    })
}

/// The step a transfer callback needs (see the module docs).
pub(crate) async fn continue_transfer(
    client: &PlivoClient,
    notice: &TransferNotice,
) -> Result<TransferStep, Error> {
    let reference = &notice.transfer;
    match (reference.leg, &notice.event) {
        (TransferLeg::Caller, TransferEvent::TransferStarted) => {
            cold_dial(reference, callback_url(notice)?).map(TransferStep::reply)
        }
        (TransferLeg::Caller, TransferEvent::Bridged) => {
            let mut room = Conference::new(reference.id.clone())
                .start_on_enter(false)
                .end_on_exit(true);
            if let Some(hold) = &reference.hold {
                room = room.wait_sound(hold.as_str());
            }
            xml(PlivoResponse::new().conference(room)).map(TransferStep::reply)
        }
        (TransferLeg::Caller, TransferEvent::TransferFailed { .. }) => {
            let doc = match &reference.fallback {
                Some(text) => PlivoResponse::new().speak(Speak::new(text.clone())),
                None => PlivoResponse::new(),
            };
            xml(doc.hangup()).map(TransferStep::reply)
        }
        (TransferLeg::Caller, TransferEvent::TargetEnded) => {
            xml(PlivoResponse::new().hangup()).map(TransferStep::reply)
        }
        (TransferLeg::Target, TransferEvent::TransferAnswered) => {
            answered(client, reference, callback_url(notice)?).await
        }
        _ => Ok(TransferStep::none()),
    }
}

/// A cold transfer's `<Dial>`, its `action` the caller's status URL again.
fn cold_dial(reference: &TransferRef, events: &Url) -> Result<Markup, Error> {
    let mut dial = match &reference.target {
        Some(TransferTarget::Number(n)) => Dial::new(n.clone()),
        Some(TransferTarget::Sip(s)) => Dial::user(s.uri(), s.headers.clone()),
        _ => {
            return Err(Error::invalid_request(format!(
                "transfer {}: the reference names no target to dial",
                reference.id
            )));
        }
    };
    if let Some(n) = &reference.caller_id {
        dial = dial.caller_id(n.clone());
    }
    if let Some(t) = reference.timeout_secs {
        dial = dial.timeout(Duration::from_secs(t));
    }
    let action = reference.for_leg(TransferLeg::Caller).to_query(events);
    xml(PlivoResponse::new().dial(dial.action(action.as_str())))
}

/// A warm transfer's target answered: the caller is moved to the room (its own document,
/// without the brief), and the target gets the brief and the room.
async fn answered(
    client: &PlivoClient,
    reference: &TransferRef,
    events: &Url,
) -> Result<TransferStep, Error> {
    let mut caller = reference.for_leg(TransferLeg::Caller);
    caller.target = None;
    caller.brief = None;
    caller.caller_id = None;
    caller.timeout_secs = None;
    caller.fallback = None;
    let url = caller.to_query(events);
    if !client
        .transfer_call(reference.caller.as_str(), url.as_str())
        .await?
    {
        let gone = TransferEvent::TransferFailed {
            reason: TransferFailure::CallerGone,
            raw: "the caller's call is not live (404)".to_owned(),
        };
        return Ok(TransferStep::reply(xml(PlivoResponse::new().hangup())?).event(gone));
    }
    let mut doc = PlivoResponse::new();
    match &reference.brief {
        Some(Brief::Say(text)) => doc = doc.speak(Speak::new(text.clone())),
        Some(Brief::Play(url)) => doc = doc.play(url.as_str()),
        _ => {}
    }
    let room = Conference::new(reference.id.clone())
        .start_on_enter(true)
        .end_on_exit(true);
    xml(doc.conference(room)).map(TransferStep::reply)
}
