//! One webhook URL for every number and every provider.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use async_trait::async_trait;
use telephony_core::{
    CallAnswer, CallEvent, E164, Error, InboundCall, MemoryReplayGuard, ProviderKind, Recognition,
    ReplayGuard, StreamAuth, StreamSpec, TelephonyProvider, WebhookError, WebhookRequest,
    check_replay,
};

/// Where calls to the host's numbers go: the host's own store of numbers, tenants and agents.
#[async_trait]
pub trait NumberDirectory: Send + Sync {
    /// The stream that answers a call to `number` arriving through `provider`, or `None` for
    /// a number this host does not serve.
    async fn lookup(&self, number: &E164, provider: ProviderKind) -> Option<StreamSpec>;
}

/// A [`NumberDirectory`] in memory: a number, its stream.
#[derive(Debug, Default)]
pub struct MemoryDirectory {
    routes: RwLock<HashMap<E164, StreamSpec>>,
}

impl MemoryDirectory {
    /// An empty directory.
    pub fn new() -> MemoryDirectory {
        MemoryDirectory::default()
    }

    /// Routes `number` to `stream`, replacing what it had.
    pub fn insert(&self, number: E164, stream: StreamSpec) {
        let mut routes = self.routes.write().unwrap_or_else(|p| p.into_inner());
        routes.insert(number, stream);
    }

    /// Stops serving `number`.
    pub fn remove(&self, number: &E164) -> Option<StreamSpec> {
        let mut routes = self.routes.write().unwrap_or_else(|p| p.into_inner());
        routes.remove(number)
    }
}

#[async_trait]
impl NumberDirectory for MemoryDirectory {
    async fn lookup(&self, number: &E164, _provider: ProviderKind) -> Option<StreamSpec> {
        let routes = self.routes.read().unwrap_or_else(|p| p.into_inner());
        routes.get(number).cloned()
    }
}

/// What the router did with a request, for the host's logs and metrics.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Outcome {
    /// The call was answered with a stream.
    Answered {
        /// Through which provider.
        provider: ProviderKind,
        /// The call.
        call: InboundCall,
    },
    /// The number is not served: the caller heard a refusal and the call hung up.
    UnknownNumber {
        /// Through which provider.
        provider: ProviderKind,
        /// The call.
        call: InboundCall,
    },
    /// The request did not authenticate.
    Rejected {
        /// The provider it claimed to come from.
        provider: ProviderKind,
        /// Why, with a diagnosis where there is one.
        reason: WebhookError,
    },
    /// The request authenticated but could not be read, or the answer could not be written.
    Invalid {
        /// The provider.
        provider: ProviderKind,
        /// What was wrong.
        reason: String,
    },
    /// A call event that came to the inbound URL rather than the status URL: a carrier that
    /// sends every event of a call to one URL (Telnyx's application webhook) does this.
    /// Acknowledged with 200; the host reads the event here.
    Event {
        /// Through which provider.
        provider: ProviderKind,
        /// The event.
        event: Box<CallEvent>,
    },
    /// No configured provider sent this request.
    UnknownProvider,
    /// The provider delivered this request before: the same signed content, so its own retry
    /// (or a replay of it). Acknowledged with 200 and not handed to the host again; an
    /// inbound call's webhook is answered again as before, so a retried answer still connects
    /// the call.
    Repeat {
        /// Through which provider.
        provider: ProviderKind,
    },
}

/// Whether a request that authenticated is new, or one the provider delivered before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivery {
    /// The first time this signed content arrives.
    First,
    /// The same signed content again: the provider's retry of a delivery, or a replay.
    Repeat,
}

/// An HTTP answer, framework-free.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Reply {
    /// The status: 200, 400 or 403.
    pub status: u16,
    /// The `Content-Type`.
    pub content_type: &'static str,
    /// The body.
    pub body: String,
    /// What happened.
    pub outcome: Outcome,
}

impl Reply {
    fn text(status: u16, body: &str, outcome: Outcome) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.to_owned(),
            outcome,
        }
    }
}

