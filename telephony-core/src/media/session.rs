//! A media stream with its audio path: what a voice agent holds for one call.

use std::collections::VecDeque;

use telephony_audio::{
    AudioFormat, Backend, Decoder, Encoder, Framer, Profile, Resampler, SampleRate,
};

use super::{
    AudioTrack, MarkFate, MediaCommand, MediaError, MediaEvent, MediaProtocol, PlaybackTracker,
    STREAM_TOKEN_PARAMETER, StreamAuth, StreamAuthError, StreamStart, WsMessage,
};

/// How the application wants its audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionConfig {
    /// The rate of the PCM the application hears and speaks.
    pub app_rate: SampleRate,
    /// The resampler profile, both directions.
    pub profile: Profile,
    /// The instruction set the resamplers run on: [`Backend::detect`] unless set.
    pub backend: Backend,
}

impl SessionConfig {
    /// PCM at `app_rate`, high-quality resampling, on the fastest backend.
    pub fn new(app_rate: SampleRate) -> SessionConfig {
        SessionConfig {
            app_rate,
            profile: Profile::HighQuality,
            backend: Backend::detect(),
        }
    }

    /// Sets the resampler profile.
    pub fn profile(mut self, profile: Profile) -> SessionConfig {
        self.profile = profile;
        self
    }

    /// Sets the resamplers' instruction set, for tests and benchmarks of each backend.
    pub fn backend(mut self, backend: Backend) -> SessionConfig {
        self.backend = backend;
        self
    }
}

