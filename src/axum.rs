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
//! let hooks = Webhooks::new(router, PublicUrl::from_base("https://agent.example.com"));
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
//!         telephony::axum::media_upgrade(ws).on_upgrade(move |socket| async move {
//!             let session = MediaSession::new(twilio.media_protocol(), SessionConfig::new(SampleRate::Hz16000));
//!             let mut channel = media_channel(socket, session, StreamOptions::for_provider(twilio.as_ref()));
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
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, FromRef, FromRequest, OriginalUri, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_util::{Sink, SinkExt, Stream, StreamExt};
use telephony_core::{MediaSession, PublicUrl, TelephonyProvider, WebhookError, WebhookRequest};

use crate::router::{Delivery, InboundRouter, Reply};
use crate::stream::{MediaChannel, StreamOptions, WsFrame, spawn_media_loop_on};

mod serve;
pub use serve::{Connections, ServeOptions, Server, serve, serve_with};

/// The largest webhook body read: providers send a few kilobytes.
const BODY_LIMIT: usize = 1 << 20;
/// How long reading a webhook's body may take, by default.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// What verifying webhooks needs: the router (its providers, credentials and replay guard)
/// and how to rebuild the URL the provider called. Put it in the app's state.
#[derive(Debug, Clone)]
pub struct Webhooks {
    router: Arc<InboundRouter>,
    public_url: PublicUrl,
    body_timeout: Option<Duration>,
}

impl Webhooks {
    /// Verifies with `router`'s providers; rebuilds URLs with `public_url` (a configured base,
    /// or trusted proxies' forwarding headers).
    pub fn new(router: InboundRouter, public_url: PublicUrl) -> Webhooks {
        Webhooks {
            router: Arc::new(router),
            public_url,
            body_timeout: Some(BODY_TIMEOUT),
        }
    }

    /// How long reading a webhook's body may take in all (a client that sends it slower, or
    /// never ends it, is answered 408); `None` waits for ever. Default 10 s: providers send
    /// a few kilobytes at once.
    pub fn body_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Webhooks {
        self.body_timeout = timeout.into();
        self
    }

    /// The router.
    pub fn router(&self) -> &InboundRouter {
        &self.router
    }

    /// The request as the provider sent it: the public URL it called, the headers, the raw
    /// body (at most 1 MiB, else 413, read within the [`body_timeout`](Self::body_timeout),
    /// else 408).
    pub async fn webhook_request(&self, request: Request) -> Result<WebhookRequest, Response> {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        // The request target as received, before any `nest` stripped a prefix from it.
        let target = request
            .extensions()
            .get::<OriginalUri>()
            .map_or_else(|| request.uri().clone(), |o| o.0.clone());
        let (parts, body) = request.into_parts();
        let body = read_body(body, self.body_timeout).await?;
        let path = target
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

    /// Checks a media WebSocket's upgrade request where `provider` signs it
    /// ([`Capabilities::signed_media_upgrade`](crate::Capabilities): Twilio), before the
    /// upgrade is accepted: the URL it called (`wss://…`, rebuilt as for webhooks), no body.
    /// Where the provider does not sign upgrades this passes, and the stream's token (see
    /// [`StreamAuth`](crate::StreamAuth) and [`MediaSession::require_token`]) is what
    /// authenticates it.
    ///
    /// ```ignore
    /// async fn media(State(app): State<App>, ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ///                OriginalUri(uri): OriginalUri, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    ///     if let Err(e) = app.hooks.verify_upgrade(twilio.as_ref(), Some(peer.ip()), &headers, &uri) {
    ///         return (StatusCode::FORBIDDEN, e.to_string()).into_response();
    ///     }
    ///     ws.on_upgrade(/* … */)
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// The [`WebhookError`] that refuses it: a missing or wrong signature, a URL that cannot
    /// be rebuilt.
    pub fn verify_upgrade(
        &self,
        provider: &dyn TelephonyProvider,
        peer: Option<std::net::IpAddr>,
        headers: &axum::http::HeaderMap,
        uri: &axum::http::Uri,
    ) -> Result<(), WebhookError> {
        if !provider.capabilities().signed_media_upgrade {
            return Ok(());
        }
        let target = uri.path_and_query().map_or("/", |p| p.as_str());
        let url = self
            .public_url
            .resolve(peer, headers, target)
            .map_err(|e| WebhookError::Malformed {
                what: "upgrade URL",
                detail: e.0,
            })?;
        let request =
            WebhookRequest::new(axum::http::Method::GET, url, headers.clone(), Vec::new());
        provider
            .verify_webhook(&request, SystemTime::now())
            .map(|_| ())
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

/// A webhook's body, read within `timeout`.
async fn read_body(body: Body, timeout: Option<Duration>) -> Result<axum::body::Bytes, Response> {
    let read = axum::body::to_bytes(body, BODY_LIMIT);
    let body = match timeout {
        Some(t) => tokio::time::timeout(t, read).await.map_err(|_| {
            tracing::warn!(timeout = ?t, "webhook body not read in time");
            (StatusCode::REQUEST_TIMEOUT, "body not received in time").into_response()
        })?,
        None => read.await,
    };
    body.map_err(|_| (StatusCode::PAYLOAD_TOO_LARGE, "body too large").into_response())
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
/// handler runs; one the provider delivered before (the same signed content: its retry, or a
/// replay) is answered 200 and never reaches the handler twice.
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
        match hooks
            .router
            .verify_delivery(provider.as_ref(), &request, SystemTime::now())
            .await
        {
            Ok(Delivery::First) => Ok(VerifiedWebhook { provider, request }),
            // The provider's retry of a delivery already handled (or a replay of it):
            // acknowledged, and not handed to the handler a second time.
            Ok(_) => {
                tracing::debug!(
                    provider = provider.kind().id(),
                    "webhook delivered again: acknowledged"
                );
                Err((StatusCode::OK, "already received").into_response())
            }
            Err(e) => {
                tracing::warn!(provider = provider.kind().id(), reason = %e, "webhook rejected");
                Err((StatusCode::FORBIDDEN, "invalid signature").into_response())
            }
        }
    }
}

/// An axum WebSocket as the media loop reads and writes it: [`WsFrame`]s both ways, one
/// value (not split in two halves that share it through a lock).
struct AxumSocket(WebSocket);

impl Stream for AxumSocket {
    type Item = Result<WsFrame, axum::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            return Poll::Ready(match ready!(self.0.poll_next_unpin(cx)) {
                Some(Ok(Message::Text(t))) => Some(Ok(WsFrame::Text(t.as_str().to_owned()))),
                Some(Ok(Message::Binary(b))) => Some(Ok(WsFrame::Binary(b.into()))),
                Some(Ok(Message::Close(_))) => Some(Ok(WsFrame::Close)),
                // tungstenite answers pings itself.
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Err(e)) => Some(Err(e)),
                None => None,
            });
        }
    }
}

