//! A media WebSocket, driven: a task that runs a [`MediaSession`] between any socket (a
//! `Sink` and a `Stream` of [`WsFrame`]s) and the host, who gets a stream of owned
//! [`StreamEvent`]s and a [`MediaSender`] for PCM, marks and clear.
//!
//! The loop is generic over `Sink`/`Stream`, so it runs over axum's WebSocket
//! ([`crate::axum::media_channel`]), tokio-tungstenite's, or plain channels in tests.
//!
//! Whoever opens the socket is unauthenticated until the host checks the call its start
//! names, so the loop bounds what the peer can make it hold, by default ([`StreamOptions`]):
//! the stream must start within 10 s, 32 protocol errors in a row end it
//! ([`StreamEvent::Aborted`]), events wait for the host in a bounded channel (reading pauses
//! when it is full), and at most 60 s of outbound audio waits for the pacer.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{Sink, Stream};
use telephony_core::media::Pacer;
use telephony_core::{
    Carrier, MediaError, MediaSession, SessionEvent, StreamStart, TelephonyProvider,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::time::Instant;

mod driver;

/// How long a provider has to start its stream, by default.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How many protocol errors in a row end a stream, by default.
const PROTOCOL_ERROR_LIMIT: u32 = 32;
/// How much outbound audio may wait in the loop for the pacer, by default.
const MAX_QUEUED_AUDIO: Duration = Duration::from_secs(60);
/// The most text of the peer's an unknown event's name or a protocol error's detail carries,
/// in bytes: the rest is cut, so that what waits for the host does not grow with the size of
/// the peer's messages.
const MAX_PEER_TEXT: usize = 256;
/// How long the loop waits to send its closing frame when it ends a stream itself, before it
/// lets go of the socket anyway (a peer that does not read cannot hold it).
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// One WebSocket message, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsFrame {
    /// Text.
    Text(String),
    /// Binary.
    Binary(Vec<u8>),
    /// The closing handshake.
    Close,
}

/// What the provider's side of the stream said, owned, for the host.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamEvent {
    /// The socket is up (Twilio `connected`).
    Connected,
    /// The stream started: the call, the format, the custom parameters.
    Started(StreamStart),
    /// Caller audio, PCM at the application's rate.
    Audio(Vec<i16>),
    /// The caller pressed a key.
    Dtmf {
        /// The key.
        digit: char,
        /// How long, where the provider says.
        duration: Option<Duration>,
    },
    /// The audio before this mark played.
    MarkPlayed(String),
    /// This mark's audio was cleared: not heard. Reported when the host clears, for every
    /// provider alike.
    MarkCleared(String),
    /// The provider confirmed a clear.
    Cleared,
    /// The provider ended the stream.
    Stopped,
    /// A message the adapter does not know (its event name, cut to 256 bytes).
    Unknown(String),
    /// A message that broke the protocol (a detail quoting it cut to 256 bytes); the stream
    /// goes on, unless it is one too many in a row ([`StreamOptions::protocol_error_limit`]:
    /// then [`StreamEvent::Aborted`] follows).
    ProtocolError(MediaError),
    /// The socket closed with a closing handshake (or the host closed it); nothing follows.
    Closed,
    /// The socket failed, or ended without a closing handshake: the connection dropped.
    /// Nothing follows. The call may still be up (and billing) unless the answer document
    /// ends it when the stream ends, as [`TelephonyProvider::answer`] does: hang up through the
    /// API to be sure.
    ///
    /// [`TelephonyProvider::answer`]: telephony_core::TelephonyProvider::answer
    Dropped(String),
    /// The loop closed the socket itself: the peer broke a limit of [`StreamOptions`] (no
    /// start in time, too many protocol errors in a row). Nothing follows.
    ///
    /// Before a start there is no call. After one, the call it named may still be up, as
    /// with [`Dropped`](Self::Dropped); but the start came from whoever opened the socket,
    /// unauthenticated: hang up only a call the host knows it placed or answered.
    Aborted(AbortReason),
    /// The stream ended (closed or dropped) after the host said a transfer was under way
    /// ([`MediaSender::transferring`]): the caller left the agent for a person, as asked,
    /// not a lost connection. Nothing follows.
    Transferred,
}

