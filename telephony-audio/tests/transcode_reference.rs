//! Decoder, Encoder and Transcoder against the pieces they are made of: their output is, to the
//! bit, a `Resampler` run by hand between codecs written out sample by sample here, and no
//! chunking of the input changes it.

use proptest::prelude::*;
use telephony_audio::{
    AudioFormat, Decoder, Encoder, Encoding, Profile, Resampler, SampleRate, Transcoder,
    alaw_decode_sample, alaw_encode_sample, ulaw_decode_sample, ulaw_encode_sample,
};

/// Wire bytes to samples, one sample at a time, from each format's definition.
fn decode_by_hand(encoding: Encoding, bytes: &[u8]) -> Vec<i16> {
    let width = encoding.bytes_per_sample();
    assert_eq!(bytes.len() % width, 0);
    bytes
        .chunks_exact(width)
        .map(|b| match encoding {
            Encoding::Mulaw => ulaw_decode_sample(b[0]),
            Encoding::Alaw => alaw_decode_sample(b[0]),
            Encoding::L16Le => i16::from_le_bytes([b[0], b[1]]),
            Encoding::L16Be => i16::from_be_bytes([b[0], b[1]]),
            Encoding::F32Le => {
                // Full scale ±1.0, rounded to nearest (ties to even), saturated; NaN is 0.
                let v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]) * 32768.0;
                if v.is_nan() {
                    0
                } else {
                    v.clamp(-32768.0, 32767.0).round_ties_even() as i16
                }
            }
            _ => unreachable!("an encoding this test does not know: {encoding:?}"),
        })
        .collect()
}

fn encode_by_hand(encoding: Encoding, samples: &[i16]) -> Vec<u8> {
    let mut out = Vec::with_capacity(samples.len() * encoding.bytes_per_sample());
    for &x in samples {
        match encoding {
            Encoding::Mulaw => out.push(ulaw_encode_sample(x)),
            Encoding::Alaw => out.push(alaw_encode_sample(x)),
            Encoding::L16Le => out.extend_from_slice(&x.to_le_bytes()),
            Encoding::L16Be => out.extend_from_slice(&x.to_be_bytes()),
            Encoding::F32Le => out.extend_from_slice(&(f32::from(x) / 32768.0).to_le_bytes()),
            _ => unreachable!("an encoding this test does not know: {encoding:?}"),
        }
    }
    out
}

/// The whole signal through a fresh resampler, then its tail.
fn resample_by_hand(from: SampleRate, to: SampleRate, profile: Profile, x: &[i16]) -> Vec<i16> {
    let mut r = Resampler::new(from, to, profile);
    let mut out = vec![0i16; r.output_len(x.len())];
    let n = r.process(x, &mut out).unwrap();
    out.truncate(n);
    let mut tail = vec![0i16; r.flush_len()];
    let t = r.flush(&mut tail).unwrap();
    out.extend_from_slice(&tail[..t]);
    out
}

