//! Base64 (standard alphabet, canonical padding) for media payloads: the same bytes as the
//! `base64` crate's `STANDARD` engine, written for speed on 20 ms frames, because every 20 ms
//! of every call passes through it twice. Table-driven, with AVX2 blocks of 32 characters where
//! the CPU has it (the one `unsafe` exception in this crate, in the private `simd` module);
//! anything the fast decoder refuses is handed to the `base64` crate, so errors read as they
//! always did. `cargo bench -p telephony-bench --bench media -- pieces` times it against the
//! `base64` crate (figures in the README's "Capacity" section).

#[cfg(target_arch = "x86_64")]
use super::simd;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use telephony_audio::Avx2;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// A character's value shifted to its place in a 4-character group; `INVALID` marks a
/// character outside the alphabet (padding included: groups with `=` take the slow path).
const INVALID: u32 = 1 << 31;

const fn table(shift: u32) -> [u32; 256] {
    let mut t = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        t[ALPHABET[i] as usize] = (i as u32) << shift;
        i += 1;
    }
    t
}

static D0: [u32; 256] = table(18);
static D1: [u32; 256] = table(12);
static D2: [u32; 256] = table(6);
static D3: [u32; 256] = table(0);

/// Two characters for every 12 bits, the first in the low byte.
static PAIRS: [u16; 4096] = {
    let mut t = [0u16; 4096];
    let mut i = 0;
    while i < 4096 {
        t[i] = ALPHABET[i >> 6] as u16 | ((ALPHABET[i & 63] as u16) << 8);
        i += 1;
    }
    t
};

/// One 4-character group's 24 bits, with `INVALID` set if a character is not in the alphabet.
fn group(g: &[u8]) -> u32 {
    D0[usize::from(g[0])] | D1[usize::from(g[1])] | D2[usize::from(g[2])] | D3[usize::from(g[3])]
}

/// Eight characters for six bytes, the first character in the low byte.
fn eight(t: &[u8]) -> u64 {
    let v = (u64::from(t[0]) << 40)
        | (u64::from(t[1]) << 32)
        | (u64::from(t[2]) << 24)
        | (u64::from(t[3]) << 16)
        | (u64::from(t[4]) << 8)
        | u64::from(t[5]);
    let pair = |bits: u64| u64::from(PAIRS[(bits & 0xFFF) as usize]);
    pair(v >> 36) | (pair(v >> 24) << 16) | (pair(v >> 12) << 32) | (pair(v) << 48)
}

/// The payload could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidBase64(pub String);

impl std::fmt::Display for InvalidBase64 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidBase64 {}

/// A media message's payload decoded into `out` (replacing what it held), or the protocol
/// error that names the provider: what a JSON protocol's general path calls.
pub fn decode_payload(
    provider: crate::ProviderKind,
    text: &str,
    out: &mut Vec<u8>,
) -> Result<(), super::MediaError> {
    decode_into(text.as_bytes(), out).map_err(|e| super::MediaError::Malformed {
        provider,
        detail: format!("media payload is not base64: {e}"),
    })
}

/// Decodes `text` into `out`, replacing what it held. Canonical padding is required, as the
/// `STANDARD` engine requires it.
pub fn decode_into(text: &[u8], out: &mut Vec<u8>) -> Result<(), InvalidBase64> {
    decode_with(text, out, super::avx2())
}

