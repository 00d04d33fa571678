//! The media fast path agrees with a general JSON parser on every message it accepts, and
//! never panics on any input.

use proptest::prelude::*;
use telephony_core::media::scan::media_message;

/// The keys Twilio's and Plivo's media messages carry that the fast path passes over.
const SKIP: &[&str] = &["streamSid", "streamId", "extra_headers"];

/// `(sequence, track, timestamp, payload)`.
type Fields = (Option<u64>, Option<String>, Option<u64>, String);

/// What a general parser reads from a media event, with the protocols' lenient counters.
fn general(text: &str) -> Option<Fields> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let counter = |v: Option<&serde_json::Value>| match v {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    if v.get("event")?.as_str()? != "media" {
        return None;
    }
    let media = v.get("media")?;
    Some((
        counter(v.get("sequenceNumber")),
        media
            .get("track")
            .and_then(|t| t.as_str())
            .map(str::to_owned),
        counter(media.get("timestamp")),
        media.get("payload")?.as_str()?.to_owned(),
    ))
}

fn counter() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u32>().prop_map(|n| n.to_string()),
        any::<u32>().prop_map(|n| format!("\"{n}\"")),
        Just("null".to_owned()),
        Just("\"x\"".to_owned()),
        Just("-3".to_owned()),
        Just("2.5".to_owned()),
        Just("\" 7\"".to_owned()),
    ]
}

fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9+/=]{0,40}".prop_map(|s| format!("\"{s}\"")),
        Just("\"in\\\"bound\"".to_owned()),
        Just("\"\\u0041\"".to_owned()),
        "[A-Za-z0-9+]{0,8}".prop_map(|s| format!("\"{s}\\/{s}\"")),
        Just("null".to_owned()),
        Just("5".to_owned()),
    ]
}

fn ws() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just(" ".to_owned()),
        Just("\n\t ".to_owned())
    ]
}

/// A media message: some of its fields, in any order, with any spacing.
fn message() -> impl Strategy<Value = String> {
    let media_fields = (
        prop::option::of(string()),
        prop::option::of(counter()),
        prop::option::of(counter()),
        prop::option::of(string()),
    );
    let top = (
        prop::option::of(prop_oneof![
            Just("\"media\"".to_owned()),
            Just("\"mark\"".to_owned())
        ]),
        prop::option::of(counter()),
        prop::option::of(string()),
        prop::option::of(string()),
        prop::bool::ANY,
    );
    (media_fields, top, ws(), any::<u64>()).prop_map(
        |((track, timestamp, chunk, payload), (event, seq, sid, extra, extra_key), w, order)| {
            let mut inner = Vec::new();
            if let Some(v) = track {
                inner.push(format!("\"track\"{w}:{w}{v}"));
            }
            if let Some(v) = timestamp {
                inner.push(format!("\"timestamp\":{v}"));
            }
            if let Some(v) = chunk {
                inner.push(format!("\"chunk\":{v}"));
            }
            if let Some(v) = payload {
                inner.push(format!("\"payload\":{w}{v}"));
            }
            let mut outer = Vec::new();
            if let Some(v) = event {
                outer.push(format!("\"event\":{v}"));
            }
            if let Some(v) = seq {
                outer.push(format!("\"sequenceNumber\":{v}"));
            }
            if let Some(v) = sid {
                outer.push(format!("\"streamSid\":{v}"));
            }
            if let Some(v) = extra {
                outer.push(format!("\"extra_headers\":{v}"));
            }
            if extra_key {
                outer.push("\"other\":[1,{\"a\":\"b\"}]".to_owned());
            }
            outer.push(format!("\"media\":{w}{{{}}}", inner.join(",")));
            let k = outer.len();
            outer.rotate_left((order % k as u64) as usize);
            format!("{w}{{{w}{}{w}}}{w}", outer.join(&format!(",{w}")))
        },
    )
}

proptest! {
    #[test]
    fn what_the_fast_path_reads_the_general_parser_reads_too(text in message()) {
        if let Some(m) = media_message(&text, SKIP) {
            let g = general(&text).expect("a message the fast path read is a valid media event");
            prop_assert_eq!(m.sequence, g.0);
            prop_assert_eq!(m.track.map(str::to_owned), g.1);
            prop_assert_eq!(m.timestamp, g.2);
            if m.payload.contains('\\') {
                // Written with escapes: it must not decode, so the protocol reparses it.
                let mut out = Vec::new();
                prop_assert!(telephony_core::media::b64::decode_into(m.payload.as_bytes(), &mut out).is_err());
            } else {
                prop_assert_eq!(m.payload, g.3.as_str());
            }
        }
    }

    #[test]
    fn any_text_is_read_or_left_alone_never_a_panic(text in "\\PC{0,200}") {
        let _ = media_message(&text, SKIP);
    }

    #[test]
    fn truncated_messages_are_left_to_the_general_parser(text in message(), cut in 0usize..400) {
        let cut = cut.min(text.len());
        if text.is_char_boundary(cut) && cut < text.trim_end().len() {
            prop_assert!(media_message(&text[..cut], SKIP).is_none());
        }
    }
}

#[test]
fn the_common_shapes_take_the_fast_path() {
    let twilio = r#"{"event":"media","sequenceNumber":"4","media":{"track":"inbound","chunk":"2","timestamp":"5","payload":"no+JhoaJjpzS"},"streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0"}"#;
    assert!(media_message(twilio, SKIP).is_some());
    let plivo = r#"{"event":"media","sequenceNumber":42,"streamId":"b77e","media":{"track":"inbound","timestamp":"1705312200000","chunk":41,"payload":"AAA="},"extra_headers":"k=v"}"#;
    assert!(media_message(plivo, SKIP).is_some());
}

mod base64_path {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use proptest::prelude::*;
    use telephony_core::media::b64::{decode_into, encode_into};

    proptest! {
        #[test]
        fn encodes_as_the_standard_engine(bytes in prop::collection::vec(any::<u8>(), 0..700)) {
            let mut ours = String::from("kept:");
            encode_into(&bytes, &mut ours);
            prop_assert_eq!(&ours[5..], STANDARD.encode(&bytes));
        }

        #[test]
        fn decodes_as_the_standard_engine(text in "[A-Za-z0-9+/=\\- ]{0,64}") {
            let mut out = vec![1, 2, 3];
            let ours = decode_into(text.as_bytes(), &mut out);
            match STANDARD.decode(text.as_bytes()) {
                Ok(bytes) => {
                    prop_assert!(ours.is_ok());
                    prop_assert_eq!(out, bytes);
                }
                Err(e) => prop_assert_eq!(ours.unwrap_err().0, e.to_string()),
            }
        }

        #[test]
        fn decodes_what_it_encodes(bytes in prop::collection::vec(any::<u8>(), 0..1000)) {
            let mut text = String::new();
            encode_into(&bytes, &mut text);
            let mut out = Vec::new();
            decode_into(text.as_bytes(), &mut out).unwrap();
            prop_assert_eq!(out, bytes);
        }
    }
}
