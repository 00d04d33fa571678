//! Transfer on Twilio: cold by replacing the call's TwiML with a `<Dial>`, warm by a
//! conference (composed: Twilio has no warm transfer of its own).
//!
//! - **Cold**: `POST /Calls/{CA}.json` with `Twiml=<Response><Dial callerId timeout action>
//!   <Number statusCallback statusCallbackEvent>…</Number></Dial></Response>` (`<Sip>` for a
//!   SIP target, its headers on the URI). The `<Dial action>` request carries
//!   `DialCallStatus`; its reply (a step of [`continue_transfer`](telephony_core::TelephonyProvider::continue_transfer))
//!   says the fallback or hangs up. Without [`Transfer::events`], no callbacks and
//!   `<Hangup/>` after the `<Dial>`.
//! - **Warm**: a new call to the target (`POST /Calls.json`) whose TwiML says the brief, then
//!   joins the room `xfer-…` (starting it, ending it on leaving). Its progress callbacks
//!   (`initiated ringing answered completed`: the only events Twilio has) carry the
//!   [`TransferRef`]. On its answer, the caller's TwiML is replaced by the same room, joined
//!   without starting it: the caller hears hold audio, never the brief, until the target
//!   enters. If the target is busy, does not answer or fails, the caller never left the agent.
//!
//! Wire facts: twilio-python 9.13 `call/__init__.py` (create and update fields, `Twiml` at most
//! 4000 characters), `twiml/voice_response.py` (`Dial`, `Number`, `Sip`, `Conference`),
//! `conference/__init__.py` (listing by `FriendlyName` and `Status`, update `Status=completed`);
//! `DialCallStatus` values from Twilio's `<Dial>` page.

use std::time::Duration;

use telephony_core::{
    Brief, CallId, Error, Markup, TelephonyProvider, Transfer, TransferEvent, TransferFailure,
    TransferLeg, TransferMode, TransferNotice, TransferRef, TransferStarted, TransferTarget, Url,
};

use telephony_core::control::TransferStep;

use crate::Twilio;
use crate::callbacks::DIAL_MARK;
use crate::client::{CallInstructions, CreateCall, TwilioClient};
use crate::resources::{ConferencePage, ConferenceResource};
use crate::twiml::{Conference, Dial, DialParty, Say, VoiceResponse, sip_address};

/// The longest `Twiml` Twilio takes on a call (twilio-python 9.13 `call/__init__.py`).
pub const MAX_TWIML: usize = 4000;

/// `url` with the transfer's reference, and the mark of a cold transfer's `<Dial>`.
fn dial_url(r: &TransferRef, events: &Url) -> String {
    let mut url = r.to_query(events);
    url.query_pairs_mut().append_pair(DIAL_MARK.0, DIAL_MARK.1);
    url.to_string()
}

/// The target as a call's `To` or a `<Sip>` takes it: the number, or the SIP URI with its
/// headers.
fn address(target: &TransferTarget) -> Result<String, Error> {
    match target {
        TransferTarget::Number(n) => Ok(n.to_string()),
        TransferTarget::Sip(s) => Ok(sip_address(s.uri(), &s.headers)),
        _ => Err(Error::invalid_request(
            "this transfer target is not supported by Twilio",
        )),
    }
}

/// Refuses TwiML longer than Twilio takes, before sending it.
fn sized(twiml: String, what: &str) -> Result<String, Error> {
    let n = twiml.chars().count();
    if n > MAX_TWIML {
        return Err(Error::invalid_request(format!(
            "{what}: its TwiML is {n} characters, over Twilio's {MAX_TWIML} (a shorter brief, fallback or events URL)"
        )));
    }
    Ok(twiml)
}

