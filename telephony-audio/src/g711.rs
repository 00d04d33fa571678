//! G.711 μ-law and A-law, bit-exact to the ITU-T G.191 Software Tool Library (`g711.c`).
//!
//! Encoding reads a 16-bit linear sample the way G.191 does: μ-law looks at the 14 most
//! significant bits (`x >> 2`), A-law at the 12 most significant (`x >> 4`), and negative
//! samples are taken in one's complement. Both encoders are therefore exact lookups in tables
//! of 16 384 and 4 096 codes, built at compile time from the G.711 segment rules and checked
//! in the tests against G.191's output for all 65 536 inputs. On CPUs with AVX2 the slice
//! functions run the same rules as branch-free arithmetic that the compiler vectorizes; the
//! tests hold it to the tables for every input and code. Decoding returns G.191's
//! left-justified 16-bit values (μ-law ±32 124, A-law ±32 256), which place each code at the
//! middle of its quantisation interval.
//!
//! Where this differs from other libraries:
//!
//! - Python's `audioop.lin2ulaw` (and code ported from it, such as the Sun `g711.c`) rounds
//!   differently at decision boundaries: it disagrees with G.191 on 508 negative inputs, all of
//!   them one code apart. For example −1 to −4 encode to `0x7F` here (negative zero, decoding to
//!   0) and to `0x7E` (decoding to −8) in `audioop`.
//! - The classic 16-bit μ-law encoder that negates before biasing overflows on −32 768 and
//!   produces `0x7F` (silence) for the loudest negative sample. G.191, and this module, give
//!   `0x00`.

/// One μ-law code for the 14-bit value `v = x >> 2` of a linear sample `x`.
const fn ulaw_from_14bit(v: i16) -> u8 {
    // One's complement of negatives, then the G.711 bias of 33 (in 14-bit units) that puts
    // the segment boundaries at powers of two.
    let magnitude = if v < 0 { !v } else { v } as u16 + 33;
    let magnitude = if magnitude > 0x1FFF {
        0x1FFF
    } else {
        magnitude
    };
    // Segment 1..=8: one more than the bit length of magnitude / 64.
    let segment = 1 + (16 - (magnitude >> 6).leading_zeros()) as u16;
    let mantissa = (magnitude >> segment) & 0x0F;
    let code = ((8 - segment) << 4) as u8 | (0x0F - mantissa) as u8;
    if v >= 0 { code | 0x80 } else { code }
}

/// One A-law code for the 12-bit value `v = x >> 4` of a linear sample `x`.
const fn alaw_from_12bit(v: i16) -> u8 {
    let magnitude = if v < 0 { !v } else { v } as u16; // 0..=2047
    let code = if magnitude < 16 {
        magnitude
    } else {
        // Exponent 1..=7 from the bit length; the leading one is implied.
        let bits = 16 - magnitude.leading_zeros() as u16; // 5..=11
        let exponent = bits - 4;
        let mantissa = (magnitude >> (exponent - 1)) & 0x0F;
        (exponent << 4) | mantissa
    } as u8;
    let code = if v >= 0 { code | 0x80 } else { code };
    code ^ 0x55 // G.711 inverts the even bits on the line
}

const fn ulaw_decode_code(code: u8) -> i16 {
    let inverted = !code;
    let exponent = ((inverted >> 4) & 0x07) as i16;
    let mantissa = (inverted & 0x0F) as i16;
    let step = 4 << (exponent + 1);
    // 14-bit reconstruction level, at the middle of the interval, scaled to 16 bits.
    let magnitude = (0x80 << exponent) + step * mantissa + step / 2 - 4 * 33;
    if code & 0x80 != 0 {
        magnitude
    } else {
        -magnitude
    }
}

const fn alaw_decode_code(code: u8) -> i16 {
    let toggled = (code ^ 0x55) & 0x7F;
    let exponent = (toggled >> 4) as i16;
    let mut mantissa = (toggled & 0x0F) as i16;
    if exponent > 0 {
        mantissa += 16;
    }
    let mut magnitude = (mantissa << 4) + 8;
    if exponent > 1 {
        magnitude <<= exponent - 1;
    }
    if code & 0x80 != 0 {
        magnitude
    } else {
        -magnitude
    }
}

/// μ-law code for every 14-bit value, indexed by the bit pattern of `x` shifted right by two.
static ULAW_ENCODE: [u8; 1 << 14] = {
    let mut table = [0u8; 1 << 14];
    let mut i = 0;
    while i < table.len() {
        // Index i holds the bits of (x as u16) >> 2; sign-extend back to the 14-bit value.
        table[i] = ulaw_from_14bit(((i as u16) << 2) as i16 >> 2);
        i += 1;
    }
    table
};

