//! Inbound calls through the one webhook, for each emulated carrier: the number pointed at
//! the agent with `configure_inbound`, a call to a served number answered with a stream and
//! talked to, a call to a number the agent does not serve refused politely, a forged webhook
//! refused with a 403 and the reason logged.

#[path = "../examples/common/mod.rs"]
mod common;
mod support;

use std::time::Duration;

use common::AgentOptions;
use common::cli::configure_numbers;
use support::{AnyFake, number};
use telephony::{CallStatus, Secret};
use telephony_testkit::{CallerScript, Happening};

async fn inbound(provider_id: &str) {
    let fake = AnyFake::start(provider_id).await;
    fake.speed(5.0);
    fake.script(
        CallerScript::speech_like(Duration::from_millis(1500))
            .dtmf(Duration::from_millis(700), '3')
            .linger(Duration::from_secs(2)),
    );
    let provider = fake.provider();
    let (served, unserved, caller) = (
        number("+14155550100"),
        number("+14155550111"),
        number("+14155550199"),
    );
    fake.add_number(&served);
    fake.add_number(&unserved);
    let mut agent = common::start(AgentOptions::echo(
        vec![provider.clone()],
        vec![served.clone()],
    ))
    .await
    .unwrap();
    let inbound = agent.url("inbound");

    // Both numbers point at the one webhook; a second run finds nothing to change.
    let both = [served.clone(), unserved.clone()];
    let first = configure_numbers(std::slice::from_ref(&provider), &both, &inbound)
        .await
        .unwrap();
    assert_eq!(first.len(), 2);
    for line in &first {
        assert_eq!(line["url"], inbound.as_str(), "{provider_id}: {line}");
        assert_eq!(line["changed"], true, "{provider_id}: {line}");
    }
    let again = configure_numbers(std::slice::from_ref(&provider), &both, &inbound)
        .await
        .unwrap();
    for line in &again {
        assert_eq!(line["changed"], false, "{provider_id}: {line}");
        assert_eq!(
            line["previous_url"],
            inbound.as_str(),
            "{provider_id}: {line}"
        );
    }

    // A served number: answered with a stream, the caller heard, the agent replies.
    let id = fake.ring(&caller, &served);
    let record = tokio::time::timeout(Duration::from_secs(30), fake.wait(&id))
        .await
        .expect("the served call ends")
        .expect("the call exists");
    assert_eq!(
        record.status,
        CallStatus::Completed,
        "{provider_id}: {record:?}"
    );
    assert!(record.inbound);
    assert!(record.violations.is_empty(), "{:?}", record.violations);
    assert!(
        record
            .timeline
            .iter()
            .any(|m| matches!(m.what, Happening::StreamOpened { .. })),
        "{provider_id}: no stream"
    );
    assert!(
        record.marks_echoed().contains(&"greeting"),
        "{provider_id}: {:?}",
        record.marks_echoed()
    );
    let loud = record
        .heard
        .iter()
        .filter(|s| s.unsigned_abs() > 1000)
        .count();
    assert!(
        loud > 1000,
        "{provider_id}: the caller heard {loud} loud samples"
    );

    // A number the agent does not serve: a spoken refusal and a hangup where the carrier
    // answers with a document; where it answers with commands, the call is rejected unanswered.
    // Never a stream.
    let refused = fake.ring(&caller, &unserved);
    let record = tokio::time::timeout(Duration::from_secs(30), fake.wait(&refused))
        .await
        .expect("the refused call ends")
        .expect("the call exists");
    let said = record
        .timeline
        .iter()
        .any(|m| matches!(&m.what, Happening::Said(text) if text.contains("not in service")));
    let answered = record
        .timeline
        .iter()
        .any(|m| matches!(&m.what, Happening::Status { status, .. } if *status == CallStatus::InProgress));
    assert!(
        (said && record.status == CallStatus::Completed)
            || (!answered && record.status == CallStatus::Failed),
        "{provider_id}: {record:?}"
    );
    assert!(
        !record
            .timeline
            .iter()
            .any(|m| matches!(m.what, Happening::StreamOpened { .. })),
        "{provider_id}: a refused call must not stream"
    );

    // A forged webhook: the carrier's inbound-call webhook, signed with another secret.
    let forged = fake.emulator().inbound_webhook(
        &inbound,
        &caller,
        &served,
        &Secret::new("not-the-account-secret"),
    );
    let response = reqwest::Client::new()
        .request(forged.method, forged.url.as_str())
        .headers(forged.headers)
        .body(forged.body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403, "{provider_id}");

    // What the agent logged, in order.
    let mut seen = Vec::new();
    while let Ok(line) = agent.log.try_recv() {
        seen.push(line);
    }
    let events: Vec<&str> = seen.iter().filter_map(|l| l["event"].as_str()).collect();
    let position = |e: &str| events.iter().position(|x| *x == e);
    for expected in ["inbound", "started", "dtmf", "reply", "refused", "rejected"] {
        assert!(
            position(expected).is_some(),
            "{provider_id}: no {expected} in {events:?}"
        );
    }
    assert!(position("inbound") < position("started"));
    let answered = seen.iter().find(|l| l["event"] == "inbound").unwrap();
    assert_eq!(answered["to"], served.as_str(), "{provider_id}: {answered}");
    let refusal = seen.iter().find(|l| l["event"] == "refused").unwrap();
    assert_eq!(refusal["to"], unserved.as_str(), "{provider_id}: {refusal}");
    let dtmf = seen.iter().find(|l| l["event"] == "dtmf").unwrap();
    assert_eq!(dtmf["digit"], "3");
    let rejected = seen.iter().find(|l| l["event"] == "rejected").unwrap();
    assert_eq!(rejected["provider"], provider_id);
    assert!(
        rejected["reason"].as_str().unwrap().contains("signature"),
        "{provider_id}: {rejected}"
    );
    assert_eq!(fake.running(), 0, "{provider_id}: a call still runs");
}

/// Each emulated carrier in turn, as registered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_through_the_router_on_every_carrier() {
    for emulator in support::emulators() {
        inbound(emulator.id()).await;
    }
}
