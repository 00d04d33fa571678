//! The streaming contract: chunking never changes a bit, 20 ms in gives 20 ms out, nothing is
//! held back, state lives until reset or flush, and misuse is refused without loss.

mod support;

use proptest::prelude::*;
use support::{Lcg, pairs};
use telephony_audio::{AudioError, Profile, Resampler, SampleRate};

fn signal(n: usize, seed: u64) -> Vec<i16> {
    let mut rng = Lcg(seed);
    let mut phase = 0.0f64;
    (0..n)
        .map(|i| {
            // A chirp with noise: every frequency, and sample-level detail.
            phase += 0.001 + i as f64 * 1e-6;
            let v = 20000.0 * phase.sin() + (rng.unit() - 0.5) * 4000.0;
            v as i16
        })
        .collect()
}

fn one_shot(r: &mut Resampler, input: &[i16]) -> Vec<i16> {
    let mut out = Vec::new();
    r.process_into(input, &mut out);
    r.flush_into(&mut out);
    out
}

fn chunked(r: &mut Resampler, input: &[i16], sizes: &[usize]) -> Vec<i16> {
    let mut out = Vec::new();
    let mut rest = input;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes[i % sizes.len()].min(rest.len());
        let predicted = r.output_len(n);
        assert!(
            predicted <= r.max_output_len(n),
            "output_len within max_output_len"
        );
        let mut buf = vec![0i16; r.max_output_len(n)];
        let wrote = r.process(&rest[..n], &mut buf).unwrap();
        assert_eq!(wrote, predicted, "process writes what output_len said");
        assert_eq!(
            r.output_len(0),
            0,
            "no input, no output, whatever came before"
        );
        out.extend_from_slice(&buf[..wrote]);
        rest = &rest[n..];
        i += 1;
    }
    let mut tail = vec![0i16; r.flush_len()];
    let n = r.flush(&mut tail).unwrap();
    out.extend_from_slice(&tail[..n]);
    out
}

fn rate() -> impl Strategy<Value = SampleRate> {
    prop::sample::select(SampleRate::ALL.to_vec())
}

fn profile() -> impl Strategy<Value = Profile> {
    prop::sample::select(vec![Profile::HighQuality, Profile::LowLatency])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any chunking, including empty chunks and single samples, gives the bits of one call.
    #[test]
    fn chunking_never_changes_the_output(
        from in rate(),
        to in rate(),
        profile in profile(),
        sizes in prop::collection::vec(0usize..700, 1..12),
        len in 0usize..6000,
        seed in any::<u64>(),
    ) {
        prop_assume!(sizes.iter().any(|&s| s > 0));
        let input = signal(len, seed);
        let expected = one_shot(&mut Resampler::new(from, to, profile), &input);
        let got = chunked(&mut Resampler::new(from, to, profile), &input, &sizes);
        prop_assert_eq!(got.len(), expected.len());
        prop_assert!(got == expected, "{from}->{to} {profile:?}: outputs differ");
    }
}

#[test]
fn twenty_ms_in_gives_twenty_ms_out_from_the_first_chunk() {
    for (from, to) in pairs() {
        for profile in [Profile::HighQuality, Profile::LowLatency] {
            let mut r = Resampler::new(from, to, profile);
            let input = signal(from.samples_per_20ms() * 100, 3);
            let mut out = vec![0i16; to.samples_per_20ms()];
            for chunk in input.chunks(from.samples_per_20ms()) {
                assert_eq!(r.output_len(chunk.len()), to.samples_per_20ms());
                assert_eq!(
                    r.process(chunk, &mut out),
                    Ok(to.samples_per_20ms()),
                    "{from}->{to}"
                );
            }
        }
    }
}

