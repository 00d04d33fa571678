//! A delivery that arrives twice: the provider's own retry (the same signed content) is
//! acknowledged with 200 and never handed to the host a second time, and an inbound call's
//! retried answer webhook is answered again, so the call still connects. The replay key comes
//! from what is signed: a header the signature does not cover cannot make a repeat look new.
//! Replicas of one agent that share a store as their guard (telephony-campaign's Redis or
//! SQLite store) tell a delivery another replica took from a new one.

#[path = "../examples/common/mod.rs"]
mod common;
mod support;

use std::sync::Arc;
use std::time::SystemTime;

use axum::http::{HeaderValue, Method};
use support::AnyFake;
use telephony::{
    InboundRouter, MemoryDirectory, Outcome, ReplayGuard, RequestUrl, Secret, StreamSpec,
    WebhookError, WebhookRequest,
};
use telephony_campaign::{RedisStore, SqliteStore};
use telephony_testkit::accounts;

const STATUS_URL: &str = "https://Agent.Example.com:443/status";
const INBOUND_URL: &str = "https://Agent.Example.com:443/inbound";

/// A form POST to `url` signed as `provider` signs it.
fn signed(provider: &str, url: &str, form: &[(&str, &str)]) -> WebhookRequest {
    let url: RequestUrl = url.parse().unwrap();
    let mut request = WebhookRequest::form_post(url.clone(), form);
    match provider {
        "twilio" => {
            let token = Secret::new(accounts::twilio::AUTH_TOKEN);
            let (_, sig) = telephony::twilio::signature::sign_request(&token, &url, form, None);
            request
                .headers
                .insert("X-Twilio-Signature", HeaderValue::from_str(&sig).unwrap());
        }
        "plivo" => {
            let token = Secret::new(accounts::plivo::AUTH_TOKEN);
            // A fresh nonce per request, as Plivo draws one: the nonce is the replay key, and
            // a shared store (Redis) keeps the keys of earlier runs.
            let nonce = &format!("{:020}", uuid::Uuid::new_v4().as_u128() % 10u128.pow(20));
            let sig = telephony::plivo::signature::sign_v3(
                &token,
                &Method::POST,
                &url,
                &request.body_params(),
                nonce,
            );
            request
                .headers
                .insert("X-Plivo-Signature-V3", HeaderValue::from_str(&sig).unwrap());
            request.headers.insert(
                "X-Plivo-Signature-V3-Nonce",
                HeaderValue::from_str(nonce).unwrap(),
            );
        }
        _ => unreachable!("form webhooks for Twilio and Plivo"),
    }
    request
}

fn router(fake: &AnyFake) -> InboundRouter {
    let directory = Arc::new(MemoryDirectory::new());
    directory.insert(
        "+14155550100".parse().unwrap(),
        StreamSpec::new("wss://agent.example.com/media".parse().unwrap()),
    );
    InboundRouter::new(directory).provider(fake.provider())
}

#[tokio::test]
async fn a_status_callback_delivered_twice_reaches_the_host_once() {
    for (provider, form) in [
        (
            "twilio",
            vec![
                ("AccountSid", accounts::twilio::ACCOUNT_SID),
                ("CallSid", "CA0123456789abcdef0123456789abcdef"),
                ("CallStatus", "completed"),
                ("CallDuration", "7"),
            ],
        ),
        (
            "plivo",
            vec![
                ("CallUUID", "4f2c8a1e-0000-4000-8000-000000000001"),
                ("CallStatus", "completed"),
                ("Event", "Hangup"),
                ("Duration", "7"),
            ],
        ),
    ] {
        let fake = AnyFake::start(provider).await;
        let router = router(&fake);
        let now = SystemTime::now();
        let first = signed(provider, STATUS_URL, &form);
        assert!(router.status(&first, now).await.is_ok(), "{provider}");
        let again = router.status(&first, now).await.unwrap_err();
        assert_eq!(
            again.status, 200,
            "{provider}: acknowledged, never an error"
        );
        assert!(
            matches!(again.outcome, Outcome::Repeat { .. }),
            "{provider}: {:?}",
            again.outcome
        );
    }
}

/// Twilio's `I-Twilio-Idempotency-Token` is not signed: changing or removing it must not make
/// a repeat look new (it once was the replay key, and each new value was stored).
#[tokio::test]
async fn an_unsigned_header_cannot_make_a_repeat_look_new() {
    let fake = AnyFake::start("twilio").await;
    let router = router(&fake);
    let now = SystemTime::now();
    let form = [
        ("AccountSid", accounts::twilio::ACCOUNT_SID),
        ("CallSid", "CA0123456789abcdef0123456789abcdef"),
        ("CallStatus", "ringing"),
    ];
    let first = signed("twilio", STATUS_URL, &form);
    assert!(router.status(&first, now).await.is_ok());
    for token in [Some("fresh-1"), Some(&*"x".repeat(300 * 1024)), None] {
        let mut replay = first.clone();
        match token {
            Some(t) => {
                replay.headers.insert(
                    "I-Twilio-Idempotency-Token",
                    HeaderValue::from_str(t).unwrap(),
                );
            }
            None => {
                replay.headers.remove("I-Twilio-Idempotency-Token");
            }
        }
        let reply = router.status(&replay, now).await.unwrap_err();
        assert!(matches!(reply.outcome, Outcome::Repeat { .. }));
    }
}

