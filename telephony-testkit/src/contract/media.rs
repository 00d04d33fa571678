//! The media rules every adapter keeps, through [`MediaSession`], the object a voice agent
//! holds for a call: on every wire format the carrier streams, the start, audio both ways,
//! marks, clear, DTMF, stop and broken frames.
//!
//! Each rule is a public function that takes a [`MediaCarrier`] (the adapter's protocol for a
//! wire format, and the carrier's side of a stream in it) and panics when the adapter breaks
//! it. [`media_contract!`](crate::media_contract) turns them into one `#[test]` each. A
//! built-in carrier's side is its emulator's ([`MediaCarrier::emulated`]), so an adapter's
//! `tests/media.rs` runs them all in one line:
//!
//! ```ignore
//! telephony_testkit::media_contract!(MediaCarrier::emulated("twilio"));
//! ```
//!
//! A carrier without an emulator writes its side of a stream as a [`CarrierSide`]. Nothing
//! here touches a socket or a clock: the session is fed the carrier's messages and what it
//! sends is read back by the carrier's side, as the emulator reads it over its WebSocket.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use telephony::audio::{AudioFormat, SampleRate};
use telephony::{MediaError, MediaProtocol, MediaSession, SessionConfig, SessionEvent, WsMessage};

pub use super::side::CarrierSide;
use super::signal::{is_the_tone, other_rate, tone, voice};
use crate::{Emulator, Emulators, FromAgent, ProviderMessage};

/// The adapter's media protocol for a wire format.
pub type ProtocolFor = Arc<dyn Fn(AudioFormat) -> Box<dyn MediaProtocol> + Send + Sync>;

/// The carrier's side of a new stream in a wire format.
pub type SideFor = Arc<dyn Fn(AudioFormat) -> Box<dyn CarrierSide> + Send + Sync>;

/// One carrier, as the media rules see it.
#[derive(Clone)]
pub struct MediaCarrier {
    /// Every wire format it streams; each rule runs on each.
    pub formats: Vec<AudioFormat>,
    /// The protocol the adapter runs on a stream in a format, as
    /// `TelephonyProvider::media_protocol` gives it for that stream.
    pub protocol: ProtocolFor,
    /// The carrier's side of a stream in a format.
    pub side: SideFor,
}

impl fmt::Debug for MediaCarrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaCarrier")
            .field("formats", &self.formats)
            .finish_non_exhaustive()
    }
}

impl MediaCarrier {
    /// The carrier a built-in emulator emulates, by id: the formats it streams
    /// ([`Emulator::stream_formats`]), the adapter's protocol for each
    /// ([`Emulator::media_protocol`]) and the emulator's side of a stream
    /// ([`Emulator::provider_stream`]).
    ///
    /// # Panics
    ///
    /// When no built-in emulator has this id.
    pub fn emulated(id: &str) -> MediaCarrier {
        let emulators = Emulators::builtin();
        match emulators.find(id) {
            Some(emulator) => MediaCarrier::of(emulator),
            None => panic!("no emulator {id:?} among {emulators:?}"),
        }
    }

    /// The carrier `emulator` emulates (see [`emulated`](Self::emulated)).
    pub fn of(emulator: &'static dyn Emulator) -> MediaCarrier {
        MediaCarrier {
            formats: emulator.stream_formats().to_vec(),
            protocol: Arc::new(move |format| emulator.media_protocol(format)),
            side: Arc::new(move |format| match emulator.provider_stream(format) {
                Ok(stream) => Box::new(stream) as Box<dyn CarrierSide>,
                Err(e) => panic!("{}: {e}", emulator.id()),
            }),
        }
    }
}

/// Runs every media rule as a `#[test]` of its own, for the carrier the expression gives
/// ([`MediaCarrier`]).
///
/// ```ignore
/// telephony_testkit::media_contract!(MediaCarrier::emulated("plivo"));
/// ```
#[macro_export]
macro_rules! media_contract {
    ($carrier:expr) => {
        $crate::__contract_tests!(media_contract, media, $carrier;
            the_start_gives_the_format_and_ids,
            audio_in_reaches_the_app_at_its_rate,
            audio_out_leaves_as_exact_frames_in_the_wire_format,
            a_mark_is_played_only_when_the_carrier_echoes_it,
            clear_drops_pending_audio_and_reports_unheard_marks,
            a_key_press_is_a_dtmf_event,
            stop_ends_the_session,
            a_broken_frame_is_an_error_that_loses_nothing);
    };
}

