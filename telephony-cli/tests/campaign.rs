//! `telephony campaign` as a user runs it: a campaign dialled through the Twilio emulator
//! (`telephony_testkit::FakeTwilio`, reached with `--base-url`), its state in a SQLite file,
//! then read and steered with `status`, `pause`, `resume`, `cancel` and `results`.
//!
//! The stream URL points at a closed loopback port: an answered call's stream fails to
//! connect, and the call completes at once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use telephony::E164;
use telephony_testkit::accounts::plivo;
use telephony_testkit::accounts::twilio::{ACCOUNT_SID, AUTH_TOKEN};
use telephony_testkit::{Callee, FakeTwilio};

const FROM: &str = "+14155550199";

/// The command with the emulated account's credentials.
fn telephony(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_telephony"));
    cmd.args(args)
        .env("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
        .env("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
        .env_remove("TWILIO_API_KEY_SID")
        .env_remove("TWILIO_API_KEY_SECRET")
        .env_remove("TWILIO_BASE_URL")
        .env("PLIVO_AUTH_ID", plivo::AUTH_ID)
        .env("PLIVO_AUTH_TOKEN", plivo::AUTH_TOKEN)
        .env("PLIVO_APP_ID", plivo::APP_ID);
    cmd
}

/// Runs the command off the runtime's threads (the emulator serves on them meanwhile): its
/// exit status, stdout and stderr.
async fn run(args: &[&str]) -> (i32, String, String) {
    let mut cmd = telephony(args);
    let out: Output = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    let (stdout, stderr) = (text(out.stdout), text(out.stderr));
    assert!(
        !stdout.contains(AUTH_TOKEN) && !stderr.contains(AUTH_TOKEN),
        "the token was printed"
    );
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

/// A directory of its own for one test, empty.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("campaign-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A URL nothing listens on.
fn closed_stream_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("ws://127.0.0.1:{port}/media")
}

fn number(i: u32) -> E164 {
    format!("+1415555{:04}", 100 + i).parse().unwrap()
}

/// `number -> (status, outcome, attempts)` from a results CSV (its first four columns, which
/// never need quoting).
fn read_results(csv: &str) -> BTreeMap<String, (String, String, u32)> {
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "number,status,outcome,attempts,call_id,duration_secs,cost,recording_url,ended_at,detail"
        )
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].to_owned(),
                (f[1].to_owned(), f[2].to_owned(), f[3].parse().unwrap()),
            )
        })
        .collect()
}

/// How many calls the emulator was asked to place to each number.
fn calls_by_number(fake: &FakeTwilio) -> BTreeMap<String, u32> {
    let mut n = BTreeMap::new();
    for call in fake.calls() {
        *n.entry(call.to).or_default() += 1;
    }
    n
}

