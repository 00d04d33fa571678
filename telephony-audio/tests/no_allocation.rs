//! The media path's steady state allocates nothing: counted with a global allocator, for every
//! rate pair and profile, on the objects a call holds per direction.

use std::time::Duration;

use telephony_audio::counting_alloc::{self, CountingAlloc};
use telephony_audio::{
    AudioFormat, Backend, Decoder, Encoder, Encoding, Framer, Profile, Resampler, SampleRate,
    Transcoder,
};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// One test only, so no other test allocates while this one counts. Every rate pair, both
/// profiles, every encoding on the wire (G.711 encode and decode included) and every backend
/// this CPU runs, through each object a call holds: the resampler, decoder, encoder, framer
/// and transcoder.
#[test]
fn steady_state_allocates_nothing() {
    for (k, encoding) in Encoding::ALL.into_iter().enumerate() {
        // The transcoder's far side: another encoding, so every encoder is on some path.
        let other = Encoding::ALL[(k + 1) % Encoding::ALL.len()];
        for from in SampleRate::ALL {
            for to in SampleRate::ALL {
                for profile in [Profile::HighQuality, Profile::LowLatency] {
                    for backend in Backend::available() {
                        let wire = AudioFormat::new(encoding, from);
                        let far = AudioFormat::new(other, to);
                        let what = format!("{wire} <-> {to} ({far}) {profile:?} on {backend}");
                        let allocations = count_steady_state(wire, far, profile, backend);
                        assert_eq!(allocations, 0, "{what}");
                    }
                }
            }
        }
    }
}

fn count_steady_state(
    wire: AudioFormat,
    far: AudioFormat,
    profile: Profile,
    backend: Backend,
) -> u64 {
    let (from, to) = (wire.rate, far.rate);
    let mut resampler = Resampler::with_backend(from, to, profile, backend);
    let mut decoder = Decoder::with_backend(wire, to, profile, backend);
    let mut encoder = Encoder::with_backend(to, wire, profile, backend);
    let mut transcoder = Transcoder::with_backend(wire, far, profile, backend);
    let mut back = Transcoder::with_backend(far, wire, profile, backend);
    let mut framer = Framer::new(wire, Duration::from_millis(20));
    let pcm_in: Vec<i16> = (0..from.samples_per_20ms())
        .map(|i| (i * 97 % 30000) as i16 - 15000)
        .collect();
    let mut wire_in = Vec::new();
    wire.encoding.encode(&pcm_in, &mut wire_in);
    let far_pcm: Vec<i16> = (0..to.samples_per_20ms())
        .map(|i| (i * 53 % 20000) as i16 - 10000)
        .collect();
    let mut far_in = Vec::new();
    far.encoding.encode(&far_pcm, &mut far_in);
    let reply: Vec<i16> = vec![1234; to.samples_per_20ms() + 7];
    let mut out = vec![0i16; resampler.max_output_len(pcm_in.len())];
    let mut pcm = Vec::with_capacity(4096);
    let mut wire_out = Vec::with_capacity(8192);
    let mut far_out = Vec::with_capacity(8192);
    let mut sent = 0usize;
    // Allocations made, by any thread, while a chunk was processed.
    let mut allocations = 0;
    let mut chunk = |count: bool| {
        let before = counting_alloc::allocations();
        resampler.process(&pcm_in, &mut out).unwrap();
        pcm.clear();
        decoder.decode(&wire_in, &mut pcm).unwrap();
        wire_out.clear();
        encoder.encode(&reply, &mut wire_out);
        framer.push(&wire_out, |frame| sent += frame.len());
        far_out.clear();
        transcoder.transcode(&wire_in, &mut far_out).unwrap();
        wire_out.clear();
        back.transcode(&far_in, &mut wire_out).unwrap();
        if count {
            allocations += counting_alloc::allocations() - before;
        }
    };
    // Scratch buffers reach their size: the reply is not a whole number of the filter's
    // periods (up to 12 samples), so its output count varies chunk by chunk, through every
    // phase within 12 chunks.
    for _ in 0..30 {
        chunk(false);
    }
    for _ in 0..200 {
        chunk(true);
    }
    assert!(sent > 0, "the framer sent frames");
    allocations
}
