//! DTMF in the audio itself (in-band): the tones of ITU-T Q.23 for keys played as audio where
//! a stream has no DTMF message (Twilio's, Vonage's), and a Goertzel detector that hears them.
//!
//! Each key is the sum of a low (row) and a high (column) tone:
//!
//! | | 1209 Hz | 1336 Hz | 1477 Hz | 1633 Hz |
//! |---|---|---|---|---|
//! | 697 Hz | 1 | 2 | 3 | A |
//! | 770 Hz | 4 | 5 | 6 | B |
//! | 852 Hz | 7 | 8 | 9 | C |
//! | 941 Hz | * | 0 | # | D |
//!
//! Q.24 asks receivers to accept tones of 40 ms and more, with pauses of 40 ms and more; the
//! tones here last 100 ms with 60 ms between keys, as carriers play them, each frequency at
//! −9 dBFS so that their sum never clips.
//!
//! ```
//! use telephony_audio::{SampleRate, dtmf};
//!
//! let pcm = dtmf::tones("1w9#", SampleRate::Hz8000)?;
//! assert_eq!(dtmf::detect(&pcm, SampleRate::Hz8000), vec!['1', '9', '#']);
//! # Ok::<(), telephony_audio::dtmf::BadKey>(())
//! ```

use std::f64::consts::TAU;
use std::fmt;

use crate::SampleRate;

const ROWS: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
const COLS: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
const KEYS: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];

/// How long each key's tone lasts.
pub const TONE_MS: u32 = 100;
/// The silence after each key.
pub const GAP_MS: u32 = 60;
/// Each frequency's amplitude: −9 dBFS, so a key's two tones together peak below full scale.
const AMPLITUDE: f64 = 0.354 * 32767.0;

/// A key that is not `0`–`9`, `*`, `#`, `A`–`D`, `w` (a 500 ms pause) or `W` (1 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadKey(pub char);

impl fmt::Display for BadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a DTMF key (0-9, *, #, A-D, or w/W for a pause)",
            self.0
        )
    }
}

impl std::error::Error for BadKey {}

/// The row and column frequencies of `key`.
pub fn frequencies(key: char) -> Option<(f64, f64)> {
    let key = key.to_ascii_uppercase();
    KEYS.iter().enumerate().find_map(|(r, row)| {
        row.iter()
            .position(|k| *k == key)
            .map(|c| (ROWS[r], COLS[c]))
    })
}

/// The audio of `keys` at `rate`: each key's two tones for [`TONE_MS`], then [`GAP_MS`] of
/// silence; `w` is half a second of silence and `W` a second.
pub fn tones(keys: &str, rate: SampleRate) -> Result<Vec<i16>, BadKey> {
    let hz = f64::from(rate.hz());
    let ms = |ms: u32| (rate.hz() / 1000 * ms) as usize;
    let mut out = Vec::with_capacity(keys.len() * ms(TONE_MS + GAP_MS));
    for key in keys.chars() {
        match key {
            'w' => out.resize(out.len() + ms(500), 0),
            'W' => out.resize(out.len() + ms(1000), 0),
            _ => {
                let (low, high) = frequencies(key).ok_or(BadKey(key))?;
                let n = ms(TONE_MS);
                // A 2 ms raised-cosine ramp at each end keeps the key's spectrum clean.
                let ramp = ms(2).max(1);
                out.extend((0..n).map(|i| {
                    let t = i as f64 / hz;
                    let edge = i.min(n - 1 - i);
                    let gain = if edge < ramp {
                        0.5 - 0.5 * (std::f64::consts::PI * edge as f64 / ramp as f64).cos()
                    } else {
                        1.0
                    };
                    let v = AMPLITUDE * gain * ((TAU * low * t).sin() + (TAU * high * t).sin());
                    v.round().clamp(-32768.0, 32767.0) as i16
                }));
                out.resize(out.len() + ms(GAP_MS), 0);
            }
        }
    }
    Ok(out)
}

