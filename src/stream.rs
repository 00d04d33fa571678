//! A media WebSocket, driven: a task that runs a [`MediaSession`] between any socket (a
//! `Sink` and a `Stream` of [`WsFrame`]s) and the host, who gets a stream of owned
//! [`StreamEvent`]s and a [`MediaSender`] for PCM, marks and clear.
//!
//! The loop is generic over `Sink`/`Stream`, so it runs over axum's WebSocket
//! ([`crate::axum::media_channel`]), tokio-tungstenite's, or plain channels in tests.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use futures_util::{Sink, SinkExt, Stream, StreamExt};
use telephony_core::media::Pacer;
use telephony_core::{
    MediaError, MediaSession, ProviderKind, SessionEvent, StreamStart, WsMessage,
};
use tokio::sync::mpsc;

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
    /// A message the adapter does not know (its event name).
    Unknown(String),
    /// A message that broke the protocol; the stream goes on.
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
            SessionEvent::Unknown(e) => StreamEvent::Unknown(e.to_owned()),
            _ => return None,
        })
    }
}

#[derive(Debug)]
enum Command {
    Audio(Vec<i16>),
    Mark(String),
    Finish,
    Clear,
    Dtmf(String),
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
}

impl MediaSender {
    async fn send(&self, c: Command) -> Result<(), StreamClosed> {
        self.tx.send(c).await.map_err(|_| StreamClosed)
    }

    /// PCM at the application's rate, any length.
    pub async fn audio(&self, pcm: Vec<i16>) -> Result<(), StreamClosed> {
        self.send(Command::Audio(pcm)).await
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

/// How the loop sends.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StreamOptions {
    /// Paces outbound audio against the provider's buffer; `None` sends at once.
    pub pacer: Option<Pacer>,
    /// How many events may wait for the host before reading pauses.
    pub event_buffer: usize,
}

impl StreamOptions {
    /// Sends at once (Twilio, Plivo).
    pub fn immediate() -> StreamOptions {
        StreamOptions {
            pacer: None,
            event_buffer: 64,
        }
    }

    /// What suits `provider`: Vonage's pacer for Vonage, at once for the others.
    pub fn for_provider(provider: ProviderKind) -> StreamOptions {
        let _ = provider;
        #[cfg(feature = "vonage")]
        if provider == crate::vonage::KIND {
            return StreamOptions::immediate().pacer(crate::vonage::pacer());
        }
        StreamOptions::immediate()
    }

