//! `telephony bench agent`: the agent server that `telephony bench server` measures, in a
//! process of its own. It is the library's own server path, as a host writes it: axum behind
//! [`telephony::axum::serve`], each media WebSocket run by [`media_channel`], and an agent
//! that says back every frame it hears, at the application's rate, on a current-thread
//! runtime (one core).
//!
//! `GET /media/PROVIDER?wire=ENCODING@RATE` takes a provider's stream in that wire format;
//! `GET /stats` answers what the process's allocator holds, as JSON. With `--inbound
//! PROVIDER`, `POST /inbound` is the [`InboundRouter`] behind [`Webhooks::inbound`], with the
//! adapter built from the carrier's settings in the environment: each call to `--inbound-to`
//! is verified and answered with a stream to `/media/PROVIDER` in `--inbound-wire`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::ws::Message;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use clap::Args;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use telephony::audio::{AudioFormat, Profile, SampleRate};
use telephony::axum::{MEDIA_MESSAGE_LIMIT, ServeOptions, Webhooks, media_channel, media_upgrade};
use telephony::stream::{MediaChannel, StreamEvent, StreamOptions, WsFrame, spawn_media_loop};
use telephony::{
    Carrier, E164, InboundRouter, MediaSession, MemoryDirectory, PublicUrl, Registry,
    SessionConfig, StreamSpec, TrustedProxies, Url,
};
use telephony_testkit::ProviderStream;

use super::proc;
use crate::Failure;
use crate::alloc;

#[derive(Debug, Args)]
pub(crate) struct AgentArgs {
    /// The address to listen on.
    #[arg(long, value_name = "ADDRESS", default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// The rate of the PCM the agent hears and speaks.
    #[arg(long, value_name = "HZ", default_value = "16000")]
    app_rate: u32,
    /// Resampler profile: hq or low-latency.
    #[arg(long, value_name = "PROFILE", default_value = "hq")]
    profile: String,
    /// Run on this CPU alone.
    #[arg(long, value_name = "N")]
    cpu: Option<usize>,
    /// Leave out one of the server path's settings, to measure what it buys.
    #[arg(long, value_name = "FIX")]
    without: Vec<Fix>,
    /// Answer this provider's inbound webhooks at `POST /inbound` (its settings from the
    /// environment).
    #[arg(long, value_name = "PROVIDER")]
    inbound: Option<String>,
    /// The number whose calls the inbound webhooks ask for.
    #[arg(long, value_name = "E164", default_value = "+14155550100")]
    inbound_to: String,
    /// The wire format of the streams the inbound answers ask for.
    #[arg(long, value_name = "FORMAT")]
    inbound_wire: Option<String>,
}

/// A setting of the server path that `bench server --without` can leave out, to measure it
/// before and after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Fix {
    /// `media_upgrade`'s 4 KiB read buffer (tungstenite's default: 128 KiB, zero-filled
    /// before every read).
    ReadBuffer,
    /// `TCP_NODELAY` on accepted connections (Nagle's algorithm holds small writes).
    Nodelay,
    /// The loop on the WebSocket whole (without it: split halves behind a lock, with
    /// adapters, as `media_channel` ran before).
    WholeSocket,
}

impl Fix {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Fix::ReadBuffer => "read-buffer",
            Fix::Nodelay => "nodelay",
            Fix::WholeSocket => "whole-socket",
        }
    }
}

/// What every stream's handler shares.
#[derive(Debug, Clone)]
struct Agent {
    config: SessionConfig,
    frames_in: Arc<AtomicU64>,
    frames_out: Arc<AtomicU64>,
    streams: Arc<AtomicU64>,
    without: Arc<[Fix]>,
}

pub(crate) fn run(args: &AgentArgs) -> Result<(), Failure> {
    let app_rate = SampleRate::from_hz(args.app_rate)
        .ok_or_else(|| Failure::Usage(format!("--app-rate {}", args.app_rate)))?;
    let profile: Profile = args
        .profile
        .parse()
        .map_err(|e| Failure::Usage(format!("--profile: {e}")))?;
    if let Some(cpu) = args.cpu {
        proc::pin(&[cpu]).map_err(Failure::No)?;
    }
    proc::raise_open_files();
    let agent = Agent {
        config: SessionConfig::new(app_rate).profile(profile),
        frames_in: Arc::default(),
        frames_out: Arc::default(),
        streams: Arc::default(),
        without: args.without.clone().into(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::No(format!("cannot start a runtime: {e}")))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| Failure::No(format!("cannot listen on {}: {e}", args.listen)))?;
        let address = listener
            .local_addr()
            .map_err(|e| Failure::No(e.to_string()))?;
        let mut app = Router::new()
            .route("/media/{provider}", get(media))
            .route("/stats", get(stats))
            .with_state(agent);
        if let Some(id) = &args.inbound {
            app = app.merge(inbound(args, id, address)?);
        }
        let options = ServeOptions::default().tcp_nodelay(!args.without.contains(&Fix::Nodelay));
        let server = telephony::axum::serve_with(listener, app, options);
        crate::calls::out(format!("listening {address}"));
        server.await;
        Ok(())
    })
}

