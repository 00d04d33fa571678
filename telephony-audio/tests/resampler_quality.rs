//! The resampler's quality, measured through its public API on int16 in and out: passband
//! flatness, rejection of aliases and images, saturation, and delay. Every measurement is one
//! steady-state period of a periodic signal, so tones sit on exact FFT bins and the reference
//! is exact. The SNR figures (noise, speech, tones, THD+N) are `resampler_fidelity.rs`'s,
//! measured against an analytic reference as an outside reviewer measures them.
//!
//! The figures are printed; run `cargo test -p telephony-audio --test resampler_quality --
//! --nocapture` to see them.

#![allow(clippy::print_stdout)] // the figures are the point of these tests

mod support;

use support::*;
use telephony_audio::{Profile, SampleRate};

/// Analysis period: 0.5 s, so every bin is 2 Hz at every rate.
const PERIOD_SECS: f64 = 0.5;

/// For rejection, 1 s: spurs of int16 rounding spread over twice the bins.
const LONG_PERIOD_SECS: f64 = 1.0;

struct Spec {
    profile: Profile,
    /// Passband: from `low_hz` to this fraction of the lower rate's Nyquist frequency.
    passband: f64,
    low_hz: f64,
    ripple_db: f64,
    alias_db: f64,
    image_db: f64,
}

const HQ: Spec = Spec {
    profile: Profile::HighQuality,
    passband: 0.9,
    low_hz: 0.0,
    ripple_db: 0.01,
    alias_db: 110.0,
    image_db: 105.0,
};

/// At 8 kHz: 50 to 3400 Hz.
const LL: Spec = Spec {
    profile: Profile::LowLatency,
    passband: 0.85,
    low_hz: 50.0,
    ripple_db: 0.05,
    alias_db: 100.0,
    image_db: 100.0,
};

struct Setup {
    secs: f64,
    from: SampleRate,
    to: SampleRate,
    p_in: usize,
    p_out: usize,
    /// Upsampling factor of the rational ratio.
    l: i64,
}

impl Setup {
    fn new(from: SampleRate, to: SampleRate) -> Setup {
        Setup::with_period(from, to, PERIOD_SECS)
    }

    fn with_period(from: SampleRate, to: SampleRate, secs: f64) -> Setup {
        let p_in = (f64::from(from.hz()) * secs) as usize;
        let p_out = (f64::from(to.hz()) * secs) as usize;
        let g = gcd(from.hz(), to.hz());
        Setup {
            secs,
            from,
            to,
            p_in,
            p_out,
            l: i64::from(to.hz() / g),
        }
    }

    fn hz_per_bin(&self) -> f64 {
        1.0 / self.secs
    }

    fn lower_nyquist_bin(&self) -> usize {
        self.p_in.min(self.p_out) / 2
    }

