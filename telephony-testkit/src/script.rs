//! What the emulated caller says: speech-like audio or a WAV file, keys pressed at given
//! times, and how long to stay on the line. And WAV files, read and written.

use std::io;
use std::path::Path;
use std::time::Duration;

use telephony::audio::{Profile, Resampler, SampleRate};

/// The rate scripts are kept at; each stream gets them at its own wire rate.
pub const SCRIPT_RATE: SampleRate = SampleRate::Hz16000;

/// A scripted caller: audio (16 kHz PCM), DTMF at given times, and how long to stay on the
/// line once the audio is done (for the agent's last reply to play).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallerScript {
    /// What the caller says, 16-bit PCM at 16 kHz.
    pub audio: Vec<i16>,
    /// Keys pressed, each at a time from the stream's start.
    pub dtmf: Vec<(Duration, char)>,
    /// How long to stay on the line after the audio ends.
    pub linger: Duration,
    /// Hang up at this time from the stream's start, whatever remains.
    pub hangup_after: Option<Duration>,
}

impl Default for CallerScript {
    /// Two seconds of speech-like audio, then a second on the line.
    fn default() -> Self {
        CallerScript::speech_like(Duration::from_secs(2))
    }
}

/// A small deterministic generator (SplitMix64), so every run says the same (and the
/// contract's random inputs repeat).
#[derive(Debug, Clone)]
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `[lo, hi)`.
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next() >> 11) as f64 / (1u64 << 53) as f64)
    }

    /// A whole number below `n` (0 when `n` is 0).
    #[cfg_attr(not(feature = "contract"), allow(dead_code))]
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

impl CallerScript {
    /// `length` of speech-like audio: voiced syllables (a fundamental of 110–220 Hz and its
    /// harmonics, shaped like vowels) at about four a second, in phrases separated by pauses
    /// of half a second, so a voice activity detector hears speech and turns. Deterministic.
    pub fn speech_like(length: Duration) -> CallerScript {
        CallerScript {
            audio: speech_like(length, 7),
            dtmf: Vec::new(),
            linger: Duration::from_secs(1),
            hangup_after: None,
        }
    }

    /// A script that says `audio` (16-bit PCM at `rate`).
    pub fn from_pcm(audio: &[i16], rate: SampleRate) -> CallerScript {
        CallerScript {
            audio: resample(audio, rate, SCRIPT_RATE),
            dtmf: Vec::new(),
            linger: Duration::from_secs(1),
            hangup_after: None,
        }
    }

    /// A script that says a WAV file (16-bit PCM, mono, at 8, 16, 24, 32 or 48 kHz).
    pub fn from_wav(path: impl AsRef<Path>) -> io::Result<CallerScript> {
        let (audio, rate) = read_wav(path)?;
        Ok(CallerScript::from_pcm(&audio, rate))
    }

    /// Silence for `length`.
    pub fn silence(length: Duration) -> CallerScript {
        CallerScript {
            audio: vec![0; samples(length)],
            dtmf: Vec::new(),
            linger: Duration::ZERO,
            hangup_after: None,
        }
    }

    /// Presses `digit` at `at` from the stream's start.
    pub fn dtmf(mut self, at: Duration, digit: char) -> CallerScript {
        self.dtmf.push((at, digit));
        self.dtmf.sort_by_key(|(t, _)| *t);
        self
    }

    /// Stays on the line `linger` after the audio ends.
    pub fn linger(mut self, linger: Duration) -> CallerScript {
        self.linger = linger;
        self
    }

    /// Hangs up `after` the stream's start.
    pub fn hangup_after(mut self, after: Duration) -> CallerScript {
        self.hangup_after = Some(after);
        self
    }

    /// How long the caller stays: the audio, then the linger (or until the hang-up).
    pub fn length(&self) -> Duration {
        let spoken = Duration::from_micros(self.audio.len() as u64 * 1_000_000 / 16_000);
        let natural = spoken + self.linger;
        self.hangup_after.map_or(natural, |h| h.min(natural))
    }
}