/// Why the loop ended a stream itself ([`StreamEvent::Aborted`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AbortReason {
    /// The stream did not start (Twilio and Plivo `start`, Vonage `websocket:connected`)
    /// within [`StreamOptions::start_timeout`], this long.
    StartTimeout(Duration),
    /// The peer sent this many messages in a row that broke the protocol
    /// ([`StreamOptions::protocol_error_limit`]).
    ProtocolErrors(u32),
    /// The stream did not prove it came through an answer this server gave: the session
    /// requires a token ([`MediaSession::require_token`](telephony_core::MediaSession::require_token))
    /// and the start carried none, or one for another call. Nothing it named may be acted on.
    Unauthenticated,
}

impl fmt::Display for AbortReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AbortReason::StartTimeout(after) => {
                write!(f, "the stream did not start within {after:?}")
            }
            AbortReason::ProtocolErrors(n) => {
                write!(f, "{n} messages in a row broke the protocol")
            }
            AbortReason::Unauthenticated => {
                f.write_str("the stream did not prove it came through an answer this server gave")
            }
        }
    }
}

impl StreamEvent {
    fn from_session(e: SessionEvent<'_>) -> Option<StreamEvent> {
        Some(match e {
            SessionEvent::Connected => StreamEvent::Connected,
            SessionEvent::Started(s) => StreamEvent::Started(s.clone()),
            SessionEvent::Audio(pcm) => StreamEvent::Audio(pcm.to_vec()),
            SessionEvent::Dtmf { digit, duration } => StreamEvent::Dtmf { digit, duration },
            SessionEvent::MarkPlayed(n) => StreamEvent::MarkPlayed(n.to_owned()),
            SessionEvent::Cleared => StreamEvent::Cleared,
            SessionEvent::Stopped => StreamEvent::Stopped,
            SessionEvent::Unknown(e) => StreamEvent::Unknown(cut(e)),
            _ => return None,
        })
    }
}

/// `text`, cut to [`MAX_PEER_TEXT`] bytes (on a character boundary) with an ellipsis.
fn cut(text: &str) -> String {
    if text.len() <= MAX_PEER_TEXT {
        return text.to_owned();
    }
    let mut end = MAX_PEER_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// A protocol error whose detail (which may quote the peer's message) is cut.
fn cut_error(mut e: MediaError) -> MediaError {
    if let MediaError::Malformed { detail, .. } = &mut e
        && detail.len() > MAX_PEER_TEXT
    {
        *detail = cut(detail);
    }
    e
}

#[derive(Debug)]
pub(crate) enum Command {
    /// The PCM, and its share of the queued-audio budget (where there is one: with a pacer).
    Audio(Vec<i16>, Option<OwnedSemaphorePermit>),
    Mark(String),
    Finish,
    Clear,
    Dtmf(String),
    Transferring(bool),
    Close,
}

/// The stream has ended: nothing more can be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamClosed;

impl fmt::Display for StreamClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the media stream has closed")
    }
}

impl std::error::Error for StreamClosed {}

/// What the host sends the caller. Cheap to clone; every method waits when the stream is
/// behind, and fails once it has closed.
#[derive(Debug, Clone)]
pub struct MediaSender {
    tx: mpsc::Sender<Command>,
    /// Samples (at the application's rate) that may wait in the loop for the pacer; none
    /// without a pacer, where audio goes out as it comes and nothing waits.
    budget: Option<Arc<Semaphore>>,
    /// The whole budget: what one call of `audio` takes at most.
    budget_max: u32,
}

impl MediaSender {
    async fn send(&self, c: Command) -> Result<(), StreamClosed> {
        self.tx.send(c).await.map_err(|_| StreamClosed)
    }

    /// PCM at the application's rate, any length. Waits while the loop holds
    /// [`StreamOptions::max_queued_audio`] for the pacer already (a clear is never held up).
    pub async fn audio(&self, pcm: Vec<i16>) -> Result<(), StreamClosed> {
        let permit = match &self.budget {
            Some(budget) => {
                let n = u32::try_from(pcm.len())
                    .unwrap_or(u32::MAX)
                    .min(self.budget_max);
                let permit = budget
                    .clone()
                    .acquire_many_owned(n)
                    .await
                    .map_err(|_| StreamClosed)?;
                Some(permit)
            }
            None => None,
        };
        self.send(Command::Audio(pcm, permit)).await
    }

