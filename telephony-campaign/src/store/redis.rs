//! [`RedisStore`]: the shared store, for dialers on several machines, on one Redis server.
//!
//! Every change that touches more than one key is one Lua script, run atomically by the
//! server: a claim, an attempt, a result, a deferral, a retirement, a batch of contacts and a
//! pacing slot never interleave with another dialer's, and no client reads a value to write
//! it back. The semantics are [`SqliteStore`](crate::SqliteStore)'s, rule for rule.
//!
//! # Keys
//!
//! A campaign's keys share the prefix `telephony:campaign:{NAME}:`, where `NAME` is the
//! campaign's name with `%`, `{` and `}` percent-encoded (so no two campaigns' keys meet, and
//! the braces make a hash tag):
//!
//! | key | type | holds |
//! |---|---|---|
//! | `state` | string | `running`, `paused` or `cancelled` |
//! | `seq` | counter | the last contact's place in the list (1 for the first) |
//! | `contacts` | hash | number → the contact as JSON (its first row's) |
//! | `order` | list | the numbers, in list order (the results' order) |
//! | `rec:NUMBER` | hash | `status` (pending, claimed, done), `owner`, `due` (ms), `attempts`, `seq`, `in_flight` (attempt JSON), `last` (result JSON) |
//! | `due` | sorted set | pending contacts: score = due time in ms, member = `seq` zero-padded to 15 digits then the number, so equal times sort in list order (scores are exact: times are clamped below 2^53) |
//! | `held:OWNER` | sorted set | the contacts `OWNER` holds here, by `seq` |
//! | `owners` | set | the owners with a contact held here |
//! | `counts` | hash | `total`, `pending` (never attempted), `retrying`, `claimed`, `done`, `attempts` (finished attempts), `flying` (attempts in flight), `o:OUTCOME` (done contacts by outcome): kept by the scripts, so [`progress`](CampaignStore::progress) reads one hash whatever the campaign's size |
//!
//! Keys across campaigns:
//!
//! | key | holds |
//! |---|---|
//! | `telephony:owner:OWNER` | the owner's lease: exists while it runs (`PX` = the lease) |
//! | `telephony:owner-campaigns:OWNER` | the prefixes of the campaigns where `OWNER` holds contacts (what [`retire`](CampaignStore::retire) walks) |
//! | `telephony:pace:ACCOUNT` | the account's last reserved create slot, µs since the epoch on the server's clock |
//! | `telephony:replay:KEY` | a webhook replay key, until it expires |
//!
//! A claim whose owner's lease key is gone is an orphan: the next claim in its campaign takes
//! it, with the attempt it left in flight. A claim reads only the leases of the owners holding
//! contacts in its campaign (`owners`), not every claim.
//!
//! Pacing reads the server's clock (`TIME`) inside its script, so every replica shares one
//! budget whatever its own clock says.
//!
//! # Deployment
//!
//! One Redis server (a primary; replicas and Sentinel failover are its business). Redis
//! Cluster is not supported: a claim reads owner leases, which live outside the campaign's
//! slot. Redis 6.2 or later (`SET … PXAT`). The server must not evict keys
//! (`maxmemory-policy noeviction`, Redis's default): an evicted lease or record would lose
//! claims. Durability is the server's: without AOF (`appendonly yes`), a server restart loses
//! the campaign.

use std::sync::{LazyLock, Mutex, PoisonError};
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
/// The largest integer a Lua number (a double) and a sorted-set score hold exactly.
const MAX_EXACT: u64 = (1 << 53) - 1;
/// The longest pacing interval taken (about 101 days): slots stay exact for centuries.
const MAX_STEP_US: u64 = 1 << 43;

/// A time or count as the scripts take it: clamped to what a double holds exactly (2^53 ms
/// is 285,000 years from now).
fn exact(v: u64) -> u64 {
    v.min(MAX_EXACT)
}

/// The prefix of a campaign's keys.
fn prefix(campaign: &str) -> String {
    let mut p = String::with_capacity(campaign.len() + 24);
    p.push_str("telephony:campaign:{");
    for ch in campaign.chars() {
        match ch {
            '%' => p.push_str("%25"),
            '{' => p.push_str("%7B"),
            '}' => p.push_str("%7D"),
            c => p.push(c),
        }
    }
    p.push_str("}:");
    p
}

