//! The agent server the examples (and the root tests) share: one axum app with
//!
//! - `/inbound` (GET and POST): the [`InboundRouter`], one webhook for every number and
//!   provider;
//! - `/answer`: the answer URL of calls this host places, verified, answered with a stream;
//! - `/status`: status callbacks, verified and parsed;
//! - `/media/{provider}`: the media WebSockets, where an agent talks with the caller.
//!
//! Every normalized event is logged as one JSON object (a [`Log`] line).
//!
//! What a client can make it hold is bounded: the server is `telephony::axum::serve` (a
//! request head within 10 s), webhook bodies are read within 10 s (`Webhooks`), a media
//! stream must start within 10 s and stops at 32 protocol errors in a row (`StreamOptions`),
//! an utterance the echo keeps is at most 30 s, and the log is a bounded channel that drops
//! lines (and counts them) rather than grow.

#![allow(dead_code, unreachable_pub)]

pub mod cli;
mod control;
mod echo;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::json;
use telephony::audio::{AudioFormat, SampleRate};
use telephony::axum::{VerifiedWebhook, Webhooks, media_channel, media_upgrade, reply};
use telephony::stream::{MediaSender, StreamOptions};
use telephony::{
    Carrier, E164, InboundRouter, MediaSession, NumberDirectory, OutboundCall, ProviderKind,
    PublicUrl, SessionConfig, StreamAuth, StreamSpec, TelephonyProvider, Url,
};
use tokio::sync::{mpsc, watch};

use echo::talk;
// Not every crate that includes these examples listens to the caller itself.
#[allow(unused_imports)]
pub use echo::{Ear, Utterance};

/// One line of the agent's log: a normalized event, as JSON.
pub type Log = serde_json::Value;

/// How many log lines may wait for the reader; past that, lines are dropped and counted.
pub const LOG_CAPACITY: usize = 4096;

/// The longest utterance the echo keeps: 30 s of audio.
pub const MAX_UTTERANCE: Duration = Duration::from_secs(30);

/// What the agent does on a stream.
#[derive(Debug, Clone)]
pub enum Brain {
    /// Greets the caller with a chime, then plays back each utterance once the caller pauses
    /// for 300 ms, with a mark after each reply.
    Echo,
    /// Plays `audio` (PCM at the app rate) with marks at the given sample offsets, and clears
    /// when the caller presses a key.
    Script {
        audio: Vec<i16>,
        marks: Vec<(usize, String)>,
    },
}

/// How to run the agent.
pub struct AgentOptions {
    pub providers: Vec<Arc<dyn TelephonyProvider>>,
    pub numbers: Vec<E164>,
    pub app_rate: SampleRate,
    pub listen: SocketAddr,
    pub public_url: Option<Url>,
    pub brain: Brain,
    /// Keeps the caller audio of every stream (PCM at the app rate), for tests to compare.
    pub record_audio: bool,
    /// The key of the tokens that tie media WebSockets to calls this agent answered or placed
    /// (`telephony::StreamAuth`): the same on every replica. `None` draws one for this process.
    pub stream_key: Option<telephony::Secret>,
    /// The server's limits (`telephony::axum::ServeOptions`: a 10 s header-read timeout by
    /// default, which also closes kept-alive connections idle that long).
    pub serve: telephony::axum::ServeOptions,
}

impl AgentOptions {
    /// An echo agent for `providers`, answering `numbers`, on a free loopback port.
    pub fn echo(providers: Vec<Arc<dyn TelephonyProvider>>, numbers: Vec<E164>) -> AgentOptions {
        AgentOptions {
            providers,
            numbers,
            app_rate: SampleRate::Hz16000,
            listen: "127.0.0.1:0".parse().expect("an address"),
            public_url: None,
            brain: Brain::Echo,
            record_audio: false,
            stream_key: None,
            serve: telephony::axum::ServeOptions::default(),
        }
    }
}

/// What the agent's streams heard, by call id (the stream's, else the provider's), and how
/// many streams are running.
#[derive(Debug)]
pub struct Recordings {
    audio: Mutex<HashMap<String, Vec<i16>>>,
    sent: Mutex<HashMap<String, Vec<usize>>>,
    live: watch::Sender<usize>,
}

