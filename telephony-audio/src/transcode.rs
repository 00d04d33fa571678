//! Wire format to app PCM and back: decode, resample, encode.

use std::time::Duration;

use crate::{AudioError, AudioFormat, Backend, Encoding, Profile, Resampler, SampleRate};

/// From a carrier's wire format to 16-bit PCM at the application's rate: the inbound half of a
/// media session.
///
/// ```
/// use telephony_audio::{AudioFormat, Decoder, Profile, SampleRate};
///
/// let mut d = Decoder::new(AudioFormat::MULAW_8K, SampleRate::Hz24000, Profile::LowLatency);
/// let mut pcm = Vec::new();
/// assert_eq!(d.decode(&[0xFF; 160], &mut pcm)?, 480);
/// # Ok::<(), telephony_audio::AudioError>(())
/// ```
#[derive(Debug)]
pub struct Decoder {
    wire: AudioFormat,
    resampler: Resampler,
    decoded: Vec<i16>,
}

impl Decoder {
    /// A decoder from `wire` to PCM at `app_rate`.
    pub fn new(wire: AudioFormat, app_rate: SampleRate, profile: Profile) -> Decoder {
        Decoder::with_backend(wire, app_rate, profile, Backend::detect())
    }

    /// [`Decoder::new`], resampling on a chosen instruction set (see [`Backend`]).
    pub fn with_backend(
        wire: AudioFormat,
        app_rate: SampleRate,
        profile: Profile,
        backend: Backend,
    ) -> Decoder {
        Decoder {
            wire,
            resampler: Resampler::with_backend(wire.rate, app_rate, profile, backend),
            decoded: Vec::new(),
        }
    }

    /// The wire format.
    pub fn wire_format(&self) -> AudioFormat {
        self.wire
    }

    /// The application's rate.
    pub fn app_rate(&self) -> SampleRate {
        self.resampler.output_rate()
    }

    /// The delay the resampler adds.
    pub fn delay(&self) -> Duration {
        self.resampler.delay()
    }

    /// Decodes `bytes`, appending PCM to `pcm`; returns the samples appended.
    ///
    /// # Errors
    ///
    /// [`AudioError::PartialSample`] if `bytes` is not a whole number of samples; nothing is
    /// consumed and the stream state is unchanged.
    pub fn decode(&mut self, bytes: &[u8], pcm: &mut Vec<i16>) -> Result<usize, AudioError> {
        if self.wire.rate == self.app_rate() {
            return self.wire.encoding.decode(bytes, pcm);
        }
        self.decoded.clear();
        self.wire.encoding.decode(bytes, &mut self.decoded)?;
        Ok(self.resampler.process_into(&self.decoded, pcm))
    }

    /// Ends the stream, appending what the resampler still holds; returns the samples appended.
    pub fn flush(&mut self, pcm: &mut Vec<i16>) -> usize {
        self.resampler.flush_into(pcm)
    }

    /// Forgets the stream.
    pub fn reset(&mut self) {
        self.resampler.reset();
    }
}

/// From 16-bit PCM at the application's rate to a carrier's wire format: the outbound half of
/// a media session. Pair it with a [`Framer`](crate::Framer) for exact frames.
#[derive(Debug)]
pub struct Encoder {
    wire: AudioFormat,
    resampler: Resampler,
    resampled: Vec<i16>,
}

impl Encoder {
    /// An encoder from PCM at `app_rate` to `wire`.
    pub fn new(app_rate: SampleRate, wire: AudioFormat, profile: Profile) -> Encoder {
        Encoder::with_backend(app_rate, wire, profile, Backend::detect())
    }

    /// [`Encoder::new`], resampling on a chosen instruction set (see [`Backend`]).
    pub fn with_backend(
        app_rate: SampleRate,
        wire: AudioFormat,
        profile: Profile,
        backend: Backend,
    ) -> Encoder {
        Encoder {
            wire,
            resampler: Resampler::with_backend(app_rate, wire.rate, profile, backend),
            resampled: Vec::new(),
        }
    }