    /// Sets the pacer.
    pub fn pacer(mut self, pacer: Pacer) -> StreamOptions {
        self.pacer = Some(pacer);
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

/// Runs `session` over a socket (`sink` and `stream`) in a task, and hands back the host's
/// ends. Must be called within a tokio runtime.
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
    let (event_tx, event_rx) = mpsc::channel(options.event_buffer.max(1));
    let (command_tx, command_rx) = mpsc::channel(64);
    let task = tokio::spawn(run(sink, stream, session, options, event_tx, command_rx));
    MediaChannel {
        events: MediaEvents { rx: event_rx },
        sender: MediaSender { tx: command_tx },
        task,
    }
}

struct Queued {
    frame: WsFrame,
    audio: bool,
}

/// A frame to queue. Binary frames are audio; text frames are audio when they come out of
/// sending audio on a protocol that carries audio as text (Twilio, Plivo), and control (marks,
/// clear) otherwise.
fn owned(m: WsMessage<'_>, audio_call: bool, binary_audio: &mut bool) -> Queued {
    match m {
        WsMessage::Text(t) => Queued {
            frame: WsFrame::Text(t.to_owned()),
            audio: audio_call && !*binary_audio,
        },
        WsMessage::Binary(b) => {
            *binary_audio = true;
            Queued {
                frame: WsFrame::Binary(b.to_vec()),
                audio: true,
            }
        }
    }
}

async fn run<Si, St, E>(
    mut sink: Si,
    mut stream: St,
    mut session: MediaSession,
    mut options: StreamOptions,
    events: mpsc::Sender<StreamEvent>,
    mut commands: mpsc::Receiver<Command>,
) where
    Si: Sink<WsFrame> + Send + Unpin,
    St: Stream<Item = Result<WsFrame, E>> + Send + Unpin,
    E: fmt::Display,
{
    let mut queue: VecDeque<Queued> = VecDeque::new();
    let mut commands_open = true;
    let mut binary_audio = false;
    loop {
        // Send what may go now.
        let now = std::time::Instant::now();
        let mut wake = None;
        while let Some(front) = queue.front() {
            if front.audio
                && let Some(p) = options.pacer.as_mut()
            {
                let at = p.next_send(now);
                if at > now {
                    wake = Some(at);
                    break;
                }
                p.sent(now);
            }
            let Some(item) = queue.pop_front() else { break };
            if sink.send(item.frame).await.is_err() {
                let _ = events.send(StreamEvent::Closed).await;
                return;
            }
        }
        let sleep = async {
            match wake {
                Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            incoming = stream.next() => {
                let frame = match incoming {
                    Some(Ok(WsFrame::Close)) => {
                        let _ = events.send(StreamEvent::Closed).await;
                        return;
                    }
                    None => {
                        let reason = "the connection ended without a closing handshake";
                        tracing::debug!(reason, "media socket dropped");
                        let _ = events.send(StreamEvent::Dropped(reason.to_owned())).await;
                        return;
                    }
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "media socket failed");
                        let _ = events.send(StreamEvent::Dropped(e.to_string())).await;
                        return;
                    }
                    Some(Ok(f)) => f,
                };
                let event = match &frame {
                    WsFrame::Text(t) => session.handle(WsMessage::Text(t)).map(StreamEvent::from_session),
                    WsFrame::Binary(b) => session.handle(WsMessage::Binary(b)).map(StreamEvent::from_session),
                    WsFrame::Close => Ok(None),
                };
                let event = match event {
                    Ok(Some(e)) => e,
                    Ok(None) => continue,
                    Err(e) => StreamEvent::ProtocolError(e),
                };
                if events.send(event).await.is_err() && !commands_open {
                    // The host dropped both ends: close.
                    let _ = sink.send(WsFrame::Close).await;
                    return;
                }
            }
            command = commands.recv(), if commands_open => {
                let audio_call = matches!(command, Some(Command::Audio(_) | Command::Finish));
                let mut push =
                    |m: WsMessage<'_>| queue.push_back(owned(m, audio_call, &mut binary_audio));
                let result = match command {
                    None => {
                        commands_open = false;
                        if events.is_closed() {
                            let _ = sink.send(WsFrame::Close).await;
                            return;
                        }
                        Ok(())
                    }
                    Some(Command::Audio(pcm)) => session.send_audio(&pcm, &mut push),
                    Some(Command::Mark(name)) => session.mark(&name, &mut push),
                    Some(Command::Finish) => session.finish(&mut push),
                    Some(Command::Dtmf(d)) => session.send_dtmf(&d, &mut push),
                    Some(Command::Close) => {
                        for item in queue.drain(..) {
                            let _ = sink.send(item.frame).await;
                        }
                        let _ = sink.send(WsFrame::Close).await;
                        let _ = events.send(StreamEvent::Closed).await;
                        return;
                    }
                    Some(Command::Clear) => {
                        let mut clear = Vec::new();
                        let result =
                            session.clear(&mut |m| clear.push(owned(m, false, &mut binary_audio)));
                        // Audio still queued here never reaches the provider. The session
                        // counts the marks queued behind it as sent, so it reports them
                        // cleared with the rest; they follow the clear, and their echoes are
                        // ignored.
                        queue.retain(|q| !q.audio);
                        for (i, c) in clear.into_iter().enumerate() {
                            queue.insert(i, c);
                        }
                        if let Some(p) = options.pacer.as_mut() {
                            p.clear();
                        }
                        match result {
                            Ok(cleared) => {
                                for name in cleared {
                                    if events.send(StreamEvent::MarkCleared(name)).await.is_err() {
                                        break;
                                    }
                                }
                                Ok(())
                            }
                            Err(e) => Err(e),
                        }
                    }
                };
                if let Err(e) = result {
                    let _ = events.send(StreamEvent::ProtocolError(e)).await;
                }
            }
            () = sleep => {}
        }
    }
}
