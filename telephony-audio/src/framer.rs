//! Exact provider frames out of audio of any length.

use std::time::Duration;

use crate::AudioFormat;

/// Cuts encoded audio into frames of exactly one size.
///
/// Carriers are strict about frames: Vonage drops the call on a binary message that is not
/// exactly 20 ms (640 bytes of L16 at 16 kHz), and Twilio plays audio smoothly only in
/// 20 ms (160-byte) μ-law chunks. A `Framer` keeps the remainder of each push for the next
/// one, pads the last frame with the encoding's silence on [`flush`](Framer::flush), and drops
/// what is pending on [`clear`](Framer::clear) so a barge-in does not replay stale audio.
///
/// ```
/// use std::time::Duration;
/// use telephony_audio::{AudioFormat, Framer};
///
/// let mut framer = Framer::new(AudioFormat::L16LE_16K, Duration::from_millis(20));
/// let mut sent = Vec::new();
/// framer.push(&[1u8; 1000], |frame| sent.push(frame.len()));
/// assert_eq!(sent, [640]);
/// assert_eq!(framer.pending(), 360);
/// framer.flush(|frame| sent.push(frame.len()));
/// assert_eq!(sent, [640, 640]); // the 360 bytes, padded with silence
/// ```
#[derive(Debug, Clone)]
pub struct Framer {
    frame_bytes: usize,
    silence: u8,
    pending: Vec<u8>,
}

impl Framer {
    /// Frames of `duration` in `format` (20 ms of μ-law 8 kHz: 160 bytes). A duration shorter
    /// than one sample gives one-sample frames.
    pub fn new(format: AudioFormat, duration: Duration) -> Framer {
        let samples = format.rate.samples_in(duration).max(1);
        Framer::with_frame_bytes(
            samples * format.encoding.bytes_per_sample(),
            format.encoding.silence_byte(),
        )
    }

    /// Frames of `frame_bytes` bytes (at least 1), padded with `silence` bytes.
    pub fn with_frame_bytes(frame_bytes: usize, silence: u8) -> Framer {
        let frame_bytes = frame_bytes.max(1);
        Framer {
            frame_bytes,
            silence,
            pending: Vec::with_capacity(frame_bytes),
        }
    }

    /// The frame size in bytes.
    pub fn frame_bytes(&self) -> usize {
        self.frame_bytes
    }

    /// Bytes waiting for a frame to fill.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Adds `bytes`, calling `emit` with each frame completed, in order. Returns the number of
    /// frames emitted. Frames that lie wholly inside `bytes` are passed without copying.
    pub fn push(&mut self, mut bytes: &[u8], mut emit: impl FnMut(&[u8])) -> usize {
        let mut frames = 0;
        if !self.pending.is_empty() {
            let take = (self.frame_bytes - self.pending.len()).min(bytes.len());
            self.pending.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.pending.len() < self.frame_bytes {
                return 0;
            }
            emit(&self.pending);
            self.pending.clear();
            frames += 1;
        }
        let mut whole = bytes.chunks_exact(self.frame_bytes);
        for frame in &mut whole {
            emit(frame);
            frames += 1;
        }
        self.pending.extend_from_slice(whole.remainder());
        frames
    }

    /// [`push`](Self::push), appending the frames back to back to `output`.
    pub fn push_into(&mut self, bytes: &[u8], output: &mut Vec<u8>) -> usize {
        self.push(bytes, |frame| output.extend_from_slice(frame))
    }

    /// Emits the pending bytes as a last frame padded with silence. Returns whether a frame was
    /// emitted (nothing is emitted when nothing is pending).
    pub fn flush(&mut self, mut emit: impl FnMut(&[u8])) -> bool {
        if self.pending.is_empty() {
            return false;
        }
        self.pending.resize(self.frame_bytes, self.silence);
        emit(&self.pending);
        self.pending.clear();
        true
    }

    /// Emits the pending bytes as a short last frame, without padding, for protocols that take
    /// any size (Twilio). Returns whether a frame was emitted.
    pub fn flush_unpadded(&mut self, mut emit: impl FnMut(&[u8])) -> bool {
        if self.pending.is_empty() {
            return false;
        }
        emit(&self.pending);
        self.pending.clear();
        true
    }

    /// Drops the pending bytes, returning how many there were.
    pub fn clear(&mut self) -> usize {
        let dropped = self.pending.len();
        self.pending.clear();
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Encoding, SampleRate};

    #[test]
    fn frames_are_exact_whatever_the_pushes() {
        let mut f = Framer::new(AudioFormat::MULAW_8K, Duration::from_millis(20));
        let data: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        let mut out = Vec::new();
        let mut sizes = Vec::new();
        for piece in data.chunks(37) {
            f.push(piece, |frame| {
                sizes.push(frame.len());
                out.extend_from_slice(frame);
            });
        }
        assert_eq!(sizes, [160; 6]);
        assert_eq!(f.pending(), 40);
        assert!(f.flush(|frame| out.extend_from_slice(frame)));
        assert_eq!(out.len(), 1120);
        assert_eq!(&out[..1000], &data[..]);
        assert!(out[1000..].iter().all(|&b| b == 0xFF));
        assert!(!f.flush(|_| panic!("nothing pending")));
        f.push(&[9; 7], |_| {});
        let mut short = Vec::new();
        assert!(f.flush_unpadded(|frame| short.extend_from_slice(frame)));
        assert_eq!(short, [9; 7]);
        assert_eq!(f.pending(), 0);
    }

    #[test]
    fn clear_drops_pending_audio() {
        let mut f = Framer::new(
            AudioFormat::new(Encoding::Alaw, SampleRate::Hz8000),
            Duration::from_millis(20),
        );
        assert_eq!(f.push(&[1; 100], |_| {}), 0);
        assert_eq!(f.clear(), 100);
        let mut out = Vec::new();
        assert_eq!(f.push_into(&[2; 160], &mut out), 1);
        assert_eq!(out, [2; 160]);
        f.push(&[3; 10], |_| {});
        f.flush(|frame| out.extend_from_slice(frame));
        assert_eq!(&out[160..170], &[3; 10]);
        assert!(out[170..].iter().all(|&b| b == 0xD5));
    }

    #[test]
    fn vonage_sizes() {
        for (rate, bytes) in [
            (SampleRate::Hz8000, 320),
            (SampleRate::Hz16000, 640),
            (SampleRate::Hz24000, 960),
        ] {
            let f = Framer::new(
                AudioFormat::new(Encoding::L16Le, rate),
                Duration::from_millis(20),
            );
            assert_eq!(f.frame_bytes(), bytes);
        }
        assert_eq!(
            Framer::new(AudioFormat::MULAW_8K, Duration::ZERO).frame_bytes(),
            1
        );
    }
}
