//! Telnyx's call control (telnyx-python 4.189 `types/calls/action_*_params.py`,
//! `call_dial_params.py`): what a dial asks beyond the call (machine detection, recording
//! from the answer), and the commands on a live call.
//!
//! - `transfer`: the caller waits (its stream ends) while the target rings on a new leg of the
//!   same session, with its own `webhook_url` and `target_leg_client_state`; once it answers,
//!   the two are bridged in a room of their own, and when the target hangs up the caller is
//!   hung up too. A target not reached leaves the caller's leg up, parked, as Telnyx does;
//!   a caller that leaves while the target rings cancels it (`originator_cancel`).
//! - `streaming_stop`: the stream ends (its `stop`, then the close) and the call is parked,
//!   answered, for what comes next (`streaming.stopped` is sent).
//! - `speak` and `playback_start`: what is said (or played) is noted on that call alone, and
//!   `call.speak.started`/`ended` (`call.playback.started`/`ended`) follow at the speech's
//!   length, with the `client_state` the command set.
//! - `bridge {call_control_id}`: both calls join a fresh room; the call the command is on
//!   starts it (in the emulator, the person transferred to, who talks for the talk time),
//!   and when one leaves the other is hung up (Telnyx's default without
//!   `park_after_unbridge`); each gets `call.bridged`.
//! - `record_start`/`record_stop`, `send_dtmf`: the engine's recordings and far end (the
//!   recordings API is [`super::recordings`]).

use std::time::Duration;

use axum::response::Response;
use telephony::Url;

use super::markup::parked;
use super::rest::{error, ok};
use super::{Shared, Telnyx};
use crate::engine::{AmdMode, AnswerWith, Control, Dial, Hooks, Next, Phase};
use crate::markup::{Instruction, RecordRequest, Room};
use crate::record::Happening;

/// How long a speech lasts, as the engine says text: 60 ms a character.
fn speech_length(text: &str) -> Duration {
    Duration::from_millis(60 * text.chars().count() as u64)
}

/// How long a played file lasts, as the engine plays one.
const PLAYBACK_LENGTH: Duration = Duration::from_secs(2);

/// What a dial asks beyond the call: machine detection (`detect`, `detect_words` and
/// `premium` report the verdict; `greeting_end` and `detect_beep` a machine's greeting's end
/// too), a recording from the answer.
pub(super) fn create_options(body: &serde_json::Value) -> (Option<AmdMode>, Option<RecordRequest>) {
    let amd = match body
        .get("answering_machine_detection")
        .and_then(|v| v.as_str())
    {
        Some("detect" | "detect_words" | "premium") => Some(AmdMode::Detect),
        Some("greeting_end" | "detect_beep") => Some(AmdMode::GreetingEnd),
        _ => None,
    };
    (amd, record_request(body))
}

/// A dial's or an answer's `record: record-from-answer`, with its channels (`single` unless
/// `dual`), its format, and where `call.recording.saved` goes when `webhook_urls` names it.
pub(super) fn record_request(body: &serde_json::Value) -> Option<RecordRequest> {
    let text = |k: &str| body.get(k).and_then(|v| v.as_str());
    if text("record") != Some("record-from-answer") {
        return None;
    }
    let callback = body
        .pointer("/webhook_urls/call.recording.saved/0")
        .and_then(|v| v.as_str())
        .and_then(|u| Url::parse(u).ok());
    Some(RecordRequest {
        channels: if text("record_channels") == Some("dual") {
            2
        } else {
            1
        },
        callback,
        format: text("record_format").unwrap_or("wav").to_owned(),
    })
}

impl Telnyx {
    /// Whether `id` is live.
    fn live(&self, id: &str) -> bool {
        self.carrier
            .lock()
            .calls
            .get(id)
            .is_some_and(|c| !c.record.is_over())
    }

    /// Whether `id` streams now: a stream opened, and the call has not left it since.
    fn streaming(&self, id: &str) -> bool {
        let s = self.carrier.lock();
        let Some(c) = s.calls.get(id) else {
            return false;
        };
        for m in c.record.timeline.iter().rev() {
            match m.what {
                Happening::StreamOpened { .. } => return true,
                Happening::Redirected
                | Happening::AgentClosed
                | Happening::StreamDropped
                | Happening::StreamFailed(_) => return false,
                _ => {}
            }
        }
        false
    }

    /// Sends `event_type` about `id` to its webhook URL, with its `client_state`.
    async fn send_event(&self, id: &str, event_type: &str, extra: serde_json::Value) {
        let Some(info) = self.carrier.info(id) else {
            return;
        };
        let Some(url) = info.hooks.status_url.clone() else {
            return;
        };
        let hook = self.events.event(&info, &url, event_type, extra);
        let answered = self.carrier.send(&hook).await.map(|(s, _)| s);
        self.carrier.note(
            id,
            Happening::Callback {
                event: event_type.to_owned(),
                answered,
            },
        );
    }

