//! The carrier every fake shares: calls and their state machine, the webhooks it sends, the
//! media stream it runs as the provider would, the faults it can inject, and its HTTP server.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use telephony::audio::{AudioFormat, Decoder, Encoder, Profile};
use telephony::{CallStatus, Decimal, ProviderKind, Url};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;

use crate::markup::{Instruction, StreamTarget};
use crate::record::{CallRecord, Callee, Happening, Moment, Violation};
use crate::script::{CallerScript, SCRIPT_RATE, resample};

/// A call's life, as every provider has it; each dialect names the phases its own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Initiated,
    Ringing,
    Answered,
    Completed,
    Busy,
    NoAnswer,
    Failed,
    Canceled,
}

impl Phase {
    pub(crate) fn is_final(self) -> bool {
        matches!(
            self,
            Phase::Completed | Phase::Busy | Phase::NoAnswer | Phase::Failed | Phase::Canceled
        )
    }
}

/// Where a call's events go.
#[derive(Debug, Clone, Default)]
pub(crate) struct Hooks {
    /// Twilio `StatusCallback`, Vonage `event_url`.
    pub(crate) status_url: Option<Url>,
    /// Its method.
    pub(crate) status_method: Option<String>,
    /// Twilio `StatusCallbackEvent`s asked for; `None` for all.
    pub(crate) status_events: Option<Vec<String>>,
    /// Plivo `ring_url`.
    pub(crate) ring_url: Option<Url>,
    /// Plivo `hangup_url`.
    pub(crate) hangup_url: Option<Url>,
}

/// What answers the call.
#[derive(Debug, Clone)]
pub(crate) enum AnswerWith {
    /// Fetch this URL with this method.
    Url(Url, String),
    /// Run this document, given at creation.
    Inline(String),
}

/// A call as dialects see it: ids, parties, hooks, and what the end produced.
#[derive(Debug, Clone)]
pub(crate) struct CallInfo {
    pub(crate) id: String,
    /// Plivo's request id, Vonage's conversation.
    pub(crate) secondary_id: String,
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) inbound: bool,
    pub(crate) hooks: Hooks,
    pub(crate) answered: bool,
    pub(crate) duration_secs: Option<u64>,
    pub(crate) price: Option<Decimal>,
    pub(crate) rate: Decimal,
    pub(crate) created: std::time::SystemTime,
}

/// A request the emulator sends to the host, signed.
#[derive(Debug, Clone)]
pub(crate) struct Webhook {
    pub(crate) method: String,
    pub(crate) url: Url,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Vec<u8>,
}

/// What an agent's message asks of the emulated provider.
#[derive(Debug, Clone)]
pub(crate) enum AgentSays {
    /// Audio in the wire format.
    Audio(Vec<u8>),
    /// A mark, and the message that echoes it once the audio before it played.
    Mark(String, Message),
    /// Drop buffered audio.
    Clear,
    /// Play DTMF.
    Dtmf(String),
    /// A protocol violation.
    Violation(Violation),
}

/// One provider's media stream, the provider's side.
pub(crate) trait MediaDialect: Send {
    /// What opens the stream.
    fn opening(&mut self) -> Vec<Message>;
    /// One 20 ms frame of caller audio.
    fn media(&mut self, frame: &[u8]) -> Message;
    /// A key press.
    fn dtmf(&mut self, digit: char) -> Message;
    /// What closes it, when the provider sends something.
    fn stop(&mut self) -> Option<Message>;
    /// Reads an agent's message.
    fn agent(&mut self, message: &Message) -> Vec<AgentSays>;
    /// What the provider sends when the agent clears, given the marks still pending.
    fn cleared(&mut self, pending: Vec<(String, Message)>) -> Vec<Message>;
}