fn owner_key(owner: &str) -> String {
    format!("telephony:owner:{owner}")
}

/// The helpers every campaign script shares. `P` is a campaign's key prefix.
macro_rules! lua_prelude {
    () => {
        r"
local function due_member(seq, n)
  return string.format('%015d', tonumber(seq)) .. n
end
local function waiting(attempts)
  if tonumber(attempts) > 0 then return 'retrying' end
  return 'pending'
end
local function hold(P, owner, n, seq)
  redis.call('ZADD', P .. 'held:' .. owner, seq, n)
  redis.call('SADD', P .. 'owners', owner)
  redis.call('SADD', 'telephony:owner-campaigns:' .. owner, P)
end
local function release(P, owner, n)
  local h = P .. 'held:' .. owner
  redis.call('ZREM', h, n)
  if redis.call('ZCARD', h) == 0 then
    redis.call('SREM', P .. 'owners', owner)
    redis.call('SREM', 'telephony:owner-campaigns:' .. owner, P)
  end
end
"
    };
}

/// ARGV: prefix, then number and contact JSON pairs. Creates the campaign (running) if new;
/// adds the numbers it does not hold, pending and due at once, in order. Returns how many.
static ADD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        lua_prelude!(),
        r"
local P = ARGV[1]
redis.call('SET', P .. 'state', 'running', 'NX')
local added = 0
for i = 2, #ARGV - 1, 2 do
  local n = ARGV[i]
  if redis.call('HSETNX', P .. 'contacts', n, ARGV[i + 1]) == 1 then
    local seq = redis.call('INCR', P .. 'seq')
    redis.call('HSET', P .. 'rec:' .. n, 'status', 'pending', 'due', '0', 'attempts', '0', 'seq', seq)
    redis.call('ZADD', P .. 'due', 0, due_member(seq, n))
    redis.call('RPUSH', P .. 'order', n)
    added = added + 1
  end
end
if added > 0 then
  redis.call('HINCRBY', P .. 'counts', 'total', added)
  redis.call('HINCRBY', P .. 'counts', 'pending', added)
end
return added
"
    ))
});

/// ARGV: prefix, owner, now (ms). An orphan first (the lowest `seq` among the contacts held
/// by owners whose lease is gone), else the earliest due pending contact. Returns
/// `{number, contact, attempts, in_flight or nil}`, or nil when nothing is due.
static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        lua_prelude!(),
        r"
local P, owner, now = ARGV[1], ARGV[2], ARGV[3]
local function take(n, from)
  local r = P .. 'rec:' .. n
  local v = redis.call('HMGET', r, 'seq', 'attempts', 'in_flight')
  if from then release(P, from, n) end
  redis.call('HSET', r, 'status', 'claimed', 'owner', owner)
  hold(P, owner, n, v[1])
  return {n, redis.call('HGET', P .. 'contacts', n), v[2], v[3]}
end
local best, best_seq, best_owner
for _, o in ipairs(redis.call('SMEMBERS', P .. 'owners')) do
  if redis.call('EXISTS', 'telephony:owner:' .. o) == 0 then
    local first = redis.call('ZRANGE', P .. 'held:' .. o, 0, 0, 'WITHSCORES')
    if first[1] then
      local s = tonumber(first[2])
      if best_seq == nil or s < best_seq then
        best, best_seq, best_owner = first[1], s, o
      end
    else
      redis.call('SREM', P .. 'owners', o)
    end
  end
end
if best then return take(best, best_owner) end
local due = redis.call('ZRANGEBYSCORE', P .. 'due', '-inf', now, 'LIMIT', 0, 1)
if not due[1] then return false end
local n = string.sub(due[1], 16)
redis.call('ZREM', P .. 'due', due[1])
redis.call('HINCRBY', P .. 'counts', waiting(redis.call('HGET', P .. 'rec:' .. n, 'attempts')), -1)
redis.call('HINCRBY', P .. 'counts', 'claimed', 1)
return take(n, nil)
"
    ))
});

