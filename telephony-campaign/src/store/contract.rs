//! The rules every [`CampaignStore`] keeps, run by each store's tests on a fresh store (the
//! Redis one on a real server).

use std::time::{Duration, SystemTime};

use telephony_core::E164;
use telephony_core::ReplayGuard;

use super::{Attempt, AttemptResult, CampaignState, CampaignStore, ContactStatus, Next};
use crate::{Contact, Outcome};

fn number(n: u32) -> E164 {
    format!("+1415555{n:04}").parse().unwrap()
}

/// Runs every rule on `store`, under campaign and owner names unique to this run (a shared
/// Redis keeps other runs' keys).
pub(crate) async fn run<S: CampaignStore + ReplayGuard>(store: &S) {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let c = format!("contract-{run}");
    let (a, b) = (format!("a-{run}"), format!("b-{run}"));
    let hour = Duration::from_secs(3600);
    let now = super::millis(SystemTime::now());

    // Adding is by number: a number listed twice, or added again, is one contact.
    let contacts: Vec<Contact> = (0..5)
        .map(|i| Contact::new(number(i)).var("i", i.to_string()))
        .collect();
    assert_eq!(store.add_contacts(&c, &contacts, now).await.unwrap(), 5);
    let again = [
        contacts[1].clone(),
        Contact::new(number(5)),
        Contact::new(number(5)),
    ];
    assert_eq!(store.add_contacts(&c, &again, now).await.unwrap(), 1);
    assert_eq!(store.state(&c).await.unwrap(), Some(CampaignState::Running));
    assert_eq!(store.state(&format!("none-{run}")).await.unwrap(), None);
    let p = store.progress(&c).await.unwrap();
    assert_eq!(
        (p.total, p.pending, p.done, p.dialled),
        (6, 6, 0, 0),
        "{p:?}"
    );

    // Claims come in list order, each contact to one owner.
    store.heartbeat(&a, hour).await.unwrap();
    store.heartbeat(&b, hour).await.unwrap();
    let first = store.claim(&c, &a, now).await.unwrap().unwrap();
    assert_eq!(first.contact, contacts[0], "variables survive the store");
    assert_eq!((first.attempts, first.in_flight.clone()), (0, None));
    let second = store.claim(&c, &b, now).await.unwrap().unwrap();
    assert_eq!(second.contact.number, number(1));
    assert_eq!(store.progress(&c).await.unwrap().in_progress, 2);

    // Only the owner records on its contact.
    let attempt = Attempt::new(1, format!("{run}-1"), "+14155550199".into(), now);
    assert!(
        store
            .record_attempt(&c, &number(0), &a, &attempt)
            .await
            .unwrap()
    );
    assert!(
        !store
            .record_attempt(&c, &number(0), &b, &attempt)
            .await
            .unwrap()
    );
    let mut placed = attempt.clone();
    placed.call_id = Some("CA1".into());
    assert!(
        store
            .record_attempt(&c, &number(0), &a, &placed)
            .await
            .unwrap()
    );
    assert_eq!(
        store.progress(&c).await.unwrap().dialled,
        1,
        "an attempt in flight counts"
    );

    // A busy line comes back when its retry is due, not before.
    let mut busy = AttemptResult::new(1, Outcome::Busy, now);
    busy.call_id = Some("CA1".into());
    assert!(
        !store
            .finish(&c, &number(0), &b, &busy, Next::RetryAt(now + 10_000))
            .await
            .unwrap()
    );
    assert!(
        store
            .finish(&c, &number(0), &a, &busy, Next::RetryAt(now + 10_000))
            .await
            .unwrap()
    );
    // The window is closed for the second: it is given back without an attempt.
    assert!(store.defer(&c, &number(1), &b, now + 20_000).await.unwrap());
    let p = store.progress(&c).await.unwrap();
    assert_eq!(
        (p.pending, p.retrying, p.in_progress, p.dialled),
        (5, 1, 0, 1),
        "{p:?}"
    );
    let mut order = Vec::new();
    while let Some(cl) = store.claim(&c, &a, now).await.unwrap() {
        order.push(cl.contact.number.clone());
        let r = AttemptResult::new(cl.attempts + 1, Outcome::Answered, now);
        assert!(
            store
                .finish(&c, &cl.contact.number, &a, &r, Next::Done)
                .await
                .unwrap()
        );
    }
    assert_eq!(order, [number(2), number(3), number(4), number(5)]);
    let p = store.progress(&c).await.unwrap();
    assert_eq!(p.next_due_ms, Some(now + 10_000));
    let retry = store.claim(&c, &a, now + 10_000).await.unwrap().unwrap();
    assert_eq!(
        (retry.contact.number.clone(), retry.attempts),
        (number(0), 1)
    );
    assert_eq!(
        store.claim(&c, &a, now + 10_000).await.unwrap(),
        None,
        "the deferred one is not due yet"
    );

    // A crash: owner a stops renewing with an attempt in flight. Nobody takes it while the
    // lease runs; once it has run out, the next claim gets it with its attempt.
    let flying = Attempt::new(2, format!("{run}-2"), "+14155550199".into(), now);
    assert!(
        store
            .record_attempt(&c, &number(0), &a, &flying)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .claim(&c, &b, now + 20_000)
            .await
            .unwrap()
            .unwrap()
            .contact
            .number,
        number(1)
    );
    assert_eq!(store.claim(&c, &b, now + 20_000).await.unwrap(), None);
    store.heartbeat(&a, Duration::ZERO).await.unwrap();
    // A lapsed owner records nothing, and never takes back its own claims as orphans (a
    // dialer that outlived its lease would dial them again).
    assert!(
        !store
            .record_attempt(&c, &number(0), &a, &flying)
            .await
            .unwrap()
    );
    assert_eq!(store.claim(&c, &a, now + 20_000).await.unwrap(), None);
    let orphan = store.claim(&c, &b, now + 20_000).await.unwrap().unwrap();
    assert_eq!(orphan.contact.number, number(0));
    assert_eq!(orphan.in_flight, Some(flying));
    assert_eq!(orphan.attempts, 1);
    // The crashed owner's late write is refused: b holds it now.
    let late = AttemptResult::new(2, Outcome::Answered, now);
    assert!(
        !store
            .finish(&c, &number(0), &a, &late, Next::Done)
            .await
            .unwrap()
    );
    assert!(
        store
            .finish(&c, &number(0), &b, &late, Next::Done)
            .await
            .unwrap()
    );
    // A clean stop gives back claims with nothing in flight at once.
    store.retire(&b).await.unwrap();
    store.heartbeat(&a, hour).await.unwrap();
    assert_eq!(
        store
            .claim(&c, &a, now + 20_000)
            .await
            .unwrap()
            .unwrap()
            .contact
            .number,
        number(1)
    );
    let r = AttemptResult::new(1, Outcome::NoAnswer, now);
    assert!(
        store
            .finish(&c, &number(1), &a, &r, Next::Done)
            .await
            .unwrap()
    );

    let p = store.progress(&c).await.unwrap();
    assert!(p.is_finished(), "{p:?}");
    assert_eq!((p.done, p.dialled), (6, 7), "{p:?}");
    assert_eq!(p.outcomes.get(&Outcome::Answered), Some(&5));
    assert_eq!(p.outcomes.get(&Outcome::NoAnswer), Some(&1));
    let results = store.results(&c).await.unwrap();
    assert_eq!(results.len(), 6);
    assert_eq!(results[0].contact.number, number(0));
    assert_eq!(
        (results[0].status, results[0].attempts),
        (ContactStatus::Done, 2)
    );
    assert_eq!(
        results[0].last.as_ref().map(|l| l.outcome),
        Some(Outcome::Answered)
    );

    // Pause, resume, cancel.
    assert!(store.set_state(&c, CampaignState::Paused).await.unwrap());
    assert_eq!(store.state(&c).await.unwrap(), Some(CampaignState::Paused));
    assert!(store.set_state(&c, CampaignState::Cancelled).await.unwrap());
    assert!(
        !store
            .set_state(&format!("none-{run}"), CampaignState::Paused)
            .await
            .unwrap()
    );

    // Pacing reserves one slot after another, whoever asks.
    let account = format!("acct-{run}");
    let w1 = store.pace(&account, hour).await.unwrap();
    let w2 = store.pace(&account, hour).await.unwrap();
    let w3 = store.pace(&account, hour).await.unwrap();
    assert!(w1 < Duration::from_secs(60), "{w1:?}");
    assert!(w2 > Duration::from_secs(3500) && w2 <= hour, "{w2:?}");
    assert!(w3 > Duration::from_secs(7100) && w3 <= 2 * hour, "{w3:?}");

    // The replay guard: a key is fresh once.
    let key = format!("twilio:{run}");
    let later = SystemTime::now() + Duration::from_secs(300);
    assert!(store.first_use(&key, later).await.unwrap());
    assert!(!store.first_use(&key, later).await.unwrap());
    assert!(
        store
            .first_use(&format!("{key}-other"), later)
            .await
            .unwrap()
    );
    let long = format!("{run}{}", "x".repeat(10_000));
    assert!(store.first_use(&long, later).await.unwrap());
    assert!(!store.first_use(&long, later).await.unwrap());
}
