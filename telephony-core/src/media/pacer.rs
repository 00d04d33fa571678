//! When to send the next frame of audio to a provider that buffers playback.

use std::time::{Duration, Instant};

/// Paces outbound audio against a provider's playback buffer, sans-IO: ask
/// [`next_send`](Self::next_send) when the next frame may go, send it, then call
/// [`sent`](Self::sent).
///
/// Sending exactly one frame per frame-time on a timer underruns whenever the event loop
/// stalls ("choppy, robotic" playback), and sending a whole reply at once overruns the
/// provider's buffer. The pacer does neither:
///
/// 1. the first `lead` frames of a run go at once, so the provider holds a cushion that rides
///    out stalls;
/// 2. after that, one frame every `interval` (a little under the frame time: Vonage advises
///    18 ms for 20 ms frames, so network jitter never leaves a gap), which grows the cushion
///    slowly;
/// 3. never more than `capacity` frames estimated in the provider's buffer: at the cap, one
///    frame per frame time.
///
/// The buffer estimate assumes the provider plays one frame per frame time from the first
/// frame of a run. When everything sent has played, the run ends and the next frame starts a
/// new one; [`clear`](Self::clear) (barge-in) empties the estimate at once.
///
/// ```
/// use std::time::{Duration, Instant};
/// use telephony_core::media::Pacer;
///
/// let mut pacer = Pacer::new(Duration::from_millis(20), 3, Duration::from_millis(18), 100);
/// let t0 = Instant::now();
/// for _ in 0..3 {
///     assert_eq!(pacer.next_send(t0), t0); // the lead goes at once
///     pacer.sent(t0);
/// }
/// assert_eq!(pacer.next_send(t0), t0 + Duration::from_millis(18));
/// assert_eq!(pacer.buffered(t0), Duration::from_millis(60));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pacer {
    frame: Duration,
    lead: u32,
    interval: Duration,
    capacity: u32,
    /// When the current run's first frame was sent.
    epoch: Option<Instant>,
    /// Frames sent in the current run.
    sent: u32,
}

impl Pacer {
    /// A pacer for frames of `frame` each: `lead` frames at once, then one every `interval`,
    /// never more than `capacity` frames buffered at the provider (at least `lead`, at least
    /// one).
    pub fn new(frame: Duration, lead: u32, interval: Duration, capacity: u32) -> Pacer {
        Pacer {
            frame: frame.max(Duration::from_micros(1)),
            lead,
            interval,
            capacity: capacity.max(lead).max(1),
            epoch: None,
            sent: 0,
        }
    }

    /// The audio of one frame.
    pub fn frame(&self) -> Duration {
        self.frame
    }

    /// Ends the run if everything sent has played by `now`.
    fn settle(&mut self, now: Instant) {
        if let Some(epoch) = self.epoch
            && now >= epoch + self.frame.saturating_mul(self.sent)
        {
            self.epoch = None;
            self.sent = 0;
        }
    }

    /// When the next frame may be sent: `now` or later.
    pub fn next_send(&mut self, now: Instant) -> Instant {
        self.settle(now);
        let Some(epoch) = self.epoch else {
            return now;
        };
        let k = self.sent;
        let mut at = now;
        if k >= self.lead {
            at = at.max(epoch + self.interval.saturating_mul(k - self.lead + 1));
        }
        if k >= self.capacity {
            at = at.max(epoch + self.frame.saturating_mul(k - self.capacity + 1));
        }
        at
    }

    /// How long to wait from `now` before sending the next frame.
    pub fn delay(&mut self, now: Instant) -> Duration {
        self.next_send(now).saturating_duration_since(now)
    }

    /// Records one frame sent at `now`.
    pub fn sent(&mut self, now: Instant) {
        self.settle(now);
        if self.epoch.is_none() {
            self.epoch = Some(now);
        }
        self.sent = self.sent.saturating_add(1);
    }

    /// Barge-in: the provider dropped what it buffered, so the next frame starts a new run.
    pub fn clear(&mut self) {
        self.epoch = None;
        self.sent = 0;
    }

    /// The audio estimated to be waiting in the provider's buffer at `now`.
    pub fn buffered(&self, now: Instant) -> Duration {
        match self.epoch {
            Some(epoch) => self
                .frame
                .saturating_mul(self.sent)
                .saturating_sub(now.saturating_duration_since(epoch)),
            None => Duration::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// Sends `n` frames as the pacer allows; returns when each went, relative to `t0`.
    fn run(p: &mut Pacer, t0: Instant, n: usize) -> Vec<Duration> {
        let mut now = t0;
        (0..n)
            .map(|_| {
                now = p.next_send(now);
                p.sent(now);
                now - t0
            })
            .collect()
    }

    #[test]
    fn lead_then_steady_interval_then_real_time_at_the_cap() {
        let mut p = Pacer::new(20 * MS, 10, 18 * MS, 30);
        let t0 = Instant::now();
        let times = run(&mut p, t0, 400);
        assert!(times[..10].iter().all(|t| t.is_zero()));
        for (k, t) in times.iter().enumerate().skip(10) {
            // Never more than the capacity buffered when a frame leaves.
            let played = (t.as_micros() / 20_000) as usize;
            assert!(k - played.min(k) < 30, "frame {k} at {t:?}");
        }
        // Past the lead and before the cap binds: 18 ms apart.
        assert_eq!(times[11] - times[10], 18 * MS);
        assert_eq!(times[50] - times[49], 18 * MS);
        // Long after: the cap binds, one frame per 20 ms.
        assert_eq!(times[399] - times[398], 20 * MS);
        // The cushion grew from the lead to the cap and stays there.
        let end = t0 + times[399];
        assert!(p.buffered(end) >= 29 * 20 * MS, "{:?}", p.buffered(end));
    }

    #[test]
    fn a_run_ends_when_everything_played_and_clear_starts_over() {
        let mut p = Pacer::new(20 * MS, 2, 18 * MS, 100);
        let t0 = Instant::now();
        run(&mut p, t0, 5);
        assert!(p.buffered(t0) > Duration::ZERO);
        // After all five frames played, the next goes at once and a new run begins.
        let later = t0 + 200 * MS;
        assert_eq!(p.buffered(later), Duration::ZERO);
        assert_eq!(p.next_send(later), later);
        p.sent(later);
        assert_eq!(p.next_send(later), later);
        p.sent(later);
        assert_eq!(p.next_send(later), later + 18 * MS);
        p.clear();
        assert_eq!(p.next_send(later), later);
        assert_eq!(p.delay(later), Duration::ZERO);
    }
}
