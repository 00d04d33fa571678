//! Audio benchmarks: G.711, every resampler pair in both profiles, the SIMD backends, and one
//! leg of a call's media path. Ends with a summary in the README's terms (real-time streams
//! per core, samples per second).
//!
//! ```text
//! cargo bench -p telephony-bench --bench audio                 # everything, about four minutes
//! cargo bench -p telephony-bench --bench audio -- resample/hq  # a subset (the summary shows what ran)
//! ```

#![allow(missing_docs, clippy::print_stdout)]

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, SystemTime};

use criterion::{BenchmarkId, Criterion, Throughput};
use telephony::audio::{
    AudioFormat, Backend, Decoder, Encoder, Framer, Profile, Resampler, SampleRate, decode_alaw,
    decode_ulaw, encode_alaw, encode_ulaw,
};

fn speechlike(n: usize, rate: u32) -> Vec<i16> {
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            let v = 8000.0 * (t * 220.0 * std::f64::consts::TAU).sin()
                + 4000.0 * (t * 1330.0 * std::f64::consts::TAU).sin()
                + 1500.0 * (t * 3100.0 * std::f64::consts::TAU).sin();
            v as i16
        })
        .collect()
}

/// The G.711 slice functions on 160-sample frames, on the AVX2 loops where the CPU has them
/// (`cargo bench -p telephony-bench --bench audio -- g711`); with `TELEPHONY_SIMD=portable`,
/// the table loops they replace. The README's "Speed, measured" has both.
fn g711(c: &mut Criterion) {
    let mut g = c.benchmark_group("g711");
    let pcm = speechlike(160, 8000);
    let mut codes = vec![0u8; 160];
    encode_ulaw(&pcm, &mut codes);
    let mut out_codes = vec![0u8; 160];
    let mut out_pcm = vec![0i16; 160];
    g.throughput(Throughput::Elements(160));
    g.bench_function("ulaw_encode_160", |b| {
        b.iter(|| encode_ulaw(black_box(&pcm), &mut out_codes));
    });
    g.bench_function("ulaw_decode_160", |b| {
        b.iter(|| decode_ulaw(black_box(&codes), &mut out_pcm));
    });
    g.bench_function("alaw_encode_160", |b| {
        b.iter(|| encode_alaw(black_box(&pcm), &mut out_codes));
    });
    g.bench_function("alaw_decode_160", |b| {
        b.iter(|| decode_alaw(black_box(&codes), &mut out_pcm));
    });
    g.finish();
}

fn pair_name(from: SampleRate, to: SampleRate) -> String {
    format!("{}-{}", from.hz(), to.hz())
}

/// One 20 ms chunk through a resampler that has been running: the steady state of a call.
fn bench_chunk(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: BenchmarkId,
    mut r: Resampler,
) {
    let from = r.input_rate();
    let chunk = speechlike(from.samples_per_20ms(), from.hz());
    let mut out = vec![0i16; r.max_output_len(chunk.len())];
    for _ in 0..50 {
        r.process(&chunk, &mut out).unwrap();
    }
    g.bench_function(id, |b| {
        b.iter(|| r.process(black_box(&chunk), &mut out).unwrap());
    });
}

fn resample(c: &mut Criterion) {
    for profile in [Profile::HighQuality, Profile::LowLatency] {
        let mut g = c.benchmark_group(format!("resample/{profile}"));
        for from in SampleRate::ALL {
            for to in SampleRate::ALL {
                if from == to {
                    continue;
                }
                g.throughput(Throughput::Elements(from.samples_per_20ms() as u64));
                let id = BenchmarkId::from_parameter(pair_name(from, to));
                bench_chunk(&mut g, id, Resampler::new(from, to, profile));
            }
        }
        g.finish();
    }
}

/// The same work on each instruction set this CPU has: what the SIMD kernels (and their
/// `unsafe`) buy.
fn backends(c: &mut Criterion) {
    let mut g = c.benchmark_group("backend");
    for (from, to) in [
        (SampleRate::Hz8000, SampleRate::Hz16000),
        (SampleRate::Hz24000, SampleRate::Hz8000),
        (SampleRate::Hz8000, SampleRate::Hz24000),
    ] {
        for backend in Backend::available() {
            for profile in [Profile::HighQuality, Profile::LowLatency] {
                let r = Resampler::with_backend(from, to, profile, backend);
                g.throughput(Throughput::Elements(from.samples_per_20ms() as u64));
                let id =
                    BenchmarkId::new(format!("{}/{profile}", backend.name()), pair_name(from, to));
                bench_chunk(&mut g, id, r);
            }
        }
    }
    g.finish();
}