    /// A playback mark after the audio sent so far.
    pub async fn mark(&self, name: impl Into<String>) -> Result<(), StreamClosed> {
        self.send(Command::Mark(name.into())).await
    }

    /// Ends a reply: the resampler's tail and the last partial frame go out.
    pub async fn finish(&self) -> Result<(), StreamClosed> {
        self.send(Command::Finish).await
    }

    /// Barge-in: drops the audio queued here and at the provider.
    pub async fn clear(&self) -> Result<(), StreamClosed> {
        self.send(Command::Clear).await
    }

    /// DTMF to the caller, where the provider's stream can send it.
    pub async fn dtmf(&self, digits: impl Into<String>) -> Result<(), StreamClosed> {
        self.send(Command::Dtmf(digits.into())).await
    }

    /// Says a transfer of this call is under way (`true`), or is over without moving the
    /// caller (`false`: a warm transfer's target did not answer)
    /// ([`TelephonyProvider::transfer`]). While it is, a stream that ends is reported as
    /// [`StreamEvent::Transferred`] rather than [`Closed`](StreamEvent::Closed) or
    /// [`Dropped`](StreamEvent::Dropped). Send it before the transfer; it changes nothing else.
    pub async fn transferring(&self, on: bool) -> Result<(), StreamClosed> {
        self.send(Command::Transferring(on)).await
    }

    /// Closes the socket. With a `<Connect><Stream>` (Twilio), `keepCallAlive` (Plivo) or a
    /// last `connect` (Vonage) answer, the call then ends too; hang up through the API to be
    /// sure.
    pub async fn close(&self) -> Result<(), StreamClosed> {
        self.send(Command::Close).await
    }
}

/// The provider's events, in order; `None` after [`StreamEvent::Closed`].
#[derive(Debug)]
pub struct MediaEvents {
    rx: mpsc::Receiver<StreamEvent>,
}

impl MediaEvents {
    /// The next event.
    pub async fn next(&mut self) -> Option<StreamEvent> {
        self.rx.recv().await
    }
}

impl Stream for MediaEvents {
    type Item = StreamEvent;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<StreamEvent>> {
        self.rx.poll_recv(cx)
    }
}

/// How the loop sends, and the limits it holds the peer to (whoever opened the socket: until
/// the host checks the start's call against its own, nothing says it is the provider).
///
/// Every limit is on by default: [`immediate`](Self::immediate) and
/// [`for_provider`](Self::for_provider) give a 10 s start timeout, a limit of 32 protocol
/// errors in a row, 64 events waiting for the host and 60 s of audio waiting for the pacer.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StreamOptions {
    /// Paces outbound audio against the provider's buffer; `None` sends at once.
    pub pacer: Option<Pacer>,
    /// How many events may wait for the host before reading pauses (at least one): what the
    /// peer sends waits in the socket, not in memory, while the host is behind.
    pub event_buffer: usize,
    /// How long the peer has, from the moment the loop starts, to start the stream (Twilio
    /// and Plivo `start`, Vonage `websocket:connected`); then the loop closes the socket and
    /// reports [`AbortReason::StartTimeout`]. `None` waits for ever. Default 10 s: providers
    /// start within a second.
    pub start_timeout: Option<Duration>,
    /// How many messages in a row may break the protocol (each reported as
    /// [`StreamEvent::ProtocolError`]) before the loop closes the socket and reports
    /// [`AbortReason::ProtocolErrors`]; any message the session accepts starts the count
    /// again. `None` never closes. Default 32: a provider sends none.
    pub protocol_error_limit: Option<u32>,
    /// How much outbound audio may wait in the loop for the pacer before
    /// [`MediaSender::audio`] waits (at least one sample). Default 60 s. Without a pacer
    /// audio goes out as it comes, and nothing waits.
    pub max_queued_audio: Duration,
}

impl StreamOptions {
    /// Sends at once (Twilio, Plivo), with the default limits.
    pub fn immediate() -> StreamOptions {
        StreamOptions {
            pacer: None,
            event_buffer: 64,
            start_timeout: Some(START_TIMEOUT),
            protocol_error_limit: Some(PROTOCOL_ERROR_LIMIT),
            max_queued_audio: MAX_QUEUED_AUDIO,
        }
    }

