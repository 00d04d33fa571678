//! Base64 (standard alphabet, canonical padding) for media payloads: the same bytes as the
//! `base64` crate's `STANDARD` engine, about three times faster on 20 ms frames, because every
//! 20 ms of every call passes through it twice. Table-driven, no `unsafe`; anything the fast
//! decoder refuses is handed to the `base64` crate, so errors read as they always did.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

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

/// Decodes `text` into `out`, replacing what it held. Canonical padding is required, as the
/// `STANDARD` engine requires it.
pub fn decode_into(text: &[u8], out: &mut Vec<u8>) -> Result<(), InvalidBase64> {
    out.clear();
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
    // Eight characters at a time, six bytes written with one eight-byte store (two bytes of
    // slack at the end, cut off after).
    out.resize(full * 3 + 2, 0);
    let mut bad = 0u32;
    let pairs = full / 2;
    for (k, g) in text[..pairs * 8].chunks_exact(8).enumerate() {
        let (a, b) = (group(&g[..4]), group(&g[4..]));
        bad |= a | b;
        let x = (u64::from(a) << 40) | (u64::from(b) << 16);
        out[k * 6..k * 6 + 8].copy_from_slice(&x.to_be_bytes());
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
    out.reserve(bytes.len().div_ceil(3) * 4);
    // 192 bytes become 256 characters in a buffer on the stack, checked as text once.
    let mut buf = [0u8; 256];
    let mut rest = bytes;
    while !rest.is_empty() {
        let take = rest.len().min(192);
        let (chunk, tail) = rest.split_at(take);
        rest = tail;
        let sixes = chunk.len() / 6;
        let mut n = 0;
        for t in chunk[..sixes * 6].chunks_exact(6) {
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

    #[test]
    fn agrees_with_the_standard_engine_on_every_length_and_byte() {
        let data: Vec<u8> = (0..1024u32).map(|i| (i * 37 + i / 7) as u8).collect();
        for len in 0..300 {
            let bytes = &data[..len];
            let mut ours = String::new();
            encode_into(bytes, &mut ours);
            assert_eq!(ours, STANDARD.encode(bytes), "encode {len}");
            let mut back = Vec::new();
            decode_into(ours.as_bytes(), &mut back).unwrap();
            assert_eq!(back, bytes, "decode {len}");
        }
        let all: Vec<u8> = (0..=255).collect();
        let mut text = String::new();
        encode_into(&all, &mut text);
        let mut back = Vec::new();
        decode_into(text.as_bytes(), &mut back).unwrap();
        assert_eq!(back, all);
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
            let mut out = vec![9];
            let ours = decode_into(bad.as_bytes(), &mut out);
            let theirs = STANDARD.decode(bad.as_bytes());
            assert_eq!(ours.is_err(), theirs.is_err(), "{bad:?}");
            if let (Err(ours), Err(theirs)) = (ours, theirs) {
                assert_eq!(ours.0, theirs.to_string());
            }
        }
        for good in ["", "QQ==", "QUI=", "QUJD", "//8=", "+/+/"] {
            let mut out = Vec::new();
            decode_into(good.as_bytes(), &mut out).unwrap();
            assert_eq!(out, STANDARD.decode(good).unwrap(), "{good:?}");
        }
    }
}
