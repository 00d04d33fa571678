//! The examples' own logic (examples/common/cli.rs), driven against the emulated carriers:
//! the command lines of `inbound_agent` and `outbound_call`, providers from the environment,
//! numbers configured through the provider that owns them, and a call followed to its end.

#[path = "../examples/common/mod.rs"]
mod common;
mod support;

use std::collections::HashMap;
use std::time::Duration;

use common::AgentOptions;
use common::cli::{
    configure_numbers, default_provider, inbound_args, outbound_args, outbound_call,
    place_and_follow, providers_from_env,
};
use support::{AnyFake, number};
use telephony::audio::SampleRate;
use telephony::{CallStatus, CallTarget};
use telephony_testkit::CallerScript;

fn args(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_owned).collect()
}

#[test]
fn the_inbound_agent_command_line_is_the_documented_one() {
    let a = inbound_args(Vec::<String>::new()).unwrap();
    assert_eq!(a.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(a.public_url, None);
    assert!(a.numbers.is_empty());
    assert_eq!(a.app_rate, SampleRate::Hz16000);
    assert!(a.configure);

    let a = inbound_args(args(
        "--listen 0.0.0.0:9000 --public-url https://agent.example.com --number +14155550100 \
         --number +447700900000 --app-rate 24000 --no-configure",
    ))
    .unwrap();
    assert_eq!(a.listen.to_string(), "0.0.0.0:9000");
    assert_eq!(a.public_url.unwrap().as_str(), "https://agent.example.com/");
    assert_eq!(a.numbers, [number("+14155550100"), number("+447700900000")]);
    assert_eq!(a.app_rate, SampleRate::Hz24000);
    assert!(!a.configure);

    for (bad, says) in [
        ("--listen nowhere", "--listen"),
        ("--public-url ftp://x.example", "http"),
        ("--number 555-0100", "--number"),
        ("--app-rate 11025", "--app-rate"),
        ("--number", "needs a value"),
        ("--verbose", "unknown argument"),
    ] {
        let err = inbound_args(args(bad)).unwrap_err();
        assert!(err.contains(says), "{bad}: {err}");
    }
}

#[test]
fn the_outbound_call_command_line_needs_one_target() {
    let a = outbound_args(args(
        "--provider Vonage --to +447700900000 --from +447700900001 --stream-url wss://a.example/m",
    ))
    .unwrap();
    assert_eq!(a.provider, "vonage");
    assert!(matches!(&a.target, CallTarget::Stream(s) if s.url.as_str() == "wss://a.example/m"));
    assert_eq!(a.timeout, Duration::from_secs(300));
    let call = outbound_call(&a);
    assert_eq!(call.to, number("+447700900000"));

    // An unknown provider: the message lists the registry's.
    let known = format!("one of {}", telephony::Registry::builtin().ids().join(", "));
    for (bad, says) in [
        (
            "--to +14155550100 --from +14155550199",
            "one of --answer-url",
        ),
        (
            "--to +14155550100 --from +14155550199 --answer-url https://a.example --stream-url wss://a.example",
            "one of --answer-url",
        ),
        (
            "--from +14155550199 --answer-url https://a.example",
            "--to and --from",
        ),
        (
            "--provider exotel --to +14155550100 --from +14155550199 --answer-url https://a.example",
            known.as_str(),
        ),
        (
            "--to 0800 --from +14155550199 --answer-url https://a.example",
            "--to",
        ),
        (
            "--to +14155550100 --from +14155550199 --answer-url https://a.example --timeout 0",
            "--timeout",
        ),
    ] {
        let err = outbound_args(args(bad)).unwrap_err();
        assert!(err.contains(says), "{bad}: {err}");
    }
}

#[tokio::test]
async fn providers_come_from_the_environment_and_a_missing_setting_is_named() {
    let env: HashMap<&str, &str> = [
        (
            "TWILIO_ACCOUNT_SID",
            telephony_testkit::accounts::twilio::ACCOUNT_SID,
        ),
        (
            "TWILIO_AUTH_TOKEN",
            telephony_testkit::accounts::twilio::AUTH_TOKEN,
        ),
        ("PLIVO_AUTH_ID", telephony_testkit::accounts::plivo::AUTH_ID),
        (
            "PLIVO_AUTH_TOKEN",
            telephony_testkit::accounts::plivo::AUTH_TOKEN,
        ),
    ]
    .into();
    let providers = providers_from_env(|name| env.get(name).map(|v| (*v).to_owned())).unwrap();
    let kinds: Vec<&str> = providers.iter().map(|p| p.kind().id()).collect();
    assert_eq!(kinds, ["twilio", "plivo"]);

    let half: HashMap<&str, &str> =
        [("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef")].into();
    let err = providers_from_env(|name| half.get(name).map(|v| (*v).to_owned()))
        .expect_err("a token is missing");
    assert!(err.contains("TWILIO_AUTH_TOKEN"), "{err}");

    let err = providers_from_env(|_| None).expect_err("nothing is set");
    assert!(err.contains("no provider credentials"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_number_is_configured_through_the_provider_that_owns_it() {
    let twilio = AnyFake::start("twilio").await;
    let vonage = AnyFake::start("vonage").await;
    let (ours_t, ours_v, nobody) = (
        number("+14155550100"),
        number("+447700900000"),
        number("+33612345678"),
    );
    twilio.add_number(&ours_t);
    vonage.add_number(&ours_v);
    let providers = vec![twilio.provider(), vonage.provider()];
    let url = "https://agent.example.com/inbound".parse().unwrap();

    let lines = configure_numbers(&providers, &[ours_v.clone(), ours_t.clone()], &url)
        .await
        .unwrap();
    assert_eq!(lines[0]["provider"], "vonage");
    assert_eq!(lines[0]["number"], ours_v.as_str());
    assert_eq!(lines[1]["provider"], "twilio");
    assert_eq!(lines[1]["number"], ours_t.as_str());
    for l in &lines {
        assert_eq!(l["url"], url.as_str(), "{l}");
    }
    // And the carriers now send those numbers' calls there.
    let now = twilio.provider().phone_numbers().await.unwrap();
    assert_eq!(now[0].voice_url.as_deref(), Some(url.as_str()));

    let err = configure_numbers(&providers, std::slice::from_ref(&nobody), &url)
        .await
        .unwrap_err();
    assert!(
        err.contains("+33612345678") && err.contains("not a number"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_call_follows_the_call_to_its_end_and_reads_the_price() {
    for emulator in support::emulators() {
        let id = emulator.id();
        let fake = AnyFake::start(id).await;
        fake.speed(5.0);
        fake.script(
            CallerScript::speech_like(Duration::from_millis(800))
                .linger(Duration::from_millis(400)),
        );
        let provider = fake.provider();
        let key = "the-agent-stream-key-for-this-test";
        let agent = common::start(AgentOptions {
            stream_key: Some(telephony::Secret::new(key)),
            ..AgentOptions::echo(vec![provider.clone()], vec![])
        })
        .await
        .unwrap();
        let mut args: Vec<String> = [
            "--provider",
            id,
            "--to",
            "+14155550100",
            "--from",
            "+14155550199",
        ]
        .map(str::to_owned)
        .into();
        // Through the agent's answer URL where the carrier fetches one, else with its stream
        // and the agent's key (AGENT_STREAM_KEY), as the README shows.
        if provider.capabilities().answer_url {
            args.extend(["--answer-url".into(), agent.url("answer").to_string()]);
        } else {
            args.extend([
                "--stream-url".into(),
                agent.media_url(provider.as_ref()).to_string(),
                "--stream-key".into(),
                key.into(),
            ]);
        }
        let a = outbound_args(args).unwrap();
        let mut lines = Vec::new();
        let status = place_and_follow(
            provider.as_ref(),
            &outbound_call(&a),
            Duration::from_millis(50),
            Duration::from_secs(30),
            |l| lines.push(l),
        )
        .await
        .unwrap();
        assert_eq!(status, CallStatus::Completed, "{id}: {lines:?}");
        let events: Vec<&str> = lines.iter().filter_map(|l| l["event"].as_str()).collect();
        assert_eq!(events.first(), Some(&"placed"), "{id}: {events:?}");
        assert_eq!(events.last(), Some(&"cost"), "{id}: {events:?}");
        let statuses: Vec<&str> = lines
            .iter()
            .filter(|l| l["event"] == "status")
            .filter_map(|l| l["status"].as_str())
            .collect();
        assert!(statuses.contains(&"in-progress"), "{id}: {statuses:?}");
        assert_eq!(statuses.last(), Some(&"completed"), "{id}: {statuses:?}");
        let cost = lines.last().unwrap();
        assert!(
            cost["amount"].as_str().is_some_and(|a| a != "0"),
            "{id}: {cost}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_call_hangs_up_a_call_still_up_after_the_timeout() {
    // The command line below names no provider: the default one.
    let fake = AnyFake::start(&default_provider()).await;
    fake.speed(5.0);
    fake.script(CallerScript::speech_like(Duration::from_secs(1)).linger(Duration::from_secs(60)));
    let provider = fake.provider();
    let agent = common::start(AgentOptions::echo(vec![provider.clone()], vec![]))
        .await
        .unwrap();
    let a = outbound_args(args(&format!(
        "--to +14155550100 --from +14155550199 --answer-url {}",
        agent.url("answer")
    )))
    .unwrap();
    let mut lines = Vec::new();
    let status = place_and_follow(
        provider.as_ref(),
        &outbound_call(&a),
        Duration::from_millis(50),
        Duration::from_secs(1),
        |l| lines.push(l),
    )
    .await
    .unwrap();
    assert_eq!(status, CallStatus::Completed);
    let timeout = lines
        .iter()
        .find(|l| l["event"] == "timeout")
        .expect("the timeout hit");
    assert_eq!(timeout["hangup"], "Ended", "{timeout}");
    let record = fake.calls().pop().unwrap();
    assert!(
        record.duration.unwrap() < Duration::from_secs(30),
        "{record:?}"
    );
}

#[test]
fn the_echo_keeps_at_most_thirty_seconds_of_an_utterance() {
    // 40 s of loud audio (sent as fast as a client likes), then the 300 ms pause that ends it.
    let rate = SampleRate::Hz8000;
    let mut ear = common::Ear::new(rate);
    let loud = vec![3000i16; 160];
    for _ in 0..(40 * 50) {
        assert!(ear.hear(&loud).is_none(), "no pause yet");
    }
    let quiet = vec![0i16; 160];
    let mut utterance = None;
    for _ in 0..15 {
        utterance = utterance.or(ear.hear(&quiet));
    }
    let utterance = utterance.expect("the pause ends the utterance");
    assert_eq!(utterance.pcm.len(), 30 * 8000, "30 s kept");
    assert_eq!(
        utterance.dropped,
        10 * 8000 + 15 * 160,
        "the rest dropped, and counted"
    );
    // The next one starts empty.
    for _ in 0..50 {
        assert!(ear.hear(&loud).is_none());
    }
    let next = (0..15).find_map(|_| ear.hear(&quiet)).unwrap();
    assert_eq!(next.pcm.len(), 8000 + 15 * 160);
    assert_eq!(next.dropped, 0);
}

#[test]
fn the_agent_log_drops_lines_when_full_and_never_waits() {
    let (sink, mut log) = common::LogSink::new(4);
    // Nobody reads: four lines wait, six are dropped, and no send waited.
    for n in 0..10 {
        sink.send(serde_json::json!({"event": "unknown", "n": n}));
    }
    assert_eq!(sink.dropped(), 6);
    let kept: Vec<_> = std::iter::from_fn(|| log.try_recv().ok()).collect();
    assert_eq!(kept.len(), 4);
    assert_eq!(kept[3]["n"], 3, "the oldest lines are kept, in order");
    // Once there is room, the count comes first.
    sink.send(serde_json::json!({"event": "closed"}));
    let note = log.try_recv().unwrap();
    assert_eq!(note["event"], "log_dropped");
    assert_eq!(note["count"], 6);
    assert_eq!(log.try_recv().unwrap()["event"], "closed");
    assert_eq!(sink.dropped(), 6, "the total stays");
}
