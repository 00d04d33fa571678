//! DTMF through Plivo's API (`POST /Call/{uuid}/DTMF/`, on the call's own leg).

use telephony_core::{CallId, Dtmf, Error};

use crate::client::PlivoClient;

/// The keys Plivo's DTMF API is documented to take: digits, `*` and `#` ("Send digits on an
/// active call" lists no pause character; `w` is documented only for `<Number sendDigits>`),
/// so `A`–`D`, `w` and `W` are refused before any request.
fn allowed(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '*' | '#')
}

/// Presses `digits` on `call`.
pub(crate) async fn send(client: &PlivoClient, call: &CallId, digits: &Dtmf) -> Result<(), Error> {
    digits.check(allowed, "Plivo's DTMF API takes 0-9, * and #")?;
    client.send_digits(call.as_str(), digits.as_str()).await
}