/// A-law code for every 12-bit value, indexed by the bit pattern of `x` shifted right by four.
static ALAW_ENCODE: [u8; 1 << 12] = {
    let mut table = [0u8; 1 << 12];
    let mut i = 0;
    while i < table.len() {
        table[i] = alaw_from_12bit(((i as u16) << 4) as i16 >> 4);
        i += 1;
    }
    table
};

static ULAW_DECODE: [i16; 256] = {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = ulaw_decode_code(i as u8);
        i += 1;
    }
    table
};

static ALAW_DECODE: [i16; 256] = {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = alaw_decode_code(i as u8);
        i += 1;
    }
    table
};

/// Encodes one sample to μ-law.
///
/// ```
/// use telephony_audio::ulaw_encode_sample;
/// assert_eq!(ulaw_encode_sample(0), 0xFF);
/// assert_eq!(ulaw_encode_sample(1000), 0xCE);
/// assert_eq!(ulaw_encode_sample(-32768), 0x00);
/// ```
#[inline]
pub fn ulaw_encode_sample(x: i16) -> u8 {
    ULAW_ENCODE[usize::from(x as u16 >> 2)]
}

/// Decodes one μ-law code.
#[inline]
pub fn ulaw_decode_sample(code: u8) -> i16 {
    ULAW_DECODE[usize::from(code)]
}

/// Encodes one sample to A-law.
///
/// ```
/// use telephony_audio::alaw_encode_sample;
/// assert_eq!(alaw_encode_sample(1000), 0xFA);
/// assert_eq!(alaw_encode_sample(-32768), 0x2A);
/// ```
#[inline]
pub fn alaw_encode_sample(x: i16) -> u8 {
    ALAW_ENCODE[usize::from(x as u16 >> 4)]
}

/// Decodes one A-law code.
#[inline]
pub fn alaw_decode_sample(code: u8) -> i16 {
    ALAW_DECODE[usize::from(code)]
}

/// Encodes linear samples to μ-law, `input[i]` to `output[i]`.
///
/// # Panics
///
/// If the slices differ in length, like [`slice::copy_from_slice`].
pub fn encode_ulaw(input: &[i16], output: &mut [u8]) {
    assert_eq!(
        input.len(),
        output.len(),
        "encode_ulaw: slice lengths differ"
    );
    #[cfg(target_arch = "x86_64")]
    if let Some(cpu) = simd::avx2() {
        simd::encode_ulaw(cpu, input, output);
        return;
    }
    for (o, &x) in output.iter_mut().zip(input) {
        *o = ulaw_encode_sample(x);
    }
}

/// Decodes μ-law codes to linear samples, `input[i]` to `output[i]`.
///
/// # Panics
///
/// If the slices differ in length.
pub fn decode_ulaw(input: &[u8], output: &mut [i16]) {
    assert_eq!(
        input.len(),
        output.len(),
        "decode_ulaw: slice lengths differ"
    );
    #[cfg(target_arch = "x86_64")]
    if let Some(cpu) = simd::avx2() {
        simd::decode_ulaw(cpu, input, output);
        return;
    }
    for (o, &c) in output.iter_mut().zip(input) {
        *o = ulaw_decode_sample(c);
    }
}

/// Encodes linear samples to A-law, `input[i]` to `output[i]`.
///
/// # Panics
///
/// If the slices differ in length.
pub fn encode_alaw(input: &[i16], output: &mut [u8]) {
    assert_eq!(
        input.len(),
        output.len(),
        "encode_alaw: slice lengths differ"
    );
    #[cfg(target_arch = "x86_64")]
    if let Some(cpu) = simd::avx2() {
        simd::encode_alaw(cpu, input, output);
        return;
    }
    for (o, &x) in output.iter_mut().zip(input) {
        *o = alaw_encode_sample(x);
    }
}

/// Decodes A-law codes to linear samples, `input[i]` to `output[i]`.
///
/// # Panics
///
/// If the slices differ in length.
pub fn decode_alaw(input: &[u8], output: &mut [i16]) {
    assert_eq!(
        input.len(),
        output.len(),
        "decode_alaw: slice lengths differ"
    );
    #[cfg(target_arch = "x86_64")]
    if let Some(cpu) = simd::avx2() {
        simd::decode_alaw(cpu, input, output);
        return;
    }
    for (o, &c) in output.iter_mut().zip(input) {
        *o = alaw_decode_sample(c);
    }
}