/// What one incoming message means to the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionEvent<'a> {
    /// The socket is up.
    Connected,
    /// The stream started: ids, format and custom parameters.
    Started(&'a StreamStart),
    /// Caller audio, 16-bit PCM at the application's rate.
    Audio(&'a [i16]),
    /// The caller pressed a key.
    Dtmf {
        /// The key.
        digit: char,
        /// How long, where known.
        duration: Option<std::time::Duration>,
    },
    /// A mark came back and the audio before it was heard. (Marks whose audio was cleared
    /// are reported by [`MediaSession::clear`] when it clears, for every provider alike; their
    /// echoes, where a provider sends them, are [`Ignored`](Self::Ignored).)
    MarkPlayed(&'a str),
    /// The provider confirmed a clear.
    Cleared,
    /// The provider ended the stream.
    Stopped,
    /// A message the adapter does not know (its event name).
    Unknown(&'a str),
    /// A message with nothing for the application (audio of the outbound track, the echo of
    /// a mark already reported cleared).
    Ignored,
}

struct AudioPath {
    format: AudioFormat,
    decoder: Decoder,
    encoder: Encoder,
    framer: Framer,
}

impl AudioPath {
    fn new(format: AudioFormat, config: SessionConfig, framing: super::Framing) -> AudioPath {
        AudioPath {
            format,
            decoder: Decoder::with_backend(format, config.app_rate, config.profile, config.backend),
            encoder: Encoder::with_backend(config.app_rate, format, config.profile, config.backend),
            framer: Framer::new(format, framing.frame),
        }
    }
}

/// A provider's media stream plus the audio path both ways and a playback tracker.
///
/// - In: provider frames go to [`handle`](Self::handle); caller audio comes out as PCM at the
///   application's rate, with the resampler's state kept for the whole call.
/// - Out: PCM of any length goes to [`send_audio`](Self::send_audio) and leaves as frames of
///   exactly the size the provider wants; [`mark`](Self::mark) places a playback marker after
///   it; [`clear`](Self::clear) drops what is pending here and at the provider (barge-in);
///   [`finish`](Self::finish) ends a reply, flushing the resampler and the last frame.
/// - [`playback`](Self::playback) says what the caller has actually heard.
///
/// No allocation per 20 ms frame once the stream runs.
pub struct MediaSession {
    protocol: Box<dyn MediaProtocol>,
    config: SessionConfig,
    path: Option<AudioPath>,
    start: Option<StreamStart>,
    pcm: Vec<i16>,
    wire: Vec<u8>,
    tracker: PlaybackTracker,
    /// Outbound audio carried over a change of wire format, already in the new format: it
    /// goes into the framer before anything sent after the change.
    carry: Vec<u8>,
    /// Marks waiting for the frame that carries the audio before them (strict framing).
    queued_marks: VecDeque<(String, u64)>,
    pushed: u64,
    emitted: u64,
    /// Tokens the stream's start must carry, when required.
    auth: Option<StreamAuth>,
    /// Where authentication stands: `None` until a start is checked (or when not required).
    verdict: Option<Result<(), StreamAuthError>>,
}

impl std::fmt::Debug for MediaSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaSession")
            .field("provider", &self.protocol.kind())
            .field("config", &self.config)
            .field("format", &self.path.as_ref().map(|p| p.format))
            .field("playback", &self.tracker)
            .finish_non_exhaustive()
    }
}

impl MediaSession {
    /// A session over a provider's protocol.
    pub fn new(protocol: Box<dyn MediaProtocol>, config: SessionConfig) -> MediaSession {
        let mut session = MediaSession {
            protocol,
            config,
            path: None,
            start: None,
            pcm: Vec::with_capacity(2048),
            wire: Vec::with_capacity(4096),
            tracker: PlaybackTracker::new(8000),
            carry: Vec::new(),
            queued_marks: VecDeque::new(),
            pushed: 0,
            emitted: 0,
            auth: None,
            verdict: None,
        };
        // Providers with a fixed format (Twilio) are ready before their start message.
        if let Some(format) = session.protocol.wire_format() {
            session.path = Some(AudioPath::new(format, config, session.protocol.framing()));
            session.tracker = PlaybackTracker::new(format.rate.hz());
        }
        session
    }

    /// Requires the stream's start to carry a token `auth` minted for its call (see
    /// [`StreamAuth`]): a stream whose start does not, and every message before its start
    /// but the connection's greeting, is refused with [`MediaError::Unauthenticated`], and
    /// the session then refuses everything, both ways. The token is removed from the start's
    /// parameters the host sees.
    pub fn require_token(mut self, auth: StreamAuth) -> MediaSession {
        self.auth = Some(auth);
        self
    }

    /// Whether the stream proved where it came from: always, when no token is required.
    pub fn is_authenticated(&self) -> bool {
        self.auth.is_none() || matches!(self.verdict, Some(Ok(())))
    }

    /// The refusal for a session that is not (or not yet) authenticated.
    fn refused(&self, before_start: &'static str) -> MediaError {
        refusal(self.protocol.kind(), &self.verdict, before_start)
    }

    /// The stream's start message, once it came.
    pub fn start(&self) -> Option<&StreamStart> {
        self.start.as_ref()
    }

    /// The wire format, once known.
    pub fn wire_format(&self) -> Option<AudioFormat> {
        self.path.as_ref().map(|p| p.format)
    }

    /// The configuration.
    pub fn config(&self) -> SessionConfig {
        self.config
    }

    /// What has been sent, heard and cleared.
    pub fn playback(&self) -> &PlaybackTracker {
        &self.tracker
    }

    /// The protocol underneath.
    pub fn protocol(&self) -> &dyn MediaProtocol {
        self.protocol.as_ref()
    }

    /// Reads one message from the provider.
    pub fn handle<'a>(
        &'a mut self,
        message: WsMessage<'a>,
    ) -> Result<SessionEvent<'a>, MediaError> {
        let kind = self.protocol.kind();
        let framing = self.protocol.framing();
        if matches!(self.verdict, Some(Err(_))) {
            return Err(self.refused(""));
        }
        let authenticated = self.is_authenticated();
        let event = self.protocol.decode(message)?;
        if !authenticated && !matches!(event, MediaEvent::Start(_) | MediaEvent::Connected) {
            return Err(refusal(
                kind,
                &self.verdict,
                ": a message before the stream's start",
            ));
        }
        Ok(match event {
            MediaEvent::Connected => SessionEvent::Connected,
            MediaEvent::Start(mut start) => {
                if let Some(auth) = &self.auth {
                    let verdict = match start.parameter(STREAM_TOKEN_PARAMETER) {
                        None => Err(StreamAuthError::Missing),
                        Some(token) => {
                            auth.verify(token, start.call_id.as_ref(), std::time::SystemTime::now())
                        }
                    };
                    let refused = verdict.is_err();
                    self.verdict = Some(verdict);
                    if refused {
                        return Err(refusal(kind, &self.verdict, ""));
                    }
                    start
                        .parameters
                        .retain(|(k, _)| k != STREAM_TOKEN_PARAMETER);
                }
                let format = start.format;
                let fresh = AudioPath::new(format, self.config, framing);
                match self.path.as_mut() {
                    None => {
                        self.path = Some(fresh);
                        self.tracker = PlaybackTracker::new(format.rate.hz());
                    }
                    // The start corrects the format the protocol expected (Vonage's
                    // `websocket:connected` reporting another rate than the answer asked
                    // for): what waits to be sent moves to the new format, nothing dropped.
                    Some(path) if path.format != format => {
                        let old = std::mem::replace(path, fresh);
                        carry_over(
                            old,
                            format,
                            self.config,
                            &mut self.carry,
                            &mut self.queued_marks,
                            &mut self.pushed,
                            self.emitted,
                        );
                        self.tracker.set_rate(format.rate.hz());
                    }
                    Some(_) => {}
                }
                SessionEvent::Started(self.start.insert(start))
            }
            MediaEvent::Audio { payload, track, .. } => {
                if track != AudioTrack::Inbound {
                    return Ok(SessionEvent::Ignored);
                }
                let path = self
                    .path
                    .as_mut()
                    .ok_or(MediaError::NotStarted { provider: kind })?;
                self.pcm.clear();
                path.decoder
                    .decode(payload, &mut self.pcm)
                    .map_err(|source| MediaError::Audio {
                        provider: kind,
                        source,
                    })?;
                SessionEvent::Audio(&self.pcm)
            }
            MediaEvent::Dtmf { digit, duration } => SessionEvent::Dtmf { digit, duration },
            MediaEvent::Mark { name } => match self.tracker.on_mark_returned(name) {
                MarkFate::Cleared => SessionEvent::Ignored,
                MarkFate::Played | MarkFate::Unknown => SessionEvent::MarkPlayed(name),
            },
            MediaEvent::Cleared => SessionEvent::Cleared,
            MediaEvent::Stop => SessionEvent::Stopped,
            MediaEvent::Unknown { event } => SessionEvent::Unknown(event),
        })
    }

    /// Sends application PCM (any length) to the caller, as exact provider frames. What does
    /// not fill a frame waits for the next call, [`mark`](Self::mark) or
    /// [`finish`](Self::finish).
    pub fn send_audio(
        &mut self,
        pcm: &[i16],
        out: &mut dyn FnMut(WsMessage<'_>),
    ) -> Result<(), MediaError> {
        if !self.is_authenticated() {
            return Err(
                self.refused(": nothing is sent before the stream proved where it came from")
            );
        }
        let kind = self.protocol.kind();
        let path = self
            .path
            .as_mut()
            .ok_or(MediaError::NotStarted { provider: kind })?;
        self.wire.clear();
        path.encoder.encode(pcm, &mut self.wire);
        self.push_wire(false, out)
    }

    /// Places a playback marker after the audio sent so far; it comes back as
    /// [`SessionEvent::MarkPlayed`] once that audio has played, or is returned by
    /// [`clear`](Self::clear) if it was cleared first.
    pub fn mark(
        &mut self,
        name: &str,
        out: &mut dyn FnMut(WsMessage<'_>),
    ) -> Result<(), MediaError> {
        if !self.is_authenticated() {
            return Err(
                self.refused(": nothing is sent before the stream proved where it came from")
            );
        }
        let strict = self.protocol.framing().strict;
        let pending = self.path.as_ref().map_or(0, |p| p.framer.pending()) + self.carry.len();
        if pending == 0 {
            return self.send_mark(name, out);
        }
        if strict {
            // The mark goes out right after the frame that completes the audio before it.
            self.queued_marks.push_back((name.to_owned(), self.pushed));
            return Ok(());
        }
        self.wire.clear();
        self.push_wire(true, out)?;
        self.send_mark(name, out)
    }

    fn send_mark(
        &mut self,
        name: &str,
        out: &mut dyn FnMut(WsMessage<'_>),
    ) -> Result<(), MediaError> {
        self.protocol.encode(MediaCommand::Mark(name), out)?;
        self.tracker.on_mark_sent(name);
        Ok(())
    }

    /// Ends a reply: the resampler's last milliseconds and the last partial frame (padded with
    /// silence where the provider needs whole frames) go out, then any marks waiting for them.
    pub fn finish(&mut self, out: &mut dyn FnMut(WsMessage<'_>)) -> Result<(), MediaError> {
        if !self.is_authenticated() {
            return Err(
                self.refused(": nothing is sent before the stream proved where it came from")
            );
        }
        let Some(path) = self.path.as_mut() else {
            return Ok(());
        };
        self.wire.clear();
        path.encoder.flush(&mut self.wire);
        self.push_wire(true, out)
    }

    /// Barge-in: drops the audio pending here and tells the provider to drop what it buffered.
    /// Returns, oldest first, every mark whose audio will now not be heard: those sent and not
    /// yet played, then those still waiting here for their frame. The same for every provider;
    /// echoes of them that a provider sends afterwards (Twilio returns pending marks on clear)
    /// are [`SessionEvent::Ignored`].
    pub fn clear(&mut self, out: &mut dyn FnMut(WsMessage<'_>)) -> Result<Vec<String>, MediaError> {
        if !self.is_authenticated() {
            return Err(
                self.refused(": nothing is sent before the stream proved where it came from")
            );
        }
        if let Some(path) = self.path.as_mut() {
            path.framer.clear();
            path.encoder.reset();
        }
        self.wire.clear();
        self.carry.clear();
        self.pushed = self.emitted;
        self.protocol.encode(MediaCommand::Clear, out)?;
        let mut cleared = self.tracker.on_clear();
        cleared.extend(self.queued_marks.drain(..).map(|(n, _)| n));
        Ok(cleared)
    }

    /// Plays DTMF to the caller: as the stream's DTMF message where the provider has one
    /// (Plivo's `sendDTMF`), and otherwise as the keys' tones in the outbound audio (in-band,
    /// [`telephony_audio::dtmf`]: 100 ms per key, 60 ms apart; `w` and `W` pause half a second
    /// and a second), queued after the audio sent so far, so marks and clear treat them as
    /// audio. Keys: `0`–`9`, `*`, `#`, `A`–`D`, `w`, `W`.
    pub fn send_dtmf(
        &mut self,
        digits: &str,
        out: &mut dyn FnMut(WsMessage<'_>),
    ) -> Result<(), MediaError> {
        if !self.is_authenticated() {
            return Err(
                self.refused(": nothing is sent before the stream proved where it came from")
            );
        }
        match self.protocol.encode(MediaCommand::SendDtmf(digits), out) {
            Err(MediaError::Unsupported { provider, .. }) => {
                let rate = self.config.app_rate;
                let pcm = telephony_audio::dtmf::tones(digits, rate).map_err(|_| {
                    MediaError::Unsupported {
                        provider,
                        what: "send DTMF keys other than 0-9, *, #, A-D, w and W",
                    }
                })?;
                self.send_audio(&pcm, out)
            }
            other => other,
        }
    }

    /// Frames the bytes in `self.wire` out; with `last`, also the partial frame at the end (padded when the
    /// provider is strict). Marks waiting for these bytes follow their frame.
    fn push_wire(
        &mut self,
        last: bool,
        out: &mut dyn FnMut(WsMessage<'_>),
    ) -> Result<(), MediaError> {
        let MediaSession {
            protocol,
            path,
            wire,
            carry,
            tracker,
            queued_marks,
            pushed,
            emitted,
            ..
        } = self;
        let Some(path) = path.as_mut() else {
            return Ok(());
        };
        let width = path.format.encoding.bytes_per_sample() as u64;
        let strict = protocol.framing().strict;
        *pushed += wire.len() as u64;
        let mut failed = None;
        let mut emit = |frame: &[u8], real: usize| {
            if failed.is_some() {
                return;
            }
            if let Err(e) = protocol.encode(MediaCommand::Audio(frame), out) {
                failed = Some(e);
                return;
            }
            *emitted += real as u64;
            tracker.on_audio_sent(frame.len() as u64 / width);
            while let Some((_, at)) = queued_marks.front() {
                if *at > *emitted {
                    break;
                }
                if let Some((name, _)) = queued_marks.pop_front() {
                    if let Err(e) = protocol.encode(MediaCommand::Mark(&name), out) {
                        failed = Some(e);
                        return;
                    }
                    tracker.on_mark_sent(&name);
                }
            }
        };
        // The carried audio was counted in `pushed` when it was carried.
        if !carry.is_empty() {
            path.framer.push(carry, |frame| emit(frame, frame.len()));
            carry.clear();
        }
        path.framer.push(wire, |frame| emit(frame, frame.len()));
        if last {
            let real = path.framer.pending();
            if strict {
                path.framer.flush(|frame| emit(frame, real));
            } else {
                path.framer.flush_unpadded(|frame| emit(frame, real));
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// [`MediaError::Unauthenticated`], with the verdict's reason or `before_start`.
fn refusal(
    provider: crate::ProviderKind,
    verdict: &Option<Result<(), StreamAuthError>>,
    before_start: &'static str,
) -> MediaError {
    let reason = match verdict {
        Some(Err(e)) => e.clone(),
        _ => StreamAuthError::Invalid(before_start),
    };
    MediaError::Unauthenticated { provider, reason }
}

/// Moves the outbound audio still waiting in `old` to `format`, for a stream whose wire format
/// changed before that audio went out: the audio carried from an earlier change, the partial
/// frame and what the encoder's resampler still holds are decoded, resampled to the new rate
/// and encoded again into `carry`, in that order. Marks waiting for that audio move with it, to
/// where their audio ends in the new format, so none goes out before its audio. `pushed` and
/// `emitted` count bytes: from here on, `pushed - emitted` is in the new format.
fn carry_over(
    mut old: AudioPath,
    format: AudioFormat,
    config: SessionConfig,
    carry: &mut Vec<u8>,
    queued_marks: &mut VecDeque<(String, u64)>,
    pushed: &mut u64,
    emitted: u64,
) {
    let mut waiting = std::mem::take(carry);
    old.framer
        .flush_unpadded(|part| waiting.extend_from_slice(part));
    old.encoder.flush(&mut waiting);
    let old_width = old.format.encoding.bytes_per_sample() as u64;
    let new_width = format.encoding.bytes_per_sample() as u64;
    let mut pcm = Vec::new();
    // Whole samples by construction: the framer and the encoder only ever hold whole samples.
    if old.format.encoding.decode(&waiting, &mut pcm).is_err() {
        pcm.clear();
    }
    let mut resampler =
        Resampler::with_backend(old.format.rate, format.rate, config.profile, config.backend);
    let mut moved = Vec::new();
    resampler.process_into(&pcm, &mut moved);
    resampler.flush_into(&mut moved);
    format.encoding.encode(&moved, carry);
    let carried = carry.len() as u64 / new_width;
    // A mark `k` samples into the waiting audio lands where those samples end after
    // resampling: `k` at the new rate, plus the resampler's delay, rounded up.
    let (from, to) = (u64::from(old.format.rate.hz()), u64::from(format.rate.hz()));
    let delay = resampler.output_delay() as u64;
    for (_, at) in queued_marks.iter_mut() {
        let k = at.saturating_sub(emitted) / old_width;
        let landed = (k.saturating_mul(to).div_ceil(from) + delay).min(carried);
        *at = emitted + landed * new_width;
    }
    *pushed = emitted + carry.len() as u64;
}
