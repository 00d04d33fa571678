//! One error type for everything a provider adapter does, with predicates for the decisions a
//! caller makes (retry? fix credentials? treat as gone?).

use std::time::Duration;

use thiserror::Error;

use crate::id::{E164, InvalidCallId, InvalidE164};
use crate::media::MediaError;
use crate::provider::ProviderKind;
use crate::webhook::WebhookError;

/// Anything that can go wrong talking to a carrier.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is missing or malformed; nothing was sent.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A phone number is not E.164; nothing was sent.
    #[error(transparent)]
    InvalidNumber(#[from] InvalidE164),
    /// A call id is malformed; nothing was sent.
    #[error(transparent)]
    InvalidCallId(#[from] InvalidCallId),
    /// The request cannot be made as asked (a combination the provider does not accept);
    /// nothing was sent.
    #[error("{0}")]
    InvalidRequest(String),
    /// The provider answered with an error status.
    #[error(transparent)]
    Api(Box<ApiError>),
    /// The request did not get an answer: connection, TLS or timeout.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The provider's answer, or a request it sent us, could not be understood.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A webhook did not authenticate.
    #[error(transparent)]
    Webhook(#[from] WebhookError),
    /// The media stream broke its protocol.
    #[error(transparent)]
    Media(#[from] MediaError),
    /// A listing's pages could not be followed safely: a next-page link to another host, or
    /// more pages than any account has. Nothing is returned rather than part of the list.
    #[error(transparent)]
    Page(#[from] PageError),
    /// The provider has no such operation.
    #[error("{provider} does not support {operation}")]
    Unsupported {
        /// The provider.
        provider: ProviderKind,
        /// What was asked.
        operation: &'static str,
    },
    /// The carrier reports that the number cannot take voice calls
    /// ([`PhoneNumber::voice`](crate::PhoneNumber::voice)): pointing its calls at a webhook
    /// would never ring it, so nothing was changed.
    #[error(
        "{provider} reports that {number} cannot take voice calls: enable voice on it, or use a voice-capable number, before pointing its calls at a webhook"
    )]
    NumberWithoutVoice {
        /// The provider.
        provider: ProviderKind,
        /// The number.
        number: E164,
    },
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Error {
        Error::Api(Box::new(e))
    }
}

impl Error {
    /// A request that cannot be made as asked ([`Error::InvalidRequest`]): nothing was sent.
    pub fn invalid_request(reason: impl ToString) -> Error {
        Error::InvalidRequest(reason.to_string())
    }

    /// The provider's answer, when it answered with an error status.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// Whether trying the same request again later may succeed, and is safe: rate limiting, a
    /// server error, a timeout or a refused connection. Configuration, authentication and bad
    /// requests are not retryable, and neither is a request that creates something (placing a
    /// call) and may have been acted on: see [`may_have_acted`](Self::may_have_acted).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(e) => (e.status == 429 || e.status >= 500) && !e.may_have_acted,
            Error::Transport(e) => match e.kind {
                TransportKind::Connect => true,
                TransportKind::Timeout => !e.may_have_acted,
                TransportKind::Other => false,
            },
            _ => false,
        }
    }

    /// Whether the provider may have done what was asked despite the error: a request that
    /// creates something (placing a call) answered with a server error, or sent and never
    /// answered. Repeating it may do it twice: look first (for a call, its status callbacks or
    /// the provider's call list).
    pub fn may_have_acted(&self) -> bool {
        match self {
            Error::Api(e) => e.may_have_acted,
            Error::Transport(e) => e.may_have_acted,
            _ => false,
        }
    }

    /// Marks the error of a request that creates something: a server error, or a request sent
    /// and not answered, may have been acted on ([`may_have_acted`](Self::may_have_acted)).
    pub fn after_create(self) -> Error {
        const HINT: &str = "it may have been done anyway: check before repeating it";
        match self {
            Error::Api(mut e) if e.status >= 500 => {
                e.may_have_acted = true;
                if e.hint.is_none() {
                    e.hint = Some(HINT.to_owned());
                }
                Error::Api(e)
            }
            Error::Transport(mut e) if e.kind != TransportKind::Connect => {
                e.may_have_acted = true;
                Error::Transport(e)
            }
            other => other,
        }
    }

    /// Whether the provider refused the credentials (401) or what they may do (403): fix
    /// the credentials or the account, not the request. A credential that is missing or
    /// malformed is found before sending and is a configuration error
    /// ([`is_config`](Self::is_config)), not this.
    pub fn is_auth(&self) -> bool {
        matches!(self, Error::Api(e) if e.status == 401 || e.status == 403)
    }

    /// Whether the provider does not know the resource (404).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Api(e) if e.status == 404)
    }

    /// Whether the problem is in the configuration or the request, found before sending.
    pub fn is_config(&self) -> bool {
        matches!(
            self,
            Error::Config(_)
                | Error::InvalidNumber(_)
                | Error::InvalidCallId(_)
                | Error::InvalidRequest(_)
        )
    }

    /// The HTTP status the provider answered, if it answered.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.status),
            _ => None,
        }
    }

    /// The provider's own error code (Twilio `20404`, for instance), if it sent one.
    pub fn provider_code(&self) -> Option<&str> {
        match self {
            Error::Api(e) => e.code.as_deref(),
            _ => None,
        }
    }
}