/// Decodes with the AVX2 blocks when `simd` holds the token for them, with the tables alone
/// when it is `None`.
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables, unused_mut))]
fn decode_with(text: &[u8], out: &mut Vec<u8>, simd: Option<Avx2>) -> Result<(), InvalidBase64> {
    // What `out` held is overwritten, not cleared first: a buffer reused frame after frame
    // keeps most of its length, and the resize below zero-fills only the few bytes beyond.
    if !text.len().is_multiple_of(4) {
        return slow(text, out);
    }
    // Whole groups without padding go through the tables; the last group, which may hold
    // padding, is decoded apart.
    let groups = text.len() / 4;
    let full = if text.ends_with(b"=") {
        groups.saturating_sub(1)
    } else {
        groups
    };
    // Thirty-two characters at a time where AVX2 runs, then eight at a time, six bytes written
    // with one eight-byte store (the stores' slack at the end is cut off after).
    out.resize(full * 3 + 8, 0);
    let mut bad = 0u32;
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if let Some(cpu) = simd {
        match simd::decode_base64(cpu, &text[..full * 4], out) {
            Some(chars) => done = chars,
            None => return slow(text, out),
        }
    }
    let pairs = full / 2;
    for (k, g) in text[done..pairs * 8].chunks_exact(8).enumerate() {
        let (a, b) = (group(&g[..4]), group(&g[4..]));
        bad |= a | b;
        let x = (u64::from(a) << 40) | (u64::from(b) << 16);
        let at = done / 4 * 3 + k * 6;
        out[at..at + 8].copy_from_slice(&x.to_be_bytes());
    }
    if full % 2 == 1 {
        let v = group(&text[pairs * 8..pairs * 8 + 4]);
        bad |= v;
        out[pairs * 6..pairs * 6 + 3].copy_from_slice(&[(v >> 16) as u8, (v >> 8) as u8, v as u8]);
    }
    out.truncate(full * 3);
    if bad & INVALID != 0 {
        return slow(text, out);
    }
    if full < groups {
        let g = &text[full * 4..];
        let (a, b) = (D0[g[0] as usize], D1[g[1] as usize]);
        if g[3] != b'=' || (a | b) & INVALID != 0 {
            return slow(text, out);
        }
        if g[2] == b'=' {
            // One byte; the second character's low four bits must be zero.
            let v = a | b;
            if v & 0xFFFF != 0 {
                return slow(text, out);
            }
            out.push((v >> 16) as u8);
        } else {
            let c = D2[g[2] as usize];
            let v = a | b | c;
            if c & INVALID != 0 || v & 0xFF != 0 {
                return slow(text, out);
            }
            out.extend_from_slice(&[(v >> 16) as u8, (v >> 8) as u8]);
        }
    }
    Ok(())
}

/// The `base64` crate's answer, for whatever the tables refused: its error, or its bytes
/// where it accepts what the tables did not expect.
fn slow(text: &[u8], out: &mut Vec<u8>) -> Result<(), InvalidBase64> {
    out.clear();
    STANDARD
        .decode_vec(text, out)
        .map_err(|e| InvalidBase64(e.to_string()))
}

/// Appends `bytes` to `out` as base64 with padding.
pub fn encode_into(bytes: &[u8], out: &mut String) {
    encode_with(bytes, out, super::avx2());
}