/// A cold transfer's TwiML for `caller`.
pub(crate) fn cold_twiml(caller: &CallId, transfer: &Transfer) -> Result<String, Error> {
    let target = address(&transfer.target)?;
    let mut party = match &transfer.target {
        TransferTarget::Number(n) => DialParty::number(n),
        _ => DialParty::sip(target),
    };
    let mut action = None;
    match &transfer.events {
        Some(events) => {
            let r = TransferRef::for_transfer(caller.clone(), transfer, TransferLeg::Target);
            party = party.status_callback(dial_url(&r, events));
            action = Some(dial_url(&r.for_leg(TransferLeg::Caller), events));
        }
        None if matches!(
            transfer.on_no_answer,
            telephony_core::NoAnswer::SayAndHangup(_)
        ) =>
        {
            return Err(Error::invalid_request(
                "a cold transfer's SayAndHangup fallback needs Transfer::events: Twilio asks the <Dial action> what to do when the target is not reached",
            ));
        }
        None => {}
    }
    let mut dial = Dial::party(party).timeout(Duration::from_secs(transfer.timeout_secs()));
    if let Some(n) = &transfer.caller_id {
        dial = dial.caller_id(n.clone());
    }
    let doc = match action {
        Some(a) => VoiceResponse::new().dial(dial.action(a)),
        None => VoiceResponse::new().dial(dial).hangup(),
    };
    sized(doc.to_xml(), "cold transfer")
}

/// The room, as each side joins it.
fn room(r: &TransferRef, target: bool) -> Conference {
    let c = Conference::new(r.id.clone())
        .start_on_enter(target)
        .end_on_exit(true)
        .beep(false);
    match (&r.hold, target) {
        (Some(hold), false) => c.wait_url(hold.to_string()),
        _ => c,
    }
}

/// A warm transfer's target TwiML: the brief, then the room (starting it).
pub(crate) fn target_twiml(r: &TransferRef) -> Result<String, Error> {
    let doc = match &r.brief {
        Some(Brief::Say(text)) => VoiceResponse::new().say(Say::new(text.clone())),
        Some(Brief::Play(url)) => VoiceResponse::new().play(url.as_str()),
        None => VoiceResponse::new(),
        Some(_) => {
            return Err(Error::invalid_request(
                "this brief is not supported by Twilio",
            ));
        }
    };
    sized(
        doc.dial(Dial::room(room(r, true))).to_xml(),
        "warm transfer",
    )
}

/// The caller's TwiML once the target answered: the room, without starting it.
pub(crate) fn bridge_twiml(r: &TransferRef) -> Result<String, Error> {
    sized(
        VoiceResponse::new()
            .dial(Dial::room(room(r, false)))
            .to_xml(),
        "warm transfer bridge",
    )
}

/// What a cold transfer's `<Dial action>` is answered with: the fallback on a failure, then
/// the end of the call.
fn after_dial(r: &TransferRef, event: &TransferEvent) -> Markup {
    let doc = match (event, r.fallback.as_deref()) {
        (TransferEvent::TransferFailed { .. }, Some(text)) if !text.trim().is_empty() => {
            VoiceResponse::new().say(Say::new(text))
        }
        _ => VoiceResponse::new(),
    };
    Markup::xml(doc.hangup().to_xml())
}

/// Whether the update failed because the caller's call is over: 404 (20404), or 21220 (not
/// in progress; the code is recalled from Twilio's error dictionary, unverified here).
fn caller_gone(e: &Error) -> bool {
    e.is_not_found() || e.provider_code() == Some("21220")
}

impl Twilio {
    /// [`TelephonyProvider::transfer`].
    pub(crate) async fn start_transfer(
        &self,
        call: &CallId,
        transfer: &Transfer,
    ) -> Result<TransferStarted, Error> {
        transfer.check()?;
        match transfer.mode {
            TransferMode::Cold => {
                let twiml = cold_twiml(call, transfer)?;
                self.client().redirect_call(call.as_str(), &twiml).await?;
                return Ok(TransferStarted::new(call.as_str(), None));
            }
            TransferMode::Warm { .. } => {}
            _ => {
                return Err(Error::invalid_request(
                    "this transfer mode is not supported by Twilio",
                ));
            }
        }
        let Some(events) = &transfer.events else {
            return Err(Error::invalid_request(
                "a warm transfer needs Transfer::events",
            ));
        };
        let r = TransferRef::for_transfer(call.clone(), transfer, TransferLeg::Target);
        let twiml = target_twiml(&r)?;
        let to = address(&transfer.target)?;
        let from = match &transfer.caller_id {
            Some(n) => n.to_string(),
            None => self.our_number(call).await?,
        };
        let mut leg = CreateCall::new(to, from, CallInstructions::Twiml(twiml));
        leg.status_callback = Some(r.to_query(events));
        leg.timeout_secs = Some(transfer.timeout_secs());
        let created = self.client().create_call(&leg).await?;
        Ok(TransferStarted::new(r.id, Some(CallId::new(created.sid)?)))
    }

