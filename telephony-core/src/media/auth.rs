//! Tokens that tie a media WebSocket to a call this server answered or placed.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use thiserror::Error;

use crate::id::CallId;
use crate::markup::StreamSpec;
use crate::secret::Secret;
use crate::webhook::constant_time_eq;

/// The custom parameter a stream's token travels in (letters only, and the token letters and
/// digits only: Plivo's `extraHeaders` take nothing else).
pub const STREAM_TOKEN_PARAMETER: &str = "telephonyStreamToken";

/// Mints and checks the tokens that tie media WebSockets to calls. Cheap to clone; its
/// `Debug` never shows the key.
///
/// A media WebSocket is opened by the carrier, but nothing in the protocol says so: anyone
/// who can reach the URL can open one and send a `start` naming any call. A server that then
/// acts on that call (hangs it up when the socket drops, logs it, bills it) acts for an
/// attacker. So the answer document carries a token, as one of the stream's custom
/// parameters, and the carrier echoes it in the stream's start message: a token the server
/// minted, for that call, proves the stream came through an answer the server gave.
///
/// The token is an HMAC-SHA256, under a key the server keeps (the same on every replica), of
/// when it was minted and either the call's id (when it is known at answer time: inbound
/// calls, answer URLs) or a nonce (a stream given inline when a call is placed, before the
/// carrier names the call). It expires after a while (an hour by default): a stream starts
/// when its call is answered, seconds after the answer is given.
///
/// ```
/// use std::time::SystemTime;
/// use telephony_core::{CallId, StreamAuth, StreamSpec};
///
/// let auth = StreamAuth::new("a long random secret, the same on every replica");
/// let call = CallId::new("CA0123456789abcdef0123456789abcdef")?;
/// let spec = auth.protect(StreamSpec::new("wss://agent.example.com/media".parse()?), Some(&call));
/// let token = spec.parameters.iter().find(|(k, _)| k == "telephonyStreamToken").unwrap();
/// assert!(auth.verify(&token.1, Some(&call), SystemTime::now()).is_ok());
/// let other = CallId::new("CA99999999999999999999999999999999")?;
/// assert!(auth.verify(&token.1, Some(&other), SystemTime::now()).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct StreamAuth {
    key: Secret,
    ttl: Duration,
}

/// Why a stream's token was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StreamAuthError {
    /// The start message carries no token.
    #[error(
        "the stream's start carries no {STREAM_TOKEN_PARAMETER} parameter: it did not come through an answer this server gave"
    )]
    Missing,
    /// The token is not one this server minted, or not for this call.
    #[error("the stream's token does not verify{0}")]
    Invalid(&'static str),
    /// The token is too old.
    #[error(
        "the stream's token was minted {age_secs} s ago, more than the {ttl_secs} s it is good for"
    )]
    Expired {
        /// Its age.
        age_secs: u64,
        /// How long tokens are good for.
        ttl_secs: u64,
    },
}

impl StreamAuth {
    /// Tokens under `key`: a secret of the server's own (32 random bytes or more), the same on
    /// every replica that may take a stream.
    pub fn new(key: impl Into<Secret>) -> StreamAuth {
        StreamAuth {
            key: key.into(),
            ttl: Duration::from_secs(3600),
        }
    }

    /// How long after minting a token is good for (an hour by default).
    pub fn ttl(mut self, ttl: Duration) -> StreamAuth {
        self.ttl = ttl;
        self
    }

