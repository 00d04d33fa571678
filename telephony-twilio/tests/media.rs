//! Media Streams: the documented messages in, the three commands out, streams that must prove
//! their call; and, at the end, the media contract every adapter runs (a whole session: audio
//! both ways, marks, clear, DTMF, stop, broken frames), against the emulator's side of a
//! stream.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use telephony_core::audio::SampleRate;
use telephony_core::media::AudioTrack;
use telephony_core::{
    MediaCommand, MediaError, MediaEvent, MediaProtocol, MediaSession, SessionConfig, SessionEvent,
    WsMessage,
};
use telephony_twilio::TwilioMediaProtocol;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
    .trim()
    .to_owned()
}

fn started() -> TwilioMediaProtocol {
    let mut p = TwilioMediaProtocol::new();
    let start = fixture("media_start.json");
    assert!(matches!(
        p.decode(WsMessage::Text(&start)),
        Ok(MediaEvent::Start(_))
    ));
    p
}

#[test]
fn the_documented_messages_decode() {
    let mut p = TwilioMediaProtocol::new();
    let text = fixture("media_connected.json");
    assert_eq!(p.decode(WsMessage::Text(&text)), Ok(MediaEvent::Connected));

    let text = fixture("media_start.json");
    let MediaEvent::Start(start) = p.decode(WsMessage::Text(&text)).unwrap() else {
        panic!("start")
    };
    assert_eq!(
        start.stream_id.as_deref(),
        Some("MZ18ad3ab5a668481ce02b83e7395059f0")
    );
    assert_eq!(
        start.call_id.as_ref().map(|c| c.as_str()),
        Some("CA0123456789abcdef0123456789abcdef")
    );
    assert_eq!(
        start.account_id.as_deref(),
        Some("AC0123456789abcdef0123456789abcdef")
    );
    assert_eq!(
        start.parameters,
        [
            ("FirstName", "Jane"),
            ("LastName", "Doe"),
            ("RemoteParty", "Bob")
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );
    assert_eq!(start.parameter("LastName"), Some("Doe"));

    let text = fixture("media_media.json");
    let MediaEvent::Audio {
        payload,
        track,
        timestamp,
        sequence,
    } = p.decode(WsMessage::Text(&text)).unwrap()
    else {
        panic!("media")
    };
    assert_eq!(payload.len(), 157);
    assert_eq!(payload[0], 0x9e);
    assert_eq!(track, AudioTrack::Inbound);
    assert_eq!(timestamp, Some(std::time::Duration::from_millis(5)));
    assert_eq!(sequence, Some(3));

    let text = fixture("media_dtmf.json");
    assert_eq!(
        p.decode(WsMessage::Text(&text)),
        Ok(MediaEvent::Dtmf {
            digit: '1',
            duration: None
        })
    );
    let text = fixture("media_mark.json");
    assert_eq!(
        p.decode(WsMessage::Text(&text)),
        Ok(MediaEvent::Mark { name: "my label" })
    );
    let text = fixture("media_stop.json");
    assert_eq!(p.decode(WsMessage::Text(&text)), Ok(MediaEvent::Stop));
}

#[test]
fn counters_may_be_numbers_and_names_may_be_escaped() {
    let mut p = started();
    let text = r#"{"event":"media","sequenceNumber":7,"media":{"track":"inbound","chunk":2,"timestamp":40,"payload":"//8="}}"#;
    let MediaEvent::Audio {
        payload,
        sequence,
        timestamp,
        ..
    } = p.decode(WsMessage::Text(text)).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (payload, sequence, timestamp),
        (
            &[0xff, 0xff][..],
            Some(7),
            Some(std::time::Duration::from_millis(40))
        )
    );
    let text = r#"{"event":"mark","mark":{"name":"a \"quoted\" name"}}"#;
    assert_eq!(
        p.decode(WsMessage::Text(text)),
        Ok(MediaEvent::Mark {
            name: "a \"quoted\" name"
        })
    );
}

#[test]
fn unknown_events_are_reported_and_bad_input_is_an_error_that_leaves_the_stream_usable() {
    let mut p = started();
    assert_eq!(
        p.decode(WsMessage::Text(r#"{"event":"teleport","x":1}"#)),
        Ok(MediaEvent::Unknown { event: "teleport" })
    );
    for bad in [
        r#"{"event":"media"}"#,
        r#"{"event":"media","media":{"payload":"not base64!"}}"#,
        r#"{"event":"dtmf","dtmf":{"digit":"12"}}"#,
        r#"{"event":"start","start":{"mediaFormat":{"encoding":"audio/x-l16","sampleRate":16000}}}"#,
        "not json",
        "",
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
        p.decode(WsMessage::Binary(&[1, 2, 3])),
        Err(MediaError::UnexpectedFrame {
            kind: "binary",
            len: 3,
            ..
        })
    ));
    let text = fixture("media_mark.json");
    assert_eq!(
        p.decode(WsMessage::Text(&text)),
        Ok(MediaEvent::Mark { name: "my label" })
    );
}

fn collect(p: &mut TwilioMediaProtocol, cmd: MediaCommand<'_>) -> Result<Vec<String>, MediaError> {
    let mut out = Vec::new();
    p.encode(cmd, &mut |f| match f {
        WsMessage::Text(t) => out.push(t.to_owned()),
        WsMessage::Binary(_) => panic!("Twilio never gets binary frames"),
    })?;
    Ok(out)
}

#[test]
fn commands_encode_as_twilio_documents_them() {
    let mut p = TwilioMediaProtocol::new();
    assert_eq!(
        collect(&mut p, MediaCommand::Clear),
        Err(MediaError::NotStarted {
            provider: telephony_twilio::KIND
        })
    );
    let mut p = started();
    let sid = "MZ18ad3ab5a668481ce02b83e7395059f0";
    let media = collect(&mut p, MediaCommand::Audio(&[0xff, 0x7f, 0x00])).unwrap();
    let v: serde_json::Value = serde_json::from_str(&media[0]).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"event":"media","streamSid":sid,"media":{"payload":"/38A"}})
    );
    let mark = collect(&mut p, MediaCommand::Mark("utt \"17\"\n")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&mark[0]).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"event":"mark","streamSid":sid,"mark":{"name":"utt \"17\"\n"}})
    );
    let clear = collect(&mut p, MediaCommand::Clear).unwrap();
    let v: serde_json::Value = serde_json::from_str(&clear[0]).unwrap();
    assert_eq!(v, serde_json::json!({"event":"clear","streamSid":sid}));
    assert!(matches!(
        collect(&mut p, MediaCommand::SendDtmf("1")),
        Err(MediaError::Unsupported { .. })
    ));
}