    /// The wire format.
    pub fn wire_format(&self) -> AudioFormat {
        self.wire
    }

    /// The application's rate.
    pub fn app_rate(&self) -> SampleRate {
        self.resampler.input_rate()
    }

    /// The delay the resampler adds.
    pub fn delay(&self) -> Duration {
        self.resampler.delay()
    }

    /// Encodes `pcm` (any length), appending wire bytes to `wire`; returns the bytes appended.
    pub fn encode(&mut self, pcm: &[i16], wire: &mut Vec<u8>) -> usize {
        if self.wire.rate == self.app_rate() {
            return self.wire.encoding.encode(pcm, wire);
        }
        self.resampled.clear();
        self.resampler.process_into(pcm, &mut self.resampled);
        self.wire.encoding.encode(&self.resampled, wire)
    }

    /// Ends the stream, appending what the resampler still holds; returns the bytes appended.
    pub fn flush(&mut self, wire: &mut Vec<u8>) -> usize {
        self.resampled.clear();
        self.resampler.flush_into(&mut self.resampled);
        self.wire.encoding.encode(&self.resampled, wire)
    }

    /// Forgets the stream, for example on barge-in, so no audio of the old reply leaks into
    /// the next.
    pub fn reset(&mut self) {
        self.resampler.reset();
    }
}

/// From one wire format to another, bytes to bytes: what `telephony audio transcode` runs.
///
/// ```
/// use telephony_audio::{AudioFormat, Profile, Transcoder};
///
/// let from: AudioFormat = "mulaw@8000".parse().unwrap();
/// let to: AudioFormat = "s16le@16000".parse().unwrap();
/// let mut t = Transcoder::new(from, to, Profile::HighQuality);
/// let mut out = Vec::new();
/// assert_eq!(t.transcode(&[0xFF; 160], &mut out)?, 640);
/// # Ok::<(), telephony_audio::AudioError>(())
/// ```
#[derive(Debug)]
pub struct Transcoder {
    decoder: Decoder,
    to: Encoding,
    pcm: Vec<i16>,
}

impl Transcoder {
    /// A converter from `from` to `to`.
    pub fn new(from: AudioFormat, to: AudioFormat, profile: Profile) -> Transcoder {
        Transcoder::with_backend(from, to, profile, Backend::detect())
    }

    /// [`Transcoder::new`], resampling on a chosen instruction set (see [`Backend`]).
    pub fn with_backend(
        from: AudioFormat,
        to: AudioFormat,
        profile: Profile,
        backend: Backend,
    ) -> Transcoder {
        Transcoder {
            decoder: Decoder::with_backend(from, to.rate, profile, backend),
            to: to.encoding,
            pcm: Vec::new(),
        }
    }

    /// The input format.
    pub fn input_format(&self) -> AudioFormat {
        self.decoder.wire_format()
    }

    /// The output format.
    pub fn output_format(&self) -> AudioFormat {
        AudioFormat::new(self.to, self.decoder.app_rate())
    }

    /// The delay the conversion adds.
    pub fn delay(&self) -> Duration {
        self.decoder.delay()
    }

    /// Converts `input`, appending to `output`; returns the bytes appended.
    ///
    /// # Errors
    ///
    /// [`AudioError::PartialSample`] if `input` is not a whole number of samples; nothing is
    /// consumed.
    pub fn transcode(&mut self, input: &[u8], output: &mut Vec<u8>) -> Result<usize, AudioError> {
        self.pcm.clear();
        self.decoder.decode(input, &mut self.pcm)?;
        Ok(self.to.encode(&self.pcm, output))
    }

    /// Ends the stream, appending the resampler's tail; returns the bytes appended.
    pub fn flush(&mut self, output: &mut Vec<u8>) -> usize {
        self.pcm.clear();
        self.decoder.flush(&mut self.pcm);
        self.to.encode(&self.pcm, output)
    }

    /// Forgets the stream.
    pub fn reset(&mut self) {
        self.decoder.reset();
    }
}
