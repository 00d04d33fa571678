//! AVX2 blocks for the media fast path, where every 20 ms of every call passes: base64 in
//! blocks of 32 characters and 24 bytes (characters checked and mapped with nibble lookups,
//! `vpshufb`; sextets packed by multiply-adds; the bytes gathered by one shuffle and one
//! permute; and the reverse for encoding), and the search for a closing quote 32 bytes a step.
//!
//! This is the crate's one exception to its no-`unsafe` rule, earned by measurement against
//! the table path (`cargo bench -p telephony-bench --bench media -- pieces` times the fast path
//! against the `base64` crate, and with `TELEPHONY_SIMD=portable` the table path; the README's
//! "Capacity" section has the figures). The unaligned loads and stores are the only operations
//! that need it, each at a bounds-checked array reference of exactly its width, and the call
//! into code compiled for AVX2: each entry point here takes an
//! [`Avx2`](telephony_audio::Avx2) token, which only telephony-audio's CPU check creates, so
//! none can be reached on a CPU without AVX2 (callers get the token from
//! [`Backend::detect`](telephony_audio::Backend::detect), so `TELEPHONY_SIMD` holds here too).
//! A block holding any character outside the alphabet, or padding, is left to the
//! callers' table paths.
#![allow(unsafe_code)]

use std::arch::x86_64::*;

use telephony_audio::Avx2;

/// Nibble classes for validation: a character `c` is in the alphabet exactly when
/// `LOW[c & 15] & HIGH[c >> 4] == 0`. Each high nibble gets one class bit; the low-nibble
/// table sets that bit where the pair is not in the alphabet.
const fn class(high: u8) -> u8 {
    match high {
        2 => 1,
        3 => 2,
        4 | 6 => 4,
        5 | 7 => 8,
        _ => 16,
    }
}

const fn valid(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'+' || c == b'/'
}

const fn tables() -> ([u8; 16], [u8; 16]) {
    let mut low = [0u8; 16];
    let mut high = [0u8; 16];
    let mut h = 0;
    while h < 16 {
        high[h] = class(h as u8);
        let mut l = 0;
        while l < 16 {
            if !valid((h * 16 + l) as u8) {
                low[l] |= class(h as u8);
            }
            l += 1;
        }
        h += 1;
    }
    (low, high)
}

const CLASSES: ([u8; 16], [u8; 16]) = tables();

/// What to add to a character to get its value, by high nibble; index 1 is `/` (0x2F,
/// whose high nibble 2 is moved down by one), 2 is `+`.
const ROLL: [i8; 16] = [0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0];

/// What to add to a sextet to get its character, by the reduced index of `encode`.
const SHIFT: [i8; 16] = [
    71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0,
];

fn lanes(t: [u8; 16]) -> [u8; 32] {
    let mut both = [0u8; 32];
    both[..16].copy_from_slice(&t);
    both[16..].copy_from_slice(&t);
    both
}

/// Where the first `"` is in `bytes`, if anywhere: 32 bytes a step, the rest one by one.
pub(super) fn find_quote(_cpu: Avx2, bytes: &[u8]) -> Option<usize> {
    // SAFETY: `find_quote_avx2` is compiled for AVX2, which this CPU runs: `_cpu` is an `Avx2`,
    // which only telephony-audio's CPU check creates, once it has seen AVX2.
    unsafe { find_quote_avx2(bytes) }
}

#[target_feature(enable = "avx2")]
fn find_quote_avx2(bytes: &[u8]) -> Option<usize> {
    let quote = _mm256_set1_epi8(b'"' as i8);
    let mut at = 0;
    for block in bytes.chunks_exact(32) {
        let Ok(block) = block.try_into() else {
            break;
        };
        let hits = _mm256_movemask_epi8(_mm256_cmpeq_epi8(load(block), quote)) as u32;
        if hits != 0 {
            return Some(at + hits.trailing_zeros() as usize);
        }
        at += 32;
    }
    bytes[at..].iter().position(|&c| c == b'"').map(|p| at + p)
}

/// Decodes whole 32-character blocks of `text` into `out` (three bytes for four
/// characters, each block's 32-byte store reaching 8 bytes past its 24): returns how many
/// characters it decoded, or `None` if a block holds a character outside the alphabet.
pub(super) fn decode_base64(_cpu: Avx2, text: &[u8], out: &mut [u8]) -> Option<usize> {
    // SAFETY: `decode_avx2` is compiled for AVX2, which this CPU runs: `_cpu` is an `Avx2`,
    // which only telephony-audio's CPU check creates, once it has seen AVX2.
    unsafe { decode_avx2(text, out) }
}

