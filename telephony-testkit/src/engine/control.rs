//! Call control in the emulated carrier: rooms (conferences) whose members are bridged,
//! recordings of what was said on a call (real WAV files), answering-machine detection with a
//! scripted verdict at a realistic time, and DTMF that reaches the far end.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use telephony::Url;
use telephony::audio::SampleRate;
use tokio::sync::watch;

use super::Carrier;
use crate::markup::RecordRequest;
use crate::record::{Callee, Happening};
use crate::script::wav_bytes;

/// A room: who is in it, whether it started (its members bridged), whether it ended.
#[derive(Debug)]
pub(crate) struct RoomState {
    pub(crate) members: Vec<String>,
    pub(crate) started: bool,
    pub(crate) ended: bool,
    /// Bumped on every change, so members waiting in the room wake.
    pub(crate) changed: watch::Sender<u64>,
}

/// A recording of a call, from its start (call time from the stream's opening) to its stop.
#[derive(Debug, Clone)]
pub struct Recording {
    /// The carrier's id for it.
    pub id: String,
    /// The call.
    pub call_id: String,
    /// 1 (both parties mixed) or 2 (the caller left, the agent right).
    pub channels: u8,
    /// The format asked for (the file is always WAV).
    pub format: String,
    /// Where it is announced.
    pub callback: Option<Url>,
    /// When it started and stopped (wall time).
    pub(crate) started: Instant,
    pub(crate) stopped: Option<Instant>,
    /// When it started (for the carrier's timestamps).
    pub started_at: SystemTime,
    /// The file, once the call's audio is in.
    pub wav: Option<Arc<Vec<u8>>>,
    /// How long it is, once finished.
    pub duration: Option<Duration>,
    /// Its rate, once finished.
    pub rate: Option<SampleRate>,
    /// Whether it was deleted.
    pub deleted: bool,
}

/// Machine detection asked for on a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AmdMode {
    /// Human or machine, as soon as known.
    Detect,
    /// For a machine, wait for its greeting to end (a beep, or silence).
    GreetingEnd,
}

/// A machine-detection result the carrier reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AmdVerdict {
    Human,
    Machine,
    /// The greeting ended with a beep.
    MachineEndBeep,
    /// The greeting ended without one.
    MachineEndSilence,
}

/// When detection reports, in call time from the answer: a person says "Hello?" and pauses
/// (the speech-end threshold, Twilio's default 1.2 s, after about a second of speech); a
/// machine speaks past the speech threshold (2.4 s); its greeting ends with the beep.
pub(crate) const HUMAN_VERDICT: Duration = Duration::from_millis(2200);
pub(crate) const MACHINE_VERDICT: Duration = Duration::from_millis(2400);
pub(crate) const GREETING_END: Duration = Duration::from_millis(4500);

impl Carrier {
    /// Joins `call` to `room`; `start` starts it. The room's state watch, to wait on.
    pub(crate) fn join_room(&self, room: &str, call: &str, start: bool) -> watch::Receiver<u64> {
        let mut s = self.lock();
        let r = s.rooms.entry(room.to_owned()).or_insert_with(|| RoomState {
            members: Vec::new(),
            started: false,
            ended: false,
            changed: watch::channel(0).0,
        });
        if r.ended {
            // A room that ended is made anew by the next member, as conferences are.
            r.members.clear();
            r.ended = false;
            r.started = false;
        }
        if !r.members.iter().any(|m| m == call) {
            r.members.push(call.to_owned());
        }
        r.started |= start;
        r.changed.send_modify(|v| *v += 1);
        r.changed.subscribe()
    }

    /// Whether `room` has started with more than one member, and who else is in it.
    pub(crate) fn bridged_with(&self, room: &str, call: &str) -> Option<Vec<String>> {
        let s = self.lock();
        let r = s.rooms.get(room)?;
        let others: Vec<String> = r.members.iter().filter(|m| *m != call).cloned().collect();
        (r.started && !r.ended && !others.is_empty()).then_some(others)
    }