    /// The number of ours on `call`: the called number of an inbound call, the caller id of
    /// an outbound one.
    async fn our_number(&self, call: &CallId) -> Result<String, Error> {
        let info = self.call_status(call).await?;
        info.number_of_ours().map(str::to_owned).ok_or_else(|| {
            Error::invalid_request(format!(
                "call {call} shows no number of ours to call the target from: set Transfer::caller_id"
            ))
        })
    }

    /// [`TelephonyProvider::continue_transfer`].
    pub(crate) async fn transfer_step(&self, n: &TransferNotice) -> Result<TransferStep, Error> {
        let r = &n.transfer;
        // A party of the caller's own <Dial> (a cold transfer): Twilio bridges it itself.
        let dialled = n
            .status
            .as_ref()
            .and_then(|s| s.parent_call_id.as_ref())
            .is_some_and(|p| *p == r.caller);
        match (r.leg, &n.event) {
            (
                TransferLeg::Caller,
                TransferEvent::TransferFailed { .. } | TransferEvent::TargetEnded,
            ) => Ok(TransferStep::reply(after_dial(r, &n.event))),
            (TransferLeg::Target, TransferEvent::TransferAnswered) if !dialled => {
                self.bridge(n).await
            }
            (TransferLeg::Target, TransferEvent::TargetEnded) if !dialled => {
                end_waiting_room(self.client(), &r.id).await?;
                Ok(TransferStep::none())
            }
            _ => Ok(TransferStep::none()),
        }
    }

    /// Moves the caller into the room the answered target is entering.
    async fn bridge(&self, n: &TransferNotice) -> Result<TransferStep, Error> {
        let r = &n.transfer;
        let twiml = bridge_twiml(r)?;
        match self.client().redirect_call(r.caller.as_str(), &twiml).await {
            Ok(_) => Ok(TransferStep::none().event(TransferEvent::Bridged)),
            Err(e) if caller_gone(&e) => {
                if let Some(leg) = &n.leg_call {
                    // Best effort: the caller is gone whatever this answers, and that is the
                    // step's news; a target leg already ended is no error.
                    let _ = self.hangup(leg).await;
                }
                Ok(TransferStep::none().event(TransferEvent::TransferFailed {
                    reason: TransferFailure::CallerGone,
                    raw: e.provider_code().unwrap_or("404").to_owned(),
                }))
            }
            Err(e) => Err(e),
        }
    }
}

/// Ends the room if it never started: the target left (during the brief) before entering,
/// so the caller would otherwise wait on hold for ever. `GET /Conferences.json` by
/// `FriendlyName` and `Status=init`, then `Status=completed` on each (the caller's `<Dial>`
/// ends, and with it the call). A room that started ended with the target already
/// (`endConferenceOnExit`). Where the API has no such listing (404), there is nothing to end.
async fn end_waiting_room(client: &TwilioClient, room: &str) -> Result<(), Error> {
    let mut url = client.account_url(&["Conferences.json"]);
    url.query_pairs_mut()
        .append_pair("FriendlyName", room)
        .append_pair("Status", "init");
    let page: Option<ConferencePage> = client
        .rest
        .get(url, format!("list conferences {room}"))
        .auth(&client.auth)
        .decode_optional()
        .await?;
    let waiting = page.map(|p| p.conferences).unwrap_or_default();
    for ConferenceResource { sid, .. } in waiting
        .into_iter()
        .filter(|c| c.friendly_name.as_deref() == Some(room))
    {
        let url = client.account_url(&["Conferences", &format!("{sid}.json")]);
        let ended = client
            .rest
            .post(url, format!("end conference {sid}"))
            .auth(&client.auth)
            .form([("Status", "completed")])
            .idempotent(true)
            .success()
            .await;
        match ended {
            Err(e) if !e.is_not_found() => return Err(e),
            _ => {}
        }
    }
    Ok(())
}