impl Default for Recordings {
    fn default() -> Recordings {
        Recordings {
            audio: Mutex::default(),
            sent: Mutex::default(),
            live: watch::Sender::new(0),
        }
    }
}

impl Recordings {
    /// The caller audio of `call` (PCM at the app rate).
    pub fn audio(&self, call: &str) -> Option<Vec<i16>> {
        self.audio
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(call)
            .cloned()
    }

    /// The length of each piece of audio the agent sent on `call` (samples at the app rate;
    /// each piece ends with `finish`, so it goes out padded to whole frames).
    pub fn sent(&self, call: &str) -> Option<Vec<usize>> {
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(call)
            .cloned()
    }

    /// Streams still running.
    pub fn live(&self) -> usize {
        *self.live.borrow()
    }

    /// Waits until no stream is running: every media loop has ended and let go of its socket.
    pub async fn idle(&self) {
        let mut live = self.live.subscribe();
        let _ = live.wait_for(|&n| n == 0).await;
    }
}

/// A running agent.
pub struct Agent {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Where providers reach it.
    pub public_url: Url,
    /// Its log, one normalized event a line. Bounded ([`LOG_CAPACITY`]): when the reader is
    /// behind, lines are dropped, and a `log_dropped` line with their count comes once there
    /// is room.
    pub log: mpsc::Receiver<Log>,
    /// What its streams heard.
    pub recordings: Arc<Recordings>,
    /// Its server's open connections.
    connections: telephony::axum::Connections,
    /// Its log's sender, for the count of lines dropped.
    log_sink: LogSink,
    /// The key its streams' tokens are made with.
    stream_auth: StreamAuth,
    /// Where its media routes are (`ws://…/`).
    media_base: Url,
    /// The rate it hears and speaks at.
    app_rate: SampleRate,
    /// Each running stream's sender, by call id.
    senders: Arc<Mutex<HashMap<String, MediaSender>>>,
}

impl Agent {
    /// A call from `from` to `to` that reaches this agent through `provider`: through its
    /// answer URL where the carrier fetches one, else straight into its media route (the
    /// stream every call is answered with, with a token it accepts), with its `/status`.
    pub fn call(&self, provider: &dyn TelephonyProvider, to: E164, from: E164) -> OutboundCall {
        // (Where the carrier fetches no answer URL, its calls carry their stream.)
        let call = if provider.capabilities().answer_url {
            OutboundCall::answer_url(to, from, self.url("answer"))
        } else {
            let status = self.url("status");
            let spec = stream_for(&self.media_base, &status, provider.carrier(), self.app_rate);
            OutboundCall::stream(to, from, self.protect(spec))
        };
        call.status_callback(self.url("status"))
    }

    /// A call from `from` to `to` connected straight to this agent's media route when
    /// answered (its stream inline, where the carrier takes one), recorded from the answer
    /// when `record` says so, with its `/status`.
    pub fn stream_call(
        &self,
        provider: &dyn TelephonyProvider,
        to: E164,
        from: E164,
        record: Option<telephony::RecordingOptions>,
    ) -> OutboundCall {
        let status = self.url("status");
        let mut spec = stream_for(&self.media_base, &status, provider.carrier(), self.app_rate);
        if let Some(r) = record {
            spec = spec.record(r);
        }
        OutboundCall::stream(to, from, self.protect(spec)).status_callback(status)
    }

    /// `spec` with a token this agent accepts, for a call placed with its stream inline
    /// (before the provider names the call): a stream without one is refused.
    pub fn protect(&self, spec: StreamSpec) -> StreamSpec {
        self.stream_auth.protect(spec, None)
    }

    /// Connections open to the agent now: providers' kept-alive webhook connections, media
    /// WebSockets, anything mid-request.
    pub fn open_connections(&self) -> usize {
        self.connections.count()
    }

    /// Log lines dropped so far because the log was full.
    pub fn log_lines_dropped(&self) -> u64 {
        self.log_sink.dropped()
    }

    /// Its media route for `provider`'s streams (`ws://…/media/{id}`).
    pub fn media_url(&self, provider: &dyn TelephonyProvider) -> Url {
        self.media_base
            .join(&format!("media/{}", provider.kind().id()))
            .expect("a path")
    }

