//! [`RedisStore`]: the shared store, for dialers on several machines, on one Redis server.
//!
//! Every change that touches more than one key is one Lua script, run atomically by the
//! server: a claim, an attempt, a result, a deferral, a retirement, a batch of contacts and a
//! pacing slot never interleave with another dialer's, and no client reads a value to write
//! it back. The semantics are [`SqliteStore`](crate::SqliteStore)'s, rule for rule. The keys
//! and the scripts are in [`scripts`]; this module connects and answers the store's calls
//! with them.
//!
//! # Deployment
//!
//! One Redis server (a primary; replicas and Sentinel failover are its business). Redis
//! Cluster is not supported: a claim reads owner leases, which live outside the campaign's
//! slot. Redis 6.2 or later (`SET … PXAT`). The server must not evict keys
//! (`maxmemory-policy noeviction`, Redis's default): an evicted lease or record would lose
//! claims. Durability is the server's: without AOF (`appendonly yes`), a server restart loses
//! the campaign.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use ::redis::aio::MultiplexedConnection;
use ::redis::{AsyncConnectionConfig, Client, FromRedisValue, RedisError, Script};
use async_trait::async_trait;
use telephony_core::E164;
use telephony_core::ReplayGuard;

use super::{
    Attempt, AttemptResult, CampaignState, CampaignStore, Claimed, ContactResult, ContactStatus,
    Next, Progress, StoreError, millis, redact_url,
};
use crate::{Contact, Outcome};
use scripts::{
    ADD, CLAIM, DEFER, FINISH, MAX_EXACT, MAX_STEP_US, PACE, PROGRESS, RECORD, RESULTS, RETIRE,
    exact, owner_key, pace_key, prefix, replay_key, state_key,
};

mod scripts;
#[cfg(test)]
mod tests;

/// A campaign store on a Redis server, shared by dialers on any number of machines: claims,
/// attempts and results are atomic scripts on the server, and pacing reads the server's
/// clock, so every replica keeps to one calls-per-second budget.
///
/// It keeps one multiplexed connection, opened again on the call after one that found it
/// broken (a call that fails is not retried: the caller decides, as it cannot know whether
/// the server ran it).
///
/// ```no_run
/// # async fn f() -> Result<(), telephony_campaign::StoreError> {
/// let store = telephony_campaign::RedisStore::connect("redis://127.0.0.1:6379").await?;
/// # Ok(()) }
/// ```
pub struct RedisStore {
    client: Client,
    conn: Mutex<Option<MultiplexedConnection>>,
    /// The URL with its password replaced, for Debug and errors.
    shown: String,
    /// The URL's password as written and decoded, scrubbed from any error text.
    secrets: Vec<String>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.shown)
            .finish()
    }
}