/// The output count follows the ratio: never ahead of `ceil(fed * to / from)`, behind it by
/// at most one period's outputs (the outputs of a period's last few inputs wait for the
/// rest of the period), and exactly on it whenever a whole number of periods is in.
#[test]
fn output_count_follows_the_ratio_whatever_the_chunks() {
    fn gcd(a: u64, b: u64) -> u64 {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    for (from, to) in pairs() {
        let (f, t) = (u64::from(from.hz()), u64::from(to.hz()));
        let g = gcd(f, t);
        // Decimators run as 2/(2M), so a period is at most twice the reduced one.
        let (period, outputs) = (2 * f / g, 2 * t / g);
        let mut r = Resampler::new(from, to, Profile::HighQuality);
        let mut rng = Lcg(9);
        let (mut fed, mut produced) = (0u64, 0u64);
        let mut feed = |n: usize, fed: &mut u64, produced: &mut u64| {
            *produced += r.process_into(&vec![1000; n], &mut Vec::new()) as u64;
            *fed += n as u64;
            let ceiling = (*fed * t).div_ceil(f);
            assert!(*produced <= ceiling, "{from}->{to} after {fed}: ahead");
            assert!(
                ceiling - *produced <= outputs,
                "{from}->{to} after {fed}: behind"
            );
            if (*fed).is_multiple_of(period) {
                assert_eq!(*produced, *fed * t / f, "{from}->{to} after {fed}");
            }
        };
        for _ in 0..300 {
            feed(rng.below(97), &mut fed, &mut produced);
        }
        feed((period - fed % period) as usize, &mut fed, &mut produced);
        assert_eq!(
            produced,
            fed * t / f,
            "{from}->{to}: a whole number of periods"
        );
        for _ in 0..20 {
            feed(from.samples_per_20ms(), &mut fed, &mut produced);
            assert_eq!(produced, fed * t / f, "{from}->{to}: 20 ms chunks");
        }
        assert!(r.max_output_len(1) >= r.output_len(1));
    }
}

#[test]
fn flush_emits_the_delay_and_resets() {
    for (from, to) in pairs() {
        for profile in [Profile::HighQuality, Profile::LowLatency] {
            let input = signal(from.samples_per_20ms() * 7 + 3, 5);
            let mut r = Resampler::new(from, to, profile);
            let first = one_shot(&mut r, &input);
            let body = (input.len() as u64 * u64::from(to.hz())).div_ceil(u64::from(from.hz()));
            assert_eq!(first.len() as u64, body + r.output_delay() as u64);
            // After a flush the resampler starts again from silence.
            assert_eq!(r.flush_len(), 0);
            let again = one_shot(&mut r, &input);
            assert_eq!(first, again, "{from}->{to} {profile:?}");
        }
    }
}

#[test]
fn reset_forgets_the_past() {
    let input = signal(3000, 8);
    let mut fresh = Resampler::new(SampleRate::Hz16000, SampleRate::Hz24000, Profile::default());
    let expected = one_shot(&mut fresh, &input);
    let mut used = Resampler::new(SampleRate::Hz16000, SampleRate::Hz24000, Profile::default());
    used.process_into(&signal(1234, 1), &mut Vec::new());
    used.reset();
    assert_eq!(one_shot(&mut used, &input), expected);
}

/// No timer: a long silence does not reset the filter, so the first samples after it are the
/// same as in one uninterrupted call.
#[test]
fn long_silence_keeps_the_state() {
    let mut input = signal(800, 2);
    input.extend(std::iter::repeat_n(0, 16000 * 5));
    input.extend(signal(800, 3));
    let mut a = Resampler::new(SampleRate::Hz16000, SampleRate::Hz8000, Profile::default());
    let expected = one_shot(&mut a, &input);
    let mut b = Resampler::new(SampleRate::Hz16000, SampleRate::Hz8000, Profile::default());
    assert_eq!(chunked(&mut b, &input, &[320]), expected);
}

#[test]
fn same_rate_is_an_exact_pass_through() {
    for rate in SampleRate::ALL {
        let mut r = Resampler::new(rate, rate, Profile::HighQuality);
        let input = signal(1000, 4);
        assert_eq!(one_shot(&mut r, &input), input);
        assert_eq!(r.output_delay(), 0);
        assert_eq!(r.delay(), std::time::Duration::ZERO);
    }
}

#[test]
fn short_buffers_are_refused_and_nothing_is_consumed() {
    let mut r = Resampler::new(SampleRate::Hz8000, SampleRate::Hz48000, Profile::default());
    let input = signal(160, 6);
    let mut small = vec![0i16; 959];
    assert_eq!(
        r.process(&input, &mut small),
        Err(AudioError::OutputTooSmall {
            needed: 960,
            capacity: 959
        })
    );
    let mut ok = vec![0i16; 960];
    assert_eq!(r.process(&input, &mut ok), Ok(960));
    let mut reference = Resampler::new(SampleRate::Hz8000, SampleRate::Hz48000, Profile::default());
    let mut expected = vec![0i16; 960];
    reference.process(&input, &mut expected).unwrap();
    assert_eq!(ok, expected);
    let mut tiny = [0i16; 3];
    assert!(r.flush(&mut tiny).is_err());
    assert_eq!(r.flush_len(), r.output_delay());
}

#[test]
fn long_calls_do_not_drift() {
    // An hour of 20 ms chunks at 48 kHz -> 8 kHz: counts stay exact, no state grows.
    let mut r = Resampler::new(SampleRate::Hz48000, SampleRate::Hz8000, Profile::LowLatency);
    let chunk = signal(960, 1);
    let mut out = vec![0i16; 160];
    for _ in 0..(3600 * 50) {
        assert_eq!(r.process(&chunk, &mut out), Ok(160));
    }
}