impl Sink<WsFrame> for AxumSocket {
    type Error = axum::Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), axum::Error>> {
        self.0.poll_ready_unpin(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, frame: WsFrame) -> Result<(), axum::Error> {
        self.0.start_send_unpin(match frame {
            WsFrame::Text(t) => Message::Text(t.into()),
            WsFrame::Binary(b) => Message::Binary(b.into()),
            WsFrame::Close => Message::Close(None),
        })
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), axum::Error>> {
        self.0.poll_flush_unpin(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), axum::Error>> {
        self.0.poll_close_unpin(cx)
    }
}

/// The largest message or frame [`media_upgrade`] lets a peer send: providers send a few
/// hundred bytes a frame, and a start of a few kilobytes.
pub const MEDIA_MESSAGE_LIMIT: usize = 64 << 10;

/// How much a media socket reads at once, with [`media_upgrade`]: a few frames.
pub const MEDIA_READ_BUFFER: usize = 4 << 10;

/// An upgrade set for a provider's media stream, before `on_upgrade`:
/// - a message or frame of at most [`MEDIA_MESSAGE_LIMIT`] (64 KiB), where axum's default
///   buffers 64 MiB for whoever opens the socket;
/// - a read buffer of [`MEDIA_READ_BUFFER`] (4 KiB). tungstenite's default is 128 KiB, which
///   it zero-fills before every read: for frames of a few hundred bytes every 20 ms, that
///   was 18 % of an agent server's CPU, and 128 KiB resident per call.
///
/// ```no_run
/// # use axum::{extract::WebSocketUpgrade, response::Response};
/// async fn media(ws: WebSocketUpgrade) -> Response {
///     telephony::axum::media_upgrade(ws).on_upgrade(|socket| async move {
///         // media_channel(socket, session, options) …
///         # drop(socket);
///     })
/// }
/// ```
pub fn media_upgrade(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.max_message_size(MEDIA_MESSAGE_LIMIT)
        .max_frame_size(MEDIA_MESSAGE_LIMIT)
        .read_buffer_size(MEDIA_READ_BUFFER)
}

/// Runs `session` over an axum WebSocket: the host gets the provider's events and a sender
/// for PCM, marks and clear (see [`crate::stream`]), with `options`' limits on the peer.
///
/// The socket's own limits and buffers are the upgrade's to set: [`media_upgrade`] sets
/// them for a media stream before `on_upgrade`.
pub fn media_channel(
    socket: WebSocket,
    session: MediaSession,
    options: StreamOptions,
) -> MediaChannel {
    spawn_media_loop_on(AxumSocket(socket), session, options)
}