    /// `/inbound`, `/answer`, `/status` at the public URL.
    pub fn url(&self, path: &str) -> Url {
        self.public_url.join(path).expect("a path")
    }
}

#[derive(Clone)]
struct App {
    hooks: Webhooks,
    providers: Arc<HashMap<&'static str, Arc<dyn TelephonyProvider>>>,
    media_base: Url,
    public_url: Url,
    app_rate: SampleRate,
    stream_auth: StreamAuth,
    brain: Arc<Brain>,
    log: LogSink,
    started: Instant,
    record_audio: bool,
    recordings: Arc<Recordings>,
    /// Each running stream's sender, by call id: how a transfer marks the stream it ends.
    senders: Arc<Mutex<HashMap<String, MediaSender>>>,
}

impl axum::extract::FromRef<App> for Webhooks {
    fn from_ref(app: &App) -> Webhooks {
        app.hooks.clone()
    }
}

impl App {
    fn log(&self, mut line: Log) {
        line["t"] = json!((self.started.elapsed().as_millis() as f64) / 1000.0);
        self.log.send(line);
    }
}

/// The log's sender: it never waits (the media path logs), so when the channel is full a line
/// is dropped and counted, and the count goes out as a `log_dropped` line once there is room.
#[derive(Debug, Clone)]
pub struct LogSink {
    tx: mpsc::Sender<Log>,
    /// Lines dropped and not reported yet.
    pending: Arc<Mutex<u64>>,
    /// Lines dropped in all.
    dropped: Arc<AtomicU64>,
}

impl LogSink {
    /// A sink and its reader, `capacity` lines apart.
    pub fn new(capacity: usize) -> (LogSink, mpsc::Receiver<Log>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let sink = LogSink {
            tx,
            pending: Arc::default(),
            dropped: Arc::default(),
        };
        (sink, rx)
    }

    /// Sends `line` if there is room, else drops it; never waits.
    pub fn send(&self, line: Log) {
        // Held only across `try_send`s: nothing here waits.
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        if *pending > 0 {
            let note = json!({"event": "log_dropped", "count": *pending});
            if self.tx.try_send(note).is_err() {
                self.drop_one(&mut pending);
                return;
            }
            *pending = 0;
        }
        if self.tx.try_send(line).is_err() {
            self.drop_one(&mut pending);
        }
    }

