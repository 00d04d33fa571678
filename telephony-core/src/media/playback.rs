//! What the caller has actually heard.

use std::collections::VecDeque;
use std::time::Duration;

/// Tracks audio sent against playback markers echoed, so a voice agent knows how much of its
/// reply the caller heard when they interrupted, and can cut its transcript there.
///
/// Counting bytes sent over-counts: text-to-speech runs faster than real time and the provider
/// buffers. Marks are the truth: a mark comes back when the audio sent before it has played.
/// A clear drops the buffered audio, and Twilio then returns every pending mark at once; those
/// were *not* heard, and the tracker reports them as cleared.
#[derive(Debug, Clone)]
pub struct PlaybackTracker {
    rate_hz: u32,
    sent: u64,
    heard: u64,
    outstanding: VecDeque<(String, u64)>,
    flushed: VecDeque<String>,
    last_played: Option<String>,
}

/// What became of a mark that came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkFate {
    /// The audio before it played.
    Played,
    /// It was pending when the audio was cleared: not heard.
    Cleared,
    /// Not a mark this tracker sent.
    Unknown,
}

/// Flushed marks remembered while waiting for their echo; older ones are forgotten.
const FLUSHED_LIMIT: usize = 1024;

impl PlaybackTracker {
    /// A tracker for audio at `rate_hz` samples a second.
    pub fn new(rate_hz: u32) -> PlaybackTracker {
        PlaybackTracker {
            rate_hz: rate_hz.max(1),
            sent: 0,
            heard: 0,
            outstanding: VecDeque::new(),
            flushed: VecDeque::new(),
            last_played: None,
        }
    }

    /// Counts samples at `rate_hz` from now on, for a stream whose rate changed: what was sent
    /// and heard, and where each outstanding mark stands, keep their durations (to the sample).
    pub(crate) fn set_rate(&mut self, rate_hz: u32) {
        let (old, new) = (u128::from(self.rate_hz), u128::from(rate_hz.max(1)));
        // Rounding down keeps the order of the counts: heard never passes sent.
        let scale = |n: u64| u64::try_from(u128::from(n) * new / old).unwrap_or(u64::MAX);
        self.sent = scale(self.sent);
        self.heard = scale(self.heard);
        for (_, at) in &mut self.outstanding {
            *at = scale(*at);
        }
        self.rate_hz = rate_hz.max(1);
    }

    fn duration(&self, samples: u64) -> Duration {
        Duration::from_nanos(samples * 1_000_000_000 / u64::from(self.rate_hz))
    }

    /// Audio sent and not cleared.
    pub fn sent(&self) -> Duration {
        self.duration(self.sent)
    }

    /// Audio the caller has heard, up to the last mark that came back played.
    pub fn heard(&self) -> Duration {
        self.duration(self.heard)
    }

    /// Audio sent and not yet confirmed heard.
    pub fn pending(&self) -> Duration {
        self.duration(self.sent - self.heard)
    }

    /// The last mark that came back played.
    pub fn last_played_mark(&self) -> Option<&str> {
        self.last_played.as_deref()
    }

    /// Marks sent and not yet back, oldest first.
    pub fn outstanding_marks(&self) -> impl Iterator<Item = &str> {
        self.outstanding.iter().map(|(n, _)| n.as_str())
    }

    /// Records `samples` of audio sent.
    pub fn on_audio_sent(&mut self, samples: u64) {
        self.sent += samples;
    }

    /// Records a mark sent after everything sent so far.
    pub fn on_mark_sent(&mut self, name: &str) {
        self.outstanding.push_back((name.to_owned(), self.sent));
    }

    /// Records that buffered audio was dropped, and returns the marks sent and not yet played:
    /// they will not be heard. Their echoes, where the provider sends them, come back as
    /// [`MarkFate::Cleared`].
    pub fn on_clear(&mut self) -> Vec<String> {
        let mut cleared = Vec::with_capacity(self.outstanding.len());
        for (name, _) in self.outstanding.drain(..) {
            if self.flushed.len() == FLUSHED_LIMIT {
                self.flushed.pop_front();
            }
            self.flushed.push_back(name.clone());
            cleared.push(name);
        }
        self.sent = self.heard;
        cleared
    }

    /// Records a mark that came back, and says what it means.
    pub fn on_mark_returned(&mut self, name: &str) -> MarkFate {
        if let Some(i) = self.flushed.iter().position(|n| n == name) {
            self.flushed.remove(i);
            return MarkFate::Cleared;
        }
        // Marks come back in order; one further along means the earlier ones played too.
        if let Some(i) = self.outstanding.iter().position(|(n, _)| n == name) {
            let mut position = self.heard;
            for (_, at) in self.outstanding.drain(..=i) {
                position = at;
            }
            self.heard = self.heard.max(position);
            self.last_played = Some(name.to_owned());
            return MarkFate::Played;
        }
        MarkFate::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_move_heard_forward_and_clear_discards() {
        let mut t = PlaybackTracker::new(8000);
        t.on_audio_sent(8000);
        t.on_mark_sent("one");
        t.on_audio_sent(4000);
        t.on_mark_sent("two");
        t.on_audio_sent(4000);
        t.on_mark_sent("three");
        assert_eq!(t.sent(), Duration::from_secs(2));
        assert_eq!(t.heard(), Duration::ZERO);
        assert_eq!(t.on_mark_returned("one"), MarkFate::Played);
        assert_eq!(t.heard(), Duration::from_secs(1));
        assert_eq!(t.pending(), Duration::from_secs(1));
        assert_eq!(t.on_clear(), ["two", "three"]);
        assert_eq!(
            t.sent(),
            Duration::from_secs(1),
            "cleared audio was never heard"
        );
        assert_eq!(t.on_mark_returned("two"), MarkFate::Cleared);
        assert_eq!(t.on_mark_returned("three"), MarkFate::Cleared);
        assert_eq!(t.heard(), Duration::from_secs(1));
        assert_eq!(t.last_played_mark(), Some("one"));
        assert_eq!(t.on_mark_returned("three"), MarkFate::Unknown);
    }

    #[test]
    fn a_later_mark_implies_the_earlier_ones() {
        let mut t = PlaybackTracker::new(16000);
        for name in ["a", "b", "c"] {
            t.on_audio_sent(1600);
            t.on_mark_sent(name);
        }
        assert_eq!(t.on_mark_returned("b"), MarkFate::Played);
        assert_eq!(t.heard(), Duration::from_millis(200));
        assert_eq!(t.outstanding_marks().collect::<Vec<_>>(), ["c"]);
        assert_eq!(t.on_mark_returned("a"), MarkFate::Unknown);
    }
}