/// ARGV: prefix, number, owner, attempt JSON. Returns 1, or 0 when `owner` does not hold it.
static RECORD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local P = ARGV[1]
local r = P .. 'rec:' .. ARGV[2]
local v = redis.call('HMGET', r, 'status', 'owner', 'in_flight')
if v[1] ~= 'claimed' or v[2] ~= ARGV[3] then return 0 end
if not v[3] then redis.call('HINCRBY', P .. 'counts', 'flying', 1) end
redis.call('HSET', r, 'in_flight', ARGV[4])
return 1
",
    )
});

/// ARGV: prefix, number, owner, result JSON, attempts, `done` or the retry's due time (ms),
/// outcome. Returns 1, or 0 when `owner` does not hold it.
static FINISH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        lua_prelude!(),
        r"
local P, n, owner = ARGV[1], ARGV[2], ARGV[3]
local r = P .. 'rec:' .. n
local v = redis.call('HMGET', r, 'status', 'owner', 'in_flight', 'attempts', 'seq')
if v[1] ~= 'claimed' or v[2] ~= owner then return 0 end
local C = P .. 'counts'
if v[3] then redis.call('HINCRBY', C, 'flying', -1) end
redis.call('HINCRBY', C, 'attempts', tonumber(ARGV[5]) - tonumber(v[4]))
redis.call('HINCRBY', C, 'claimed', -1)
release(P, owner, n)
redis.call('HDEL', r, 'owner', 'in_flight')
redis.call('HSET', r, 'attempts', ARGV[5], 'last', ARGV[4])
if ARGV[6] == 'done' then
  redis.call('HSET', r, 'status', 'done')
  redis.call('HINCRBY', C, 'done', 1)
  redis.call('HINCRBY', C, 'o:' .. ARGV[7], 1)
else
  redis.call('HSET', r, 'status', 'pending', 'due', ARGV[6])
  redis.call('ZADD', P .. 'due', ARGV[6], due_member(v[5], n))
  redis.call('HINCRBY', C, waiting(ARGV[5]), 1)
end
return 1
"
    ))
});

/// ARGV: prefix, number, owner, due (ms). Returns 1, or 0 when `owner` does not hold it or
/// it has an attempt in flight.
static DEFER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        lua_prelude!(),
        r"
local P, n, owner = ARGV[1], ARGV[2], ARGV[3]
local r = P .. 'rec:' .. n
local v = redis.call('HMGET', r, 'status', 'owner', 'in_flight', 'attempts', 'seq')
if v[1] ~= 'claimed' or v[2] ~= owner or v[3] then return 0 end
release(P, owner, n)
redis.call('HDEL', r, 'owner')
redis.call('HSET', r, 'status', 'pending', 'due', ARGV[4])
redis.call('ZADD', P .. 'due', ARGV[4], due_member(v[5], n))
redis.call('HINCRBY', P .. 'counts', 'claimed', -1)
redis.call('HINCRBY', P .. 'counts', waiting(v[4]), 1)
return 1
"
    ))
});

/// ARGV: owner. In every campaign where it holds contacts, gives back those with no attempt
/// in flight (due when they were); those with one stay, orphans once the lease is gone. Then
/// ends the lease.
static RETIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        lua_prelude!(),
        r"
local owner = ARGV[1]
local CS = 'telephony:owner-campaigns:' .. owner
for _, P in ipairs(redis.call('SMEMBERS', CS)) do
  local h = P .. 'held:' .. owner
  for _, n in ipairs(redis.call('ZRANGE', h, 0, -1)) do
    local r = P .. 'rec:' .. n
    local v = redis.call('HMGET', r, 'status', 'owner', 'in_flight', 'attempts', 'seq', 'due')
    if v[1] ~= 'claimed' or v[2] ~= owner then
      redis.call('ZREM', h, n)
    elseif not v[3] then
      redis.call('ZREM', h, n)
      redis.call('HDEL', r, 'owner')
      redis.call('HSET', r, 'status', 'pending')
      redis.call('ZADD', P .. 'due', v[6], due_member(v[5], n))
      redis.call('HINCRBY', P .. 'counts', 'claimed', -1)
      redis.call('HINCRBY', P .. 'counts', waiting(v[4]), 1)
    end
  end
  if redis.call('ZCARD', h) == 0 then
    redis.call('SREM', P .. 'owners', owner)
    redis.call('SREM', CS, P)
  end
