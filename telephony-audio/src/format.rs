//! Sample rates, encodings and the `ENCODING@RATE` notation.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::error::FormatError;

/// A sample rate the telephony media path uses.
///
/// Telephony audio lives on a few rates: 8 kHz (G.711, narrowband), 16 kHz (wideband L16,
/// most speech models), 24 kHz (many TTS engines, Vonage's newest option), 32 kHz and
/// 48 kHz (WebRTC, studio). Every pair among them is supported by [`Resampler`].
///
/// [`Resampler`]: crate::Resampler
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SampleRate {
    /// 8000 Hz.
    Hz8000,
    /// 16000 Hz.
    Hz16000,
    /// 24000 Hz.
    Hz24000,
    /// 32000 Hz.
    Hz32000,
    /// 48000 Hz.
    Hz48000,
}

impl SampleRate {
    /// Every supported rate, ascending.
    pub const ALL: [SampleRate; 5] = [
        SampleRate::Hz8000,
        SampleRate::Hz16000,
        SampleRate::Hz24000,
        SampleRate::Hz32000,
        SampleRate::Hz48000,
    ];

    /// The rate in hertz.
    pub const fn hz(self) -> u32 {
        match self {
            SampleRate::Hz8000 => 8000,
            SampleRate::Hz16000 => 16000,
            SampleRate::Hz24000 => 24000,
            SampleRate::Hz32000 => 32000,
            SampleRate::Hz48000 => 48000,
        }
    }

    /// The rate for a frequency in hertz, if it is one of the supported rates.
    pub const fn from_hz(hz: u32) -> Option<SampleRate> {
        match hz {
            8000 => Some(SampleRate::Hz8000),
            16000 => Some(SampleRate::Hz16000),
            24000 => Some(SampleRate::Hz24000),
            32000 => Some(SampleRate::Hz32000),
            48000 => Some(SampleRate::Hz48000),
            _ => None,
        }
    }

    /// Samples in `duration` at this rate, rounded down.
    pub fn samples_in(self, duration: Duration) -> usize {
        (duration.as_nanos() * u128::from(self.hz()) / 1_000_000_000) as usize
    }

    /// Samples in 20 ms, the packet time every carrier here uses.
    pub const fn samples_per_20ms(self) -> usize {
        (self.hz() / 50) as usize
    }
}

impl fmt::Display for SampleRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.hz())
    }
}

impl TryFrom<u32> for SampleRate {
    type Error = FormatError;

    fn try_from(hz: u32) -> Result<Self, Self::Error> {
        SampleRate::from_hz(hz).ok_or(FormatError::UnsupportedRate(u64::from(hz)))
    }
}

impl FromStr for SampleRate {
    type Err = FormatError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hz: u64 = s
            .trim()
            .parse()
            .map_err(|_| FormatError::BadRate(s.to_owned()))?;
        u32::try_from(hz)
            .ok()
            .and_then(SampleRate::from_hz)
            .ok_or(FormatError::UnsupportedRate(hz))
    }
}

/// How samples are laid out on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Encoding {
    /// G.711 μ-law (PCMU), one byte a sample. Twilio, Plivo, Telnyx.
    Mulaw,
    /// G.711 A-law (PCMA), one byte a sample. European trunks, Telnyx.
    Alaw,
    /// 16-bit linear PCM, little-endian. Vonage, Exotel, Plivo (by default here).
    L16Le,
    /// 16-bit linear PCM, big-endian (network order, RFC 3551 L16).
    L16Be,
    /// 32-bit IEEE float, little-endian, full scale ±1.0.
    F32Le,
}

impl Encoding {
    /// Every encoding.
    pub const ALL: [Encoding; 5] = [
        Encoding::Mulaw,
        Encoding::Alaw,
        Encoding::L16Le,
        Encoding::L16Be,
        Encoding::F32Le,
    ];

    /// Bytes per sample.
    pub const fn bytes_per_sample(self) -> usize {
        match self {
            Encoding::Mulaw | Encoding::Alaw => 1,
            Encoding::L16Le | Encoding::L16Be => 2,
            Encoding::F32Le => 4,
        }
    }

    /// The byte that encodes silence. Every byte of a silent frame has this value.
    pub const fn silence_byte(self) -> u8 {
        match self {
            // G.191: 0 encodes to 0xFF (μ-law) and 0xD5 (A-law).
            Encoding::Mulaw => 0xFF,
            Encoding::Alaw => 0xD5,
            Encoding::L16Le | Encoding::L16Be | Encoding::F32Le => 0x00,
        }
    }