    /// Output bins where an input tone on `bin` leaves anything but itself: the images of
    /// upsampling, folded by downsampling.
    fn spurs(&self, bin: usize) -> Vec<usize> {
        let wanted = (bin < self.p_out / 2).then_some(bin);
        let mut v: Vec<usize> = (-self.l - 1..=self.l + 1)
            .map(|n| fold(bin as i64 + n * self.p_in as i64, self.p_out))
            .filter(|&b| Some(b) != wanted && b > 0 && b < self.p_out / 2)
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// One steady-state output period for one input period repeated.
    fn steady_period(&self, profile: Profile, input: &[i16]) -> Vec<i16> {
        let out = run_periodic(self.from, self.to, profile, input, 3);
        out[self.p_out..2 * self.p_out].to_vec()
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

fn rejection_db(amplitude: f64, spur: f64) -> f64 {
    db(amplitude / spur.max(1e-12))
}

#[test]
fn passband_is_flat() {
    each_backend(|backend| {
        for spec in [&HQ, &LL] {
            let mut worst = 0.0f64;
            for (from, to) in pairs() {
                let s = Setup::new(from, to);
                let lo = ((spec.low_hz / s.hz_per_bin()).ceil() as usize).max(1);
                let hi = (s.lower_nyquist_bin() as f64 * spec.passband).floor() as usize;
                // 60 tones spread over the passband, both edges included, 400 LSB each.
                let count = 60;
                let bins: Vec<usize> = (0..count)
                    .map(|i| lo + (hi - lo) * i / (count - 1))
                    .collect();
                let mut rng = Lcg(u64::from(from.hz()) * 7 + u64::from(to.hz()));
                let parts: Vec<(usize, f64, f64)> = bins
                    .iter()
                    .map(|&k| (k, 400.0, rng.unit() * std::f64::consts::TAU))
                    .collect();
                let input = quantize(&tones(s.p_in, &parts));
                let measured_in = amplitudes(&input);
                let out = amplitudes(&s.steady_period(spec.profile, &input));
                for &k in &bins {
                    let gain = db(out[k] / measured_in[k]);
                    worst = worst.max(gain.abs());
                    assert!(
                        gain.abs() <= spec.ripple_db,
                        "{:?} {from}->{to}: gain {gain:+.5} dB at {} Hz",
                        spec.profile,
                        k as f64 * s.hz_per_bin()
                    );
                }
            }
            println!(
                "{backend} {:?}: passband ripple at most {worst:.5} dB (limit {})",
                spec.profile, spec.ripple_db
            );
        }
    });
}

/// Loud tones over the whole input band, one at a time: every image or alias a tone leaves in
/// the output is measured against it.
/// High quality upsampling above 0.9 of the input's Nyquist frequency, where a Nyquist filter's
/// transition band lies: the top of each band (thousandths of that frequency) and the least
/// rejection of an image asked there, in dB.
const TRANSITION: [(usize, f64); 4] = [(920, 60.0), (950, 28.0), (975, 13.0), (1000, 5.0)];

#[test]
fn images_and_aliases_are_rejected() {
    each_backend(|backend| {
        for spec in [&HQ, &LL] {
            let (mut worst_image, mut worst_alias) = (f64::MAX, f64::MAX);
            // High quality upsampling, above 0.9 of the input's Nyquist frequency: the least
            // rejection seen in each band of `TRANSITION`.
            let mut transition = [f64::MAX; TRANSITION.len()];
            for (from, to) in pairs() {
                let s = Setup::with_period(from, to, LONG_PERIOD_SECS);
                let nyq_out = s.p_out / 2;
                let top = s.p_in / 2 - 1;
                let mut rng = Lcg(u64::from(from.hz()) ^ u64::from(to.hz()) << 20);
                // Tones from 1% of the input band to its top, with a few just above the output
                // Nyquist frequency where aliasing is hardest to reject.
                let mut probes: Vec<usize> = (1..=24).map(|i| top * i / 24).collect();
                if s.p_in > s.p_out {
                    probes.extend([nyq_out + 1, nyq_out + 7, nyq_out + 33, nyq_out + 121]);
                }
                // And every 1/128 of the lower Nyquist frequency from 0.8 to 0.98 of it, where
                // the passband error is largest. An interpolator whose outputs fall on input
                // samples turns that error into an image: those outputs are the input samples,
                // without the error, the others keep it. Between the probes above, such an image
                // can hide (one 103 dB down did, for an odd-length equiripple design with
                // 6e-5 of error at the band edge).
                let lower = s.lower_nyquist_bin();
                probes.extend((102..=125).map(|i| lower * i / 128));
                // High quality upsamples with a Nyquist filter (its transition band is centred
                // on the input's Nyquist frequency, so that one output in L is an input sample):
                // it rejects the images of the passband, tones up to 0.9 of that frequency,
                // whose images land from 1.1 of it on, and only part of those above, as the
                // README says (the filter's response at 0.92, 0.95, 0.975 and 1 gives 62, 29,
                // 14.5 and 6 dB; the probes here fall inside those bands).
                let nyquist_filter = spec.profile == Profile::HighQuality && s.p_out > s.p_in;
                let in_passband = |k: usize| !nyquist_filter || k * 10 <= lower * 9;
                let band = |k: usize| {
                    TRANSITION
                        .iter()
                        .position(|&(top, _)| k * 1000 <= top * lower)
                        .unwrap_or(TRANSITION.len() - 1)
                };
                let image_limit = |k: usize| {
                    if in_passband(k) {
                        spec.image_db
                    } else {
                        TRANSITION[band(k)].1
                    }
                };
                for group in probes.chunks(1) {
                    let amp = 29000.0;
                    let mut parts: Vec<(usize, f64, f64)> = group
                        .iter()
                        .map(|&k| (k, amp, rng.unit() * std::f64::consts::TAU))
                        .collect();
                    // Quiet passband tones keep the int16 rounding busy and spread its error like
                    // noise, so that a residue below one LSB still shows in the output instead of
                    // rounding to silence or hiding in a rounding spur.
                    let companions: Vec<usize> = (0..8).map(|_| 40 + rng.below(800)).collect();
                    for &c in &companions {
                        parts.push((c, 300.0, rng.unit() * std::f64::consts::TAU));
                    }
                    let input = quantize(&tones(s.p_in, &parts));
                    let out = amplitudes(&s.steady_period(spec.profile, &input));
                    let mut occupied: Vec<usize> = parts.iter().map(|p| p.0).collect();
                    for &c in &companions {
                        occupied.extend(s.spurs(c));
                    }
                    for &k in group {
                        let is_alias = k >= nyq_out;
                        let limit = if is_alias {
                            spec.alias_db
                        } else {
                            image_limit(k)
                        };
                        for b in s.spurs(k) {
                            // A spur that lands on another tone cannot be measured there.
                            if occupied.contains(&b)
                                || group.iter().any(|&o| o != k && s.spurs(o).contains(&b))
                            {
                                continue;
                            }
                            let r = rejection_db(amp, out[b]);
                            if is_alias {
                                worst_alias = worst_alias.min(r);
                            } else if in_passband(k) {
                                worst_image = worst_image.min(r);
                            } else {
                                transition[band(k)] = transition[band(k)].min(r);
                            }
                            assert!(
                                r >= limit,
                                "{:?} {from}->{to}: tone at {} Hz leaves {:.1} dB at {} Hz (limit {limit})",
                                spec.profile,
                                k as f64 * s.hz_per_bin(),
                                -r,
                                b as f64 * s.hz_per_bin()
                            );
                        }
                    }
                }
            }
            println!(
                "{backend} {:?}: images rejected by at least {worst_image:.1} dB, aliases by {worst_alias:.1} dB",
                spec.profile
            );
            if transition.iter().all(|&r| r < f64::MAX) {
                let [a, b, c, d] = transition;
                println!(
                    "{backend} {:?} upsampling: images of tones above 0.9 of the input's Nyquist \
                     frequency, up to 0.92 / 0.95 / 0.975 / 1 of it, at least {a:.1} / {b:.1} / \
                     {c:.1} / {d:.1} dB down",
                    spec.profile
                );
            }
        }
    });
}

/// A full-scale square wave rings past full scale once band-limited: those samples clip to
/// the rail they overshoot, never wrap around to the other one.
#[test]
fn overshoot_saturates() {
    each_backend(|_| {
        for (from, to) in pairs() {
            let p_in = from.hz() as usize / 50;
            let p_out = to.hz() as usize / 50;
            let square: Vec<i16> = (0..p_in)
                .map(|n| if n < p_in / 2 { 32767 } else { -32768 })
                .collect();
            for profile in [Profile::HighQuality, Profile::LowLatency] {
                let out = run_periodic(from, to, profile, &square, 4);
                let period = &out[2 * p_out..3 * p_out];
                let clipped = period
                    .iter()
                    .filter(|&&y| y == i16::MAX || y == i16::MIN)
                    .count();
                assert!(clipped > 0, "{profile:?} {from}->{to}: no overshoot seen");
                if profile == Profile::HighQuality {
                    let x: Vec<f64> = square.iter().map(|&v| f64::from(v)).collect();
                    let delay = resampler(from, to, profile).delay().as_secs_f64();
                    let ideal = ideal_resample_delayed(&x, p_out, delay * f64::from(to.hz()));
                    // The square wave has harmonics in the transition band, where this filter and
                    // the ideal one differ, so the two disagree by up to a few thousand near the
                    // edges; a wrap would be off by some 65 000.
                    for (j, (&y, &r)) in period.iter().zip(&ideal).enumerate() {
                        let off = (f64::from(y) - r.clamp(-32768.0, 32767.0)).abs();
                        assert!(
                            off < 5000.0,
                            "{from}->{to} at {j}: {y} where ideal is {r:.0}"
                        );
                    }
                }
            }
        }
    });
}

#[test]
fn delay_is_as_reported_and_within_budget() {
    each_backend(|backend| {
        for (from, to) in pairs() {
            let hq = resampler(from, to, Profile::HighQuality);
            let ll = resampler(from, to, Profile::LowLatency);
            let one_side_8k = from == SampleRate::Hz8000 || to == SampleRate::Hz8000;
            let budget_ms = if one_side_8k { 8.0 } else { 4.0 };
            let hq_ms = hq.delay().as_secs_f64() * 1e3;
            let ll_ms = ll.delay().as_secs_f64() * 1e3;
            println!(
                "{backend} {from}->{to}: delay {hq_ms:.3} ms (hq), {ll_ms:.3} ms (low-latency)"
            );
            assert!(hq_ms <= budget_ms, "{from}->{to}: {hq_ms} ms");
            assert!(ll_ms <= 2.5, "{from}->{to}: {ll_ms} ms");

            // The impulse response of the linear-phase filter peaks at the delay, which lies
            // between two output samples at most.
            let mut r = resampler(from, to, Profile::HighQuality);
            let mut input = vec![0i16; from.hz() as usize / 10];
            input[0] = 30000;
            let mut out = Vec::new();
            r.process_into(&input, &mut out);
            let peak = (0..out.len())
                .max_by_key(|&j| out[j].unsigned_abs())
                .unwrap();
            let exact = hq.delay().as_secs_f64() * f64::from(to.hz());
            assert!(
                (peak as f64 - exact).abs() <= 0.5 + 1e-4,
                "{from}->{to}: {peak} vs {exact}"
            );
            // `Duration` holds nanoseconds: a whole number of samples may read a hair over.
            assert_eq!(
                hq.output_delay(),
                (exact - 1e-4).ceil() as usize,
                "{from}->{to}"
            );
        }
    });
}

/// High quality upsamples with a Nyquist filter: one output in `L` falls on an input sample,
/// the filter's delay after it, and is that sample exactly, on every backend and in any
/// chunking. Those outputs carry no rounding of their own, which is what lifts the noise SNR
/// to the int16 ceiling (`tests/resampler_fidelity.rs`).
#[test]
fn upsampling_passes_the_input_samples_through() {
    each_backend(|backend| {
        for (from, to) in pairs() {
            if to.hz() <= from.hz() {
                continue;
            }
            let g = gcd(from.hz(), to.hz()) as usize;
            let (l, m) = (to.hz() as usize / g, from.hz() as usize / g);
            let mut rng = Lcg(u64::from(from.hz()) << 16 | u64::from(to.hz()));
            let input: Vec<i16> = (0..from.hz() as usize / 5)
                .map(|_| (rng.below(65536) as i32 - 32768) as i16)
                .collect();
            let mut r = resampler(from, to, Profile::HighQuality);
            // The delay at the filter rate F = L * input rate, where input `n` is at `L n` and
            // output `j` at `M j`: a whole number of samples.
            let at_f = r.delay().as_secs_f64() * f64::from(from.hz()) * l as f64;
            assert!((at_f - at_f.round()).abs() < 1e-4, "{from}->{to}: {at_f}");
            let at_f = at_f.round() as usize;
            let mut out = Vec::new();
            // Uneven chunks: the copies do not depend on where a pass starts.
            for chunk in input.chunks(97) {
                r.process_into(chunk, &mut out);
            }
            let mut checked = 0;
            for (n, &x) in input.iter().enumerate() {
                if !(l * n + at_f).is_multiple_of(m) {
                    continue;
                }
                let j = (l * n + at_f) / m;
                let Some(&y) = out.get(j) else {
                    break;
                };
                assert_eq!(y, x, "{backend} {from}->{to}: output {j} is input {n}");
                checked += 1;
            }
            assert!(
                checked > input.len() / m / 2,
                "{from}->{to}: {checked} checked"
            );
        }
    });
}

/// The low-latency filter's group delay, measured from the phase of two neighbouring tones,
/// never exceeds what it reports.
#[test]
fn low_latency_group_delay_is_bounded_by_the_reported_delay() {
    each_backend(|backend| {
        for (from, to) in pairs() {
            let s = Setup::new(from, to);
            let reported = resampler(from, to, Profile::LowLatency)
                .delay()
                .as_secs_f64();
            let edge = (s.lower_nyquist_bin() as f64 * 0.85) as usize;
            for k in [500, edge / 2, edge - 1] {
                let parts = [(k, 9000.0, 0.0), (k + 1, 9000.0, 0.0)];
                let input = quantize(&tones(s.p_in, &parts));
                let out: Vec<f64> = s
                    .steady_period(Profile::LowLatency, &input)
                    .iter()
                    .map(|&v| f64::from(v))
                    .collect();
                let spec = fft(&out);
                let phase = |b: usize| spec[b].arg();
                let mut dphi = phase(k + 1) - phase(k);
                while dphi > 0.0 {
                    dphi -= std::f64::consts::TAU;
                }
                let gd = -dphi / (std::f64::consts::TAU * s.hz_per_bin());
                println!(
                    "{backend} low-latency {from}->{to}: group delay {:.3} ms at {} Hz",
                    gd * 1e3,
                    k as f64 * s.hz_per_bin()
                );
                assert!(
                    gd <= reported + 1e-5,
                    "{from}->{to}: {gd} s at {} Hz, reported {reported} s",
                    k as f64 * s.hz_per_bin()
                );
            }
        }
    });
}

/// A sweep through the passband, fed in 20 ms chunks: the output's envelope (from the analytic
/// signal) stays flat the whole way, with no dip or click at any chunk boundary.
#[test]
fn a_sweep_comes_out_flat() {
    each_backend(|backend| {
        for spec in [&HQ, &LL] {
            for (from, to) in pairs() {
                let fin = f64::from(from.hz());
                let lower = f64::from(from.hz().min(to.hz())) / 2.0;
                let (f0, f1) = (spec.low_hz.max(100.0), spec.passband * lower);
                let n = from.hz() as usize; // one second
                let amp = 20000.0;
                let sweep: Vec<f64> = (0..n)
                    .map(|i| {
                        let t = i as f64 / fin;
                        let phase = f0 * t + (f1 - f0) * t * t / 2.0; // cycles, linear chirp
                        amp * (std::f64::consts::TAU * phase).cos()
                    })
                    .collect();
                let input = quantize(&sweep);
                let mut r = resampler(from, to, spec.profile);
                let mut out = Vec::new();
                for chunk in input.chunks(from.samples_per_20ms()) {
                    r.process_into(chunk, &mut out);
                }
                r.flush_into(&mut out);
                let y: Vec<f64> = out.iter().map(|&v| f64::from(v)).collect();
                let env = envelope(&y);
                // Away from the ends, where the sweep starts and stops abruptly.
                let m = env.len();
                let worst = env[m / 10..m * 9 / 10]
                    .iter()
                    .map(|&e| db(e / amp).abs())
                    .fold(0.0, f64::max);
                println!(
                    "{backend} {:?} sweep {from}->{to}: envelope within {worst:.5} dB",
                    spec.profile
                );
                assert!(
                    worst <= spec.ripple_db + 0.002,
                    "{:?} {from}->{to}: the envelope strays {worst:.4} dB",
                    spec.profile
                );
            }
        }
    });
}

/// |analytic signal|: the instantaneous amplitude of a narrowband signal.
fn envelope(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mut spec = fft(x);
    for (k, c) in spec.iter_mut().enumerate() {
        if k == 0 || (n.is_multiple_of(2) && k == n / 2) {
            continue;
        }
        if k < n.div_ceil(2) {
            *c *= 2.0;
        } else {
            *c *= 0.0;
        }
    }
    let mut buf = spec;
    rustfft::FftPlanner::new()
        .plan_fft_inverse(n)
        .process(&mut buf);
    buf.iter().map(|c| c.norm() / n as f64).collect()
}
