//! The agent the examples' media WebSockets run: it greets the caller with a chime, hears
//! what they say ([`Ear`]), says each utterance back once they pause, and ends the call
//! through the API when the stream drops.

use std::sync::Arc;

use serde_json::json;
use telephony::TelephonyProvider;
use telephony::audio::SampleRate;
use telephony::stream::{MediaSender, StreamEvent};

use super::{App, Brain, Log, MAX_UTTERANCE};

fn rms(pcm: &[i16]) -> f64 {
    if pcm.is_empty() {
        return 0.0;
    }
    (pcm.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / pcm.len() as f64).sqrt()
}

/// What the echo heard the caller say.
#[derive(Debug)]
pub struct Utterance {
    /// The first [`MAX_UTTERANCE`] of it, and the pause after.
    pub pcm: Vec<i16>,
    /// Samples past the cap, dropped.
    pub dropped: usize,
}

/// The echo's ear: gathers what the caller says from the first loud frame, and hands it back
/// once they pause for 300 ms.
#[derive(Debug)]
pub struct Ear {
    rate: usize,
    max: usize,
    utterance: Vec<i16>,
    dropped: usize,
    quiet: usize,
    speaking: bool,
}

impl Ear {
    /// An ear for PCM at `rate`.
    pub fn new(rate: SampleRate) -> Ear {
        let rate = rate.hz() as usize;
        Ear {
            rate,
            max: rate * MAX_UTTERANCE.as_secs() as usize,
            utterance: Vec::new(),
            dropped: 0,
            quiet: 0,
            speaking: false,
        }
    }

    /// Hears `pcm`; the utterance, once the caller has paused after it.
    pub fn hear(&mut self, pcm: &[i16]) -> Option<Utterance> {
        let loud = rms(pcm) > 300.0;
        if loud {
            self.speaking = true;
            self.quiet = 0;
        }
        if !self.speaking {
            return None;
        }
        // At most MAX_UTTERANCE is kept, the rest dropped (and counted): the caller (or
        // whoever opened the socket, at any rate it likes) decides how long it talks, and
        // an utterance without a cap grew to 1.5 GB in 30 s of loud audio. The pause still
        // counts, so the reply comes.
        let room = self.max - self.utterance.len();
        let keep = pcm.len().min(room);
        self.utterance.extend_from_slice(&pcm[..keep]);
        self.dropped += pcm.len() - keep;
        if !loud {
            self.quiet += pcm.len();
        }
        if self.quiet * 1000 < 300 * self.rate {
            return None;
        }
        self.speaking = false;
        self.quiet = 0;
        Some(Utterance {
            pcm: std::mem::take(&mut self.utterance),
            dropped: std::mem::take(&mut self.dropped),
        })
    }
}

/// A chime: two short tones.
fn chime(rate: SampleRate) -> Vec<i16> {
    let r = f64::from(rate.hz());
    let tone = |f: f64, ms: f64| -> Vec<i16> {
        let n = (r * ms / 1000.0) as usize;
        (0..n)
            .map(|i| {
                let env = (std::f64::consts::PI * i as f64 / n as f64).sin();
                ((2.0 * std::f64::consts::PI * f * i as f64 / r).sin() * 6000.0 * env) as i16
            })
            .collect()
    };
    let mut out = tone(660.0, 150.0);
    out.extend(vec![0; (r * 0.05) as usize]);
    out.extend(tone(880.0, 200.0));
    out
}