/// One leg of a Twilio call, both directions, per 20 ms: μ-law 8 kHz to 16 kHz PCM for the
/// agent, and 16 kHz PCM back to framed μ-law.
fn media_leg(c: &mut Criterion) {
    let mut g = c.benchmark_group("leg");
    for profile in [Profile::HighQuality, Profile::LowLatency] {
        let mut decoder = Decoder::new(AudioFormat::MULAW_8K, SampleRate::Hz16000, profile);
        let mut encoder = Encoder::new(SampleRate::Hz16000, AudioFormat::MULAW_8K, profile);
        let mut framer = Framer::new(AudioFormat::MULAW_8K, Duration::from_millis(20));
        let mut wire_in = vec![0u8; 160];
        encode_ulaw(&speechlike(160, 8000), &mut wire_in);
        let reply = speechlike(320, 16000);
        let mut pcm = Vec::with_capacity(1024);
        let mut wire_out = Vec::with_capacity(1024);
        g.throughput(Throughput::Elements(1));
        g.bench_function(format!("twilio_mulaw8k_app16k/{profile}"), |b| {
            b.iter(|| {
                pcm.clear();
                decoder.decode(black_box(&wire_in), &mut pcm).unwrap();
                wire_out.clear();
                encoder.encode(black_box(&reply), &mut wire_out);
                let mut frames = 0;
                framer.push(&wire_out, |f| frames += f.len());
                black_box(frames)
            });
        });
    }
    g.finish();
}

/// Median time per iteration of a benchmark that ran in this invocation (criterion keeps
/// older ones on disk), from criterion's own record.
fn median_ns(dir: &Path, since: SystemTime) -> Option<f64> {
    let file = dir.join("new/estimates.json");
    if std::fs::metadata(&file).ok()?.modified().ok()? < since {
        return None;
    }
    let text = std::fs::read_to_string(file).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["median"]["point_estimate"].as_f64()
}

fn criterion_dir() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("criterion")
}

fn summary(since: SystemTime) {
    let root = criterion_dir();
    let mut lines = Vec::new();
    for (name, id) in [
        ("μ-law encode, 160-sample frames", "g711/ulaw_encode_160"),
        ("μ-law decode, 160-sample frames", "g711/ulaw_decode_160"),
        ("A-law encode, 160-sample frames", "g711/alaw_encode_160"),
        ("A-law decode, 160-sample frames", "g711/alaw_decode_160"),
    ] {
        if let Some(ns) = median_ns(&root.join(id), since) {
            lines.push(format!("| {name} | {:.2} G samples/s |", 160.0 / ns));
        }
    }
    for profile in ["hq", "low-latency"] {
        for from in SampleRate::ALL {
            for to in SampleRate::ALL {
                let dir = root
                    .join(format!("resample_{profile}"))
                    .join(pair_name(from, to));
                if let Some(ns) = median_ns(&dir, since) {
                    lines.push(format!(
                        "| resample {profile} {} → {} | {:.0} streams per core ({:.2} µs per 20 ms) |",
                        from.hz(),
                        to.hz(),
                        20e6 / ns,
                        ns / 1e3
                    ));
                }
            }
        }
    }
    for backend in ["avx512", "avx2", "portable"] {
        for profile in ["hq", "low-latency"] {
            for pair in ["8000-16000", "24000-8000", "8000-24000"] {
                let dir = root
                    .join("backend")
                    .join(format!("{backend}_{profile}"))
                    .join(pair);
                if let Some(ns) = median_ns(&dir, since) {
                    lines.push(format!(
                        "| {backend} backend, {profile} {pair} | {:.0} streams per core |",
                        20e6 / ns
                    ));
                }
            }
        }
    }
    for profile in ["hq", "low-latency"] {
        let dir = root
            .join("leg")
            .join(format!("twilio_mulaw8k_app16k_{profile}"));
        if let Some(ns) = median_ns(&dir, since) {
            lines.push(format!(
                "| Twilio leg (μ-law 8k ⇄ PCM 16k, both directions), {profile} | {:.0} legs per core ({:.2} µs per 20 ms) |",
                20e6 / ns,
                ns / 1e3
            ));
        }
    }
    if !lines.is_empty() {
        println!("\n| measurement | result |\n|---|---|");
        for l in lines {
            println!("{l}");
        }
    }
}

fn main() {
    let started = SystemTime::now();
    let mut c = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    g711(&mut c);
    resample(&mut c);
    backends(&mut c);
    media_leg(&mut c);
    c.final_summary();
    summary(started);
}
