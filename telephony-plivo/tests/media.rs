//! Audio Streams: the documented messages in, the four commands out, and media sessions for
//! μ-law 8 kHz and L16 16 kHz.

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

    let text = fixture("media_start_l16.json");
    p.decode(WsMessage::Text(&text)).unwrap();
    let v = sent(&mut p, MediaCommand::Audio(&[1, 0])).unwrap();
    assert_eq!(v["media"]["contentType"], "audio/x-l16");
    assert_eq!(v["media"]["sampleRate"], 16000);
}

/// The caller's audio at the app's rate, the reply back as `playAudio`, and a barge-in.
fn round_trip(start: &str, wire_bytes_per_20ms: usize, encode: impl Fn(&[i16]) -> Vec<u8>) {
    let mut s = MediaSession::new(
        Box::new(PlivoMediaProtocol::new(ByteOrder::Little)),
        SessionConfig::new(SampleRate::Hz24000),
    );
    assert!(matches!(
        s.handle(WsMessage::Text(start)),
        Ok(SessionEvent::Started(_))
    ));
    let caller: Vec<i16> = (0..wire_bytes_per_20ms)
        .map(|n| ((n as f64 * 0.2).sin() * 8000.0) as i16)
        .collect();
    let payload = STANDARD.encode(encode(
        &caller[..s.wire_format().unwrap().rate.samples_per_20ms()],
    ));
    let msg = format!(
        r#"{{"event":"media","sequenceNumber":2,"media":{{"track":"inbound","timestamp":"1","chunk":1,"payload":"{payload}"}}}}"#
    );
    assert!(
        matches!(s.handle(WsMessage::Text(&msg)), Ok(SessionEvent::Audio(pcm)) if pcm.len() == 480),
        "20 ms at 24 kHz"
    );

    let mut frames: Vec<serde_json::Value> = Vec::new();
    let mut out = |m: WsMessage<'_>| match m {
        WsMessage::Text(t) => frames.push(serde_json::from_str(t).unwrap()),
        WsMessage::Binary(_) => panic!("Plivo gets text"),
    };
    s.send_audio(&[2000; 960], &mut out).unwrap(); // 40 ms at 24 kHz
    s.mark("reply-1", &mut out).unwrap();
    let audio: Vec<usize> = frames
        .iter()
        .filter(|f| f["event"] == "playAudio")
        .map(|f| {
            STANDARD
                .decode(f["media"]["payload"].as_str().unwrap())
                .unwrap()
                .len()
        })
        .collect();
    assert_eq!(audio, [wire_bytes_per_20ms, wire_bytes_per_20ms]);
    assert_eq!(frames.last().unwrap()["event"], "checkpoint");
    let played = r#"{"event":"playedStream","streamId":"20170ada-f610-433b-8758-c02a2aab3662","name":"reply-1"}"#;
    assert_eq!(
        s.handle(WsMessage::Text(played)),
        Ok(SessionEvent::MarkPlayed("reply-1"))
    );
    assert_eq!(s.playback().heard(), std::time::Duration::from_millis(40));

    frames.clear();
    let mut out = |m: WsMessage<'_>| match m {
        WsMessage::Text(t) => frames.push(serde_json::from_str(t).unwrap()),
        WsMessage::Binary(_) => panic!("Plivo gets text"),
    };
    s.send_audio(&[2000; 100], &mut out).unwrap();
    s.clear(&mut out).unwrap();
    assert_eq!(frames.len(), 1, "only the clear: pending audio dropped");
    assert_eq!(frames[0]["event"], "clearAudio");
    let cleared = r#"{"event":"clearedAudio","sequenceNumber":0,"streamId":"20170ada-f610-433b-8758-c02a2aab3662"}"#;
    assert_eq!(
        s.handle(WsMessage::Text(cleared)),
        Ok(SessionEvent::Cleared)
    );
}

#[test]
fn a_mulaw_8k_session() {
    round_trip(&fixture("media_start_mulaw.json"), 160, |pcm| {
        let mut b = vec![0; pcm.len()];
        telephony_core::audio::encode_ulaw(pcm, &mut b);
        b
    });
}

#[test]
fn an_l16_16k_session() {
    round_trip(&fixture("media_start_l16.json"), 640, |pcm| {
        pcm.iter().flat_map(|s| s.to_le_bytes()).collect()
    });
}