/// One webhook URL for every number and every provider: it tells which provider sent a
/// request, verifies its signature with that provider's credentials (and the replay guard),
/// reads the inbound call, looks the called number up in a [`NumberDirectory`], and answers
/// with that provider's markup.
///
/// - A served number is answered with [`answer_call`](TelephonyProvider::answer_call): the
///   stream the directory gives.
/// - A number not served gets a polite spoken refusal and a hangup: status 200, never a 500,
///   so the provider does not retry or play its own error.
/// - A request that does not authenticate gets a 403 and a log line (`tracing`, warn) with
///   the diagnosis.
///
/// ```
/// use std::sync::Arc;
/// use telephony::{InboundRouter, MemoryDirectory, StreamSpec};
///
/// let directory = Arc::new(MemoryDirectory::new());
/// directory.insert(
///     "+14155550100".parse()?,
///     StreamSpec::new("wss://agent.example.com/media/twilio".parse()?),
/// );
/// let router = InboundRouter::new(directory);
/// // .provider(twilio) for each configured provider, then router.handle(&request, now)
/// # let _ = router;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct InboundRouter {
    providers: Vec<Arc<dyn TelephonyProvider>>,
    directory: Arc<dyn NumberDirectory>,
    replay: Arc<dyn ReplayGuard>,
    refusal: String,
    stream_auth: Option<StreamAuth>,
}

impl std::fmt::Debug for InboundRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboundRouter")
            .field(
                "providers",
                &self.providers.iter().map(|p| p.kind()).collect::<Vec<_>>(),
            )
            .field("refusal", &self.refusal)
            .finish_non_exhaustive()
    }
}

impl InboundRouter {
    /// A router over `directory`, with an in-memory replay guard and an English refusal.
    pub fn new(directory: Arc<dyn NumberDirectory>) -> InboundRouter {
        InboundRouter {
            providers: Vec::new(),
            directory,
            replay: Arc::new(MemoryReplayGuard::default()),
            refusal: "Sorry, this number is not in service. Goodbye.".to_owned(),
            stream_auth: None,
        }
    }

    /// Puts a token for the call in every stream it answers with (see [`StreamAuth`]), so the
    /// media WebSocket can prove it came through this answer: pair it with
    /// [`MediaSession::require_token`](telephony_core::MediaSession::require_token) on the
    /// media route, with the same key.
    pub fn stream_auth(mut self, auth: StreamAuth) -> InboundRouter {
        self.stream_auth = Some(auth);
        self
    }

    /// Serves `provider`'s calls, verified with its credentials.
    pub fn provider(mut self, provider: Arc<dyn TelephonyProvider>) -> InboundRouter {
        self.providers.push(provider);
        self
    }

    /// Uses `guard` against replays (a shared store for a fleet).
    pub fn replay_guard(mut self, guard: Arc<dyn ReplayGuard>) -> InboundRouter {
        self.replay = guard;
        self
    }

    /// Says `text` to callers of numbers not served.
    pub fn refusal(mut self, text: impl Into<String>) -> InboundRouter {
        self.refusal = text.into();
        self
    }

    /// The provider that sent `request`, if it is one this router serves: the one whose
    /// carrier recognises it best (its signature header over fields only it sends).
    pub fn detect(&self, request: &WebhookRequest) -> Option<&Arc<dyn TelephonyProvider>> {
        let mut best: Option<(Recognition, &Arc<dyn TelephonyProvider>)> = None;
        for p in &self.providers {
            let r = p.carrier().recognize(request);
            if r != Recognition::No && best.is_none_or(|(b, _)| r > b) {
                best = Some((r, p));
            }
        }
        best.map(|(_, p)| p)
    }

    /// Authenticates a request: the provider's signature, then the replay guard. A request
    /// seen before is [`WebhookError::Replayed`]; see [`verify_delivery`](Self::verify_delivery)
    /// to tell it apart instead.
    pub async fn verify(
        &self,
        provider: &dyn TelephonyProvider,
        request: &WebhookRequest,
        now: SystemTime,
    ) -> Result<(), WebhookError> {
        let verified = provider.verify_webhook(request, now)?;
        check_replay(self.replay.as_ref(), &verified, now).await
    }

