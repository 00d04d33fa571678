//! The high-quality resampler measured as an outside reviewer measures it.
//!
//! Each signal is an analytic band-limited signal: a sum of sinusoids on the bins of a 1 s
//! period, known exactly at every instant. It is rounded to int16 at the input rate, fed
//! through the public API in 20 ms chunks (as `telephony audio transcode --profile hq` feeds
//! it), and the output's steady-state period is compared with the analytic signal evaluated at
//! the output's instants, shifted by the delay the output itself shows: estimated by
//! cross-correlation with the broadband noise, refined below a sample by maximising the
//! correlation's band-limited interpolation. Nothing is taken from the resampler's own account
//! of itself, so the error holds everything a listener gets that is not the ideal signal: the
//! input's int16 rounding, the filter's passband error, the output's int16 rounding, and any
//! error of delay.
//!
//! The measures: SNR on noise (−15 dBFS RMS, flat to 0.9 of the lower Nyquist frequency), on
//! speech (the fixture, band-limited the same way), on single tones at −1 dBFS from 100 Hz to
//! 0.85 of the lower Nyquist frequency (100 Hz to 3.4 kHz when one side is 8 kHz), and THD+N of
//! a −1 dBFS tone at 997 Hz: everything in the output that is not that ideal tone, a gain or
//! phase error included, against the tone.
//!
//! Beside each SNR the test computes its int16 ceiling: the same int16 input through an ideal
//! band-limited resampler (brick wall at the lower Nyquist frequency, outputs on the input's
//! instants where the ratio has any), rounded to int16. No resampler of int16 to int16 does
//! better on average, whatever its filter.
//!
//! Run `cargo test -p telephony-audio --test resampler_fidelity -- --nocapture` for the figures.

#![allow(clippy::print_stdout)] // the figures are the point of these tests

mod support;

use std::f64::consts::TAU;

use support::*;
use telephony_audio::{Profile, SampleRate};

/// Analysis period, in seconds: bins are 1 Hz apart, so 997 Hz and every prime frequency is a
/// bin and its tone is exactly periodic.
const PERIOD_SECS: usize = 1;

/// −15 dBFS RMS.
const NOISE_RMS: f64 = 5800.0;

/// −1 dBFS: the amplitude of the single tones and of the THD+N tone.
const TONE_AMPLITUDE: f64 = 29205.0;

/// One pair's figures on one backend, in dB.
#[derive(Debug, Clone, Copy)]
struct Figures {
    noise: f64,
    noise_ceiling: f64,
    noise_ceiling_at_delay: f64,
    speech: f64,
    speech_ceiling: f64,
    speech_ceiling_at_delay: f64,
    /// The worst single tone, and its frequency.
    tone: f64,
    tone_hz: f64,
    thd_n: f64,
    /// Estimated delay, in output samples.
    delay: f64,
}

/// What one measured signal gives.
struct Snr {
    snr: f64,
    ceiling: f64,
    ceiling_at_delay: f64,
}

/// One rate pair being measured: its periods and the delay its output shows.
struct Bench {
    from: SampleRate,
    to: SampleRate,
    p_in: usize,
    p_out: usize,
}

impl Bench {
    fn new(from: SampleRate, to: SampleRate) -> Bench {
        Bench {
            from,
            to,
            p_in: from.hz() as usize * PERIOD_SECS,
            p_out: to.hz() as usize * PERIOD_SECS,
        }
    }

    /// The lower of the two Nyquist frequencies, in Hz.
    fn lower_nyquist(&self) -> f64 {
        f64::from(self.from.hz().min(self.to.hz())) / 2.0
    }

    /// The steady-state output period for the analytic input `x` (one period at the input
    /// rate), rounded to int16 and fed in 20 ms chunks.
    fn output(&self, x: &[f64]) -> Vec<f64> {
        let out = run_periodic(self.from, self.to, Profile::HighQuality, &quantize(x), 3);
        out[self.p_out..2 * self.p_out]
            .iter()
            .map(|&v| f64::from(v))
            .collect()
    }

    /// SNR of `y` against the analytic `x` delayed by `delay` output samples, and the int16
    /// ceiling for `x`.
    fn snr(&self, x: &[f64], y: &[f64], delay: f64) -> Snr {
        let reference = ideal_resample_delayed(x, self.p_out, delay);
        Snr {
            snr: snr_db(&reference, y),
            ceiling: self.ceiling(x, 0.0),
            ceiling_at_delay: self.ceiling(x, delay),
        }
    }