/// One stream: the adapter's session and the carrier's side of it.
struct Stream {
    format: AudioFormat,
    session: MediaSession,
    side: Box<dyn CarrierSide>,
}

impl Stream {
    /// A stream in `format`, its app at `app_rate`, opened: the carrier's opening handled.
    fn open(carrier: &MediaCarrier, format: AudioFormat, app_rate: SampleRate) -> Stream {
        let mut stream = Stream {
            format,
            session: MediaSession::new((carrier.protocol)(format), SessionConfig::new(app_rate)),
            side: (carrier.side)(format),
        };
        for message in stream.side.opening() {
            let handled = stream.session.handle(message.as_ws()).map(|_| ());
            handled.unwrap_or_else(|e| panic!("{}: the opening: {e}", stream.name()));
        }
        stream
    }

    fn name(&self) -> String {
        format!(
            "{} {}@{}",
            self.session.protocol().kind(),
            self.format.encoding.name(),
            self.format.rate.hz()
        )
    }

    /// Runs a session command, and gives what the carrier made of every message it sent.
    fn send(
        &mut self,
        command: impl FnOnce(&mut MediaSession, &mut dyn FnMut(WsMessage<'_>)) -> Result<(), MediaError>,
    ) -> Vec<FromAgent> {
        let Stream { session, side, .. } = self;
        let mut heard = Vec::new();
        let result = command(session, &mut |m| heard.extend(side.agent(m)));
        if let Err(e) = result {
            panic!("{}: {e}", self.name());
        }
        heard
    }

    /// Feeds caller audio (wire bytes), 20 ms a message; the PCM the app got for each.
    fn caller_says(&mut self, wire: &[u8]) -> Vec<Vec<i16>> {
        let frame = self.format.bytes_per_20ms();
        let name = self.name();
        let mut heard = Vec::new();
        for chunk in wire.chunks(frame) {
            let message = self.side.media(chunk);
            match self.session.handle(message.as_ws()) {
                Ok(SessionEvent::Audio(pcm)) => heard.push(pcm.to_vec()),
                other => panic!("{name}: caller audio read as {other:?}"),
            }
        }
        heard
    }
}

/// What the carrier received as audio, frame by frame; panics on anything else but marks
/// and a clear, and on any violation.
fn frames(name: &str, heard: &[FromAgent]) -> Vec<Vec<u8>> {
    heard
        .iter()
        .filter_map(|h| match h {
            FromAgent::Audio(bytes) => Some(bytes.clone()),
            FromAgent::Violation(v) => panic!("{name}: the carrier would refuse this: {v}"),
            _ => None,
        })
        .collect()
}

/// The stream's start names its format, its call and its stream where the carrier does, and
/// carries back the custom parameters the answer set; it comes once, and the session's wire
/// format is the stream's from then on.
pub fn the_start_gives_the_format_and_ids(carrier: &MediaCarrier) {
    for &format in &carrier.formats {
        let mut session =
            MediaSession::new((carrier.protocol)(format), SessionConfig::new(format.rate));
        let mut side = (carrier.side)(format);
        let mut starts = 0;
        for message in side.opening() {
            match session.handle(message.as_ws()) {
                Ok(SessionEvent::Started(start)) => {
                    starts += 1;
                    assert_eq!(start.format, format, "the start's format");
                    let call = start.call_id.as_ref().map(|c| c.as_str());
                    assert_eq!(call, side.call_id(), "{format:?}: the start's call");
                    let stream = start.stream_id.as_deref();
                    assert_eq!(stream, side.stream_id(), "{format:?}: the start's stream");
                    for (name, value) in side.parameters() {
                        let carried = start.parameter(name);
                        assert_eq!(carried, Some(value.as_str()), "{format:?}: {name}");
                    }
                }
                Ok(SessionEvent::Connected | SessionEvent::Ignored) => {}
                other => panic!("{format:?}: the opening read as {other:?}"),
            }
        }
        assert_eq!(starts, 1, "{format:?}: one start");
        assert_eq!(session.wire_format(), Some(format));
        assert_eq!(session.start().map(|s| s.format), Some(format));
    }
}

/// Caller audio reaches the app as PCM at the app's rate, 20 ms for every 20 ms message: at
/// the wire's own rate exactly the codec's decoding of the wire bytes; at another rate, a
/// 1 kHz tone is still a 1 kHz tone at its level.
pub fn audio_in_reaches_the_app_at_its_rate(carrier: &MediaCarrier) {
    for &format in &carrier.formats {
        let mut stream = Stream::open(carrier, format, format.rate);
        let mut wire = Vec::new();
        format
            .encoding
            .encode(&voice(format.rate, Duration::from_millis(500)), &mut wire);
        let heard = stream.caller_says(&wire);
        let spf = format.rate.samples_per_20ms();
        assert!(heard.iter().all(|pcm| pcm.len() == spf), "{format:?}");
        let mut expected = Vec::new();
        format
            .encoding
            .decode(&wire, &mut expected)
            .expect("whole samples");
        assert!(
            heard.concat() == expected,
            "{format:?}: not the wire's audio"
        );

        let app = other_rate(format);
        let mut stream = Stream::open(carrier, format, app);
        let mut wire = Vec::new();
        format.encoding.encode(&tone(format.rate), &mut wire);
        let heard = stream.caller_says(&wire);
        let app_spf = app.samples_per_20ms();
        assert!(heard.iter().all(|pcm| pcm.len() == app_spf), "{format:?}");
        let heard = heard.concat();
        let settled = &heard[app.hz() as usize / 10..];
        is_the_tone(settled, app).unwrap_or_else(|e| panic!("{format:?} at {app:?}: {e}"));
    }
}

/// The app's audio, in chunks of any length, reaches the carrier as frames of exactly 20 ms
/// in the stream's encoding (only a reply's last may be shorter, where the carrier does not
/// need whole frames), and nothing the carrier would refuse: at the wire's rate the codec's
/// encoding of the PCM, byte for byte, padded with silence; at another rate, a 1 kHz tone.
pub fn audio_out_leaves_as_exact_frames_in_the_wire_format(carrier: &MediaCarrier) {
    for &format in &carrier.formats {
        let mut stream = Stream::open(carrier, format, format.rate);
        let name = stream.name();
        let strict = stream.session.protocol().framing().strict;
        let reply = voice(
            format.rate,
            Duration::from_millis(500) + Duration::from_micros(1375),
        );
        let mut heard = Vec::new();
        for chunk in reply.chunks(777) {
            heard.extend(stream.send(|s, out| s.send_audio(chunk, out)));
        }
        heard.extend(stream.send(|s, out| s.finish(out)));
        let sent = frames(&name, &heard);
        check_frames(&name, format, strict, &sent);
        let played = sent.concat();
        let mut expected = Vec::new();
        format.encoding.encode(&reply, &mut expected);
        assert!(played.len() >= expected.len(), "{name}: audio lost");
        assert!(
            played[..expected.len()] == expected[..],
            "{name}: not the app's audio"
        );
        let silence = format.encoding.silence_byte();
        let padding = &played[expected.len()..];
        assert!(
            padding.iter().all(|&b| b == silence),
            "{name}: padded with noise"
        );

        let app = other_rate(format);
        let mut stream = Stream::open(carrier, format, app);
        let mut heard = Vec::new();
        for chunk in tone(app).chunks(333) {
            heard.extend(stream.send(|s, out| s.send_audio(chunk, out)));
        }
        heard.extend(stream.send(|s, out| s.finish(out)));
        let sent = frames(&name, &heard);
        check_frames(&name, format, strict, &sent);
        let mut pcm = Vec::new();
        format
            .encoding
            .decode(&sent.concat(), &mut pcm)
            .expect("whole samples");
        let edge = format.rate.hz() as usize / 10;
        let whole = pcm.len() * 100 >= format.rate.hz() as usize * 95;
        assert!(whole, "{name}: {} samples of a second", pcm.len());
        is_the_tone(&pcm[edge..pcm.len() - edge], format.rate)
            .unwrap_or_else(|e| panic!("{name}, the app at {app:?}: {e}"));
    }
}

fn check_frames(name: &str, format: AudioFormat, strict: bool, frames: &[Vec<u8>]) {
    let size = format.bytes_per_20ms();
    let Some((last, whole)) = frames.split_last() else {
        panic!("{name}: no audio reached the carrier");
    };
    for (k, frame) in whole.iter().enumerate() {
        assert_eq!(frame.len(), size, "{name}: frame {k} is not 20 ms");
    }
    if strict {
        assert_eq!(last.len(), size, "{name}: the last frame is not 20 ms");
    } else {
        assert!(!last.is_empty() && last.len() <= size, "{name}: last frame");
    }
}

/// A mark placed after audio reaches the carrier after that audio, and the session reports
/// it played only when the carrier echoes it: until then nothing is heard; then all the audio
/// before it is. Names with quotes and non-ASCII letters come back as sent.
pub fn a_mark_is_played_only_when_the_carrier_echoes_it(carrier: &MediaCarrier) {
    const MARK: &str = "reply \"1\" — é";
    for &format in &carrier.formats {
        let mut stream = Stream::open(carrier, format, format.rate);
        let name = stream.name();
        let reply = voice(format.rate, Duration::from_millis(50));
        let mut heard = stream.send(|s, out| s.send_audio(&reply, out));
        heard.extend(stream.send(|s, out| s.mark(MARK, out)));
        heard.extend(stream.send(|s, out| s.finish(out)));
        let at = heard
            .iter()
            .position(|h| matches!(h, FromAgent::Mark { .. }))
            .unwrap_or_else(|| panic!("{name}: the mark never reached the carrier: {heard:?}"));
        let (before, after) = heard.split_at(at);
        assert!(!frames(&name, before).is_empty(), "{name}: audio before");
        assert!(
            frames(&name, after).is_empty(),
            "{name}: audio after the mark"
        );
        let FromAgent::Mark { name: sent, echo } = &heard[at] else {
            unreachable!("found above")
        };
        assert_eq!(sent, MARK, "{name}");
        let playback = stream.session.playback();
        assert_eq!(
            playback.heard(),
            Duration::ZERO,
            "{name}: heard before the echo"
        );
        assert_eq!(playback.last_played_mark(), None, "{name}");
        let sent = playback.sent();
        assert!(sent >= Duration::from_millis(50), "{name}: {sent:?} sent");
        match stream.session.handle(echo.as_ws()) {
            Ok(SessionEvent::MarkPlayed(played)) => assert_eq!(played, MARK, "{name}"),
            other => panic!("{name}: the echo read as {other:?}"),
        }
        let playback = stream.session.playback();
        assert_eq!(playback.heard(), sent, "{name}: all before the mark heard");
        assert_eq!(playback.last_played_mark(), Some(MARK), "{name}");
    }
}

/// The marks among what the carrier received, each with its echo.
fn marks(heard: Vec<FromAgent>) -> Vec<(String, ProviderMessage)> {
    heard
        .into_iter()
        .filter_map(|h| match h {
            FromAgent::Mark { name, echo } => Some((name, echo)),
            _ => None,
        })
        .collect()
}

/// `clear` sends the carrier's clear and nothing of the audio still pending here, and returns,
/// oldest first, every mark not heard: one the carrier holds, one still waiting for its frame;
/// a mark already played stays played, and what was heard stays heard. What the carrier
/// answers to the clear is a confirmation or nothing for the app, never a mark played; and the
/// stream goes on: the next reply plays in whole frames.
pub fn clear_drops_pending_audio_and_reports_unheard_marks(carrier: &MediaCarrier) {
    for &format in &carrier.formats {
        let mut stream = Stream::open(carrier, format, format.rate);
        let name = stream.name();
        let reply = voice(format.rate, Duration::from_millis(50));
        let mut heard = stream.send(|s, out| s.send_audio(&reply, out));
        heard.extend(stream.send(|s, out| s.mark("played", out)));
        heard.extend(stream.send(|s, out| s.finish(out)));
        frames(&name, &heard);
        for (_, echo) in marks(heard) {
            let played = stream.session.handle(echo.as_ws());
            assert!(
                matches!(played, Ok(SessionEvent::MarkPlayed("played"))),
                "{name}"
            );
        }
        let was_heard = stream.session.playback().heard();
        assert!(
            was_heard >= Duration::from_millis(50),
            "{name}: {was_heard:?}"
        );

        let mut heard = stream.send(|s, out| s.send_audio(&reply, out));
        heard.extend(stream.send(|s, out| s.mark("held", out)));
        heard.extend(stream.send(|s, out| s.finish(out)));
        heard.extend(stream.send(|s, out| s.send_audio(&reply[..reply.len() / 2], out)));
        heard.extend(stream.send(|s, out| s.mark("waiting", out)));
        frames(&name, &heard);
        let held = marks(heard);
        let first = held.first().map(|(n, _)| n.as_str());
        assert_eq!(first, Some("held"), "{name}");

        let mut unheard = Vec::new();
        let on_clear = stream.send(|s, out| {
            unheard = s.clear(out)?;
            Ok(())
        });
        assert_eq!(unheard, ["held", "waiting"], "{name}: the marks not heard");
        assert_eq!(
            on_clear,
            [FromAgent::Clear],
            "{name}: the clear, and nothing else"
        );

        // The echo of a cleared mark (Twilio returns them at once) is nothing to the app; any
        // other answer confirms the clear.
        let echoes: Vec<ProviderMessage> = held.iter().map(|(_, e)| e.clone()).collect();
        for answer in stream.side.cleared(held) {
            let event = stream.session.handle(answer.as_ws());
            let expected = if echoes.contains(&answer) {
                SessionEvent::Ignored
            } else {
                SessionEvent::Cleared
            };
            assert_eq!(
                event,
                Ok(expected),
                "{name}: the carrier's answer {answer:?}"
            );
        }
        let playback = stream.session.playback();
        assert_eq!(playback.heard(), was_heard, "{name}: heard changed");
        assert_eq!(playback.last_played_mark(), Some("played"), "{name}");

        let next = voice(format.rate, Duration::from_millis(40));
        let mut heard = stream.send(|s, out| s.send_audio(&next, out));
        heard.extend(stream.send(|s, out| s.finish(out)));
        let strict = stream.session.protocol().framing().strict;
        let after = frames(&name, &heard);
        check_frames(&name, format, strict, &after);
        let mut expected = Vec::new();
        format.encoding.encode(&next, &mut expected);
        let same = after.concat() == expected;
        assert!(same, "{name}: the reply after the clear");
    }
}

/// Every key the caller presses arrives as a DTMF event with that key.
pub fn a_key_press_is_a_dtmf_event(carrier: &MediaCarrier) {
    for &format in &carrier.formats {
        let mut stream = Stream::open(carrier, format, format.rate);
        let name = stream.name();
        for digit in "0123456789*#".chars() {
            let message = stream.side.dtmf(digit);
            match stream.session.handle(message.as_ws()) {
                Ok(SessionEvent::Dtmf { digit: got, .. }) => {
                    assert_eq!(got, digit, "{name}");
                }
                other => panic!("{name}: {digit} read as {other:?}"),
            }
        }
    }
}

/// Where the carrier ends a stream with a message, the session reports it stopped. Where it
/// only closes the socket, nothing it sends before is taken for a stop.
pub fn stop_ends_the_session(carrier: &MediaCarrier) {
    for &format in &carrier.formats {
        let mut session =
            MediaSession::new((carrier.protocol)(format), SessionConfig::new(format.rate));
        let mut side = (carrier.side)(format);
        let frame = vec![format.encoding.silence_byte(); format.bytes_per_20ms()];
        let mut messages = side.opening();
        messages.push(side.media(&frame));
        messages.push(side.dtmf('5'));
        messages.push(side.media(&frame));
        for message in &messages {
            let event = session.handle(message.as_ws());
            assert!(
                !matches!(event, Ok(SessionEvent::Stopped)),
                "{format:?}: {message:?} read as a stop"
            );
        }
        if let Some(stop) = side.stop() {
            let event = session.handle(stop.as_ws());
            assert_eq!(event, Ok(SessionEvent::Stopped), "{format:?}");
        }
    }
}

/// The frames a carrier's stream can break as: its media message with the payload not base64
/// or cut short (bad JSON), empty text, and a binary frame where it sends text; where it sends
/// binary audio, a frame of a part sample and text that is not JSON.
fn broken_frames(
    side: &mut dyn CarrierSide,
    format: AudioFormat,
) -> Vec<(String, ProviderMessage)> {
    let frame: Vec<u8> = (0..format.bytes_per_20ms())
        .map(|i| (i * 7 + 3) as u8)
        .collect();
    let mut broken = Vec::new();
    match side.media(&frame) {
        ProviderMessage::Text(text) => {
            let payload = STANDARD.encode(&frame);
            if text.contains(&payload) {
                let bad = text.replace(&payload, "@@ not base64 @@");
                broken.push((
                    "a payload that is not base64".into(),
                    ProviderMessage::Text(bad),
                ));
            }
            let mut cut = text.len() / 2;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            let half = ProviderMessage::Text(text[..cut].to_owned());
            broken.push(("a media message cut in half".into(), half));
            broken.push(("empty text".into(), ProviderMessage::Text(String::new())));
            let binary = ProviderMessage::Binary(vec![1, 2, 3]);
            broken.push(("a binary frame".into(), binary));
        }
        ProviderMessage::Binary(bytes) => {
            if format.encoding.bytes_per_sample() > 1 {
                let part = ProviderMessage::Binary(bytes[..bytes.len() - 1].to_vec());
                broken.push(("a frame of a part sample".into(), part));
            }
            broken.push((
                "text that is not JSON".into(),
                ProviderMessage::Text("{".into()),
            ));
        }
    }
    broken
}

/// A broken frame (a payload that is not base64, JSON cut short, a frame of the wrong kind or
/// size) is a typed error naming the carrier, and costs nothing after it: every good frame
/// around it reaches the app whole, in order, and the stream keeps its format and its keys.
pub fn a_broken_frame_is_an_error_that_loses_nothing(carrier: &MediaCarrier) {
    for &format in &carrier.formats {
        let mut stream = Stream::open(carrier, format, format.rate);
        let name = stream.name();
        let provider = stream.session.protocol().kind().name();
        let broken = broken_frames(stream.side.as_mut(), format);
        assert!(broken.len() >= 2, "{name}: {broken:?}");
        let mut wire = Vec::new();
        let length = Duration::from_millis(20) * (broken.len() as u32 + 1);
        format
            .encoding
            .encode(&voice(format.rate, length), &mut wire);
        let good: Vec<&[u8]> = wire.chunks(format.bytes_per_20ms()).collect();
        let mut heard = Vec::new();
        for (k, chunk) in good.iter().enumerate() {
            heard.extend(stream.caller_says(chunk));
            let Some((what, message)) = broken.get(k) else {
                continue;
            };
            match stream.session.handle(message.as_ws()) {
                Err(
                    e @ (MediaError::Malformed { .. }
                    | MediaError::UnexpectedFrame { .. }
                    | MediaError::Audio { .. }
                    | MediaError::FrameSize { .. }),
                ) => assert!(e.to_string().contains(provider), "{name}: {what}: {e}"),
                other => panic!("{name}: {what} read as {other:?}"),
            }
        }
        let mut expected = Vec::new();
        format
            .encoding
            .decode(&wire, &mut expected)
            .expect("whole samples");
        assert!(heard.concat() == expected, "{name}: audio lost or changed");
        assert_eq!(stream.session.wire_format(), Some(format), "{name}");
        let key = stream.side.dtmf('#');
        match stream.session.handle(key.as_ws()) {
            Ok(SessionEvent::Dtmf { digit: '#', .. }) => {}
            other => panic!("{name}: a key after them read as {other:?}"),
        }
    }
}