#[test]
fn a_payload_written_with_json_escapes_decodes_like_the_plain_one() {
    // Some JSON writers escape `/`; the fast path sees the escape, the general parser reads it.
    let bytes: Vec<u8> = (0..160u32).map(|i| (i * 7 + 255) as u8).collect();
    let plain = STANDARD.encode(&bytes);
    assert!(plain.contains('/'), "the test needs a slash in the payload");
    let escaped = plain.replace('/', "\\/");
    for payload in [&plain, &escaped] {
        let mut p = started();
        let text = format!(
            r#"{{"event":"media","sequenceNumber":"9","media":{{"track":"inbound","chunk":"3","timestamp":"60","payload":"{payload}"}},"streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0"}}"#
        );
        match p.decode(WsMessage::Text(&text)) {
            Ok(MediaEvent::Audio {
                payload,
                track,
                timestamp,
                sequence,
            }) => {
                assert_eq!(payload, bytes.as_slice());
                assert_eq!(track, AudioTrack::Inbound);
                assert_eq!(timestamp, Some(std::time::Duration::from_millis(60)));
                assert_eq!(sequence, Some(9));
            }
            other => panic!("{other:?}"),
        }
    }
    // And a payload that is not base64 either way is an error, as before.
    let mut p = started();
    let bad = r#"{"event":"media","media":{"payload":"no!"}}"#;
    assert!(matches!(
        p.decode(WsMessage::Text(bad)),
        Err(MediaError::Malformed { .. })
    ));
}

/// A start as Twilio sends it for `call`, carrying `token` as a custom parameter.
fn start_with_token(call: &str, token: Option<&str>) -> String {
    let mut v: serde_json::Value = serde_json::from_str(&fixture("media_start.json")).unwrap();
    v["start"]["callSid"] = call.into();
    if let Some(t) = token {
        v["start"]["customParameters"][telephony_core::STREAM_TOKEN_PARAMETER] = t.into();
    }
    v.to_string()
}

/// A session that requires a stream token takes a stream whose start carries one minted for
/// its call, and nothing else: a token for another call, none at all, or audio before the
/// start is refused, and a refused session refuses everything after, both ways.
#[test]
fn a_session_requiring_a_token_takes_only_streams_minted_for_their_call() {
    use telephony_core::{CallId, StreamAuth, StreamAuthError};
    let auth = StreamAuth::new("the agent's key");
    let call = "CA0123456789abcdef0123456789abcdef";
    let token = auth.mint(Some(&CallId::new(call).unwrap()));
    let media = fixture("media_media.json");
    let session = || {
        MediaSession::new(
            Box::new(TwilioMediaProtocol::new()),
            SessionConfig::new(SampleRate::Hz8000),
        )
        .require_token(auth.clone())
    };

    // The right token: started, and the token is not among the parameters the host sees.
    let mut ok = session();
    let start = start_with_token(call, Some(&token));
    match ok.handle(WsMessage::Text(&start)) {
        Ok(SessionEvent::Started(s)) => {
            assert_eq!(s.parameter("FirstName"), Some("Jane"));
            assert_eq!(s.parameter(telephony_core::STREAM_TOKEN_PARAMETER), None);
        }
        other => panic!("{other:?}"),
    }
    assert!(ok.is_authenticated());
    assert!(matches!(
        ok.handle(WsMessage::Text(&media)),
        Ok(SessionEvent::Audio(_))
    ));

    // Audio before any start, then a start for another call, a start without a token.
    for (first, why) in [
        (media.clone(), "audio before the start"),
        (
            start_with_token("CA99999999999999999999999999999999", Some(&token)),
            "another call's token",
        ),
        (start_with_token(call, None), "no token"),
        (
            start_with_token(call, Some("s1c000000000000forged")),
            "a forged token",
        ),
    ] {
        let mut s = session();
        let refused = s.handle(WsMessage::Text(&first));
        assert!(
            matches!(refused, Err(MediaError::Unauthenticated { .. })),
            "{why}: {refused:?}"
        );
        if why == "no token" {
            assert!(matches!(
                refused,
                Err(MediaError::Unauthenticated {
                    reason: StreamAuthError::Missing,
                    ..
                })
            ));
        }
        assert!(!s.is_authenticated(), "{why}");
        let mut sent = 0;
        assert!(
            s.send_audio(&[0i16; 160], &mut |_| sent += 1).is_err(),
            "{why}: nothing is sent"
        );
        assert_eq!(sent, 0);
        if why != "audio before the start" {
            // Refused for good: even the right start afterwards is not taken.
            let good = start_with_token(call, Some(&token));
            assert!(
                s.handle(WsMessage::Text(&good)).is_err(),
                "{why}: refused for good"
            );
        }
    }
}

telephony_testkit::media_contract!(telephony_testkit::contract::media::MediaCarrier::emulated(
    "twilio"
));