/// A setting that is missing or malformed, named as the user sets it (an environment
/// variable or config key).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{setting}: {reason}")]
pub struct ConfigError {
    /// The setting: `TWILIO_AUTH_TOKEN`, `base_url`, …
    pub setting: String,
    /// What is wrong and what to do.
    pub reason: String,
}

impl ConfigError {
    /// A config error for `setting`.
    pub fn new(setting: impl Into<String>, reason: impl Into<String>) -> ConfigError {
        ConfigError {
            setting: setting.into(),
            reason: reason.into(),
        }
    }
}

/// An error status from a provider's REST API.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{provider} answered {status}{} to {operation}: {message}{}{}{}",
    .code.as_ref().map(|c| format!(" (code {c})")).unwrap_or_default(),
    .hint.as_ref().map(|h| format!("; {h}")).unwrap_or_default(),
    .more_info.as_ref().map(|m| format!(" ({m})")).unwrap_or_default(),
    .request_id.as_ref().map(|r| format!(" [request id {r}]")).unwrap_or_default())]
#[non_exhaustive]
pub struct ApiError {
    /// The provider.
    pub provider: ProviderKind,
    /// What was being done: `create call`, `fetch call CA…`.
    pub operation: String,
    /// The HTTP status.
    pub status: u16,
    /// The provider's error code, when it sends one.
    pub code: Option<String>,
    /// The provider's message.
    pub message: String,
    /// The provider's documentation link for the error.
    pub more_info: Option<String>,
    /// How long the provider asked us to wait (`Retry-After`).
    pub retry_after: Option<Duration>,
    /// What to check, when the status says it (a 401: the credentials).
    pub hint: Option<String>,
    /// Whether the provider may have acted on the request anyway (see
    /// [`Error::may_have_acted`]).
    pub may_have_acted: bool,
    /// The provider's id for this request (Plivo's `api_id`), which its support asks for.
    pub request_id: Option<String>,
}

impl ApiError {
    /// An API error with the essentials; the rest is filled in by the setters below.
    pub fn new(
        provider: ProviderKind,
        operation: impl Into<String>,
        status: u16,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError {
            provider,
            operation: operation.into(),
            status,
            code: None,
            message: message.into(),
            more_info: None,
            retry_after: None,
            hint: None,
            may_have_acted: false,
            request_id: None,
        }
    }

    /// Sets the provider's error code.
    pub fn with_code(mut self, code: Option<String>) -> ApiError {
        self.code = code;
        self
    }

    /// Sets the documentation link.
    pub fn with_more_info(mut self, more_info: Option<String>) -> ApiError {
        self.more_info = more_info;
        self
    }

    /// Sets the wait the provider asked for.
    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> ApiError {
        self.retry_after = retry_after;
        self
    }

    /// Sets what to check.
    pub fn with_hint(mut self, hint: Option<String>) -> ApiError {
        self.hint = hint;
        self
    }

    /// Sets the provider's id for the request.
    pub fn with_request_id(mut self, request_id: Option<String>) -> ApiError {
        self.request_id = request_id;
        self
    }
}

/// A paged listing that was not followed to its end; see [`PageProblem`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{provider} {operation}: {problem}")]
#[non_exhaustive]
pub struct PageError {
    /// The provider.
    pub provider: ProviderKind,
    /// The listing: `list numbers`.
    pub operation: String,
    /// What was wrong.
    pub problem: PageProblem,
}

impl PageError {
    /// A page error of `operation`.
    pub fn new(
        provider: ProviderKind,
        operation: impl Into<String>,
        problem: PageProblem,
    ) -> PageError {
        PageError {
            provider,
            operation: operation.into(),
            problem,
        }
    }
}

/// Why a listing's next page was not fetched.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PageProblem {
    /// The next-page link names another scheme, host or port than the configured API: it is
    /// not followed, so the credentials are never sent there.
    #[error(
        "the next-page link {link:?} points away from {expected}: not followed, so the credentials stay with the API"
    )]
    OtherOrigin {
        /// The link, as given (shortened).
        link: String,
        /// The configured origin.
        expected: String,
    },
    /// The next-page link leaves the configured base URL's path.
    #[error("the next-page link {link:?} leaves the API's path {prefix:?}")]
    OutsidePrefix {
        /// The link, as given (shortened).
        link: String,
        /// The base URL's path.
        prefix: String,
    },
    /// The next-page link cannot be read as a URL.
    #[error("the next-page link {link:?} cannot be read: {detail}")]
    Malformed {
        /// The link, as given (shortened).
        link: String,
        /// Why.
        detail: String,
    },
    /// A page pointed back at a page already read, or the next page was one already read
    /// (the same answer, or only items already listed): the API is not moving through the
    /// listing, and following it would never end.
    #[error("the next page {link:?} repeats a page already read")]
    Repeated {
        /// The link, as given, or the URL the adapter built (shortened).
        link: String,
    },
    /// The listing kept answering with a next page.
    #[error("still a next page after {max} pages: stopped, rather than return part of the list")]
    TooManyPages {
        /// The pages read.
        max: usize,
    },
}