    /// Whether `room` has ended.
    pub(crate) fn room_ended(&self, room: &str) -> bool {
        self.lock().rooms.get(room).is_none_or(|r| r.ended)
    }

    /// `call` leaves `room`; with `end`, the room ends for everyone.
    pub(crate) fn leave_room(&self, room: &str, call: &str, end: bool) {
        let mut s = self.lock();
        if let Some(r) = s.rooms.get_mut(room) {
            r.members.retain(|m| m != call);
            if end || r.members.is_empty() {
                r.ended = true;
            }
            r.changed.send_modify(|v| *v += 1);
        }
    }

    /// Starts recording `call` now; its id, or `None` when the call is not live.
    pub(crate) fn start_recording(&self, call: &str, request: &RecordRequest) -> Option<String> {
        let seq = self.next_seq();
        let id = self.dialect.recording_id(seq);
        let mut s = self.lock();
        let live = s
            .calls
            .get(call)
            .is_some_and(|c| !c.record.is_over() && c.info.answered);
        if !live {
            return None;
        }
        s.recordings.insert(
            id.clone(),
            Recording {
                id: id.clone(),
                call_id: call.to_owned(),
                channels: request.channels.clamp(1, 2),
                format: request.format.clone(),
                callback: request.callback.clone(),
                started: Instant::now(),
                stopped: None,
                started_at: SystemTime::now(),
                wav: None,
                duration: None,
                rate: None,
                deleted: false,
            },
        );
        s.recording_order.push(id.clone());
        drop(s);
        self.note(call, Happening::RecordingStarted(id.clone()));
        Some(id)
    }

    /// Stops `call`'s recording `id` (or all of its recordings); `false` when none was on.
    pub(crate) fn stop_recording(&self, call: &str, id: Option<&str>) -> bool {
        let mut s = self.lock();
        let mut stopped = false;
        for r in s.recordings.values_mut() {
            if r.call_id == call && r.stopped.is_none() && id.is_none_or(|i| i == r.id) {
                r.stopped = Some(Instant::now());
                stopped = true;
            }
        }
        stopped
    }

    /// A recording, by id (not deleted).
    pub(crate) fn recording(&self, id: &str) -> Option<Recording> {
        self.lock()
            .recordings
            .get(id)
            .filter(|r| !r.deleted)
            .cloned()
    }

    /// Deletes a recording; `false` when there is none.
    pub(crate) fn delete_recording(&self, id: &str) -> bool {
        let mut s = self.lock();
        match s.recordings.get_mut(id) {
            Some(r) if !r.deleted => {
                r.deleted = true;
                r.wav = None;
                true
            }
            _ => false,
        }
    }

    /// The call's recordings made into WAV files from what was said on its stream, and
    /// announced: at the call's end.
    pub(crate) async fn finish_recordings(self: &Arc<Self>, call: &str) {
        let now = Instant::now();
        let (ids, opened, rate, caller, agent) = {
            let s = self.lock();
            let Some(c) = s.calls.get(call) else { return };
            let ids: Vec<String> = s
                .recording_order
                .iter()
                .filter(|id| {
                    s.recordings
                        .get(*id)
                        .is_some_and(|r| r.call_id == call && r.wav.is_none())
                })
                .cloned()
                .collect();
            (
                ids,
                c.stream_opened,
                c.record.wire_rate.unwrap_or(SampleRate::Hz8000),
                c.record.caller_audio.clone(),
                c.record.heard.clone(),
            )
        };
        for id in ids {
            let (file, callback, duration) = {
                let mut s = self.lock();
                let frame = s.settings.frame;
                let Some(r) = s.recordings.get_mut(&id) else {
                    continue;
                };
                let stop = r.stopped.unwrap_or(now);
                r.stopped = Some(stop);
                // Offsets into the stream's audio, in samples of call time.
                let to_samples = |t: Instant| -> usize {
                    let Some(open) = opened else { return 0 };
                    let wall = t.saturating_duration_since(open);
                    let call_time = wall.mul_f64(0.02 / frame.as_secs_f64().max(1e-5));
                    (call_time.as_secs_f64() * f64::from(rate.hz())) as usize
                };
                let (a, b) = (to_samples(r.started), to_samples(stop));
                let n = caller.len().min(agent.len());
                let (a, b) = (a.min(n), b.min(n).max(a.min(n)));
                let (c, g) = (&caller[a..b], &agent[a..b]);
                let wav = if r.channels == 2 {
                    wav_bytes(&[c, g], rate)
                } else {
                    let mixed: Vec<i16> =
                        c.iter().zip(g).map(|(x, y)| x.saturating_add(*y)).collect();
                    wav_bytes(&[&mixed], rate)
                };
                let duration = Duration::from_secs_f64((b - a) as f64 / f64::from(rate.hz()));
                r.wav = Some(Arc::new(wav));
                r.duration = Some(duration);
                r.rate = Some(rate);
                (r.clone(), r.callback.clone(), duration)
            };
            self.note(
                call,
                Happening::RecordingReady {
                    id: id.clone(),
                    duration,
                },
            );
            let url = callback.or_else(|| self.info(call).and_then(|i| i.hooks.status_url));
            if let (Some(url), Some(info)) = (url, self.info(call))
                && let Some(hook) = self.dialect.recording_request(&info, &file, &url)
            {
                let answered = self.send(&hook).await.map(|(s, _)| s);
                self.note(
                    call,
                    Happening::Callback {
                        event: "recording".into(),
                        answered,
                    },
                );
            }
        }
    }

