//! What the machine itself does to latency: a thread that never sleeps, on one CPU, reading
//! the clock, sees every moment its CPU was taken from it (a virtual machine's CPU is
//! descheduled by its host; a busy host preempts). A frame that arrives during such a stall
//! waits for the rest of it, however little work the server does; that is this machine's
//! floor under any turnaround measured on it.

use std::time::{Duration, Instant};

use super::proc;

/// Gaps between two readings of the clock shorter than this are the loop itself.
const GAP: Duration = Duration::from_micros(50);

/// The stalls one CPU showed.
#[derive(Debug, Clone)]
pub(crate) struct Floor {
    /// The CPU, where pinned.
    pub(crate) cpu: Option<usize>,
    /// The share of the time the thread was stalled.
    pub(crate) stalled: f64,
    /// The longest stall.
    pub(crate) longest: Duration,
    /// The p99 of how long a moment picked at random waits for the CPU.
    pub(crate) p99: Duration,
}

/// Spins on `cpu` for `length` and reads its stalls.
pub(crate) fn measure(cpu: Option<usize>, length: Duration) -> Floor {
    let probe = std::thread::spawn(move || {
        if let Some(c) = cpu {
            let _ = proc::pin(&[c]);
        }
        let mut gaps = Vec::new();
        let start = Instant::now();
        let mut last = start;
        loop {
            let now = Instant::now();
            let gap = now - last;
            if gap > GAP {
                gaps.push(gap);
            }
            last = now;
            if now - start >= length {
                return (gaps, now - start);
            }
        }
    });
    let (gaps, total) = probe.join().unwrap_or_default();
    let total = total.as_secs_f64().max(1e-9);
    let stalled: f64 = gaps.iter().map(Duration::as_secs_f64).sum::<f64>() / total;
    // A moment picked at random falls in a stall of length g with probability g / total,
    // and then waits for what is left of it: P(wait > d) = Σ (g − d)⁺ / total. The p99 is
    // the d where that is 1 %.
    let exceeds = |d: f64| -> f64 {
        gaps.iter()
            .map(|g| (g.as_secs_f64() - d).max(0.0))
            .sum::<f64>()
            / total
    };
    let longest = gaps.iter().copied().max().unwrap_or_default();
    let (mut lo, mut hi) = (0.0, longest.as_secs_f64());
    if exceeds(0.0) <= 0.01 {
        hi = 0.0;
    }
    for _ in 0..40 {
        let mid = (lo + hi) / 2.0;
        if exceeds(mid) > 0.01 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Floor {
        cpu,
        stalled,
        longest,
        p99: Duration::from_secs_f64(hi),
    }
}
