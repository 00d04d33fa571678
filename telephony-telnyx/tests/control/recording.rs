//! Recording: from the answer on dial and answer, started and stopped mid-call, announced by
//! `call.recording.saved`, downloaded by id and deleted.

use std::time::Duration;

use serde_json::json;
use telephony_core::{
    CallNotice, InboundCall, OutboundCall, RecordingChannels, RecordingFormat, RecordingId,
    RecordingOptions, StreamSpec, TelephonyProvider,
};
use telephony_telnyx::events::timestamp;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::{CALLER, action, bearer, body_of, call, callback, event, ok, on, requests, telnyx};

fn stream() -> StreamSpec {
    StreamSpec::new("wss://agent.example.com/media/telnyx".parse().unwrap())
}

fn outbound(record: RecordingOptions) -> OutboundCall {
    OutboundCall::stream(
        "+14155550123".parse().unwrap(),
        "+14155550100".parse().unwrap(),
        stream(),
    )
    .status_callback(crate::EVENTS.parse().unwrap())
    .record(record)
}

fn recording_id() -> RecordingId {
    RecordingId::new("428c31b6-7af4-4bcb-b7f5-5013ef9657c1").unwrap()
}

#[tokio::test]
async fn a_call_records_from_its_answer_on_dial_and_on_answer() {
    let server = MockServer::start().await;
    on(&server, "POST", "/calls", ResponseTemplate::new(200).set_body_json(json!({"data": {"call_control_id": CALLER, "is_alive": false, "record_type": "call", "recording_id": "428c31b6-7af4-4bcb-b7f5-5013ef9657c1"}}))).await;
    on(&server, "POST", &action(CALLER, "answer"), ok()).await;
    let t = telnyx(&server);
    let options = RecordingOptions::new()
        .channels(RecordingChannels::Dual)
        .format(RecordingFormat::Mp3)
        .max_length(Duration::from_secs(3600));
    t.initiate_call(&outbound(options.clone())).await.unwrap();
    let inbound = InboundCall::new(call(CALLER), "+13125550001", "+14155550100");
    let elsewhere = options.callback("https://agent.example.com/recordings".parse().unwrap());
    t.connect_call(&inbound, &stream().record(elsewhere))
        .await
        .unwrap();
    let sent = requests(&server).await;
    let dial = body_of(&sent[0]);
    assert_eq!(dial["record"], "record-from-answer");
    assert_eq!(dial["record_channels"], "dual");
    assert_eq!(dial["record_format"], "mp3");
    assert_eq!(dial["record_max_length"], 3600);
    assert!(dial.get("webhook_urls").is_none());
    assert_eq!(dial["stream_url"], "wss://agent.example.com/media/telnyx");
    let answer = body_of(&sent[1]);
    assert_eq!(answer["record"], "record-from-answer");
    assert_eq!(answer["record_channels"], "dual");
    assert_eq!(
        answer["webhook_urls"],
        json!({
            "call.recording.saved": ["https://agent.example.com/recordings"],
            "call.recording.error": ["https://agent.example.com/recordings"],
        })
    );
    assert_eq!(answer["webhook_urls_method"], "POST");
    // Without recording, none of it.
    let plain = telephony_telnyx::Telnyx::answer_command(CALLER, &stream()).unwrap();
    assert!(!plain.body.contains("record"));
}

