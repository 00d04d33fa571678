//! `telephony bench agent`: the agent server that `telephony bench server` measures, in a
//! process of its own. It is the library's own server path, as a host writes it: axum behind
//! [`telephony::axum::serve`], each media WebSocket run by [`media_channel`], and an agent
//! that says back every frame it hears, at the application's rate, on a current-thread
//! runtime (one core).
//!
//! `GET /media/PROVIDER?wire=ENCODING@RATE` takes a provider's stream in that wire format;
//! `GET /stats` answers what the process's allocator holds, as JSON.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use clap::Args;
use serde::Deserialize;
use serde_json::json;
use telephony::audio::{AudioFormat, Profile, SampleRate};
use telephony::axum::{media_channel, media_upgrade};
use telephony::stream::{StreamEvent, StreamOptions};
use telephony::{Carrier, MediaSession, Registry, SessionConfig};
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
}

/// What every stream's handler shares.
#[derive(Debug, Clone)]
struct Agent {
    config: SessionConfig,
    frames_in: Arc<AtomicU64>,
    frames_out: Arc<AtomicU64>,
    streams: Arc<AtomicU64>,
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
        let app = Router::new()
            .route("/media/{provider}", get(media))
            .route("/stats", get(stats))
            .with_state(agent);
        let server = telephony::axum::serve(listener, app);
        crate::calls::out(format!("listening {address}"));
        server.await;
        Ok(())
    })
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
    media_upgrade(ws).on_upgrade(move |socket| echo(agent, carrier, format, socket))
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
    let mut channel = media_channel(socket, session, StreamOptions::for_carrier(carrier));
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
