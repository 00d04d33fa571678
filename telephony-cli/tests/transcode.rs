//! `telephony audio transcode` as a user runs it: a real process, stdin and stdout.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use telephony::audio::{AudioFormat, Profile, Transcoder};

fn telephony() -> Command {
    Command::new(env!("CARGO_BIN_EXE_telephony"))
}

/// Runs the command to the end, or kills it and fails after a minute: a command that spins
/// forever fails the test instead of hanging it.
fn run(args: &[&str], stdin: &[u8]) -> (i32, Vec<u8>, String) {
    let mut child = telephony()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        stdout.read_to_end(&mut v).unwrap();
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        stderr.read_to_end(&mut v).unwrap();
        v
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("telephony {args:?} still running after a minute");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    writer.join().unwrap();
    (
        status.code().unwrap(),
        out_reader.join().unwrap(),
        String::from_utf8(err_reader.join().unwrap()).unwrap(),
    )
}

fn mulaw_speechlike(samples: usize) -> Vec<u8> {
    (0..samples)
        .map(|n| {
            let t = n as f64 / 8000.0;
            let v = 9000.0 * (t * 440.0 * std::f64::consts::TAU).sin()
                + 3000.0 * (t * 1270.0 * std::f64::consts::TAU).sin();
            telephony::audio::ulaw_encode_sample(v as i16)
        })
        .collect()
}

fn library(from: &str, to: &str, profile: Profile, input: &[u8]) -> Vec<u8> {
    let from: AudioFormat = from.parse().unwrap();
    let to: AudioFormat = to.parse().unwrap();
    let mut t = Transcoder::new(from, to, profile);
    let mut out = Vec::new();
    t.transcode(input, &mut out).unwrap();
    t.flush(&mut out);
    out
}

#[test]
fn converts_mulaw_8k_to_l16_16k_exactly_like_the_library() {
    let input = mulaw_speechlike(8000);
    let (code, out, err) = run(
        &[
            "audio",
            "transcode",
            "--from",
            "mulaw@8000",
            "--to",
            "s16le@16000",
        ],
        &input,
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.is_empty(), "{err}");
    // One second in: 16 000 samples out, plus the filter's tail, its delay.
    let tail = telephony::audio::Resampler::new(
        telephony::audio::SampleRate::Hz8000,
        telephony::audio::SampleRate::Hz16000,
        Profile::HighQuality,
    )
    .output_delay();
    assert_eq!(out.len(), 2 * (16000 + tail));
    assert_eq!(
        out,
        library("mulaw@8000", "s16le@16000", Profile::HighQuality, &input)
    );
}

#[test]
fn chunk_length_never_changes_the_bytes() {
    let input = mulaw_speechlike(4000);
    let expected = library("mulaw@8000", "f32le@48000", Profile::LowLatency, &input);
    for chunk in ["20", "7.5", "0.3", "0.125", "1000", "60000", "0"] {
        let (code, out, err) = run(
            &[
                "audio",
                "transcode",
                "--from",
                "mulaw@8000",
                "--to",
                "f32le@48000",
                "--profile",
                "low-latency",
                "--chunk-ms",
                chunk,
            ],
            &input,
        );
        assert_eq!(code, 0, "{chunk}: {err}");
        assert!(out == expected, "--chunk-ms {chunk}: output differs");
    }
}

#[test]
fn every_encoding_round_trips_through_the_command() {
    let pcm: Vec<i16> = (0..1600)
        .map(|n| ((n * 37) % 20000 - 10000) as i16)
        .collect();
    let raw: Vec<u8> = pcm.iter().flat_map(|s| s.to_le_bytes()).collect();
    for enc in ["mulaw", "alaw", "s16le", "s16be", "f32le"] {
        let to = format!("{enc}@16000");
        let (code, encoded, err) = run(
            &["audio", "transcode", "--from", "s16le@16000", "--to", &to],
            &raw,
        );
        assert_eq!(code, 0, "{enc}: {err}");
        assert_eq!(
            encoded,
            library("s16le@16000", &to, Profile::HighQuality, &raw),
            "{enc}"
        );
        let (code, back, err) = run(
            &["audio", "transcode", "--from", &to, "--to", "s16le@16000"],
            &encoded,
        );
        assert_eq!(code, 0, "{enc}: {err}");
        if enc.starts_with('s') || enc == "f32le" {
            assert_eq!(back, raw, "{enc} is lossless");
        } else {
            assert_eq!(back.len(), raw.len(), "{enc}");
        }
    }
}