#[tokio::test]
async fn recording_starts_and_stops_mid_call() {
    let server = MockServer::start().await;
    on(&server, "POST", &action(CALLER, "record_start"), ok()).await;
    on(&server, "POST", &action(CALLER, "record_stop"), ok()).await;
    let t = telnyx(&server);
    let started = t
        .start_recording(
            &call(CALLER),
            &RecordingOptions::new().max_length(Duration::from_secs(600)),
        )
        .await
        .unwrap();
    assert_eq!(started.recording_id, None);
    t.stop_recording(&call(CALLER), Some(&recording_id()))
        .await
        .unwrap();
    t.stop_recording(&call(CALLER), None).await.unwrap();
    let sent = requests(&server).await;
    assert_eq!(sent[0].headers["authorization"], bearer().as_str());
    let start = body_of(&sent[0]);
    assert_eq!(start["channels"], "single");
    assert_eq!(start["format"], "wav");
    assert_eq!(start["max_length"], 600);
    assert_eq!(start["play_beep"], false);
    assert!(
        start["command_id"]
            .as_str()
            .unwrap()
            .starts_with("record_start-")
    );
    let stop = body_of(&sent[1]);
    assert_eq!(stop["recording_id"], recording_id().as_str());
    assert!(body_of(&sent[2]).get("recording_id").is_none());
}

#[tokio::test]
async fn recordings_telnyx_cannot_make_are_refused_before_any_request() {
    let server = MockServer::start().await;
    let t = telnyx(&server);
    let ogg = RecordingOptions::new().format(RecordingFormat::Ogg);
    assert!(t.start_recording(&call(CALLER), &ogg).await.is_err());
    assert!(t.initiate_call(&outbound(ogg)).await.is_err());
    let long = RecordingOptions::new().max_length(Duration::from_secs(43_201));
    assert!(t.initiate_call(&outbound(long)).await.is_err());
    assert!(requests(&server).await.is_empty());
}

#[test]
fn a_saved_recording_is_announced_with_its_link_and_when_it_expires() {
    let server_less = crate::offline();
    let signed_link = "https://s3.amazonaws.com/telephony-recorder-prod/a.mp3?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261203T120005Z&X-Amz-Expires=600&X-Amz-SignedHeaders=host&X-Amz-Signature=d1d1";
    let body = event(
        "call.recording.saved",
        CALLER,
        None,
        json!({
            "channels": "dual",
            "recording_started_at": "2026-12-03T11:59:30.000000Z",
            "recording_ended_at": "2026-12-03T12:00:00.000000Z",
            "recording_urls": {"mp3": signed_link},
            "public_recording_urls": {"mp3": "https://telnyx.example/public.mp3"},
        }),
    );
    let request = crate::signed(&body);
    let CallNotice::Recording(ready) = server_less.parse_callback(&request).unwrap() else {
        panic!("not a recording");
    };
    assert_eq!(ready.url.as_str(), signed_link);
    assert_eq!(ready.call_id, Some(call(CALLER)));
    assert_eq!(ready.recording_id, None);
    assert_eq!(ready.format, Some(RecordingFormat::Mp3));
    assert_eq!(ready.channels, Some(2));
    assert_eq!(ready.duration, Some(Duration::from_secs(30)));
    assert_eq!(ready.started_at, timestamp("2026-12-03T11:59:30Z"));
    assert_eq!(ready.url_expires_at, timestamp("2026-12-03T12:10:05Z"));
    // A link without its signing date: 10 minutes from the event.
    let body = event(
        "call.recording.saved",
        CALLER,
        None,
        json!({"channels": "single", "recording_urls": {"wav": "https://s3.amazonaws.com/b/a.wav", "mp3": "https://s3.amazonaws.com/b/a.mp3"}, "recording_id": "rec-1"}),
    );
    let CallNotice::Recording(ready) = callback(&server_less, &body) else {
        panic!("not a recording");
    };
    assert_eq!(ready.url.as_str(), "https://s3.amazonaws.com/b/a.wav");
    assert_eq!(ready.format, Some(RecordingFormat::Wav));
    assert_eq!(ready.channels, Some(1));
    assert_eq!(ready.recording_id, Some(RecordingId::new("rec-1").unwrap()));
    assert_eq!(ready.url_expires_at, timestamp("2026-12-03T12:10:00Z"));
    // Only the permanent link: it does not expire.
    let body = event(
        "call.recording.saved",
        CALLER,
        None,
        json!({"public_recording_urls": {"wav": "https://telnyx.example/p.wav"}}),
    );
    let CallNotice::Recording(ready) = callback(&server_less, &body) else {
        panic!("not a recording");
    };
    assert_eq!(ready.url_expires_at, None);
    // No link at all is an error, not a recording.
    let empty = event("call.recording.saved", CALLER, None, json!({}));
    assert!(server_less.parse_callback(&crate::signed(&empty)).is_err());
    // A recording that failed is the call's status, the reason kept.
    let error = event(
        "call.recording.error",
        CALLER,
        None,
        json!({"reason": "Internal server error"}),
    );
    let CallNotice::Status(status) = callback(&server_less, &error) else {
        panic!("not a status");
    };
    assert_eq!(status.raw_event.as_deref(), Some("call.recording.error"));
    assert_eq!(status.raw_status, "Internal server error");
}