    fn mac(&self, minted: u64, nonce: &str, call: Option<&CallId>) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.key.expose().as_bytes())
            .expect("HMAC takes any key length");
        mac.update(b"telephony stream token v1\0");
        mac.update(minted.to_string().as_bytes());
        mac.update(b"\0");
        mac.update(nonce.as_bytes());
        mac.update(b"\0");
        mac.update(call.map_or("", CallId::as_str).as_bytes());
        // 128 bits, as hex: letters and digits only.
        mac.finalize().into_bytes()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// A token for `call` (or, for a stream given before the carrier names the call, for a
    /// fresh nonce), minted at `now`: `s1`, `c` (for a call) or `n` (a nonce), the time in 12
    /// digits, the nonce's 24 hex digits, and 32 hex digits of MAC. Letters and digits only.
    pub fn mint_at(&self, call: Option<&CallId>, now: SystemTime) -> String {
        let minted = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) % 1_000_000_000_000;
        match call {
            Some(_) => format!("s1c{minted:012}{}", self.mac(minted, "", call)),
            None => {
                let nonce = nonce();
                format!("s1n{minted:012}{nonce}{}", self.mac(minted, &nonce, None))
            }
        }
    }

    /// [`mint_at`](Self::mint_at) now.
    pub fn mint(&self, call: Option<&CallId>) -> String {
        self.mint_at(call, SystemTime::now())
    }

    /// `spec` with a token for `call` among its parameters, replacing any it had.
    pub fn protect(&self, spec: StreamSpec, call: Option<&CallId>) -> StreamSpec {
        let mut spec = spec;
        spec.parameters.retain(|(k, _)| k != STREAM_TOKEN_PARAMETER);
        spec.parameter(STREAM_TOKEN_PARAMETER, self.mint(call))
    }

    /// Checks a token against the call the stream's start names, at `now`. A token minted for
    /// a call verifies only with that call's id; one minted for a nonce, with any (the call
    /// had no id yet when its answer was given).
    ///
    /// # Errors
    ///
    /// [`StreamAuthError`] when the token is not this server's, not for this call, or too old.
    pub fn verify(
        &self,
        token: &str,
        call: Option<&CallId>,
        now: SystemTime,
    ) -> Result<(), StreamAuthError> {
        let invalid = |why| Err(StreamAuthError::Invalid(why));
        if !token.is_ascii() {
            return invalid(": not a token of this library");
        }
        let (kind, rest) = match token.strip_prefix("s1") {
            Some(rest) if !rest.is_empty() => rest.split_at(1),
            _ => return invalid(": not a token of this library"),
        };
        let nonce_len = match kind {
            "c" => 0,
            "n" => 24,
            _ => return invalid(": not a token of this library"),
        };
        if rest.len() != 12 + nonce_len + 32 {
            return invalid(": not a token of this library");
        }
        let (minted, rest) = rest.split_at(12);
        let (nonce, mac) = rest.split_at(nonce_len);
        let Ok(minted) = minted.parse::<u64>() else {
            return invalid(": its time is not a number");
        };
        let bound = match kind {
            "c" => match call {
                Some(c) => Some(c),
                None => return invalid(": it is for a call, and the start names none"),
            },
            _ => None,
        };
        let expected = self.mac(minted, nonce, bound);
        if !constant_time_eq(expected.as_bytes(), mac.as_bytes()) {
            return invalid(": not minted by this server, or for another call");
        }
        let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let age = now.saturating_sub(minted);
        if age > self.ttl.as_secs() || minted > now.saturating_add(300) {
            return Err(StreamAuthError::Expired {
                age_secs: age,
                ttl_secs: self.ttl.as_secs(),
            });
        }
        Ok(())
    }
}

/// A nonce that never repeats in a process: the time and a counter.
fn nonce() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{:016x}{:08x}", nanos, count as u32)
}

impl fmt::Debug for StreamAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamAuth")
            .field("key", &self.key)
            .field("ttl", &self.ttl)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(id: &str) -> CallId {
        CallId::new(id).unwrap()
    }

    #[test]
    fn a_token_verifies_for_its_call_only_and_only_under_its_key() {
        let auth = StreamAuth::new("k1");
        let t0 = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let token = auth.mint_at(Some(&call("CA1")), t0);
        assert_eq!(auth.verify(&token, Some(&call("CA1")), t0), Ok(()));
        assert!(auth.verify(&token, Some(&call("CA2")), t0).is_err());
        assert!(auth.verify(&token, None, t0).is_err());
        assert!(
            StreamAuth::new("k2")
                .verify(&token, Some(&call("CA1")), t0)
                .is_err()
        );
        // A nonce token: any call, as the call had no id when it was minted.
        let open = auth.mint_at(None, t0);
        assert_eq!(auth.verify(&open, Some(&call("CA9")), t0), Ok(()));
        assert_eq!(auth.verify(&open, None, t0), Ok(()));
        assert_ne!(open, auth.mint_at(None, t0), "nonces differ");
        assert!(open.bytes().all(|b| b.is_ascii_alphanumeric()), "{open}");
    }

    #[test]
    fn tokens_expire_and_tampering_fails() {
        let auth = StreamAuth::new("k").ttl(Duration::from_secs(60));
        let t0 = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let token = auth.mint_at(Some(&call("CA1")), t0);
        let later = t0 + Duration::from_secs(61);
        assert!(matches!(
            auth.verify(&token, Some(&call("CA1")), later),
            Err(StreamAuthError::Expired { .. })
        ));
        // Moving the time forward breaks the MAC.
        let moved = token.replacen("001800000000", "001800000050", 1);
        assert!(matches!(
            auth.verify(&moved, Some(&call("CA1")), later),
            Err(StreamAuthError::Invalid(_))
        ));
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric()), "{token}");
        for bad in [
            "",
            "s1",
            "s1c",
            "s1x0000",
            "s2c0018000000000123",
            "s1c00180000000é",
        ] {
            assert!(auth.verify(bad, Some(&call("CA1")), t0).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn protect_replaces_any_token_and_debug_hides_the_key() {
        let auth = StreamAuth::new("super-secret-key");
        let spec = StreamSpec::new("wss://a.example.com/m".parse().unwrap())
            .parameter(STREAM_TOKEN_PARAMETER, "forged")
            .parameter("lead", "42");
        let spec = auth.protect(spec, Some(&call("CA1")));
        let tokens: Vec<_> = spec
            .parameters
            .iter()
            .filter(|(k, _)| k == STREAM_TOKEN_PARAMETER)
            .collect();
        assert_eq!(tokens.len(), 1);
        assert_ne!(tokens[0].1, "forged");
        assert!(!format!("{auth:?}").contains("super-secret-key"));
    }
}