    fn drop_one(&self, pending: &mut u64) {
        *pending += 1;
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// Lines dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// The wire format to ask `carrier` for, for an agent at `app_rate`: of the formats it
/// streams, one at the highest rate not above the app's (the first such, in the carrier's
/// order), so that the audio is resampled as little as may be and never upsampled on the wire;
/// the carrier's default when every format it streams is faster than the app.
pub fn stream_format(carrier: &dyn Carrier, app_rate: SampleRate) -> AudioFormat {
    let formats = carrier.stream_formats();
    let mut best: Option<AudioFormat> = None;
    for &f in formats {
        if f.rate.hz() <= app_rate.hz() && best.is_none_or(|b| f.rate.hz() > b.rate.hz()) {
            best = Some(f);
        }
    }
    best.or_else(|| formats.first().copied())
        .unwrap_or(AudioFormat::MULAW_8K)
}

/// The stream every call is answered with: this agent's WebSocket for the provider, asking for
/// audio close to the app's rate ([`stream_format`]). Where the carrier's stream reports call
/// events, its status callback is `/status`: a dropped socket reaches it (Vonage's
/// `disconnected`).
fn stream_for(
    media_base: &Url,
    status: &Url,
    carrier: &dyn Carrier,
    app_rate: SampleRate,
) -> StreamSpec {
    let url = media_base
        .join(&format!("media/{}", carrier.kind().id()))
        .expect("a path");
    let spec = StreamSpec::new(url)
        .parameter("agent", "echo")
        .audio(stream_format(carrier, app_rate));
    if carrier.stream_status_is_call_status() {
        spec.status_callback(status.clone())
    } else {
        spec
    }
}

struct Directory {
    numbers: Vec<E164>,
    /// The carriers of the agent's providers, by id.
    carriers: HashMap<&'static str, &'static dyn Carrier>,
    media_base: Url,
    status: Url,
    app_rate: SampleRate,
}

#[async_trait::async_trait]
impl NumberDirectory for Directory {
    async fn lookup(&self, number: &E164, provider: ProviderKind) -> Option<StreamSpec> {
        // The router asks only for the providers it has, which are the agent's.
        let carrier = *self.carriers.get(provider.id())?;
        self.numbers
            .contains(number)
            .then(|| stream_for(&self.media_base, &self.status, carrier, self.app_rate))
    }
}

/// Starts the agent; it serves until the runtime stops.
pub async fn start(options: AgentOptions) -> std::io::Result<Agent> {
    let listener = tokio::net::TcpListener::bind(options.listen).await?;
    let addr = listener.local_addr()?;
    let public_url = options
        .public_url
        .unwrap_or_else(|| Url::parse(&format!("http://{addr}/")).expect("a URL"));
    let mut media_base = public_url.clone();
    let scheme = if public_url.scheme() == "https" {
        "wss"
    } else {
        "ws"
    };
    media_base.set_scheme(scheme).ok();
    let status = public_url.join("status").expect("a path");
    let directory = Arc::new(Directory {
        numbers: options.numbers,
        carriers: options
            .providers
            .iter()
            .map(|p| (p.kind().id(), p.carrier()))
            .collect(),
        media_base: media_base.clone(),
        status,
        app_rate: options.app_rate,
    });
    // Every stream this agent answers with carries a token for its call, and every media
    // WebSocket must echo one: a socket that cannot is no stream of ours, and nothing it names
    // is acted on.
    let stream_auth = StreamAuth::new(options.stream_key.unwrap_or_else(|| {
        telephony::Secret::new(format!("{}{}", uuid::Uuid::new_v4(), uuid::Uuid::new_v4()))
    }));
    let mut router = InboundRouter::new(directory).stream_auth(stream_auth.clone());
    let mut providers = HashMap::new();
    for p in &options.providers {
        router = router.provider(p.clone());
        providers.insert(p.kind().id(), p.clone());
    }
    let (log_sink, log_rx) = LogSink::new(LOG_CAPACITY);
    let recordings = Arc::new(Recordings::default());
    let app_media_base = media_base.clone();
    let senders: Arc<Mutex<HashMap<String, MediaSender>>> = Arc::default();
    let app = App {
        hooks: Webhooks::new(router, PublicUrl::from_base(public_url.clone())),
        providers: Arc::new(providers),
        media_base,
        public_url: public_url.clone(),
        app_rate: options.app_rate,
        stream_auth: stream_auth.clone(),
        brain: Arc::new(options.brain),
        log: log_sink.clone(),
        started: Instant::now(),
        record_audio: options.record_audio,
        recordings: recordings.clone(),
        senders: senders.clone(),
    };
    let routes = Router::new()
        .route("/inbound", any(inbound))
        .route("/answer", any(answer))
        .route("/status", any(status_callback))
        .route("/media/{provider}", any(media))
        .with_state(app);
    // The library's server: the peer's address as ConnectInfo, a header-read timeout, and a
    // count of open connections.
    let connections = telephony::axum::serve_with(listener, routes, options.serve).connections();
    Ok(Agent {
        addr,
        public_url,
        log: log_rx,
        recordings,
        connections,
        log_sink,
        stream_auth,
        media_base: app_media_base,
        app_rate: options.app_rate,
        senders,
    })
}

async fn inbound(State(app): State<App>, request: axum::extract::Request) -> Response {
    let request = match app.hooks.webhook_request(request).await {
        Ok(r) => r,
        Err(response) => return response,
    };
    let answer = app.hooks.router().handle(&request, SystemTime::now()).await;
    // Numbers in E.164 where they read as one, as each provider writes them otherwise.
    let e164 =
        |n: &Option<E164>, raw: &str| n.as_ref().map_or(raw.to_owned(), |n| n.as_str().to_owned());
    let outcome = match &answer.outcome {
        telephony::Outcome::Answered { provider, call } => {
            json!({"event": "inbound", "provider": provider.id(), "call": call.call_id.as_str(), "from": e164(&call.from_number, &call.from), "to": e164(&call.to_number, &call.to)})
        }
        telephony::Outcome::UnknownNumber { provider, call } => {
            json!({"event": "refused", "provider": provider.id(), "call": call.call_id.as_str(), "from": e164(&call.from_number, &call.from), "to": e164(&call.to_number, &call.to)})
        }
        telephony::Outcome::Rejected { provider, reason } => {
            json!({"event": "rejected", "provider": provider.id(), "reason": reason.to_string()})
        }
        other => json!({"event": "invalid", "detail": format!("{other:?}")}),
    };
    app.log(outcome);
    reply(answer)
}

/// The answer URL of calls this host places: the same stream as an inbound call.
async fn answer(State(app): State<App>, hook: VerifiedWebhook) -> Response {
    let provider = hook.provider;
    let call = match provider.parse_inbound(&hook.request) {
        Ok(c) => c,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let status = app.public_url.join("status").expect("a path");
    let mut spec = stream_for(&app.media_base, &status, provider.carrier(), app.app_rate);
    // `?record=mono|dual` (a call placed with `Agent::recorded_call`): the answer records it.
    if let Some(options) = control::recording_asked(&hook.request.url, &status) {
        spec = spec.record(options);
    }
    let stream = app.stream_auth.protect(spec, Some(&call.call_id));
    app.log(
        json!({"event": "answer", "provider": provider.kind().id(), "call": call.call_id.as_str()}),
    );
    match provider.answer_call(&call, &stream) {
        Ok(markup) => ([("content-type", markup.content_type)], markup.body).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn status_callback(State(app): State<App>, request: axum::extract::Request) -> Response {
    let request = match app.hooks.webhook_request(request).await {
        Ok(r) => r,
        Err(response) => return response,
    };
    match app
        .hooks
        .router()
        .callback(&request, SystemTime::now())
        .await
    {
        Ok((provider, followed)) => {
            for notice in &followed.notices {
                control::log_notice(&app, provider, notice);
            }
            match followed.reply {
                Some(doc) => (
                    [(axum::http::header::CONTENT_TYPE, doc.content_type)],
                    doc.body,
                )
                    .into_response(),
                None => StatusCode::NO_CONTENT.into_response(),
            }
        }
        Err(r) => reply(r),
    }
}

async fn media(
    State(app): State<App>,
    Path(provider): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    OriginalUri(uri): OriginalUri,
    headers: axum::http::HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let Some(provider) = app.providers.get(provider.as_str()).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // Where the provider signs the upgrade (Twilio), an upgrade it did not sign is refused
    // before any socket exists.
    if let Err(e) = app
        .hooks
        .verify_upgrade(provider.as_ref(), Some(peer.ip()), &headers, &uri)
    {
        app.log(json!({"event": "rejected", "provider": provider.kind().id(), "reason": format!("media upgrade: {e}")}));
        return (StatusCode::FORBIDDEN, "invalid signature").into_response();
    }
    // Providers' messages are a few hundred bytes (a start, a few kilobytes): 64 KiB is
    // plenty, where axum's default would buffer 64 MiB for anyone who opens the socket; and
    // a 4 KiB read buffer, where tungstenite's 128 KiB is zero-filled on every read.
    media_upgrade(ws).on_upgrade(move |socket| async move {
        let session =
            MediaSession::new(provider.media_protocol(), SessionConfig::new(app.app_rate))
                .require_token(app.stream_auth.clone());
        let channel = media_channel(
            socket,
            session,
            StreamOptions::for_provider(provider.as_ref()),
        );
        app.recordings.live.send_modify(|n| *n += 1);
        talk(app.clone(), provider, channel.events, channel.sender).await;
        // The loop ends with the socket; wait for it so that "live" means running.
        let _ = channel.task.await;
        app.recordings.live.send_modify(|n| *n -= 1);
    })
}

/// Waits for the log line that `pick` accepts, up to `within`.
pub async fn wait_for(
    log: &mut mpsc::Receiver<Log>,
    within: Duration,
    seen: &mut Vec<Log>,
    pick: impl Fn(&Log) -> bool,
) -> Option<Log> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let line = tokio::time::timeout_at(deadline, log.recv()).await.ok()??;
        seen.push(line.clone());
        if pick(&line) {
            return Some(line);
        }
    }
}