/// A chirp over the whole band with noise, loud enough to reach the codecs' top segments and,
/// after resampling, to overshoot into saturation now and then.
fn pcm(n: usize, seed: u64) -> Vec<i16> {
    let mut state = seed | 1;
    let mut phase = 0.0f64;
    (0..n)
        .map(|i| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let noise = ((state >> 33) as f64 / (1u64 << 31) as f64) - 0.5;
            phase += 0.002 + i as f64 * 2e-6;
            (31000.0 * phase.sin() + 3000.0 * noise).clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

/// Wire bytes for `pcm`; for f32, also values a float stream can carry that PCM cannot (over
/// full scale, infinities, NaN), which the decoder must saturate or zero.
fn wire_bytes(encoding: Encoding, pcm: &[i16]) -> Vec<u8> {
    let mut bytes = encode_by_hand(encoding, pcm);
    if encoding == Encoding::F32Le {
        let specials = [
            1.5f32,
            -2.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            0.99999,
        ];
        for (k, v) in specials.iter().enumerate() {
            let at = (37 + 101 * k) * 4;
            if at + 4 <= bytes.len() {
                bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
            }
        }
    }
    bytes
}

/// Splits `len` items into chunks of the given sizes, cycling; sizes of 0 give empty chunks.
fn chunks(len: usize, sizes: &[usize]) -> Vec<std::ops::Range<usize>> {
    let mut v = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < len {
        let n = sizes[i % sizes.len()].min(len - at);
        v.push(at..at + n);
        at += n;
        i += 1;
        assert!(i < 1_000_000, "sizes must not all be 0");
    }
    v
}

fn decode_chunked(d: &mut Decoder, bytes: &[u8], sizes: &[usize]) -> Vec<i16> {
    let width = d.wire_format().encoding.bytes_per_sample();
    let mut out = Vec::new();
    for r in chunks(bytes.len() / width, sizes) {
        let before = out.len();
        let n = d
            .decode(&bytes[r.start * width..r.end * width], &mut out)
            .unwrap();
        assert_eq!(out.len() - before, n, "decode returns what it appended");
    }
    let before = out.len();
    let n = d.flush(&mut out);
    assert_eq!(out.len() - before, n, "flush returns what it appended");
    out
}

fn encode_chunked(e: &mut Encoder, pcm: &[i16], sizes: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in chunks(pcm.len(), sizes) {
        let before = out.len();
        let n = e.encode(&pcm[r], &mut out);
        assert_eq!(out.len() - before, n, "encode returns what it appended");
    }
    let before = out.len();
    let n = e.flush(&mut out);
    assert_eq!(out.len() - before, n, "flush returns what it appended");
    out
}

fn transcode_chunked(t: &mut Transcoder, bytes: &[u8], sizes: &[usize]) -> Vec<u8> {
    let width = t.input_format().encoding.bytes_per_sample();
    let mut out = Vec::new();
    for r in chunks(bytes.len() / width, sizes) {
        let before = out.len();
        let n = t
            .transcode(&bytes[r.start * width..r.end * width], &mut out)
            .unwrap();
        assert_eq!(out.len() - before, n, "transcode returns what it appended");
    }
    let before = out.len();
    let n = t.flush(&mut out);
    assert_eq!(out.len() - before, n, "flush returns what it appended");
    out
}

fn fmt(text: &str) -> AudioFormat {
    text.parse().unwrap()
}

/// Rate changes both ways, through every encoding, and one pass-through.
const TRANSCODES: [(&str, &str); 8] = [
    ("mulaw@8000", "s16le@16000"),
    ("s16le@16000", "mulaw@8000"),
    ("alaw@8000", "f32le@24000"),
    ("f32le@48000", "alaw@8000"),
    ("s16be@32000", "s16le@16000"),
    ("s16le@24000", "s16be@48000"),
    ("f32le@16000", "mulaw@48000"),
    ("alaw@16000", "mulaw@16000"),
];

const PROFILES: [Profile; 2] = [Profile::HighQuality, Profile::LowLatency];

#[test]
fn decoder_is_the_codec_then_the_resampler() {
    for (from, to) in TRANSCODES {
        let (wire, app) = (fmt(from), fmt(to).rate);
        for profile in PROFILES {
            let bytes = wire_bytes(
                wire.encoding,
                &pcm(3 * wire.rate.samples_per_20ms() * 50, 7),
            );
            let expected = resample_by_hand(
                wire.rate,
                app,
                profile,
                &decode_by_hand(wire.encoding, &bytes),
            );
            let got = decode_chunked(&mut Decoder::new(wire, app, profile), &bytes, &[usize::MAX]);
            assert!(got == expected, "{from} -> {app} {profile:?}: differs");
        }
    }
}

#[test]
fn encoder_is_the_resampler_then_the_codec() {
    for (from, to) in TRANSCODES {
        let (app, wire) = (fmt(from).rate, fmt(to));
        for profile in PROFILES {
            let x = pcm(3 * app.samples_per_20ms() * 50, 11);
            let expected = encode_by_hand(
                wire.encoding,
                &resample_by_hand(app, wire.rate, profile, &x),
            );
            let got = encode_chunked(&mut Encoder::new(app, wire, profile), &x, &[usize::MAX]);
            assert!(got == expected, "{app} -> {to} {profile:?}: differs");
        }
    }
}

#[test]
fn transcoder_is_decode_resample_encode() {
    for (from, to) in TRANSCODES {
        let (a, b) = (fmt(from), fmt(to));
        for profile in PROFILES {
            let bytes = wire_bytes(a.encoding, &pcm(3 * a.rate.samples_per_20ms() * 50, 13));
            let expected = encode_by_hand(
                b.encoding,
                &resample_by_hand(a.rate, b.rate, profile, &decode_by_hand(a.encoding, &bytes)),
            );
            let mut t = Transcoder::new(a, b, profile);
            assert_eq!(t.output_format(), b);
            let got = transcode_chunked(&mut t, &bytes, &[usize::MAX]);
            assert!(got == expected, "{from} -> {to} {profile:?}: differs");
        }
    }
}

/// After `reset`, a converter gives what a fresh one gives: nothing of the old stream leaks.
#[test]
fn reset_gives_a_fresh_stream() {
    for (from, to) in TRANSCODES {
        let (a, b) = (fmt(from), fmt(to));
        let first = wire_bytes(a.encoding, &pcm(a.rate.samples_per_20ms() * 7 + 3, 17));
        let second = wire_bytes(a.encoding, &pcm(a.rate.samples_per_20ms() * 5, 19));
        let fresh = transcode_chunked(
            &mut Transcoder::new(a, b, Profile::HighQuality),
            &second,
            &[usize::MAX],
        );
        let mut t = Transcoder::new(a, b, Profile::HighQuality);
        let mut sink = Vec::new();
        t.transcode(&first, &mut sink).unwrap();
        t.reset();
        assert!(
            transcode_chunked(&mut t, &second, &[usize::MAX]) == fresh,
            "{from} -> {to}"
        );
    }
}

fn format() -> impl Strategy<Value = AudioFormat> {
    (
        prop::sample::select(Encoding::ALL.to_vec()),
        prop::sample::select(SampleRate::ALL.to_vec()),
    )
        .prop_map(|(e, r)| AudioFormat::new(e, r))
}

fn profile() -> impl Strategy<Value = Profile> {
    prop::sample::select(PROFILES.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Any split of the input, empty chunks and single samples included, gives the bytes the
    /// composition by hand gives for the whole signal.
    #[test]
    fn chunking_never_changes_what_the_converters_produce(
        a in format(),
        b in format(),
        profile in profile(),
        sizes in prop::collection::vec(0usize..500, 1..10),
        len in 0usize..4000,
        seed in any::<u64>(),
    ) {
        prop_assume!(sizes.iter().any(|&s| s > 0));
        let x = pcm(len, seed);
        let bytes = wire_bytes(a.encoding, &x);

        let decoded = resample_by_hand(a.rate, b.rate, profile, &decode_by_hand(a.encoding, &bytes));
        let got = decode_chunked(&mut Decoder::new(a, b.rate, profile), &bytes, &sizes);
        prop_assert!(got == decoded, "decoder {a} -> {}", b.rate);

        let encoded = encode_by_hand(b.encoding, &resample_by_hand(a.rate, b.rate, profile, &x));
        let got = encode_chunked(&mut Encoder::new(a.rate, b, profile), &x, &sizes);
        prop_assert!(got == encoded, "encoder {} -> {b}", a.rate);

        let transcoded = encode_by_hand(b.encoding, &decoded);
        let got = transcode_chunked(&mut Transcoder::new(a, b, profile), &bytes, &sizes);
        prop_assert!(got == transcoded, "transcoder {a} -> {b}");
    }
}