/// The keys heard in `pcm`, in order: Goertzel energy at the eight frequencies over 20 ms
/// blocks; a key counts once it holds for two blocks in a row (40 ms, Q.24's shortest), with
/// one row and one column tone clearly above the rest (and the twist between them under
/// 8 dB), and again only after a block without it.
pub fn detect(pcm: &[i16], rate: SampleRate) -> Vec<char> {
    let block = rate.samples_per_20ms();
    let hz = f64::from(rate.hz());
    let mut keys = Vec::new();
    let (mut last, mut run) = (None, 0u32);
    for chunk in pcm.chunks_exact(block) {
        let key = block_key(chunk, hz);
        if key.is_some() && key == last {
            run += 1;
            if run == 2 {
                keys.extend(key);
            }
        } else {
            run = u32::from(key.is_some());
        }
        last = key;
    }
    keys
}

fn block_key(chunk: &[i16], hz: f64) -> Option<char> {
    let energy: f64 = chunk.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    // Quieter than about −40 dBFS: silence.
    if energy < chunk.len() as f64 * 327.0 * 327.0 {
        return None;
    }
    let power = |f: f64| goertzel(chunk, f, hz);
    let rows: Vec<f64> = ROWS.iter().map(|&f| power(f)).collect();
    let cols: Vec<f64> = COLS.iter().map(|&f| power(f)).collect();
    let (r, rp) = strongest(&rows)?;
    let (c, cp) = strongest(&cols)?;
    // The two tones carry most of the block's energy (a voice does not), and neither is more
    // than 8 dB under the other. A sinusoid of amplitude a over n samples has Goertzel power
    // (a·n/2)² and energy a²·n/2: its energy is 2·power/n.
    let n = chunk.len() as f64;
    let tonal = 2.0 * (rp + cp) / n;
    if tonal < 0.5 * energy || rp < cp / 6.3 || cp < rp / 6.3 {
        return None;
    }
    Some(KEYS[r][c])
}

/// The strongest of four powers, when it stands 6 dB above the others.
fn strongest(p: &[f64]) -> Option<(usize, f64)> {
    let (i, &max) = p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
    p.iter()
        .enumerate()
        .all(|(j, &v)| j == i || v * 4.0 < max)
        .then_some((i, max))
}

/// The power of `f` in `x`: Goertzel's recurrence.
fn goertzel(x: &[i16], f: f64, hz: f64) -> f64 {
    let coeff = 2.0 * (TAU * f / hz).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &v in x {
        let s = f64::from(v) + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_at_every_rate_round_trips() {
        let all = "0123456789*#ABCD";
        for rate in SampleRate::ALL {
            let pcm = tones(all, rate).unwrap();
            assert_eq!(
                detect(&pcm, rate).iter().collect::<String>(),
                all,
                "{rate:?}"
            );
            assert!(pcm.iter().all(|s| s.unsigned_abs() < 32000));
        }
    }

    #[test]
    fn pauses_and_repeats() {
        let pcm = tones("11w1", SampleRate::Hz16000).unwrap();
        assert_eq!(pcm.len(), 16 * (3 * 160 + 500));
        assert_eq!(detect(&pcm, SampleRate::Hz16000), vec!['1', '1', '1']);
        assert_eq!(tones("1x", SampleRate::Hz8000), Err(BadKey('x')));
    }

    #[test]
    fn survives_mulaw_and_ignores_speechlike_noise() {
        let pcm = tones("5#", SampleRate::Hz8000).unwrap();
        let mut wire = vec![0u8; pcm.len()];
        crate::encode_ulaw(&pcm, &mut wire);
        let mut back = vec![0i16; wire.len()];
        crate::decode_ulaw(&wire, &mut back);
        assert_eq!(detect(&back, SampleRate::Hz8000), vec!['5', '#']);
        // A chord of unrelated tones and a sweep are not keys.
        let noise: Vec<i16> = (0..8000)
            .map(|i| {
                let t = f64::from(i) / 8000.0;
                (6000.0 * ((TAU * 440.0 * t).sin() + (TAU * 300.0 * t * (1.0 + t)).sin())) as i16
            })
            .collect();
        assert!(detect(&noise, SampleRate::Hz8000).is_empty());
    }
}