/// One provider's ways: status names, webhooks, answer documents, media.
pub(crate) trait Dialect: Send + Sync + 'static {
    fn kind(&self) -> ProviderKind;
    /// The provider's name for a phase.
    fn raw_status(&self, phase: Phase) -> &'static str;
    /// The adapter's normalization of it (for the record).
    fn normalize(&self, raw: &str) -> CallStatus;
    /// The answer request for a call, signed.
    fn answer_request(&self, call: &CallInfo, url: &Url, method: &str) -> Webhook;
    /// The status callback for a phase, when the call asked for one, signed.
    fn status_request(&self, call: &CallInfo, phase: Phase) -> Option<Webhook>;
    /// Reads the answer document.
    fn parse_answer(&self, body: &str) -> Result<Vec<Instruction>, String>;
    /// A media stream for the call.
    fn media(&self, call: &CallInfo, target: &StreamTarget) -> Box<dyn MediaDialect>;
    /// Headers the WebSocket upgrade to `url` carries (Twilio signs it).
    fn upgrade_headers(&self, url: &str) -> Vec<(&'static str, String)> {
        let _ = url;
        Vec::new()
    }
}

/// The emulator's knobs.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Wall time per 20 ms of call audio: 20 ms is real time; less runs faster.
    pub(crate) frame: Duration,
    /// How long calls ring, in call time.
    pub(crate) ring: Duration,
    /// Who answers which number (digits): the default is [`Callee::Answer`].
    pub(crate) callees: HashMap<String, Callee>,
    /// What callers say.
    pub(crate) script: CallerScript,
    /// What a minute costs.
    pub(crate) rate: Decimal,
    /// Faults: responses to fail, a delay, a stream to drop.
    pub(crate) delay: Duration,
    pub(crate) drop_stream_after: Option<Duration>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            frame: Duration::from_millis(20),
            ring: Duration::from_millis(200),
            callees: HashMap::new(),
            script: CallerScript::default(),
            rate: Decimal::new(140, 4),
            delay: Duration::ZERO,
            drop_stream_after: None,
        }
    }
}

/// A REST operation, for fault knobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// Placing a call.
    CreateCall,
    /// Reading a call.
    FetchCall,
    /// Hanging up or changing a live call.
    UpdateCall,
    /// Numbers, applications, configuration.
    Numbers,
    /// Every operation.
    Any,
}

/// How an injected fault answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// A 429 with `Retry-After` in whole seconds.
    RateLimited {
        /// Seconds.
        retry_after: u64,
    },
    /// This status, with the provider's error body.
    Status(u16),
}

#[derive(Debug)]
pub(crate) struct CallEntry {
    pub(crate) record: CallRecord,
    pub(crate) info: CallInfo,
    pub(crate) control: Option<mpsc::UnboundedSender<Control>>,
    pub(crate) done: watch::Sender<bool>,
    pub(crate) created: Instant,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Control {
    Hangup,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) calls: HashMap<String, CallEntry>,
    pub(crate) order: Vec<String>,
    pub(crate) settings: Settings,
    pub(crate) faults: VecDeque<(Operation, Fault, u32)>,
    pub(crate) seq: u64,
}

/// The shared carrier behind one fake.
pub(crate) struct Carrier {
    pub(crate) dialect: Box<dyn Dialect>,
    pub(crate) base_url: Url,
    pub(crate) http: reqwest::Client,
    pub(crate) state: Mutex<State>,
    pub(crate) running: AtomicUsize,
    /// The server's open connections, once it serves.
    pub(crate) connections: std::sync::OnceLock<crate::Connections>,
}

impl std::fmt::Debug for Carrier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Carrier")
            .field("provider", &self.dialect.kind())
            .field("base_url", &self.base_url.as_str())
            .finish_non_exhaustive()
    }
}

/// A call to place.
#[derive(Debug, Clone)]
pub(crate) struct Dial {
    pub(crate) id: String,
    pub(crate) secondary_id: String,
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) inbound: bool,
    pub(crate) answer: AnswerWith,
    pub(crate) hooks: Hooks,
    pub(crate) ring_timeout: Option<Duration>,
}

impl Carrier {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn next_seq(&self) -> u64 {
        let mut s = self.lock();
        s.seq += 1;
        s.seq
    }