fn samples(length: Duration) -> usize {
    (length.as_micros() * 16 / 1000) as usize
}

/// Speech-like audio at 16 kHz (see [`CallerScript::speech_like`]).
pub fn speech_like(length: Duration, seed: u64) -> Vec<i16> {
    let total = samples(length);
    let mut out = Vec::with_capacity(total);
    let mut rng = Rng(seed);
    let rate = 16_000.0;
    while out.len() < total {
        // A phrase of 3 to 7 syllables, then a pause.
        let syllables = rng.range(3.0, 8.0) as usize;
        for _ in 0..syllables {
            let len = (rng.range(0.16, 0.28) * rate) as usize;
            let f0 = rng.range(110.0, 220.0);
            // Two vowel-like resonances, as harmonic weights.
            let (f1, f2) = (rng.range(300.0, 800.0), rng.range(900.0, 2300.0));
            let mut phase = 0.0f64;
            for n in 0..len {
                let t = n as f64 / len as f64;
                // Rise, hold, fall: a syllable's envelope.
                let env = (std::f64::consts::PI * t).sin().powf(0.6);
                let f = f0 * (1.0 + 0.05 * (2.0 * std::f64::consts::PI * 3.0 * t).sin());
                phase += 2.0 * std::f64::consts::PI * f / rate;
                let mut v = 0.0;
                for h in 1..=24 {
                    let freq = f * f64::from(h);
                    if freq > 3800.0 {
                        break;
                    }
                    let w = (-((freq - f1) / 180.0).powi(2)).exp()
                        + 0.6 * (-((freq - f2) / 260.0).powi(2)).exp()
                        + 0.08 / f64::from(h);
                    v += w * (phase * f64::from(h)).sin();
                }
                out.push((v * env * 4200.0).clamp(-32767.0, 32767.0) as i16);
            }
            // A short gap between syllables.
            let gap = (rng.range(0.02, 0.06) * rate) as usize;
            out.extend(std::iter::repeat_n(0, gap));
        }
        let pause = (rng.range(0.45, 0.6) * rate) as usize;
        out.extend(std::iter::repeat_n(0, pause));
    }
    out.truncate(total);
    out
}

/// Resamples whole-signal `pcm` from `from` to `to`, trimming the filter's delay so the
/// output lines up with the input.
pub fn resample(pcm: &[i16], from: SampleRate, to: SampleRate) -> Vec<i16> {
    if from == to {
        return pcm.to_vec();
    }
    let mut r = Resampler::new(from, to, Profile::HighQuality);
    let delay = r.output_delay();
    let mut out = Vec::with_capacity(pcm.len() * to.hz() as usize / from.hz() as usize + 64);
    r.process_into(pcm, &mut out);
    r.flush_into(&mut out);
    out.drain(..delay.min(out.len()));
    out.truncate((pcm.len() as u64 * u64::from(to.hz()) / u64::from(from.hz())) as usize);
    out
}

/// Writes a 16-bit mono PCM WAV file.
pub fn write_wav(path: impl AsRef<Path>, pcm: &[i16], rate: SampleRate) -> io::Result<()> {
    std::fs::write(path, wav_bytes(&[pcm], rate))
}

/// A 16-bit PCM WAV file in memory, one slice per channel (interleaved in the file; the
/// shortest channel sets the length).
pub fn wav_bytes(channels: &[&[i16]], rate: SampleRate) -> Vec<u8> {
    let n = channels.iter().map(|c| c.len()).min().unwrap_or(0);
    let count = channels.len().max(1) as u16;
    let data = (n * 2 * usize::from(count)) as u32;
    let mut b = Vec::with_capacity(44 + data as usize);
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes()); // PCM
    b.extend_from_slice(&count.to_le_bytes());
    b.extend_from_slice(&rate.hz().to_le_bytes());
    b.extend_from_slice(&(rate.hz() * 2 * u32::from(count)).to_le_bytes());
    b.extend_from_slice(&(2 * count).to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data.to_le_bytes());
    for i in 0..n {
        for c in channels {
            b.extend_from_slice(&c[i].to_le_bytes());
        }
    }
    b
}