/// The output of each chunk arrives before the next chunk is written: nothing is held back.
#[test]
fn each_chunk_is_written_as_soon_as_it_is_converted() {
    let mut child = telephony()
        .args([
            "audio",
            "transcode",
            "--from",
            "mulaw@8000",
            "--to",
            "s16le@16000",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for _ in 0..3 {
            let mut frame = vec![0u8; 640]; // 20 ms of 16 kHz L16
            stdout.read_exact(&mut frame).unwrap();
            tx.send(()).unwrap();
        }
    });
    for _ in 0..3 {
        stdin.write_all(&[0xFF; 160]).unwrap();
        stdin.flush().unwrap();
        rx.recv_timeout(Duration::from_secs(20))
            .expect("20 ms of output for 20 ms of input, before more input arrives");
    }
    drop(stdin);
    reader.join().unwrap();
    assert!(child.wait().unwrap().success());
}

#[test]
fn bad_arguments_are_one_line_and_exit_2() {
    for args in [
        &[
            "audio",
            "transcode",
            "--from",
            "mulaw@44100",
            "--to",
            "s16le@16000",
        ][..],
        &[
            "audio",
            "transcode",
            "--from",
            "opus@8000",
            "--to",
            "s16le@16000",
        ],
        &[
            "audio",
            "transcode",
            "--from",
            "mulaw",
            "--to",
            "s16le@16000",
        ],
        &["audio", "transcode", "--from", "mulaw@8000"],
        &[
            "audio",
            "transcode",
            "--from",
            "mulaw@8000",
            "--to",
            "s16le@8000",
            "--chunk-ms",
            "-3",
        ],
        &[
            "audio",
            "transcode",
            "--from",
            "mulaw@8000",
            "--to",
            "s16le@8000",
            "--profile",
            "fast",
        ],
        &["audio", "transcode", "--bogus"],
    ] {
        let (code, out, err) = run(args, b"");
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(out.is_empty());
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("telephony: "), "{err}");
    }
    let (_, _, err) = run(
        &[
            "audio",
            "transcode",
            "--from",
            "mulaw@44100",
            "--to",
            "s16le@16000",
        ],
        b"",
    );
    assert!(
        err.contains("44100") && err.contains("8000, 16000"),
        "{err}"
    );
}

fn transcode_args<'a>(from: &'a str, to: &'a str, chunk: &'a str) -> [&'a str; 8] {
    [
        "audio",
        "transcode",
        "--from",
        from,
        "--to",
        to,
        "--chunk-ms",
        chunk,
    ]
}

/// Less than one sample a chunk used to spin forever without reading (1e-300 ms); now it is
/// refused, with the smallest length that works at the input's rate.
#[test]
fn a_chunk_under_one_sample_is_refused_naming_the_smallest() {
    for (from, chunk, smallest) in [
        ("mulaw@8000", "1e-300", "0.125"),
        ("mulaw@8000", "0.1", "0.125"),
        ("s16le@16000", "0.06", "0.0625"),
        ("f32le@48000", "0.02", "0.020833333333333332"),
        ("f32le@48000", "5e-324", "0.020833333333333332"),
    ] {
        let (code, out, err) = run(&transcode_args(from, "s16le@8000", chunk), &[0; 4800]);
        assert_eq!(code, 2, "{from} --chunk-ms {chunk}: {err}");
        assert!(out.is_empty(), "{from} --chunk-ms {chunk}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.starts_with("telephony: "), "{err}");
        assert!(
            err.contains(&format!("the smallest is {smallest} ")),
            "{from} --chunk-ms {chunk}: {err}"
        );
    }
}

/// The smallest length the error names is accepted as it is printed, and gives the same bytes.
#[test]
fn the_smallest_chunk_named_is_accepted() {
    let pcm: Vec<u8> = (0..480)
        .flat_map(|n| ((n as f32 / 480.0) - 0.5).to_le_bytes())
        .collect();
    for (from, smallest) in [
        ("f32le@48000", "0.020833333333333332"),
        ("f32le@24000", "0.041666666666666664"),
        ("f32le@8000", "0.125"),
    ] {
        let (code, out, err) = run(&transcode_args(from, "s16le@16000", smallest), &pcm);
        assert_eq!(code, 0, "{from} --chunk-ms {smallest}: {err}");
        assert_eq!(
            out,
            library(from, "s16le@16000", Profile::HighQuality, &pcm),
            "{from}"
        );
    }
}

/// A negative length reaches the value's own check (clap used to read `-5` as an unknown flag).
#[test]
fn a_negative_chunk_is_refused_as_a_length() {
    for chunk in ["-5", "-0.5", "-1e3"] {
        let (code, out, err) = run(&transcode_args("mulaw@8000", "s16le@8000", chunk), b"");
        assert_eq!(code, 2, "--chunk-ms {chunk}: {err}");
        assert!(out.is_empty());
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!(
                "telephony: --chunk-ms {chunk}: expected 0 or a number of milliseconds"
            )),
            "--chunk-ms {chunk}: {err}"
        );
    }
}

