//! Webhooks: the request as received, with the URL the provider called character for
//! character; the public URL rebuilt behind proxies; constant-time comparison; typed
//! rejections with a diagnosis; and replay guards.

mod error;
mod form;
mod proxy;
mod replay;
mod request;
mod url;
mod variants;

pub use error::{Diagnosis, WebhookError};
pub use form::FormParams;
pub use proxy::{InvalidNetwork, IpNet, PublicUrl, PublicUrlError, TrustedProxies};
pub use replay::{
    MAX_REPLAY_KEY, MemoryReplayGuard, ReplayGuard, Verified, bounded_replay_key, check_replay,
};
pub use request::WebhookRequest;
pub use url::{InvalidRequestUrl, RequestUrl};
pub use variants::{body_variants, url_variants};

/// Compares two byte strings in time that depends only on their lengths, so a signature
/// check does not tell an attacker how many leading bytes were right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}