    /// Wall time for `call_time` of call audio at the emulator's speed.
    fn wall(&self, call_time: Duration) -> Duration {
        let frame = self.lock().settings.frame;
        call_time.mul_f64(frame.as_secs_f64() / 0.02)
    }

    /// Call time for `wall` at the emulator's speed.
    fn call_time(&self, wall: Duration) -> Duration {
        let frame = self.lock().settings.frame.max(Duration::from_micros(10));
        wall.mul_f64(0.02 / frame.as_secs_f64())
    }

    pub(crate) fn note(&self, id: &str, what: Happening) {
        let mut s = self.lock();
        if let Some(c) = s.calls.get_mut(id) {
            let at = c.created.elapsed();
            if let Happening::Violation(v) = &what {
                c.record.violations.push(v.clone());
            }
            c.record.timeline.push(Moment { at, what });
        }
    }

    /// The fault to answer `op` with, if one is queued; then the configured delay.
    pub(crate) async fn fault(&self, op: Operation) -> Option<(u16, Option<u64>)> {
        let (delay, fault) = {
            let mut s = self.lock();
            let delay = s.settings.delay;
            let found = s
                .faults
                .iter()
                .position(|(o, _, n)| *n > 0 && (*o == op || *o == Operation::Any));
            let fault = found.map(|i| {
                let entry = &mut s.faults[i];
                entry.2 -= 1;
                let f = entry.1;
                if entry.2 == 0 {
                    s.faults.remove(i);
                }
                f
            });
            (delay, fault)
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        fault.map(|f| match f {
            Fault::RateLimited { retry_after } => (429, Some(retry_after)),
            Fault::Status(s) => (s, None),
        })
    }

    /// Registers a call and starts its life.
    pub(crate) fn place(self: &Arc<Self>, dial: Dial) -> (String, watch::Receiver<bool>) {
        let (done_tx, done_rx) = watch::channel(false);
        let (control_tx, control_rx) = mpsc::unbounded_channel();
        let rate = self.lock().settings.rate;
        let info = CallInfo {
            id: dial.id.clone(),
            secondary_id: dial.secondary_id.clone(),
            from: dial.from.clone(),
            to: dial.to.clone(),
            inbound: dial.inbound,
            hooks: dial.hooks.clone(),
            answered: false,
            duration_secs: None,
            price: None,
            rate,
            created: std::time::SystemTime::now(),
        };
        {
            let mut s = self.lock();
            s.order.push(dial.id.clone());
            s.calls.insert(
                dial.id.clone(),
                CallEntry {
                    record: CallRecord::new(
                        dial.id.clone(),
                        dial.inbound,
                        dial.from.clone(),
                        dial.to.clone(),
                    ),
                    info,
                    control: Some(control_tx),
                    done: done_tx,
                    created: Instant::now(),
                },
            );
        }
        let carrier = self.clone();
        let id = dial.id.clone();
        self.running.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            let c = carrier.clone();
            let id2 = dial.id.clone();
            run_call(carrier, dial, control_rx).await;
            c.running.fetch_sub(1, Ordering::SeqCst);
            let s = c.lock();
            if let Some(entry) = s.calls.get(&id2) {
                entry.done.send_replace(true);
            }
        });
        (id, done_rx)
    }

    /// Asks a live call to end (the API's hang-up). `false` when it is over already.
    pub(crate) fn hangup(&self, id: &str) -> bool {
        let s = self.lock();
        match s.calls.get(id) {
            Some(c) if !c.record.is_over() => c
                .control
                .as_ref()
                .is_some_and(|tx| tx.send(Control::Hangup).is_ok()),
            _ => false,
        }
    }

    fn set_phase(&self, id: &str, phase: Phase) {
        let raw = self.dialect.raw_status(phase);
        let status = self.dialect.normalize(raw);
        {
            let mut s = self.lock();
            if let Some(c) = s.calls.get_mut(id) {
                c.record.status = status.clone();
                raw.clone_into(&mut c.record.raw_status);
                if phase == Phase::Answered {
                    c.info.answered = true;
                }
            }
        }
        self.note(
            id,
            Happening::Status {
                raw: raw.to_owned(),
                status,
            },
        );
    }

    fn info(&self, id: &str) -> Option<CallInfo> {
        self.lock().calls.get(id).map(|c| c.info.clone())
    }

    /// Sends a webhook; the host's status, or `None` when unreachable.
    pub(crate) async fn send(&self, hook: &Webhook) -> Option<(u16, String)> {
        let method =
            reqwest::Method::from_bytes(hook.method.as_bytes()).unwrap_or(reqwest::Method::POST);
        let mut req = self
            .http
            .request(method, hook.url.clone())
            .body(hook.body.clone());
        for (k, v) in &hook.headers {
            req = req.header(*k, v);
        }
        let resp = req.send().await.ok()?;
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap_or_default();
        Some((status, body))
    }

    async fn status_callback(&self, id: &str, phase: Phase) {
        let Some(info) = self.info(id) else { return };
        if let Some(hook) = self.dialect.status_request(&info, phase) {
            let answered = self.send(&hook).await.map(|(s, _)| s);
            self.note(
                id,
                Happening::Callback {
                    event: self.dialect.raw_status(phase).to_owned(),
                    answered,
                },
            );
        }
    }

    async fn phase(&self, id: &str, phase: Phase) {
        self.set_phase(id, phase);
        self.status_callback(id, phase).await;
    }
}

