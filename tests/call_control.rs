//! Call control through each emulated carrier, with the real adapter and the example agent:
//!
//! 1. an outbound call answered by a machine is reported as a machine, and the host hangs up;
//! 2. a second call, recorded, is answered by a person;
//! 3. the agent warm-transfers it to a number that does not answer: the transfer fails, and
//!    the caller is still with the agent (who goes on hearing them);
//! 4. the agent warm-transfers it to a person who answers: the person hears the brief (the
//!    caller never does), the two are bridged, and the agent's stream ends as a transfer;
//! 5. the recording arrives;
//! 6. the recording downloaded through the adapter is what was said on the call (its caller
//!    channel correlates with what the agent heard).

#[path = "../examples/common/mod.rs"]
mod common;
mod support;

use std::time::Duration;

use common::{AgentOptions, Log};
use support::{AnyFake, number};
use telephony::audio::SampleRate;
use telephony::{
    Brief, CallId, CallStatus, MachineDetection, RecordingChannels, RecordingFormat, RecordingId,
    RecordingOptions, Transfer,
};
use telephony_testkit::{Callee, CallerScript, parse_wav, resample};

const SPEED: f64 = 4.0;
const BRIEF: &str = "A caller about a refund.";

/// Reads the agent's log until a line matches, panicking (with what was seen) when none
/// has within 60 s.
async fn until(agent: &mut common::Agent, what: &str, mut want: impl FnMut(&Log) -> bool) -> Log {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let line = tokio::time::timeout_at(deadline, agent.log.recv())
            .await
            .unwrap_or_else(|_| panic!("waiting for {what}; saw {seen:#?}"))
            .expect("the agent runs");
        if want(&line) {
            return line;
        }
        seen.push(line);
    }
}

fn step(line: &Log) -> &str {
    line["step"]["event"].as_str().unwrap_or("")
}

/// How well `recording` matches `heard` somewhere within `max_lag` samples after its start:
/// the normalized cross-correlation at the best lag, found on 10 ms energy envelopes and
/// refined sample by sample around it.
fn correlation(recording: &[i16], heard: &[i16], rate: u32, max_lag: usize) -> f64 {
    let block = (rate / 100) as usize;
    let envelope = |x: &[i16]| -> Vec<f64> {
        x.chunks(block)
            .map(|c| (c.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / c.len() as f64).sqrt())
            .collect()
    };
    let ncc = |a: &[f64], b: &[f64]| -> f64 {
        let n = a.len().min(b.len());
        let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
        for i in 0..n {
            ab += a[i] * b[i];
            aa += a[i] * a[i];
            bb += b[i] * b[i];
        }
        if aa > 0.0 && bb > 0.0 {
            ab / (aa * bb).sqrt()
        } else {
            0.0
        }
    };
    let (er, eh) = (envelope(recording), envelope(heard));
    let lags = (max_lag / block).min(eh.len());
    let coarse = (0..lags)
        .max_by(|&x, &y| ncc(&er, &eh[x..]).total_cmp(&ncc(&er, &eh[y..])))
        .unwrap_or(0);
    let as_f = |x: &[i16]| x.iter().map(|&s| f64::from(s)).collect::<Vec<f64>>();
    let r = as_f(recording);
    let lo = (coarse * block).saturating_sub(block);
    let hi = (coarse * block + block).min(heard.len());
    (lo..hi)
        .map(|lag| ncc(&r, &as_f(&heard[lag..])))
        .fold(0.0, f64::max)
}

