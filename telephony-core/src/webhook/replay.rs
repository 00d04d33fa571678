//! Replay protection: what a verified request asks to remember, and the stores that do.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use super::WebhookError;

/// The longest replay key kept as it is; a longer one is kept as its SHA-256.
pub const MAX_REPLAY_KEY: usize = 128;

/// `key`, or when it is longer than [`MAX_REPLAY_KEY`] bytes, what comes before its first `:`
/// (the provider) and the hex SHA-256 of the whole: a fixed size whatever the request sent.
pub fn bounded_replay_key(key: &str) -> String {
    if key.len() <= MAX_REPLAY_KEY {
        return key.to_owned();
    }
    let prefix = key
        .split_once(':')
        .map(|(p, _)| p)
        .filter(|p| p.len() <= 32)
        .unwrap_or("key");
    let digest = Sha256::digest(key.as_bytes());
    let mut out = String::with_capacity(prefix.len() + 8 + 64);
    out.push_str(prefix);
    out.push_str(":sha256:");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// A request that authenticated, with what a replay guard should remember.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Verified {
    /// A key unique to this delivery (Plivo nonce, Vonage `jti`, Twilio idempotency token).
    /// Seeing it twice means a replay or a provider retry.
    pub replay_key: Option<String>,
    /// How long the key needs remembering: after that, the signature's own time window
    /// rejects the request anyway.
    pub remember_for: Option<Duration>,
}

impl Verified {
    /// A verified request with nothing to remember.
    pub fn new() -> Verified {
        Verified::default()
    }

    /// Sets the replay key.
    pub fn with_replay_key(mut self, key: Option<String>, remember_for: Duration) -> Verified {
        self.remember_for = key.as_ref().map(|_| remember_for);
        self.replay_key = key;
        self
    }
}

/// Remembers replay keys (Plivo nonces, Vonage `jti`s, Twilio idempotency tokens) so a request
/// captured and sent again is refused. The in-memory [`MemoryReplayGuard`] serves one process;
/// a fleet plugs in a shared store.
#[async_trait]
pub trait ReplayGuard: Send + Sync {
    /// Records `key` until `expires_at`. Returns `false` when it was already recorded.
    async fn first_use(
        &self,
        key: &str,
        expires_at: SystemTime,
    ) -> Result<bool, Box<dyn std::error::Error + Send + Sync>>;
}

/// Checks a verified request against a replay guard.
pub async fn check_replay(
    guard: &dyn ReplayGuard,
    verified: &Verified,
    now: SystemTime,
) -> Result<(), WebhookError> {
    let Some(key) = &verified.replay_key else {
        return Ok(());
    };
    let key = bounded_replay_key(key);
    let expires = now + verified.remember_for.unwrap_or(Duration::from_secs(3600));
    match guard.first_use(&key, expires).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(WebhookError::Replayed(key)),
        Err(e) => Err(WebhookError::ReplayStore(e.to_string())),
    }
}

/// A bounded in-memory [`ReplayGuard`]: expired keys are dropped as new ones arrive, and when
/// it is full the key closest to expiry makes room (a replay of that one could then pass, so
/// size it above the number of keys a signature window can produce). Keys are held at most
/// [`MAX_REPLAY_KEY`] bytes each (longer ones as their digest), so its memory is bounded by
/// its capacity: about 300 bytes a key.
#[derive(Debug)]
pub struct MemoryReplayGuard {
    capacity: usize,
    state: Mutex<ReplayState>,
}

#[derive(Debug, Default)]
struct ReplayState {
    keys: HashMap<String, SystemTime>,
    by_expiry: BinaryHeap<Reverse<(SystemTime, String)>>,
}

impl MemoryReplayGuard {
    /// A guard holding at most `capacity` keys.
    pub fn new(capacity: usize) -> MemoryReplayGuard {
        MemoryReplayGuard {
            capacity: capacity.max(1),
            state: Mutex::new(ReplayState::default()),
        }
    }

    /// [`ReplayGuard::first_use`] with an explicit clock.
    pub fn first_use_at(&self, key: &str, expires_at: SystemTime, now: SystemTime) -> bool {
        let key = bounded_replay_key(key);
        let key = key.as_str();
        let mut state = match self.state.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        while let Some(Reverse((expiry, _))) = state.by_expiry.peek() {
            if *expiry > now {
                break;
            }
            if let Some(Reverse((expiry, k))) = state.by_expiry.pop()
                && state.keys.get(&k) == Some(&expiry)
            {
                state.keys.remove(&k);
            }
        }
        if state.keys.get(key).is_some_and(|expiry| *expiry > now) {
            return false;
        }
        while state.keys.len() >= self.capacity {
            let Some(Reverse((expiry, k))) = state.by_expiry.pop() else {
                break;
            };
            if state.keys.get(&k) == Some(&expiry) {
                state.keys.remove(&k);
            }
        }
        state.keys.insert(key.to_owned(), expires_at);
        state.by_expiry.push(Reverse((expires_at, key.to_owned())));
        true
    }

    /// Keys held now.
    pub fn len(&self) -> usize {
        self.state.lock().map(|s| s.keys.len()).unwrap_or(0)
    }

    /// Whether no keys are held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for MemoryReplayGuard {
    /// Room for 100 000 keys.
    fn default() -> Self {
        MemoryReplayGuard::new(100_000)
    }
}

#[async_trait]
impl ReplayGuard for MemoryReplayGuard {
    async fn first_use(
        &self,
        key: &str,
        expires_at: SystemTime,
    ) -> Result<bool, Box<dyn std::error::Error + Send + Sync>> {
        Ok(self.first_use_at(key, expires_at, SystemTime::now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_guard_remembers_until_expiry_and_stays_bounded() {
        let g = MemoryReplayGuard::new(3);
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let later = |s| t0 + Duration::from_secs(s);
        assert!(g.first_use_at("a", later(10), t0));
        assert!(!g.first_use_at("a", later(10), later(5)));
        assert!(
            g.first_use_at("a", later(30), later(11)),
            "expired keys may be used again"
        );
        assert!(g.first_use_at("b", later(40), later(12)));
        assert!(g.first_use_at("c", later(50), later(12)));
        assert!(g.first_use_at("d", later(60), later(12)));
        assert_eq!(g.len(), 3);
        assert!(!g.first_use_at("d", later(60), later(13)));
        assert!(!g.first_use_at("c", later(60), later(13)));
    }

    /// A replay key the request chose the length of never costs more than a digest: 1 500
    /// keys of 4 KB each are held in a few hundred kilobytes, and each is still told apart.
    #[test]
    fn long_keys_are_held_as_digests() {
        let g = MemoryReplayGuard::new(2000);
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut key = "twilio:".to_owned() + &"x".repeat(4 * 1024);
        for i in 0..1500 {
            key.replace_range(7..16, &format!("{i:09}"));
            assert!(g.first_use_at(&key, t0 + Duration::from_secs(60), t0));
            assert!(!g.first_use_at(&key, t0 + Duration::from_secs(60), t0));
        }
        assert_eq!(g.len(), 1500);
        let held: usize = g.state.lock().unwrap().keys.keys().map(String::len).sum();
        assert!(held <= 1500 * MAX_REPLAY_KEY, "{held} bytes of keys");
        let short = bounded_replay_key("plivo:123");
        assert_eq!(short, "plivo:123");
        let long = bounded_replay_key(&key);
        assert!(
            long.starts_with("twilio:sha256:") && long.len() == 7 + 7 + 64,
            "{long}"
        );
    }
}