    /// Parks `id`: it leaves what it does (a stream ends) and waits, answered.
    fn park(&self, id: &str) -> bool {
        self.carrier
            .command(id, Control::Redirect(Next::Instructions(parked())))
    }

    /// Starts `request` once `id` (an inbound call being answered) is answered.
    pub(super) fn record_from_answer(self: &Shared, id: &str, request: RecordRequest) {
        let Some(mut phase) = self.carrier.watch_phase(id) else {
            return;
        };
        let t = self.clone();
        let id = id.to_owned();
        tokio::spawn(async move {
            let reached = phase
                .wait_for(|p| p.is_some_and(|p| p == Phase::Answered || p.is_final()))
                .await
                .map(|p| *p);
            if let Ok(Some(Phase::Answered)) = reached {
                t.carrier.start_recording(&id, &request);
            }
        });
    }

    /// Says (or plays) `what` to `id` alone, then sends `{prefix}.started` and, once it has
    /// been heard, `{prefix}.ended`.
    fn say(
        self: &Shared,
        id: &str,
        what: String,
        length: Duration,
        prefix: &'static str,
        extra: serde_json::Value,
    ) {
        self.carrier.note(id, Happening::Said(what));
        let t = self.clone();
        let id = id.to_owned();
        tokio::spawn(async move {
            t.send_event(&id, &format!("{prefix}.started"), extra.clone())
                .await;
            tokio::time::sleep(t.carrier.wall(length)).await;
            if t.live(&id) {
                let mut ended = extra;
                ended["status"] = "completed".into();
                t.send_event(&id, &format!("{prefix}.ended"), ended).await;
            }
        });
    }
}

fn missing(k: &str) -> Response {
    error(
        422,
        "10004",
        "Missing required parameter",
        &format!("The '{k}' parameter is required."),
    )
}

fn call_ended() -> Response {
    error(
        422,
        "90018",
        "Call has already ended",
        "This call is no longer active and can't receive commands.",
    )
}

/// Runs command `action` on `id`, a live and answered call.
pub(super) async fn command(
    t: &Shared,
    id: &str,
    action: &str,
    body: &serde_json::Value,
) -> Response {
    let text = |k: &str| body.get(k).and_then(|v| v.as_str());
    match action {
        "transfer" => transfer(t, id, body),
        "streaming_stop" => {
            if t.streaming(id) && t.park(id) {
                let t = t.clone();
                let id = id.to_owned();
                tokio::spawn(async move {
                    t.send_event(&id, "streaming.stopped", serde_json::json!({}))
                        .await;
                });
            }
            ok()
        }
        "speak" => {
            let Some(payload) = text("payload") else {
                return missing("payload");
            };
            t.states.set(id, text("client_state"));
            t.say(
                id,
                payload.to_owned(),
                speech_length(payload),
                "call.speak",
                serde_json::json!({}),
            );
            ok()
        }
        "playback_start" => {
            let Some(audio) = text("audio_url").or(text("media_name")) else {
                return missing("audio_url");
            };
            t.states.set(id, text("client_state"));
            t.say(
                id,
                format!("play:{audio}"),
                PLAYBACK_LENGTH,
                "call.playback",
                serde_json::json!({"media_url": audio, "overlay": false}),
            );
            ok()
        }
        "bridge" => bridge(t, id, body),
        "record_start" => {
            let (Some(channels), Some(format)) = (text("channels"), text("format")) else {
                return missing(if text("channels").is_none() {
                    "channels"
                } else {
                    "format"
                });
            };
            let request = RecordRequest {
                channels: if channels == "dual" { 2 } else { 1 },
                callback: None,
                format: format.to_owned(),
            };
            match t.carrier.start_recording(id, &request) {
                Some(_) => ok(),
                None => call_ended(),
            }
        }
        "record_stop" => {
            t.carrier.stop_recording(id, text("recording_id"));
            ok()
        }
        "send_dtmf" => {
            let Some(digits) = text("digits") else {
                return missing("digits");
            };
            let keys =
                |c: char| c.is_ascii_digit() || matches!(c, 'A'..='D' | '*' | '#' | 'w' | 'W');
            if digits.is_empty() || !digits.chars().all(keys) {
                return error(
                    422,
                    "10015",
                    "Bad request",
                    "digits may only contain 0-9, A-D, *, #, w and W.",
                );
            }
            if t.carrier.dtmf_to_far_end(id, digits) {
                ok()
            } else {
                call_ended()
            }
        }
        other => error(
            422,
            "10015",
            "Bad request",
            &format!("The emulator does not run {other}."),
        ),
    }
}