/// Waits `call_time` (at the emulator's speed) unless the call is hung up meanwhile.
async fn wait_or_hangup(
    carrier: &Carrier,
    call_time: Duration,
    control: &mut mpsc::UnboundedReceiver<Control>,
) -> bool {
    let wall = carrier.wall(call_time);
    tokio::select! {
        () = tokio::time::sleep(wall) => false,
        c = control.recv() => c.is_some(),
    }
}

async fn run_call(
    carrier: Arc<Carrier>,
    dial: Dial,
    mut control: mpsc::UnboundedReceiver<Control>,
) {
    let id = dial.id.clone();
    let (ring, callee, script) = {
        let s = carrier.lock();
        let digits: String = dial.to.chars().filter(char::is_ascii_digit).collect();
        (
            s.settings.ring,
            s.settings.callees.get(&digits).copied().unwrap_or_default(),
            s.settings.script.clone(),
        )
    };
    if !dial.inbound {
        carrier.phase(&id, Phase::Initiated).await;
    }
    carrier.phase(&id, Phase::Ringing).await;
    let ring = match callee {
        Callee::NoAnswer => dial.ring_timeout.unwrap_or(Duration::from_secs(3)),
        _ => ring,
    };
    if wait_or_hangup(&carrier, ring, &mut control).await {
        carrier.note(&id, Happening::HungUp);
        carrier.phase(&id, Phase::Canceled).await;
        return;
    }
    match callee {
        Callee::Busy => return carrier.phase(&id, Phase::Busy).await,
        Callee::NoAnswer => return carrier.phase(&id, Phase::NoAnswer).await,
        Callee::Fail => return carrier.phase(&id, Phase::Failed).await,
        _ => {}
    }
    let answered_at = Instant::now();
    carrier.phase(&id, Phase::Answered).await;
    let document = match &dial.answer {
        AnswerWith::Inline(doc) => {
            carrier.note(
                &id,
                Happening::Answered {
                    url: "inline".into(),
                    status: None,
                },
            );
            Some(doc.clone())
        }
        AnswerWith::Url(url, method) => {
            let info = carrier.info(&id);
            match info {
                Some(info) => {
                    let hook = carrier.dialect.answer_request(&info, url, method);
                    let answer = carrier.send(&hook).await;
                    carrier.note(
                        &id,
                        Happening::Answered {
                            url: url.to_string(),
                            status: answer.as_ref().map(|(s, _)| *s),
                        },
                    );
                    answer
                        .filter(|(s, _)| (200..300).contains(s))
                        .map(|(_, b)| b)
                }
                None => None,
            }
        }
    };
    let instructions = match document.map(|d| carrier.dialect.parse_answer(&d)) {
        Some(Ok(i)) => i,
        Some(Err(e)) => {
            carrier.note(
                &id,
                Happening::Violation(Violation::Malformed(format!("answer: {e}"))),
            );
            Vec::new()
        }
        None => Vec::new(),
    };
    let mut hung_up = false;
    for instruction in instructions {
        match instruction {
            Instruction::Say(text) => {
                let length = Duration::from_millis(60 * text.chars().count() as u64);
                carrier.note(&id, Happening::Said(text));
                if wait_or_hangup(&carrier, length, &mut control).await {
                    hung_up = true;
                }
            }
            Instruction::Pause(d) => {
                if wait_or_hangup(&carrier, d, &mut control).await {
                    hung_up = true;
                }
            }
            Instruction::Stream(target) => {
                if run_stream(&carrier, &id, &target, &script, &mut control).await {
                    hung_up = true;
                }
            }
            Instruction::Hangup => break,
            Instruction::Other(_) => {}
        }
        if hung_up {
            carrier.note(&id, Happening::HungUp);
            break;
        }
    }
    let seconds = carrier
        .call_time(answered_at.elapsed())
        .as_secs_f64()
        .ceil()
        .max(1.0) as u64;
    {
        let mut s = carrier.lock();
        if let Some(c) = s.calls.get_mut(&id) {
            let minutes = Decimal::from(seconds.div_ceil(60));
            let price = c.info.rate * minutes;
            c.info.duration_secs = Some(seconds);
            c.info.price = Some(price);
            c.record.duration = Some(Duration::from_secs(seconds));
            c.record.price = Some(price);
        }
    }
    carrier.phase(&id, Phase::Completed).await;
}

