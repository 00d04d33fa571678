//! Telephony audio without I/O: the codecs, the resampler and the framing a voice call's media
//! path needs, for any WebSocket or RTP stack.
//!
//! - [G.711](ulaw_encode_sample) μ-law and A-law, bit-exact to ITU-T G.191 for every input.
//! - [L16](Encoding::L16Le) in both byte orders, and 32-bit float.
//! - [`Resampler`]: streaming, causal, chunking-invariant conversion among 8, 16, 24, 32 and
//!   48 kHz, transparent at 16 bits, with a [low-latency profile](Profile::LowLatency).
//! - [`Framer`]: exact provider frames (160 bytes of μ-law for Twilio, 640 bytes of L16 for
//!   Vonage), the last one padded with silence, everything pending dropped on barge-in.
//! - [`Decoder`], [`Encoder`] and [`Transcoder`]: wire format to app PCM and back, the object a
//!   media session holds per direction.
//!
//! Nothing here is async or allocates per chunk on the hot path.
//!
//! # Quick start
//!
//! A Twilio call delivers 20 ms of 8 kHz μ-law per message; a speech model wants 16 kHz PCM:
//!
//! ```
//! use telephony_audio::{AudioFormat, Decoder, Encoder, Framer, Profile, SampleRate};
//!
//! let wire = AudioFormat::MULAW_8K;
//! let mut from_caller = Decoder::new(wire, SampleRate::Hz16000, Profile::HighQuality);
//! let mut to_caller = Encoder::new(SampleRate::Hz16000, wire, Profile::HighQuality);
//! let mut framer = Framer::new(wire, std::time::Duration::from_millis(20));
//!
//! let payload = [0xFFu8; 160]; // one media message, base64-decoded
//! let mut pcm = Vec::new();
//! from_caller.decode(&payload, &mut pcm)?;
//! assert_eq!(pcm.len(), 320); // 20 ms at 16 kHz, no buffering
//!
//! let reply = vec![0i16; 500]; // TTS output of any length
//! let mut wire_bytes = Vec::new();
//! to_caller.encode(&reply, &mut wire_bytes);
//! let mut frames = 0;
//! framer.push(&wire_bytes, |frame| {
//!     assert_eq!(frame.len(), 160);
//!     frames += 1;
//! });
//! assert_eq!(frames, 1); // 250 bytes: one frame out, 90 bytes wait for more
//! # Ok::<(), telephony_audio::AudioError>(())
//! ```

#![forbid(unsafe_op_in_unsafe_fn)]

mod backend;
#[cfg(feature = "counting-alloc")]
pub mod counting_alloc;
mod cpu;
pub mod dtmf;
mod error;
mod format;
mod framer;
mod g711;
mod pcm;
mod resample;
mod transcode;

pub use backend::{Backend, BackendError};
pub use cpu::{Avx2, Avx512};
pub use error::{AudioError, FormatError};
pub use format::{AudioFormat, Encoding, SampleRate};
pub use framer::Framer;
pub use g711::{
    alaw_decode_sample, alaw_encode_sample, decode_alaw, decode_ulaw, encode_alaw, encode_ulaw,
    ulaw_decode_sample, ulaw_encode_sample,
};
pub use pcm::{decode_f32le, decode_l16be, decode_l16le, encode_f32le, encode_l16be, encode_l16le};
pub use resample::{Profile, Resampler, UnknownProfile};
pub use transcode::{Decoder, Encoder, Transcoder};
