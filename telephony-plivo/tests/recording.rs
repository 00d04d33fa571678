//! Recording against a fake Plivo on loopback: the Record API's exact bodies (plivo-python
//! 4.63 `calls.start_recording`, docs.plivo.com "Start recording a call"), stopping, the
//! recording's file streamed with the account's auth, deleting, the answer's `<Record>`, and
//! both recording callbacks (the API's and `<Record>`'s), signed as Plivo signs them.

mod common;

use std::time::{Duration, UNIX_EPOCH};

use common::*;
use telephony_core::{
    CallNotice, Error, RecordingChannels, RecordingFormat, RecordingId, RecordingOptions,
    StreamSpec, TelephonyProvider,
};
use wiremock::matchers::{any, body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const RID: &str = "c2186400-1c8c-11e4-a664-0026b945b52x";

fn rid() -> RecordingId {
    RecordingId::new(RID).unwrap()
}

fn record_path() -> String {
    p(&format!("Call/{UUID}/Record/"))
}

fn started() -> ResponseTemplate {
    json(
        202,
        serde_json::json!({
            "url": format!("http://s3.amazonaws.com/recordings_2013/{RID}.mp3"),
            "message": "call recording started", "recording_id": RID,
            "api_id": "c7b69074-58be-11e1-86da-adf28403fe48"
        }),
    )
}

#[tokio::test]
async fn start_recording_sends_its_length_always_and_stereo_for_dual() {
    let server = MockServer::start().await;
    let plivo = plivo(&server);
    let call = UUID.parse().unwrap();
    // Plivo's default length is 60 s: the call's default limit is asked for instead.
    let request = on("POST", record_path()).and(body_json(serde_json::json!({
        "time_limit": 14400,
        "callback_url": "https://agent.example.com/plivo/recording", "callback_method": "POST"
    })));
    mount(&server, request, started(), 1).await;
    let options =
        RecordingOptions::new().callback(url("https://agent.example.com/plivo/recording"));
    let got = plivo.start_recording(&call, &options).await.unwrap();
    assert_eq!(got.recording_id, Some(rid()));

    server.reset().await;
    let request = on("POST", record_path()).and(body_json(serde_json::json!({
        "time_limit": 600, "file_format": "wav", "record_channel_type": "stereo"
    })));
    let older = json(
        202,
        serde_json::json!({"url": "http://s3.amazonaws.com/plivocloud/x.wav", "message": "call recording started", "api_id": "x"}),
    );
    mount(&server, request, older, 1).await;
    let options = RecordingOptions::new()
        .channels(RecordingChannels::Dual)
        .format(RecordingFormat::Wav)
        .max_length(Duration::from_secs(600));
    // An answer without a recording_id (older docs) starts it all the same.
    let got = plivo.start_recording(&call, &options).await.unwrap();
    assert_eq!(got.recording_id, None);
}

#[tokio::test]
async fn refusals_and_errors() {
    let server = MockServer::start().await;
    let plivo = plivo(&server);
    let call = UUID.parse().unwrap();
    mount(
        &server,
        Mock::given(any()),
        json(500, serde_json::json!({"api_id": "x", "error": "boom"})),
        1,
    )
    .await;
    let ogg = RecordingOptions::new().format(RecordingFormat::Ogg);
    let e = plivo.start_recording(&call, &ogg).await.unwrap_err();
    assert!(matches!(e, Error::Unsupported { .. }), "{e}");
    assert!(requests(&server).await.is_empty());
    // Starting is not retried on a 5xx (it would record twice), and says Plivo may have acted.
    let e = plivo
        .start_recording(&call, &RecordingOptions::new())
        .await
        .unwrap_err();
    assert_eq!(e.api().map(|a| a.status), Some(500));
    assert!(e.may_have_acted(), "{e}");
}

#[tokio::test]
async fn stop_recording_stops_the_calls_recordings() {
    let server = MockServer::start().await;
    let plivo = plivo(&server);
    let call = UUID.parse().unwrap();
    mount(
        &server,
        on("DELETE", record_path()),
        ResponseTemplate::new(204),
        2,
    )
    .await;
    plivo.stop_recording(&call, None).await.unwrap();
    plivo.stop_recording(&call, Some(&rid())).await.unwrap();
    server.reset().await;
    // The call has ended: nothing left recording.
    mount(&server, on("DELETE", record_path()), not_found(), 1).await;
    plivo.stop_recording(&call, None).await.unwrap();
    server.reset().await;
    mount(
        &server,
        on("DELETE", record_path()),
        json(
            400,
            serde_json::json!({"api_id": "x", "error": "no recording in progress"}),
        ),
        1,
    )
    .await;
    let e = plivo.stop_recording(&call, None).await.unwrap_err();
    assert!(e.to_string().contains("no recording in progress"), "{e}");
}

/// The recording `RID`, its file at `file_url`.
async fn recording_at(server: &MockServer, file_url: &str) {
    let resource = serde_json::json!({
        "add_time": "2020-08-05 16:15:15.852059+05:30", "api_id": "x", "call_uuid": UUID,
        "conference_name": null, "recording_duration_ms": "345100.00000",
        "recording_end_ms": "1407235509007.00000", "recording_format": "mp3", "recording_id": RID,
        "recording_start_ms": "1407235163907.00000", "recording_type": "normal",
        "recording_url": file_url,
        "resource_uri": format!("/v1/Account/{ID}/Recording/{RID}/")
    });
    mount(
        server,
        on("GET", p(&format!("Recording/{RID}/"))),
        json(200, resource),
        1,
    )
    .await;
}

#[tokio::test]
async fn download_streams_the_file_with_the_accounts_auth() {
    let server = MockServer::start().await;
    let plivo = plivo(&server);
    let file: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    recording_at(&server, &format!("{}/media/{RID}.mp3", server.uri())).await;
    Mock::given(method("GET"))
        .and(path(format!("/media/{RID}.mp3")))
        .and(header("authorization", basic().as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(file.clone()))
        .expect(2)
        .mount(&server)
        .await;
    let mut out = Vec::new();
    let n = plivo.download_recording(&rid(), &mut out).await.unwrap();
    assert_eq!(n, file.len() as u64);
    assert_eq!(out, file);
    server.reset().await;
    recording_at(&server, &format!("{}/media/{RID}.mp3", server.uri())).await;
    Mock::given(method("GET"))
        .and(path(format!("/media/{RID}.mp3")))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(file.clone()))
        .mount(&server)
        .await;
    let n = plivo
        .download_recording(&rid(), &mut tokio::io::sink())
        .await
        .unwrap();
    assert_eq!(n, file.len() as u64);
}

#[tokio::test]
async fn download_refuses_hosts_not_plivos_and_unknown_recordings() {
    let server = MockServer::start().await;
    let plivo = plivo(&server);
    recording_at(&server, "https://evil.example.com/steal.mp3").await;
    let mut out = Vec::new();
    let e = plivo
        .download_recording(&rid(), &mut out)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Decode(d) if d.to_string().contains("evil.example.com")),
        "{e}"
    );
    assert!(out.is_empty());
    assert_eq!(requests(&server).await.len(), 1, "only the lookup");
    server.reset().await;
    mount(
        &server,
        on("GET", p(&format!("Recording/{RID}/"))),
        not_found(),
        1,
    )
    .await;
    let e = plivo
        .download_recording(&rid(), &mut out)
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
}