pub(super) async fn talk(
    app: App,
    provider_api: Arc<dyn TelephonyProvider>,
    mut events: telephony::stream::MediaEvents,
    sender: MediaSender,
) {
    let provider = provider_api.kind();
    let mut recorded: Vec<i16> = Vec::new();
    let mut sent: Vec<usize> = Vec::new();
    let rate = app.app_rate.hz() as usize;
    let mut call = String::new();
    let mut ear = Ear::new(app.app_rate);
    let mut replies = 0u32;
    let mut heard = 0usize;
    let log = |app: &App, call: &str, line: Log| {
        let mut line = line;
        line["provider"] = provider.id().into();
        line["call"] = call.into();
        app.log(line);
    };
    while let Some(event) = events.next().await {
        match event {
            StreamEvent::Started(start) => {
                call = start
                    .call_id
                    .as_ref()
                    .map(|c| c.as_str().to_owned())
                    .unwrap_or_default();
                let params: serde_json::Map<String, serde_json::Value> = start
                    .parameters
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone().into()))
                    .collect();
                // Known before anyone reads the start: a transfer or keys may follow at once.
                app.senders
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(call.clone(), sender.clone());
                log(
                    &app,
                    &call,
                    json!({"event": "started", "format": format!("{}@{}", start.format.encoding.name(), start.format.rate.hz()), "parameters": params}),
                );
                match app.brain.as_ref() {
                    Brain::Echo => {
                        let greeting = chime(app.app_rate);
                        sent.push(greeting.len());
                        let _ = sender.audio(greeting).await;
                        let _ = sender.finish().await;
                        let _ = sender.mark("greeting").await;
                    }
                    Brain::Script { audio, marks } => {
                        let mut at = 0;
                        for (offset, name) in marks {
                            let end = (*offset).min(audio.len());
                            sent.push(end - at);
                            let _ = sender.audio(audio[at..end].to_vec()).await;
                            let _ = sender.finish().await;
                            let _ = sender.mark(name.clone()).await;
                            at = end;
                        }
                        if at < audio.len() {
                            sent.push(audio.len() - at);
                            let _ = sender.audio(audio[at..].to_vec()).await;
                            let _ = sender.finish().await;
                        }
                    }
                }
            }
            StreamEvent::Audio(pcm) => {
                heard += pcm.len();
                if app.record_audio {
                    recorded.extend_from_slice(&pcm);
                }
                if !matches!(app.brain.as_ref(), Brain::Echo) {
                    continue;
                }
                if let Some(utterance) = ear.hear(&pcm) {
                    // The caller paused: play back what they said, then a mark.
                    replies += 1;
                    let mut line = json!({"event": "reply", "n": replies, "ms": utterance.pcm.len() * 1000 / rate});
                    if utterance.dropped > 0 {
                        line["dropped_ms"] = (utterance.dropped * 1000 / rate).into();
                    }
                    log(&app, &call, line);
                    sent.push(utterance.pcm.len());
                    let _ = sender.audio(utterance.pcm).await;
                    let _ = sender.finish().await;
                    let _ = sender.mark(format!("reply-{replies}")).await;
                }
            }
            StreamEvent::Dtmf { digit, .. } => {
                log(
                    &app,
                    &call,
                    json!({"event": "dtmf", "digit": digit.to_string()}),
                );
                if matches!(app.brain.as_ref(), Brain::Script { .. }) {
                    let _ = sender.clear().await;
                }
            }
            StreamEvent::MarkPlayed(name) => {
                log(&app, &call, json!({"event": "mark_played", "name": name}));
            }
            StreamEvent::MarkCleared(name) => {
                log(&app, &call, json!({"event": "mark_cleared", "name": name}));
            }
            StreamEvent::Cleared => log(&app, &call, json!({"event": "cleared"})),
            StreamEvent::Stopped => log(&app, &call, json!({"event": "stopped"})),
            StreamEvent::Connected => {}
            StreamEvent::Unknown(e) => log(&app, &call, json!({"event": "unknown", "name": e})),
            StreamEvent::ProtocolError(e) => log(
                &app,
                &call,
                json!({"event": "protocol_error", "detail": e.to_string()}),
            ),
            StreamEvent::Closed => {
                log(
                    &app,
                    &call,
                    json!({"event": "closed", "heard_ms": heard * 1000 / rate}),
                );
                break;
            }
            StreamEvent::Dropped(reason) => {
                log(
                    &app,
                    &call,
                    json!({"event": "closed", "heard_ms": heard * 1000 / rate, "dropped": true}),
                );
                // The connection went away without the provider ending the stream: the call
                // may still be up, and billing. End it through the API, when the stream
                // proved it is that call's (the session requires its token: a `Started`
                // came only after the token checked out).
                if !call.is_empty() {
                    hang_up_dropped(&app, provider_api.as_ref(), &call, &reason).await;
                }
                break;
            }
            StreamEvent::Transferred => {
                log(
                    &app,
                    &call,
                    json!({"event": "closed", "heard_ms": heard * 1000 / rate, "transferred": true}),
                );
                break;
            }
            StreamEvent::Aborted(reason) => {
                // The loop cut the peer off (no start in time, or garbage). Its start, if it
                // sent one, proves nothing: no hang-up of the call it named.
                log(
                    &app,
                    &call,
                    json!({"event": "closed", "heard_ms": heard * 1000 / rate, "aborted": reason.to_string()}),
                );
                break;
            }
            _ => {}
        }
    }
    app.senders
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&call);
    if app.record_audio {
        app.recordings
            .sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(call.clone(), sent);
        app.recordings
            .audio
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(call, recorded);
    }
}

/// The stream dropped: say so, and end the call through the API (the answer document may
/// have ended it already, which is success too).
async fn hang_up_dropped(app: &App, provider: &dyn TelephonyProvider, call: &str, reason: &str) {
    let kind = provider.kind().id();
    let Ok(id) = telephony::CallId::new(call) else {
        app.log(json!({"event": "dropped", "provider": kind, "call": call, "reason": reason, "hangup": "no call id on the stream"}));
        return;
    };
    let outcome = match provider.hangup(&id).await {
        Ok(telephony::HangupOutcome::Ended) => "ended".to_owned(),
        Ok(telephony::HangupOutcome::Canceled) => "canceled".to_owned(),
        Ok(telephony::HangupOutcome::AlreadyEnded) => "already ended".to_owned(),
        Ok(_) => "done".to_owned(),
        Err(e) => format!("failed: {e}"),
    };
    app.log(json!({"event": "dropped", "provider": kind, "call": call, "reason": reason, "hangup": outcome}));
}