/// A chunk of an hour of 48 kHz f32 would ask for 700 MB at once; a minute is the cap.
#[test]
fn a_chunk_over_a_minute_is_refused() {
    for chunk in ["60000.5", "3600000", "1e300", "inf", "NaN"] {
        let (code, out, err) = run(&transcode_args("f32le@48000", "s16le@8000", chunk), b"");
        assert_eq!(code, 2, "--chunk-ms {chunk}: {err}");
        assert!(out.is_empty());
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains("60000"), "--chunk-ms {chunk}: {err}");
    }
    let (code, _, err) = run(
        &transcode_args("f32le@48000", "s16le@8000", "60000"),
        &[0; 8],
    );
    assert_eq!(code, 0, "{err}");
}

/// With --chunk-ms 0 each read is fed as it comes; a sample split between two reads is carried
/// over, not dropped or fed as half a sample. Each piece's output is awaited before the next
/// piece is written, so every piece is a read of its own.
#[test]
fn chunk_0_carries_a_sample_split_across_reads() {
    let pcm: Vec<f32> = (0..64).map(|n| (n as f32 - 32.0) / 40.0).collect();
    let raw: Vec<u8> = pcm.iter().flat_map(|s| s.to_le_bytes()).collect();
    let expected = library("f32le@16000", "s16le@16000", Profile::HighQuality, &raw);
    assert_eq!(expected.len(), 128);
    let mut child = telephony()
        .args(transcode_args("f32le@16000", "s16le@16000", "0"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<usize>();
    let (got_tx, got_rx) = mpsc::channel::<Vec<u8>>();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        while let Ok(n) = rx.recv() {
            let mut part = vec![0u8; n];
            stdout.read_exact(&mut part).unwrap();
            all.extend_from_slice(&part);
            got_tx.send(part).unwrap();
        }
        all
    });
    // Piece boundaries at odd offsets, inside samples: 5 = 1 sample + 1 byte, then 3 more bytes
    // finish it, and so on.
    let mut sent = 0;
    let mut whole_before = 0;
    for len in [5usize, 3, 7, 1, 9, 2, 229] {
        stdin.write_all(&raw[sent..sent + len]).unwrap();
        stdin.flush().unwrap();
        sent += len;
        let whole = sent / 4;
        if whole > whole_before {
            tx.send(2 * (whole - whole_before)).unwrap();
            let part = got_rx
                .recv_timeout(Duration::from_secs(20))
                .expect("output for the whole samples read so far");
            assert_eq!(
                part,
                expected[2 * whole_before..2 * whole],
                "after {sent} bytes"
            );
            whole_before = whole;
        }
    }
    assert_eq!(sent, raw.len());
    drop(tx);
    drop(stdin);
    let all = reader.join().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success());
    assert_eq!(all, expected);
}

#[test]
fn a_partial_sample_at_the_end_is_reported_after_the_whole_ones() {
    let (code, out, err) = run(
        &[
            "audio",
            "transcode",
            "--from",
            "s16le@8000",
            "--to",
            "s16le@8000",
        ],
        &[1, 0, 2, 0, 3],
    );
    assert_eq!(code, 2);
    assert_eq!(out, [1, 0, 2, 0]);
    assert!(
        err.contains("partial sample") && err.contains("1 byte"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
}

#[test]
fn help_and_version_exit_0() {
    for args in [
        &["--help"][..],
        &["--version"],
        &["audio", "transcode", "--help"],
    ] {
        let (code, out, _) = run(args, b"");
        assert_eq!(code, 0, "{args:?}");
        assert!(!out.is_empty());
    }
}
