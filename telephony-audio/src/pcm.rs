//! Linear PCM on the wire: L16 in either byte order, and 32-bit float.

use crate::Encoding;
use crate::error::AudioError;
use crate::g711;

/// Decodes little-endian L16 (Vonage, Exotel) to samples.
///
/// # Panics
///
/// If `bytes.len() != 2 * output.len()`.
pub fn decode_l16le(bytes: &[u8], output: &mut [i16]) {
    assert_eq!(
        bytes.len(),
        2 * output.len(),
        "decode_l16le: lengths differ"
    );
    for (o, b) in output.iter_mut().zip(bytes.chunks_exact(2)) {
        *o = i16::from_le_bytes([b[0], b[1]]);
    }
}

/// Decodes big-endian L16 (RFC 3551, network byte order) to samples.
///
/// # Panics
///
/// If `bytes.len() != 2 * output.len()`.
pub fn decode_l16be(bytes: &[u8], output: &mut [i16]) {
    assert_eq!(
        bytes.len(),
        2 * output.len(),
        "decode_l16be: lengths differ"
    );
    for (o, b) in output.iter_mut().zip(bytes.chunks_exact(2)) {
        *o = i16::from_be_bytes([b[0], b[1]]);
    }
}

/// Encodes samples as little-endian L16.
///
/// # Panics
///
/// If `output.len() != 2 * input.len()`.
pub fn encode_l16le(input: &[i16], output: &mut [u8]) {
    assert_eq!(
        output.len(),
        2 * input.len(),
        "encode_l16le: lengths differ"
    );
    for (b, &x) in output.chunks_exact_mut(2).zip(input) {
        b.copy_from_slice(&x.to_le_bytes());
    }
}

/// Encodes samples as big-endian L16.
///
/// # Panics
///
/// If `output.len() != 2 * input.len()`.
pub fn encode_l16be(input: &[i16], output: &mut [u8]) {
    assert_eq!(
        output.len(),
        2 * input.len(),
        "encode_l16be: lengths differ"
    );
    for (b, &x) in output.chunks_exact_mut(2).zip(input) {
        b.copy_from_slice(&x.to_be_bytes());
    }
}

/// Decodes little-endian 32-bit float samples (full scale ±1.0) to 16-bit samples: scaled by
/// 32768, rounded to nearest (ties to even), saturated at the int16 limits; NaN becomes 0.
///
/// # Panics
///
/// If `bytes.len() != 4 * output.len()`.
pub fn decode_f32le(bytes: &[u8], output: &mut [i16]) {
    assert_eq!(
        bytes.len(),
        4 * output.len(),
        "decode_f32le: lengths differ"
    );
    for (o, b) in output.iter_mut().zip(bytes.chunks_exact(4)) {
        let v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        *o = f32_to_i16(v * 32768.0);
    }
}

/// Encodes 16-bit samples as little-endian 32-bit floats, `x / 32768` (exact).
///
/// # Panics
///
/// If `output.len() != 4 * input.len()`.
pub fn encode_f32le(input: &[i16], output: &mut [u8]) {
    assert_eq!(
        output.len(),
        4 * input.len(),
        "encode_f32le: lengths differ"
    );
    for (b, &x) in output.chunks_exact_mut(4).zip(input) {
        b.copy_from_slice(&(f32::from(x) / 32768.0).to_le_bytes());
    }
}

/// Rounds to the nearest integer (ties to even) and saturates to `i16`; NaN gives 0.
///
/// Adding and subtracting 1.5 × 2^23 rounds any float of magnitude below 2^22 to an integer in
/// the current (nearest-even) rounding mode: two instructions that vectorise, where
/// `f32::round_ties_even` is a library call on baseline x86-64.
#[inline(always)]
pub(crate) fn f32_to_i16(v: f32) -> i16 {
    const ROUND: f32 = 12_582_912.0;
    let clamped = v.clamp(-32768.0, 32767.0);
    ((clamped + ROUND) - ROUND) as i16
}

