//! One carrier-side media stream of the load generator: it connects to the agent server's
//! WebSocket as the carrier does, sends the stream's opening and then one frame of caller
//! audio every 20 ms on a real-time schedule, and checks every reply against the one the
//! agent must give, in order: how late it came, and whether any was lost or out of place.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use telephony::audio::AudioFormat;
use telephony::{MediaSession, ProviderKind, SessionConfig, SessionEvent, WsMessage};
use telephony_testkit::{ProviderMessage, ProviderStream};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a stream waits for the replies still due after its last frame.
const DRAIN: Duration = Duration::from_secs(3);

/// How long connecting and the WebSocket handshake may take.
const HANDSHAKE_WITHIN: Duration = Duration::from_secs(10);

/// How long one send may wait for the agent to take it (its socket's buffers full): an agent
/// that stops reading fails the stream instead of holding the benchmark.
const SEND_WITHIN: Duration = Duration::from_secs(2);

/// How far ahead a reply that is not the one due is looked for among those due next: found,
/// the ones it skipped are lost; not found, it is out of place (and those due stay due).
const RESYNC: usize = 50;

/// One frame period.
pub(crate) const FRAME: Duration = Duration::from_millis(20);

/// What every stream sends and must hear back: the same for all of them.
#[derive(Debug)]
pub(crate) struct Plan {
    /// The path and query the streams open.
    pub(crate) path: String,
    /// The stream's opening (Twilio `connected` and `start`, …).
    pub(crate) opening: Vec<Message>,
    /// One message per 20 ms of caller audio, cycled.
    pub(crate) frames: Vec<Message>,
    /// Frames each stream sends.
    pub(crate) count: usize,
    /// Frames at the start of each stream whose replies are not timed (the warm-up).
    pub(crate) warmup: usize,
    /// The agent's replies, in order, each with the frame after which it is due.
    pub(crate) expected: Vec<(usize, Message)>,
    /// What ends the stream, where the carrier sends something before closing.
    pub(crate) stop: Option<Message>,
}

fn message(m: ProviderMessage) -> Message {
    match m {
        ProviderMessage::Text(t) => Message::text(t),
        ProviderMessage::Binary(b) => Message::binary(b),
    }
}

impl Plan {
    /// The plan for `provider`'s streams in `format` to an echo agent at `config`, `count`
    /// frames long: the replies are those the same session makes of the same frames here.
    pub(crate) fn new(
        provider: ProviderKind,
        format: AudioFormat,
        config: SessionConfig,
        count: usize,
        warmup: usize,
    ) -> Result<Plan, String> {
        let recorded = ProviderStream::record_speech(provider, format, Duration::from_secs(10))?;
        let mut session = MediaSession::new(ProviderStream::protocol(provider, format), config);
        for m in &recorded.opening {
            session
                .handle(m.as_ws())
                .map_err(|e| format!("the stream's opening: {e}"))?;
        }
        let mut expected = Vec::with_capacity(count);
        for i in 0..count {
            let frame = &recorded.frames[i % recorded.frames.len()];
            let pcm = match session.handle(frame.as_ws()) {
                Ok(SessionEvent::Audio(pcm)) => pcm.to_vec(),
                Ok(_) => continue,
                Err(e) => return Err(format!("frame {i}: {e}")),
            };
            session
                .send_audio(&pcm, &mut |m| {
                    expected.push((
                        i,
                        match m {
                            WsMessage::Text(t) => Message::text(t.to_owned()),
                            WsMessage::Binary(b) => Message::binary(b.to_vec()),
                        },
                    ));
                })
                .map_err(|e| format!("replying to frame {i}: {e}"))?;
        }
        let mut stream = ProviderStream::new(provider, format)?;
        let _ = stream.opening();
        Ok(Plan {
            path: format!(
                "/media/{}?wire={}@{}",
                provider.id(),
                format.encoding.name(),
                format.rate.hz()
            ),
            opening: recorded.opening.into_iter().map(message).collect(),
            frames: recorded.frames.into_iter().map(message).collect(),
            count,
            warmup,
            expected,
            stop: stream.stop().map(message),
        })
    }
}

