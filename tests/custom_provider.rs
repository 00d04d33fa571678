//! A carrier of the host's own, defined here with no edit to any crate of the workspace
//! (`tests/acme/`): it registers, builds from the environment and from a configuration file (an
//! unknown key refused by name), has its webhooks recognised and checked by the
//! `InboundRouter`, answers an inbound call with its own document, reads its status callbacks,
//! and paces its media as it says. And it keeps the contract every built-in adapter keeps: the
//! webhook, media and REST rules of `telephony_testkit::contract`. This is what the README's "A
//! carrier of your own" section describes.

mod acme;

use std::sync::Arc;
use std::time::SystemTime;

use acme::media::{AcmeMedia, AcmeSide, FORMATS};
use acme::{ACME, Acme, AcmeWebhooks, KIND};
use telephony::{
    CallId, CallStatus, E164, HangupOutcome, InboundRouter, MemoryDirectory, OutboundCall, Outcome,
    Registry, RequestUrl, Secret, StreamSpec, TelephonyProvider, Url, WebhookRequest,
    WebhookScheme,
};
use telephony_core::rest::HttpConfig;
use telephony_testkit::contract::media::MediaCarrier;
use telephony_testkit::contract::rest::{Cost, Endpoint, Hangup, Inbound, Listing, RestCarrier};
use telephony_testkit::contract::webhooks::{Signs, WebhookCarrier};

const API_KEY: &str = "acme-api-key-0123456789abcdef";
const SECRET: &str = "acme-secret";

fn env(name: &str) -> Option<String> {
    match name {
        "ACME_API_KEY" => Some(API_KEY.into()),
        "ACME_SIGNING_SECRET" => Some(SECRET.into()),
        _ => None,
    }
}