    /// The name used in `ENCODING@RATE`: `mulaw`, `alaw`, `s16le`, `s16be`, `f32le`.
    pub const fn name(self) -> &'static str {
        match self {
            Encoding::Mulaw => "mulaw",
            Encoding::Alaw => "alaw",
            Encoding::L16Le => "s16le",
            Encoding::L16Be => "s16be",
            Encoding::F32Le => "f32le",
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Encoding {
    type Err = FormatError;

    /// Accepts the names of [`Encoding::name`] and the usual aliases (`ulaw`, `pcmu`, `pcma`,
    /// `l16`, which means big-endian as in RFC 3551, `l16le`, `l16be`), case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        Ok(match lower.as_str() {
            "mulaw" | "ulaw" | "u-law" | "mu-law" | "pcmu" => Encoding::Mulaw,
            "alaw" | "a-law" | "pcma" => Encoding::Alaw,
            "s16le" | "l16le" => Encoding::L16Le,
            "s16be" | "l16be" | "l16" => Encoding::L16Be,
            "f32le" => Encoding::F32Le,
            _ => return Err(FormatError::UnknownEncoding(s.to_owned())),
        })
    }
}

/// An encoding at a sample rate, mono: what one side of a converter speaks.
///
/// Written `ENCODING@RATE`, for example `mulaw@8000` or `s16le@16000`.
///
/// ```
/// use telephony_audio::{AudioFormat, Encoding, SampleRate};
///
/// let f: AudioFormat = "mulaw@8000".parse()?;
/// assert_eq!(f, AudioFormat::new(Encoding::Mulaw, SampleRate::Hz8000));
/// assert_eq!(f.bytes_per_20ms(), 160);
/// # Ok::<(), telephony_audio::FormatError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AudioFormat {
    /// The sample encoding.
    pub encoding: Encoding,
    /// The sample rate.
    pub rate: SampleRate,
}

impl AudioFormat {
    /// G.711 μ-law at 8 kHz, what Twilio streams.
    pub const MULAW_8K: AudioFormat = AudioFormat::new(Encoding::Mulaw, SampleRate::Hz8000);
    /// Little-endian L16 at 16 kHz, what Vonage streams by default.
    pub const L16LE_16K: AudioFormat = AudioFormat::new(Encoding::L16Le, SampleRate::Hz16000);

    /// A format from its parts.
    pub const fn new(encoding: Encoding, rate: SampleRate) -> AudioFormat {
        AudioFormat { encoding, rate }
    }

    /// Bytes in one second of audio.
    pub const fn bytes_per_second(self) -> usize {
        self.encoding.bytes_per_sample() * self.rate.hz() as usize
    }

    /// Bytes in a 20 ms frame: 160 for μ-law 8 kHz, 640 for L16 16 kHz.
    pub const fn bytes_per_20ms(self) -> usize {
        self.encoding.bytes_per_sample() * self.rate.samples_per_20ms()
    }
}

impl fmt::Display for AudioFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.encoding, self.rate)
    }
}

impl FromStr for AudioFormat {
    type Err = FormatError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (encoding, rate) = s
            .split_once('@')
            .ok_or_else(|| FormatError::MissingRate(s.to_owned()))?;
        Ok(AudioFormat::new(encoding.parse()?, rate.parse()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_formats() {
        for encoding in Encoding::ALL {
            for rate in SampleRate::ALL {
                let f = AudioFormat::new(encoding, rate);
                assert_eq!(f.to_string().parse::<AudioFormat>().unwrap(), f);
            }
        }
        assert_eq!(
            "PCMU@8000".parse::<AudioFormat>().unwrap(),
            AudioFormat::MULAW_8K
        );
        assert_eq!(
            "l16@16000".parse::<AudioFormat>().unwrap().encoding,
            Encoding::L16Be
        );
    }

    #[test]
    fn rejects_bad_formats_with_the_reason() {
        let e = "mulaw".parse::<AudioFormat>().unwrap_err();
        assert!(matches!(e, FormatError::MissingRate(_)), "{e}");
        let e = "opus@8000".parse::<AudioFormat>().unwrap_err();
        assert!(e.to_string().contains("opus"), "{e}");
        let e = "mulaw@44100".parse::<AudioFormat>().unwrap_err();
        assert_eq!(e, FormatError::UnsupportedRate(44100));
        assert!(e.to_string().contains("8000, 16000, 24000, 32000, 48000"));
        let e = "mulaw@fast".parse::<AudioFormat>().unwrap_err();
        assert!(matches!(e, FormatError::BadRate(_)), "{e}");
        let e = "mulaw@99999999999999999999"
            .parse::<AudioFormat>()
            .unwrap_err();
        assert!(matches!(e, FormatError::BadRate(_)), "{e}");
    }

    #[test]
    fn frame_sizes() {
        assert_eq!(AudioFormat::MULAW_8K.bytes_per_20ms(), 160);
        assert_eq!(AudioFormat::L16LE_16K.bytes_per_20ms(), 640);
        let f = AudioFormat::new(Encoding::L16Le, SampleRate::Hz24000);
        assert_eq!(f.bytes_per_20ms(), 960);
        assert_eq!(
            SampleRate::Hz8000.samples_in(Duration::from_millis(20)),
            160
        );
    }
}
