//! The media path in steady state: no heap allocation per 20 ms frame, either direction, for
//! every provider, and a session that holds at most 32 KiB, on every resampler backend this CPU
//! runs. Counted by a global allocator that wraps the system's (this test binary only).
//!
//! The coefficient banks are shared by every session and every backend, and built by the first
//! session that needs one; what a session "holds" here includes the banks it built, so the
//! first backend checked for each rate pays for them. No backend builds a table of its own
//! (`folded_banks_build_no_plain_table_on_any_backend` in telephony-audio checks that), and
//! `telephony bench media --simd BACKEND` measures each backend's first session in a process
//! of its own.

use std::time::Duration;

use telephony::audio::{AudioFormat, Backend, Encoding, Profile, SampleRate};
use telephony::{MediaProtocol, MediaSession, SessionConfig, SessionEvent};
use telephony_audio::counting_alloc::{self, CountingAlloc};
use telephony_testkit::{ProviderMessage, ProviderStream, SCRIPT_RATE, resample, speech_like};

#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

/// Allocations made by this thread: the test harness's other threads do not count.
fn allocations() -> u64 {
    counting_alloc::thread_allocations()
}

/// Bytes this thread allocated and has not freed.
fn live() -> i64 {
    counting_alloc::thread_live_bytes()
}

/// Ten seconds of a provider's stream, as it sends it.
fn stream(
    provider: telephony::ProviderKind,
    format: AudioFormat,
) -> (Vec<ProviderMessage>, Vec<ProviderMessage>) {
    let r = ProviderStream::record_speech(provider, format, Duration::from_secs(10)).unwrap();
    (r.opening, r.frames)
}

fn protocol(provider: telephony::ProviderKind, format: AudioFormat) -> Box<dyn MediaProtocol> {
    ProviderStream::protocol(provider, format)
}

fn check(
    provider: telephony::ProviderKind,
    format: AudioFormat,
    app_rate: SampleRate,
    profile: Profile,
) {
    let (opening, frames) = stream(provider, format);
    let reply = resample(
        &speech_like(Duration::from_secs(10), 11),
        SCRIPT_RATE,
        app_rate,
    );
    for backend in Backend::available() {
        let what = format!(
            "{provider} {}@{} app {} {profile} on {backend}",
            format.encoding.name(),
            format.rate.hz(),
            app_rate.hz()
        );
        let config = SessionConfig::new(app_rate)
            .profile(profile)
            .backend(backend);
        check_session(provider, format, config, &opening, &frames, &reply, &what);
    }
}

fn check_session(
    provider: telephony::ProviderKind,
    format: AudioFormat,
    config: SessionConfig,
    opening: &[ProviderMessage],
    frames: &[ProviderMessage],
    reply: &[i16],
    what: &str,
) {
    let spf = config.app_rate.samples_per_20ms();
    let before = live();
    let mut session = MediaSession::new(protocol(provider, format), config);
    for m in opening {
        session.handle(m.as_ws()).unwrap();
    }
    let mut sink = 0usize;
    let mut step = |session: &mut MediaSession, i: usize| {
        if let SessionEvent::Audio(pcm) = session.handle(frames[i].as_ws()).unwrap() {
            sink += pcm.len();
        }
        session
            .send_audio(&reply[i * spf..(i + 1) * spf], &mut |m| {
                sink += match m {
                    telephony::WsMessage::Text(t) => t.len(),
                    telephony::WsMessage::Binary(b) => b.len(),
                }
            })
            .unwrap();
    };
    // A second of call: buffers grow to their steady size.
    for i in 0..50 {
        step(&mut session, i);
    }
    let held = live() - before + std::mem::size_of::<MediaSession>() as i64;

    let start = allocations();
    for i in 50..frames.len().min(reply.len() / spf) {
        step(&mut session, i);
    }
    let made = allocations() - start;
    assert_eq!(made, 0, "{what}: {made} allocations over 9 s of call audio");
    assert!(sink > 0);
    assert!(held <= 32 * 1024, "{what}: a session holds {held} bytes");
    eprintln!("{what}: 0 allocations per frame; the session holds {held} bytes");
}

#[test]
fn twilio_allocates_nothing_per_frame() {
    for app in [SampleRate::Hz8000, SampleRate::Hz16000, SampleRate::Hz24000] {
        for profile in [Profile::HighQuality, Profile::LowLatency] {
            check(telephony::twilio::KIND, AudioFormat::MULAW_8K, app, profile);
        }
    }
}

#[test]
fn plivo_allocates_nothing_per_frame() {
    let l16 = AudioFormat::new(Encoding::L16Le, SampleRate::Hz16000);
    for format in [AudioFormat::MULAW_8K, l16] {
        for app in [SampleRate::Hz16000, SampleRate::Hz24000] {
            check(telephony::plivo::KIND, format, app, Profile::HighQuality);
        }
    }
}

#[test]
fn vonage_allocates_nothing_per_frame() {
    for rate in [SampleRate::Hz8000, SampleRate::Hz16000, SampleRate::Hz24000] {
        let format = AudioFormat::new(Encoding::L16Le, rate);
        for app in [SampleRate::Hz16000, SampleRate::Hz24000] {
            check(telephony::vonage::KIND, format, app, Profile::HighQuality);
        }
    }
}
