//! G.711 against the ITU-T G.191 reference, for every input and every code.

use telephony_audio::{
    alaw_decode_sample, alaw_encode_sample, decode_alaw, decode_ulaw, encode_alaw, encode_ulaw,
    ulaw_decode_sample, ulaw_encode_sample,
};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn every_input() -> Vec<i16> {
    (i16::MIN..=i16::MAX).collect()
}

#[test]
fn ulaw_encoding_matches_g191_for_all_65536_inputs() {
    let reference = fixture("g191_ulaw_encode.bin");
    let mut ours = vec![0u8; 65536];
    encode_ulaw(&every_input(), &mut ours);
    let differ: Vec<i32> = (0..65536)
        .filter(|&i| ours[i] != reference[i])
        .map(|i| i as i32 - 32768)
        .collect();
    assert!(
        differ.is_empty(),
        "differs at {:?}",
        &differ[..differ.len().min(10)]
    );
}

#[test]
fn alaw_encoding_matches_g191_for_all_65536_inputs() {
    let reference = fixture("g191_alaw_encode.bin");
    let mut ours = vec![0u8; 65536];
    encode_alaw(&every_input(), &mut ours);
    assert!(ours == reference);
    for (i, &code) in reference.iter().enumerate() {
        assert_eq!(alaw_encode_sample(i as i16 ^ i16::MIN), code);
    }
}

#[test]
fn decoding_matches_g191_for_all_256_codes() {
    let text = String::from_utf8(fixture("g191_decode.txt")).unwrap();
    let rows: Vec<(u8, i16, i16)> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (
                u8::from_str_radix(f[0].trim_start_matches("0x"), 16).unwrap(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows.len(), 256);
    let codes: Vec<u8> = rows.iter().map(|r| r.0).collect();
    let (mut u, mut a) = (vec![0i16; 256], vec![0i16; 256]);
    decode_ulaw(&codes, &mut u);
    decode_alaw(&codes, &mut a);
    for (i, &(code, ulaw, alaw)) in rows.iter().enumerate() {
        assert_eq!(u[i], ulaw, "mu-law {code:#04x}");
        assert_eq!(a[i], alaw, "A-law {code:#04x}");
        assert_eq!(ulaw_decode_sample(code), ulaw);
        assert_eq!(alaw_decode_sample(code), alaw);
    }
}

/// Python's audioop (and the Sun code it derives from) differs from G.191 at 508 negative
/// inputs on decision boundaries, always by one code; this pins the claim made in the docs.
#[test]
fn audioop_differs_from_g191_at_508_negative_boundaries() {
    let audioop = fixture("audioop_lin2ulaw.bin");
    let mut differ = 0;
    for (i, &code) in audioop.iter().enumerate() {
        let x = i as i16 ^ i16::MIN;
        let ours = ulaw_encode_sample(x);
        if ours != code {
            differ += 1;
            assert!(x < 0, "{x}");
            assert_eq!((i16::from(ours) - i16::from(code)).abs(), 1, "{x}");
        }
    }
    assert_eq!(differ, 508);
    assert_eq!(audioop[32768 - 1], 0x7E); // audioop: -1 -> 0x7E
    assert_eq!(ulaw_encode_sample(-1), 0x7F); // G.191: -1 -> 0x7F
}

#[test]
fn the_classic_overflow_at_minus_32768_is_absent() {
    assert_eq!(ulaw_encode_sample(i16::MIN), 0x00);
    assert_eq!(ulaw_decode_sample(0x00), -32124);
    assert_eq!(alaw_encode_sample(i16::MIN), 0x2A);
}
