//! What this library carries in a call's `client_state`: a stream's custom parameters, or a
//! transfer's state.
//!
//! Telnyx's dial and answer commands take no custom parameters for the stream they start,
//! but both take a `client_state`, which Telnyx echoes in the stream's `start` message (and in
//! every later webhook of the call). This library writes the parameters there, as the base64
//! of a JSON object of strings in order, and the media protocol reads them back. A
//! `client_state` that is not such an object (one another tool set) gives no parameters.
//!
//! A transfer's legs carry its [`TransferRef`] instead ([`encode_transfer`]), as the base64 of
//! `{"telephony_transfer": <the reference's JSON>}`: Telnyx signs every webhook's whole body,
//! so the state a callback carries back is the state this library wrote, and any replica can
//! take the transfer's next step from it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use telephony_core::control::valid_room;
use telephony_core::media::json::{ordered_strings, push_string};
use telephony_core::{Error, TransferFailure, TransferRef};

/// The longest `client_state` this library writes, in base64 characters. Telnyx documents no
/// limit (telnyx-python 4.189 declares none, and no limit was found in its docs; unverified),
/// so this library keeps its states well under 4 KiB and refuses to send a longer one.
pub const MAX_LEN: usize = 4096;

/// The `client_state` that carries `parameters`; `None` for none.
///
/// # Errors
///
/// Parameters that do not fit in [`MAX_LEN`] characters.
pub fn encode(parameters: &[(String, String)]) -> Result<Option<String>, String> {
    if parameters.is_empty() {
        return Ok(None);
    }
    let mut json = String::from("{");
    for (i, (k, v)) in parameters.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        push_string(&mut json, k);
        json.push(':');
        push_string(&mut json, v);
    }
    json.push('}');
    let state = STANDARD.encode(json);
    if state.len() > MAX_LEN {
        return Err(format!(
            "the stream's parameters take {} characters in client_state; at most {MAX_LEN} are sent",
            state.len()
        ));
    }
    Ok(Some(state))
}

/// The parameters a `client_state` carries, in order; `None` when it is not this library's.
/// A transfer's state ([`transfer`]) gives none.
pub fn parameters(state: &str) -> Option<Vec<(String, String)>> {
    let bytes = STANDARD.decode(state.trim()).ok()?;
    if bytes.first() != Some(&b'{') || transfer(state).is_some() {
        return None;
    }
    serde_json::from_slice::<Ordered>(&bytes).ok().map(|o| o.0)
}

/// A JSON object, its members in document order.
#[derive(serde::Deserialize)]
struct Ordered(#[serde(deserialize_with = "ordered_strings")] Vec<(String, String)>);

/// A transfer's state, as a leg's `client_state` carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransferState {
    /// The transfer, and which leg this is.
    pub transfer: TransferRef,
    /// Set on the caller's leg while a cold transfer's fallback is said: why the target was
    /// not reached, and Telnyx's words for it.
    pub failed: Option<(TransferFailure, String)>,
}

#[derive(Serialize, Deserialize)]
struct Failed {
    reason: TransferFailure,
    raw: String,
}

#[derive(Deserialize)]
struct Wire {
    telephony_transfer: TransferRef,
    #[serde(default)]
    failed: Option<Failed>,
}

/// The `client_state` that carries `transfer` (and, on a cold transfer's caller whose
/// fallback is being said, why it failed). Fields that are not set are left out, so it stays
/// small.
///
/// # Errors
///
/// A state longer than [`MAX_LEN`] characters (a long brief or fallback): nothing is sent.
pub fn encode_transfer(
    transfer: &TransferRef,
    failed: Option<(TransferFailure, &str)>,
) -> Result<String, Error> {
    let mut reference = serde_json::to_value(transfer).map_err(Error::invalid_request)?;
    if let serde_json::Value::Object(map) = &mut reference {
        map.retain(|_, v| !v.is_null());
    }
    let mut wire = serde_json::json!({ "telephony_transfer": reference });
    if let Some((reason, raw)) = failed {
        wire["failed"] = serde_json::to_value(Failed {
            reason,
            raw: raw.to_owned(),
        })
        .map_err(Error::invalid_request)?;
    }
    let state = STANDARD.encode(wire.to_string());
    if state.len() > MAX_LEN {
        return Err(Error::invalid_request(format!(
            "the transfer's state takes {} characters in Telnyx's client_state; at most {MAX_LEN} are sent (shorten the brief or the fallback)",
            state.len()
        )));
    }
    Ok(state)
}

/// The transfer a `client_state` carries; `None` when it carries none (a stream's
/// parameters, another tool's state, or a reference that is not this library's).
pub fn transfer(state: &str) -> Option<TransferState> {
    let bytes = STANDARD.decode(state.trim()).ok()?;
    if bytes.first() != Some(&b'{') {
        return None;
    }
    let wire: Wire = serde_json::from_slice(&bytes).ok()?;
    if !valid_room(&wire.telephony_transfer.id) {
        return None;
    }
    Some(TransferState {
        transfer: wire.telephony_transfer,
        failed: wire.failed.map(|f| (f.reason, f.raw)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_round_trip_in_order_and_a_foreign_state_gives_none() {
        let params = vec![
            ("z".to_owned(), "1".to_owned()),
            ("a".to_owned(), "é \"x\"".to_owned()),
        ];
        let state = encode(&params).unwrap().unwrap();
        assert_eq!(parameters(&state).unwrap(), params);
        assert_eq!(encode(&[]).unwrap(), None);
        // "have a nice day =]", the documented example.
        assert_eq!(parameters("aGF2ZSBhIG5pY2UgZGF5ID1d"), None);
        assert_eq!(parameters(&STANDARD.encode(r#"{"a":"1"} x"#)), None);
        assert_eq!(parameters("not base64!"), None);
        let big = vec![("k".to_owned(), "v".repeat(4000))];
        assert!(encode(&big).is_err());
    }

    #[test]
    fn a_transfer_round_trips_small_and_is_told_apart_from_parameters() {
        use telephony_core::{Brief, CallId, Transfer, TransferLeg};
        let t = Transfer::warm(
            "+14155550123".parse().unwrap(),
            Some(Brief::Say("A caller about a refund.".into())),
        );
        let r = TransferRef::for_transfer(CallId::new("v3:abc").unwrap(), &t, TransferLeg::Target);
        let state = encode_transfer(&r, None).unwrap();
        assert!(state.len() < 400, "{}", state.len());
        assert_eq!(transfer(&state).unwrap().transfer, r);
        assert_eq!(parameters(&state), None);
        let failed = encode_transfer(&r, Some((TransferFailure::Busy, "user_busy"))).unwrap();
        assert_eq!(
            transfer(&failed).unwrap().failed,
            Some((TransferFailure::Busy, "user_busy".to_owned()))
        );
        let params = encode(&[("lead".to_owned(), "42".to_owned())])
            .unwrap()
            .unwrap();
        assert_eq!(transfer(&params), None);
        assert_eq!(transfer("aGF2ZSBhIG5pY2UgZGF5ID1d"), None);
        let forged = STANDARD
            .encode(r#"{"telephony_transfer":{"id":"room<x>","caller":"v3:abc","leg":"target"}}"#);
        assert_eq!(transfer(&forged), None);
        let long = Transfer::warm(
            "+14155550123".parse().unwrap(),
            Some(Brief::Say("€".repeat(1000))),
        );
        let r =
            TransferRef::for_transfer(CallId::new("v3:abc").unwrap(), &long, TransferLeg::Target);
        assert!(encode_transfer(&r, None).is_err());
    }
}
