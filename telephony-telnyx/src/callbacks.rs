//! Any callback at the status URL, read into a [`CallNotice`]: every Call Control event is one
//! envelope, told apart by its `event_type` and by the transfer state its `client_state`
//! carries back (signed with the whole body, so it is the state this library wrote).
//!
//! | event | notice |
//! |---|---|
//! | `call.recording.saved` | recording ([`recording::ready`]) |
//! | `call.machine.*` with a `result` | machine (the one table, [`events::answered_by`]) |
//! | any event of a transfer's leg that is a step of it ([`transfer::notice`]) | transfer |
//! | any other, `call.recording.error` included (its reason in `raw_status`) | status ([`events::event_of`]) |

use telephony_core::{CallId, CallNotice, DecodeError, Error, MachineResult, WebhookRequest};

use crate::{KIND, client_state, events, recording, transfer};

/// Reads one callback.
///
/// # Errors
///
/// A body that is not a Telnyx event, an event about no call (other than a recording's), a
/// recording event that links no file.
pub fn parse(request: &WebhookRequest) -> Result<CallNotice, Error> {
    let data = events::envelope(&request.body)?.data;
    if data.event_type == "call.recording.saved" {
        return recording::ready(&data).map(|r| CallNotice::Recording(Box::new(r)));
    }
    if data.event_type.starts_with("call.machine.")
        && let Some(result) = data.payload.result.as_deref()
    {
        let id = data.payload.call_control_id.as_deref().unwrap_or_default();
        let call = CallId::new(id).map_err(|e| {
            Error::Decode(DecodeError::new(KIND, "machine detection", e.to_string()))
        })?;
        return Ok(CallNotice::Machine(MachineResult::new(
            call,
            events::answered_by(result),
            result,
        )));
    }
    if let Some(state) = data
        .payload
        .client_state
        .as_deref()
        .and_then(client_state::transfer)
        && let Some(notice) = transfer::notice(&data, &state)
    {
        return Ok(CallNotice::Transfer(Box::new(notice)));
    }
    events::event_of(&data).map(|e| CallNotice::Status(Box::new(e)))
}