end
redis.call('DEL', 'telephony:owner:' .. owner)
return 1
"
    ))
});

/// KEYS: the account's pacing key. ARGV: interval (µs), the largest slot. On the server's
/// clock: slot = max(now, last + interval); stores it (kept until it no longer matters) and
/// returns slot - now in µs.
static PACE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local step = tonumber(ARGV[1])
local slot = now
local last = redis.call('GET', KEYS[1])
if last then
  local l = tonumber(last)
  if l == nil then return redis.error_reply('pacing key holds ' .. last) end
  slot = math.max(now, l + step)
end
slot = math.min(slot, tonumber(ARGV[2]))
local keep_ms = math.floor((slot - now + step) / 1000) + 60000
redis.call('SET', KEYS[1], string.format('%d', slot), 'PX', string.format('%d', keep_ms))
return slot - now
",
    )
});

/// ARGV: prefix. Returns `{state or nil, counts as field/value pairs, earliest due or nil}`.
static PROGRESS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local P = ARGV[1]
local state = redis.call('GET', P .. 'state')
local counts = redis.call('HGETALL', P .. 'counts')
local first = redis.call('ZRANGE', P .. 'due', 0, 0)
local due = false
if first[1] then
  due = redis.call('HGET', P .. 'rec:' .. string.sub(first[1], 16), 'due')
end
return {state, counts, due}
",
    )
});

