//! The emulated Telnyx's call control with the real adapter: cold transfers answered (bridged,
//! then both legs end) and not answered (the caller kept up, told the fallback, hung up), every
//! event signed and carrying the state the adapter wrote; a recording's pre-signed file that
//! an altered or deleted link cannot fetch; refusals in Telnyx's words.

use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::{Value, json};
use telephony::telnyx::Telnyx;
use telephony::{
    CallId, CallNotice, NoAnswer, RequestUrl, TelephonyProvider, Transfer, TransferEvent,
    TransferFailure, WebhookRequest,
};
use tokio::sync::mpsc;

use super::{API_KEY, CONNECTION_ID, FakeTelnyx};
use crate::engine::{Phase, bind};
use crate::record::{Callee, Happening};

/// A host that takes every event at `/events`.
async fn host() -> (telephony::Url, mpsc::UnboundedReceiver<WebhookRequest>) {
    let (listener, url) = bind().await.unwrap();
    let events = url.join("/events").unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    let at = RequestUrl::try_from(&events).unwrap();
    let router = Router::new().route(
        "/events",
        post(move |headers: HeaderMap, body: Bytes| {
            let _ = tx.send(WebhookRequest::new(
                http::Method::POST,
                at.clone(),
                headers,
                body,
            ));
            async { "" }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    (events, rx)
}

struct Setup {
    fake: FakeTelnyx,
    telnyx: Telnyx,
    http: reqwest::Client,
    events: telephony::Url,
    rx: mpsc::UnboundedReceiver<WebhookRequest>,
}

async fn setup() -> Setup {
    let fake = FakeTelnyx::start().await.unwrap();
    fake.speed(20.0);
    fake.talk_time(Duration::from_secs(1));
    let telnyx = Telnyx::new(fake.config()).unwrap();
    let (events, rx) = host().await;
    Setup {
        fake,
        telnyx,
        http: reqwest::Client::new(),
        events,
        rx,
    }
}

impl Setup {
    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = self.fake.base_url().join(path).unwrap();
        let mut request = self
            .http
            .request(method.parse().unwrap(), url)
            .bearer_auth(API_KEY);
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A call dialled without a stream (parked once answered), its events at the host.
    async fn parked_call(&self) -> String {
        let (status, created) = self
            .send(
                "POST",
                "/calls",
                Some(json!({"connection_id": CONNECTION_ID, "to": "+14155550100", "from": "+14155550199", "webhook_url": self.events.as_str()})),
            )
            .await;
        assert_eq!(status, 200, "{created}");
        let id = created["data"]["call_control_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut phase = self.fake.carrier.watch_phase(&id).unwrap();
        phase
            .wait_for(|p| *p == Some(Phase::Answered))
            .await
            .unwrap();
        id
    }

    /// Follows every event (verified, then `control::follow`) until `done` holds of the
    /// transfer steps seen; the steps.
    async fn follow_until(
        &mut self,
        mut done: impl FnMut(&[TransferEvent]) -> bool,
    ) -> Vec<TransferEvent> {
        let mut steps = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while !done(&steps) {
            let request = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .unwrap_or_else(|_| panic!("steps so far: {steps:?}"))
                .unwrap();
            self.telnyx
                .verify_webhook(&request, SystemTime::now())
                .unwrap();
            let followed = telephony::control::follow(&self.telnyx, &request)
                .await
                .unwrap();
            for notice in followed.notices {
                if let CallNotice::Transfer(t) = notice {
                    steps.push(t.event);
                }
            }
        }
        steps
    }
}

#[tokio::test]
async fn a_cold_transfer_rings_the_target_bridges_it_and_both_end_with_it() {
    let mut s = setup().await;
    let caller = s.parked_call().await;
    let transfer = Transfer::cold("+14155550133".parse().unwrap()).events(s.events.clone());
    s.telnyx
        .transfer(&CallId::new(&caller).unwrap(), &transfer)
        .await
        .unwrap();
    let steps = s
        .follow_until(|steps| steps.contains(&TransferEvent::TargetEnded))
        .await;
    assert_eq!(steps[0], TransferEvent::TransferStarted, "{steps:?}");
    assert!(
        steps.contains(&TransferEvent::TransferAnswered),
        "{steps:?}"
    );
    assert!(steps.contains(&TransferEvent::Bridged), "{steps:?}");
    let caller = s.fake.wait(&caller).await.unwrap();
    assert_eq!(caller.status, telephony::CallStatus::Completed);
    let leg = s
        .fake
        .calls()
        .into_iter()
        .find(|c| c.to == "+14155550133")
        .unwrap();
    assert_eq!(caller.bridged_with(), [leg.id.as_str()]);
    assert_eq!(
        s.fake.wait(&leg.id).await.unwrap().bridged_with(),
        [caller.id.as_str()]
    );
}

#[tokio::test]
async fn a_cold_transfer_nobody_answers_keeps_the_caller_up_for_the_fallback() {
    let mut s = setup().await;
    s.fake
        .callee(&"+14155550122".parse().unwrap(), Callee::NoAnswer);
    let caller = s.parked_call().await;
    let transfer = Transfer::cold("+14155550122".parse().unwrap())
        .timeout(Duration::from_secs(5))
        .on_no_answer(NoAnswer::SayAndHangup("Sorry, nobody is free.".into()))
        .events(s.events.clone());
    s.telnyx
        .transfer(&CallId::new(&caller).unwrap(), &transfer)
        .await
        .unwrap();
    let failed = TransferEvent::TransferFailed {
        reason: TransferFailure::NoAnswer,
        raw: "timeout".into(),
    };
    // The target's hang-up, then the fallback's end on the caller.
    let steps = s
        .follow_until(|steps| steps.iter().filter(|e| **e == failed).count() == 2)
        .await;
    assert!(!steps.contains(&TransferEvent::Bridged), "{steps:?}");
    let record = s.fake.wait(&caller).await.unwrap();
    assert_eq!(record.said(), ["Sorry, nobody is free."]);
    assert!(record.bridged_with().is_empty());
    assert!(record.timeline.iter().any(
        |m| matches!(&m.what, Happening::Callback { event, .. } if event == "call.speak.ended")
    ));
}

#[tokio::test]
async fn a_recording_is_fetched_by_its_signed_link_only_and_refusals_are_telnyxs() {
    let mut s = setup().await;
    let caller = s.parked_call().await;
    let (status, body) = s
        .send(
            "POST",
            &format!("/calls/{caller}/actions/record_start"),
            Some(json!({"channels": "dual", "format": "wav"})),
        )
        .await;
    assert_eq!((status, &body["data"]["result"]), (200, &json!("ok")));
    let (status, body) = s
        .send(
            "POST",
            &format!("/calls/{caller}/actions/send_dtmf"),
            Some(json!({"digits": "1x"})),
        )
        .await;
    assert_eq!((status, &body["errors"][0]["code"]), (422, &json!("10015")));
    let (status, body) = s
        .send(
            "POST",
            &format!("/calls/{caller}/actions/bridge"),
            Some(json!({"call_control_id": "v3:nobody"})),
        )
        .await;
    assert_eq!((status, &body["errors"][0]["code"]), (404, &json!("10005")));
    s.telnyx
        .hangup(&CallId::new(&caller).unwrap())
        .await
        .unwrap();
    // call.hangup, then call.recording.saved with the recording's id and its link.
    let saved = loop {
        let request = s.rx.recv().await.unwrap();
        if let CallNotice::Recording(r) = s.telnyx.parse_callback(&request).unwrap() {
            break r;
        }
    };
    assert_eq!(saved.channels, Some(2));
    let id = saved.recording_id.clone().unwrap();
    let file = s.http.get(saved.url.clone()).send().await.unwrap();
    assert_eq!(file.status(), 200);
    let wav = file.bytes().await.unwrap();
    let (channels, _) = crate::parse_wav(&wav).unwrap();
    assert_eq!(channels.len(), 2);
    let mut altered = saved.url.clone();
    let pairs: Vec<(String, String)> = saved
        .url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "X-Amz-Expires" {
                "6000".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    altered.query_pairs_mut().clear().extend_pairs(&pairs);
    assert_eq!(s.http.get(altered).send().await.unwrap().status(), 403);
    let mut out = Vec::new();
    let bytes = s.telnyx.download_recording(&id, &mut out).await.unwrap();
    assert_eq!(out, wav);
    assert_eq!(bytes as usize, wav.len());
    s.telnyx.delete_recording(&id).await.unwrap();
    assert!(
        s.telnyx
            .download_recording(&id, &mut Vec::new())
            .await
            .is_err()
    );
    assert_eq!(
        s.http.get(saved.url.clone()).send().await.unwrap().status(),
        404
    );
    // An ended call takes no command.
    let (status, body) = s
        .send(
            "POST",
            &format!("/calls/{caller}/actions/speak"),
            Some(json!({"payload": "hello"})),
        )
        .await;
    assert_eq!((status, &body["errors"][0]["code"]), (422, &json!("90018")));
}
