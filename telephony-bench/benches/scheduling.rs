//! What the store costs the dialer per contact, against the carrier's calls-per-second
//! budget: for one contact's attempt, the dialer claims it, takes the account's next create
//! slot, records the attempt before the create and again with the call id, and records the
//! result (`claim` + `pace` + `record_attempt` × 2 + `finish`), here on a campaign holding
//! 100,000 contacts, on SQLite (a file in a temporary directory, as the store opens it: WAL,
//! `synchronous = FULL`) and on Redis (a server from `telephony_testkit::redis::server()`: a
//! `redis-server` of its own on loopback, or `TELEPHONY_TEST_REDIS_URL`'s).
//!
//! ```text
//! cargo bench -p telephony-bench --bench scheduling           # both, about a minute
//! cargo bench -p telephony-bench --bench scheduling -- redis  # one store
//! ```
//!
//! Each claim takes a fresh contact: after every [`CHUNK`] contacts the campaign gets as many
//! new ones, outside the timing, so claims always run against between 99,000 and 100,000
//! pending contacts (and the contacts done so far). The first 100,000 are loaded once with
//! `add_contacts` in batches of [`LOAD_BATCH`], and how long that took is printed. At the end
//! of each store's group: the mean per contact over the measured samples, and its share of
//! the budget (1/CPS per create) at 1, 20 and 100 calls per second.

#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use telephony_campaign::store::{Attempt, AttemptResult, Next, millis};
use telephony_campaign::{CampaignStore, Contact, Outcome, RedisStore, SqliteStore};

/// The campaign's size.
const CONTACTS: u64 = 100_000;
/// Contacts per `add_contacts` call when loading.
const LOAD_BATCH: u64 = 1_000;
/// Contacts scheduled between two top-ups.
const CHUNK: u64 = 1_000;
/// Calls per second whose budget the cost is set against.
const RATES: [u32; 3] = [1, 20, 100];
/// Samples per store.
const SAMPLES: usize = 20;
/// The pacing interval reserved (20 calls per second); the cost does not depend on it.
const INTERVAL: Duration = Duration::from_millis(50);
const FROM: &str = "+14155550199";

/// The contact at place `i` in the list: a number, a variable and a zone, as a CSV row gives.
fn contact(i: u64) -> Contact {
    let number = format!("+1415{:07}", i % 10_000_000)
        .parse()
        .expect("a valid E.164 number");
    Contact::new(number)
        .var("first_name", format!("Contact {i}"))
        .time_zone("America/New_York")
}

/// A campaign in a store, with the contacts it has been given so far.
struct Campaign {
    store: Arc<dyn CampaignStore>,
    id: String,
    owner: String,
    account: String,
    added: u64,
    scheduled: u64,
}

impl Campaign {
    /// A new campaign in `store`, loaded with [`CONTACTS`] contacts; how long that took.
    async fn load(store: Arc<dyn CampaignStore>) -> (Campaign, Duration) {
        let run = uuid::Uuid::new_v4().simple().to_string();
        let mut campaign = Campaign {
            store,
            id: format!("bench-{run}"),
            owner: format!("dialer-{run}"),
            account: format!("account-{run}"),
            added: 0,
            scheduled: 0,
        };
        campaign
            .store
            .heartbeat(&campaign.owner, Duration::from_secs(24 * 3600))
            .await
            .expect("the lease");
        let started = Instant::now();
        campaign.add(CONTACTS).await;
        (campaign, started.elapsed())
    }

    /// Adds `count` new contacts, in batches of [`LOAD_BATCH`].
    async fn add(&mut self, count: u64) {
        let end = self.added + count;
        while self.added < end {
            let to = (self.added + LOAD_BATCH).min(end);
            let batch: Vec<Contact> = (self.added..to).map(contact).collect();
            let added = self
                .store
                .add_contacts(&self.id, &batch, millis(SystemTime::now()))
                .await
                .expect("contacts added");
            assert_eq!(added, to - self.added, "every contact is new");
            self.added = to;
        }
    }

    /// The store's work for one contact's attempt, as the dialer does it.
    async fn schedule_one(&mut self) {
        let (store, c, owner) = (&self.store, self.id.as_str(), self.owner.as_str());
        let now = millis(SystemTime::now());
        let claimed = store
            .claim(c, owner, now)
            .await
            .expect("the claim")
            .expect("a contact due");
        let wait = store
            .pace(&self.account, INTERVAL)
            .await
            .expect("a create slot");
        let number = &claimed.contact.number;
        let n = claimed.attempts + 1;
        let mut attempt = Attempt::new(
            n,
            format!("{c}-{}-{n}", number.digits()),
            FROM.to_owned(),
            now,
        );
        assert!(
            store
                .record_attempt(c, number, owner, &attempt)
                .await
                .expect("the attempt")
        );
        attempt.call_id = Some(format!("CA{:032x}", self.scheduled));
        assert!(
            store
                .record_attempt(c, number, owner, &attempt)
                .await
                .expect("the call id")
        );
        let mut result = AttemptResult::new(n, Outcome::Answered, millis(SystemTime::now()));
        result.call_id = attempt.call_id;
        result.duration_secs = Some(42);
        assert!(
            store
                .finish(c, number, owner, &result, Next::Done)
                .await
                .expect("the result")
        );
        self.scheduled += 1;
        black_box(wait);
    }

