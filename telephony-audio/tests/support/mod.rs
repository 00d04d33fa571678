//! Measurement tools for the resampler tests: exact periodic references by FFT, tone and noise
//! synthesis, and spectra of one steady-state period.
#![allow(dead_code, unreachable_pub)]

use rustfft::FftPlanner;
use rustfft::num_complex::Complex64;
use std::cell::Cell;

use telephony_audio::{Backend, Profile, Resampler, SampleRate};

thread_local! {
    static BACKEND: Cell<Backend> = Cell::new(Backend::detect());
}

/// Runs `f` once on each backend this CPU runs (fastest first), with [`resampler`] building
/// its resamplers on that one: the measurements hold on every instruction set, not only on the
/// one this machine would pick. A failure names the backend it happened on.
pub fn each_backend(mut f: impl FnMut(Backend)) {
    struct Named(Backend);
    impl Drop for Named {
        fn drop(&mut self) {
            if std::thread::panicking() {
                eprintln!("(this failed on the {} backend)", self.0);
            }
        }
    }
    for backend in Backend::available() {
        let named = Named(backend);
        BACKEND.set(backend);
        f(backend);
        drop(named);
    }
    BACKEND.set(Backend::detect());
}

/// A resampler on the backend [`each_backend`] is running (the detected one outside it).
pub fn resampler(from: SampleRate, to: SampleRate, profile: Profile) -> Resampler {
    Resampler::with_backend(from, to, profile, BACKEND.get())
}

/// Every ordered pair of distinct supported rates.
pub fn pairs() -> Vec<(SampleRate, SampleRate)> {
    let mut v = Vec::new();
    for a in SampleRate::ALL {
        for b in SampleRate::ALL {
            if a != b {
                v.push((a, b));
            }
        }
    }
    v
}

pub fn fft(x: &[f64]) -> Vec<Complex64> {
    let mut buf: Vec<Complex64> = x.iter().map(|&v| Complex64::new(v, 0.0)).collect();
    FftPlanner::new()
        .plan_fft_forward(buf.len())
        .process(&mut buf);
    buf
}

pub fn ifft_real(spectrum: &[Complex64]) -> Vec<f64> {
    let mut buf = spectrum.to_vec();
    let n = buf.len();
    FftPlanner::new().plan_fft_inverse(n).process(&mut buf);
    buf.iter().map(|c| c.re / n as f64).collect()
}

/// The ideal band-limited resampling of one period of a periodic signal: the same Fourier
/// series, evaluated at `p_out` points. Components at or above the lower Nyquist are dropped.
pub fn ideal_resample(x: &[f64], p_out: usize) -> Vec<f64> {
    ideal_resample_delayed(x, p_out, 0.0)
}

/// [`ideal_resample`], delayed by `delay` output samples (any fraction).
pub fn ideal_resample_delayed(x: &[f64], p_out: usize, delay: f64) -> Vec<f64> {
    let p_in = x.len();
    let spec = fft(x);
    let keep = p_in.min(p_out).div_ceil(2); // bins strictly below both Nyquists
    let mut out = vec![Complex64::new(0.0, 0.0); p_out];
    let scale = p_out as f64 / p_in as f64;
    for k in 0..keep {
        let shift = Complex64::from_polar(
            1.0,
            -std::f64::consts::TAU * k as f64 * delay / p_out as f64,
        );
        out[k] = spec[k] * scale * shift;
        if k > 0 {
            out[p_out - k] = spec[p_in - k] * scale * shift.conj();
        }
    }
    ifft_real(&out)
}

/// Gaussian-like noise, periodic with period `p`, flat from 0 to `f_hi` Hz and nothing above,
/// scaled to `rms`.
pub fn band_limited_noise(p: usize, rate: f64, f_hi: f64, rms: f64, seed: u64) -> Vec<f64> {
    let mut rng = Lcg(seed);
    let mut spec = vec![Complex64::new(0.0, 0.0); p];
    let top = ((f_hi / rate) * p as f64).floor() as usize;
    for k in 1..=top.min(p / 2 - 1) {
        let phase = rng.unit() * std::f64::consts::TAU;
        let c = Complex64::from_polar(1.0, phase);
        spec[k] = c;
        spec[p - k] = c.conj();
    }
    let x = ifft_real(&spec);
    let now = (x.iter().map(|v| v * v).sum::<f64>() / p as f64).sqrt();
    x.iter().map(|v| v * rms / now).collect()
}

