//! One scenario through each emulated carrier, with the real adapter and the same agent: an
//! outbound call, answered and streamed, three seconds of speech-like audio each way, a key
//! press, a mark, a clear (the caller barges in), then a hangup through the API and the price.
//! Every provider must give the same normalized events and the same audio, to within its
//! codec's error.

#[path = "../examples/common/mod.rs"]
mod common;
mod support;

use std::time::Duration;

use common::{AgentOptions, Brain, Log};
use support::{AnyFake, number, snr_db};
use telephony::CallStatus;
use telephony::audio::{Encoding, SampleRate};
use telephony_testkit::{CallRecord, CallerScript, Happening, SCRIPT_RATE, resample, speech_like};

const SPEED: f64 = 4.0;
const RATE: SampleRate = SampleRate::Hz8000;

/// What one run gave.
struct Run {
    provider: &'static str,
    /// The stream's wire format as the agent saw it start: `ENCODING@RATE`.
    wire: String,
    /// The media events the agent saw, normalized: `started`, `dtmf:7`, `mark_played:first`…
    media: Vec<String>,
    /// The normalized statuses the agent's status webhook received, in order, repeats dropped.
    statuses: Vec<String>,
    /// What the agent heard, PCM at 8 kHz.
    heard_by_agent: Vec<i16>,
    /// The carrier's record.
    record: CallRecord,
    /// The price the adapter read.
    cost: telephony::CallCost,
}

/// Call time to wall time at the fake's speed.
fn call_time(d: Duration) -> Duration {
    d.div_f64(SPEED)
}

/// The agent's reply: three seconds of speech-like audio at 8 kHz (another voice than the
/// caller's), a mark after its first second and another at its end.
fn reply() -> Vec<i16> {
    resample(&speech_like(Duration::from_secs(3), 11), SCRIPT_RATE, RATE)
}

async fn run(provider_id: &'static str) -> Run {
    let fake = AnyFake::start(provider_id).await;
    fake.speed(SPEED);
    fake.script(
        CallerScript::speech_like(Duration::from_secs(3))
            .dtmf(Duration::from_secs(2), '7')
            .linger(Duration::from_secs(10)),
    );
    let provider = fake.provider();
    let (callee, caller_id) = (number("+14155550100"), number("+14155550199"));
    let mut agent = common::start(AgentOptions {
        app_rate: RATE,
        brain: Brain::Script {
            audio: reply(),
            marks: vec![(8000, "first".into()), (24000, "second".into())],
        },
        record_audio: true,
        ..AgentOptions::echo(vec![provider.clone()], vec![])
    })
    .await
    .unwrap();
    let call = agent.call(provider.as_ref(), callee, caller_id);
    let placed = provider.initiate_call(&call).await.unwrap();

    // Follow the agent's log. The caller presses 7 two seconds in, and the agent clears: the
    // second mark is never reached. Once the caller has finished speaking, hang up.
    let mut seen: Vec<Log> = Vec::new();
    let (mut closed, mut ended, mut hung_up) = (false, false, false);
    let mut call_id = placed.call_id.clone();
    while !(closed && ended) {
        let line = tokio::time::timeout(Duration::from_secs(20), agent.log.recv())
            .await
            .unwrap_or_else(|_| panic!("{provider_id}: stalled after {seen:?}"))
            .expect("the agent runs");
        match line["event"].as_str().unwrap_or("") {
            "mark_cleared" if !hung_up => {
                hung_up = true;
                tokio::time::sleep(call_time(Duration::from_millis(1500))).await;
                provider.hangup(&placed.call_id).await.unwrap();
            }
            "closed" => closed = true,
            "status" => {
                call_id = telephony::CallId::new(line["call"].as_str().unwrap()).unwrap();
                ended |= ["completed", "busy", "no-answer", "failed", "canceled"]
                    .contains(&line["status"].as_str().unwrap());
            }
            _ => {}
        }
        seen.push(line);
    }
    let record = fake.wait(placed.call_id.as_str()).await.unwrap();
    let cost = provider
        .call_cost(&call_id)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{provider_id}: not priced"));
    let media = seen
        .iter()
        .filter_map(|l| {
            let event = l["event"].as_str()?;
            Some(match event {
                "started" | "closed" => event.to_owned(),
                "dtmf" => format!("dtmf:{}", l["digit"].as_str()?),
                "mark_played" | "mark_cleared" => format!("{event}:{}", l["name"].as_str()?),
                _ => return None,
            })
        })
        .collect();
    let mut statuses: Vec<String> = Vec::new();
    for l in &seen {
        // Plivo reports the answer by fetching the answer URL, with the call in progress.
        let status = match l["event"].as_str() {
            Some("status") => l["status"].as_str().unwrap().to_owned(),
            Some("answer") => "in-progress".to_owned(),
            _ => continue,
        };
        if statuses.last() != Some(&status) {
            statuses.push(status);
        }
    }
    let started = seen.iter().find(|l| l["event"] == "started").unwrap();
    let stream_call = started["call"].as_str().unwrap().to_owned();
    let wire = started["format"].as_str().unwrap().to_owned();
    let heard_by_agent = agent.recordings.audio(&stream_call).unwrap();
    Run {
        provider: provider_id,
        wire,
        media,
        statuses,
        heard_by_agent,
        record,
        cost,
    }
}