    /// What suits `provider`'s carrier: its pacer where it needs one (Vonage), at once for
    /// the others.
    pub fn for_provider(provider: &dyn TelephonyProvider) -> StreamOptions {
        StreamOptions::for_carrier(provider.carrier())
    }

    /// What suits `carrier`: its pacer where it needs one, at once otherwise.
    pub fn for_carrier(carrier: &dyn Carrier) -> StreamOptions {
        match carrier.pacer() {
            Some(pacer) => StreamOptions::immediate().pacer(pacer),
            None => StreamOptions::immediate(),
        }
    }

    /// Sets the pacer.
    pub fn pacer(mut self, pacer: Pacer) -> StreamOptions {
        self.pacer = Some(pacer);
        self
    }

    /// Sets [`start_timeout`](Self::start_timeout) (`None`: no limit).
    pub fn start_timeout(mut self, timeout: impl Into<Option<Duration>>) -> StreamOptions {
        self.start_timeout = timeout.into();
        self
    }

    /// Sets [`protocol_error_limit`](Self::protocol_error_limit) (`None`: no limit).
    pub fn protocol_error_limit(mut self, limit: impl Into<Option<u32>>) -> StreamOptions {
        self.protocol_error_limit = limit.into();
        self
    }

    /// Sets [`max_queued_audio`](Self::max_queued_audio).
    pub fn max_queued_audio(mut self, max: Duration) -> StreamOptions {
        self.max_queued_audio = max;
        self
    }
}

/// The host's ends of a running media stream.
#[derive(Debug)]
pub struct MediaChannel {
    /// What the provider says.
    pub events: MediaEvents,
    /// What to send the caller.
    pub sender: MediaSender,
    /// The loop; it ends when the socket closes, or when the host has dropped both ends.
    pub task: tokio::task::JoinHandle<()>,
}

/// Runs `session` over a socket given as its two halves (`sink` and `stream`) in a task,
/// and hands back the host's ends. Must be called within a tokio runtime.
///
/// Where the socket is one value that is both (tokio-tungstenite's `WebSocketStream`, mapped
/// to [`WsFrame`]s), [`spawn_media_loop_on`] takes it whole, without splitting it: a split
/// socket's halves share it through a lock that every read and write takes.
pub fn spawn_media_loop<Si, St, E>(
    sink: Si,
    stream: St,
    session: MediaSession,
    options: StreamOptions,
) -> MediaChannel
where
    Si: Sink<WsFrame> + Send + Unpin + 'static,
    St: Stream<Item = Result<WsFrame, E>> + Send + Unpin + 'static,
    E: fmt::Display + Send + 'static,
{
    spawn_media_loop_on(driver::Duplex { sink, stream }, session, options)
}

/// Runs `session` over `socket`, one value that reads and writes [`WsFrame`]s, in a task, and
/// hands back the host's ends. Must be called within a tokio runtime.
pub fn spawn_media_loop_on<S, E>(
    socket: S,
    session: MediaSession,
    options: StreamOptions,
) -> MediaChannel
where
    S: Sink<WsFrame> + Stream<Item = Result<WsFrame, E>> + Send + Unpin + 'static,
    E: fmt::Display + Send + 'static,
{
    let (event_tx, event_rx) = mpsc::channel(options.event_buffer.max(1));
    let (command_tx, command_rx) = mpsc::channel(64);
    let start_deadline = options.start_timeout.map(|t| Instant::now() + t);
    let budget_max = (options.max_queued_audio.as_secs_f64()
        * f64::from(session.config().app_rate.hz()))
    .clamp(1.0, f64::from(u32::MAX)) as u32;
    let budget = options
        .pacer
        .is_some()
        .then(|| Arc::new(Semaphore::new(budget_max as usize)));
    let task = tokio::spawn(driver::run(
        socket,
        session,
        options,
        driver::Limits {
            start_deadline,
            budget: driver::BudgetGuard(budget.clone()),
        },
        event_tx,
        command_rx,
    ));
    MediaChannel {
        events: MediaEvents { rx: event_rx },
        sender: MediaSender {
            tx: command_tx,
            budget,
            budget_max,
        },
        task,
    }
}