#[tokio::test]
async fn delete_recording() {
    let server = MockServer::start().await;
    let plivo = plivo(&server);
    let at = p(&format!("Recording/{RID}/"));
    mount(
        &server,
        on("DELETE", at.clone()),
        ResponseTemplate::new(204),
        1,
    )
    .await;
    plivo.delete_recording(&rid()).await.unwrap();
    server.reset().await;
    mount(&server, on("DELETE", at), not_found(), 1).await;
    assert!(
        plivo
            .delete_recording(&rid())
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[test]
fn the_answer_records_before_the_stream() {
    let plivo = telephony_plivo::Plivo::new(telephony_plivo::PlivoConfig::new(ID, TOKEN)).unwrap();
    // What the capability promises: the answer asks for the recording.
    assert!(plivo.capabilities().recording_on_answer);
    let stream = StreamSpec::new(url("wss://agent.example.com/plivo"));
    let record = RecordingOptions::new()
        .channels(RecordingChannels::Dual)
        .callback(url("https://agent.example.com/plivo/recording?a=1&b=2"));
    let doc = plivo
        .answer(&stream.clone().record(record.clone()))
        .unwrap()
        .body;
    assert!(
        doc.contains(
            "<Response><Record recordSession=\"true\" redirect=\"false\" maxLength=\"14400\" recordChannelType=\"stereo\" \
             callbackUrl=\"https://agent.example.com/plivo/recording?a=1&amp;b=2\" callbackMethod=\"POST\"/><Stream "
        ),
        "{doc}"
    );
    for refused in [RecordingOptions::new(), record.format(RecordingFormat::Ogg)] {
        let e = plivo.answer(&stream.clone().record(refused)).unwrap_err();
        assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
    }
}

#[test]
fn recording_callbacks_of_the_api_and_of_record() {
    let plivo = telephony_plivo::Plivo::new(telephony_plivo::PlivoConfig::new(ID, TOKEN)).unwrap();
    let at = url("https://agent.example.com/plivo/recording");
    let file = format!("http://s3.amazonaws.com/recordings_2013/{RID}.mp3");
    // The Record API's callback ("Start recording a call", callback URL parameters).
    let api = signed(
        &plivo,
        &at,
        &[
            ("api_id", "c7b69074-58be-11e1-86da-adf28403fe48"),
            ("record_url", &file),
            ("call_uuid", UUID),
            ("recording_id", RID),
            ("recording_duration", "345"),
            ("recording_duration_ms", "345100.00000"),
            ("recording_start_ms", "1407235163907.00000"),
            ("recording_end_ms", "1407235509007.00000"),
        ],
    );
    let CallNotice::Recording(ready) = plivo.parse_callback(&api).unwrap() else {
        panic!("a recording")
    };
    assert_eq!(ready.recording_id, Some(rid()));
    assert_eq!(ready.call_id.as_ref().unwrap().as_str(), UUID);
    assert_eq!(ready.url.as_str(), file);
    assert_eq!(ready.duration, Some(Duration::from_millis(345_100)));
    assert_eq!(ready.format, Some(RecordingFormat::Mp3));
    assert_eq!(
        ready.started_at,
        Some(UNIX_EPOCH + Duration::from_millis(1_407_235_163_907))
    );
    // <Record>'s callback (as Plivo's examples read it: RecordUrl, RecordingDuration,
    // RecordingID), with the call's own parameters around it.
    let wav = format!("https://media.plivo.com/v1/Account/{ID}/Recording/{RID}.wav");
    let xml = signed(
        &plivo,
        &at,
        &[
            ("CallUUID", UUID),
            ("CallStatus", "in-progress"),
            ("RecordUrl", &wav),
            ("RecordingID", RID),
            ("RecordingDuration", "22"),
        ],
    );
    let CallNotice::Recording(ready) = plivo.parse_callback(&xml).unwrap() else {
        panic!("a recording")
    };
    assert_eq!(ready.recording_id, Some(rid()));
    assert_eq!(ready.call_id.as_ref().unwrap().as_str(), UUID);
    assert_eq!(ready.duration, Some(Duration::from_secs(22)));
    assert_eq!(ready.format, Some(RecordingFormat::Wav));
    assert_eq!(ready.channels, None);
    // A URL that is not one is a decode error, not a panic.
    let bad = signed(&plivo, &at, &[("record_url", "not a url")]);
    assert!(matches!(plivo.parse_callback(&bad), Err(Error::Decode(_))));
}