#[target_feature(enable = "avx2")]
fn decode_avx2(text: &[u8], out: &mut [u8]) -> Option<usize> {
    let (low, high) = CLASSES;
    let low = load(&lanes(low));
    let high = load(&lanes(high));
    let roll = load(&lanes(ROLL.map(|v| v as u8)));
    let nibble = _mm256_set1_epi8(0x0F);
    let slash = _mm256_set1_epi8(0x2F);
    let pairs = _mm256_set1_epi32(0x0140_0140);
    let quads = _mm256_set1_epi32(0x0001_1000);
    let gather = _mm256_setr_epi8(
        2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1, //
        2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1,
    );
    let pack = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 7, 7);
    let mut done = 0;
    while done + 32 <= text.len() && done / 4 * 3 + 32 <= out.len() {
        let c = load(text[done..done + 32].try_into().ok()?);
        let hi = _mm256_and_si256(_mm256_srli_epi32::<4>(c), nibble);
        let lo = _mm256_and_si256(c, nibble);
        let bad = _mm256_and_si256(_mm256_shuffle_epi8(low, lo), _mm256_shuffle_epi8(high, hi));
        if _mm256_testz_si256(bad, bad) == 0 {
            return None;
        }
        let index = _mm256_add_epi8(_mm256_cmpeq_epi8(c, slash), hi);
        let values = _mm256_add_epi8(c, _mm256_shuffle_epi8(roll, index));
        let twelve = _mm256_maddubs_epi16(values, pairs);
        let word = _mm256_madd_epi16(twelve, quads);
        let bytes = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(word, gather), pack);
        let at = done / 4 * 3;
        store((&mut out[at..at + 32]).try_into().ok()?, bytes);
        done += 32;
    }
    Some(done)
}

/// Encodes whole 24-byte blocks of `bytes[..limit]` into `buf`, 32 characters each, while
/// each block's two 16-byte loads stay inside `bytes`: returns how many bytes it encoded
/// (a multiple of 24).
pub(super) fn encode_base64(_cpu: Avx2, bytes: &[u8], limit: usize, buf: &mut [u8; 256]) -> usize {
    // SAFETY: `encode_avx2` is compiled for AVX2, which this CPU runs: `_cpu` is an `Avx2`,
    // which only telephony-audio's CPU check creates, once it has seen AVX2.
    unsafe { encode_avx2(bytes, limit, buf) }
}

#[target_feature(enable = "avx2")]
fn encode_avx2(bytes: &[u8], limit: usize, buf: &mut [u8; 256]) -> usize {
    let spread = _mm256_setr_epi8(
        1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10, //
        1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10,
    );
    let shift = load(&lanes(SHIFT.map(|v| v as u8)));
    let mut used = 0;
    while used + 24 <= limit && used + 28 <= bytes.len() && used / 3 * 4 + 32 <= buf.len() {
        let first = load16(bytes[used..used + 16].try_into().unwrap_or(&[0; 16]));
        let second = load16(bytes[used + 12..used + 28].try_into().unwrap_or(&[0; 16]));
        let input = _mm256_shuffle_epi8(_mm256_set_m128i(second, first), spread);
        // Each 32-bit word holds one 3-byte group as [s1, s0, s2, s1]; take its four
        // sextets to the four bytes, in order.
        let ac = _mm256_mulhi_epu16(
            _mm256_and_si256(input, _mm256_set1_epi32(0x0FC0_FC00)),
            _mm256_set1_epi32(0x0400_0040),
        );
        let bd = _mm256_mullo_epi16(
            _mm256_and_si256(input, _mm256_set1_epi32(0x003F_03F0)),
            _mm256_set1_epi32(0x0100_0010),
        );
        let sextets = _mm256_or_si256(ac, bd);
        // 0..=25 reduce to 13, 26..=51 to 0, 52..=63 to 1..=12.
        let reduced = _mm256_or_si256(
            _mm256_subs_epu8(sextets, _mm256_set1_epi8(51)),
            _mm256_and_si256(
                _mm256_cmpgt_epi8(_mm256_set1_epi8(26), sextets),
                _mm256_set1_epi8(13),
            ),
        );
        let chars = _mm256_add_epi8(sextets, _mm256_shuffle_epi8(shift, reduced));
        let at = used / 3 * 4;
        if let Ok(dst) = (&mut buf[at..at + 32]).try_into() {
            store(dst, chars);
        }
        used += 24;
    }
    used
}

#[target_feature(enable = "avx2")]
fn load(bytes: &[u8; 32]) -> __m256i {
    // SAFETY: 32 readable bytes; the load has no alignment requirement.
    unsafe { _mm256_loadu_si256(bytes.as_ptr().cast()) }
}

#[target_feature(enable = "avx2")]
fn load16(bytes: &[u8; 16]) -> __m128i {
    // SAFETY: 16 readable bytes; the load has no alignment requirement.
    unsafe { _mm_loadu_si128(bytes.as_ptr().cast()) }
}

#[target_feature(enable = "avx2")]
fn store(bytes: &mut [u8; 32], v: __m256i) {
    // SAFETY: 32 writable bytes; the store has no alignment requirement.
    unsafe { _mm256_storeu_si256(bytes.as_mut_ptr().cast(), v) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nibble_classes_accept_exactly_the_alphabet() {
        let (low, high) = CLASSES;
        for c in 0..=255u8 {
            let accepted = low[usize::from(c & 15)] & high[usize::from(c >> 4)] == 0;
            assert_eq!(accepted, valid(c), "{c:#04x}");
        }
    }
}