/// What the caller's side of a stream holds while it runs.
struct Playback {
    queue: VecDeque<Played>,
}

enum Played {
    Audio(Vec<i16>),
    Mark(String, Message),
}

/// Runs one media stream; `true` when the call was hung up through the API meanwhile.
async fn run_stream(
    carrier: &Arc<Carrier>,
    id: &str,
    target: &StreamTarget,
    script: &CallerScript,
    control: &mut mpsc::UnboundedReceiver<Control>,
) -> bool {
    let (frame_wall, drop_after) = {
        let s = carrier.lock();
        (s.settings.frame, s.settings.drop_stream_after)
    };
    let request = {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
        let mut request = match target.url.as_str().into_client_request() {
            Ok(r) => r,
            Err(e) => {
                carrier.note(id, Happening::StreamFailed(e.to_string()));
                return false;
            }
        };
        for (name, value) in carrier.dialect.upgrade_headers(&target.url) {
            if let Ok(v) = http::HeaderValue::from_str(&value) {
                request.headers_mut().insert(name, v);
            }
        }
        request
    };
    let connect = tokio::time::timeout(
        Duration::from_secs(5),
        tokio_tungstenite::connect_async(request),
    )
    .await;
    let mut ws = match connect {
        Ok(Ok((ws, _))) => ws,
        Ok(Err(e)) => {
            carrier.note(id, Happening::StreamFailed(e.to_string()));
            return false;
        }
        Err(_) => {
            carrier.note(id, Happening::StreamFailed("timed out connecting".into()));
            return false;
        }
    };
    carrier.note(
        id,
        Happening::StreamOpened {
            url: target.url.clone(),
        },
    );
    let Some(info) = carrier.info(id) else {
        return false;
    };
    let mut dialect = carrier.dialect.media(&info, target);
    let format: AudioFormat = target.format;
    let rate = format.rate;
    let spf = rate.samples_per_20ms();
    let width = format.encoding.bytes_per_sample();
    // The caller's audio at the wire rate and in the wire format, whole.
    let caller = resample(&script.audio, SCRIPT_RATE, rate);
    let mut wire = Vec::with_capacity(caller.len() * width);
    Encoder::new(rate, format, Profile::HighQuality).encode(&caller, &mut wire);
    let length = script.length();
    let total_frames = (length.as_micros() / 20_000) as usize;
    let dtmf: Vec<(usize, char)> = script
        .dtmf
        .iter()
        .map(|(t, d)| ((t.as_micros() / 20_000) as usize, *d))
        .collect();
    {
        let mut s = carrier.lock();
        if let Some(c) = s.calls.get_mut(id) {
            c.record.wire_rate = Some(rate);
            c.record.stream_parameters.clone_from(&target.parameters);
        }
    }
    for m in dialect.opening() {
        if ws.send(m).await.is_err() {
            carrier.note(id, Happening::AgentClosed);
            return false;
        }
    }
    let mut decoder = Decoder::new(format, rate, Profile::HighQuality);
    let mut playback = Playback {
        queue: VecDeque::new(),
    };
    let mut sent = Vec::with_capacity(total_frames * spf);
    let mut agent_audio = Vec::new();
    let mut heard = Vec::with_capacity(total_frames * spf);
    let mut ticker = tokio::time::interval(frame_wall.max(Duration::from_micros(100)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut k = 0usize;
    let mut cleared_at: Option<usize> = None;
    let drop_at = drop_after.map(|d| (d.as_micros() / 20_000) as usize);
    let mut hung_up = false;
    let silence = vec![format.encoding.silence_byte(); spf * width];
    'stream: loop {
        tokio::select! {
            _ = ticker.tick() => {
                if drop_at == Some(k) {
                    // The TCP connection goes away: no stop, no close handshake.
                    carrier.note(id, Happening::StreamDropped);
                    drop(ws);
                    break 'stream;
                }
                if k >= total_frames {
                    if let Some(stop) = dialect.stop() {
                        let _ = ws.send(stop).await;
                    }
                    let _ = ws.close(None).await;
                    break 'stream;
                }
                // Marks whose audio has played go back first.
                while let Some(Played::Mark(..)) = playback.queue.front() {
                    if let Some(Played::Mark(name, echo)) = playback.queue.pop_front() {
                        let _ = ws.send(echo).await;
                        carrier.note(id, Happening::MarkEchoed(name));
                    }
                }
                // This frame of the agent's audio plays.
                let mut need = spf;
                while need > 0 {
                    match playback.queue.front_mut() {
                        Some(Played::Audio(a)) => {
                            let take = need.min(a.len());
                            heard.extend(a.drain(..take));
                            need -= take;
                            if a.is_empty() {
                                playback.queue.pop_front();
                            }
                        }
                        _ => break,
                    }
                }
                heard.extend(std::iter::repeat_n(0i16, need));
                // The caller's frame goes out.
                let start = k * spf * width;
                let frame = wire.get(start..start + spf * width).unwrap_or(&silence);
                let caller_frame = caller.get(k * spf..(k + 1) * spf);
                match caller_frame {
                    Some(f) => sent.extend_from_slice(f),
                    None => sent.extend(std::iter::repeat_n(0i16, spf)),
                }
                let message = dialect.media(frame);
                if ws.send(message).await.is_err() {
                    carrier.note(id, Happening::AgentClosed);
                    break 'stream;
                }
                for (at, digit) in &dtmf {
                    if *at == k {
                        let _ = ws.send(dialect.dtmf(*digit)).await;
                        carrier.note(id, Happening::DtmfSent(*digit));
                    }
                }
                k += 1;
            }
            incoming = ws.next() => {
                let message = match incoming {
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                        carrier.note(id, Happening::AgentClosed);
                        break 'stream;
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                    Some(Ok(m)) => m,
                };
                for says in dialect.agent(&message) {
                    match says {
                        AgentSays::Audio(bytes) => {
                            if cleared_at == Some(k) {
                                carrier.note(id, Happening::Violation(Violation::AudioAfterClear));
                                cleared_at = None;
                            }
                            let mut pcm = Vec::with_capacity(bytes.len());
                            if let Err(e) = decoder.decode(&bytes, &mut pcm) {
                                carrier.note(id, Happening::Violation(Violation::WrongFormat(e.to_string())));
                                continue;
                            }
                            agent_audio.extend_from_slice(&pcm);
                            playback.queue.push_back(Played::Audio(pcm));
                        }
                        AgentSays::Mark(name, echo) => {
                            cleared_at = None;
                            playback.queue.push_back(Played::Mark(name, echo));
                        }
                        AgentSays::Clear => {
                            let pending: Vec<(String, Message)> = playback
                                .queue
                                .drain(..)
                                .filter_map(|p| match p {
                                    Played::Mark(n, m) => Some((n, m)),
                                    Played::Audio(_) => None,
                                })
                                .collect();
                            let names = pending.iter().map(|(n, _)| n.clone()).collect();
                            for m in dialect.cleared(pending) {
                                let _ = ws.send(m).await;
                            }
                            carrier.note(id, Happening::Cleared { pending_marks: names });
                            cleared_at = Some(k);
                        }
                        AgentSays::Dtmf(d) => carrier.note(id, Happening::DtmfReceived(d)),
                        AgentSays::Violation(v) => carrier.note(id, Happening::Violation(v)),
                    }
                }
            }
            c = control.recv() => {
                if c.is_some() {
                    if let Some(stop) = dialect.stop() {
                        let _ = ws.send(stop).await;
                    }
                    let _ = ws.close(None).await;
                    hung_up = true;
                    break 'stream;
                }
            }
        }
    }
    let mut s = carrier.lock();
    if let Some(c) = s.calls.get_mut(id) {
        c.record.caller_audio.extend_from_slice(&sent);
        c.record.agent_audio.extend_from_slice(&agent_audio);
        c.record.heard.extend_from_slice(&heard);
    }
    hung_up
}

/// An error answer with a `Retry-After` when asked.
pub(crate) fn fault_response(status: u16, retry_after: Option<u64>, body: String) -> Response {
    let mut r = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        body,
    )
        .into_response();
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    if let Some(s) = retry_after
        && let Ok(v) = HeaderValue::from_str(&s.to_string())
    {
        r.headers_mut().insert("retry-after", v);
    }
    r
}