/// Contacts per add script: one batch is atomic, and no batch holds the server for long.
const ADD_BATCH: usize = 1000;
/// Contacts per results script.
const RESULTS_BATCH: usize = 1000;

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::new(format!("redis: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s)
        .map_err(|e| StoreError::new(format!("redis: a stored record does not read back: {e}")))
}

fn unreadable(what: &str) -> StoreError {
    StoreError::new(format!("redis: a stored record does not read back: {what}"))
}

fn status(s: &str) -> ContactStatus {
    match s {
        "claimed" => ContactStatus::Claimed,
        "done" => ContactStatus::Done,
        _ => ContactStatus::Pending,
    }
}

fn count(v: &str) -> Result<u64, StoreError> {
    let n: i64 = v.parse().map_err(|_| unreadable(&format!("count {v:?}")))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

fn attempts_of(v: &str) -> Result<u32, StoreError> {
    v.parse()
        .map_err(|_| unreadable(&format!("attempts {v:?}")))
}

impl RedisStore {
    /// Connects to the Redis server at `url` (`redis://[:PASSWORD@]HOST[:PORT][/DB]`, or
    /// `redis+unix:///PATH`), checking that it answers.
    pub async fn connect(url: &str) -> Result<RedisStore, StoreError> {
        let shown = redact_url(url);
        let mut secrets = Vec::new();
        if let Ok(u) = url::Url::parse(url)
            && let Some(pw) = u.password()
            && !pw.is_empty()
        {
            secrets.push(pw.to_owned());
            if let Ok(decoded) = percent_decode(pw)
                && decoded != pw
                && !decoded.is_empty()
            {
                secrets.push(decoded);
            }
        }
        let store = RedisStore {
            client: Client::open(url).map_err(|e| {
                StoreError::new(format!(
                    "redis: cannot use {shown}: {}",
                    scrub(&e, &secrets)
                ))
            })?,
            conn: Mutex::new(None),
            shown,
            secrets,
        };
        let mut conn = store.connection().await?;
        let _: String = ::redis::cmd("PING")
            .query_async(&mut conn)
            .await
            .map_err(|e| store.failed(e))?;
        Ok(store)
    }

    /// The connection, opened if there is none.
    async fn connection(&self) -> Result<MultiplexedConnection, StoreError> {
        if let Some(c) = self
            .conn
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
        {
            return Ok(c);
        }
        // A stalled server fails the call rather than the dialer waiting forever; the
        // response timeout is long enough for the largest script (a batch of contacts).
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(10)))
            .set_response_timeout(Some(Duration::from_secs(30)));
        let c = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| self.error(&e))?;
        *self.conn.lock().unwrap_or_else(PoisonError::into_inner) = Some(c.clone());
        Ok(c)
    }

    /// The error, after dropping a connection it says is broken (the next call opens one).
    fn failed(&self, e: RedisError) -> StoreError {
        if e.is_unrecoverable_error()
            || e.is_connection_dropped()
            || e.is_io_error()
            || e.is_timeout()
        {
            *self.conn.lock().unwrap_or_else(PoisonError::into_inner) = None;
        }
        self.error(&e)
    }

    fn error(&self, e: &RedisError) -> StoreError {
        StoreError::new(format!("redis {}: {}", self.shown, scrub(e, &self.secrets)))
    }

    async fn invoke<T: FromRedisValue>(
        &self,
        script: &'static Script,
        keys: &[&str],
        args: &[&str],
    ) -> Result<T, StoreError> {
        let mut inv = script.prepare_invoke();
        for k in keys {
            inv.key(*k);
        }
        for a in args {
            inv.arg(*a);
        }
        let mut conn = self.connection().await?;
        inv.invoke_async(&mut conn)
            .await
            .map_err(|e| self.failed(e))
    }

    async fn query<T: FromRedisValue>(&self, cmd: &::redis::Cmd) -> Result<T, StoreError> {
        let mut conn = self.connection().await?;
        cmd.query_async(&mut conn).await.map_err(|e| self.failed(e))
    }
}

/// An error's text without the URL's password, should the client ever quote it.
fn scrub(e: &RedisError, secrets: &[String]) -> String {
    let mut text = e.to_string();
    for s in secrets {
        text = text.replace(s.as_str(), "***");
    }
    text
}

fn percent_decode(s: &str) -> Result<String, std::string::FromUtf8Error> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
}

#[async_trait]
impl CampaignStore for RedisStore {
    async fn add_contacts(
        &self,
        campaign: &str,
        contacts: &[Contact],
        _now_ms: u64,
    ) -> Result<u64, StoreError> {
        let p = prefix(campaign);
        let rows: Vec<(&str, String)> = contacts
            .iter()
            .map(|c| Ok((c.number.as_str(), to_json(c)?)))
            .collect::<Result<_, StoreError>>()?;
        let mut added = 0u64;
        // An empty list still creates the campaign: one script with no contacts.
        let mut batches: Vec<&[(&str, String)]> = rows.chunks(ADD_BATCH).collect();
        if batches.is_empty() {
            batches.push(&[]);
        }
        for batch in batches {
            let mut args = Vec::with_capacity(1 + 2 * batch.len());
            args.push(p.as_str());
            for (number, json) in batch {
                args.push(number);
                args.push(json.as_str());
            }
            let n: u64 = self.invoke(&ADD, &[], &args).await?;
            added += n;
        }
        Ok(added)
    }

