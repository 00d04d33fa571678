//! A call's life once placed: ringing, the answer, then its instructions (what it says,
//! streams, dials, rooms and recordings), and what interrupts them: a hang-up, a transfer's
//! new instructions, the far end leaving.

use std::sync::Arc;
use std::time::{Duration, Instant};

use telephony::{Decimal, Url};
use tokio::sync::mpsc;

use super::call::{AnswerWith, Dial, Interrupt, Next, Phase};
use super::media::run_stream;
use super::{Carrier, Control, DialOutcome, Hooks};
use crate::markup::{DialTarget, Instruction, Room};
use crate::record::{Callee, Happening, Violation};
use crate::script::CallerScript;

/// How long a call announced to the host waits for its answer command, in call time, before
/// the carrier hangs it up.
const FIRST_COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// The next control that interrupts what a call is doing (an answer command means nothing
/// once answered).
pub(super) async fn interrupted(control: &mut mpsc::UnboundedReceiver<Control>) -> Interrupt {
    loop {
        match control.recv().await {
            Some(Control::Hangup) => return Interrupt::HungUp,
            Some(Control::Redirect(next)) => return Interrupt::Redirect(next),
            Some(Control::Answer(_) | Control::Reject) => {}
            // Nobody can interrupt the call any more.
            None => std::future::pending::<()>().await,
        }
    }
}

/// Waits `call_time` (at the emulator's speed) unless the call is interrupted meanwhile.
async fn wait(
    carrier: &Carrier,
    call_time: Duration,
    control: &mut mpsc::UnboundedReceiver<Control>,
) -> Option<Interrupt> {
    let wall = carrier.wall(call_time);
    tokio::select! {
        () = tokio::time::sleep(wall) => None,
        i = interrupted(control) => Some(i),
    }
}

/// Announces a call at `url` and waits for its answer command: the document, or `None` when
/// the call ended meanwhile (rejected, hung up, or left unanswered past
/// [`FIRST_COMMAND_TIMEOUT`]), its last phase set.
async fn await_answer_command(
    carrier: &Carrier,
    id: &str,
    url: &Url,
    control: &mut mpsc::UnboundedReceiver<Control>,
) -> Option<String> {
    let info = carrier.info(id)?;
    let hook = carrier.dialect.answer_request(&info, url, "POST");
    let reply = carrier.send(&hook).await;
    carrier.note(
        id,
        Happening::Answered {
            url: url.to_string(),
            status: reply.as_ref().map(|(s, _)| *s),
        },
    );
    let deadline = tokio::time::sleep(carrier.wall(FIRST_COMMAND_TIMEOUT));
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            () = &mut deadline => {
                carrier.phase(id, Phase::Failed).await;
                return None;
            }
            c = control.recv() => match c {
                Some(Control::Answer(doc)) => return Some(doc),
                Some(Control::Reject) => {
                    carrier.phase(id, Phase::Failed).await;
                    return None;
                }
                Some(Control::Hangup) | None => {
                    carrier.note(id, Happening::HungUp);
                    carrier.phase(id, Phase::Canceled).await;
                    return None;
                }
                // Nothing to redirect before the answer.
                Some(Control::Redirect(_)) => {}
            }
        }
    }
}