/// A retried answer webhook (or a replay of one) gets the same answer, so the call connects;
/// the host is told it is a repeat.
#[tokio::test]
async fn a_retried_answer_webhook_is_answered_again() {
    for provider in ["twilio", "plivo"] {
        let fake = AnyFake::start(provider).await;
        let router = router(&fake);
        let now = SystemTime::now();
        let form: Vec<(&str, &str)> = match provider {
            "twilio" => vec![
                ("AccountSid", accounts::twilio::ACCOUNT_SID),
                ("CallSid", "CA0123456789abcdef0123456789abcdef"),
                ("From", "+14155550199"),
                ("To", "+14155550100"),
                ("Direction", "inbound"),
                ("CallStatus", "ringing"),
            ],
            _ => vec![
                ("CallUUID", "4f2c8a1e-0000-4000-8000-000000000001"),
                ("From", "14155550199"),
                ("To", "14155550100"),
                ("Direction", "inbound"),
                ("CallStatus", "ringing"),
            ],
        };
        let request = signed(provider, INBOUND_URL, &form);
        let first = router.handle(&request, now).await;
        assert_eq!(first.status, 200, "{provider}: {:?}", first.outcome);
        assert!(
            matches!(first.outcome, Outcome::Answered { .. }),
            "{provider}"
        );
        let again = router.handle(&request, now).await;
        assert_eq!(again.status, 200, "{provider}");
        assert_eq!(again.body, first.body, "{provider}: the same answer");
        assert!(
            matches!(again.outcome, Outcome::Repeat { .. }),
            "{provider}: {:?}",
            again.outcome
        );
    }
}

/// A transfer's step delivered twice is taken twice: its first delivery may have failed and
/// been retried, and Plivo reads the step's document from it (here the moved caller's room,
/// which it must get again, not "already received").
#[tokio::test]
async fn a_transfer_step_delivered_twice_is_answered_both_times() {
    let fake = AnyFake::start("plivo").await;
    let router = router(&fake);
    let now = SystemTime::now();
    let caller = telephony::CallId::new("4f2c8a1e-0000-4000-8000-000000000002").unwrap();
    let reference = telephony::TransferRef::new(caller.clone(), None, None)
        .for_leg(telephony::TransferLeg::Caller);
    let url = reference.to_query(&STATUS_URL.parse().unwrap());
    let form = [
        ("CallUUID", caller.as_str()),
        ("CallStatus", "in-progress"),
        ("Direction", "inbound"),
        ("From", "14155550123"),
        ("To", "14155550100"),
    ];
    let fetch = signed("plivo", url.as_str(), &form);
    for delivery in ["first", "repeat"] {
        let (_, followed) = router
            .callback(&fetch, now)
            .await
            .unwrap_or_else(|r| panic!("{delivery}: {} {}", r.status, r.body));
        let doc = followed
            .reply
            .unwrap_or_else(|| panic!("{delivery}: no document"));
        assert!(
            doc.body
                .contains(&format!(">{}</Conference>", reference.id)),
            "{delivery}: {}",
            doc.body
        );
    }
}

/// A fresh call's inbound webhook and its status callback, signed as `provider` signs them,
/// with the call's id. The id is new on every call: a shared Redis keeps the replay keys of
/// earlier runs, and Twilio's key is its signature, so the signed content must be new.
fn fresh_webhooks(provider: &str) -> (String, WebhookRequest, WebhookRequest) {
    let id = uuid::Uuid::new_v4();
    let (id_name, call_id, inbound, status) = match provider {
        "twilio" => (
            "CallSid",
            format!("CA{}", id.simple()),
            vec![
                ("AccountSid", accounts::twilio::ACCOUNT_SID),
                ("From", "+14155550199"),
                ("To", "+14155550100"),
                ("Direction", "inbound"),
                ("CallStatus", "ringing"),
            ],
            vec![
                ("AccountSid", accounts::twilio::ACCOUNT_SID),
                ("CallStatus", "completed"),
                ("CallDuration", "7"),
            ],
        ),
        _ => (
            "CallUUID",
            id.hyphenated().to_string(),
            vec![
                ("From", "14155550199"),
                ("To", "14155550100"),
                ("Direction", "inbound"),
                ("CallStatus", "ringing"),
            ],
            vec![
                ("CallStatus", "completed"),
                ("Event", "Hangup"),
                ("Duration", "7"),
            ],
        ),
    };
    let sign = |url: &str, rest: &[(&str, &str)]| {
        let mut form = vec![(id_name, call_id.as_str())];
        form.extend_from_slice(rest);
        signed(provider, url, &form)
    };
    let inbound = sign(INBOUND_URL, &inbound);
    let status = sign(STATUS_URL, &status);
    (call_id, inbound, status)
}