/// `POST /inbound`: `id`'s inbound webhooks, verified with the adapter its settings in the
/// environment build, each call to `--inbound-to` answered with a stream to this agent.
fn inbound(args: &AgentArgs, id: &str, address: SocketAddr) -> Result<Router, Failure> {
    let registry = Registry::builtin();
    let carrier = registry
        .find(id)
        .ok_or_else(|| Failure::Usage(format!("--inbound {id}: no such provider")))?;
    let provider = registry
        .config(id, |name| std::env::var(name).ok())
        .map_err(|e| Failure::Usage(format!("--inbound {id}: {e}")))?
        .build()
        .map_err(|e| Failure::Usage(format!("--inbound {id}: {e}")))?;
    let to: E164 = args
        .inbound_to
        .parse()
        .map_err(|e| Failure::Usage(format!("--inbound-to: {e}")))?;
    let format = match args.inbound_wire.as_deref().map(str::parse::<AudioFormat>) {
        None => carrier.stream_formats()[0],
        Some(Ok(f)) => f,
        Some(Err(e)) => return Err(Failure::Usage(format!("--inbound-wire: {e}"))),
    };
    // wss, as carriers require (Twilio's adapter refuses anything else), and no query (Twilio
    // refuses one: parameters go in the stream's own): the answer names the stream, with its
    // format, and the generator opens the path itself, on this plain loopback listener.
    let stream = format!("wss://{address}/media/{id}");
    let stream = Url::parse(&stream).map_err(|e| Failure::No(e.to_string()))?;
    let directory = MemoryDirectory::new();
    directory.insert(to, StreamSpec::new(stream).audio(format));
    let router = InboundRouter::new(Arc::new(directory)).provider(provider);
    let hooks = Webhooks::new(router, PublicUrl::from_headers(TrustedProxies::None));
    Ok(Router::new()
        .route("/inbound", post(Webhooks::inbound))
        .with_state(hooks))
}

#[derive(Debug, Deserialize)]
struct Wire {
    wire: Option<String>,
}

async fn media(
    State(agent): State<Agent>,
    Path(provider): Path<String>,
    Query(wire): Query<Wire>,
    ws: WebSocketUpgrade,
) -> Response {
    let Some(carrier) = Registry::builtin().find(&provider) else {
        return (StatusCode::NOT_FOUND, "no such provider").into_response();
    };
    let format = match wire.wire.as_deref().map(str::parse::<AudioFormat>) {
        None => carrier.stream_formats()[0],
        Some(Ok(f)) if carrier.stream_formats().contains(&f) => f,
        Some(_) => {
            return (StatusCode::BAD_REQUEST, "a wire format it does not stream").into_response();
        }
    };
    let ws = if agent.without.contains(&Fix::ReadBuffer) {
        ws.max_message_size(MEDIA_MESSAGE_LIMIT)
            .max_frame_size(MEDIA_MESSAGE_LIMIT)
    } else {
        media_upgrade(ws)
    };
    ws.on_upgrade(move |socket| echo(agent, carrier, format, socket))
}

/// The agent: every frame of caller audio it hears, said back at once.
async fn echo(
    agent: Agent,
    carrier: &'static dyn Carrier,
    format: AudioFormat,
    socket: axum::extract::ws::WebSocket,
) {
    let session = MediaSession::new(
        ProviderStream::protocol(carrier.kind(), format),
        agent.config,
    );
    let options = StreamOptions::for_carrier(carrier);
    let mut channel = if agent.without.contains(&Fix::WholeSocket) {
        split_channel(socket, session, options)
    } else {
        media_channel(socket, session, options)
    };
    agent.streams.fetch_add(1, Ordering::Relaxed);
    while let Some(event) = channel.events.next().await {
        if let StreamEvent::Audio(pcm) = event {
            agent.frames_in.fetch_add(1, Ordering::Relaxed);
            if channel.sender.audio(pcm).await.is_err() {
                break;
            }
            agent.frames_out.fetch_add(1, Ordering::Relaxed);
        }
    }
    agent.streams.fetch_sub(1, Ordering::Relaxed);
}

/// The loop over the socket's split halves, each behind the lock they share, through
/// adapters: how `media_channel` ran before it took the socket whole.
fn split_channel(
    socket: axum::extract::ws::WebSocket,
    session: MediaSession,
    options: StreamOptions,
) -> MediaChannel {
    let (sink, stream) = socket.split();
    let sink = sink.with(|f: WsFrame| async move {
        Ok::<_, axum::Error>(match f {
            WsFrame::Text(t) => Message::Text(t.into()),
            WsFrame::Binary(b) => Message::Binary(b.into()),
            WsFrame::Close => Message::Close(None),
        })
    });
    let stream = stream.filter_map(|m| async move {
        match m {
            Ok(Message::Text(t)) => Some(Ok(WsFrame::Text(t.as_str().to_owned()))),
            Ok(Message::Binary(b)) => Some(Ok(WsFrame::Binary(b.to_vec()))),
            Ok(Message::Close(_)) => Some(Ok(WsFrame::Close)),
            Ok(Message::Ping(_) | Message::Pong(_)) => None,
            Err(e) => Some(Err(e)),
        }
    });
    spawn_media_loop(Box::pin(sink), Box::pin(stream), session, options)
}

async fn stats(State(agent): State<Agent>) -> Response {
    axum::Json(json!({
        "live_bytes": alloc::live_bytes(),
        "allocations": alloc::allocations(),
        "streams": agent.streams.load(Ordering::Relaxed),
        "frames_in": agent.frames_in.load(Ordering::Relaxed),
        "frames_out": agent.frames_out.load(Ordering::Relaxed),
    }))
    .into_response()
}