    async fn state(&self, campaign: &str) -> Result<Option<CampaignState>, StoreError> {
        let key = state_key(campaign);
        let s: Option<String> = self.query(::redis::cmd("GET").arg(key)).await?;
        Ok(s.and_then(|s| CampaignState::parse(&s)))
    }

    async fn set_state(&self, campaign: &str, state: CampaignState) -> Result<bool, StoreError> {
        let key = state_key(campaign);
        let set: Option<String> = self
            .query(::redis::cmd("SET").arg(key).arg(state.as_str()).arg("XX"))
            .await?;
        Ok(set.is_some())
    }

    async fn heartbeat(&self, owner: &str, lease: Duration) -> Result<(), StoreError> {
        // At most a century: the server refuses an expiry past its clock's range.
        let ms = u64::try_from(lease.as_millis())
            .unwrap_or(u64::MAX)
            .min(100 * 365 * 86_400_000);
        if ms == 0 {
            // A lease that ends now: the same as no lease.
            let _: i64 = self
                .query(::redis::cmd("DEL").arg(owner_key(owner)))
                .await?;
        } else {
            let _: String = self
                .query(
                    ::redis::cmd("SET")
                        .arg(owner_key(owner))
                        .arg("1")
                        .arg("PX")
                        .arg(ms),
                )
                .await?;
        }
        Ok(())
    }

    async fn retire(&self, owner: &str) -> Result<(), StoreError> {
        let _: i64 = self.invoke(&RETIRE, &[], &[owner]).await?;
        Ok(())
    }

    async fn claim(
        &self,
        campaign: &str,
        owner: &str,
        now_ms: u64,
    ) -> Result<Option<Claimed>, StoreError> {
        let p = prefix(campaign);
        let now = exact(now_ms).to_string();
        let row: Option<(String, Option<String>, Option<String>, Option<String>)> =
            self.invoke(&CLAIM, &[], &[&p, owner, &now]).await?;
        let Some((number, contact, attempts, in_flight)) = row else {
            return Ok(None);
        };
        let contact = contact.ok_or_else(|| unreadable(&format!("no contact for {number}")))?;
        let attempts = attempts.ok_or_else(|| unreadable(&format!("no attempts for {number}")))?;
        Ok(Some(Claimed {
            contact: from_json(&contact)?,
            attempts: attempts_of(&attempts)?,
            in_flight: in_flight.as_deref().map(from_json).transpose()?,
        }))
    }

    async fn record_attempt(
        &self,
        campaign: &str,
        number: &E164,
        owner: &str,
        attempt: &Attempt,
    ) -> Result<bool, StoreError> {
        let p = prefix(campaign);
        let json = to_json(attempt)?;
        let n: i64 = self
            .invoke(&RECORD, &[], &[&p, number.as_str(), owner, &json])
            .await?;
        Ok(n == 1)
    }

    async fn finish(
        &self,
        campaign: &str,
        number: &E164,
        owner: &str,
        result: &AttemptResult,
        next: Next,
    ) -> Result<bool, StoreError> {
        let p = prefix(campaign);
        let json = to_json(result)?;
        let attempts = result.attempts.to_string();
        let next = match next {
            Next::RetryAt(at) => exact(at).to_string(),
            Next::Done => "done".to_owned(),
        };
        let n: i64 = self
            .invoke(
                &FINISH,
                &[],
                &[
                    &p,
                    number.as_str(),
                    owner,
                    &json,
                    &attempts,
                    &next,
                    result.outcome.as_str(),
                ],
            )
            .await?;
        Ok(n == 1)
    }