/// One stream's connection.
pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens one stream's WebSocket to the agent at `address`.
pub(crate) async fn connect(address: SocketAddr, plan: &Plan) -> Result<Socket, String> {
    let tcp = tokio::time::timeout(HANDSHAKE_WITHIN, TcpStream::connect(address))
        .await
        .map_err(|_| format!("connecting to {address}: no answer within {HANDSHAKE_WITHIN:?}"))?
        .map_err(|e| format!("connecting to {address}: {e}"))?;
    // A carrier's media server sends each frame as it has it.
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let request = format!("ws://{address}{}", plan.path)
        .into_client_request()
        .map_err(|e| e.to_string())?;
    // A few frames at a time, as the agent reads (tungstenite zero-fills its whole read
    // buffer before each read: its default 128 KiB would cost the generator more than the
    // frames).
    let config = WebSocketConfig::default().read_buffer_size(4 << 10);
    let handshake = tokio_tungstenite::client_async_with_config(
        request,
        MaybeTlsStream::Plain(tcp),
        Some(config),
    );
    let (socket, _) = tokio::time::timeout(HANDSHAKE_WITHIN, handshake)
        .await
        .map_err(|_| format!("no WebSocket handshake within {HANDSHAKE_WITHIN:?}"))?
        .map_err(|e| format!("WebSocket handshake: {e}"))?;
    Ok(socket)
}

/// What one stream saw.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    /// Each timed reply's turnaround, in microseconds: from its frame's send to its arrival.
    pub(crate) turnaround_us: Vec<u32>,
    /// How late each frame went out against its schedule, in microseconds: the generator's
    /// own delay, which says whether it kept up.
    pub(crate) send_late_us: Vec<u32>,
    /// Replies that came, in place.
    pub(crate) received: usize,
    /// Replies due to frames that were sent, that never came (or were skipped by a later one).
    pub(crate) lost: usize,
    /// Replies that came but were not any of those due next (reordered, or altered).
    pub(crate) misplaced: usize,
    /// Why the stream failed, if it did.
    pub(crate) error: Option<String>,
}

/// `d` in whole microseconds, saturating.
pub(crate) fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

/// Runs one stream on `socket`: the opening at `start`, frame `k` at `start + 20 ms · (k+1)`.
pub(crate) async fn run(mut socket: Socket, plan: Arc<Plan>, start: Instant) -> Seen {
    let mut seen = Seen {
        turnaround_us: Vec::with_capacity(plan.expected.len()),
        send_late_us: Vec::with_capacity(plan.count),
        ..Seen::default()
    };
    let mut sent_at: Vec<Instant> = Vec::with_capacity(plan.count);
    tokio::time::sleep_until(start).await;
    for m in &plan.opening {
        if let Err(e) = send(&mut socket, m.clone()).await {
            seen.error = Some(format!("sending the opening: {e}"));
            return seen;
        }
    }
    let mut next = 0usize;
    let mut due = 0usize;
    // One timer, moved to each frame's time (then to the end of the drain), rather than a
    // new one each time round.
    let mut send_at = start + FRAME;
    let timer = tokio::time::sleep_until(send_at);
    tokio::pin!(timer);
    while due < plan.expected.len() {
        tokio::select! {
            biased;
            incoming = socket.next() => {
                let m = match incoming {
                    Some(Ok(m)) => m,
                    Some(Err(e)) => {
                        seen.error = Some(format!("reading: {e}"));
                        break;
                    }
                    None => {
                        seen.error = Some("the agent closed the socket".into());
                        break;
                    }
                };
                if !matches!(m, Message::Text(_) | Message::Binary(_)) {
                    continue;
                }
                let now = Instant::now();
                // The reply due, or one a little further on (those skipped are lost), or
                // none of them (out of place).
                let Some(k) = skipped(&plan.expected, due, &m) else {
                    // Not one of those due next (an extra reply, or one that came after
                    // those behind it): counted, and the replies due stay due.
                    seen.misplaced += 1;
                    continue;
                };
                seen.lost += k;
                due += k;
                let (after, _) = &plan.expected[due];
                seen.received += 1;
                if *after >= plan.warmup
                    && let Some(sent) = sent_at.get(*after)
                {
                    seen.turnaround_us.push(micros(now - *sent));
                }
                due += 1;
            }
            () = &mut timer => {
                if next == plan.count {
                    // The drain is over: what has not come is lost.
                    break;
                }
                let now = Instant::now();
                seen.send_late_us.push(micros(now.saturating_duration_since(send_at)));
                sent_at.push(now);
                let frame = plan.frames[next % plan.frames.len()].clone();
                next += 1;
                send_at = if next == plan.count {
                    now + DRAIN
                } else {
                    start + FRAME * (next as u32 + 1)
                };
                timer.as_mut().reset(send_at);
                if let Err(e) = send(&mut socket, frame).await {
                    seen.error = Some(format!("sending frame {next}: {e}"));
                    // It did not go out: its reply is not owed.
                    next -= 1;
                    break;
                }
            }
        }
    }
    // What never came, of the replies to frames that went out (a stream that failed did not
    // send the rest: its error says so).
    seen.lost += plan.expected[due.min(plan.expected.len())..]
        .iter()
        .filter(|(after, _)| *after < next)
        .count();
    if let Some(stop) = &plan.stop {
        let _ = send(&mut socket, stop.clone()).await;
    }
    let _ = send(&mut socket, Message::Close(None)).await;
    seen
}

