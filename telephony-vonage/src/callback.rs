//! Every callback that reaches a Vonage status URL, told apart
//! ([`parse_callback`](telephony_core::TelephonyProvider::parse_callback)):
//!
//! 1. a recording's (`recording_url`, no `status`) → [`CallNotice::Recording`];
//! 2. a transfer leg's event (its URL carries a signed [`TransferRef`]) whose `status` is a
//!    step of the transfer ([`transfer_event`]) → [`CallNotice::Transfer`], with the leg's
//!    call (the event's `uuid`) and the event itself;
//! 3. machine detection's verdict (`status` `human` or `machine`, [`crate::amd`]) →
//!    [`CallNotice::Machine`];
//! 4. any other event → [`CallNotice::Status`], as
//!    [`parse_status_callback`](telephony_core::TelephonyProvider::parse_status_callback)
//!    reads it.
//!
//! The fields are read from what Vonage's token signs (a POST's body). What the adapter put in
//! the URL's query (the transfer, the recording's call) is read only when its own signature
//! there verifies ([`crate::signed_query`]); a query with `telephony_*` parameters that do not
//! verify is refused.

use telephony_core::{
    CallId, CallNotice, Currency, DecodeError, Error, MachineResult, TransferNotice, TransferRef,
    WebhookRequest,
};

use crate::signed_query::QuerySigner;
use crate::transfer::transfer_event;
use crate::{KIND, amd, recording, status};

/// Reads one callback; see the [module](self).
pub(crate) fn parse(
    request: &WebhookRequest,
    signer: &QuerySigner,
    currency: Currency,
) -> Result<CallNotice, Error> {
    let what = "callback";
    let url = request.url.to_url().ok();
    let signed = match &url {
        Some(u) if signer.verify(u)? => Some(u),
        _ => None,
    };
    let p = status::fields(request, what)?;
    let state = p.get_nonempty("status");
    if state.is_none() && p.get_nonempty("recording_url").is_some() {
        return recording::ready(&p, signed).map(|r| CallNotice::Recording(Box::new(r)));
    }
    // After a transfer, Vonage posts an event without a status naming the conversations the
    // call moved between: nothing to act on, and no reason to refuse it.
    if state.is_none() && p.get_nonempty("conversation_uuid_to").is_some() {
        return Ok(CallNotice::Other {
            call_id: p.get_nonempty("uuid").and_then(|u| CallId::new(u).ok()),
            event: "transfer".into(),
        });
    }
    if let (Some(reference), Some(step)) = (
        signed.and_then(TransferRef::from_query),
        state.and_then(transfer_event),
    ) {
        let event = status::event_from(&p, currency, "transfer callback")?;
        return Ok(CallNotice::Transfer(Box::new(
            TransferNotice::new(reference, step)
                .leg_call(Some(event.call_id.clone()))
                .status(Some(event)),
        )));
    }
    if let Some(s) = state {
        let sub_state = p.get_nonempty("sub_state");
        if let Some(answered_by) = amd::answered_by(s, sub_state) {
            // Machine detection's events may name the call `call_uuid`.
            let id = p
                .get_nonempty("uuid")
                .or_else(|| p.get_nonempty("call_uuid"))
                .ok_or_else(|| {
                    Error::Decode(DecodeError::new(KIND, "machine detection", "no uuid field"))
                })?;
            let id = CallId::new(id).map_err(|e| {
                Error::Decode(DecodeError::new(KIND, "machine detection", e.to_string()))
            })?;
            return Ok(CallNotice::Machine(MachineResult::new(
                id,
                answered_by,
                amd::raw(s, sub_state),
            )));
        }
    }
    status::event_from(&p, currency, "event webhook").map(|e| CallNotice::Status(Box::new(e)))
}
