//! The [`RedisStore`](super::RedisStore)'s tests, on a real server.

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
    let target =
        (0usize..64, prop::bool::weighted(0.8), 0usize..3).prop_map(|(pick, by_holder, other)| {
            Target {
                pick,
                by_holder,
                other,
            }
        });
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
                    proptest::prop_assert_eq!(&got, &want, "progress after step {} {:?}", step, op);
                    let want = reference.results(&c).await.unwrap();
                    let got = store.results(&c).await.unwrap();
                    proptest::prop_assert_eq!(&got, &want, "results after step {} {:?}", step, op);
                }
                for o in &owners {
                    store.retire(o).await.unwrap();
                }
                Ok::<(), TestCaseError>(())
            })
        })
        .unwrap();
}