    /// SNR of the ideal band-limited resampling of `x` rounded to int16, delayed by `delay`
    /// output samples and rounded to int16 again, against the analytic `x` so delayed. At a
    /// delay of 0 the outputs fall on the input's instants wherever the ratio has such outputs,
    /// and there the two roundings are one.
    fn ceiling(&self, x: &[f64], delay: f64) -> f64 {
        let input: Vec<f64> = quantize(x).iter().map(|&v| f64::from(v)).collect();
        let ideal: Vec<f64> = ideal_resample_delayed(&input, self.p_out, delay)
            .iter()
            .map(|v| v.round().clamp(-32768.0, 32767.0))
            .collect();
        snr_db(&ideal_resample_delayed(x, self.p_out, delay), &ideal)
    }

    /// SNR of a single tone of `hz` at −1 dBFS, with the delay measured on noise.
    fn tone(&self, hz: usize, delay: f64) -> f64 {
        let phase = 0.3;
        let x = tones(self.p_in, &[(hz, TONE_AMPLITUDE, phase)]);
        let y = self.output(&x);
        let fs = f64::from(self.to.hz());
        let reference: Vec<f64> = (0..self.p_out)
            .map(|j| {
                let t = (j as f64 - delay) / fs;
                TONE_AMPLITUDE * (TAU * hz as f64 * t + phase).cos()
            })
            .collect();
        snr_db(&reference, &y)
    }
}

fn snr_db(reference: &[f64], got: &[f64]) -> f64 {
    let signal: f64 = reference.iter().map(|r| r * r).sum();
    let error: f64 = reference
        .iter()
        .zip(got)
        .map(|(r, y)| (y - r).powi(2))
        .sum();
    power_db(signal, error)
}

