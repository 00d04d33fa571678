//! The loop that runs a [`MediaSession`] between a socket and the host: what comes in goes
//! through the session to the host's events; what the host sends goes through the session,
//! the pacer where there is one, and out.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::{Sink, SinkExt, Stream, StreamExt};
use telephony_core::{MediaError, MediaSession, WsMessage};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::time::Instant;

use super::{AbortReason, CLOSE_GRACE, Command, StreamEvent, StreamOptions, WsFrame, cut_error};

/// A socket given as two halves, as one.
pub(super) struct Duplex<Si, St> {
    pub(super) sink: Si,
    pub(super) stream: St,
}

impl<Si: Sink<WsFrame> + Unpin, St: Unpin> Sink<WsFrame> for Duplex<Si, St> {
    type Error = Si::Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Si::Error>> {
        self.sink.poll_ready_unpin(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, item: WsFrame) -> Result<(), Si::Error> {
        self.sink.start_send_unpin(item)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Si::Error>> {
        self.sink.poll_flush_unpin(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Si::Error>> {
        self.sink.poll_close_unpin(cx)
    }
}

impl<Si: Unpin, St: Stream + Unpin> Stream for Duplex<Si, St> {
    type Item = St::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<St::Item>> {
        self.stream.poll_next_unpin(cx)
    }
}

/// What the loop enforces besides its options.
pub(super) struct Limits {
    /// When the stream must have started by.
    pub(super) start_deadline: Option<Instant>,
    /// The queued-audio budget, closed when the loop ends so that a waiting sender fails.
    pub(super) budget: BudgetGuard,
}

pub(super) struct BudgetGuard(pub(super) Option<Arc<Semaphore>>);

impl Drop for BudgetGuard {
    fn drop(&mut self) {
        if let Some(budget) = &self.0 {
            budget.close();
        }
    }
}

struct Queued {
    frame: WsFrame,
    audio: bool,
    /// The budget the audio behind this frame holds, given back when it goes (or is cleared).
    permit: Option<OwnedSemaphorePermit>,
}

/// A frame to queue. Binary frames are audio; text frames are audio when they come out of
/// sending audio on a protocol that carries audio as text (Twilio, Plivo), and control (marks,
/// clear) otherwise.
fn owned(m: WsMessage<'_>, audio_call: bool, binary_audio: &mut bool) -> Queued {
    match m {
        WsMessage::Text(t) => Queued {
            frame: WsFrame::Text(t.to_owned()),
            audio: audio_call && !*binary_audio,
            permit: None,
        },
        WsMessage::Binary(b) => {
            *binary_audio = true;
            Queued {
                frame: WsFrame::Binary(b.to_vec()),
                audio: true,
                permit: None,
            }
        }
    }
}

/// Ends the stream for `reason`: a closing frame if the peer takes it in time, then the
/// host hears why.
async fn abort<Si>(sink: &mut Si, events: &mpsc::Sender<StreamEvent>, reason: AbortReason)
where
    Si: Sink<WsFrame> + Unpin,
{
    tracing::debug!(%reason, "media stream aborted");
    let _ = tokio::time::timeout(CLOSE_GRACE, sink.send(WsFrame::Close)).await;
    let _ = events.send(StreamEvent::Aborted(reason)).await;
}

pub(super) async fn run<S, E>(
    mut socket: S,
    mut session: MediaSession,
    mut options: StreamOptions,
    limits: Limits,
    events: mpsc::Sender<StreamEvent>,
    mut commands: mpsc::Receiver<Command>,
) where
    S: Sink<WsFrame> + Stream<Item = Result<WsFrame, E>> + Send + Unpin,
    E: fmt::Display,
{
    // Closes the budget when the loop ends, however it ends.
    let Limits {
        start_deadline,
        budget: _budget,
    } = limits;
    let mut queue: VecDeque<Queued> = VecDeque::new();
    let mut commands_open = true;
    let mut binary_audio = false;
    let mut protocol_errors = 0u32;
    let mut transferring = false;
    // How the stream ended, as the host hears it: a transfer's end is its own.
    let ended = |transferring: bool, event: StreamEvent| {
        if transferring {
            StreamEvent::Transferred
        } else {
            event
        }
    };
    loop {
        // A peer that has not started the stream in time is cut off, however busy it keeps
        // the loop.
        let start_deadline = start_deadline.filter(|_| session.start().is_none());
        if let (Some(deadline), Some(after)) = (start_deadline, options.start_timeout)
            && Instant::now() >= deadline
        {
            abort(&mut socket, &events, AbortReason::StartTimeout(after)).await;
            return;
        }
        // Send what may go now. (tokio's clock, which is std's unless a test pauses it.)
        let now = Instant::now().into_std();
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
            if socket.send(item.frame).await.is_err() {
                let _ = events.send(ended(transferring, StreamEvent::Closed)).await;
                return;
            }
        }
        let sleep = async {
            match wake {
                Some(at) => tokio::time::sleep_until(Instant::from_std(at)).await,
                None => std::future::pending().await,
            }
        };
        let start_timer = async {
            match start_deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            incoming = socket.next() => {
                let frame = match incoming {
                    Some(Ok(WsFrame::Close)) => {
                        let _ = events.send(ended(transferring, StreamEvent::Closed)).await;
                        return;
                    }
                    None => {
                        let reason = "the connection ended without a closing handshake";
                        tracing::debug!(reason, transferring, "media socket dropped");
                        let dropped = StreamEvent::Dropped(reason.to_owned());
                        let _ = events.send(ended(transferring, dropped)).await;
                        return;
                    }
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, transferring, "media socket failed");
                        let dropped = StreamEvent::Dropped(e.to_string());
                        let _ = events.send(ended(transferring, dropped)).await;
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
                    Ok(e) => {
                        protocol_errors = 0;
                        match e {
                            Some(e) => e,
                            None => continue,
                        }
                    }
                    Err(MediaError::Unauthenticated { reason, .. }) => {
                        // Whoever this is, it is not a stream this server answered: close
                        // before anything it names is acted on.
                        tracing::warn!(reason = %reason, "media stream refused");
                        abort(&mut socket, &events, AbortReason::Unauthenticated).await;
                        return;
                    }
                    Err(e) => {
                        protocol_errors = protocol_errors.saturating_add(1);
                        StreamEvent::ProtocolError(cut_error(e))
                    }
                };
                if events.send(event).await.is_err() && !commands_open {
                    // The host dropped both ends: close.
                    let _ = socket.send(WsFrame::Close).await;
                    return;
                }
                if let Some(limit) = options.protocol_error_limit
                    && protocol_errors >= limit
                {
                    // Garbage, and nothing else: whoever sends it is no provider.
                    abort(&mut socket, &events, AbortReason::ProtocolErrors(protocol_errors)).await;
                    return;
                }
            }
            command = commands.recv(), if commands_open => {
                let audio_call = matches!(command, Some(Command::Audio(..) | Command::Finish));
                let mut permit = None;
                let mut push =
                    |m: WsMessage<'_>| queue.push_back(owned(m, audio_call, &mut binary_audio));
                let result = match command {
                    None => {
                        commands_open = false;
                        if events.is_closed() {
                            let _ = socket.send(WsFrame::Close).await;
                            return;
                        }
                        Ok(())
                    }
                    Some(Command::Audio(pcm, p)) => {
                        permit = p;
                        session.send_audio(&pcm, &mut push)
                    }
                    Some(Command::Mark(name)) => session.mark(&name, &mut push),
                    Some(Command::Finish) => session.finish(&mut push),
                    Some(Command::Dtmf(d)) => session.send_dtmf(&d, &mut push),
                    Some(Command::Transferring(on)) => {
                        transferring = on;
                        Ok(())
                    }
                    Some(Command::Close) => {
                        for item in queue.drain(..) {
                            let _ = socket.send(item.frame).await;
                        }
                        let _ = socket.send(WsFrame::Close).await;
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
                // The audio's budget comes back when its last frame goes out (what did not fill
                // a frame goes with a later one; with nothing queued, it is back at once).
                if let Some(p) = permit
                    && let Some(last) = queue.back_mut()
                {
                    match last.permit.as_mut() {
                        Some(held) => held.merge(p),
                        None => last.permit = Some(p),
                    }
                }
                if let Err(e) = result {
                    let _ = events.send(StreamEvent::ProtocolError(e)).await;
                }
            }
            () = sleep => {}
            () = start_timer => {}
        }
    }
}
