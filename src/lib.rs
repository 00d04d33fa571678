//! telephony-rs: telephony provider adapters for voice agents and call automation.
//!
//! This is the facade crate. Today it carries the media path's audio core,
//! [`telephony-audio`](audio), re-exported as [`audio`]; the provider-neutral core and the
//! Twilio, Plivo and Vonage adapters join it, each behind a feature, as they land.
//!
//! ```
//! use telephony::audio::{AudioFormat, Profile, SampleRate, Transcoder};
//!
//! let mut t = Transcoder::new(
//!     AudioFormat::MULAW_8K,
//!     "s16le@16000".parse()?,
//!     Profile::HighQuality,
//! );
//! let mut pcm = Vec::new();
//! t.transcode(&[0xFF; 160], &mut pcm)?;
//! assert_eq!(pcm.len(), 640);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

pub use telephony_audio as audio;