    /// Schedules `count` contacts and returns the time that took, less the top-ups between
    /// chunks (each chunk starts with [`CONTACTS`] pending).
    async fn schedule(&mut self, count: u64) -> Duration {
        let mut timed = Duration::ZERO;
        let mut left = count;
        while left > 0 {
            let pending = self.added - self.scheduled;
            if pending < CONTACTS {
                self.add(CONTACTS - pending).await;
            }
            let chunk = left.min(CHUNK);
            let started = Instant::now();
            for _ in 0..chunk {
                self.schedule_one().await;
            }
            timed += started.elapsed();
            left -= chunk;
        }
        timed
    }

    async fn close(self) {
        let _ = self.store.retire(&self.owner).await;
    }
}

/// Benchmarks one store (made by `open`) in a group of its own, then prints its figures.
fn bench_store<F, Fut>(c: &mut Criterion, name: &str, mut open: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Arc<dyn CampaignStore>>,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut g = c.benchmark_group(name);
    g.sample_size(SAMPLES)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(1));
    // (contacts, time) of every call criterion made: the warm-up's, then the samples'.
    let mut runs: Vec<(u64, Duration)> = Vec::new();
    let mut loaded = None;
    let mut campaign = None;
    // Criterion calls this once per warm-up round and per sample: the campaign is loaded on
    // the first call (here, so a filter that skips this store skips its loading too).
    g.bench_function("per_contact_100k", |b| {
        let campaign = campaign.get_or_insert_with(|| {
            let (campaign, took) = rt.block_on(async { Campaign::load(open().await).await });
            loaded = Some(took);
            campaign
        });
        b.iter_custom(|iters| {
            let took = rt.block_on(campaign.schedule(iters));
            runs.push((iters, took));
            took
        });
    });
    g.finish();
    if let Some(campaign) = campaign {
        rt.block_on(campaign.close());
    }
    if let Some(load) = loaded {
        report(name, load, &runs);
    }
}

/// Prints the loading time, the mean per contact and its share of each budget.
fn report(name: &str, load: Duration, runs: &[(u64, Duration)]) {
    eprintln!(
        "{name}: loading {CONTACTS} contacts took {:.2} s ({:.1} µs per contact)",
        load.as_secs_f64(),
        load.as_secs_f64() * 1e6 / CONTACTS as f64
    );
    // The samples are the last calls, after the warm-up's.
    if runs.len() < SAMPLES {
        eprintln!("{name}: no samples (a --test run schedules one contact): no cost to report");
        return;
    }
    let samples = &runs[runs.len() - SAMPLES..];
    let contacts: u64 = samples.iter().map(|(n, _)| n).sum();
    let time: Duration = samples.iter().map(|(_, t)| *t).sum();
    let mean = time.as_secs_f64() / contacts as f64;
    eprintln!(
        "{name}: scheduling costs {:.1} µs per contact (mean of {contacts} contacts over {} samples): \
         at most {:.0} contacts/s for one dialer's store calls in sequence",
        mean * 1e6,
        samples.len(),
        1.0 / mean
    );
    for cps in RATES {
        eprintln!(
            "{name}:   at {cps:>3} calls/s (a create every {:>4} ms): {:.2} % of the budget",
            1000 / cps,
            mean * f64::from(cps) * 100.0
        );
    }
}

fn sqlite(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!(
        "telephony-campaign-bench-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let path = dir.join("campaign.db");
    bench_store(c, "sqlite", || {
        let path = path.clone();
        async move {
            let store: Arc<dyn CampaignStore> =
                Arc::new(SqliteStore::open(&path).expect("the SQLite store"));
            store
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}

fn redis(c: &mut Criterion) {
    // Started only when the group runs: a filter for SQLite alone needs no Redis.
    let mut server = None;
    bench_store(c, "redis", || {
        let url = server
            .get_or_insert_with(telephony_testkit::redis::server)
            .url();
        async move {
            let store: Arc<dyn CampaignStore> =
                Arc::new(RedisStore::connect(&url).await.expect("the Redis store"));
            store
        }
    });
}

criterion_group!(benches, sqlite, redis);
criterion_main!(benches);
