//! The media loop: the stream the carrier opens to the agent, the scripted caller played a
//! 20 ms frame at a time, and what the agent sends back read, played out and recorded.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use telephony::audio::{AudioFormat, Decoder, Encoder, Profile};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use super::call::Interrupt;
use super::run::interrupted;
use super::{AgentSays, Carrier, Control};
use crate::markup::StreamTarget;
use crate::record::{Happening, Violation};
use crate::script::{CallerScript, SCRIPT_RATE, resample};

/// What the caller's side of a stream holds while it runs.
struct Playback {
    queue: VecDeque<Played>,
}

enum Played {
    Audio(Vec<i16>),
    Mark(String, Message),
}

/// Runs one media stream; what interrupted it (a hang-up, a transfer's redirect), when
/// something did.
pub(super) async fn run_stream(
    carrier: &Arc<Carrier>,
    id: &str,
    target: &StreamTarget,
    script: &CallerScript,
    control: &mut mpsc::UnboundedReceiver<Control>,
) -> Option<Interrupt> {
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
                return None;
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
            return None;
        }
        Err(_) => {
            carrier.note(id, Happening::StreamFailed("timed out connecting".into()));
            return None;
        }
    };
    carrier.note(
        id,
        Happening::StreamOpened {
            url: target.url.clone(),
        },
    );
    if let Some(c) = carrier.lock().calls.get_mut(id) {
        c.stream_opened = Some(std::time::Instant::now());
    }
    let info = carrier.info(id)?;
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
            return None;
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
    let mut interrupt = None;
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
            i = interrupted(control) => {
                // A hang-up ends the stream, and so does a redirect (the call leaves the
                // stream's instructions, as Twilio's update with new TwiML does): the stop,
                // then the close.
                if let Some(stop) = dialect.stop() {
                    let _ = ws.send(stop).await;
                }
                let _ = ws.close(None).await;
                interrupt = Some(i);
                break 'stream;
            }
        }
    }
    let mut s = carrier.lock();
    if let Some(c) = s.calls.get_mut(id) {
        c.record.caller_audio.extend_from_slice(&sent);
        c.record.agent_audio.extend_from_slice(&agent_audio);
        c.record.heard.extend_from_slice(&heard);
    }
    interrupt
}
