//! Faults during a call's life, through each emulated carrier the testkit registers: a 429
//! with `Retry-After` and a 500 on placing the call, 5xx answers while following and hanging
//! it up, and a media WebSocket dropped mid-call, which the agent reports and ends by hanging
//! up.

#[path = "../examples/common/mod.rs"]
mod common;
mod support;

use std::time::{Duration, Instant};

use common::{AgentOptions, Log};
use support::{AnyFake, number};
use telephony::{CallStatus, HangupOutcome};
use telephony_testkit::{CallerScript, Fault, Happening, Operation};

async fn next_event(log: &mut tokio::sync::mpsc::Receiver<Log>, event: &str) -> Log {
    let mut seen = Vec::new();
    common::wait_for(log, Duration::from_secs(20), &mut seen, |l| {
        l["event"] == event
    })
    .await
    .unwrap_or_else(|| panic!("no {event} in {seen:?}"))
}

async fn faults(provider_id: &str) {
    let fake = AnyFake::start(provider_id).await;
    fake.speed(5.0);
    fake.script(CallerScript::speech_like(Duration::from_secs(2)).linger(Duration::from_secs(30)));
    let provider = fake.provider();
    let mut agent = common::start(AgentOptions::echo(vec![provider.clone()], vec![]))
        .await
        .unwrap();
    let call = agent.call(
        provider.as_ref(),
        number("+14155550100"),
        number("+14155550199"),
    );

    // Placing a call: a 500 may have dialled someone, so it is not retried, and says so.
    fake.fail_next(Operation::CreateCall, Fault::Status(500), 1);
    let err = provider.initiate_call(&call).await.unwrap_err();
    assert!(err.may_have_acted(), "{provider_id}: {err}");
    assert!(!err.is_retryable(), "{provider_id}: {err}");
    assert!(
        fake.calls().is_empty(),
        "{provider_id}: the 500 was retried"
    );

    // A 429 was refused before anything happened: retried after Retry-After, one call placed.
    fake.fail_next(
        Operation::CreateCall,
        Fault::RateLimited { retry_after: 1 },
        1,
    );
    let asked = Instant::now();
    let placed = provider.initiate_call(&call).await.unwrap();
    assert!(
        asked.elapsed() >= Duration::from_millis(950),
        "{provider_id}: Retry-After not honoured ({:?})",
        asked.elapsed()
    );
    assert_eq!(fake.calls().len(), 1, "{provider_id}");
    next_event(&mut agent.log, "started").await;

    // Following the call through two 503s, then the 429 of a busy account.
    fake.fail_next(Operation::FetchCall, Fault::Status(503), 2);
    let info = provider.call_status(&placed.call_id).await.unwrap();
    assert_eq!(info.status, CallStatus::InProgress, "{provider_id}");
    fake.fail_next(
        Operation::FetchCall,
        Fault::RateLimited { retry_after: 1 },
        1,
    );
    let info = provider.call_status(&placed.call_id).await.unwrap();
    assert_eq!(info.status, CallStatus::InProgress, "{provider_id}");

    // Hanging up through a 503: hanging up twice ends a call once, so it is retried.
    fake.fail_next(Operation::UpdateCall, Fault::Status(503), 1);
    let outcome = provider.hangup(&placed.call_id).await.unwrap();
    assert_eq!(outcome, HangupOutcome::Ended, "{provider_id}");
    let record = tokio::time::timeout(Duration::from_secs(20), fake.wait(placed.call_id.as_str()))
        .await
        .expect("the call ends")
        .unwrap();
    assert_eq!(record.status, CallStatus::Completed, "{provider_id}");
    assert!(
        record.violations.is_empty(),
        "{provider_id}: {:?}",
        record.violations
    );
    next_event(&mut agent.log, "closed").await;

    // The stream drops one second in, without a word. The agent reports it and hangs up; the
    // carrier, which runs the answer's `Hangup` once the stream is gone, may have ended the
    // call first, which is success too.
    fake.drop_streams_after(Some(Duration::from_secs(1)));
    let placed = provider.initiate_call(&call).await.unwrap();
    next_event(&mut agent.log, "started").await;
    let dropped = next_event(&mut agent.log, "dropped").await;
    assert!(
        ["ended", "already ended"].contains(&dropped["hangup"].as_str().unwrap()),
        "{provider_id}: {dropped}"
    );
    let record = tokio::time::timeout(Duration::from_secs(20), fake.wait(placed.call_id.as_str()))
        .await
        .expect("the dropped call ends")
        .unwrap();
    assert_eq!(record.status, CallStatus::Completed, "{provider_id}");
    let what: Vec<&Happening> = record.timeline.iter().map(|m| &m.what).collect();
    let dropped_at = what
        .iter()
        .position(|h| matches!(h, Happening::StreamDropped))
        .unwrap_or_else(|| panic!("{provider_id}: {what:?}"));
    assert!(
        !what[dropped_at..]
            .iter()
            .any(|h| matches!(h, Happening::StreamOpened { .. })),
        "{provider_id}: the call went on streaming: {what:?}"
    );
    assert!(
        record.duration.unwrap() < Duration::from_secs(10),
        "{provider_id}: the call ran on for {:?}",
        record.duration
    );
    // The agent's media loop ends on its own once the socket is gone: wait for that event.
    agent.recordings.idle().await;
    assert_eq!(fake.running(), 0, "{provider_id}: a call still running");
}

/// Each emulated carrier in turn, as registered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_through_every_carrier() {
    for emulator in support::emulators() {
        faults(emulator.id()).await;
    }
}