impl Encoding {
    /// Decodes wire bytes to samples, appended to `output`. Returns the number of samples.
    ///
    /// # Errors
    ///
    /// [`AudioError::PartialSample`] when `bytes` is not a whole number of samples; nothing is
    /// appended then.
    pub fn decode(self, bytes: &[u8], output: &mut Vec<i16>) -> Result<usize, AudioError> {
        let width = self.bytes_per_sample();
        if !bytes.len().is_multiple_of(width) {
            return Err(AudioError::PartialSample {
                encoding: self,
                len: bytes.len(),
                sample_bytes: width,
            });
        }
        let n = bytes.len() / width;
        let start = output.len();
        output.resize(start + n, 0);
        let out = &mut output[start..];
        match self {
            Encoding::Mulaw => g711::decode_ulaw(bytes, out),
            Encoding::Alaw => g711::decode_alaw(bytes, out),
            Encoding::L16Le => decode_l16le(bytes, out),
            Encoding::L16Be => decode_l16be(bytes, out),
            Encoding::F32Le => decode_f32le(bytes, out),
        }
        Ok(n)
    }

    /// Encodes samples to wire bytes, appended to `output`. Returns the number of bytes.
    pub fn encode(self, samples: &[i16], output: &mut Vec<u8>) -> usize {
        let n = samples.len() * self.bytes_per_sample();
        let start = output.len();
        output.resize(start + n, 0);
        let out = &mut output[start..];
        match self {
            Encoding::Mulaw => g711::encode_ulaw(samples, out),
            Encoding::Alaw => g711::encode_alaw(samples, out),
            Encoding::L16Le => encode_l16le(samples, out),
            Encoding::L16Be => encode_l16be(samples, out),
            Encoding::F32Le => encode_f32le(samples, out),
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l16_byte_orders() {
        let s = [0x0102i16, -2, i16::MIN, i16::MAX];
        let mut le = Vec::new();
        Encoding::L16Le.encode(&s, &mut le);
        assert_eq!(&le[..4], &[0x02, 0x01, 0xFE, 0xFF]);
        let mut be = Vec::new();
        Encoding::L16Be.encode(&s, &mut be);
        assert_eq!(&be[..4], &[0x01, 0x02, 0xFF, 0xFE]);
        let mut back = Vec::new();
        assert_eq!(Encoding::L16Le.decode(&le, &mut back), Ok(4));
        assert_eq!(Encoding::L16Be.decode(&be, &mut back), Ok(4));
        assert_eq!(back, [s, s].concat());
    }

    #[test]
    fn f32_round_trips_every_sample_and_saturates() {
        let all: Vec<i16> = (i16::MIN..=i16::MAX).collect();
        let mut bytes = Vec::new();
        Encoding::F32Le.encode(&all, &mut bytes);
        let mut back = Vec::new();
        Encoding::F32Le.decode(&bytes, &mut back).unwrap();
        assert_eq!(back, all);

        let odd: Vec<u8> = [
            2.0f32,
            -2.0,
            f32::NAN,
            f32::INFINITY,
            0.5 / 32768.0,
            1.5 / 32768.0,
        ]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
        let mut out = Vec::new();
        Encoding::F32Le.decode(&odd, &mut out).unwrap();
        assert_eq!(out, [32767, -32768, 0, 32767, 0, 2]);
    }

    #[test]
    fn partial_samples_are_refused_and_nothing_is_appended() {
        let mut out = vec![7];
        let e = Encoding::L16Le.decode(&[1, 2, 3], &mut out).unwrap_err();
        assert_eq!(
            e,
            AudioError::PartialSample {
                encoding: Encoding::L16Le,
                len: 3,
                sample_bytes: 2
            }
        );
        assert_eq!(out, [7]);
        assert!(Encoding::F32Le.decode(&[0; 6], &mut out).is_err());
        assert_eq!(Encoding::Mulaw.decode(&[0xFF; 3], &mut out), Ok(3));
    }
}