/// The first non-silent sample.
fn onset(pcm: &[i16]) -> usize {
    pcm.iter()
        .position(|s| s.unsigned_abs() > 64)
        .unwrap_or(pcm.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_carrier_gives_the_same_call() {
    let mut runs = Vec::new();
    for emulator in support::emulators() {
        runs.push(run(emulator.id()).await);
    }
    let sent = reply();
    for r in &runs {
        let p = r.provider;
        assert!(
            r.record.violations.is_empty(),
            "{p}: {:?}",
            r.record.violations
        );
        assert_eq!(r.record.status, CallStatus::Completed, "{p}");

        // The same media events, in the same order.
        assert_eq!(
            r.media,
            [
                "started",
                "mark_played:first",
                "dtmf:7",
                "mark_cleared:second",
                "closed"
            ],
            "{p}"
        );
        // The lifecycle: every provider answers and completes, and rings where it posts a
        // ringing event (one that announces no ringing skips it); some also say "initiated"
        // first (Plivo has no such callback).
        let lifecycle: Vec<&str> = r
            .statuses
            .iter()
            .map(String::as_str)
            .filter(|s| *s != "initiated")
            .collect();
        let rang =
            r.record.timeline.iter().any(
                |m| matches!(&m.what, Happening::Callback { event, .. } if event == "ringing"),
            );
        let expected: &[&str] = if rang {
            &["ringing", "in-progress", "completed"]
        } else {
            &["in-progress", "completed"]
        };
        assert_eq!(lifecycle, expected, "{p}: {:?}", r.statuses);

        // Caller to agent: what the carrier sent, as the agent heard it. μ-law costs about
        // 38 dB of SNR on speech; L16 at the app's rate is exact.
        let said = &r.record.caller_audio;
        let span = said.len().min(r.heard_by_agent.len());
        assert!(span >= 2 * 8000, "{p}: only {span} samples heard");
        let snr = snr_db(&said[..span], &r.heard_by_agent[..span]);
        let linear = [Encoding::L16Le, Encoding::L16Be]
            .iter()
            .any(|e| r.wire == format!("{}@{}", e.name(), RATE.hz()));
        let floor = if r.record.wire_rate == Some(RATE) && linear {
            90.0
        } else {
            30.0
        };
        assert!(
            snr >= floor,
            "{p}: caller audio at the agent, SNR {snr:.1} dB < {floor}"
        );

        // Agent to caller: what the carrier received is the agent's reply, up to the clear.
        let got = &r.record.agent_audio;
        assert!(
            got.len() >= 8000,
            "{p}: only {} samples reached the carrier",
            got.len()
        );
        let snr = snr_db(&sent[..got.len().min(sent.len())], got);
        assert!(
            snr >= floor,
            "{p}: agent audio at the carrier, SNR {snr:.1} dB < {floor}"
        );

        // What the caller heard: the reply from its start until the caller pressed 7, two
        // seconds in (the clear stops it; the next 20 ms frames may still play).
        let heard = &r.record.heard;
        let start = onset(heard);
        let loud = heard[start..]
            .iter()
            .filter(|s| s.unsigned_abs() > 64)
            .count();
        let played_ms = loud * 1000 / 8000;
        let reply_ms = sent.iter().filter(|s| s.unsigned_abs() > 64).count() * 1000 / 8000;
        assert!(
            played_ms * 10 < reply_ms * 9,
            "{p}: the clear did not stop playback ({played_ms} of {reply_ms} ms played)"
        );
        assert!(
            played_ms >= 800,
            "{p}: only {played_ms} ms of the reply played"
        );
        eprintln!(
            "{p}: statuses {:?}; caller→agent {:.1} dB, agent→carrier {snr:.1} dB; {played_ms} of {reply_ms} ms of the reply played; {}",
            r.statuses,
            snr_db(&said[..span], &r.heard_by_agent[..span]),
            r.cost
        );

        // The price, exact.
        assert!(
            r.cost.amount > telephony::Decimal::ZERO,
            "{p}: {:?}",
            r.cost
        );
    }

    // Across carriers: the caller said the same thing, the agent heard the same thing (to
    // within the codecs), and the caller heard about as much of the reply.
    let (first, rest) = runs.split_first().unwrap();
    for r in rest {
        let n = first
            .heard_by_agent
            .len()
            .min(r.heard_by_agent.len())
            .min(2 * 8000);
        let snr = snr_db(&first.heard_by_agent[..n], &r.heard_by_agent[..n]);
        assert!(
            snr >= 30.0,
            "{} vs {}: {snr:.1} dB",
            first.provider,
            r.provider
        );
        let played = |r: &Run| {
            r.record
                .heard
                .iter()
                .filter(|s| s.unsigned_abs() > 64)
                .count()
        };
        let (a, b) = (played(first) as i64, played(r) as i64);
        assert!(
            (a - b).abs() < 8000 / 2,
            "{} played {a} samples, {} played {b}",
            first.provider,
            r.provider
        );
    }
}