    /// Authenticates a request, and says whether its signed content arrived before: a
    /// provider retries a delivery it got no answer to, with the same content, and that retry
    /// must be acknowledged, not refused (a refused answer webhook fails a live call) and not
    /// handled twice.
    pub async fn verify_delivery(
        &self,
        provider: &dyn TelephonyProvider,
        request: &WebhookRequest,
        now: SystemTime,
    ) -> Result<Delivery, WebhookError> {
        match self.verify(provider, request, now).await {
            Ok(()) => Ok(Delivery::First),
            Err(WebhookError::Replayed(_)) => Ok(Delivery::Repeat),
            Err(e) => Err(e),
        }
    }

    fn rejected(provider: ProviderKind, reason: WebhookError) -> Reply {
        tracing::warn!(provider = provider.id(), reason = %reason, "webhook rejected");
        Reply::text(
            403,
            "invalid signature",
            Outcome::Rejected { provider, reason },
        )
    }

    /// Answers an inbound call's webhook.
    pub async fn handle(&self, request: &WebhookRequest, now: SystemTime) -> Reply {
        let Some(provider) = self.detect(request) else {
            tracing::warn!(url = %request.url, "webhook from no configured provider");
            return Reply::text(403, "unknown provider", Outcome::UnknownProvider);
        };
        let kind = provider.kind();
        let delivery = match self.verify_delivery(provider.as_ref(), request, now).await {
            Ok(d) => d,
            Err(reason) => return Self::rejected(kind, reason),
        };
        let call = match provider.parse_inbound(request) {
            Ok(c) => c,
            Err(e) => {
                // One URL for every event (Telnyx): a status event is acknowledged, not refused.
                if let Ok(event) = provider.parse_status_callback(request) {
                    let outcome = match delivery {
                        Delivery::First => Outcome::Event {
                            provider: kind,
                            event: Box::new(event),
                        },
                        Delivery::Repeat => Outcome::Repeat { provider: kind },
                    };
                    return Reply::text(200, "", outcome);
                }
                tracing::warn!(provider = kind.id(), error = %e, "inbound webhook unreadable");
                return Reply::text(
                    400,
                    "not an inbound call",
                    Outcome::Invalid {
                        provider: kind,
                        reason: e.to_string(),
                    },
                );
            }
        };
        let stream = match &call.to_number {
            Some(n) => self.directory.lookup(n, kind).await,
            None => None,
        };
        let stream = match (&self.stream_auth, stream) {
            (Some(auth), Some(stream)) => Some(auth.protect(stream, Some(&call.call_id))),
            (_, stream) => stream,
        };
        let (answer, outcome) = match stream {
            Some(stream) => (
                provider.connect_call(&call, &stream).await,
                Outcome::Answered {
                    provider: kind,
                    call: call.clone(),
                },
            ),
            None => {
                tracing::info!(provider = kind.id(), to = %call.to, "call to a number not served: refused");
                (
                    provider.refuse_call(&call, &self.refusal).await,
                    Outcome::UnknownNumber {
                        provider: kind,
                        call: call.clone(),
                    },
                )
            }
        };
        // A repeat is answered as the first delivery was (the provider needs the document to
        // connect the call; a command carries the same id, so the carrier runs it once), and
        // reported as what it is.
        let outcome = match delivery {
            Delivery::First => outcome,
            Delivery::Repeat => Outcome::Repeat { provider: kind },
        };
        match answer {
            Ok(answer) => Self::reply(answer, outcome),
            Err(e) => {
                // The stream the directory gave cannot be written as markup, or the carrier
                // refused the answer: refuse politely rather than fail the call with a 500.
                tracing::error!(provider = kind.id(), error = %e, "cannot answer with the directory's stream");
                let invalid = Outcome::Invalid {
                    provider: kind,
                    reason: e.to_string(),
                };
                match provider.refuse_call(&call, &self.refusal).await {
                    Ok(refusal) => Self::reply(refusal, invalid),
                    Err(_) => Reply::text(200, "", invalid),
                }
            }
        }
    }