/// How a request failed to get an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// The connection could not be made (refused, DNS, TLS handshake): the request was not
    /// sent.
    Connect,
    /// No answer in time: the request may or may not have been acted on.
    Timeout,
    /// Anything else, after the request may have been sent.
    Other,
}

/// A request that got no answer: `Twilio fetch call: could not connect to
/// https://api.twilio.com:443: Connection refused (os error 111)`, naming where it went and the
/// innermost cause of the underlying error.
#[derive(Debug, Error)]
#[non_exhaustive]
#[error("{provider} {operation}: {}{}: {}", match .kind {
    TransportKind::Connect => "could not connect",
    TransportKind::Timeout => "timed out",
    TransportKind::Other => "request failed",
}, .target.as_ref().map(|t| format!(" to {t}")).unwrap_or_default(), root_cause(&**.source))]
pub struct TransportError {
    /// The provider.
    pub provider: ProviderKind,
    /// What was being done.
    pub operation: String,
    /// How it failed.
    pub kind: TransportKind,
    /// Where the request went, `scheme://host:port`: never the credentials, path or query.
    pub target: Option<String>,
    /// The underlying error.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
    /// Whether the request was sent, creates something, and may have been acted on.
    pub may_have_acted: bool,
}

/// The innermost error of `e`'s [`source`](std::error::Error::source) chain: what actually went
/// wrong ("Connection refused (os error 111)"), where the outer ones only say where ("error
/// sending request").
fn root_cause<'a>(
    mut e: &'a (dyn std::error::Error + 'static),
) -> &'a (dyn std::error::Error + 'static) {
    while let Some(inner) = e.source() {
        e = inner;
    }
    e
}

/// A message that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{provider}: cannot read {what}: {detail}")]
pub struct DecodeError {
    /// Whose message.
    pub provider: ProviderKind,
    /// What it was: `call resource`, `status callback`.
    pub what: String,
    /// What is wrong with it.
    pub detail: String,
}

impl DecodeError {
    /// A decode error.
    pub fn new(
        provider: ProviderKind,
        what: impl Into<String>,
        detail: impl Into<String>,
    ) -> DecodeError {
        DecodeError {
            provider,
            what: what.into(),
            detail: detail.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: ProviderKind = ProviderKind::new("acme", "Acme");

    #[test]
    fn api_errors_read_well() {
        let e = ApiError::new(P, "create call", 401, "Authenticate")
            .with_code(Some("20003".into()))
            .with_hint(Some("check ACME_TOKEN".into()))
            .with_more_info(Some("https://example.com/20003".into()));
        assert_eq!(
            e.to_string(),
            "Acme answered 401 (code 20003) to create call: Authenticate; check ACME_TOKEN (https://example.com/20003)"
        );
        let with_id = e.clone().with_request_id(Some("9e4f-77".into()));
        assert_eq!(with_id.request_id.as_deref(), Some("9e4f-77"));
        assert!(
            with_id
                .to_string()
                .ends_with("(https://example.com/20003) [request id 9e4f-77]"),
            "{with_id}"
        );
        let e = Error::from(e);
        assert!(e.is_auth() && !e.is_retryable() && !e.is_not_found());
        assert_eq!(e.http_status(), Some(401));
        assert_eq!(e.provider_code(), Some("20003"));
    }

    #[test]
    fn predicates() {
        let api = |s| Error::from(ApiError::new(P, "x", s, "m"));
        assert!(api(429).is_retryable());
        assert!(api(503).is_retryable());
        assert!(!api(400).is_retryable());
        assert!(api(404).is_not_found());
        let t = |kind| {
            Error::from(TransportError {
                provider: P,
                operation: "x".into(),
                kind,
                target: None,
                source: "boom".into(),
                may_have_acted: false,
            })
        };
        assert!(t(TransportKind::Connect).is_retryable());
        assert!(t(TransportKind::Timeout).is_retryable());
        assert!(!t(TransportKind::Other).is_retryable());
        // A call that may have been placed is not retried, and says why.
        let placed = api(500).after_create();
        assert!(placed.may_have_acted() && !placed.is_retryable());
        assert!(
            placed.to_string().contains("check before repeating"),
            "{placed}"
        );
        assert!(api(429).after_create().is_retryable());
        assert!(!api(400).after_create().may_have_acted());
        assert!(!t(TransportKind::Timeout).after_create().is_retryable());
        assert!(t(TransportKind::Connect).after_create().is_retryable());
        assert!(api(403).is_auth() && !api(403).is_config());
        assert!(!api(404).is_auth() && !api(429).is_auth() && !api(500).is_auth());
        assert!(!t(TransportKind::Connect).is_auth());
        // A missing credential is a configuration error, kept apart from a refused one.
        let c = Error::from(ConfigError::new("ACME_TOKEN", "missing: set it"));
        assert!(c.is_config() && !c.is_auth() && !c.is_retryable());
        assert_eq!(c.to_string(), "ACME_TOKEN: missing: set it");
    }
}
