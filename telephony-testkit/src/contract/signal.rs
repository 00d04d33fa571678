//! The audio the media rules send: signals whose frames differ from one another, a tone, and
//! the check that a signal is that tone.

use std::time::Duration;

use telephony::audio::{AudioFormat, SampleRate};

/// The app's rate that makes the session resample: 24 kHz, or 16 kHz for a 24 kHz wire.
pub(super) fn other_rate(format: AudioFormat) -> SampleRate {
    if format.rate == SampleRate::Hz24000 {
        SampleRate::Hz16000
    } else {
        SampleRate::Hz24000
    }
}

/// `length` of two tones (440 Hz and 1.3 kHz) at `rate`, growing louder: no two frames are
/// alike, so a dropped, repeated or reordered frame shows.
pub(super) fn voice(rate: SampleRate, length: Duration) -> Vec<i16> {
    let hz = f64::from(rate.hz());
    let n = rate.samples_in(length);
    (0..n)
        .map(|k| {
            let t = k as f64 / hz;
            let swell = 0.3 + 0.7 * k as f64 / n as f64;
            let x = (std::f64::consts::TAU * 440.0 * t).sin() * 6000.0
                + (std::f64::consts::TAU * 1300.0 * t).sin() * 3000.0;
            (x * swell) as i16
        })
        .collect()
}

const TONE_HZ: f64 = 1000.0;
const TONE_LEVEL: f64 = 8000.0;

/// A second of a 1 kHz tone at `rate`.
pub(super) fn tone(rate: SampleRate) -> Vec<i16> {
    let hz = f64::from(rate.hz());
    (0..rate.hz() as usize)
        .map(|n| ((std::f64::consts::TAU * TONE_HZ * n as f64 / hz).sin() * TONE_LEVEL) as i16)
        .collect()
}

/// Whether `pcm` at `rate` is the tone at its level: nearly all its power at 1 kHz
/// (Goertzel), its RMS within 500 of the tone's (9 %).
pub(super) fn is_the_tone(pcm: &[i16], rate: SampleRate) -> Result<(), String> {
    let w = std::f64::consts::TAU * TONE_HZ / f64::from(rate.hz());
    let (mut s1, mut s2, mut energy) = (0.0f64, 0.0f64, 0.0f64);
    for &x in pcm {
        let x = f64::from(x);
        let s0 = x + 2.0 * w.cos() * s1 - s2;
        s2 = s1;
        s1 = s0;
        energy += x * x;
    }
    let n = pcm.len() as f64;
    let share = (s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2) * 2.0 / n / energy;
    let rms = (energy / n).sqrt();
    let level = TONE_LEVEL / 2f64.sqrt();
    if share > 0.95 && (rms - level).abs() < 500.0 {
        Ok(())
    } else {
        Err(format!(
            "{:.3} of the power at 1 kHz, RMS {rms:.0} (the tone's {level:.0}), over {} samples",
            share,
            pcm.len()
        ))
    }
}