    /// Keys the far end received through the API (Plivo's, Vonage's and Telnyx's DTMF
    /// verbs): noted on the call; `false` when the call is not live.
    pub(crate) fn dtmf_to_far_end(&self, call: &str, digits: &str) -> bool {
        let live = self
            .lock()
            .calls
            .get(call)
            .is_some_and(|c| !c.record.is_over() && c.info.answered);
        if live {
            self.note(call, Happening::DtmfReceived(digits.to_owned()));
        }
        live
    }

    /// Runs machine detection on an answered call, in its own task: the verdict the callee's
    /// script gives, at the time a detector would reach it, reported by the dialect's webhook
    /// (the greeting's end as a second report where the mode waits for it).
    pub(crate) fn detect_machine(self: &Arc<Self>, call: &str, mode: AmdMode, callee: Callee) {
        let carrier = self.clone();
        let call = call.to_owned();
        tokio::spawn(async move {
            let (first, second) = match callee {
                Callee::Machine { beep } => (
                    (MACHINE_VERDICT, AmdVerdict::Machine),
                    (mode == AmdMode::GreetingEnd).then_some((
                        GREETING_END,
                        if beep {
                            AmdVerdict::MachineEndBeep
                        } else {
                            AmdVerdict::MachineEndSilence
                        },
                    )),
                ),
                _ => ((HUMAN_VERDICT, AmdVerdict::Human), None),
            };
            let started = Instant::now();
            for (at, verdict) in std::iter::once(first).chain(second) {
                let wall = carrier.wall(at);
                tokio::time::sleep(wall.saturating_sub(started.elapsed())).await;
                if carrier
                    .lock()
                    .calls
                    .get(&call)
                    .is_none_or(|c| c.record.is_over())
                {
                    return;
                }
                carrier.note(&call, Happening::MachineDetected(format!("{verdict:?}")));
                if let Some(c) = carrier.lock().calls.get_mut(&call) {
                    c.info.verdict = Some(verdict);
                }
                let Some(info) = carrier.info(&call) else {
                    return;
                };
                let url = info.hooks.amd_url.clone().or(info.hooks.status_url.clone());
                if let Some(url) = url
                    && let Some(hook) = carrier.dialect.amd_request(&info, mode, verdict, &url)
                {
                    let answered = carrier.send(&hook).await.map(|(s, _)| s);
                    carrier.note(
                        &call,
                        Happening::Callback {
                            event: format!("amd:{verdict:?}"),
                            answered,
                        },
                    );
                }
            }
        });
    }
}

/// Who is in which room, for the record.
pub(crate) type Rooms = HashMap<String, RoomState>;