/// Two replicas of one agent server, each built as its own server builds it (its own
/// directory, its own adapter for the one carrier account) with its own connection to one
/// shared replay store (`guards`, one per replica): a webhook replica A took is a repeat on
/// replica B. An inbound call's is answered again and reported as a repeat (the router's
/// rule for a repeat, so a carrier's retry sent to another replica still connects the call),
/// `verify` on B refuses it as a replay, and a status callback B took is acknowledged by A
/// as a repeat and not handed to its host.
async fn replicas_share_the_guard(store: &str, guards: [Arc<dyn ReplayGuard>; 2]) {
    let now = SystemTime::now();
    for provider in ["twilio", "plivo"] {
        let fake = AnyFake::start(provider).await;
        let [guard_a, guard_b] = guards.clone();
        let replica_a = router(&fake).replay_guard(guard_a);
        let replica_b = router(&fake).replay_guard(guard_b);
        let (call_id, inbound, status) = fresh_webhooks(provider);

        let first = replica_a.handle(&inbound, now).await;
        assert_eq!(first.status, 200, "{store}/{provider}: {:?}", first.outcome);
        assert!(
            matches!(first.outcome, Outcome::Answered { .. }),
            "{store}/{provider}: replica A takes the call: {:?}",
            first.outcome
        );
        let on_b = replica_b.handle(&inbound, now).await;
        assert!(
            matches!(on_b.outcome, Outcome::Repeat { .. }),
            "{store}/{provider}: the same bytes on replica B are a repeat: {:?}",
            on_b.outcome
        );
        assert_eq!(on_b.status, 200, "{store}/{provider}");
        assert_eq!(on_b.body, first.body, "{store}/{provider}: the same answer");
        let carrier = replica_b
            .detect(&inbound)
            .expect("replica B serves the carrier");
        match replica_b.verify(carrier.as_ref(), &inbound, now).await {
            Err(WebhookError::Replayed(key)) => {
                assert!(key.starts_with(provider), "{store}/{provider}: {key}");
            }
            other => panic!("{store}/{provider}: B verifies A's webhook: {other:?}"),
        }

        // The other way round, on a status callback: B takes it, A acknowledges the repeat.
        let (_, event) = replica_b
            .status(&status, now)
            .await
            .unwrap_or_else(|r| panic!("{store}/{provider}: B takes a new callback: {r:?}"));
        assert_eq!(event.call_id.as_str(), call_id, "{store}/{provider}");
        let again = replica_a
            .status(&status, now)
            .await
            .expect_err("the callback B took is a repeat on A");
        assert_eq!(again.status, 200, "{store}/{provider}: acknowledged");
        assert!(
            matches!(again.outcome, Outcome::Repeat { .. }),
            "{store}/{provider}: {:?}",
            again.outcome
        );
    }
}

/// A fleet on one Redis: each replica connects on its own, as a separate server does.
#[tokio::test]
async fn a_webhook_taken_by_one_replica_is_a_repeat_on_another_through_redis() {
    let redis = telephony_testkit::redis::server();
    let connect = async |replica: &str| {
        let store = RedisStore::connect(&redis.url())
            .await
            .unwrap_or_else(|e| panic!("replica {replica} connects: {e}"));
        Arc::new(store) as Arc<dyn ReplayGuard>
    };
    let guards = [connect("A").await, connect("B").await];
    replicas_share_the_guard("redis", guards).await;
}

/// A file removed (with SQLite's write-ahead log and shared memory) when dropped.
struct TempDb(std::path::PathBuf);

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Two processes on one machine: each opens the one SQLite file itself.
#[tokio::test]
async fn a_webhook_taken_by_one_replica_is_a_repeat_on_another_through_one_sqlite_file() {
    let db = TempDb(std::env::temp_dir().join(format!(
        "telephony-replay-{}.db",
        uuid::Uuid::new_v4().simple()
    )));
    let open =
        || Arc::new(SqliteStore::open(&db.0).expect("the store opens")) as Arc<dyn ReplayGuard>;
    replicas_share_the_guard("sqlite", [open(), open()]).await;
}

/// What the shared store is for: replicas each with the router's default in-memory guard
/// both take the same webhook as new (the replay reaches the host twice).
#[tokio::test]
async fn without_a_shared_guard_each_replica_takes_the_webhook_as_new() {
    let fake = AnyFake::start("plivo").await;
    let (_, inbound, _) = fresh_webhooks("plivo");
    let now = SystemTime::now();
    for replica in ["A", "B"] {
        let reply = router(&fake).handle(&inbound, now).await;
        assert!(
            matches!(reply.outcome, Outcome::Answered { .. }),
            "replica {replica}: {:?}",
            reply.outcome
        );
    }
}