async fn scenario(id: &'static str) {
    let fake = AnyFake::start(id).await;
    fake.speed(SPEED);
    fake.talk_time(Duration::from_secs(2));
    let (machine, person, nobody, desk, caller_id) = (
        number("+14155550111"),
        number("+14155550100"),
        number("+14155550122"),
        number("+14155550133"),
        number("+14155550199"),
    );
    fake.callee(&machine, Callee::Machine { beep: true });
    fake.callee(&nobody, Callee::NoAnswer);
    // The person talks for 40 s: the agent echoes each phrase.
    fake.script(CallerScript::speech_like(Duration::from_secs(40)).linger(Duration::ZERO));
    let provider = fake.provider();
    let caps = provider.capabilities();
    let mut agent = common::start(AgentOptions {
        app_rate: SampleRate::Hz8000,
        record_audio: true,
        ..AgentOptions::echo(vec![provider.clone()], vec![])
    })
    .await
    .unwrap();

    eprintln!("{id}: 1. A machine answers");
    // 1. A machine answers: reported as one; the host hangs up.
    let mode = if caps.machine_detection_greeting_end {
        MachineDetection::DetectGreetingEnd
    } else {
        MachineDetection::Detect
    };
    let call = agent
        .call(provider.as_ref(), machine.clone(), caller_id.clone())
        .machine_detection(mode);
    let placed = provider.initiate_call(&call).await.unwrap();
    let verdict = until(&mut agent, "the machine's verdict", |l| {
        l["event"] == "machine"
    })
    .await;
    let answered_by = verdict["answered_by"].as_str().unwrap_or("").to_owned();
    assert!(
        ["machine", "machine-end-beep", "machine-greeting-ended"].contains(&answered_by.as_str()),
        "{id}: {verdict}"
    );
    provider.hangup(&placed.call_id).await.unwrap();
    eprintln!("{id}: hung up");
    let record = fake.wait(placed.call_id.as_str()).await.unwrap();
    assert!(record.status.is_terminal(), "{id}: {:?}", record.status);

    eprintln!("{id}: 2. A person answers");
    // 2. A person answers, and the call is recorded.
    let options = RecordingOptions::new()
        .channels(if caps.dual_channel_recording {
            RecordingChannels::Dual
        } else {
            RecordingChannels::Mono
        })
        .format(RecordingFormat::Wav)
        .callback(agent.url("status"));
    // Where the carrier cannot start a recording mid-call, the answer records it.
    let call = if caps.recording_control {
        agent.call(provider.as_ref(), person.clone(), caller_id.clone())
    } else if caps.answer_url {
        agent.recorded_call(person.clone(), caller_id.clone(), options.channels)
    } else {
        agent.stream_call(
            provider.as_ref(),
            person.clone(),
            caller_id.clone(),
            Some(options.clone()),
        )
    }
    .machine_detection(MachineDetection::Detect);
    provider.initiate_call(&call).await.unwrap();
    let started = until(&mut agent, "the person's stream", |l| {
        l["event"] == "started"
    })
    .await;
    let stream_call = CallId::new(started["call"].as_str().unwrap()).unwrap();
    let recording_started = if caps.recording_control {
        provider
            .start_recording(&stream_call, &options)
            .await
            .unwrap_or_else(|e| panic!("{id}: start recording: {e}"))
            .recording_id
    } else {
        None
    };
    let verdict = until(&mut agent, "the person's verdict", |l| {
        l["event"] == "machine"
    })
    .await;
    assert_eq!(verdict["answered_by"], "human", "{id}: {verdict}");

    eprintln!("{id}: 3. A warm transfer to nobody");
    // 3. A warm transfer to nobody: it fails, and the caller stays with the agent.
    agent
        .transfer(
            provider.as_ref(),
            &stream_call,
            Transfer::warm(nobody.clone().into(), Some(Brief::Say(BRIEF.into())))
                .caller_id(caller_id.clone())
                .timeout(Duration::from_secs(6)),
        )
        .await
        .unwrap_or_else(|e| panic!("{id}: transfer: {e}"));
    let failed = until(&mut agent, "the failed transfer", |l| {
        l["event"] == "transfer" && step(l) == "transfer_failed"
    })
    .await;
    assert_eq!(failed["step"]["reason"], "no_answer", "{id}: {failed}");
    // The agent still hears the caller: another reply after the failure, and no close.
    let next = until(&mut agent, "the agent hearing the caller again", |l| {
        l["event"] == "reply" || l["event"] == "closed"
    })
    .await;
    assert_eq!(
        next["event"], "reply",
        "{id}: the caller left the agent: {next}"
    );

    eprintln!("{id}: 4. A warm transfer to a person");
    // 4. A warm transfer to a person who answers: briefed, then bridged.
    agent
        .transfer(
            provider.as_ref(),
            &stream_call,
            Transfer::warm(desk.clone().into(), Some(Brief::Say(BRIEF.into())))
                .caller_id(caller_id.clone())
                .timeout(Duration::from_secs(10)),
        )
        .await
        .unwrap_or_else(|e| panic!("{id}: transfer: {e}"));
    eprintln!("{id}: transfer placed");
    let mut steps = Vec::new();
    let closed = until(&mut agent, "the stream's end", |l| {
        if l["event"] == "transfer" {
            steps.push(step(l).to_owned());
        }
        l["event"] == "closed" && l["call"] == started["call"]
    })
    .await;
    assert_eq!(closed["transferred"], true, "{id}: {closed}");
    // The target's answer and the bridge, in whichever order their callbacks were logged.
    let seen = |steps: &[String], s: &str| steps.iter().any(|x| x == s);
    if !(seen(&steps, "bridged") && seen(&steps, "transfer_answered")) {
        until(&mut agent, "the answer and the bridge", |l| {
            if l["event"] == "transfer" {
                steps.push(step(l).to_owned());
            }
            seen(&steps, "bridged") && seen(&steps, "transfer_answered")
        })
        .await;
    }
    assert!(
        steps.iter().any(|s| s == "transfer_answered"),
        "{id}: {steps:?}"
    );

    eprintln!("{id}: 5. The recording arrives");
    // 5. The recording arrives.
    let ready = until(&mut agent, "the recording", |l| l["event"] == "recording").await;
    let recording = RecordingId::new(
        ready["recording"]
            .as_str()
            .map(str::to_owned)
            .or(recording_started.map(String::from))
            .unwrap_or_else(|| panic!("{id}: a recording without an id: {ready}")),
    )
    .unwrap();

    eprintln!("{id}: The carrier's side");
    // The carrier's side: the caller's call ended after the bridge; the person heard the
    // brief, the caller did not.
    let calls = fake.calls();
    let target = calls
        .iter()
        .find(|c| c.to.ends_with(desk.digits()))
        .unwrap_or_else(|| panic!("{id}: the desk's leg"));
    let target = fake.wait(&target.id).await.unwrap();
    let caller = fake
        .wait(stream_call.as_str())
        .await
        .unwrap_or_else(|| panic!("{id}: the caller's call"));
    assert!(
        target.said().iter().any(|s| s.contains("refund")),
        "{id}: the person was not briefed: {:?}",
        target.timeline
    );
    assert!(
        !caller.said().iter().any(|s| s.contains("refund")),
        "{id}: the caller heard the brief: {:?}",
        caller.said()
    );
    assert!(
        !target.bridged_with().is_empty(),
        "{id}: {:?}",
        target.timeline
    );
    assert_eq!(caller.status, CallStatus::Completed, "{id}");
    let unanswered = calls
        .iter()
        .find(|c| c.to.ends_with(nobody.digits()))
        .unwrap_or_else(|| panic!("{id}: the unanswered leg"));
    assert!(
        fake.wait(&unanswered.id)
            .await
            .unwrap()
            .bridged_with()
            .is_empty(),
        "{id}"
    );

    eprintln!("{id}: 6. The recording, downloaded");
    // 6. The recording, downloaded through the adapter, is what was said on the call.
    let mut file = Vec::new();
    let bytes = provider
        .download_recording(&recording, &mut file)
        .await
        .unwrap_or_else(|e| panic!("{id}: download: {e}"));
    assert_eq!(bytes as usize, file.len());
    let (channels, rate) = parse_wav(&file).unwrap_or_else(|e| panic!("{id}: {e}"));
    let heard = agent.recordings.audio(stream_call.as_str());
    let heard = heard.unwrap_or_else(|| panic!("{id}: what the agent heard"));
    let heard = resample(&heard, SampleRate::Hz8000, rate);
    let first = &channels[0];
    assert!(
        first.len() as u32 > 2 * rate.hz(),
        "{id}: a recording of {} samples",
        first.len()
    );
    // Against the first seconds of what the agent heard (the recording starts with the
    // answer or soon after: lags up to 2 s).
    let span = (6 * rate.hz()) as usize;
    let r = correlation(
        &first[..first.len().min(span)],
        &heard[..heard.len().min(span + 2 * rate.hz() as usize)],
        rate.hz(),
        2 * rate.hz() as usize,
    );
    assert!(
        r > 0.5,
        "{id}: the recording does not match the call (r = {r:.2})"
    );
    eprintln!(
        "{id}: machine {answered_by}; transfer steps {steps:?}; recording {} channel(s), {bytes} bytes, r = {r:.2}",
        channels.len()
    );
    if caps.recording_delete {
        provider.delete_recording(&recording).await.unwrap();
        let again = provider
            .download_recording(&recording, &mut Vec::new())
            .await;
        assert!(
            again.as_ref().is_err_and(telephony::Error::is_not_found),
            "{id}: a deleted recording: {again:?}"
        );
    }
}