/// Encodes with the AVX2 blocks when `simd` holds the token for them, with the tables alone
/// when it is `None`.
#[cfg_attr(not(target_arch = "x86_64"), allow(unused_variables, unused_mut))]
fn encode_with(bytes: &[u8], out: &mut String, simd: Option<Avx2>) {
    out.reserve(bytes.len().div_ceil(3) * 4);
    // 192 bytes become 256 characters in a buffer on the stack, checked as text once.
    let mut buf = [0u8; 256];
    let mut rest = bytes;
    while !rest.is_empty() {
        let take = rest.len().min(192);
        let mut used = 0;
        #[cfg(target_arch = "x86_64")]
        if let Some(cpu) = simd {
            used = simd::encode_base64(cpu, rest, take, &mut buf);
        }
        let (chunk, tail) = rest.split_at(take);
        rest = tail;
        let sixes = chunk.len() / 6;
        let mut n = used / 3 * 4;
        for t in chunk[used..sixes * 6].chunks_exact(6) {
            buf[n..n + 8].copy_from_slice(&eight(t).to_le_bytes());
            n += 8;
        }
        let mut left = &chunk[sixes * 6..];
        if left.len() >= 3 {
            let v =
                (usize::from(left[0]) << 16) | (usize::from(left[1]) << 8) | usize::from(left[2]);
            let x = u32::from(PAIRS[v >> 12]) | (u32::from(PAIRS[v & 0xFFF]) << 16);
            buf[n..n + 4].copy_from_slice(&x.to_le_bytes());
            n += 4;
            left = &left[3..];
        }
        match *left {
            [x] => {
                let v = usize::from(x) << 4;
                buf[n..n + 4].copy_from_slice(&[ALPHABET[v >> 6], ALPHABET[v & 63], b'=', b'=']);
                n += 4;
            }
            [x, y] => {
                let v = ((usize::from(x) << 8) | usize::from(y)) << 2;
                buf[n..n + 4].copy_from_slice(&[
                    ALPHABET[v >> 12],
                    ALPHABET[(v >> 6) & 63],
                    ALPHABET[v & 63],
                    b'=',
                ]);
                n += 4;
            }
            _ => {}
        }
        // The alphabet is ASCII, so this never fails.
        out.push_str(std::str::from_utf8(&buf[..n]).unwrap_or_default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table path, and the AVX2 blocks where this CPU has them (whatever `TELEPHONY_SIMD`
    /// says).
    fn paths() -> Vec<Option<Avx2>> {
        match Avx2::detect() {
            Ok(cpu) => vec![None, Some(cpu)],
            Err(_) => vec![None],
        }
    }

    #[test]
    fn agrees_with_the_standard_engine_on_every_length_and_byte() {
        let data: Vec<u8> = (0..1024u32).map(|i| (i * 37 + i / 7) as u8).collect();
        for simd in paths() {
            for len in 0..600 {
                let bytes = &data[..len];
                let mut ours = String::from("x");
                encode_with(bytes, &mut ours, simd);
                assert_eq!(ours[1..], STANDARD.encode(bytes), "encode {len} {simd:?}");
                let mut back = vec![7];
                decode_with(&ours.as_bytes()[1..], &mut back, simd).unwrap();
                assert_eq!(back, bytes, "decode {len} {simd:?}");
            }
            // Every byte value in every position of a block, and every character.
            for shift in 0..24 {
                let all: Vec<u8> = (0..=255u8).cycle().skip(shift).take(24 * 32).collect();
                let mut text = String::new();
                encode_with(&all, &mut text, simd);
                assert_eq!(text, STANDARD.encode(&all));
                let mut back = Vec::new();
                decode_with(text.as_bytes(), &mut back, simd).unwrap();
                assert_eq!(back, all);
            }
        }
    }

    #[test]
    fn agrees_with_the_standard_engine_on_a_bad_character_anywhere_in_a_frame() {
        let frame: Vec<u8> = (0..160u32).map(|i| (i * 73 + 11) as u8).collect();
        let good = STANDARD.encode(&frame);
        for (simd, at) in paths()
            .into_iter()
            .flat_map(|s| (0..good.len()).map(move |a| (s, a)))
        {
            for bad in [
                b'=', b'!', b'-', b'_', b' ', b'\n', b'@', b'[', b'`', b'{', b':', 0x80, 0xFF,
            ] {
                let mut text = good.clone().into_bytes();
                text[at] = bad;
                let mut out = vec![1, 2, 3];
                let ours = decode_with(&text, &mut out, simd);
                match STANDARD.decode(&text) {
                    Ok(theirs) => assert_eq!(ours.map(|()| out), Ok(theirs), "{at} {bad}"),
                    Err(theirs) => assert_eq!(ours, Err(InvalidBase64(theirs.to_string()))),
                }
            }
        }
    }

    #[test]
    fn refuses_what_the_standard_engine_refuses() {
        for bad in [
            "A",
            "AB",
            "ABC",
            "AB=",
            "A===",
            "AB=C",
            "====",
            "AB==CD==",
            "ab!d",
            "ab d",
            "QQ=",
            "QR==", // trailing bits set
            "QUJ=", // trailing bits set
            "QUJD\n",
            "\u{e9}AAA",
        ] {
            for simd in paths() {
                let mut out = vec![9];
                let ours = decode_with(bad.as_bytes(), &mut out, simd);
                let theirs = STANDARD.decode(bad.as_bytes());
                assert_eq!(ours.is_err(), theirs.is_err(), "{bad:?}");
                if let (Err(ours), Err(theirs)) = (ours, theirs) {
                    assert_eq!(ours.0, theirs.to_string());
                }
            }
        }
        for good in ["", "QQ==", "QUI=", "QUJD", "//8=", "+/+/"] {
            let mut out = Vec::new();
            decode_into(good.as_bytes(), &mut out).unwrap();
            assert_eq!(out, STANDARD.decode(good).unwrap(), "{good:?}");
        }
    }
}