/// A room for two, `start` starting it.
fn room(name: &str, start: bool) -> Vec<Instruction> {
    vec![Instruction::Conference(Room {
        name: name.to_owned(),
        start_on_enter: start,
        end_on_exit: true,
        hold: None,
    })]
}

/// `actions/transfer`: see the module's docs.
fn transfer(t: &Shared, id: &str, body: &serde_json::Value) -> Response {
    let text = |k: &str| body.get(k).and_then(|v| v.as_str());
    let Some(to) = text("to") else {
        return missing("to");
    };
    let sip = to.starts_with("sip:") || to.starts_with("sips:");
    if !sip && telephony::E164::new(to).is_err() {
        return error(
            422,
            "10016",
            "Phone number must be in +E.164 format",
            "The 'to' parameter is invalid.",
        );
    }
    let Some(info) = t.carrier.info(id) else {
        return call_ended();
    };
    // From the call's own number of ours unless asked.
    let own = if info.inbound { &info.to } else { &info.from };
    let from = text("from").unwrap_or(own).to_owned();
    let timeout = body
        .get("timeout_secs")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(30);
    let leg_url = text("webhook_url")
        .and_then(|u| Url::parse(u).ok())
        .or(info.hooks.status_url.clone());
    let leg = format!("v3:{}", uuid::Uuid::new_v4().simple());
    let name = format!("transfer-{}", uuid::Uuid::new_v4().simple());
    t.states.set(id, text("client_state"));
    t.states.set(&leg, text("target_leg_client_state"));
    if !t.carrier.command(
        id,
        Control::Redirect(Next::Instructions(room(&name, false))),
    ) {
        return call_ended();
    }
    t.carrier.place(Dial {
        id: leg.clone(),
        secondary_id: info.secondary_id.clone(),
        from,
        to: to.to_owned(),
        inbound: false,
        answer: AnswerWith::Instructions(room(&name, true)),
        hooks: Hooks {
            status_url: leg_url,
            status_method: Some("POST".into()),
            ..Hooks::default()
        },
        ring_timeout: Some(Duration::from_secs(timeout)),
        parent: Some(id.to_owned()),
        amd: None,
        record: None,
    });
    tokio::spawn(follow_transfer(t.clone(), id.to_owned(), leg));
    ok()
}

/// A cold transfer's target leg, followed: not reached, the caller is parked (kept up);
/// the caller gone while it rings, it is cancelled.
async fn follow_transfer(t: Shared, caller: String, leg: String) {
    let (Some(mut target), Some(mut calling)) =
        (t.carrier.watch_phase(&leg), t.carrier.watch_phase(&caller))
    else {
        return;
    };
    let mut answered = false;
    loop {
        let now = *target.borrow_and_update();
        answered |= now == Some(Phase::Answered);
        if now.is_some_and(Phase::is_final) {
            if !answered {
                t.park(&caller);
            }
            return;
        }
        if calling.borrow_and_update().is_some_and(Phase::is_final) {
            t.carrier.hangup(&leg);
            return;
        }
        tokio::select! {
            r = target.changed() => if r.is_err() { return },
            r = calling.changed() => if r.is_err() { return },
        }
    }
}

/// `actions/bridge {call_control_id}`: see the module's docs.
fn bridge(t: &Shared, id: &str, body: &serde_json::Value) -> Response {
    let Some(other) = body.get("call_control_id").and_then(|v| v.as_str()) else {
        return missing("call_control_id");
    };
    if other == id {
        return error(
            422,
            "10015",
            "Bad request",
            "A call cannot be bridged with itself.",
        );
    }
    let state = {
        let s = t.carrier.lock();
        s.calls
            .get(other)
            .map(|c| (c.record.is_over(), c.info.answered))
    };
    match state {
        None => return error(404, "10005", "Resource not found", "Call not found."),
        Some((true, _)) => return call_ended(),
        Some((false, false)) => {
            return error(
                422,
                "90019",
                "Invalid call state",
                "The call to bridge with is not answered.",
            );
        }
        Some((false, true)) => {}
    }
    t.states
        .set(id, body.get("client_state").and_then(|v| v.as_str()));
    let name = format!("bridge-{}", uuid::Uuid::new_v4().simple());
    if !t
        .carrier
        .command(id, Control::Redirect(Next::Instructions(room(&name, true))))
    {
        return call_ended();
    }
    if !t.carrier.command(
        other,
        Control::Redirect(Next::Instructions(room(&name, false))),
    ) {
        return call_ended();
    }
    ok()
}