/// ARGV: prefix, first and last place in the list. Returns, for each contact there,
/// contact JSON, status, attempts, last result JSON (or nil), flattened.
static RESULTS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local P = ARGV[1]
local out = {}
for _, n in ipairs(redis.call('LRANGE', P .. 'order', ARGV[2], ARGV[3])) do
  local v = redis.call('HMGET', P .. 'rec:' .. n, 'status', 'attempts', 'last')
  out[#out + 1] = redis.call('HGET', P .. 'contacts', n)
  out[#out + 1] = v[1]
  out[#out + 1] = v[2]
  out[#out + 1] = v[3]
end
return out
",
    )
});

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
        let key = format!("{}state", prefix(campaign));
        let s: Option<String> = self.query(::redis::cmd("GET").arg(key)).await?;
        Ok(s.and_then(|s| CampaignState::parse(&s)))
    }

    async fn set_state(&self, campaign: &str, state: CampaignState) -> Result<bool, StoreError> {
        let key = format!("{}state", prefix(campaign));
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
        let key = format!("telephony:pace:{account}");
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
        let key = format!(
            "telephony:replay:{}",
            telephony_core::bounded_replay_key(key)
        );
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use super::*;

    fn number(i: u32) -> E164 {
        format!("+1415556{i:04}").parse().unwrap()
    }

    fn run_id() -> String {
        uuid::Uuid::new_v4().simple().to_string()
    }

    #[tokio::test]
    async fn the_store_contract_holds() {
        let redis = telephony_testkit::redis::server();
        let store = RedisStore::connect(&redis.url()).await.unwrap();
        crate::store::contract::run(&store).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_claimers_never_get_the_same_contact() {
        let redis = telephony_testkit::redis::server();
        let run = run_id();
        let c = format!("race-{run}");
        let setup = RedisStore::connect(&redis.url()).await.unwrap();
        let contacts: Vec<Contact> = (0..200).map(|i| Contact::new(number(i))).collect();
        assert_eq!(setup.add_contacts(&c, &contacts, 0).await.unwrap(), 200);
        let mut tasks = Vec::new();
        for name in ["a", "b"] {
            // Each claimer on a connection of its own, as two replicas are.
            let store = Arc::new(RedisStore::connect(&redis.url()).await.unwrap());
            let (c, owner) = (c.clone(), format!("{name}-{run}"));
            store
                .heartbeat(&owner, Duration::from_secs(3600))
                .await
                .unwrap();
            tasks.push(tokio::spawn(async move {
                let mut got = Vec::new();
                while let Some(cl) = store.claim(&c, &owner, 1).await.unwrap() {
                    got.push(cl.contact.number);
                }
                got
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.push(t.await.unwrap());
        }
        let (a, b): (BTreeSet<_>, BTreeSet<_>) = (
            all[0].iter().cloned().collect(),
            all[1].iter().cloned().collect(),
        );
        assert_eq!(
            a.len() + b.len(),
            all[0].len() + all[1].len(),
            "a claimer got a contact twice"
        );
        assert!(
            a.is_disjoint(&b),
            "both got {:?}",
            a.intersection(&b).collect::<Vec<_>>()
        );
        let union: BTreeSet<_> = a.union(&b).cloned().collect();
        assert_eq!(union, contacts.iter().map(|c| c.number.clone()).collect());
        let p = setup.progress(&c).await.unwrap();
        assert_eq!((p.in_progress, p.pending), (200, 0), "{p:?}");
    }

    #[tokio::test]
    async fn pacing_is_one_budget_across_connections() {
        let redis = telephony_testkit::redis::server();
        let one = RedisStore::connect(&redis.url()).await.unwrap();
        let two = RedisStore::connect(&redis.url()).await.unwrap();
        let account = format!("acct-{}", run_id());
        let hour = Duration::from_secs(3600);
        let mut waits = Vec::new();
        for store in [&one, &two, &one, &two] {
            waits.push(store.pace(&account, hour).await.unwrap());
        }
        for (k, w) in (0u32..).zip(&waits) {
            // Slot k is k hours after the first, less the time the calls took.
            assert!(
                *w <= hour * k && *w + Duration::from_secs(60) > hour * k,
                "{k}: {waits:?}"
            );
        }
        // Another account has a budget of its own.
        let other = format!("{account}-other");
        assert!(two.pace(&other, hour).await.unwrap() < Duration::from_secs(60));
    }

    /// The counters the scripts keep agree with the records, through every transition.
    #[tokio::test]
    async fn progress_counters_agree_with_the_records() {
        let redis = telephony_testkit::redis::server();
        let store = RedisStore::connect(&redis.url()).await.unwrap();
        let run = run_id();
        let c = format!("counts-{run}");
        let (a, b) = (format!("a-{run}"), format!("b-{run}"));
        let hour = Duration::from_secs(3600);
        let contacts: Vec<Contact> = (0..12).map(|i| Contact::new(number(i))).collect();
        store.add_contacts(&c, &contacts, 0).await.unwrap();
        store.heartbeat(&a, hour).await.unwrap();
        store.heartbeat(&b, hour).await.unwrap();
        let check = async |why: &str| {
            let p = store.progress(&c).await.unwrap();
            let rs = store.results(&c).await.unwrap();
            let of = |s: ContactStatus, tried: bool| {
                rs.iter()
                    .filter(|r| r.status == s && (r.attempts > 0) == tried)
                    .count() as u64
            };
            assert_eq!(p.total, rs.len() as u64, "{why}: {p:?}");
            assert_eq!(p.pending, of(ContactStatus::Pending, false), "{why}: {p:?}");
            assert_eq!(p.retrying, of(ContactStatus::Pending, true), "{why}: {p:?}");
            assert_eq!(
                p.in_progress,
                of(ContactStatus::Claimed, false) + of(ContactStatus::Claimed, true),
                "{why}: {p:?}"
            );
            assert_eq!(
                p.done,
                of(ContactStatus::Done, false) + of(ContactStatus::Done, true)
            );
            p
        };
        check("added").await;
        // a: one busy (retry), one answered, one deferred, one with an attempt in flight.
        let mut held = Vec::new();
        for _ in 0..4 {
            held.push(
                store
                    .claim(&c, &a, 1)
                    .await
                    .unwrap()
                    .unwrap()
                    .contact
                    .number,
            );
        }
        let busy = AttemptResult::new(1, Outcome::Busy, 1);
        assert!(
            store
                .finish(&c, &held[0], &a, &busy, Next::RetryAt(5))
                .await
                .unwrap()
        );
        let ok = AttemptResult::new(1, Outcome::Answered, 1);
        assert!(
            store
                .finish(&c, &held[1], &a, &ok, Next::Done)
                .await
                .unwrap()
        );
        assert!(store.defer(&c, &held[2], &a, 50).await.unwrap());
        let attempt = Attempt::new(1, format!("{run}-k"), "+14155550199".into(), 1);
        assert!(
            store
                .record_attempt(&c, &held[3], &a, &attempt)
                .await
                .unwrap()
        );
        assert!(
            !store.defer(&c, &held[3], &a, 50).await.unwrap(),
            "an attempt in flight stays"
        );
        let p = check("a's work").await;
        // Two finished attempts and one in flight; the untouched contacts are due at 0.
        assert_eq!((p.dialled, p.next_due_ms), (3, Some(0)), "{p:?}");
        // b holds two more, then retires: they go back; a's lease ends: b takes a's orphan.
        for _ in 0..2 {
            store.claim(&c, &b, 1).await.unwrap().unwrap();
        }
        check("b holds two").await;
        store.retire(&b).await.unwrap();
        check("b retired").await;
        store.heartbeat(&a, Duration::ZERO).await.unwrap();
        store.heartbeat(&b, hour).await.unwrap();
        let orphan = store.claim(&c, &b, 1).await.unwrap().unwrap();
        assert_eq!(orphan.contact.number, held[3]);
        assert_eq!(
            orphan.in_flight.as_ref().map(|f| f.key.as_str()),
            Some(attempt.key.as_str())
        );
        check("orphan taken").await;
        let unconfirmed = AttemptResult::new(1, Outcome::Unconfirmed, 2);
        assert!(
            store
                .finish(&c, &held[3], &b, &unconfirmed, Next::Done)
                .await
                .unwrap()
        );
        // Everything else, to the end: the retry at 5 and the deferral at 50 included.
        while let Some(cl) = store.claim(&c, &b, 100).await.unwrap() {
            let r = AttemptResult::new(cl.attempts + 1, Outcome::NoAnswer, 3);
            assert!(
                store
                    .finish(&c, &cl.contact.number, &b, &r, Next::Done)
                    .await
                    .unwrap()
            );
        }
        let p = check("finished").await;
        assert!(p.is_finished(), "{p:?}");
        assert_eq!(p.dialled, 13, "twelve contacts, one of them twice: {p:?}");
        assert_eq!(p.outcomes.values().sum::<u64>(), 12);
        assert_eq!(p.outcomes.get(&Outcome::Unconfirmed), Some(&1));
        assert_eq!(p.next_due_ms, None);
    }

    #[tokio::test]
    async fn results_come_in_list_order_past_one_batch() {
        let redis = telephony_testkit::redis::server();
        let store = RedisStore::connect(&redis.url()).await.unwrap();
        let c = format!("many-{}", run_id());
        let n = u32::try_from(ADD_BATCH + RESULTS_BATCH / 2).unwrap();
        let contacts: Vec<Contact> = (0..n).map(|i| Contact::new(number(i))).collect();
        assert_eq!(
            store.add_contacts(&c, &contacts, 0).await.unwrap(),
            u64::from(n)
        );
        // A second list overlapping the first: only the new numbers join, after the others.
        let more: Vec<Contact> = (n - 10..n + 5).map(|i| Contact::new(number(i))).collect();
        assert_eq!(store.add_contacts(&c, &more, 0).await.unwrap(), 5);
        let results = store.results(&c).await.unwrap();
        let got: Vec<E164> = results.iter().map(|r| r.contact.number.clone()).collect();
        let want: Vec<E164> = (0..n + 5).map(number).collect();
        assert_eq!(got, want);
        assert_eq!(store.progress(&c).await.unwrap().total, u64::from(n + 5));
        // An empty list creates the campaign.
        let empty = format!("{c}-empty");
        assert_eq!(store.add_contacts(&empty, &[], 0).await.unwrap(), 0);
        assert_eq!(
            store.state(&empty).await.unwrap(),
            Some(CampaignState::Running)
        );
        assert!(store.results(&empty).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn campaign_names_with_braces_keep_their_own_keys() {
        let redis = telephony_testkit::redis::server();
        let store = RedisStore::connect(&redis.url()).await.unwrap();
        let run = run_id();
        // Without the encoding, "x}:held:o" would share its keys with campaign "x".
        let plain = format!("x{run}");
        let braced = format!("x{run}}}:held:o");
        store
            .add_contacts(&plain, &[Contact::new(number(1))], 0)
            .await
            .unwrap();
        store
            .add_contacts(&braced, &[Contact::new(number(2))], 0)
            .await
            .unwrap();
        assert_ne!(prefix(&plain), prefix(&braced));
        assert_eq!(store.progress(&plain).await.unwrap().total, 1);
        assert_eq!(store.progress(&braced).await.unwrap().total, 1);
        assert_eq!(prefix("a{b}%"), "telephony:campaign:{a%7Bb%7D%25}:");
    }

    #[tokio::test]
    async fn no_password_in_debug_or_errors() {
        let redis = telephony_testkit::redis::server();
        let store = RedisStore::connect(&redis.url()).await.unwrap();
        assert!(format!("{store:?}").contains("RedisStore"));
        // A server that wants no password refuses one; the error does not repeat it.
        let url = url::Url::parse(&redis.url()).unwrap();
        let with = format!(
            "redis://:s3cr%65t-pw@{}:{}",
            url.host_str().unwrap(),
            url.port().unwrap_or(6379)
        );
        let refused = RedisStore::connect(&with).await;
        let text = match refused {
            Ok(store) => format!("{store:?}"),
            Err(e) => e.to_string(),
        };
        assert!(
            !text.contains("s3cr"), // as written (`s3cr%65t-pw`) or decoded (`s3cret-pw`)
            "{text}"
        );
        // Nothing listening: a clear error, no password.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = RedisStore::connect(&format!("redis://:hunter2@127.0.0.1:{port}"))
            .await
            .unwrap_err();
        let text = e.to_string();
        assert!(!text.contains("hunter2") && text.contains("***"), "{text}");
    }

    /// Whose contact a step acts on: the contact a claim returned (`pick` into those claimed
    /// so far), by the owner that claimed it last, or by another owner.
    #[derive(Debug, Clone, Copy)]
    struct Target {
        pick: usize,
        by_holder: bool,
        other: usize,
    }

    /// One step of a random run, on owners 0..3, contacts 0..8 and times 0..100.
    #[derive(Debug, Clone)]
    enum Op {
        Add(Vec<u32>),
        Claim(usize, u64),
        Record(Target, u32),
        Finish(Target, u32, usize, Option<u64>),
        Defer(Target, u64),
        Beat(usize, bool),
        Retire(usize),
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        let target = (0usize..64, prop::bool::weighted(0.8), 0usize..3).prop_map(
            |(pick, by_holder, other)| Target {
                pick,
                by_holder,
                other,
            },
        );
        prop_oneof![
            1 => proptest::collection::vec(0u32..8, 0..5).prop_map(Op::Add),
            4 => (0usize..3, 0u64..100).prop_map(|(o, t)| Op::Claim(o, t)),
            2 => (target.clone(), 1u32..4).prop_map(|(t, a)| Op::Record(t, a)),
            3 => (target.clone(), 0u32..4, 0usize..Outcome::ALL.len(), proptest::option::of(0u64..100))
                .prop_map(|(t, a, out, next)| Op::Finish(t, a, out, next)),
            1 => (target, 0u64..100).prop_map(|(t, due)| Op::Defer(t, due)),
            2 => (0usize..3, prop::bool::weighted(0.7)).prop_map(|(o, alive)| Op::Beat(o, alive)),
            1 => (0usize..3).prop_map(Op::Retire),
        ]
    }

    /// The claims answered so far, in order, with who made each.
    #[derive(Default)]
    struct Claims(Vec<(E164, usize)>);

    impl Claims {
        fn resolve(&self, t: Target) -> (E164, usize) {
            if self.0.is_empty() {
                return (number(u32::try_from(t.pick % 8).unwrap()), t.other);
            }
            let (n, holder) = &self.0[t.pick % self.0.len()];
            // The last claim of that number says who holds it now (or held it last).
            let holder = self
                .0
                .iter()
                .rev()
                .find(|(m, _)| m == n)
                .map_or(*holder, |(_, o)| *o);
            (n.clone(), if t.by_holder { holder } else { t.other })
        }
    }

    /// What an operation answered, comparable across stores.
    #[derive(Debug, PartialEq)]
    enum Answer {
        Added(u64),
        Claimed(Option<Claimed>),
        Done(bool),
        Unit,
    }

    async fn apply(
        store: &dyn CampaignStore,
        c: &str,
        owners: &[String],
        claims: &Claims,
        op: &Op,
    ) -> Answer {
        match op {
            Op::Add(list) => {
                let contacts: Vec<Contact> = list
                    .iter()
                    .map(|i| Contact::new(number(*i)).var("i", i.to_string()))
                    .collect();
                Answer::Added(store.add_contacts(c, &contacts, 0).await.unwrap())
            }
            Op::Claim(o, t) => Answer::Claimed(store.claim(c, &owners[*o], *t).await.unwrap()),
            Op::Record(t, a) => {
                let (n, o) = claims.resolve(*t);
                let mut attempt = Attempt::new(*a, format!("k{n}-{a}"), "+14155550199".into(), 7);
                attempt.call_id = (*a > 1).then(|| format!("CA{n}"));
                Answer::Done(
                    store
                        .record_attempt(c, &n, &owners[o], &attempt)
                        .await
                        .unwrap(),
                )
            }
            Op::Finish(t, a, out, next) => {
                let (n, o) = claims.resolve(*t);
                let mut r = AttemptResult::new(*a, Outcome::ALL[*out], 9);
                r.detail = Some(format!("attempt {a}"));
                let next = next.map_or(Next::Done, Next::RetryAt);
                Answer::Done(store.finish(c, &n, &owners[o], &r, next).await.unwrap())
            }
            Op::Defer(t, due) => {
                let (n, o) = claims.resolve(*t);
                Answer::Done(store.defer(c, &n, &owners[o], *due).await.unwrap())
            }
            Op::Beat(o, alive) => {
                let lease = if *alive {
                    Duration::from_secs(3600)
                } else {
                    Duration::ZERO
                };
                store.heartbeat(&owners[*o], lease).await.unwrap();
                Answer::Unit
            }
            Op::Retire(o) => {
                store.retire(&owners[*o]).await.unwrap();
                Answer::Unit
            }
        }
    }

    /// Random runs of every operation give, step by step, the answers, progress and results
    /// the SQLite store (the reference) gives.
    #[cfg(feature = "sqlite")]
    #[test]
    fn random_runs_match_the_sqlite_store() {
        use proptest::test_runner::{Config, TestCaseError, TestRunner};

        let redis = telephony_testkit::redis::server();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let store = rt.block_on(RedisStore::connect(&redis.url())).unwrap();
        let mut runner = TestRunner::new(Config::with_cases(64));
        let strategy = proptest::collection::vec(op(), 1..60);
        runner
            .run(&strategy, |ops| {
                rt.block_on(async {
                    let run = run_id();
                    let c = format!("diff-{run}");
                    let owners: Vec<String> = (0..3).map(|o| format!("o{o}-{run}")).collect();
                    let reference = crate::SqliteStore::in_memory().unwrap();
                    let mut claims = Claims::default();
                    for (step, op) in ops.iter().enumerate() {
                        let want = apply(&reference, &c, &owners, &claims, op).await;
                        let got = apply(&store, &c, &owners, &claims, op).await;
                        proptest::prop_assert_eq!(&got, &want, "step {} {:?}", step, op);
                        if let (Op::Claim(o, _), Answer::Claimed(Some(cl))) = (op, &want) {
                            claims.0.push((cl.contact.number.clone(), *o));
                        }
                        let want = reference.progress(&c).await.unwrap();
                        let got = store.progress(&c).await.unwrap();
                        proptest::prop_assert_eq!(
                            &got,
                            &want,
                            "progress after step {} {:?}",
                            step,
                            op
                        );
                        let want = reference.results(&c).await.unwrap();
                        let got = store.results(&c).await.unwrap();
                        proptest::prop_assert_eq!(
                            &got,
                            &want,
                            "results after step {} {:?}",
                            step,
                            op
                        );
                    }
                    for o in &owners {
                        store.retire(o).await.unwrap();
                    }
                    Ok::<(), TestCaseError>(())
                })
            })
            .unwrap();
    }
}