    fn reply(answer: CallAnswer, outcome: Outcome) -> Reply {
        match answer {
            CallAnswer::Document(m) => Reply {
                status: 200,
                content_type: m.content_type,
                body: m.body,
                outcome,
            },
            _ => Reply::text(200, "", outcome),
        }
    }

    /// Reads any callback at the status URL ([`TelephonyProvider::parse_callback`]: a status,
    /// a machine-detection verdict, a finished recording, a transfer's step) and takes the
    /// step a transfer needs there ([`control::follow`](telephony_core::control::follow)):
    /// detects the provider, verifies, then follows. Reply with [`Followed::reply`] when it has
    /// one (a document the carrier reads), an empty 200 otherwise. The error is the reply to
    /// send (403 or 400, or 502 when the step's request to the carrier failed).
    ///
    /// [`Followed::reply`]: telephony_core::control::Followed::reply
    pub async fn callback(
        &self,
        request: &WebhookRequest,
        now: SystemTime,
    ) -> Result<(ProviderKind, telephony_core::control::Followed), Reply> {
        let Some(provider) = self.detect(request) else {
            return Err(Reply::text(
                403,
                "unknown provider",
                Outcome::UnknownProvider,
            ));
        };
        let kind = provider.kind();
        let delivery = self
            .verify_delivery(provider.as_ref(), request, now)
            .await
            .map_err(|reason| Self::rejected(kind, reason))?;
        // A repeat is acknowledged, except a transfer's step, which is taken again: its first
        // delivery may have failed (a 502 the carrier retries), and a carrier that reads the
        // step's document from it (Plivo) needs the document again. Steps are safe to repeat
        // (moving a caller into the room it is in; Telnyx's commands carry a `command_id`).
        if delivery == Delivery::Repeat
            && !matches!(
                provider.parse_callback(request),
                Ok(telephony_core::CallNotice::Transfer(_))
            )
        {
            return Err(Reply::text(
                200,
                "already received",
                Outcome::Repeat { provider: kind },
            ));
        }
        telephony_core::control::follow(provider.as_ref(), request)
            .await
            .map(|f| (kind, f))
            .map_err(|e| {
                // A callback that did not parse is the carrier's fault (400); a step whose
                // request failed is ours to report, and the carrier may retry it (502).
                let (status, text) = if matches!(e, Error::Decode(_)) {
                    (400, "not a callback")
                } else {
                    (502, "the next step failed")
                };
                Reply::text(
                    status,
                    text,
                    Outcome::Invalid {
                        provider: kind,
                        reason: e.to_string(),
                    },
                )
            })
    }

    /// Reads a status callback: detects the provider, verifies, parses. The error is the reply
    /// to send (403 or 400).
    pub async fn status(
        &self,
        request: &WebhookRequest,
        now: SystemTime,
    ) -> Result<(ProviderKind, CallEvent), Reply> {
        let Some(provider) = self.detect(request) else {
            return Err(Reply::text(
                403,
                "unknown provider",
                Outcome::UnknownProvider,
            ));
        };
        let kind = provider.kind();
        let delivery = self
            .verify_delivery(provider.as_ref(), request, now)
            .await
            .map_err(|reason| Self::rejected(kind, reason))?;
        if delivery == Delivery::Repeat {
            return Err(Reply::text(
                200,
                "already received",
                Outcome::Repeat { provider: kind },
            ));
        }
        provider
            .parse_status_callback(request)
            .map(|e| (kind, e))
            .map_err(|e| {
                Reply::text(
                    400,
                    "not a status callback",
                    Outcome::Invalid {
                        provider: kind,
                        reason: e.to_string(),
                    },
                )
            })
    }
}
