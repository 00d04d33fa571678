//! `telephony audio transcode` as a user runs it: a real process, stdin and stdout.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use telephony::audio::{AudioFormat, Profile, Transcoder};

fn telephony() -> Command {
    Command::new(env!("CARGO_BIN_EXE_telephony"))
}

fn run(args: &[&str], stdin: &[u8]) -> (i32, Vec<u8>, String) {
    let mut child = telephony()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (
        out.status.code().unwrap(),
        out.stdout,
        String::from_utf8(out.stderr).unwrap(),
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
    // One second in: two seconds... of samples: 16 000, plus the filter's 124-sample tail.
    assert_eq!(out.len(), 2 * (16000 + 124));
    assert_eq!(
        out,
        library("mulaw@8000", "s16le@16000", Profile::HighQuality, &input)
    );
}

#[test]
fn chunk_length_never_changes_the_bytes() {
    let input = mulaw_speechlike(4000);
    let expected = library("mulaw@8000", "f32le@48000", Profile::LowLatency, &input);
    for chunk in ["20", "7.5", "0.1", "1000", "0"] {
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