/// The G.711 segment rules as branch-free arithmetic, the same values as the tables. Without
/// gathers a vector unit cannot look tables up, but it can run this: compiled for AVX2, each
/// loop below takes sixteen samples a step (variable shifts and leading-zero counts are AVX2
/// instructions or short sequences of them). Plain SSE2 has neither, so there the tables win
/// and stay.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
mod arith {
    /// The exponent and the four bits after the leading one of `magnitude` (below 2^24), read
    /// off its `f32` form, which a vector unit computes eight at a time: `(E << 4) | m` for a
    /// biased exponent `E` and mantissa bits `m`.
    #[inline(always)]
    fn exponent_and_mantissa(magnitude: u16) -> i32 {
        (f32::from(magnitude).to_bits() >> 19) as i32
    }

    #[inline(always)]
    pub(super) fn ulaw_encode(x: i16) -> u8 {
        let v = x >> 2;
        let negative = v >> 15; // all ones for a negative sample
        let magnitude = ((v ^ negative) as u16 + 33).min(0x1FFF); // 33..=8191
        // Segment s = bit length - 5 and mantissa m: the code's low seven bits are
        // ((8 - s) << 4) | (15 - m), which for E = bit length + 126 is 2239 - ((E << 4) | m).
        let code = 2239 - exponent_and_mantissa(magnitude);
        (code as u8) | (!negative as u8 & 0x80)
    }

    #[inline(always)]
    pub(super) fn ulaw_decode(code: u8) -> i16 {
        let inverted = !code;
        let exponent = u32::from((inverted >> 4) & 0x07);
        let mantissa = i16::from(inverted & 0x0F);
        let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
        if code & 0x80 != 0 {
            magnitude
        } else {
            -magnitude
        }
    }

    #[inline(always)]
    pub(super) fn alaw_encode(x: i16) -> u8 {
        let v = x >> 4;
        let negative = v >> 15;
        let magnitude = (v ^ negative) as u16; // 0..=2047
        // Below 16 the code is the magnitude; from 16 on it is ((E - 130) << 4) | m.
        let code = if magnitude < 16 {
            i32::from(magnitude)
        } else {
            exponent_and_mantissa(magnitude) - 2080
        };
        ((code as u8) | (!negative as u8 & 0x80)) ^ 0x55
    }

    #[inline(always)]
    pub(super) fn alaw_decode(code: u8) -> i16 {
        let toggled = (code ^ 0x55) & 0x7F;
        let exponent = toggled >> 4;
        let mantissa = i16::from(toggled & 0x0F) | (i16::from(exponent > 0) << 4);
        let magnitude = ((mantissa << 4) + 8) << u32::from(exponent.max(1) - 1);
        if code & 0x80 != 0 {
            magnitude
        } else {
            -magnitude
        }
    }
}

