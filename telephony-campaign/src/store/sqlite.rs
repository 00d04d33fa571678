//! [`SqliteStore`]: the embedded default, one SQLite file (SQLite compiled in).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use telephony_core::E164;
use telephony_core::ReplayGuard;

use super::{
    Attempt, AttemptResult, CampaignState, CampaignStore, Claimed, ContactResult, ContactStatus,
    Next, Progress, StoreError, millis,
};
use crate::Contact;

/// A campaign store in one SQLite file: durable across crashes (each change commits before
/// the call returns, in WAL mode), shared by dialers in several processes on one machine
/// (claims and pacing are transactions), and needing nothing installed.
///
/// ```no_run
/// # fn f() -> Result<(), telephony_campaign::StoreError> {
/// let store = telephony_campaign::SqliteStore::open("campaign.db")?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError::new(format!("sqlite: {e}"))
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS campaigns (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS contacts (
    campaign TEXT NOT NULL,
    number TEXT NOT NULL,
    seq INTEGER NOT NULL,
    contact TEXT NOT NULL,
    status TEXT NOT NULL,
    owner TEXT,
    due_ms INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    in_flight TEXT,
    last TEXT,
    PRIMARY KEY (campaign, number)
);
CREATE INDEX IF NOT EXISTS contacts_due ON contacts (campaign, status, due_ms, seq);
CREATE TABLE IF NOT EXISTS owners (
    id TEXT PRIMARY KEY,
    expires_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS pacing (
    account TEXT PRIMARY KEY,
    last_us INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS replay (
    key TEXT PRIMARY KEY,
    expires_ms INTEGER NOT NULL
);
";

impl SqliteStore {
    /// Opens (creating if needed) the store in the file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        let conn = Connection::open(&path).map_err(|e| err(format!("{}: {e}", path.display())))?;
        SqliteStore::init(conn, path)
    }

    /// A store in memory, for one process (tests, a dry run).
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        SqliteStore::init(
            Connection::open_in_memory().map_err(err)?,
            ":memory:".into(),
        )
    }

    fn init(conn: Connection, path: PathBuf) -> Result<SqliteStore, StoreError> {
        // Another process may hold the write lock for a moment: wait for it, not fail; well
        // within a dialer's lease (30 s by default), so a stalled store fails before it lapses.
        conn.busy_timeout(Duration::from_secs(5)).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
            path,
        })
    }

    /// Runs `f` on the connection off the async threads.
    async fn with<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&mut guard)
        })
        .await
        .map_err(|e| err(format!("store task: {e}")))?
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(err)
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| err(format!("a stored record does not read back: {e}")))
}

