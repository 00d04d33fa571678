//! The WebSocket: the documented messages in, binary frames and JSON control out, and media
//! sessions at 16 kHz, with a property test that no outbound frame is ever another size; and,
//! at the end, the media contract every adapter runs on every rate Vonage streams.

use std::time::Duration;

use proptest::prelude::*;
use telephony_core::audio::{AudioFormat, Encoder, Encoding, Profile, Resampler, SampleRate};
use telephony_core::{
    MediaCommand, MediaError, MediaEvent, MediaProtocol, MediaSession, SessionConfig, SessionEvent,
    WsMessage,
};
use telephony_vonage::VonageMediaProtocol;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
    .trim()
    .to_owned()
}

fn le(pcm: &[i16]) -> Vec<u8> {
    pcm.iter().flat_map(|s| s.to_le_bytes()).collect()
}

fn samples(bytes: &[u8]) -> Vec<i16> {
    bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

fn sine(n: usize, rate: f64) -> Vec<i16> {
    (0..n)
        .map(|i| ((i as f64 * 2.0 * std::f64::consts::PI * 440.0 / rate).sin() * 9000.0) as i16)
        .collect()
}

#[test]
fn the_documented_messages_decode() {
    let mut p = VonageMediaProtocol::new(SampleRate::Hz16000);
    // Known before the first message: the rate the answer asked for.
    assert_eq!(p.wire_format(), Some(AudioFormat::L16LE_16K));
    assert!(!p.is_connected());
    let text = fixture("ws_connected.json");
    let MediaEvent::Start(s) = p.decode(WsMessage::Text(&text)).unwrap() else {
        panic!("connected")
    };
    assert!(p.is_connected());
    assert_eq!(
        s.format,
        AudioFormat::new(Encoding::L16Le, SampleRate::Hz16000)
    );
    assert_eq!(
        s.call_id.as_ref().map(|c| c.as_str()),
        Some("aaaaaaaa-bbbb-cccc-dddd-0123456789ab")
    );
    assert_eq!(s.stream_id, None);
    assert_eq!(s.parameter("from"), Some("447700900000"));
    assert_eq!(s.parameter("tenant"), Some("acme"));
    assert_eq!(
        s.parameters.first().map(|(k, _)| k.as_str()),
        Some("call_uuid")
    );

    let text = fixture("ws_connected_doc_headers.json");
    let MediaEvent::Start(s) = p.decode(WsMessage::Text(&text)).unwrap() else {
        panic!("connected")
    };
    assert_eq!(s.call_id, None);
    assert_eq!(s.parameter("name"), Some("J Doe"));
    assert_eq!(s.parameter("age"), Some("40"));
    assert_eq!(s.parameter("enable_auditing"), Some("false"));
    assert!(s.parameter("address").unwrap().contains("Apartment 14"));

    let text = fixture("ws_dtmf.json");
    assert_eq!(
        p.decode(WsMessage::Text(&text)).unwrap(),
        MediaEvent::Dtmf {
            digit: '5',
            duration: Some(Duration::from_millis(260))
        }
    );
    // pipecat reads a nested dtmf object too; so do we.
    assert_eq!(
        p.decode(WsMessage::Text(
            r##"{"event":"websocket:dtmf","dtmf":{"digit":"#","duration":"80"}}"##
        ))
        .unwrap(),
        MediaEvent::Dtmf {
            digit: '#',
            duration: Some(Duration::from_millis(80))
        }
    );
    let text = fixture("ws_cleared.json");
    assert_eq!(
        p.decode(WsMessage::Text(&text)).unwrap(),
        MediaEvent::Cleared
    );
    let text = fixture("ws_notify.json");
    assert_eq!(
        p.decode(WsMessage::Text(&text)).unwrap(),
        MediaEvent::Mark { name: "utt-17" }
    );
    assert_eq!(
        p.decode(WsMessage::Text(
            r#"{"event":"websocket:notify","payload":{"reply_id":7}}"#
        ))
        .unwrap(),
        MediaEvent::Mark {
            name: r#"{"reply_id":7}"#
        }
    );
    assert_eq!(
        p.decode(WsMessage::Text(r#"{"event":"websocket:error","x":1}"#))
            .unwrap(),
        MediaEvent::Unknown {
            event: "websocket:error"
        }
    );

    let frame = le(&[1, -2, 3, -4]);
    let MediaEvent::Audio {
        payload,
        timestamp,
        sequence,
        ..
    } = p.decode(WsMessage::Binary(&frame)).unwrap()
    else {
        panic!("audio")
    };
    assert_eq!(
        (payload, timestamp, sequence),
        (&frame[..], Some(Duration::ZERO), Some(1))
    );
    let big = vec![0u8; 640];
    p.decode(WsMessage::Binary(&big)).unwrap();
    let MediaEvent::Audio { timestamp, .. } = p.decode(WsMessage::Binary(&big)).unwrap() else {
        panic!("audio")
    };
    // 8 bytes then 640 bytes at 16 kHz before this frame: 4 + 320 samples.
    assert_eq!(timestamp, Some(Duration::from_micros(20_250)));
}

#[test]
fn bad_input_is_an_error_that_leaves_the_stream_usable() {
    let mut p = VonageMediaProtocol::new(SampleRate::Hz16000);
    for bad in [
        "",
        "not json",
        "[1,2]",
        r#"{"no":"event"}"#,
        r#"{"event":"websocket:connected"}"#,
        r#"{"event":"websocket:connected","content-type":"audio/l16;rate=44100"}"#,
        r#"{"event":"websocket:connected","content-type":"audio/pcmu;rate=8000"}"#,
        r#"{"event":"websocket:dtmf","digit":"55"}"#,
        r#"{"event":"websocket:notify"}"#,
    ] {
        assert!(
            matches!(
                p.decode(WsMessage::Text(bad)),
                Err(MediaError::Malformed { .. })
            ),
            "{bad}"
        );
    }
    for bad in [&[][..], &[1, 2, 3][..]] {
        assert!(p.decode(WsMessage::Binary(bad)).is_err());
    }
    let text = fixture("ws_connected.json");
    assert!(p.decode(WsMessage::Text(&text)).is_ok());
}

fn sent(p: &mut VonageMediaProtocol, cmd: MediaCommand<'_>) -> Result<String, MediaError> {
    let mut out = None;
    p.encode(cmd, &mut |m| {
        out = Some(match m {
            WsMessage::Text(t) => t.to_owned(),
            WsMessage::Binary(b) => format!("binary {}", b.len()),
        });
    })?;
    Ok(out.unwrap())
}

#[test]
fn commands_encode_as_vonage_documents_them() {
    let mut p = VonageMediaProtocol::new(SampleRate::Hz16000);
    assert_eq!(p.frame_bytes(), 640);
    assert_eq!(
        sent(&mut p, MediaCommand::Audio(&[0; 640])).unwrap(),
        "binary 640"
    );
    assert_eq!(
        sent(&mut p, MediaCommand::Audio(&[0; 320])),
        Err(MediaError::FrameSize {
            provider: telephony_vonage::KIND,
            expected: 640,
            got: 320
        })
    );
    assert_eq!(
        sent(&mut p, MediaCommand::Mark("utt-\"17\"")).unwrap(),
        r#"{"action":"notify","payload":{"name":"utt-\"17\""}}"#
    );
    assert_eq!(
        sent(&mut p, MediaCommand::Clear).unwrap(),
        r#"{"action":"clear"}"#
    );
    assert!(matches!(
        sent(&mut p, MediaCommand::SendDtmf("1")),
        Err(MediaError::Unsupported { .. })
    ));
    // The connected message decides the frame size from then on.
    p.decode(WsMessage::Text(
        r#"{"event":"websocket:connected","content-type":"audio/l16;rate=24000"}"#,
    ))
    .unwrap();
    assert_eq!(p.frame_bytes(), 960);
    assert!(sent(&mut p, MediaCommand::Audio(&[0; 640])).is_err());
    let mut p = VonageMediaProtocol::new(SampleRate::Hz8000);
    assert_eq!(p.frame_bytes(), 320);
    assert_eq!(
        sent(&mut p, MediaCommand::Audio(&[0; 320])).unwrap(),
        "binary 320"
    );
}

#[derive(Debug, Default)]
struct Wire {
    frames: Vec<Vec<u8>>,
    texts: Vec<String>,
    order: Vec<String>,
}

impl Wire {
    fn sink(&mut self) -> impl FnMut(WsMessage<'_>) + '_ {
        |m| match m {
            WsMessage::Binary(b) => {
                self.order.push(format!("audio {}", b.len()));
                self.frames.push(b.to_vec());
            }
            WsMessage::Text(t) => {
                self.order.push(t.to_owned());
                self.texts.push(t.to_owned());
            }
        }
    }
}

#[test]
fn a_16k_session_round_trip_loses_nothing_and_changes_nothing() {
    let mut s = MediaSession::new(
        Box::new(VonageMediaProtocol::new(SampleRate::Hz16000)),
        SessionConfig::new(SampleRate::Hz16000),
    );
    let caller = sine(320 * 50, 16000.0);
    // The first frame may come before websocket:connected; it is heard, not dropped.
    let first = le(&caller[..320]);
    match s.handle(WsMessage::Binary(&first)).unwrap() {
        SessionEvent::Audio(pcm) => assert_eq!(pcm, &caller[..320]),
        other => panic!("{other:?}"),
    }
    let text = fixture("ws_connected.json");
    match s.handle(WsMessage::Text(&text)).unwrap() {
        SessionEvent::Started(start) => assert_eq!(
            start.call_id.as_ref().map(|c| c.as_str()),
            Some("aaaaaaaa-bbbb-cccc-dddd-0123456789ab")
        ),
        other => panic!("{other:?}"),
    }
    let mut heard = caller[..320].to_vec();
    for chunk in caller[320..].chunks(320) {
        let frame = le(chunk);
        match s.handle(WsMessage::Binary(&frame)).unwrap() {
            SessionEvent::Audio(pcm) => heard.extend_from_slice(pcm),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(heard, caller, "16 kHz in at 16 kHz: bit for bit");

    // The reply: any lengths in, exact 640-byte frames out, the last padded, then the mark.
    let reply = sine(16000 + 123, 16000.0);
    let mut wire = Wire::default();
    for chunk in reply.chunks(777) {
        s.send_audio(chunk, &mut wire.sink()).unwrap();
    }
    s.mark("reply-1", &mut wire.sink()).unwrap();
    assert!(wire.texts.is_empty(), "the mark waits for its frame");
    s.finish(&mut wire.sink()).unwrap();
    assert!(wire.frames.iter().all(|f| f.len() == 640));
    assert_eq!(wire.frames.len(), (16000 + 123usize).div_ceil(320));
    assert_eq!(
        wire.order.last().map(String::as_str),
        Some(r#"{"action":"notify","payload":{"name":"reply-1"}}"#)
    );
    let played: Vec<i16> = samples(&wire.frames.concat());
    assert_eq!(&played[..reply.len()], &reply[..]);
    assert!(
        played[reply.len()..].iter().all(|&x| x == 0),
        "silence pads"
    );
    assert_eq!(
        s.handle(WsMessage::Text(
            r#"{"event":"websocket:notify","payload":{"name":"reply-1"}}"#
        )),
        Ok(SessionEvent::MarkPlayed("reply-1"))
    );
    assert_eq!(s.playback().heard(), Duration::from_millis(51 * 20));

    // Barge-in: the part-frame and its mark are dropped here, the clear goes out alone.
    let mut wire = Wire::default();
    s.send_audio(&reply[..100], &mut wire.sink()).unwrap();
    s.mark("reply-2", &mut wire.sink()).unwrap();
    let dropped = s.clear(&mut wire.sink()).unwrap();
    assert_eq!(dropped, ["reply-2"]);
    assert_eq!(wire.order, [r#"{"action":"clear"}"#]);
    assert_eq!(
        s.handle(WsMessage::Text(&fixture("ws_cleared.json"))),
        Ok(SessionEvent::Cleared)
    );
}

#[test]
fn a_24k_agent_on_a_16k_stream() {
    let mut s = MediaSession::new(
        Box::new(VonageMediaProtocol::new(SampleRate::Hz16000)),
        SessionConfig::new(SampleRate::Hz24000).profile(Profile::LowLatency),
    );
    s.handle(WsMessage::Text(&fixture("ws_connected.json")))
        .unwrap();
    let frame = le(&sine(320, 16000.0));
    match s.handle(WsMessage::Binary(&frame)).unwrap() {
        SessionEvent::Audio(pcm) => assert_eq!(pcm.len(), 480),
        other => panic!("{other:?}"),
    }
    let mut wire = Wire::default();
    s.send_audio(&sine(24000, 24000.0), &mut wire.sink())
        .unwrap();
    s.finish(&mut wire.sink()).unwrap();
    assert!(wire.frames.iter().all(|f| f.len() == 640));
    assert!(wire.frames.len() >= 50);
}

fn connected(rate: u32) -> String {
    format!(r#"{{"event":"websocket:connected","content-type":"audio/l16;rate={rate}"}}"#)
}

/// The answer asked for 16 kHz, the host began its greeting at once, and `websocket:connected`
/// then says 8 kHz: the 10 ms waiting in a part-frame is resampled to 8 kHz and goes out first,
/// bit for bit what a 16k->8k resampler makes of it, its mark right after it, then the rest of
/// the reply through the new path. Nothing lost, nothing reordered, no frame of another size.
#[test]
fn a_rate_change_at_connect_keeps_the_part_frame_and_its_mark() {
    let profile = Profile::HighQuality;
    let mut s = MediaSession::new(
        Box::new(VonageMediaProtocol::new(SampleRate::Hz16000)),
        SessionConfig::new(SampleRate::Hz16000).profile(profile),
    );
    let greeting = sine(480, 16000.0); // 30 ms: one frame goes, 10 ms waits
    let mut wire = Wire::default();
    s.send_audio(&greeting, &mut wire.sink()).unwrap();
    s.mark("greeting", &mut wire.sink()).unwrap();
    assert_eq!(
        wire.order,
        ["audio 640"],
        "the mark waits for its part-frame"
    );
    assert_eq!(s.playback().sent(), Duration::from_millis(20));

    s.handle(WsMessage::Text(&connected(8000))).unwrap();
    assert_eq!(s.wire_format().map(|f| f.rate), Some(SampleRate::Hz8000));
    assert_eq!(
        s.playback().sent(),
        Duration::from_millis(20),
        "what went out keeps its duration"
    );

    let rest = sine(1000, 16000.0);
    let mut after = Wire::default();
    s.send_audio(&rest, &mut after.sink()).unwrap();
    s.finish(&mut after.sink()).unwrap();
    assert!(
        after.frames.iter().all(|f| f.len() == 320),
        "20 ms at 8 kHz"
    );

    // What should come out: the waiting 10 ms through a 16k->8k resampler to its end, then
    // the rest of the reply through a fresh 16k->8k encoder.
    let mut carried = Vec::new();
    let mut r = Resampler::new(SampleRate::Hz16000, SampleRate::Hz8000, profile);
    r.process_into(&greeting[320..], &mut carried);
    r.flush_into(&mut carried);
    let mut expected = le(&carried);
    let mut e = Encoder::new(
        SampleRate::Hz16000,
        AudioFormat::new(Encoding::L16Le, SampleRate::Hz8000),
        profile,
    );
    e.encode(&rest, &mut expected);
    e.flush(&mut expected);
    let played = after.frames.concat();
    assert_eq!(played.len(), expected.len().div_ceil(320) * 320);
    assert_eq!(&played[..expected.len()], &expected[..]);
    assert!(
        played[expected.len()..].iter().all(|&b| b == 0),
        "silence pads"
    );

    // The mark follows the frame that ends the carried audio, before any later audio.
    let notify = r#"{"action":"notify","payload":{"name":"greeting"}}"#;
    let at = after.order.iter().position(|m| m == notify).unwrap();
    let frames_before = carried.len().div_ceil(160);
    assert_eq!(at, frames_before, "{:?}", after.order);
    assert!(after.order[..at].iter().all(|m| m == "audio 320"));

    // The mark comes back: heard counts the 20 ms frame before the change and the carried
    // frames after it.
    assert_eq!(
        s.handle(WsMessage::Text(
            r#"{"event":"websocket:notify","payload":{"name":"greeting"}}"#
        )),
        Ok(SessionEvent::MarkPlayed("greeting"))
    );
    assert_eq!(
        s.playback().heard(),
        Duration::from_millis(20 + 20 * frames_before as u64)
    );
}

/// A mark already sent before the change still counts what was heard before it, and a clear
/// after the change reports the marks waiting in the carried audio.
#[test]
fn marks_survive_a_rate_change_and_a_clear_after_it_reports_them() {
    let mut s = MediaSession::new(
        Box::new(VonageMediaProtocol::new(SampleRate::Hz16000)),
        SessionConfig::new(SampleRate::Hz16000),
    );
    let mut wire = Wire::default();
    s.send_audio(&sine(640, 16000.0), &mut wire.sink()).unwrap();
    s.mark("sent", &mut wire.sink()).unwrap(); // no part-frame: goes out at once
    s.send_audio(&sine(100, 16000.0), &mut wire.sink()).unwrap();
    s.mark("waiting", &mut wire.sink()).unwrap();
    assert_eq!(
        wire.order,
        [
            "audio 640",
            "audio 640",
            r#"{"action":"notify","payload":{"name":"sent"}}"#
        ]
    );
    s.handle(WsMessage::Text(&connected(24000))).unwrap();
    assert_eq!(
        s.handle(WsMessage::Text(
            r#"{"event":"websocket:notify","payload":{"name":"sent"}}"#
        )),
        Ok(SessionEvent::MarkPlayed("sent"))
    );
    assert_eq!(s.playback().heard(), Duration::from_millis(40));
    assert_eq!(
        s.playback().outstanding_marks().count(),
        0,
        "the waiting mark is not sent yet"
    );
    let mut wire = Wire::default();
    assert_eq!(s.clear(&mut wire.sink()).unwrap(), ["waiting"]);
    assert_eq!(
        wire.order,
        [r#"{"action":"clear"}"#],
        "the carried audio is dropped too"
    );
    let mut wire = Wire::default();
    s.finish(&mut wire.sink()).unwrap();
    assert!(
        wire.order.is_empty(),
        "nothing left to send after the clear"
    );
}

/// Two corrections before anything more is sent: the carried audio is carried again, to the
/// last format, and still comes out first, with its mark after it.
#[test]
fn audio_carried_twice_still_comes_out_first() {
    let mut s = MediaSession::new(
        Box::new(VonageMediaProtocol::new(SampleRate::Hz16000)),
        SessionConfig::new(SampleRate::Hz16000),
    );
    let mut wire = Wire::default();
    s.send_audio(&[3000; 200], &mut wire.sink()).unwrap();
    s.mark("m", &mut wire.sink()).unwrap();
    assert!(wire.order.is_empty());
    s.handle(WsMessage::Text(&connected(8000))).unwrap();
    s.handle(WsMessage::Text(&connected(24000))).unwrap();
    s.finish(&mut wire.sink()).unwrap();
    assert!(
        wire.frames.iter().all(|f| f.len() == 960),
        "{:?}",
        wire.order
    );
    assert_eq!(
        wire.order.last().map(String::as_str),
        Some(r#"{"action":"notify","payload":{"name":"m"}}"#)
    );
    // 12.5 ms of a constant 3000, carried through 8 kHz to 24 kHz: the level arrives.
    let out = samples(&wire.frames.concat());
    let peak = out.iter().map(|&x| i32::from(x).abs()).max().unwrap();
    assert!((2500..=3600).contains(&peak), "peak {peak}");
}

#[derive(Debug, Clone)]
enum Op {
    Send(usize),
    Mark,
    Finish,
    Clear,
    Connected(u32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0usize..3000).prop_map(Op::Send),
        2 => Just(Op::Mark),
        2 => Just(Op::Finish),
        1 => Just(Op::Clear),
        1 => prop::sample::select(vec![8000u32, 16000, 24000]).prop_map(Op::Connected),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever the host does, in whatever order, every binary message is exactly 20 ms of
    /// the stream's rate: Vonage drops the call over any other size.
    #[test]
    fn no_outbound_frame_is_another_size(
        ask in prop::sample::select(vec![8000u32, 16000, 24000]),
        app in prop::sample::select(vec![8000u32, 16000, 24000, 48000]),
        low_latency in any::<bool>(),
        ops in prop::collection::vec(op(), 1..40),
    ) {
        let profile = if low_latency { Profile::LowLatency } else { Profile::HighQuality };
        let mut s = MediaSession::new(
            Box::new(VonageMediaProtocol::new(SampleRate::from_hz(ask).unwrap())),
            SessionConfig::new(SampleRate::from_hz(app).unwrap()).profile(profile),
        );
        let mut rate = ask;
        let mut bad: Vec<(usize, u32)> = Vec::new();
        let mut marks = 0;
        for op in ops {
            let mut out = |m: WsMessage<'_>| {
                if let WsMessage::Binary(b) = m
                    && b.len() != (rate / 50 * 2) as usize
                {
                    bad.push((b.len(), rate));
                }
            };
            match op {
                Op::Send(n) => {
                    let pcm = sine(n, f64::from(app));
                    s.send_audio(&pcm, &mut out).unwrap();
                }
                Op::Mark => {
                    marks += 1;
                    s.mark(&format!("m{marks}"), &mut out).unwrap();
                }
                Op::Finish => s.finish(&mut out).unwrap(),
                Op::Clear => {
                    s.clear(&mut out).unwrap();
                }
                Op::Connected(r) => {
                    let msg = format!(
                        r#"{{"event":"websocket:connected","content-type":"audio/l16;rate={r}"}}"#
                    );
                    s.handle(WsMessage::Text(&msg)).unwrap();
                    rate = r;
                }
            }
        }
        prop_assert!(bad.is_empty(), "frames of another size: {:?}", bad);
    }
}

#[test]
fn the_pacer_sends_ahead_then_18_ms_apart_and_never_overfills_vonages_buffer() {
    let mut pacer = telephony_vonage::pacer();
    let t0 = std::time::Instant::now();
    let mut now = t0;
    let mut times = Vec::new();
    // Twenty minutes of unbroken reply, sent as the pacer allows.
    for _ in 0..60_000 {
        now = pacer.next_send(now);
        pacer.sent(now);
        times.push(now - t0);
    }
    assert!(times[..500].iter().all(Duration::is_zero), "10 s at once");
    assert_eq!(times[501] - times[500], Duration::from_millis(18));
    assert_eq!(times[20_000] - times[19_999], Duration::from_millis(18));
    // Never more than 3000 frames estimated in Vonage's 3072-frame buffer.
    let most = times
        .iter()
        .enumerate()
        .map(|(k, t)| k + 1 - ((t.as_millis() / 20) as usize).min(k + 1))
        .max()
        .unwrap();
    assert_eq!(most, 3000);
    assert!(most < telephony_vonage::BUFFER_FRAMES as usize);
    // At the cap, real time.
    assert_eq!(times[59_999] - times[59_998], Duration::from_millis(20));
    // A barge-in empties Vonage's buffer: the next reply starts at once.
    pacer.clear();
    assert_eq!(pacer.next_send(now), now);
}

telephony_testkit::media_contract!(telephony_testkit::contract::media::MediaCarrier::emulated(
    "vonage"
));