#[tokio::test]
async fn a_recording_downloads_by_id_from_its_presigned_link_without_the_key() {
    let server = MockServer::start().await;
    let id = recording_id();
    let file: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    Mock::given(method("GET"))
        .and(path(format!("/recordings/{id}")))
        .and(header("authorization", bearer().as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"id": id.as_str(), "record_type": "recording", "call_control_id": CALLER, "channels": "single", "duration_millis": 30000, "status": "completed", "download_urls": {"wav": format!("{}/files/a.wav?X-Amz-Expires=600", server.uri())}}})))
        .mount(&server)
        .await;
    on(
        &server,
        "GET",
        "/files/a.wav",
        ResponseTemplate::new(200).set_body_bytes(file.clone()),
    )
    .await;
    let t = telnyx(&server);
    let mut out = Vec::new();
    let n = t.download_recording(&id, &mut out).await.unwrap();
    assert_eq!(n, file.len() as u64);
    assert_eq!(out, file);
    let mut sink = tokio::io::sink();
    assert_eq!(
        t.download_recording(&id, &mut sink).await.unwrap(),
        file.len() as u64
    );
    let sent = requests(&server).await;
    assert_eq!(sent[1].url.path(), "/files/a.wav");
    assert!(sent[1].headers.get("authorization").is_none());

    // A link anywhere else is not followed; an unknown recording is Telnyx's 404.
    let server = MockServer::start().await;
    on(&server, "GET", &format!("/recordings/{id}"), ResponseTemplate::new(200).set_body_json(json!({"data": {"id": id.as_str(), "download_urls": {"wav": "https://evil.example.com/a.wav"}}}))).await;
    let err = telnyx(&server)
        .download_recording(&id, &mut Vec::new())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("evil.example.com"), "{err}");
    assert_eq!(requests(&server).await.len(), 1);
    let server = MockServer::start().await;
    on(
        &server,
        "GET",
        &format!("/recordings/{id}"),
        ResponseTemplate::new(404)
            .set_body_json(json!({"errors": [{"code": "10005", "title": "Resource not found"}]})),
    )
    .await;
    let err = telnyx(&server)
        .download_recording(&id, &mut Vec::new())
        .await
        .unwrap_err();
    assert!(err.is_not_found());
}

#[tokio::test]
async fn a_recording_is_deleted_by_id() {
    let server = MockServer::start().await;
    let id = recording_id();
    Mock::given(method("DELETE"))
        .and(path(format!("/recordings/{id}")))
        .and(header("authorization", bearer().as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"data": {"id": id.as_str(), "record_type": "recording", "status": "completed"}}),
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    on(
        &server,
        "DELETE",
        &format!("/recordings/{id}"),
        ResponseTemplate::new(404)
            .set_body_json(json!({"errors": [{"code": "10005", "title": "Resource not found"}]})),
    )
    .await;
    let t = telnyx(&server);
    t.delete_recording(&id).await.unwrap();
    assert!(t.delete_recording(&id).await.unwrap_err().is_not_found());
}
