//! The soak scenario, shared by `tests/soak.rs` and `benches/soak.rs`: many calls at once on
//! one emulated carrier, each checked frame by frame.

use std::sync::Arc;
use std::time::Duration;

use telephony::audio::{SampleRate, decode_ulaw, encode_ulaw};
use telephony::{CallStatus, TelephonyProvider};
use telephony_testkit::CallerScript;

use super::{AnyFake, number};
use crate::common::{self, Agent, AgentOptions};

/// One emulated Twilio at four times real time, and the echo agent at 8 kHz keeping what it
/// hears. Each call: a second of speech, then long enough on the line for the echo to play
/// and its mark to come back.
pub async fn rig() -> (AnyFake, Arc<dyn TelephonyProvider>, Agent) {
    let fake = AnyFake::start("twilio").await;
    fake.speed(4.0);
    fake.ring_time(Duration::from_millis(200));
    fake.script(CallerScript::speech_like(Duration::from_secs(1)).linger(Duration::from_secs(3)));
    let provider = fake.provider();
    let agent = common::start(AgentOptions {
        app_rate: SampleRate::Hz8000,
        record_audio: true,
        // Kept-alive connections stay open however long a round takes on a busy machine: the
        // leak check counts them, and a timer closing one mid-count would race it.
        serve: telephony::axum::ServeOptions::default().header_read_timeout(None),
        ..AgentOptions::echo(vec![provider.clone()], vec![])
    })
    .await
    .expect("the agent starts");
    (fake, provider, agent)
}

/// Places `calls` calls at once and checks each, frame by frame.
pub async fn round(
    fake: &AnyFake,
    provider: &Arc<dyn TelephonyProvider>,
    agent: &Agent,
    calls: usize,
) {
    let placing = (0..calls).map(|i| {
        let provider = provider.clone();
        let call = agent.call(
            provider.as_ref(),
            number(&format!("+1415555{:04}", 1000 + i)),
            number("+14155550199"),
        );
        tokio::spawn(async move { provider.initiate_call(&call).await })
    });
    let mut ids = Vec::new();
    for p in placing.collect::<Vec<_>>() {
        ids.push(p.await.unwrap().unwrap().call_id);
    }
    let mut records = Vec::new();
    for id in &ids {
        let record = tokio::time::timeout(Duration::from_secs(120), fake.wait(id.as_str()))
            .await
            .expect("every call ends")
            .expect("the call exists");
        records.push((id, record));
    }
    // The agent's side of each call is over once its media loop has ended and let go of the
    // socket: wait for that event (a call's end at the carrier says nothing of the agent's).
    agent.recordings.idle().await;
    assert_eq!(fake.running(), 0, "every call waited for has ended");
    for (id, record) in records {
        assert_eq!(record.status, CallStatus::Completed, "{id}");
        assert!(
            record.violations.is_empty(),
            "{id}: {:?}",
            record.violations
        );

        // Caller to agent: every frame the carrier sent reached the agent, in full.
        let heard = agent
            .recordings
            .audio(id.as_str())
            .expect("the agent heard it");
        assert_eq!(
            heard.len(),
            record.caller_audio.len(),
            "{id}: caller frames lost"
        );
        // μ-law 8 kHz on the wire and at the agent: what it hears is exactly the carrier's
        // audio through G.711, nothing resampled, nothing shifted.
        let mut wire = vec![0u8; record.caller_audio.len()];
        encode_ulaw(&record.caller_audio, &mut wire);
        let mut expected = vec![0i16; wire.len()];
        decode_ulaw(&wire, &mut expected);
        let differ = heard.iter().zip(&expected).filter(|(a, b)| a != b).count();
        assert_eq!(
            differ, 0,
            "{id}: {differ} caller samples changed on the way"
        );

        // Agent to caller: every piece the agent sent arrived, padded to whole 20 ms frames,
        // and every mark came back played.
        let sent = agent.recordings.sent(id.as_str()).expect("the agent spoke");
        let framed: usize = sent.iter().map(|n| n.div_ceil(160) * 160).sum();
        assert_eq!(record.agent_audio.len(), framed, "{id}: agent frames lost");
        assert_eq!(record.marks_echoed().len(), sent.len(), "{id}: marks lost");
    }
}
