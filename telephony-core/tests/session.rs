//! The media session over a protocol that needs exact frames (as Vonage does): marks wait for
//! the frame that carries their audio, a clear drops them, and the last frame is padded.

use std::time::Duration;

use telephony_core::audio::{AudioFormat, Encoding, SampleRate};
use telephony_core::media::{Framing, StreamStart};
use telephony_core::{
    MediaCommand, MediaError, MediaEvent, MediaProtocol, MediaSession, ProviderKind, SessionConfig,
    SessionEvent, WsMessage,
};

const KIND: ProviderKind = ProviderKind::new("strict", "Strict");

/// Binary L16 16 kHz audio in exact 20 ms frames; text commands `mark:NAME` and `clear`; the
/// first text message `start` starts the stream.
#[derive(Debug, Default)]
struct Strict {
    started: bool,
    text: String,
}

impl MediaProtocol for Strict {
    fn kind(&self) -> ProviderKind {
        KIND
    }
    fn wire_format(&self) -> Option<AudioFormat> {
        None
    }
    fn framing(&self) -> Framing {
        Framing {
            frame: Duration::from_millis(20),
            strict: true,
        }
    }
    fn decode<'a>(&'a mut self, message: WsMessage<'a>) -> Result<MediaEvent<'a>, MediaError> {
        match message {
            WsMessage::Text("start") => {
                self.started = true;
                Ok(MediaEvent::Start(StreamStart::new(AudioFormat::L16LE_16K)))
            }
            WsMessage::Text(t) => match t.strip_prefix("mark:") {
                Some(name) => Ok(MediaEvent::Mark { name }),
                None => Ok(MediaEvent::Unknown { event: t }),
            },
            WsMessage::Binary(b) => Ok(MediaEvent::Audio {
                payload: b,
                track: telephony_core::media::AudioTrack::Inbound,
                timestamp: None,
                sequence: None,
            }),
        }
    }
    fn encode(
        &mut self,
        command: MediaCommand<'_>,
        out: &mut dyn FnMut(WsMessage<'_>),
    ) -> Result<(), MediaError> {
        match command {
            MediaCommand::Audio(a) => {
                assert_eq!(
                    a.len(),
                    640,
                    "a strict provider drops the call on any other size"
                );
                out(WsMessage::Binary(a));
            }
            MediaCommand::Mark(name) => {
                self.text = format!("mark:{name}");
                out(WsMessage::Text(&self.text));
            }
            MediaCommand::Clear => out(WsMessage::Text("clear")),
            _ => {
                return Err(MediaError::Unsupported {
                    provider: KIND,
                    what: "that",
                });
            }
        }
        Ok(())
    }
}

#[derive(Debug, PartialEq)]
enum Sent {
    Audio(usize),
    Text(String),
}

fn record(log: &mut Vec<Sent>) -> impl FnMut(WsMessage<'_>) + '_ {
    |f| match f {
        WsMessage::Binary(b) => log.push(Sent::Audio(b.len())),
        WsMessage::Text(t) => log.push(Sent::Text(t.to_owned())),
    }
}

#[test]
fn audio_before_the_start_is_refused() {
    let mut s = MediaSession::new(
        Box::new(Strict::default()),
        SessionConfig::new(SampleRate::Hz16000),
    );
    assert_eq!(
        s.handle(WsMessage::Binary(&[0; 640])),
        Err(MediaError::NotStarted { provider: KIND })
    );
    assert_eq!(
        s.send_audio(&[0; 10], &mut |_| {}),
        Err(MediaError::NotStarted { provider: KIND })
    );
    assert!(matches!(
        s.handle(WsMessage::Text("start")),
        Ok(SessionEvent::Started(_))
    ));
    assert_eq!(s.wire_format().map(|f| f.encoding), Some(Encoding::L16Le));
    assert!(
        matches!(s.handle(WsMessage::Binary(&[0; 640])), Ok(SessionEvent::Audio(pcm)) if pcm.len() == 320)
    );
    assert!(matches!(
        s.handle(WsMessage::Binary(&[0; 3])),
        Err(MediaError::Audio { .. })
    ));
}

#[test]
fn marks_wait_for_their_frame_and_clear_drops_them() {
    let mut s = MediaSession::new(
        Box::new(Strict::default()),
        SessionConfig::new(SampleRate::Hz16000),
    );
    s.handle(WsMessage::Text("start")).unwrap();
    let mut log = Vec::new();
    // 30 ms: one frame goes, 10 ms waits; the mark waits with it.
    s.send_audio(&[100; 480], &mut record(&mut log)).unwrap();
    s.mark("a", &mut record(&mut log)).unwrap();
    assert_eq!(log, [Sent::Audio(640)]);
    // 10 ms more completes the frame: then the mark.
    s.send_audio(&[100; 160], &mut record(&mut log)).unwrap();
    assert_eq!(
        log,
        [
            Sent::Audio(640),
            Sent::Audio(640),
            Sent::Text("mark:a".into())
        ]
    );
    assert_eq!(s.playback().sent(), Duration::from_millis(40));
    // The echo of "a" confirms 40 ms heard.
    assert_eq!(
        s.handle(WsMessage::Text("mark:a")),
        Ok(SessionEvent::MarkPlayed("a"))
    );
    assert_eq!(s.playback().heard(), Duration::from_millis(40));

    // 5 ms and a mark, then a clear: the mark never went out, so it is returned.
    log.clear();
    s.send_audio(&[100; 80], &mut record(&mut log)).unwrap();
    s.mark("b", &mut record(&mut log)).unwrap();
    let dropped = s.clear(&mut record(&mut log)).unwrap();
    assert_eq!(dropped, ["b"]);
    assert_eq!(log, [Sent::Text("clear".into())]);

    // The end of a reply pads the last frame; a mark placed after it follows.
    log.clear();
    s.send_audio(&[100; 100], &mut record(&mut log)).unwrap();
    s.mark("c", &mut record(&mut log)).unwrap();
    s.finish(&mut record(&mut log)).unwrap();
    assert_eq!(log.first(), Some(&Sent::Audio(640)));
    assert_eq!(log.last(), Some(&Sent::Text("mark:c".into())));
    assert!(
        log.iter()
            .all(|m| matches!(m, Sent::Audio(640) | Sent::Text(_)))
    );

    // The clear discarded what was not heard; "c" is still to come.
    assert_eq!(s.playback().heard(), Duration::from_millis(40));
    assert_eq!(s.playback().outstanding_marks().collect::<Vec<_>>(), ["c"]);
    assert_eq!(
        s.handle(WsMessage::Text("mark:c")),
        Ok(SessionEvent::MarkPlayed("c"))
    );
    assert_eq!(s.playback().heard(), Duration::from_millis(60));
}

/// A stream without a DTMF message plays the keys as tones in its audio, after what was sent
/// before them, and a far end that listens hears the keys.
#[test]
fn dtmf_without_a_message_is_played_in_band() {
    for app in [SampleRate::Hz8000, SampleRate::Hz16000, SampleRate::Hz24000] {
        let mut s = MediaSession::new(Box::new(Strict::default()), SessionConfig::new(app));
        s.handle(WsMessage::Text("start")).unwrap();
        let mut wire: Vec<u8> = Vec::new();
        let mut keep = |m: WsMessage<'_>| {
            if let WsMessage::Binary(b) = m {
                wire.extend_from_slice(b);
            }
        };
        s.send_audio(&vec![0; app.samples_per_20ms() * 5], &mut keep)
            .unwrap();
        s.send_dtmf("4#w9", &mut keep).unwrap();
        s.finish(&mut keep).unwrap();
        assert!(matches!(
            s.send_dtmf("x", &mut keep),
            Err(MediaError::Unsupported { .. })
        ));
        let pcm: Vec<i16> = wire
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect();
        assert_eq!(
            telephony_core::audio::dtmf::detect(&pcm, SampleRate::Hz16000),
            vec!['4', '#', '9'],
            "app {app:?}"
        );
        // The keys follow the 100 ms sent before them.
        assert!(pcm[..1500].iter().all(|s| s.unsigned_abs() < 64));
    }
}