pub(super) async fn run_call(
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
    if wait(&carrier, ring, &mut control).await.is_some() {
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
    let commanded = match &dial.answer {
        AnswerWith::Command(url) => {
            match await_answer_command(&carrier, &id, url, &mut control).await {
                Some(doc) => Some(doc),
                None => return,
            }
        }
        _ => None,
    };
    let answered_at = Instant::now();
    carrier.phase(&id, Phase::Answered).await;
    if let Some(mode) = dial.amd {
        carrier.detect_machine(&id, mode, callee);
    }
    if let Some(request) = &dial.record {
        carrier.start_recording(&id, request);
    }
    let mut next = match &dial.answer {
        AnswerWith::Command(_) => commanded.map(Next::Document),
        AnswerWith::Inline(doc) => {
            carrier.note(
                &id,
                Happening::Answered {
                    url: "inline".into(),
                    status: None,
                },
            );
            Some(Next::Document(doc.clone()))
        }
        AnswerWith::Url(url, method) => Some(Next::Url(url.clone(), method.clone())),
        AnswerWith::Instructions(i) => Some(Next::Instructions(i.clone())),
    };
    while let Some(n) = next.take() {
        let instructions = resolve(&carrier, &id, n).await;
        match run_instructions(&carrier, &id, instructions, &script, &mut control).await {
            None => {}
            Some(Interrupt::Redirect(n)) => {
                carrier.note(&id, Happening::Redirected);
                next = Some(n);
            }
            Some(Interrupt::HungUp) => carrier.note(&id, Happening::HungUp),
            Some(Interrupt::Left) => {}
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
    carrier.stop_recording(&id, None);
    carrier.phase(&id, Phase::Completed).await;
    carrier.finish_recordings(&id).await;
}

/// The instructions `next` names: a document read, one fetched (its fetch noted), or given.
async fn resolve(carrier: &Carrier, id: &str, next: Next) -> Vec<Instruction> {
    let document = match next {
        Next::Instructions(i) => return i,
        Next::Document(doc) => Some(doc),
        Next::Url(url, method) => match carrier.info(id) {
            Some(info) => {
                let hook = carrier.dialect.answer_request(&info, &url, &method);
                let answer = carrier.send(&hook).await;
                carrier.note(
                    id,
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
        },
    };
    match document.map(|d| carrier.dialect.parse_answer(&d)) {
        Some(Ok(i)) => i,
        Some(Err(e)) => {
            carrier.note(
                id,
                Happening::Violation(Violation::Malformed(format!("answer: {e}"))),
            );
            Vec::new()
        }
        None => Vec::new(),
    }
}

/// Runs instructions in order; what interrupted them, if anything did.
async fn run_instructions(
    carrier: &Arc<Carrier>,
    id: &str,
    instructions: Vec<Instruction>,
    script: &CallerScript,
    control: &mut mpsc::UnboundedReceiver<Control>,
) -> Option<Interrupt> {
    for instruction in instructions {
        let interrupt = match instruction {
            Instruction::Say(text) => {
                let length = Duration::from_millis(60 * text.chars().count() as u64);
                carrier.note(id, Happening::Said(text));
                wait(carrier, length, control).await
            }
            Instruction::Play(url) => {
                carrier.note(id, Happening::Said(format!("play:{url}")));
                wait(carrier, Duration::from_secs(2), control).await
            }
            Instruction::Digits(digits) => {
                carrier.dtmf_to_far_end(id, &digits);
                // Half a second a key, as carriers play them with their pauses.
                wait(
                    carrier,
                    Duration::from_millis(160 * digits.len() as u64),
                    control,
                )
                .await
            }
            Instruction::Pause(d) => wait(carrier, d, control).await,
            Instruction::Stream(target) => run_stream(carrier, id, &target, script, control).await,
            Instruction::Hangup => return None,
            Instruction::Dial(target) => dial(carrier, id, &target, control).await,
            Instruction::Conference(room) => in_room(carrier, id, &room, control).await,
            Instruction::Record(request) => {
                carrier.start_recording(id, &request);
                None
            }
            Instruction::Other(_) => None,
        };
        if interrupt.is_some() {
            return interrupt;
        }
    }
    None
}

/// Sits in a room until it ends, the call is interrupted, or (for the member that started
/// it: the person a call was transferred to) its stay is over.
async fn in_room(
    carrier: &Arc<Carrier>,
    id: &str,
    room: &Room,
    control: &mut mpsc::UnboundedReceiver<Control>,
) -> Option<Interrupt> {
    let mut changed = carrier.join_room(&room.name, id, room.start_on_enter);
    carrier.note(id, Happening::JoinedRoom(room.name.clone()));
    let stay = carrier.lock().settings.room_stay;
    let stay = carrier.wall(stay);
    let mut bridged = false;
    let mut leave_at: Option<tokio::time::Instant> = None;
    loop {
        if carrier.room_ended(&room.name) {
            carrier.leave_room(&room.name, id, false);
            return None;
        }
        match carrier.bridged_with(&room.name, id) {
            Some(others) if !bridged => {
                bridged = true;
                let with = others.first().cloned().unwrap_or_default();
                carrier.note(id, Happening::Bridged { with: with.clone() });
                if let Some(info) = carrier.info(id)
                    && let Some(hook) = carrier.dialect.bridged_request(&info, &with)
                {
                    let _ = carrier.send(&hook).await;
                }
                if room.start_on_enter {
                    leave_at = Some(tokio::time::Instant::now() + stay);
                }
            }
            None if bridged => {
                // The others left: nobody to talk to.
                carrier.leave_room(&room.name, id, room.end_on_exit);
                return None;
            }
            _ => {}
        }
        let until = async {
            match leave_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = changed.changed() => {
                if r.is_err() {
                    carrier.leave_room(&room.name, id, room.end_on_exit);
                    return None;
                }
            }
            i = interrupted(control) => {
                carrier.leave_room(&room.name, id, room.end_on_exit);
                return Some(i);
            }
            () = until => {
                carrier.leave_room(&room.name, id, room.end_on_exit);
                return Some(Interrupt::Left);
            }
        }
    }
}

/// Dials `target` on a new leg and bridges it (a cold transfer): the leg rings as its number's
/// callee does, and once it answers both sit in a room of their own until one leaves. The
/// dial's `action`, where it has one, gets the outcome, and its reply is the call's next
/// document.
async fn dial(
    carrier: &Arc<Carrier>,
    id: &str,
    target: &DialTarget,
    control: &mut mpsc::UnboundedReceiver<Control>,
) -> Option<Interrupt> {
    let info = carrier.info(id)?;
    let (leg, secondary) = carrier.dialect.leg_ids(carrier.next_seq());
    let from = target.caller_id.clone().unwrap_or_else(|| {
        if info.inbound {
            info.to.clone()
        } else {
            info.from.clone()
        }
    });
    let room = Room {
        name: format!("dial-{leg}"),
        start_on_enter: false,
        end_on_exit: true,
        hold: None,
    };
    let leg_room = Room {
        start_on_enter: true,
        ..room.clone()
    };
    let (_, mut done) = carrier.place(Dial {
        id: leg.clone(),
        secondary_id: secondary,
        from,
        to: target.to.clone(),
        inbound: false,
        answer: AnswerWith::Instructions(vec![Instruction::Conference(leg_room)]),
        hooks: Hooks {
            status_url: target.leg_status.clone(),
            status_method: Some("POST".into()),
            status_events: target.leg_events.clone(),
            ..Hooks::default()
        },
        ring_timeout: target.timeout,
        parent: Some(id.to_owned()),
        amd: None,
        record: None,
    });
    let mut phase = carrier.watch_phase(&leg)?;
    let answered = loop {
        let now = *phase.borrow_and_update();
        match now {
            Some(Phase::Answered) => break true,
            Some(p) if p.is_final() => break false,
            _ => {}
        }
        tokio::select! {
            r = phase.changed() => if r.is_err() { break false },
            i = interrupted(control) => {
                carrier.hangup(&leg);
                return Some(i);
            }
        }
    };
    if answered && let Some(i) = in_room(carrier, id, &room, control).await {
        carrier.hangup(&leg);
        return Some(i);
    }
    let _ = done.wait_for(|d| *d).await;
    let (last, seconds) = {
        let s = carrier.lock();
        let c = s.calls.get(&leg)?;
        (
            c.phase.borrow().unwrap_or(Phase::Failed),
            c.info.duration_secs.unwrap_or(0),
        )
    };
    let outcome = DialOutcome {
        leg: leg.clone(),
        phase: last,
        answered,
        duration_secs: seconds,
    };
    carrier.note(
        id,
        Happening::Dialed {
            to: target.to.clone(),
            leg,
            outcome: carrier.dialect.raw_status(last).to_owned(),
        },
    );
    let (url, method) = target.action.as_ref()?;
    let info = carrier.info(id)?;
    let hook = carrier
        .dialect
        .dial_action_request(&info, &outcome, url, method)?;
    let reply = carrier.send(&hook).await;
    carrier.note(
        id,
        Happening::Callback {
            event: "dial-action".into(),
            answered: reply.as_ref().map(|(s, _)| *s),
        },
    );
    match reply {
        Some((status, body)) if (200..300).contains(&status) && !body.trim().is_empty() => {
            Some(Interrupt::Redirect(Next::Document(body)))
        }
        _ => None,
    }
}