fn status(s: &str) -> ContactStatus {
    match s {
        "claimed" => ContactStatus::Claimed,
        "done" => ContactStatus::Done,
        _ => ContactStatus::Pending,
    }
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn u64_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

#[async_trait]
impl CampaignStore for SqliteStore {
    async fn add_contacts(
        &self,
        campaign: &str,
        contacts: &[Contact],
        now_ms: u64,
    ) -> Result<u64, StoreError> {
        let campaign = campaign.to_owned();
        let rows: Vec<(String, String)> = contacts
            .iter()
            .map(|c| Ok((c.number.as_str().to_owned(), to_json(c)?)))
            .collect::<Result<_, StoreError>>()?;
        self.with(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(err)?;
            tx.execute(
                "INSERT OR IGNORE INTO campaigns (id, state, created_ms) VALUES (?1, 'running', ?2)",
                params![campaign, i64_of(now_ms)],
            )
            .map_err(err)?;
            let mut seq: i64 = tx
                .query_row(
                    "SELECT COALESCE(MAX(seq), -1) + 1 FROM contacts WHERE campaign = ?1",
                    [&campaign],
                    |r| r.get(0),
                )
                .map_err(err)?;
            let mut added = 0;
            {
                let mut insert = tx
                    .prepare(
                        "INSERT OR IGNORE INTO contacts (campaign, number, seq, contact, status, due_ms)
                         VALUES (?1, ?2, ?3, ?4, 'pending', 0)",
                    )
                    .map_err(err)?;
                for (number, json) in &rows {
                    let n = insert.execute(params![campaign, number, seq, json]).map_err(err)?;
                    if n > 0 {
                        added += 1;
                        seq += 1;
                    }
                }
            }
            tx.commit().map_err(err)?;
            Ok(added)
        })
        .await
    }

    async fn state(&self, campaign: &str) -> Result<Option<CampaignState>, StoreError> {
        let campaign = campaign.to_owned();
        self.with(move |conn| {
            let s: Option<String> = conn
                .query_row(
                    "SELECT state FROM campaigns WHERE id = ?1",
                    [&campaign],
                    |r| r.get(0),
                )
                .optional()
                .map_err(err)?;
            Ok(s.and_then(|s| CampaignState::parse(&s)))
        })
        .await
    }

    async fn set_state(&self, campaign: &str, state: CampaignState) -> Result<bool, StoreError> {
        let campaign = campaign.to_owned();
        self.with(move |conn| {
            let n = conn
                .execute(
                    "UPDATE campaigns SET state = ?2 WHERE id = ?1",
                    params![campaign, state.as_str()],
                )
                .map_err(err)?;
            Ok(n > 0)
        })
        .await
    }

    async fn heartbeat(&self, owner: &str, lease: Duration) -> Result<(), StoreError> {
        let owner = owner.to_owned();
        let expires = millis(SystemTime::now())
            .saturating_add(u64::try_from(lease.as_millis()).unwrap_or(u64::MAX));
        self.with(move |conn| {
            conn.execute(
                "INSERT INTO owners (id, expires_ms) VALUES (?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET expires_ms = excluded.expires_ms",
                params![owner, i64_of(expires)],
            )
            .map_err(err)?;
            Ok(())
        })
        .await
    }

    async fn retire(&self, owner: &str) -> Result<(), StoreError> {
        let owner = owner.to_owned();
        self.with(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(err)?;
            // Claims without an attempt in flight go back at once; those with one stay
            // until another dialer reconciles them (the lease is gone, so at once too).
            tx.execute(
                "UPDATE contacts SET status = 'pending', owner = NULL
                 WHERE owner = ?1 AND status = 'claimed' AND in_flight IS NULL",
                [&owner],
            )
            .map_err(err)?;
            tx.execute("DELETE FROM owners WHERE id = ?1", [&owner])
                .map_err(err)?;
            tx.commit().map_err(err)
        })
        .await
    }

    async fn claim(
        &self,
        campaign: &str,
        owner: &str,
        now_ms: u64,
    ) -> Result<Option<Claimed>, StoreError> {
        let (campaign, owner) = (campaign.to_owned(), owner.to_owned());
        self.with(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(err)?;
            let now = i64_of(now_ms);
            let wall = i64_of(millis(SystemTime::now()));
            // A claim whose owner's lease ran out first: its attempt may be in flight.
            let orphan: Option<(String, String, i64, Option<String>)> = tx
                .query_row(
                    "SELECT number, contact, attempts, in_flight FROM contacts
                     WHERE campaign = ?1 AND status = 'claimed' AND owner IS NOT ?3
                       AND (owner IS NULL OR owner NOT IN
                        (SELECT id FROM owners WHERE expires_ms > ?2))
                     ORDER BY seq LIMIT 1",
                    params![campaign, wall, owner],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()
                .map_err(err)?;
            let row = match orphan {
                Some(row) => Some(row),
                None => tx
                    .query_row(
                        "SELECT number, contact, attempts, in_flight FROM contacts
                         WHERE campaign = ?1 AND status = 'pending' AND due_ms <= ?2
                         ORDER BY due_ms, seq LIMIT 1",
                        params![campaign, now],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                    )
                    .optional()
                    .map_err(err)?,
            };
            let Some((number, contact, attempts, in_flight)) = row else {
                return Ok(None);
            };
            tx.execute(
                "UPDATE contacts SET status = 'claimed', owner = ?3 WHERE campaign = ?1 AND number = ?2",
                params![campaign, number, owner],
            )
            .map_err(err)?;
            tx.commit().map_err(err)?;
            Ok(Some(Claimed {
                contact: from_json(&contact)?,
                attempts: u32::try_from(attempts).unwrap_or(0),
                in_flight: in_flight.as_deref().map(from_json).transpose()?,
            }))
        })
        .await
    }

    async fn record_attempt(
        &self,
        campaign: &str,
        number: &E164,
        owner: &str,
        attempt: &Attempt,
    ) -> Result<bool, StoreError> {
        let (campaign, number, owner) = (
            campaign.to_owned(),
            number.as_str().to_owned(),
            owner.to_owned(),
        );
        let json = to_json(attempt)?;
        self.with(move |conn| {
            let n = conn
                .execute(
                    // An owner whose lease ran out records nothing: another dialer may be
                    // taking its claims.
                    "UPDATE contacts SET in_flight = ?4
                     WHERE campaign = ?1 AND number = ?2 AND owner = ?3 AND status = 'claimed'
                       AND owner IN (SELECT id FROM owners WHERE expires_ms > ?5)",
                    params![
                        campaign,
                        number,
                        owner,
                        json,
                        i64_of(millis(SystemTime::now()))
                    ],
                )
                .map_err(err)?;
            Ok(n > 0)
        })
        .await
    }

    async fn finish(
        &self,
        campaign: &str,
        number: &E164,
        owner: &str,
        result: &AttemptResult,
        next: Next,
    ) -> Result<bool, StoreError> {
        let (campaign, number, owner) = (
            campaign.to_owned(),
            number.as_str().to_owned(),
            owner.to_owned(),
        );
        let json = to_json(result)?;
        let attempts = i64::from(result.attempts);
        let (status, due) = match next {
            Next::RetryAt(at) => ("pending", i64_of(at)),
            Next::Done => ("done", 0),
        };
        self.with(move |conn| {
            let n = conn
                .execute(
                    "UPDATE contacts SET status = ?4, owner = NULL, due_ms = ?5, attempts = ?6,
                        in_flight = NULL, last = ?7
                     WHERE campaign = ?1 AND number = ?2 AND owner = ?3 AND status = 'claimed'",
                    params![campaign, number, owner, status, due, attempts, json],
                )
                .map_err(err)?;
            Ok(n > 0)
        })
        .await
    }

    async fn defer(
        &self,
        campaign: &str,
        number: &E164,
        owner: &str,
        due_ms: u64,
    ) -> Result<bool, StoreError> {
        let (campaign, number, owner) = (
            campaign.to_owned(),
            number.as_str().to_owned(),
            owner.to_owned(),
        );
        self.with(move |conn| {
            let n = conn
                .execute(
                    "UPDATE contacts SET status = 'pending', owner = NULL, due_ms = ?4
                     WHERE campaign = ?1 AND number = ?2 AND owner = ?3 AND status = 'claimed'
                       AND in_flight IS NULL",
                    params![campaign, number, owner, i64_of(due_ms)],
                )
                .map_err(err)?;
            Ok(n > 0)
        })
        .await
    }

    async fn pace(&self, account: &str, interval: Duration) -> Result<Duration, StoreError> {
        let account = account.to_owned();
        let step = i64::try_from(interval.as_micros()).unwrap_or(i64::MAX);
        self.with(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(err)?;
            let now = i64::try_from(
                SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_micros(),
            )
            .unwrap_or(i64::MAX);
            let last: Option<i64> = tx
                .query_row(
                    "SELECT last_us FROM pacing WHERE account = ?1",
                    [&account],
                    |r| r.get(0),
                )
                .optional()
                .map_err(err)?;
            let slot = last.map_or(now, |l| now.max(l.saturating_add(step)));
            tx.execute(
                "INSERT INTO pacing (account, last_us) VALUES (?1, ?2)
                 ON CONFLICT (account) DO UPDATE SET last_us = excluded.last_us",
                params![account, slot],
            )
            .map_err(err)?;
            tx.commit().map_err(err)?;
            Ok(Duration::from_micros(u64_of(slot - now)))
        })
        .await
    }

    async fn progress(&self, campaign: &str) -> Result<Progress, StoreError> {
        let campaign = campaign.to_owned();
        self.with(move |conn| {
            let mut p = Progress {
                state: conn
                    .query_row(
                        "SELECT state FROM campaigns WHERE id = ?1",
                        [&campaign],
                        |r| r.get::<_, String>(0),
                    )
                    .optional()
                    .map_err(err)?
                    .and_then(|s| CampaignState::parse(&s)),
                ..Progress::default()
            };
            let mut stmt = conn
                .prepare(
                    "SELECT status, attempts > 0, COUNT(*), SUM(attempts), MIN(due_ms)
                     FROM contacts WHERE campaign = ?1 GROUP BY status, attempts > 0",
                )
                .map_err(err)?;
            let rows = stmt
                .query_map([&campaign], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, bool>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, Option<i64>>(3)?,
                        r.get::<_, Option<i64>>(4)?,
                    ))
                })
                .map_err(err)?;
            for row in rows {
                let (s, tried, count, attempts, due) = row.map_err(err)?;
                let count = u64_of(count);
                p.total += count;
                p.dialled += u64_of(attempts.unwrap_or(0));
                match (status(&s), tried) {
                    (ContactStatus::Pending, false) => p.pending += count,
                    (ContactStatus::Pending, true) => p.retrying += count,
                    (ContactStatus::Claimed, _) => p.in_progress += count,
                    (ContactStatus::Done, _) => p.done += count,
                }
                if status(&s) == ContactStatus::Pending
                    && let Some(due) = due
                {
                    let due = u64_of(due);
                    p.next_due_ms = Some(p.next_due_ms.map_or(due, |d| d.min(due)));
                }
            }
            // Attempts in flight are made but not yet counted on their contact.
            let flying: i64 = conn
                .query_row(
                    "SELECT COUNT(*) FROM contacts WHERE campaign = ?1 AND in_flight IS NOT NULL",
                    [&campaign],
                    |r| r.get(0),
                )
                .map_err(err)?;
            p.dialled += u64_of(flying);
            let mut stmt = conn
                .prepare("SELECT last FROM contacts WHERE campaign = ?1 AND status = 'done'")
                .map_err(err)?;
            let lasts = stmt
                .query_map([&campaign], |r| r.get::<_, Option<String>>(0))
                .map_err(err)?;
            for last in lasts {
                if let Some(last) = last.map_err(err)? {
                    let r: AttemptResult = from_json(&last)?;
                    *p.outcomes.entry(r.outcome).or_default() += 1;
                }
            }
            Ok(p)
        })
        .await
    }

    async fn results(&self, campaign: &str) -> Result<Vec<ContactResult>, StoreError> {
        let campaign = campaign.to_owned();
        self.with(move |conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT contact, status, attempts, last FROM contacts
                     WHERE campaign = ?1 ORDER BY seq",
                )
                .map_err(err)?;
            let rows = stmt
                .query_map([&campaign], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                })
                .map_err(err)?;
            let mut out = Vec::new();
            for row in rows {
                let (contact, s, attempts, last) = row.map_err(err)?;
                out.push(ContactResult {
                    contact: from_json(&contact)?,
                    status: status(&s),
                    attempts: u32::try_from(attempts).unwrap_or(0),
                    last: last.as_deref().map(from_json).transpose()?,
                });
            }
            Ok(out)
        })
        .await
    }
}

