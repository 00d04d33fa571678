//! axum glue (feature `axum`): webhooks verified on the way in, the inbound router as a
//! handler, and a media session run over an axum WebSocket.
//!
//! ```no_run
//! use std::sync::Arc;
//! use axum::{Router, extract::{State, WebSocketUpgrade}, routing::{any, post}};
//! use telephony::axum::{VerifiedWebhook, Webhooks, media_channel};
//! use telephony::stream::{StreamEvent, StreamOptions};
//! use telephony::{InboundRouter, MediaSession, MemoryDirectory, PublicUrl, SessionConfig};
//! use telephony::audio::SampleRate;
//!
//! // From TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (see `ProviderConfig`).
//! let twilio = telephony::ProviderConfig::from_env("twilio")?.build()?;
//! let router = InboundRouter::new(Arc::new(MemoryDirectory::new())).provider(twilio.clone());
//! let hooks = Webhooks::new(router, PublicUrl::from_base("https://agent.example.com".parse().unwrap()));
//!
//! async fn status(hook: VerifiedWebhook) -> &'static str {
//!     if let Ok(event) = hook.provider.parse_status_callback(&hook.request) {
//!         println!("{} is {}", event.call_id, event.status);
//!     }
//!     ""
//! }
//!
//! let app: Router = Router::new()
//!     .route("/inbound", any(Webhooks::inbound))
//!     .route("/status", post(status))
//!     .route("/media", any(move |ws: WebSocketUpgrade| async move {
//!         ws.on_upgrade(move |socket| async move {
//!             let session = MediaSession::new(twilio.media_protocol(), SessionConfig::new(SampleRate::Hz16000));
//!             let mut channel = media_channel(socket, session, StreamOptions::for_provider(twilio.kind()));
//!             while let Some(event) = channel.events.next().await {
//!                 if let StreamEvent::Audio(pcm) = event {
//!                     let _ = channel.sender.audio(pcm).await; // an echo
//!                 }
//!             }
//!         })
//!     }))
//!     .with_state(hooks);
//! # let _ = app;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::ws::{Message, WebSocket};
use axum::extract::{ConnectInfo, FromRef, FromRequest, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use telephony_core::{MediaSession, PublicUrl, TelephonyProvider, WebhookRequest};

use crate::router::{InboundRouter, Reply};
use crate::stream::{MediaChannel, StreamOptions, WsFrame, spawn_media_loop};

/// The largest webhook body read: providers send a few kilobytes.
const BODY_LIMIT: usize = 1 << 20;

/// What verifying webhooks needs: the router (its providers, credentials and replay guard)
/// and how to rebuild the URL the provider called. Put it in the app's state.
#[derive(Debug, Clone)]
pub struct Webhooks {
    router: Arc<InboundRouter>,
    public_url: PublicUrl,
}

impl Webhooks {
    /// Verifies with `router`'s providers; rebuilds URLs with `public_url` (a configured base,
    /// or trusted proxies' forwarding headers).
    pub fn new(router: InboundRouter, public_url: PublicUrl) -> Webhooks {
        Webhooks {
            router: Arc::new(router),
            public_url,
        }
    }

    /// The router.
    pub fn router(&self) -> &InboundRouter {
        &self.router
    }

    /// The request as the provider sent it: the public URL it called, the headers, the raw
    /// body.
    pub async fn webhook_request(&self, request: Request) -> Result<WebhookRequest, Response> {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let (parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, BODY_LIMIT)
            .await
            .map_err(|_| (StatusCode::PAYLOAD_TOO_LARGE, "body too large").into_response())?;
        let path = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let url = self
            .public_url
            .resolve(peer, &parts.headers, &path)
            .map_err(|e| {
                tracing::warn!(error = %e.0, "cannot rebuild the public URL of a webhook");
                (StatusCode::BAD_REQUEST, "cannot tell the public URL").into_response()
            })?;
        Ok(WebhookRequest::new(parts.method, url, parts.headers, body))
    }

    /// The inbound router as an axum handler: `.route("/inbound", any(Webhooks::inbound))`.
    pub async fn inbound(State(hooks): State<Webhooks>, request: Request) -> Response {
        let request = match hooks.webhook_request(request).await {
            Ok(r) => r,
            Err(response) => return response,
        };
        reply(hooks.router.handle(&request, SystemTime::now()).await)
    }
}

/// An HTTP response for a router reply.
pub fn reply(reply: Reply) -> Response {
    let mut response = Response::new(Body::from(reply.body));
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(reply.content_type),
    );
    response
}

/// A webhook whose signature checked out with the provider that sent it (and that the
/// replay guard had not seen): an extractor for status callbacks and any other webhook.
/// A request that does not verify is answered 403 (and logged with the diagnosis) before the
/// handler runs.
#[derive(Debug)]
pub struct VerifiedWebhook {
    /// The provider that sent it.
    pub provider: Arc<dyn TelephonyProvider>,
    /// The request as received, with its public URL.
    pub request: WebhookRequest,
}

impl<S> FromRequest<S> for VerifiedWebhook
where
    S: Send + Sync,
    Webhooks: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<VerifiedWebhook, Response> {
        let hooks = Webhooks::from_ref(state);
        let request = hooks.webhook_request(request).await?;
        let Some(provider) = hooks.router.detect(&request).cloned() else {
            tracing::warn!(url = %request.url, "webhook from no configured provider");
            return Err((StatusCode::FORBIDDEN, "unknown provider").into_response());
        };
        if let Err(e) = hooks
            .router
            .verify(provider.as_ref(), &request, SystemTime::now())
            .await
        {
            tracing::warn!(provider = provider.kind().id(), reason = %e, "webhook rejected");
            return Err((StatusCode::FORBIDDEN, "invalid signature").into_response());
        }
        Ok(VerifiedWebhook { provider, request })
    }
}

fn from_axum(m: Message) -> Option<WsFrame> {
    match m {
        Message::Text(t) => Some(WsFrame::Text(t.as_str().to_owned())),
        Message::Binary(b) => Some(WsFrame::Binary(b.to_vec())),
        Message::Close(_) => Some(WsFrame::Close),
        Message::Ping(_) | Message::Pong(_) => None,
    }
}

fn to_axum(f: WsFrame) -> Message {
    match f {
        WsFrame::Text(t) => Message::Text(t.into()),
        WsFrame::Binary(b) => Message::Binary(b.into()),
        WsFrame::Close => Message::Close(None),
    }
}

/// Runs `session` over an axum WebSocket: the host gets the provider's events and a sender
/// for PCM, marks and clear (see [`crate::stream`]).
pub fn media_channel(
    socket: WebSocket,
    session: MediaSession,
    options: StreamOptions,
) -> MediaChannel {
    let (sink, stream) = socket.split();
    let sink = sink.with(|f: WsFrame| async move { Ok::<_, axum::Error>(to_axum(f)) });
    let stream = stream.filter_map(|m| async move {
        match m {
            Ok(m) => from_axum(m).map(Ok),
            Err(e) => Some(Err(e)),
        }
    });
    spawn_media_loop(Box::pin(sink), Box::pin(stream), session, options)
}
