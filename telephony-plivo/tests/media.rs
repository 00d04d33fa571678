//! Audio Streams: the documented messages in, the four commands out, one codec per stream, L16
//! byte order on the wire; and, at the end, the media contract every adapter runs on every
//! format Plivo streams (sessions with audio both ways, a tone through the resamplers, marks,
//! clear, DTMF, stop, broken frames), against the emulator's side of a stream.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use telephony_core::audio::{AudioFormat, Encoding, SampleRate};
use telephony_core::{
    MediaCommand, MediaError, MediaEvent, MediaProtocol, MediaSession, SessionConfig, SessionEvent,
    WsMessage,
};
use telephony_plivo::{ByteOrder, PlivoMediaProtocol};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
    .trim()
    .to_owned()
}

#[test]
fn the_documented_messages_decode() {
    let mut p = PlivoMediaProtocol::new(ByteOrder::Little);
    assert_eq!(p.wire_format(), None, "no format before start");
    let text = fixture("media_start_mulaw.json");
    let MediaEvent::Start(s) = p.decode(WsMessage::Text(&text)).unwrap() else {
        panic!("start")
    };
    assert_eq!(s.format, AudioFormat::MULAW_8K);
    assert_eq!(
        s.stream_id.as_deref(),
        Some("20170ada-f610-433b-8758-c02a2aab3662")
    );
    assert_eq!(
        s.call_id.as_ref().map(|c| c.as_str()),
        Some("b2a7c1d4-5e6f-4a8b-9c0d-1e2f3a4b5c6d")
    );
    assert_eq!(s.account_id.as_deref(), Some("MAXXXXXXXXXXXXXXXXX1"));
    assert_eq!(s.parameter("userId"), Some("12345"));
    assert_eq!(s.parameter("sessionId"), Some("abc"));

    let text = fixture("media_media.json");
    let MediaEvent::Audio {
        payload,
        sequence,
        timestamp,
        ..
    } = p.decode(WsMessage::Text(&text)).unwrap()
    else {
        panic!("media")
    };
    assert_eq!(
        (payload, sequence, timestamp),
        (&[0xff; 8][..], Some(42), Some(std::time::Duration::ZERO))
    );
    let text = fixture("media_media.json").replace("1705312200000", "1705312200020");
    let MediaEvent::Audio { timestamp, .. } = p.decode(WsMessage::Text(&text)).unwrap() else {
        panic!()
    };
    assert_eq!(
        timestamp,
        Some(std::time::Duration::from_millis(20)),
        "time since the first packet"
    );

    let text = fixture("media_dtmf.json");
    assert_eq!(
        p.decode(WsMessage::Text(&text)),
        Ok(MediaEvent::Dtmf {
            digit: '5',
            duration: None
        })
    );
    let text = fixture("media_played.json");
    assert_eq!(
        p.decode(WsMessage::Text(&text)),
        Ok(MediaEvent::Mark {
            name: "customer greeting audio"
        })
    );
    let text = fixture("media_played.json").replace("playedStream", "played");
    assert_eq!(
        p.decode(WsMessage::Text(&text)),
        Ok(MediaEvent::Mark {
            name: "customer greeting audio"
        })
    );
    let text = fixture("media_cleared.json");
    assert_eq!(p.decode(WsMessage::Text(&text)), Ok(MediaEvent::Cleared));
    assert_eq!(
        p.decode(WsMessage::Text(r#"{"event":"stop"}"#)),
        Ok(MediaEvent::Stop)
    );
    assert_eq!(
        p.decode(WsMessage::Text(r#"{"event":"ping"}"#)),
        Ok(MediaEvent::Unknown { event: "ping" })
    );
}

#[test]
fn l16_takes_the_configured_byte_order() {
    for (order, encoding) in [
        (ByteOrder::Little, Encoding::L16Le),
        (ByteOrder::Big, Encoding::L16Be),
    ] {
        let mut p = PlivoMediaProtocol::new(order);
        let text = fixture("media_start_l16.json");
        let MediaEvent::Start(s) = p.decode(WsMessage::Text(&text)).unwrap() else {
            panic!()
        };
        assert_eq!(s.format, AudioFormat::new(encoding, SampleRate::Hz16000));
    }
    let mut p = PlivoMediaProtocol::new(ByteOrder::Little);
    let bad = r#"{"event":"start","start":{"mediaFormat":{"encoding":"audio/x-l16","sampleRate":24000}}}"#;
    assert!(matches!(
        p.decode(WsMessage::Text(bad)),
        Err(MediaError::Malformed { .. })
    ));
    let inline = r#"{"event":"start","start":{"streamId":"s","mediaFormat":{"encoding":"audio/x-l16;rate=16000"}}}"#;
    assert!(
        matches!(p.decode(WsMessage::Text(inline)), Ok(MediaEvent::Start(s)) if s.format.rate == SampleRate::Hz16000)
    );
}

#[test]
fn bad_input_is_an_error_that_leaves_the_stream_usable() {
    let mut p = PlivoMediaProtocol::new(ByteOrder::Little);
    for bad in [
        "",
        "{",
        r#"{"event":"media"}"#,
        r#"{"event":"media","media":{"payload":"%%%"}}"#,
        r#"{"event":"dtmf","dtmf":{}}"#,
        r#"{"event":"playedStream"}"#,
    ] {
        assert!(
            matches!(
                p.decode(WsMessage::Text(bad)),
                Err(MediaError::Malformed { .. })
            ),
            "{bad}"
        );
    }
    assert!(matches!(
        p.decode(WsMessage::Binary(&[0; 4])),
        Err(MediaError::UnexpectedFrame { .. })
    ));
    let text = fixture("media_start_mulaw.json");
    assert!(p.decode(WsMessage::Text(&text)).is_ok());
}

fn sent(
    p: &mut PlivoMediaProtocol,
    cmd: MediaCommand<'_>,
) -> Result<serde_json::Value, MediaError> {
    let mut out = None;
    p.encode(cmd, &mut |m| {
        if let WsMessage::Text(t) = m {
            out = Some(serde_json::from_str(t).unwrap());
        }
    })?;
    Ok(out.unwrap())
}

#[test]
fn commands_encode_as_plivo_documents_them() {
    let mut p = PlivoMediaProtocol::new(ByteOrder::Little);
    assert!(matches!(
        sent(&mut p, MediaCommand::Audio(&[1])),
        Err(MediaError::NotStarted { .. })
    ));
    let text = fixture("media_start_mulaw.json");
    p.decode(WsMessage::Text(&text)).unwrap();
    let id = "20170ada-f610-433b-8758-c02a2aab3662";
    assert_eq!(
        sent(&mut p, MediaCommand::Audio(&[0xff, 0x7f])).unwrap(),
        serde_json::json!({"event":"playAudio","media":{"contentType":"audio/x-mulaw","sampleRate":8000,"payload":"/38="}})
    );
    assert_eq!(
        sent(&mut p, MediaCommand::Mark("utt-17")).unwrap(),
        serde_json::json!({"event":"checkpoint","streamId":id,"name":"utt-17"})
    );
    assert_eq!(
        sent(&mut p, MediaCommand::Clear).unwrap(),
        serde_json::json!({"event":"clearAudio","streamId":id})
    );
    assert_eq!(
        sent(&mut p, MediaCommand::SendDtmf("12#")).unwrap(),
        serde_json::json!({"event":"sendDTMF","dtmf":"12#"})
    );
    assert!(matches!(
        sent(&mut p, MediaCommand::SendDtmf("1x")),
        Err(MediaError::Unsupported { .. })
    ));

    let mut p = PlivoMediaProtocol::new(ByteOrder::Little);
    let text = fixture("media_start_l16.json");
    p.decode(WsMessage::Text(&text)).unwrap();
    let v = sent(&mut p, MediaCommand::Audio(&[1, 0])).unwrap();
    assert_eq!(v["media"]["contentType"], "audio/x-l16");
    assert_eq!(v["media"]["sampleRate"], 16000);
}

/// One codec for the whole stream: a later `start` with another format is refused, typed, and
/// the stream goes on in the format it started with; the same format announced again is fine.
#[test]
fn a_second_start_may_not_change_the_codec() {
    let mut s = MediaSession::new(
        Box::new(PlivoMediaProtocol::new(ByteOrder::Little)),
        SessionConfig::new(SampleRate::Hz8000),
    );
    let mulaw = fixture("media_start_mulaw.json");
    assert!(matches!(
        s.handle(WsMessage::Text(&mulaw)),
        Ok(SessionEvent::Started(_))
    ));
    let l16 = fixture("media_start_l16.json");
    assert_eq!(
        s.handle(WsMessage::Text(&l16)).unwrap_err(),
        MediaError::FormatChanged {
            provider: telephony_plivo::KIND,
            was: AudioFormat::MULAW_8K,
            now: AudioFormat::new(Encoding::L16Le, SampleRate::Hz16000),
        }
    );
    assert_eq!(s.wire_format(), Some(AudioFormat::MULAW_8K));
    assert_eq!(
        s.protocol().wire_format(),
        Some(AudioFormat::MULAW_8K),
        "the protocol keeps its format too"
    );
    // Audio still decodes as μ-law, and goes out as μ-law.
    let msg = fixture("media_media.json");
    assert!(
        matches!(s.handle(WsMessage::Text(&msg)), Ok(SessionEvent::Audio(pcm)) if pcm.len() == 8)
    );
    let mut frames = Vec::new();
    s.send_audio(&[0; 160], &mut |m| {
        if let WsMessage::Text(t) = m {
            frames.push(serde_json::from_str::<serde_json::Value>(t).unwrap());
        }
    })
    .unwrap();
    assert_eq!(frames[0]["media"]["contentType"], "audio/x-mulaw");
    // The same format again is the same stream.
    assert!(matches!(
        s.handle(WsMessage::Text(&mulaw)),
        Ok(SessionEvent::Started(_))
    ));
}

/// What a stream's 20 ms `media` message carries for these wire bytes.
fn media_message(wire: &[u8]) -> String {
    format!(
        r#"{{"event":"media","sequenceNumber":2,"media":{{"track":"inbound","timestamp":"1","chunk":1,"payload":"{}"}}}}"#,
        STANDARD.encode(wire)
    )
}

/// At the app's own rate nothing is resampled, so the bytes can be checked one by one: a
/// big-endian stream reads and writes the high byte first, a little-endian one the low byte.
#[test]
fn big_endian_really_swaps_bytes_on_the_wire() {
    let start = fixture("media_start_l16.json");
    let samples: [i16; 4] = [0x1234, -2, i16::MIN, 0x00ff];
    for (order, wire) in [
        (
            ByteOrder::Big,
            [0x12, 0x34, 0xff, 0xfe, 0x80, 0x00, 0x00, 0xff],
        ),
        (
            ByteOrder::Little,
            [0x34, 0x12, 0xfe, 0xff, 0x00, 0x80, 0xff, 0x00],
        ),
    ] {
        let mut s = MediaSession::new(
            Box::new(PlivoMediaProtocol::new(order)),
            SessionConfig::new(SampleRate::Hz16000),
        );
        s.handle(WsMessage::Text(&start)).unwrap();
        let msg = media_message(&wire);
        assert_eq!(
            s.handle(WsMessage::Text(&msg)),
            Ok(SessionEvent::Audio(&samples[..])),
            "{order:?} in"
        );
        let mut sent = Vec::new();
        let mut out = |m: WsMessage<'_>| {
            if let WsMessage::Text(t) = m {
                let v: serde_json::Value = serde_json::from_str(t).unwrap();
                sent.extend(
                    STANDARD
                        .decode(v["media"]["payload"].as_str().unwrap())
                        .unwrap(),
                );
            }
        };
        s.send_audio(&samples, &mut out).unwrap();
        s.finish(&mut out).unwrap();
        assert_eq!(&sent[..wire.len()], &wire[..], "{order:?} out");
    }
}

telephony_testkit::media_contract!(telephony_testkit::contract::media::MediaCarrier::emulated(
    "plivo"
));