/// The ten contacts' callees, and the outcome and attempts each comes to under the
/// `--retry` rules of [`small_campaign`].
fn callees() -> Vec<(Callee, &'static str, u32)> {
    vec![
        (Callee::Answer, "answered", 1),
        (Callee::Busy, "busy", 3),
        (Callee::NoAnswer, "no_answer", 2),
        (Callee::Fail, "failed", 1),
        (Callee::Answer, "answered", 1),
        (Callee::Answer, "answered", 1),
        (Callee::Busy, "busy", 3),
        (Callee::Answer, "answered", 1),
        (Callee::NoAnswer, "no_answer", 2),
        (Callee::Answer, "answered", 1),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn small_campaign() {
    let dir = scratch("small");
    let fake = FakeTwilio::start().await.unwrap();
    fake.speed(20.0);
    fake.ring_time(Duration::from_secs(2));
    let expected = callees();
    let mut contacts = String::from("number,name\n");
    for (i, (callee, _, _)) in expected.iter().enumerate() {
        let i = u32::try_from(i).unwrap();
        fake.callee(&number(i), *callee);
        contacts.push_str(&format!("{},Contact {i}\n", number(i)));
        if i == 3 {
            // Line 6: left out, reported; the others run.
            contacts.push_str("not a number,Nobody\n");
        }
    }
    let file = dir.join("renewals.csv");
    std::fs::write(&file, contacts).unwrap();
    let store = format!("sqlite:{}", dir.join("campaign.db").display());
    let results = dir.join("out.csv");
    let base = fake.base_url().to_string();
    let stream = closed_stream_url();

    let (code, stdout, stderr) = run(&[
        "campaign",
        "run",
        "twilio",
        "--contacts",
        file.to_str().unwrap(),
        "--from",
        FROM,
        "--stream-url",
        &stream,
        "--cps",
        "20",
        "--store",
        &store,
        "--results",
        results.to_str().unwrap(),
        "--retry",
        "busy=3/100ms",
        "--retry",
        "no_answer=2/100msx2",
        "--retry",
        "failed=1",
        "--ring-timeout",
        "10",
        "--poll-first",
        "50ms",
        "--poll-max",
        "200ms",
        "--base-url",
        &base,
    ])
    .await;
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    let bad_row = format!("{} line 6: ", file.display());
    assert!(stderr.lines().any(|l| l.starts_with(&bad_row)), "{stderr}");

    // Every contact, with the outcome its callee implies and the attempts --retry allows.
    let csv = std::fs::read_to_string(&results).unwrap();
    let rows = read_results(&csv);
    assert_eq!(rows.len(), expected.len(), "{csv}");
    let dialled = calls_by_number(&fake);
    for (i, (_, outcome, attempts)) in expected.iter().enumerate() {
        let n = number(u32::try_from(i).unwrap());
        let row = &rows[n.as_str()];
        assert_eq!(
            (row.0.as_str(), row.1.as_str(), row.2),
            ("done", *outcome, *attempts),
            "{n}: {csv}"
        );
        // Never more calls than attempts.
        assert_eq!(dialled.get(n.as_str()), Some(attempts), "{n}");
    }

    // One line per attempt on stdout, then the summary.
    let lines: Vec<&str> = stdout.lines().collect();
    let total: u32 = expected.iter().map(|e| e.2).sum();
    assert_eq!(lines.len(), total as usize + 1, "{stdout}");
    let busy = number(1);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{busy} busy attempt 1 (CA"))
                && l.contains(", retry at ")),
        "{stdout}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{busy} busy attempt 3 (CA")) && !l.contains("retry")),
        "{stdout}"
    );
    assert!(
        lines.iter().any(
            |l| l.starts_with(&format!("{} answered attempt 1 (CA", number(0)))
                && l.ends_with(" s)")
        ),
        "{stdout}"
    );
    let summary = lines.last().unwrap();
    assert!(
        summary.starts_with("campaign renewals finished: done 10/10, 16 attempt(s); ")
            && summary.contains("answered 5")
            && summary.contains("busy 2")
            && summary.contains("no_answer 2")
            && summary.contains("failed 1")
            && !summary.contains("machine"),
        "{summary}"
    );

    // status, as JSON.
    let at = ["--campaign", "renewals", "--store", &store];
    let (code, out, err) = run(&[&["campaign", "status", "--json"], &at[..]].concat()).await;
    assert_eq!(code, 0, "{err}");
    let p: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(p["state"], "running", "{p}");
    assert_eq!(
        (p["total"].as_u64(), p["done"].as_u64()),
        (Some(10), Some(10)),
        "{p}"
    );
    assert_eq!(p["dialled"].as_u64(), Some(u64::from(total)), "{p}");
    assert_eq!(p["outcomes"]["busy"].as_u64(), Some(2), "{p}");
    assert_eq!(p["outcomes"]["answered"].as_u64(), Some(5), "{p}");

    // results on stdout: the file's rows.
    let (code, out, err) = run(&[&["campaign", "results"], &at[..]].concat()).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(read_results(&out), rows);

    // pause, resume, cancel: each prints the new state, which status then reads.
    for (command, state) in [
        ("pause", "paused"),
        ("resume", "running"),
        ("cancel", "cancelled"),
    ] {
        let (code, out, err) = run(&[&["campaign", command], &at[..]].concat()).await;
        assert_eq!((code, out.trim()), (0, state), "{command}: {err}");
        let (code, out, _) = run(&[&["campaign", "status", "--json"], &at[..]].concat()).await;
        assert_eq!(code, 0);
        let p: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(p["state"], state, "after {command}");
    }
    let (code, out, _) = run(&[&["campaign", "status"], &at[..]].concat()).await;
    assert_eq!(code, 0);
    assert!(out.starts_with("renewals cancelled: done 10/10"), "{out}");

    // An unknown campaign: exit 1, and it says so, for every subcommand.
    let unknown = ["--campaign", "nosuch", "--store", &store];
    for command in ["status", "pause", "resume", "cancel", "results"] {
        let (code, out, err) = run(&[&["campaign", command], &unknown[..]].concat()).await;
        assert_eq!(code, 1, "{command}: {out} {err}");
        assert!(err.contains("no campaign \"nosuch\""), "{command}: {err}");
    }
    // A store that is not there is not created.
    let missing = dir.join("missing.db");
    let elsewhere = format!("sqlite:{}", missing.display());
    let (code, _, err) = run(&[
        "campaign",
        "status",
        "--campaign",
        "renewals",
        "--store",
        &elsewhere,
    ])
    .await;
    assert_eq!(code, 1, "{err}");
    assert!(!missing.exists());

    // The same file run again: the campaign was cancelled, so nothing is dialled.
    let before = fake.calls().len();
    let (code, out, err) = run(&[
        "campaign",
        "run",
        "twilio",
        "--contacts",
        file.to_str().unwrap(),
        "--from",
        FROM,
        "--stream-url",
        &stream,
        "--store",
        &store,
        "--base-url",
        &base,
    ])
    .await;
    assert_eq!(code, 0, "{out} {err}");
    assert!(err.contains("was cancelled"), "{err}");
    assert!(
        out.starts_with("campaign renewals cancelled: done 10/10"),
        "{out}"
    );
    assert_eq!(fake.calls().len(), before);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_errors_dial_nobody() {
    let dir = scratch("usage");
    let fake = FakeTwilio::start().await.unwrap();
    let base = fake.base_url().to_string();
    let good = dir.join("good.csv");
    std::fs::write(&good, "number\n+14155550100\n").unwrap();
    let no_number = dir.join("phones.csv");
    std::fs::write(&no_number, "phone\n+14155550100\n").unwrap();
    let all_bad = dir.join("bad.csv");
    std::fs::write(&all_bad, "number\nnope\n12\n").unwrap();
    let missing = dir.join("missing.csv");
    let store = format!("sqlite:{}", dir.join("campaign.db").display());
    let stream = closed_stream_url();
    let cases: [(&Path, &[&str], &str); 11] = [
        (&good, &["--window", "25:00-26:00"], "--window"),
        (&good, &["--window", "09:00-17:00 funday"], "--window"),
        (&good, &["--retry", "busy=0"], "--retry"),
        (&good, &["--retry", "sometimes=2/1m"], "unknown outcome"),
        (&good, &["--retry", "busy=2/5y"], "unknown unit"),
        (&good, &["--retry", "answered=2/1m"], "never retried"),
        (&good, &["--zone", "Mars/Olympus"], "Mars/Olympus"),
        (&good, &["--poll-first", "0s"], "--poll-first"),
        (&missing, &[], "missing.csv"),
        (&no_number, &[], "no `number` column"),
        (&all_bad, &[], "no contact to call"),
    ];
    // `campaign run PROVIDER --contacts FILE --from FROM [--stream-url S] --store --base-url`,
    // then `extra`.
    let run_campaign =
        |provider: &'static str, contacts: &Path, stream: Option<&str>, extra: &[&str]| {
            let mut args: Vec<String> = ["campaign", "run", provider, "--contacts"]
                .iter()
                .map(|a| (*a).to_owned())
                .collect();
            args.extend([
                contacts.to_str().unwrap().to_owned(),
                "--from".into(),
                FROM.into(),
            ]);
            if let Some(stream) = stream {
                args.extend(["--stream-url".to_owned(), stream.to_owned()]);
            }
            args.extend([
                "--store".to_owned(),
                store.clone(),
                "--base-url".to_owned(),
                base.clone(),
            ]);
            args.extend(extra.iter().map(|a| (*a).to_owned()));
            async move {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                run(&args).await
            }
        };
    for (contacts, extra, says) in cases {
        let (code, out, err) = run_campaign("twilio", contacts, Some(&stream), extra).await;
        assert_eq!(code, 2, "{extra:?} {contacts:?}: {out} {err}");
        assert!(err.contains(says), "{extra:?}: {err}");
        assert!(out.is_empty(), "{extra:?}: {out}");
    }
    // A file whose rows all fail says which, by line.
    let (_, _, err) = run_campaign("twilio", &all_bad, Some(&stream), &[]).await;
    assert!(
        err.contains("bad.csv line 2: ") && err.contains("bad.csv line 3: "),
        "{err}"
    );
    // No instructions for the answered calls; a stream where the carrier takes an answer URL
    // only (Plivo).
    let (code, _, err) = run_campaign("twilio", &good, None, &[]).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--stream-url WSS_URL or --answer-url URL"),
        "{err}"
    );
    let (code, _, err) = run_campaign("plivo", &good, Some(&stream), &[]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("give --answer-url"), "{err}");
    // A store that is not one.
    let (code, _, err) = run(&[
        "campaign",
        "status",
        "--campaign",
        "good",
        "--store",
        "postgres://u:secret@db/x",
    ])
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(!err.contains("secret"), "{err}");
    assert!(fake.calls().is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Ctrl-C stops the run (exit 130) and says how to resume; the same command run again
/// finishes the campaign, settling the calls the first run left under way from their ids:
/// nobody is called twice.
#[tokio::test(flavor = "multi_thread")]
async fn interrupted_and_resumed() {
    let dir = scratch("interrupt");
    let fake = FakeTwilio::start().await.unwrap();
    fake.speed(20.0);
    // 2 s of real ringing: the calls are under way when the first run is interrupted.
    fake.ring_time(Duration::from_secs(40));
    let mut contacts = String::from("number\n");
    for i in 0..4 {
        contacts.push_str(&format!("{}\n", number(i)));
    }
    let file = dir.join("spring.csv");
    std::fs::write(&file, contacts).unwrap();
    let store = format!("sqlite:{}", dir.join("campaign.db").display());
    let results = dir.join("out.csv");
    let base = fake.base_url().to_string();
    let stream = closed_stream_url();
    let args = [
        "campaign",
        "run",
        "twilio",
        "--contacts",
        file.to_str().unwrap(),
        "--from",
        FROM,
        "--stream-url",
        &stream,
        "--cps",
        "20",
        "--store",
        &store,
        "--lease",
        "300ms",
        "--poll-first",
        "50ms",
        "--poll-max",
        "200ms",
        "--results",
        results.to_str().unwrap(),
        "--base-url",
        &base,
    ];
    let child = telephony(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until every contact's call is placed (the emulator has them), then Ctrl-C.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while fake.calls().len() < 4 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the calls were not placed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = child.id().to_string();
    let kill = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(kill.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("run the same command again"), "{stderr}");
    assert!(!results.exists());

    let (code, stdout, stderr) = run(&args).await;
    assert_eq!(code, 0, "{stdout} {stderr}");
    assert_eq!(
        stderr
            .matches("left under way by a dialer that stopped")
            .count(),
        4,
        "{stderr}"
    );
    let rows = read_results(&std::fs::read_to_string(&results).unwrap());
    assert_eq!(rows.len(), 4);
    for (n, (status, outcome, attempts)) in &rows {
        // Settled from the call's id, or (when Ctrl-C came between the create and its
        // answer) unconfirmed: either way, never dialled again.
        assert_eq!((status.as_str(), *attempts), ("done", 1), "{n}");
        assert!(
            outcome == "answered" || outcome == "unconfirmed",
            "{n}: {outcome}"
        );
    }
    assert!(
        calls_by_number(&fake).values().all(|n| *n == 1),
        "{:?}",
        calls_by_number(&fake)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--machine-detection`: a machine is hung up on and comes out `machine`, retried per the
/// `machine` rule; a person is `answered`. The stream's port accepts connections and never
/// answers the WebSocket handshake, so each call stays up until the verdict (a closed port
/// would end it first).
#[tokio::test(flavor = "multi_thread")]
async fn machine_detection() {
    let dir = scratch("machine");
    let fake = FakeTwilio::start().await.unwrap();
    fake.speed(20.0);
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let stream = format!("ws://{}/media", silent.local_addr().unwrap());
    let (machine, person) = (number(0), number(1));
    fake.callee(&machine, Callee::Machine { beep: true });
    let file = dir.join("amd.csv");
    std::fs::write(&file, format!("number\n{machine}\n{person}\n")).unwrap();
    let store = format!("sqlite:{}", dir.join("campaign.db").display());
    let base = fake.base_url().to_string();
    let (code, stdout, stderr) = run(&[
        "campaign",
        "run",
        "twilio",
        "--contacts",
        file.to_str().unwrap(),
        "--from",
        FROM,
        "--stream-url",
        &stream,
        "--cps",
        "20",
        "--store",
        &store,
        "--machine-detection",
        "--retry",
        "machine=2/50ms",
        "--poll-first",
        "50ms",
        "--poll-max",
        "200ms",
        "--base-url",
        &base,
    ])
    .await;
    assert_eq!(code, 0, "{stdout} {stderr}");
    let at = ["--campaign", "amd", "--store", &store];
    let (code, out, err) = run(&[&["campaign", "results"], &at[..]].concat()).await;
    assert_eq!(code, 0, "{err}");
    let rows = read_results(&out);
    assert_eq!(
        rows[machine.as_str()],
        ("done".into(), "machine".into(), 2),
        "{out}"
    );
    assert_eq!(
        rows[person.as_str()],
        ("done".into(), "answered".into(), 1),
        "{out}"
    );
    assert!(
        stdout.contains(&format!("{machine} machine attempt 1 (CA")),
        "{stdout}"
    );
    drop(silent);
    let _ = std::fs::remove_dir_all(&dir);
}
