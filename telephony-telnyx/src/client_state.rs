//! How a stream's custom parameters reach the media WebSocket: in the call's `client_state`.
//!
//! Telnyx's dial and answer commands take no custom parameters for the stream they start,
//! but both take a `client_state`, which Telnyx echoes in the stream's `start` message (and in
//! every later webhook of the call). This library writes the parameters there, as the base64
//! of a JSON object of strings in order, and the media protocol reads them back. A
//! `client_state` that is not such an object (one another tool set) gives no parameters.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use telephony_core::media::json::{ordered_strings, push_string};

/// The longest `client_state` this library writes, in base64 characters.
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
pub fn parameters(state: &str) -> Option<Vec<(String, String)>> {
    let bytes = STANDARD.decode(state.trim()).ok()?;
    if bytes.first() != Some(&b'{') {
        return None;
    }
    serde_json::from_slice::<Ordered>(&bytes).ok().map(|o| o.0)
}

/// A JSON object, its members in document order.
#[derive(serde::Deserialize)]
struct Ordered(#[serde(deserialize_with = "ordered_strings")] Vec<(String, String)>);

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
}