/// Keeps only components from 0 to `f_hi` Hz of one period of a periodic signal.
pub fn band_limit(x: &[f64], rate: f64, f_hi: f64) -> Vec<f64> {
    let p = x.len();
    let mut spec = fft(x);
    let top = ((f_hi / rate) * p as f64).floor() as usize;
    for k in top + 1..=p / 2 {
        spec[k] = Complex64::new(0.0, 0.0);
        spec[p - k] = Complex64::new(0.0, 0.0);
    }
    ifft_real(&spec)
}

/// A sum of cosines on exact bins of a period of `p` samples: `(bin, amplitude, phase)`.
pub fn tones(p: usize, parts: &[(usize, f64, f64)]) -> Vec<f64> {
    assert!(p.is_multiple_of(4), "periods here are whole milliseconds");
    let table: Vec<f64> = (0..p)
        .map(|m| (std::f64::consts::TAU * m as f64 / p as f64).cos())
        .collect();
    let quarter = p / 4;
    let mut x = vec![0.0; p];
    for &(k, a, ph) in parts {
        // a cos(t + ph) = a cos(ph) cos(t) - a sin(ph) sin(t), with sin(t) = cos(t - pi/2).
        let (c, s) = (a * ph.cos(), a * ph.sin());
        let mut at = 0;
        for v in x.iter_mut() {
            *v += c * table[at] - s * table[(at + p - quarter) % p];
            at = (at + k) % p;
        }
    }
    x
}

/// Rounds to int16 with saturation.
pub fn quantize(x: &[f64]) -> Vec<i16> {
    x.iter()
        .map(|&v| v.round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

/// Runs `periods` repetitions of one input period through a fresh resampler, fed in 20 ms
/// chunks, and returns the whole output.
pub fn run_periodic(
    from: SampleRate,
    to: SampleRate,
    profile: Profile,
    period: &[i16],
    periods: usize,
) -> Vec<i16> {
    let mut r = resampler(from, to, profile);
    let signal: Vec<i16> = period
        .iter()
        .copied()
        .cycle()
        .take(period.len() * periods)
        .collect();
    let mut out = Vec::with_capacity(r.max_output_len(signal.len()));
    for chunk in signal.chunks(from.samples_per_20ms()) {
        r.process_into(chunk, &mut out);
    }
    out
}

/// Amplitude of each bin of one period (`|X[k]| * 2 / p`, the amplitude of a cosine on bin k).
pub fn amplitudes(period: &[i16]) -> Vec<f64> {
    let x: Vec<f64> = period.iter().map(|&v| f64::from(v)).collect();
    let p = x.len();
    fft(&x)
        .iter()
        .take(p / 2 + 1)
        .map(|c| c.norm() * 2.0 / p as f64)
        .collect()
}

/// Folds a bin of the signal at the filter rate into the output spectrum of `p_out` bins.
pub fn fold(bin: i64, p_out: usize) -> usize {
    let p = p_out as i64;
    let b = bin.rem_euclid(p);
    (if b > p / 2 { p - b } else { b }) as usize
}

pub fn db(ratio: f64) -> f64 {
    20.0 * ratio.log10()
}

pub fn power_db(signal: f64, noise: f64) -> f64 {
    10.0 * (signal / noise).log10()
}

/// A small deterministic generator, so every run measures the same signals.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 11
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.next_u64() as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize
    }
}

/// The speech fixture: 4 s of 16 kHz speech.
pub fn speech_16k() -> Vec<f64> {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/speech_16k.s16le"
    ))
    .expect("speech fixture");
    bytes
        .chunks_exact(2)
        .map(|b| f64::from(i16::from_le_bytes([b[0], b[1]])))
        .collect()
}
