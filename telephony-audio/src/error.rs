//! Error types. Construction problems, bad input and short buffers are kept apart, and each
//! carries the numbers that explain it.

use thiserror::Error;

/// A format, encoding or rate that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The text names no known encoding.
    #[error("unknown encoding {0:?}: expected one of mulaw, alaw, s16le, s16be, f32le")]
    UnknownEncoding(String),
    /// The text is not a number of hertz.
    #[error("bad sample rate {0:?}: expected a number of hertz such as 8000")]
    BadRate(String),
    /// The rate is a number, but not one the media path supports.
    #[error("unsupported sample rate {0} Hz: expected one of 8000, 16000, 24000, 32000, 48000")]
    UnsupportedRate(u64),
    /// `ENCODING@RATE` without the `@RATE`.
    #[error("format {0:?} has no rate: write ENCODING@RATE, for example mulaw@8000")]
    MissingRate(String),
}

/// Audio that cannot be processed as given. Nothing is consumed when one of these is returned.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AudioError {
    /// The byte count is not a whole number of samples (an odd L16 frame, for instance).
    #[error("{len} bytes is not a whole number of {encoding} samples ({sample_bytes} bytes each)")]
    PartialSample {
        /// The encoding expected.
        encoding: crate::Encoding,
        /// Bytes given.
        len: usize,
        /// Bytes per sample of the encoding.
        sample_bytes: usize,
    },
    /// The output buffer cannot hold what the call produces.
    #[error("output buffer holds {capacity} samples but {needed} are produced")]
    OutputTooSmall {
        /// Samples the call produces.
        needed: usize,
        /// Samples the buffer can take.
        capacity: usize,
    },
}