#[async_trait]
impl ReplayGuard for SqliteStore {
    async fn first_use(
        &self,
        key: &str,
        expires_at: SystemTime,
    ) -> Result<bool, Box<dyn std::error::Error + Send + Sync>> {
        let key = telephony_core::bounded_replay_key(key);
        let expires = i64_of(millis(expires_at));
        let fresh = self
            .with(move |conn| {
                let now = i64_of(millis(SystemTime::now()));
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(err)?;
                tx.execute("DELETE FROM replay WHERE expires_ms <= ?1", [now])
                    .map_err(err)?;
                let n = tx
                    .execute(
                        "INSERT OR IGNORE INTO replay (key, expires_ms) VALUES (?1, ?2)",
                        params![key, expires],
                    )
                    .map_err(err)?;
                tx.commit().map_err(err)?;
                Ok(n > 0)
            })
            .await?;
        Ok(fresh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_store_contract_holds() {
        crate::store::contract::run(&SqliteStore::in_memory().unwrap()).await;
    }

    #[tokio::test]
    async fn a_file_keeps_everything_across_a_reopen() {
        let dir = std::env::temp_dir().join(format!("telephony-campaign-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.db");
        let n: E164 = "+14155550100".parse().unwrap();
        {
            let store = SqliteStore::open(&path).unwrap();
            store
                .add_contacts("c", &[Contact::new(n.clone())], 0)
                .await
                .unwrap();
            store.heartbeat("a", Duration::from_secs(60)).await.unwrap();
            let claimed = store.claim("c", "a", 1).await.unwrap().unwrap();
            assert_eq!(claimed.contact.number, n);
            let attempt = Attempt::new(1, "k1".into(), "+14155550199".into(), 1);
            assert!(store.record_attempt("c", &n, "a", &attempt).await.unwrap());
        }
        // As after a crash: the owner's lease is still running, so nobody takes the claim.
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.claim("c", "b", 2).await.unwrap(), None);
        store.retire("a").await.unwrap();
        let again = store.claim("c", "b", 2).await.unwrap().unwrap();
        assert_eq!(again.in_flight.unwrap().key, "k1");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
