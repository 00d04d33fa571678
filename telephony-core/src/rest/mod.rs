//! The HTTP plumbing every adapter shares: one request path, with timeouts, retries that never
//! place a call twice, listings that never leave the API or loop, and errors that say what
//! happened and never print a secret.
//!
//! An adapter describes its provider once, as a [`RestApi`] (its name, what its error bodies
//! say, what to check after a 401 or a 403), and sends every request through a
//! [`RestClient`] built on it:
//!
//! ```no_run
//! # use telephony_core::{Error, ProviderKind, Secret, Url};
//! # use telephony_core::rest::{Auth, ErrorDetails, HttpConfig, Next, RestApi, RestClient};
//! # #[derive(Debug, Clone)]
//! # struct Acme;
//! # impl RestApi for Acme {
//! #     fn provider(&self) -> ProviderKind { ProviderKind::new("acme", "Acme") }
//! #     fn error_details(&self, _: &[u8]) -> ErrorDetails { ErrorDetails::default() }
//! #     fn hint(&self, _: u16, _: &Auth) -> Option<String> { None }
//! # }
//! # #[derive(serde::Deserialize)]
//! # struct Call { id: String }
//! # #[derive(serde::Deserialize)]
//! # struct Page { numbers: Vec<String>, next: Option<String> }
//! # async fn run() -> Result<(), Error> {
//! let base: Url = "https://api.acme.example".parse().unwrap();
//! let rest = RestClient::new(Acme, &HttpConfig::default())?;
//! let auth = Auth::basic("AC1", Secret::new("token"));
//!
//! // A POST is not idempotent: retried only where Acme cannot have acted on it.
//! let call: Call = rest
//!     .post(base.join("/calls").unwrap(), "create call")
//!     .auth(&auth)
//!     .form([("To", "+14155550100")])
//!     .decode()
//!     .await?;
//! // A read, retried on 429, 5xx and timeouts, honouring Retry-After.
//! let again: Call = rest
//!     .get(base.join(&format!("/calls/{}", call.id)).unwrap(), "fetch call")
//!     .auth(&auth)
//!     .decode()
//!     .await?;
//! // Every page, following only links on `base`.
//! let numbers = rest
//!     .get(base.join("/numbers").unwrap(), "list numbers")
//!     .auth(&auth)
//!     .pages(&base, |page: Page| (page.numbers, Next::link(page.next)))
//!     .await?;
//! # let _ = (again, numbers);
//! # Ok(())
//! # }
//! ```

use serde::de::DeserializeOwned;

use crate::error::{DecodeError, Error};
use crate::provider::ProviderKind;

mod client;
mod clock;
mod download;
mod pages;
mod retry;

pub use client::{Answer, Auth, ErrorDetails, RestApi, RestClient, RestRequest};
pub use clock::{ServerDate, observe_server_date};
pub use pages::{MAX_PAGES, Next, next_page_url};
pub use retry::{HttpConfig, RetryPolicy, retry_after};

/// Decodes a JSON body into `T`, naming what it was on failure.
pub fn decode_json<T: DeserializeOwned>(
    provider: ProviderKind,
    what: &str,
    body: &[u8],
) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| {
        Error::Decode(DecodeError::new(
            provider,
            what,
            format!("{e} (body starts {:?})", preview(body)),
        ))
    })
}

/// Deserializes a field a provider writes as a string, a number or null, as text: prices,
/// durations and counts that come either way.
pub fn string_or_number<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    use serde::Deserialize as _;
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        Some(other) => Some(other.to_string()),
    })
}

/// Lower-case hexadecimal, as signatures and body hashes are written.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// The first 120 characters of a body, for error messages.
pub fn preview(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut s: String = text.chars().take(120).collect();
    if text.chars().count() > 120 {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preview_is_cut_and_says_so() {
        assert_eq!(preview(b"short"), "short");
        let long = "x".repeat(200);
        let shown = preview(long.as_bytes());
        assert_eq!(shown.chars().count(), 121);
        assert!(shown.ends_with('…'));
    }
}
