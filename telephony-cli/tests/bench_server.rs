//! `telephony bench server` as a user runs it, small: a few real-time streams of every
//! carrier through real sockets into the echo agent, in its own process. What is checked is
//! what must hold on any machine, however busy: every reply came, in its place, with the
//! figures the README names; how fast is the benchmark's to say, never a test's (the latency
//! target is set out of reach of a busy machine).

use std::process::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_telephony"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// `telephony bench server PROVIDER --calls N --seconds S` with targets any machine meets,
/// however busy, then `extra`.
fn bench(provider: &str, calls: &str, seconds: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "bench",
        "server",
        provider,
        "--calls",
        calls,
        "--seconds",
        seconds,
        "--p99-ms",
        "60000",
        // A handful of calls shares the process's own growth among few: per call, it says
        // little.
        "--kib-per-call",
        "1000000",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn every_carrier_streams_through_real_sockets_and_loses_nothing() {
    for (provider, wire) in [
        ("twilio", "mulaw@8000"),
        ("plivo", "mulaw@8000"),
        ("vonage", "s16le@16000"),
        ("telnyx", "mulaw@8000"),
    ] {
        let (code, out, err) = bench(provider, "6", "3", &["--json"]);
        assert_eq!(code, 0, "{provider}: {err}\n{out}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["wire"], wire, "{v}");
        assert_eq!(v["concurrent_calls"], 6, "{v}");
        assert_eq!(v["held"], true, "{v}");
        assert_eq!(v["lost_frames"], 0, "{provider}: {v}");
        assert_eq!(v["reordered_frames"], 0, "{provider}: {v}");
        assert_eq!(v["failed_streams"], 0, "{provider}: {v}");
        // Every stream heard every reply the echo owes it: 150 frames each, one reply each
        // (less what the resampler holds back at the start, at most a frame).
        let replies = v["replies"].as_u64().unwrap();
        let owed = v["expected_replies"].as_u64().unwrap();
        assert_eq!(replies, owed, "{provider}: {v}");
        assert!(owed >= 6 * 149, "{provider}: {owed} replies owed");
        for key in [
            "legs_per_core",
            "in_process_legs_per_core",
            "p50_turnaround_ms",
            "p99_turnaround_ms",
            "p999_turnaround_ms",
            "bytes_per_call",
            "agent_cpu",
        ] {
            assert!(v[key].as_f64().is_some(), "{provider}: no {key} in {v}");
        }
        let p50 = v["p50_turnaround_ms"].as_f64().unwrap();
        let p999 = v["p999_turnaround_ms"].as_f64().unwrap();
        assert!(p50 > 0.0 && p50 <= p999, "{provider}: {v}");
    }
}

#[test]
fn the_table_names_what_holds_and_the_in_process_figure() {
    let (code, out, err) = bench("twilio", "4", "2", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("telephony bench server: Twilio, wire mulaw@8000, app 16000 Hz, hq"),
        "{out}"
    );
    assert!(out.contains("holds 4 concurrent calls"), "{out}");
    assert!(out.contains("in process (telephony bench media):"), "{out}");
}

#[test]
fn what_it_cannot_run_is_one_line_and_exit_2() {
    for args in [
        &["bench", "server", "twilio", "--calls", "0"][..],
        &["bench", "server", "twilio", "--wire", "s16le@16000"],
        &["bench", "server", "twilio", "--seconds", "1"],
        &["bench", "server", "twilio", "--app-rate", "11025"],
        &["bench", "server", "twilio", "--p99-ms", "-1"],
        &["bench", "server", "twilio", "--kib-per-call", "0"],
        &[
            "bench",
            "server",
            "twilio",
            "--calls",
            "18446744073709551615",
        ],
        &["bench", "server", "twilio", "--calls", "10001"],
        &["bench", "server", "twilio", "--max-calls", "50"],
        &[
            "bench",
            "server",
            "twilio",
            "--calls",
            "10",
            "--max-calls",
            "500",
        ],
    ] {
        let (code, out, err) = run(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    }
}

#[test]
fn a_load_that_misses_its_target_exits_1_after_its_json() {
    // Targets no machine meets: the one load misses one (the latency target stands on top of
    // what a busy machine's own stalls add, so on such a machine it is the memory one), the
    // JSON still says what was measured and why it did not hold, and the exit status says so.
    let (code, out, err) = run(&[
        "bench",
        "server",
        "vonage",
        "--calls",
        "2",
        "--seconds",
        "2",
        "--p99-ms",
        "0.000001",
        "--kib-per-call",
        "0.001",
        "--json",
    ]);
    assert_eq!(code, 1, "{err}\n{out}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["held"], false, "{v}");
    assert_eq!(v["concurrent_calls"], 2, "{v}");
    let bound = v["bound"].as_str().unwrap();
    assert!(
        bound.contains("p99 turnaround") || bound.contains("KiB resident per call"),
        "{v}"
    );
    assert_eq!(v["lost_frames"], 0, "{v}");
}

#[test]
fn each_call_can_begin_with_its_signed_webhook() {
    // The carrier's inbound webhook before each stream, signed as the carrier signs: the
    // agent's router verifies it and answers with the stream (Telnyx's through the command
    // API the generator stands in for); a webhook refused would fail the load.
    for provider in ["twilio", "plivo", "vonage", "telnyx"] {
        let (code, out, err) = bench(provider, "3", "2", &["--webhooks", "--json"]);
        assert_eq!(code, 0, "{provider}: {err}\n{out}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["held"], true, "{provider}: {v}");
        assert_eq!(v["lost_frames"], 0, "{provider}: {v}");
        let hooks = &v["webhooks"];
        for key in ["p50_answer_ms", "p99_answer_ms", "agent_cpu_us_each"] {
            assert!(hooks[key].as_f64().is_some(), "{provider}: no {key} in {v}");
        }
        assert!(
            hooks["agent_cpu_us_each"].as_f64().unwrap() > 0.0,
            "{provider}: {v}"
        );
    }
}