/// The `user:password` of a Basic `Authorization` header.
pub(crate) fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine as _;
    let v = headers.get("authorization")?.to_str().ok()?;
    let encoded = v
        .strip_prefix("Basic ")
        .or_else(|| v.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// A loopback port for a fake, and its base URL.
pub(crate) async fn bind() -> std::io::Result<(tokio::net::TcpListener, Url)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let url =
        Url::parse(&format!("http://{addr}/")).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok((listener, url))
}

/// The URL the fake is about to request, as the server will receive it: the string a
/// signature covers. (A URL that could not be a request's, with credentials or a fragment,
/// keeps only what a request carries.)
pub(crate) fn exact(url: &Url) -> telephony::RequestUrl {
    telephony::RequestUrl::try_from(url).unwrap_or_else(|_| {
        let mut plain = url.clone();
        plain.set_fragment(None);
        let _ = plain.set_username("");
        let _ = plain.set_password(None);
        telephony::RequestUrl::try_from(&plain)
            .unwrap_or_else(|_| telephony::RequestUrl::parse("http://invalid/").expect("valid"))
    })
}

/// Serves `router` on `listener` for as long as the runtime runs, counting its connections.
pub(crate) fn serve(carrier: &Carrier, listener: tokio::net::TcpListener, router: Router) {
    let _ = carrier
        .connections
        .set(crate::serve_counted(listener, router));
}

