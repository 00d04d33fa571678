//! A delivery that arrives twice: the provider's own retry (the same signed content) is
//! acknowledged with 200 and never handed to the host a second time, and an inbound call's
//! retried answer webhook is answered again, so the call still connects. The replay key comes
//! from what is signed: a header the signature does not cover cannot make a repeat look new.

#[path = "../examples/common/mod.rs"]
mod common;
mod support;

use std::sync::Arc;
use std::time::SystemTime;

use axum::http::{HeaderValue, Method};
use support::AnyFake;
use telephony::{
    InboundRouter, MemoryDirectory, Outcome, RequestUrl, Secret, StreamSpec, WebhookRequest,
};
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
            let nonce = "05429567804466091622";
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
                HeaderValue::from_static(nonce),
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
