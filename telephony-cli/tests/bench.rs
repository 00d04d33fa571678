//! `telephony bench media` as a user runs it: the figures it promises, in both forms, for each
//! provider; and a one-line error for what it cannot run. Only the shape and the invariants
//! are checked (no allocation per frame, a session within 32 KiB); speed is the benches' job.

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

#[test]
fn json_has_the_documented_keys_for_every_provider() {
    for (provider, wire) in [
        ("twilio", "mulaw@8000"),
        ("plivo", "mulaw@8000"),
        ("vonage", "s16le@16000"),
    ] {
        let (code, out, err) = run(&["bench", "media", provider, "--seconds", "2", "--json"]);
        assert_eq!(code, 0, "{provider}: {err}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["wire"], wire, "{v}");
        assert_eq!(v["app_rate"], 16000);
        assert_eq!(v["frames"], 100);
        assert!(v["legs_per_core"].as_f64().unwrap() > 0.0, "{v}");
        assert!(v["us_per_frame"].as_f64().unwrap() > 0.0, "{v}");
        let bytes = v["session_bytes"].as_u64().unwrap();
        assert!(
            bytes > 1000 && bytes <= 32 * 1024,
            "{provider}: {bytes} bytes"
        );
        assert_eq!(v["allocations_per_frame"], 0.0, "{provider}: {v}");
        for stage in [
            "parse",
            "decode",
            "resample",
            "encode",
            "serialize",
            "other",
        ] {
            assert!(
                v["breakdown"][stage].as_f64().is_some(),
                "{provider}: no {stage}"
            );
        }
    }
}

#[test]
fn the_table_reads_as_documented() {
    let (code, out, err) = run(&[
        "bench",
        "media",
        "--provider",
        "plivo",
        "--wire",
        "s16le@16000",
        "--app-rate",
        "24000",
        "--profile",
        "low-latency",
        "--seconds",
        "2",
    ]);
    assert_eq!(code, 0, "{err}");
    for expected in [
        "Plivo, wire s16le@16000, app 24000 Hz, low-latency",
        "legs per core",
        "per 20 ms frame",
        "resample",
        "serialize",
        "session memory",
        "0.000 heap allocations per frame",
    ] {
        assert!(out.contains(expected), "no {expected:?} in\n{out}");
    }
}

#[test]
fn what_it_cannot_run_is_one_line_and_exit_2() {
    for (args, says) in [
        (
            &["--provider", "exotel"][..],
            "possible values: twilio, plivo, vonage",
        ),
        // A near miss gets a suggestion, positional or flag.
        (&["twilo"][..], "a similar value exists: 'twilio'"),
        (
            &["--provider", "vonnage"][..],
            "a similar value exists: 'vonage'",
        ),
        (&[][..], "PROVIDER"),
        (
            &["twilio", "--provider", "plivo"][..],
            "cannot be used with",
        ),
        (
            &["twilio", "--simd", "avx9000"][..],
            "--simd avx9000: unknown SIMD backend",
        ),
        (
            &["--provider", "twilio", "--app-rate", "11025"],
            "--app-rate",
        ),
        (
            &["--provider", "twilio", "--wire", "s16le@16000"],
            "does not stream",
        ),
        (
            &["--provider", "vonage", "--wire", "mulaw@8000"],
            "does not stream",
        ),
        (&["--provider", "twilio", "--seconds", "0"], "--seconds"),
        (&["--provider", "twilio", "--profile", "fast"], "--profile"),
        (&["twilio", "--seconds", "-5"], "--seconds"),
    ] {
        let mut all = vec!["bench", "media"];
        all.extend_from_slice(args);
        let (code, out, err) = run(&all);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

/// Every resampler backend this CPU runs meets the memory and allocation targets, named in the
/// output; TELEPHONY_SIMD caps the default choice.
#[test]
fn every_backend_is_measured_by_name() {
    let available = telephony::audio::Backend::available();
    for backend in &available {
        let (code, out, err) = run(&[
            "bench",
            "media",
            "plivo",
            "--app-rate",
            "24000",
            "--simd",
            backend.name(),
            "--seconds",
            "1",
            "--json",
        ]);
        assert_eq!(code, 0, "{backend}: {err}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["simd"], backend.name(), "{v}");
        let bytes = v["session_bytes"].as_u64().unwrap();
        assert!(bytes <= 32 * 1024, "{backend}: {bytes} bytes");
        assert_eq!(v["allocations_per_frame"], 0.0, "{backend}: {v}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_telephony"))
        .args(["bench", "media", "twilio", "--seconds", "1", "--json"])
        .env("TELEPHONY_SIMD", "portable")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["simd"], "portable", "{v}");
}

/// The JSON's figures are rounded to what is measured: no binary float noise such as
/// 0.043000000000000003.
#[test]
fn json_figures_carry_no_float_noise() {
    let (code, out, err) = run(&["bench", "media", "twilio", "--seconds", "1", "--json"]);
    assert_eq!(code, 0, "{err}");
    let mut number = String::new();
    for c in out.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
            continue;
        }
        if let Some((_, fraction)) = number.split_once('.') {
            assert!(fraction.len() <= 3, "{number} in {out}");
        }
        number.clear();
    }
}