/// A JSON POST to `url`, signed by `secret`.
fn signed(url: &str, body: serde_json::Value, secret: &str) -> WebhookRequest {
    let mut r = post(url.parse().unwrap(), body);
    let s = AcmeWebhooks.sign(&Secret::new(secret), &r, "", SystemTime::now());
    for (k, v) in s.headers {
        r.headers.insert(
            axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    r
}

#[test]
fn it_registers_and_builds_from_settings() {
    let registry = Registry::builtin().with(&ACME);
    assert!(registry.ids().contains(&"acme"));
    assert!(
        Registry::builtin().find("acme").is_none(),
        "no edit to the built-ins"
    );
    let provider = registry.config("Acme", env).unwrap().build().unwrap();
    assert_eq!(provider.kind(), KIND);
    // A setting missing, then a configuration file's key Acme does not read.
    let e = registry.config("acme", |_| None).unwrap_err();
    assert_eq!(e.setting, "ACME_API_KEY");
    assert_eq!(registry.configured(env).len(), 1);
    let options = telephony::stream::StreamOptions::for_provider(provider.as_ref());
    assert!(options.pacer.is_some(), "its pacing, from its description");
}

#[tokio::test]
async fn the_router_recognises_verifies_and_answers_its_calls() {
    let provider = Registry::builtin()
        .with(&ACME)
        .config("acme", env)
        .unwrap()
        .build()
        .unwrap();
    let directory = Arc::new(MemoryDirectory::new());
    directory.insert(
        "+14155550100".parse().unwrap(),
        StreamSpec::new("wss://agent.example.com/media/acme".parse().unwrap()),
    );
    let router = InboundRouter::new(directory).provider(provider);
    let now = SystemTime::now();
    let call = serde_json::json!({"call": "acme-1", "from": "+14155550199", "to": "+14155550100"});

    let reply = router
        .handle(
            &signed(
                "https://agent.example.com/inbound",
                call.clone(),
                "acme-secret",
            ),
            now,
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.outcome);
    assert!(matches!(reply.outcome, Outcome::Answered { .. }));
    assert!(
        reply.body.contains("wss://agent.example.com/media/acme"),
        "{}",
        reply.body
    );

    let forged = router
        .handle(
            &signed("https://agent.example.com/inbound", call, "not-the-secret"),
            now,
        )
        .await;
    assert_eq!(forged.status, 403);

    let status = serde_json::json!({"call": "acme-1", "state": "done"});
    let (kind, event) = router
        .status(
            &signed("https://agent.example.com/status", status, "acme-secret"),
            now,
        )
        .await
        .unwrap();
    assert_eq!((kind, event.status), (KIND, CallStatus::Completed));
}

/// A JSON POST to `url`, unsigned.
fn post(url: RequestUrl, body: serde_json::Value) -> WebhookRequest {
    let mut r = WebhookRequest::new(
        axum::http::Method::POST,
        url,
        axum::http::HeaderMap::new(),
        body.to_string(),
    );
    r.headers
        .insert("content-type", "application/json".parse().unwrap());
    r
}

/// Acme, as the webhook contract sees it.
fn webhooks() -> WebhookCarrier {
    WebhookCarrier {
        provider: Registry::builtin()
            .with(&ACME)
            .config("acme", env)
            .unwrap()
            .build()
            .unwrap(),
        secret: Secret::new(SECRET),
        signs: Signs::ALL,
        unsigned_headers: Vec::new(),
        status_callback: |url, state| {
            post(url, serde_json::json!({"call": "acme-1", "state": state}))
        },
        statuses: vec![
            ("queued", CallStatus::Queued),
            ("ringing", CallStatus::Ringing),
            ("answered", CallStatus::InProgress),
            ("done", CallStatus::Completed),
            ("busy", CallStatus::Busy),
            ("unanswered", CallStatus::NoAnswer),
            ("failed", CallStatus::Failed),
            ("cancelled", CallStatus::Canceled),
        ],
        inbound: |url, from, to, _| {
            let body =
                serde_json::json!({"call": "acme-2", "from": from.as_str(), "to": to.as_str()});
            post(RequestUrl::try_from(url).unwrap(), body)
        },
        secrets: vec![API_KEY.to_owned()],
    }
}

telephony_testkit::webhook_contract!(webhooks());

/// Acme's media, as the media contract sees it: its protocol, and its side of a stream.
fn media() -> MediaCarrier {
    MediaCarrier {
        formats: FORMATS.to_vec(),
        protocol: Arc::new(|_| Box::new(AcmeMedia::new())),
        side: Arc::new(|format| Box::new(AcmeSide::new(format))),
    }
}

telephony_testkit::media_contract!(media());

/// Acme's REST API, as the REST contract sees it.
fn rest() -> RestCarrier {
    fn adapter(base: Url, http: HttpConfig) -> Arc<dyn TelephonyProvider> {
        let acme = Acme::new(Secret::new(API_KEY), Secret::new(SECRET), base, &http);
        Arc::new(acme.unwrap())
    }
    fn page(n: u32, next: Option<&str>) -> serde_json::Value {
        let number = format!("+1415555{:04}", 100 + n);
        serde_json::json!({"numbers": [{"id": format!("num-{n}"), "number": number}], "next": next})
    }
    let call = serde_json::json!({"id": "acme-call-1", "state": "queued"});
    let stream = StreamSpec::new("wss://agent.example.com/media/acme".parse().unwrap());
    let outbound = OutboundCall::stream(
        E164::new("+14155550100").unwrap(),
        E164::new("+14155550199").unwrap(),
        stream,
    );
    fn error_body(status: u16, message: &str) -> serde_json::Value {
        serde_json::json!({"error": {"message": message, "code": status.to_string()}})
    }
    fn owned(current: &str) -> serde_json::Value {
        serde_json::json!({"id": "num-1", "number": "+14155550100", "voice_url": current})
    }
    RestCarrier {
        name: "Acme Telecom",
        adapter,
        outbound,
        create: Endpoint::new("POST", "/v1/calls", 201, call.clone()),
        call: CallId::new("acme-call-1").unwrap(),
        read: Endpoint::new("GET", "/v1/calls/acme-call-1", 200, call),
        hangup: Hangup {
            endpoint: Endpoint::new(
                "POST",
                "/v1/calls/acme-call-1/hangup",
                200,
                serde_json::json!({"id": "acme-call-1", "state": "completed"}),
            ),
            outcome: HangupOutcome::Ended,
            already_ended: (410, error_body(410, "the call already ended")),
        },
        cost: Cost {
            endpoint: Endpoint::new(
                "GET",
                "/v1/calls/acme-call-1/cost",
                200,
                serde_json::json!({"amount": "0.0120", "currency": "USD"}),
            ),
            amount: "0.0120",
            currency: "USD",
            unpriced: serde_json::json!({"amount": null, "currency": null}),
        },
        numbers: Listing {
            path: "/v1/numbers".to_owned(),
            page,
        },
        inbound: Inbound {
            number: E164::new("+14155550100").unwrap(),
            reads: |current| {
                vec![Endpoint::new(
                    "GET",
                    "/v1/numbers/14155550100",
                    200,
                    owned(current),
                )]
            },
            writes: vec![Endpoint::new(
                "PUT",
                "/v1/numbers/num-1",
                200,
                owned("https://agent.example.com/inbound"),
            )],
            stranger: E164::new("+14155550109").unwrap(),
            not_owned: vec![Endpoint::new(
                "GET",
                "/v1/numbers/14155550109",
                404,
                error_body(404, "no such number"),
            )],
            // Acme's numbers say nothing of what they take.
            voiceless: None,
        },
        // Acme has no balance API: balance() is the trait's Unsupported.
        balance: None,
        error_body,
        auth_setting: "ACME_API_KEY",
        secrets: vec![API_KEY.to_owned(), SECRET.to_owned()],
    }
}

telephony_testkit::rest_contract!(rest(), follows_links);