/// Keys the agent presses reach the far end: on the stream (its DTMF message, or tones in the
/// audio), and through the carrier's API where it has one.
async fn keys(id: &'static str) {
    let fake = AnyFake::start(id).await;
    fake.speed(SPEED);
    fake.script(CallerScript::speech_like(Duration::from_secs(4)).linger(Duration::ZERO));
    let provider = fake.provider();
    let mut agent = common::start(AgentOptions {
        app_rate: SampleRate::Hz8000,
        ..AgentOptions::echo(vec![provider.clone()], vec![])
    })
    .await
    .unwrap();
    let call = agent.call(
        provider.as_ref(),
        number("+14155550100"),
        number("+14155550199"),
    );
    provider.initiate_call(&call).await.unwrap();
    let started = until(&mut agent, "the stream", |l| l["event"] == "started").await;
    let stream_call = CallId::new(started["call"].as_str().unwrap()).unwrap();
    assert!(agent.dtmf(&stream_call, "42#").await, "{id}: the stream");
    let rest = provider.capabilities().dtmf_rest;
    if rest {
        provider
            .send_dtmf(&stream_call, &telephony::Dtmf::new("7").unwrap())
            .await
            .unwrap_or_else(|e| panic!("{id}: {e}"));
    } else {
        let refused = provider
            .send_dtmf(&stream_call, &telephony::Dtmf::new("7").unwrap())
            .await;
        assert!(
            matches!(refused, Err(telephony::Error::Unsupported { .. })),
            "{id}: {refused:?}"
        );
    }
    let record = fake.wait(stream_call.as_str()).await.unwrap();
    let heard = record.keys_heard();
    assert!(heard.contains("42#"), "{id}: the far end heard {heard:?}");
    assert_eq!(
        heard.contains('7'),
        rest,
        "{id}: the far end heard {heard:?}"
    );
    eprintln!("{id}: the far end heard {heard:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio() {
    scenario("twilio").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_reach_the_far_end() {
    for emulator in support::emulators() {
        keys(emulator.id()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plivo() {
    scenario("plivo").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vonage() {
    scenario("vonage").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telnyx() {
    scenario("telnyx").await;
}