    async fn defer(
        &self,
        campaign: &str,
        number: &E164,
        owner: &str,
        due_ms: u64,
    ) -> Result<bool, StoreError> {
        let p = prefix(campaign);
        let due = exact(due_ms).to_string();
        let n: i64 = self
            .invoke(&DEFER, &[], &[&p, number.as_str(), owner, &due])
            .await?;
        Ok(n == 1)
    }

    async fn pace(&self, account: &str, interval: Duration) -> Result<Duration, StoreError> {
        let step = u64::try_from(interval.as_micros())
            .unwrap_or(u64::MAX)
            .min(MAX_STEP_US);
        let key = pace_key(account);
        let wait: i64 = self
            .invoke(&PACE, &[&key], &[&step.to_string(), &MAX_EXACT.to_string()])
            .await?;
        Ok(Duration::from_micros(u64::try_from(wait).unwrap_or(0)))
    }

    async fn progress(&self, campaign: &str) -> Result<Progress, StoreError> {
        let p = prefix(campaign);
        let (state, counts, due): (Option<String>, Vec<String>, Option<String>) =
            self.invoke(&PROGRESS, &[], &[&p]).await?;
        let mut out = Progress {
            state: state.and_then(|s| CampaignState::parse(&s)),
            next_due_ms: due
                .map(|d| d.parse().map_err(|_| unreadable(&format!("due {d:?}"))))
                .transpose()?,
            ..Progress::default()
        };
        let (mut finished, mut flying) = (0, 0);
        for pair in counts.chunks(2) {
            let [field, value] = pair else {
                return Err(unreadable("counts"));
            };
            let n = count(value)?;
            match field.as_str() {
                "total" => out.total = n,
                "pending" => out.pending = n,
                "retrying" => out.retrying = n,
                "claimed" => out.in_progress = n,
                "done" => out.done = n,
                "attempts" => finished = n,
                "flying" => flying = n,
                other => {
                    if let Some(name) = other.strip_prefix("o:") {
                        let outcome: Outcome = name
                            .parse()
                            .map_err(|_| unreadable(&format!("outcome {name:?}")))?;
                        if n > 0 {
                            out.outcomes.insert(outcome, n);
                        }
                    }
                }
            }
        }
        out.dialled = finished + flying;
        Ok(out)
    }

    async fn results(&self, campaign: &str) -> Result<Vec<ContactResult>, StoreError> {
        let p = prefix(campaign);
        let mut out = Vec::new();
        loop {
            let (from, to) = (out.len(), out.len() + RESULTS_BATCH - 1);
            let rows: Vec<Option<String>> = self
                .invoke(&RESULTS, &[], &[&p, &from.to_string(), &to.to_string()])
                .await?;
            let got = rows.len() / 4;
            for row in rows.chunks(4) {
                let [Some(contact), Some(s), Some(attempts), last] = row else {
                    return Err(unreadable("a contact with no record"));
                };
                out.push(ContactResult {
                    contact: from_json(contact)?,
                    status: status(s),
                    attempts: attempts_of(attempts)?,
                    last: last.as_deref().map(from_json).transpose()?,
                });
            }
            if got < RESULTS_BATCH {
                return Ok(out);
            }
        }
    }
}

#[async_trait]
impl ReplayGuard for RedisStore {
    async fn first_use(
        &self,
        key: &str,
        expires_at: SystemTime,
    ) -> Result<bool, Box<dyn std::error::Error + Send + Sync>> {
        let key = replay_key(key);
        // PXAT takes a positive time; one already past stores a key that is gone at once.
        let at = millis(expires_at).clamp(1, MAX_EXACT);
        let set: Option<String> = self
            .query(
                ::redis::cmd("SET")
                    .arg(key)
                    .arg("1")
                    .arg("PXAT")
                    .arg(at)
                    .arg("NX"),
            )
            .await?;
        Ok(set.is_some())
    }
}
