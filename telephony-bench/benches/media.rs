//! The media path per provider: the protocol's decode and encode alone, and a whole
//! `MediaSession` leg (one 20 ms frame in from the provider, one 20 ms of app PCM out), with
//! the provider's frames as telephony-testkit writes them.
//!
//! ```text
//! cargo bench -p telephony-bench --bench media                    # everything, about two minutes
//! cargo bench -p telephony-bench --bench media -- session/twilio  # one provider's legs
//! ```
//!
//! `telephony bench media` measures the same legs with a per-stage breakdown.

#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use telephony::audio::{AudioFormat, Encoding, Profile, SampleRate};
use telephony::{
    MediaCommand, MediaEvent, MediaProtocol, MediaSession, ProviderKind, SessionConfig,
    SessionEvent, WsMessage,
};
use telephony_testkit::{
    ProviderMessage, ProviderStream, Recorded, SCRIPT_RATE, resample, speech_like,
};

/// Ten seconds of what `provider` sends in `format`.
fn stream(provider: ProviderKind, format: AudioFormat) -> Recorded {
    ProviderStream::record_speech(provider, format, Duration::from_secs(10))
        .expect("a format the provider streams")
}

fn protocol(provider: ProviderKind, format: AudioFormat) -> Box<dyn MediaProtocol> {
    ProviderStream::protocol(provider, format)
}

fn name(format: AudioFormat) -> String {
    format!("{}{}k", format.encoding.name(), format.rate.hz() / 1000)
}

const L16_16K: AudioFormat = AudioFormat::L16LE_16K;

fn cases() -> Vec<(ProviderKind, AudioFormat)> {
    vec![
        (telephony::twilio::KIND, AudioFormat::MULAW_8K),
        (telephony::plivo::KIND, AudioFormat::MULAW_8K),
        (
            telephony::plivo::KIND,
            AudioFormat::new(Encoding::L16Le, SampleRate::Hz16000),
        ),
        (telephony::vonage::KIND, L16_16K),
    ]
}

fn protocols(c: &mut Criterion) {
    let mut g = c.benchmark_group("protocol");
    g.throughput(Throughput::Elements(1));
    for (provider, format) in cases() {
        let s = stream(provider, format);
        let mut p = protocol(provider, format);
        for m in &s.opening {
            p.decode(m.as_ws()).unwrap();
        }
        let id = format!("{}-{}", provider.id(), name(format));
        let mut i = 0;
        g.bench_function(format!("{id}/decode_media"), |b| {
            b.iter(|| {
                i = (i + 1) % s.frames.len();
                match p.decode(black_box(s.frames[i].as_ws())) {
                    Ok(MediaEvent::Audio { payload, .. }) => payload.len(),
                    _ => 0,
                }
            });
        });
        g.bench_function(format!("{id}/encode_media"), |b| {
            b.iter(|| {
                i = (i + 1) % s.wire.len();
                let mut len = 0;
                p.encode(MediaCommand::Audio(black_box(&s.wire[i])), &mut |m| {
                    len += match m {
                        WsMessage::Text(t) => t.len(),
                        WsMessage::Binary(b) => b.len(),
                    }
                })
                .unwrap();
                len
            });
        });
    }
    g.finish();
}

/// What the JSON providers' media path is made of, against what it replaced: base64 of a
/// 20 ms μ-law frame (ours and the `base64` crate's), and reading a Twilio media message (the
/// fast path and serde_json). Ours runs its AVX2 blocks where the CPU has them; with
/// `TELEPHONY_SIMD=portable`, its table path (`cargo bench -p telephony-bench --bench media --
/// pieces`; the README's "Capacity" has the figures).
fn pieces(c: &mut Criterion) {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use telephony_core::media::{b64, scan};

    let mut g = c.benchmark_group("pieces");
    g.throughput(Throughput::Elements(1));
    let s = stream(telephony::twilio::KIND, AudioFormat::MULAW_8K);
    let frame = &s.wire[100];
    let text = STANDARD.encode(frame);
    let mut bytes = Vec::with_capacity(512);
    let mut out = String::with_capacity(512);
    g.bench_function("base64_decode_160/ours", |b| {
        b.iter(|| b64::decode_into(black_box(text.as_bytes()), &mut bytes).unwrap());
    });
    g.bench_function("base64_decode_160/base64_crate", |b| {
        b.iter(|| {
            bytes.clear();
            STANDARD
                .decode_vec(black_box(text.as_bytes()), &mut bytes)
                .unwrap();
        });
    });
    g.bench_function("base64_encode_160/ours", |b| {
        b.iter(|| {
            out.clear();
            b64::encode_into(black_box(frame), &mut out);
        });
    });
    g.bench_function("base64_encode_160/base64_crate", |b| {
        b.iter(|| {
            out.clear();
            STANDARD.encode_string(black_box(frame), &mut out);
        });
    });
    let ProviderMessage::Text(message) = &s.frames[100] else {
        unreachable!("Twilio media is text")
    };
    g.bench_function("twilio_media_json/scan", |b| {
        b.iter(|| scan::media_message(black_box(message), &["streamSid"]).map(|m| m.payload.len()));
    });
    g.bench_function("twilio_media_json/serde_json_value", |b| {
        b.iter(|| {
            serde_json::from_str::<serde_json::Value>(black_box(message))
                .ok()
                .map(|v| v["media"]["payload"].as_str().map_or(0, str::len))
        });
    });
    g.finish();
}

fn sessions(c: &mut Criterion) {
    let mut g = c.benchmark_group("session");
    g.throughput(Throughput::Elements(1));
    for (provider, format) in cases() {
        let s = stream(provider, format);
        for app in [SampleRate::Hz16000, SampleRate::Hz24000] {
            for profile in [Profile::HighQuality, Profile::LowLatency] {
                let spf = app.samples_per_20ms();
                let reply = resample(&speech_like(Duration::from_secs(10), 11), SCRIPT_RATE, app);
                let mut session = MediaSession::new(
                    protocol(provider, format),
                    SessionConfig::new(app).profile(profile),
                );
                for m in &s.opening {
                    session.handle(m.as_ws()).unwrap();
                }
                let n = s.frames.len().min(reply.len() / spf);
                let mut i = 0;
                let mut leg = |session: &mut MediaSession| {
                    i = (i + 1) % n;
                    let mut carried = 0;
                    if let SessionEvent::Audio(pcm) = session.handle(s.frames[i].as_ws()).unwrap() {
                        carried += pcm.len();
                    }
                    session
                        .send_audio(&reply[i * spf..(i + 1) * spf], &mut |m| {
                            carried += match m {
                                WsMessage::Text(t) => t.len(),
                                WsMessage::Binary(b) => b.len(),
                            }
                        })
                        .unwrap();
                    carried
                };
                for _ in 0..50 {
                    leg(&mut session);
                }
                g.bench_function(
                    format!(
                        "{}-{}/app{}k/{profile}",
                        provider.id(),
                        name(format),
                        app.hz() / 1000
                    ),
                    |b| b.iter(|| black_box(leg(&mut session))),
                );
            }
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = pieces, protocols, sessions
}
criterion_main!(benches);