/// Where reply `m` stands against those due from `due` on: how many due before it it skips
/// (0: it is the one due), or `None` when it is none of the next [`RESYNC`].
fn skipped(expected: &[(usize, Message)], due: usize, m: &Message) -> Option<usize> {
    expected
        .get(due..)?
        .iter()
        .take(RESYNC)
        .position(|(_, reply)| m == reply)
}

/// Sends `m`, failing when the agent does not take it within [`SEND_WITHIN`].
async fn send(socket: &mut Socket, m: Message) -> Result<(), String> {
    match tokio::time::timeout(SEND_WITHIN, socket.send(m)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!(
            "the agent took nothing for {SEND_WITHIN:?} (it stopped reading)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replies(n: usize) -> Vec<(usize, Message)> {
        (0..n)
            .map(|i| (i, Message::text(format!("r{i}"))))
            .collect()
    }

    /// Counts a stream's replies as `run` does: (received, lost, misplaced).
    fn count(expected: &[(usize, Message)], arrived: &[&str]) -> (usize, usize, usize) {
        let (mut due, mut received, mut lost, mut misplaced) = (0, 0, 0, 0);
        for a in arrived {
            match skipped(expected, due, &Message::text(*a)) {
                Some(k) => {
                    lost += k;
                    due += k + 1;
                    received += 1;
                }
                None => misplaced += 1,
            }
        }
        lost += expected.len().saturating_sub(due);
        (received, lost, misplaced)
    }

    #[test]
    fn replies_are_placed_against_those_due() {
        let expected = replies(6);
        assert_eq!(
            count(&expected, &["r0", "r1", "r2", "r3", "r4", "r5"]),
            (6, 0, 0)
        );
        // One lost: the rest still in place.
        assert_eq!(count(&expected, &["r0", "r2", "r3", "r4", "r5"]), (5, 1, 0));
        // One extra: counted, the rest still in place.
        assert_eq!(
            count(&expected, &["r0", "junk", "r1", "r2", "r3", "r4", "r5"]),
            (6, 0, 1)
        );
        // Two swapped: the first skips one (lost), the late one is out of place; no cascade.
        assert_eq!(
            count(&expected, &["r1", "r0", "r2", "r3", "r4", "r5"]),
            (5, 1, 1)
        );
        // The tail never came.
        assert_eq!(count(&expected, &["r0", "r1"]), (2, 4, 0));
        // Past the end: out of place, no panic.
        assert_eq!(skipped(&expected, 9, &Message::text("r0")), None);
    }
}