/// Reads a 16-bit mono PCM WAV file.
pub fn read_wav(path: impl AsRef<Path>) -> io::Result<(Vec<i16>, SampleRate)> {
    let (mut channels, rate) = parse_wav(&std::fs::read(path)?)?;
    if channels.len() != 1 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a usable WAV file: only 16-bit mono PCM is read",
        ));
    }
    Ok((channels.remove(0), rate))
}

/// Reads a 16-bit PCM WAV file in memory: its channels, apart, and its rate.
pub fn parse_wav(bytes: &[u8]) -> io::Result<(Vec<Vec<i16>>, SampleRate)> {
    let bad = |why: &str| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not a usable WAV file: {why}"),
        )
    };
    if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(bad("no RIFF/WAVE header"));
    }
    let mut pos = 12;
    let mut format: Option<(u16, u16, u32, u16)> = None;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let len = u32::from_le_bytes([
            bytes[pos + 4],
            bytes[pos + 5],
            bytes[pos + 6],
            bytes[pos + 7],
        ]) as usize;
        let body = pos + 8;
        let end = body.saturating_add(len).min(bytes.len());
        match id {
            b"fmt " if end - body >= 16 => {
                let u16at = |i: usize| u16::from_le_bytes([bytes[body + i], bytes[body + i + 1]]);
                let rate = u32::from_le_bytes([
                    bytes[body + 4],
                    bytes[body + 5],
                    bytes[body + 6],
                    bytes[body + 7],
                ]);
                format = Some((u16at(0), u16at(2), rate, u16at(14)));
            }
            b"data" => {
                let (tag, count, rate, bits) = format.ok_or_else(|| bad("data before fmt"))?;
                if tag != 1 || bits != 16 || !(1..=8).contains(&count) {
                    return Err(bad("only 16-bit PCM of 1 to 8 channels is read"));
                }
                let rate = SampleRate::from_hz(rate)
                    .ok_or_else(|| bad("rate is not 8, 16, 24, 32 or 48 kHz"))?;
                let count = usize::from(count);
                let mut channels = vec![Vec::new(); count];
                for frame in bytes[body..end].chunks_exact(2 * count) {
                    for (c, s) in frame.chunks_exact(2).enumerate() {
                        channels[c].push(i16::from_le_bytes([s[0], s[1]]));
                    }
                }
                return Ok((channels, rate));
            }
            _ => {}
        }
        pos = body + len + (len & 1);
    }
    Err(bad("no data chunk"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speech_like_has_phrases_and_pauses_and_is_repeatable() {
        let a = speech_like(Duration::from_secs(3), 7);
        assert_eq!(a.len(), 48_000);
        assert_eq!(a, speech_like(Duration::from_secs(3), 7));
        // 20 ms frames: some loud, and runs of silence of at least 400 ms.
        let loud: Vec<bool> = a
            .chunks(320)
            .map(|f| f.iter().map(|&s| i64::from(s).abs()).max().unwrap_or(0) > 1000)
            .collect();
        assert!(loud.iter().filter(|l| **l).count() > 40);
        let longest_quiet = loud.split(|l| *l).map(<[bool]>::len).max().unwrap_or(0);
        assert!(longest_quiet >= 20, "{longest_quiet} frames");
    }

    #[test]
    fn wav_round_trip() {
        let dir = std::env::temp_dir().join(format!("testkit-wav-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.wav");
        let pcm: Vec<i16> = (0..800).map(|i| (i * 37 % 2000 - 1000) as i16).collect();
        write_wav(&path, &pcm, SampleRate::Hz8000).unwrap();
        assert_eq!(read_wav(&path).unwrap(), (pcm.clone(), SampleRate::Hz8000));
        let s = CallerScript::from_wav(&path).unwrap();
        assert_eq!(s.audio.len(), 1600);
        std::fs::write(&path, b"RIFF....WAVEjunk").unwrap();
        assert!(read_wav(&path).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