/// A new carrier with `dialect`, served at `base_url`.
pub(crate) fn carrier(dialect: Box<dyn Dialect>, base_url: Url) -> Arc<Carrier> {
    Arc::new(Carrier {
        dialect,
        base_url,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default(),
        state: Mutex::new(State::default()),
        running: AtomicUsize::new(0),
        connections: std::sync::OnceLock::new(),
    })
}

/// The knobs and records every fake shares; each fake derefs to one.
#[derive(Debug, Clone)]
pub struct Fake {
    pub(crate) carrier: Arc<Carrier>,
}

impl Fake {
    /// The fake's base URL: give it to the adapter as its API host.
    pub fn base_url(&self) -> Url {
        self.carrier.base_url.clone()
    }

    /// Which provider it emulates.
    pub fn kind(&self) -> ProviderKind {
        self.carrier.dialect.kind()
    }

    /// Runs calls `factor` times faster than real time (ringing, speech, media frames): 1 is
    /// real time, as a demo wants; tests use 5 to 20. Set it before placing calls.
    pub fn speed(&self, factor: f64) {
        let factor = if factor.is_finite() {
            factor.clamp(0.01, 200.0)
        } else {
            1.0
        };
        self.carrier.lock().settings.frame = Duration::from_millis(20).div_f64(factor);
    }