/// The slice loops compiled for AVX2, chosen at run time. The exception to the crate's
/// no-`unsafe` habit is the call into code compiled for a feature the CPU was seen to have,
/// which each loop's entry point proves by the [`Avx2`](crate::Avx2) token it takes; the loops
/// themselves are safe Rust over slices. Against the table loops, `cargo bench -p
/// telephony-bench --bench audio -- g711` measures them, and the same command with
/// `TELEPHONY_SIMD=portable` the tables (the README's "Speed, measured" has the figures).
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod simd {
    use super::arith;
    use crate::Avx2;

    /// The proof that the slice loops may run on AVX2: the CPU has it, and `TELEPHONY_SIMD`
    /// does not keep it from being used (see [`Backend::detect`](crate::Backend::detect),
    /// which caches the answer).
    #[inline]
    pub(super) fn avx2() -> Option<Avx2> {
        crate::Backend::detect().avx2_token()
    }

    macro_rules! vectorized {
        ($name:ident, $inner:ident, $in:ty, $out:ty, $f:path) => {
            #[target_feature(enable = "avx2")]
            fn $inner(input: &[$in], output: &mut [$out]) {
                for (o, &x) in output.iter_mut().zip(input) {
                    *o = $f(x);
                }
            }

            /// The loop on AVX2, which `_cpu` proves this CPU runs.
            pub(super) fn $name(_cpu: Avx2, input: &[$in], output: &mut [$out]) {
                // SAFETY: the function is compiled for AVX2, which this CPU runs: `_cpu` is an
                // `Avx2`, which only the CPU check in `cpu.rs` creates, once it has seen AVX2.
                unsafe { $inner(input, output) }
            }
        };
    }

    vectorized!(encode_ulaw, encode_ulaw_avx2, i16, u8, arith::ulaw_encode);
    vectorized!(decode_ulaw, decode_ulaw_avx2, u8, i16, arith::ulaw_decode);
    vectorized!(encode_alaw, encode_alaw_avx2, i16, u8, arith::alaw_encode);
    vectorized!(decode_alaw, decode_alaw_avx2, u8, i16, arith::alaw_decode);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_vectors() {
        assert_eq!(ulaw_encode_sample(0), 0xFF);
        assert_eq!(ulaw_encode_sample(1000), 0xCE);
        for x in -4..=-1 {
            assert_eq!(ulaw_encode_sample(x), 0x7F, "{x}");
        }
        assert_eq!(ulaw_encode_sample(-32768), 0x00);
        assert_eq!(ulaw_decode_sample(0xCE), 988);
        assert_eq!(ulaw_decode_sample(0x7F), 0);
        assert_eq!(ulaw_decode_sample(0xFF), 0);
        assert_eq!(alaw_encode_sample(1000), 0xFA);
        assert_eq!(alaw_encode_sample(-32768), 0x2A);
        assert_eq!(alaw_encode_sample(0), 0xD5);
    }

    #[test]
    fn decode_range_matches_g191() {
        assert_eq!(ULAW_DECODE.iter().max(), Some(&32124));
        assert_eq!(ULAW_DECODE.iter().min(), Some(&-32124));
        assert_eq!(ALAW_DECODE.iter().max(), Some(&32256));
        assert_eq!(ALAW_DECODE.iter().min(), Some(&-32256));
    }

    #[test]
    fn the_arithmetic_agrees_with_the_tables_everywhere() {
        for x in i16::MIN..=i16::MAX {
            assert_eq!(arith::ulaw_encode(x), ulaw_encode_sample(x), "mu-law {x}");
            assert_eq!(arith::alaw_encode(x), alaw_encode_sample(x), "A-law {x}");
        }
        for code in 0..=255u8 {
            assert_eq!(
                arith::ulaw_decode(code),
                ulaw_decode_sample(code),
                "{code:#04x}"
            );
            assert_eq!(
                arith::alaw_decode(code),
                alaw_decode_sample(code),
                "{code:#04x}"
            );
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_vector_loops_agree_with_the_tables_on_every_input() {
        // Whatever TELEPHONY_SIMD says: this tests the AVX2 loops wherever the CPU has them.
        let Ok(cpu) = crate::Avx2::detect() else {
            return;
        };
        let every: Vec<i16> = (i16::MIN..=i16::MAX).collect();
        let codes: Vec<u8> = (0..=255).collect();
        let (mut ours, mut table) = (vec![0u8; every.len()], vec![0u8; every.len()]);
        simd::encode_ulaw(cpu, &every, &mut ours);
        every
            .iter()
            .zip(&mut table)
            .for_each(|(&x, t)| *t = ulaw_encode_sample(x));
        assert!(ours == table, "mu-law encode");
        simd::encode_alaw(cpu, &every, &mut ours);
        every
            .iter()
            .zip(&mut table)
            .for_each(|(&x, t)| *t = alaw_encode_sample(x));
        assert!(ours == table, "A-law encode");
        let (mut ours, mut table) = (vec![0i16; 256], vec![0i16; 256]);
        simd::decode_ulaw(cpu, &codes, &mut ours);
        codes
            .iter()
            .zip(&mut table)
            .for_each(|(&c, t)| *t = ulaw_decode_sample(c));
        assert_eq!(ours, table, "mu-law decode");
        simd::decode_alaw(cpu, &codes, &mut ours);
        codes
            .iter()
            .zip(&mut table)
            .for_each(|(&c, t)| *t = alaw_decode_sample(c));
        assert_eq!(ours, table, "A-law decode");
    }

    #[test]
    fn every_code_survives_a_round_trip() {
        for code in 0..=255u8 {
            let u = ulaw_encode_sample(ulaw_decode_sample(code));
            // 0x7F and 0xFF both decode to 0, which encodes to 0xFF.
            let expected = if code == 0x7F { 0xFF } else { code };
            assert_eq!(u, expected, "mu-law {code:#04x}");
            assert_eq!(
                alaw_encode_sample(alaw_decode_sample(code)),
                code,
                "A-law {code:#04x}"
            );
        }
    }
}
