//! When a contact is called again: a rule per outcome.

use std::collections::HashMap;
use std::time::Duration;

use crate::Outcome;

/// How one outcome is retried: at most `max_attempts` attempts in all for the contact, the
/// next one `delay` after this one ended, multiplied by `backoff` for every attempt already
/// made (`delay`, then `delay × backoff`, then `delay × backoff²`…), never more than `max_delay`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Retry {
    /// The most attempts the contact gets when its last one ended this way (1: no retry).
    pub max_attempts: u32,
    /// The wait before the second attempt.
    pub delay: Duration,
    /// What each later wait is multiplied by (1: a fixed delay).
    pub backoff: f64,
    /// The longest wait.
    pub max_delay: Duration,
}

impl Retry {
    /// Up to `max_attempts` attempts, `delay` apart.
    pub fn new(max_attempts: u32, delay: Duration) -> Retry {
        Retry {
            max_attempts: max_attempts.max(1),
            delay,
            backoff: 1.0,
            max_delay: Duration::from_secs(7 * 24 * 3600),
        }
    }

    /// No retry: one attempt.
    pub fn never() -> Retry {
        Retry::new(1, Duration::ZERO)
    }

    /// Multiplies each later wait by `factor` (at least 1).
    pub fn backoff(mut self, factor: f64) -> Retry {
        self.backoff = if factor.is_finite() {
            factor.max(1.0)
        } else {
            1.0
        };
        self
    }

    /// Caps the wait.
    pub fn max_delay(mut self, max: Duration) -> Retry {
        self.max_delay = max;
        self
    }

    /// The wait after attempt `made` (1 for the first) when another is due, or `None` when
    /// the contact has had its attempts.
    pub fn after(&self, made: u32) -> Option<Duration> {
        if made >= self.max_attempts {
            return None;
        }
        let exponent = i32::try_from(made.saturating_sub(1)).unwrap_or(i32::MAX);
        let secs = self.delay.as_secs_f64() * self.backoff.powi(exponent);
        let wait = if secs.is_finite() && secs < self.max_delay.as_secs_f64() {
            Duration::from_secs_f64(secs)
        } else {
            self.max_delay
        };
        Some(wait.min(self.max_delay))
    }
}

/// The rule for each outcome. Outcomes without a rule (answered, do-not-call, unconfirmed)
/// are never retried.
///
/// The defaults: busy, 3 attempts 10 minutes apart; no answer, 3 attempts an hour apart,
/// doubling; failed, 2 attempts 15 minutes apart; machine, 2 attempts 2 hours apart.
///
/// ```
/// use std::time::Duration;
/// use telephony_campaign::{Outcome, Retry, RetryPolicy};
///
/// let policy = RetryPolicy::default()
///     .on(Outcome::Busy, Retry::new(5, Duration::from_secs(120)).backoff(2.0))
///     .on(Outcome::Machine, Retry::never());
/// assert_eq!(policy.next(Outcome::Busy, 1), Some(Duration::from_secs(120)));
/// assert_eq!(policy.next(Outcome::Busy, 2), Some(Duration::from_secs(240)));
/// assert_eq!(policy.next(Outcome::Busy, 5), None);
/// assert_eq!(policy.next(Outcome::Machine, 1), None);
/// assert_eq!(policy.next(Outcome::Answered, 1), None);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    rules: HashMap<Outcome, Retry>,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy::none()
            .on(Outcome::Busy, Retry::new(3, Duration::from_secs(600)))
            .on(
                Outcome::NoAnswer,
                Retry::new(3, Duration::from_secs(3600)).backoff(2.0),
            )
            .on(Outcome::Failed, Retry::new(2, Duration::from_secs(900)))
            .on(Outcome::Machine, Retry::new(2, Duration::from_secs(7200)))
    }
}

impl RetryPolicy {
    /// Retries nothing.
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            rules: HashMap::new(),
        }
    }

    /// Sets the rule for `outcome`.
    pub fn on(mut self, outcome: Outcome, retry: Retry) -> RetryPolicy {
        self.rules.insert(outcome, retry);
        self
    }

    /// The rule for `outcome`, if any.
    pub fn rule(&self, outcome: Outcome) -> Option<&Retry> {
        self.rules.get(&outcome)
    }

    /// The wait before the next attempt after one that ended with `outcome`, `made` attempts
    /// in all, or `None` when the contact is done.
    pub fn next(&self, outcome: Outcome, made: u32) -> Option<Duration> {
        match outcome {
            Outcome::Answered | Outcome::DoNotCall | Outcome::Unconfirmed => None,
            _ => self.rules.get(&outcome).and_then(|r| r.after(made)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let r = Retry::new(10, Duration::from_secs(10))
            .backoff(3.0)
            .max_delay(Duration::from_secs(100));
        let waits: Vec<_> = (1..10).map(|n| r.after(n).unwrap().as_secs()).collect();
        assert_eq!(waits, [10, 30, 90, 100, 100, 100, 100, 100, 100]);
        assert_eq!(r.after(10), None);
        // Absurd factors stay finite.
        let wild = Retry::new(u32::MAX, Duration::from_secs(1)).backoff(f64::MAX);
        assert_eq!(wild.after(1000), Some(wild.max_delay));
        assert_eq!(Retry::new(0, Duration::ZERO).max_attempts, 1);
    }
}