    /// What callers say on calls placed from now on.
    pub fn script(&self, script: CallerScript) {
        self.carrier.lock().settings.script = script;
    }

    /// How long calls ring before the callee answers (or is busy, or fails), in call time.
    pub fn ring_time(&self, ring: Duration) {
        self.carrier.lock().settings.ring = ring;
    }

    /// What the callee at `number` does.
    pub fn callee(&self, number: &telephony::E164, callee: Callee) {
        self.carrier
            .lock()
            .settings
            .callees
            .insert(number.digits().to_owned(), callee);
    }

    /// What a minute of call costs (whole minutes are billed).
    pub fn rate_per_minute(&self, rate: Decimal) {
        self.carrier.lock().settings.rate = rate;
    }

    /// Answers the next `times` requests of `op` with `fault` instead.
    pub fn fail_next(&self, op: Operation, fault: Fault, times: u32) {
        self.carrier.lock().faults.push_back((op, fault, times));
    }

    /// Answers every REST request `delay` late.
    pub fn delay_responses(&self, delay: Duration) {
        self.carrier.lock().settings.delay = delay;
    }

    /// Drops each media stream's connection `after` it opened (call time), without a word.
    pub fn drop_streams_after(&self, after: Option<Duration>) {
        self.carrier.lock().settings.drop_stream_after = after;
    }

    /// Every call, in the order placed.
    pub fn calls(&self) -> Vec<CallRecord> {
        let s = self.carrier.lock();
        s.order
            .iter()
            .filter_map(|id| s.calls.get(id).map(|c| c.record.clone()))
            .collect()
    }

    /// One call, by the provider's id (Plivo: the `CallUUID` or the `request_uuid`).
    pub fn call(&self, id: &str) -> Option<CallRecord> {
        let s = self.carrier.lock();
        s.calls
            .get(id)
            .or_else(|| s.calls.values().find(|c| c.info.secondary_id == id))
            .map(|c| c.record.clone())
    }

    /// Waits until a call is over and its last webhook sent, and returns it.
    pub async fn wait(&self, id: &str) -> Option<CallRecord> {
        let mut done = {
            let s = self.carrier.lock();
            let entry = s
                .calls
                .get(id)
                .or_else(|| s.calls.values().find(|c| c.info.secondary_id == id))?;
            entry.done.subscribe()
        };
        let _ = done.wait_for(|d| *d).await;
        let id = {
            let s = self.carrier.lock();
            s.calls
                .get(id)
                .or_else(|| s.calls.values().find(|c| c.info.secondary_id == id))
                .map(|c| c.record.id.clone())?
        };
        self.call(&id)
    }

    /// Calls whose life is still running (a task each): zero once every call ended.
    pub fn running(&self) -> usize {
        self.carrier.running.load(Ordering::SeqCst)
    }

    /// Connections open to the fake's server now: REST clients' kept-alive connections, and
    /// anything mid-request.
    pub fn open_connections(&self) -> usize {
        self.carrier
            .connections
            .get()
            .map_or(0, crate::Connections::count)
    }
}
