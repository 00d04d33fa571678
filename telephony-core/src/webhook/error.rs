//! Why a webhook was rejected, and what would have matched.

use std::fmt;
use std::time::Duration;

use thiserror::Error;

/// Why a webhook was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The request carries no signature.
    #[error("no {header} header: the request is not signed")]
    MissingSignature {
        /// The header expected.
        header: &'static str,
    },
    /// The signature does not match the request.
    #[error("the signature does not match{}", match .diagnosis {
        Some(d) => format!(": {d}"),
        None => ": wrong secret, or the URL or body differ from what the provider signed".into(),
    })]
    Mismatch {
        /// What would have matched, when something close does.
        diagnosis: Option<Diagnosis>,
    },
    /// The body does not hash to what the signature covers: it changed after signing.
    #[error("the body does not match its signed hash: {}",
        .diagnosis.unwrap_or("it was changed after signing (re-encoded by a framework or proxy?)"))]
    BodyHashMismatch {
        /// How the body was changed, when a near variant of it matches the hash.
        diagnosis: Option<&'static str>,
    },
    /// The signed time is outside the accepted window.
    #[error(
        "signed at {signed_at} (unix seconds), outside the {tolerance:?} window around now ({now})"
    )]
    Stale {
        /// When the request was signed.
        signed_at: i64,
        /// Now, as used.
        now: i64,
        /// The window.
        tolerance: Duration,
    },
    /// The token has expired.
    #[error("the token expired at {expired_at} (unix seconds); now is {now}")]
    Expired {
        /// When it expired.
        expired_at: i64,
        /// Now, as used.
        now: i64,
    },
    /// A signed token whose signature does not verify with the configured key.
    #[error("the token's signature does not verify: {hint}")]
    TokenMismatch {
        /// What to check.
        hint: String,
    },
    /// A valid token, for another application or account than this one.
    #[error("the token is for another party: {detail}")]
    WrongAudience {
        /// Whose it is, and whose was expected.
        detail: String,
    },
    /// The adapter has no secret to check signatures with.
    #[error("cannot verify webhooks: {setting} is not set")]
    MissingSecret {
        /// The setting that holds the secret.
        setting: &'static str,
    },
    /// The signature, token or a header is malformed.
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// What was malformed.
        what: &'static str,
        /// How.
        detail: String,
    },
    /// The signature uses an algorithm this library does not implement.
    #[error("unsupported signature algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// The request was seen before.
    #[error("replayed: {0} was already used")]
    Replayed(String),
    /// The replay store failed, so the request could not be checked.
    #[error("the replay store failed: {0}")]
    ReplayStore(String),
}

/// A variant of the request that the signature does match, and what that says about the
/// deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    /// The URL the signature matches.
    pub signed_url: String,
    /// Why the URL differs from the one received.
    pub reason: &'static str,
}

impl fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "it matches this request at {}: {}",
            self.signed_url, self.reason
        )
    }
}
