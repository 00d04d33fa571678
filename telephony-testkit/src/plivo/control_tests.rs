//! The emulated Plivo's call-control REST on the wire: a live call pressed keys on, recorded,
//! moved to new XML, and its recording fetched and deleted; and bad requests answered with
//! Plivo's error bodies.

use std::time::Duration;

use axum::Router;
use axum::routing::post;
use serde_json::{Value, json};

use super::{AUTH_ID, AUTH_TOKEN, FakePlivo};
use crate::engine::{Phase, bind};
use crate::record::Happening;

/// A host answering `/answer` with a long wait and `/moved` with a word and a hang-up.
async fn host() -> telephony::Url {
    let (listener, url) = bind().await.unwrap();
    let router = Router::new()
        .route(
            "/answer",
            post(|| async { "<Response><Wait length=\"600\"/></Response>" }),
        )
        .route(
            "/moved",
            post(|| async { "<Response><Speak>moved</Speak><Hangup/></Response>" }),
        );
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

struct Api {
    fake: FakePlivo,
    http: reqwest::Client,
}

impl Api {
    async fn send(&self, method: &str, tail: &str, body: Option<Value>) -> (u16, Value) {
        let url = self
            .fake
            .base_url()
            .join(&format!("/v1/Account/{AUTH_ID}/{tail}"))
            .unwrap();
        let mut request = self
            .http
            .request(method.parse().unwrap(), url)
            .basic_auth(AUTH_ID, Some(AUTH_TOKEN));
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// Places a call answered with a long wait; its `CallUUID` once answered.
async fn live_call(api: &Api, host: &telephony::Url) -> String {
    let answer = host.join("/answer").unwrap();
    let (status, created) = api
        .send(
            "POST",
            "Call/",
            Some(
                json!({"from": "14155550199", "to": "14155550100", "answer_url": answer.as_str()}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let request = created["request_uuid"].as_str().unwrap();
    let uuid = {
        let s = api.fake.carrier.lock();
        s.calls
            .values()
            .find(|c| c.info.secondary_id == request)
            .map(|c| c.info.id.clone())
            .unwrap()
    };
    let mut phase = api.fake.carrier.watch_phase(&uuid).unwrap();
    phase
        .wait_for(|p| *p == Some(Phase::Answered))
        .await
        .unwrap();
    uuid
}

#[tokio::test]
async fn a_live_call_pressed_recorded_moved_and_its_recording_fetched() {
    let fake = FakePlivo::start().await.unwrap();
    fake.speed(20.0);
    let api = Api {
        fake,
        http: reqwest::Client::new(),
    };
    let host = host().await;
    let call = live_call(&api, &host).await;

    let (status, body) = api
        .send(
            "POST",
            &format!("Call/{call}/DTMF/"),
            Some(json!({"digits": "12w#", "leg": "aleg"})),
        )
        .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (202, Some("digits sent"))
    );
    assert_eq!(api.fake.call(&call).unwrap().keys_heard(), "12#");

    let (status, started) = api
        .send(
            "POST",
            &format!("Call/{call}/Record/"),
            Some(json!({"time_limit": 600, "record_channel_type": "stereo", "file_format": "wav"})),
        )
        .await;
    assert_eq!(status, 202, "{started}");
    let recording = started["recording_id"].as_str().unwrap().to_owned();
    assert!(
        started["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/v1/Account/{AUTH_ID}/Recording/{recording}.wav"))
    );
    assert_eq!(api.fake.recordings()[0].channels, 2);
    // Not listed until its file is ready.
    let (status, _) = api
        .send("GET", &format!("Recording/{recording}/"), None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = api
        .send("DELETE", &format!("Call/{call}/Record/"), None)
        .await;
    assert_eq!(status, 204);

    // Moved to new XML: the call speaks it and hangs up.
    let moved = host.join("/moved").unwrap();
    let (status, body) = api
        .send(
            "POST",
            &format!("Call/{call}/"),
            Some(json!({"legs": "aleg", "aleg_url": moved.as_str(), "aleg_method": "POST"})),
        )
        .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (202, Some("call transferred"))
    );
    let record = api.fake.wait(&call).await.unwrap();
    assert_eq!(record.said(), ["moved"]);
    assert!(
        record
            .timeline
            .iter()
            .any(|m| m.what == Happening::Redirected)
    );

    let (status, resource) = api
        .send("GET", &format!("Recording/{recording}/"), None)
        .await;
    assert_eq!(status, 200, "{resource}");
    assert_eq!(resource["call_uuid"], call.as_str());
    assert_eq!(resource["recording_format"], "wav");
    let file = resource["recording_url"].as_str().unwrap();
    let wav = api
        .http
        .get(file)
        .basic_auth(AUTH_ID, Some(AUTH_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(wav.status().as_u16(), 200);
    let (channels, _) = crate::parse_wav(&wav.bytes().await.unwrap()).unwrap();
    assert_eq!(channels.len(), 2);
    let anonymous = api.http.get(file).send().await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    let (status, _) = api
        .send("DELETE", &format!("Recording/{recording}/"), None)
        .await;
    assert_eq!(status, 204);
    for (method, tail) in [
        ("GET", format!("Recording/{recording}/")),
        ("DELETE", format!("Recording/{recording}/")),
    ] {
        assert_eq!(
            api.send(method, &tail, None).await.0,
            404,
            "{method} {tail}"
        );
    }
    // The call is over: nothing to move, record or press.
    for (tail, body) in [
        (format!("Call/{call}/"), json!({"aleg_url": moved.as_str()})),
        (format!("Call/{call}/Record/"), json!({})),
        (format!("Call/{call}/DTMF/"), json!({"digits": "1"})),
    ] {
        let (status, error) = api.send("POST", &tail, Some(body)).await;
        assert_eq!(status, 404, "{tail}");
        assert!(error["error"].is_string() && error["api_id"].is_string());
    }
}

#[tokio::test]
async fn bad_requests_get_plivos_errors() {
    let fake = FakePlivo::start().await.unwrap();
    fake.speed(20.0);
    let api = Api {
        fake,
        http: reqwest::Client::new(),
    };
    let host = host().await;
    let call = live_call(&api, &host).await;
    for (tail, body) in [
        (format!("Call/{call}/"), json!({"legs": "cleg"})),
        (format!("Call/{call}/"), json!({"legs": "aleg"})),
        (format!("Call/{call}/"), json!({"aleg_url": "not a url"})),
        (
            format!("Call/{call}/"),
            json!({"aleg_url": "https://a.example/x", "aleg_method": "PUT"}),
        ),
        (
            format!("Call/{call}/"),
            json!({"legs": "bleg", "bleg_url": "https://a.example/x"}),
        ),
        (
            format!("Call/{call}/Record/"),
            json!({"file_format": "ogg"}),
        ),
        (format!("Call/{call}/Record/"), json!({"time_limit": 0})),
        (
            format!("Call/{call}/Record/"),
            json!({"record_channel_type": "quad"}),
        ),
        (format!("Call/{call}/DTMF/"), json!({"digits": "12x"})),
        (format!("Call/{call}/DTMF/"), json!({})),
        (
            format!("Call/{call}/DTMF/"),
            json!({"digits": "1", "leg": "bleg"}),
        ),
        (
            "Call/".to_owned(),
            json!({"from": "1", "to": "2", "answer_url": "https://a.example/a", "machine_detection": "maybe"}),
        ),
    ] {
        let (status, error) = api.send("POST", &tail, Some(body.clone())).await;
        assert_eq!(status, 400, "{tail} {body}: {error}");
        assert!(error["error"].is_string(), "{error}");
    }
    // Not JSON at all.
    let url = api
        .fake
        .base_url()
        .join(&format!("/v1/Account/{AUTH_ID}/Call/{call}/"))
        .unwrap();
    let response = api
        .http
        .post(url)
        .basic_auth(AUTH_ID, Some(AUTH_TOKEN))
        .body("\u{0}{[")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    // Unknown recordings, a file asked as MP3, and no credentials.
    assert_eq!(api.send("GET", "Recording/nope/", None).await.0, 404);
    assert_eq!(api.send("GET", "Recording/nope.mp3", None).await.0, 404);
    let anonymous = api
        .http
        .post(
            api.fake
                .base_url()
                .join(&format!("/v1/Account/{AUTH_ID}/Call/{call}/DTMF/"))
                .unwrap(),
        )
        .json(&json!({"digits": "1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    // Still live through all of it.
    assert!(!api.fake.call(&call).unwrap().is_over());
    api.fake.carrier.hangup(&call);
    tokio::time::timeout(Duration::from_secs(30), api.fake.wait(&call))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_transfer_moves_the_call_once_its_answer_is_written() {
    let (tx, rx) = std::sync::mpsc::channel();
    let answer = super::control::after_answer(
        axum::http::StatusCode::ACCEPTED,
        &json!({"message": "call transferred"}),
        move || tx.send(()).unwrap(),
    );
    assert!(
        rx.try_recv().is_err(),
        "moved before the answer was written"
    );
    let body = axum::body::to_bytes(answer.into_body(), 1024)
        .await
        .unwrap();
    assert_eq!(body.as_ref(), br#"{"message":"call transferred"}"#);
    rx.try_recv().expect("moved once the answer was written");
}