/// The delay of `y` against `reference` (both one period at the output rate), in output
/// samples: the peak of their circular cross-correlation, then the maximum of its band-limited
/// interpolation within a sample of that peak.
fn estimate_delay(reference: &[f64], y: &[f64]) -> f64 {
    let p = y.len();
    let (r, yy) = (fft(reference), fft(y));
    // Cross-spectrum: y(t) = r(t - d) makes it |R|^2 e^{-i w d}, whose inverse peaks at d.
    let cross: Vec<_> = yy.iter().zip(&r).map(|(a, b)| a * b.conj()).collect();
    let correlation = ifft_real(&cross);
    let peak = (0..p)
        .max_by(|&a, &b| correlation[a].total_cmp(&correlation[b]))
        .expect("a period has samples");
    // The correlation between the samples is its Fourier series; only bins where the reference
    // has energy contribute.
    let bins: Vec<(f64, rustfft::num_complex::Complex64)> = cross
        .iter()
        .enumerate()
        .filter(|(_, c)| c.norm() > 0.0)
        .map(|(k, &c)| {
            let k = if k > p / 2 {
                k as f64 - p as f64
            } else {
                k as f64
            };
            (TAU * k / p as f64, c)
        })
        .collect();
    let at = |d: f64| -> f64 {
        bins.iter()
            .map(|&(w, c)| (c * rustfft::num_complex::Complex64::from_polar(1.0, w * d)).re)
            .sum()
    };
    // Golden-section search for the maximum on [peak - 1, peak + 1].
    let golden = (5f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (peak as f64 - 1.0, peak as f64 + 1.0);
    let (mut c, mut d) = (b - golden * (b - a), a + golden * (b - a));
    let (mut fc, mut fd) = (at(c), at(d));
    while b - a > 1e-9 {
        if fc > fd {
            (b, d, fd) = (d, c, fc);
            c = b - golden * (b - a);
            fc = at(c);
        } else {
            (a, c, fc) = (c, d, fd);
            d = a + golden * (b - a);
            fd = at(d);
        }
    }
    let delay = (a + b) / 2.0;
    // A delay past half the period reads as a negative one.
    if delay > p as f64 / 2.0 {
        delay - p as f64
    } else {
        delay
    }
}

fn is_prime(n: usize) -> bool {
    n >= 2
        && (2..)
            .take_while(|d| d * d <= n)
            .all(|d| !n.is_multiple_of(d))
}

/// Tone frequencies (Hz) for a lower Nyquist frequency: 34 steps from 100 Hz to 0.85 of it
/// (100 Hz to 3.4 kHz at 8 kHz), each moved to the prime just below, so that no tone's period
/// is a whole number of samples and its int16 rounding spreads like noise.
fn tone_frequencies(lower_nyquist: f64) -> Vec<usize> {
    let top = 0.85 * lower_nyquist;
    let count = 34u32;
    (0..count)
        .map(|i| {
            let f = 100.0 + (top - 100.0) * f64::from(i) / f64::from(count - 1);
            let mut n = f.floor() as usize;
            while !is_prime(n) {
                n -= 1;
            }
            n
        })
        .collect()
}

fn measure(from: SampleRate, to: SampleRate, speech_16k: &[f64]) -> Figures {
    let bench = Bench::new(from, to);
    let band = 0.9 * bench.lower_nyquist();
    let fin = f64::from(from.hz());

    let noise = band_limited_noise(bench.p_in, fin, band, NOISE_RMS, 11);
    let y = bench.output(&noise);
    let delay = estimate_delay(&ideal_resample(&noise, bench.p_out), &y);
    let noise_snr = bench.snr(&noise, &y, delay);

    let speech = band_limit(
        &ideal_resample(speech_16k, speech_16k.len() * from.hz() as usize / 16000),
        fin,
        band,
    );
    let speech_bench = Bench {
        p_in: speech.len(),
        p_out: speech.len() * to.hz() as usize / from.hz() as usize,
        ..bench
    };
    let y = speech_bench.output(&speech);
    let speech_snr = speech_bench.snr(&speech, &y, delay);

    let (tone, tone_hz) = tone_frequencies(bench.lower_nyquist())
        .into_iter()
        .map(|hz| (bench.tone(hz, delay), hz as f64))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .expect("tones");
    let thd_n = -bench.tone(997, delay);

    Figures {
        noise: noise_snr.snr,
        noise_ceiling: noise_snr.ceiling,
        noise_ceiling_at_delay: noise_snr.ceiling_at_delay,
        speech: speech_snr.snr,
        speech_ceiling: speech_snr.ceiling,
        speech_ceiling_at_delay: speech_snr.ceiling_at_delay,
        tone,
        tone_hz,
        thd_n,
        delay,
    }
}

/// The targets for an outside measurement of the high-quality profile.
const NOISE_TARGET: f64 = 84.0;
const SPEECH_TARGET: f64 = 78.0;
const TONE_TARGET: f64 = 92.5;
const THD_N_TARGET: f64 = -92.5;

/// What the filter may cost beyond the int16 rounding that its delay implies, in dB.
const FILTER_MARGIN: f64 = 0.15;

/// A noise or speech SNR against its targets. Every output that does not fall on an input
/// sample carries a rounding of its own on top of the input's, so the ceiling depends on how
/// many do: one in `L` when upsampling by `L/M` (the Nyquist filter's delay puts them there, and
/// they are the input samples), and it sinks under the noise target from `L = 3` on (83.9 dB
/// at 3:1, 83.5 dB at 6:1, for an ideal filter too). Where the ceiling at the filter's delay
/// is under the target plus 0.2 dB, the filter is held to that ceiling instead, less
/// `FILTER_MARGIN`.
fn check_snr(what: &str, pair: &str, snr: f64, ceiling_at_delay: f64, target: f64) -> Vec<String> {
    let mut failures = Vec::new();
    if snr < ceiling_at_delay - FILTER_MARGIN {
        failures.push(format!(
            "{pair}: {what} SNR {snr:.2} dB, more than {FILTER_MARGIN} dB under the {ceiling_at_delay:.2} dB \
             of an ideal filter at the same delay"
        ));
    }
    if ceiling_at_delay >= target + 0.2 && snr < target {
        failures.push(format!(
            "{pair}: {what} SNR {snr:.2} dB under the target {target} dB"
        ));
    }
    failures
}

#[test]
fn against_an_analytic_reference_at_the_measured_delay() {
    let speech = speech_16k();
    each_backend(|backend| {
        let mut failures = Vec::new();
        for (from, to) in pairs() {
            let f = measure(from, to, &speech);
            let pair = format!("{backend} {from}->{to}");
            println!(
                "{pair}: noise {:.2} dB (int16 ceiling {:.2}, {:.2} at this delay), speech {:.2} \
                 ({:.2}, {:.2}), tones >= {:.2} (worst at {} Hz), THD+N {:.2}, delay {:.4}",
                f.noise,
                f.noise_ceiling,
                f.noise_ceiling_at_delay,
                f.speech,
                f.speech_ceiling,
                f.speech_ceiling_at_delay,
                f.tone,
                f.tone_hz,
                f.thd_n,
                f.delay
            );
            let reported = resampler(from, to, Profile::HighQuality)
                .delay()
                .as_secs_f64()
                * f64::from(to.hz());
            if (f.delay - reported).abs() >= 0.01 {
                failures.push(format!(
                    "{pair}: the output shows a delay of {:.4} samples, the resampler reports {reported:.4}",
                    f.delay
                ));
            }
            failures.extend(check_snr(
                "noise",
                &pair,
                f.noise,
                f.noise_ceiling_at_delay,
                NOISE_TARGET,
            ));
            failures.extend(check_snr(
                "speech",
                &pair,
                f.speech,
                f.speech_ceiling_at_delay,
                SPEECH_TARGET,
            ));
            if f.tone < TONE_TARGET {
                failures.push(format!(
                    "{pair}: a tone at {} Hz comes out at {:.2} dB SNR, under {TONE_TARGET}",
                    f.tone_hz, f.tone
                ));
            }
            if f.thd_n > THD_N_TARGET {
                failures.push(format!(
                    "{pair}: THD+N {:.2} dB at 997 Hz, over {THD_N_TARGET}",
                    f.thd_n
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    });
}
