//! Recording (on create, on answer, mid-call; stop, download, delete), answering-machine
//! detection on create, DTMF, and what the capabilities say.

use std::time::Duration;

use telephony_core::{
    Dtmf, Error, MachineDetection, OutboundCall, RecordingChannels, RecordingFormat, RecordingId,
    RecordingOptions, StreamSpec, TelephonyProvider,
};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

const RE: &str = "RE0123456789abcdef0123456789abcdef";
const STATUS: &str = "https://agent.example.com/status";
const RECORDINGS: &str = "https://agent.example.com/recordings";

fn recording_id() -> RecordingId {
    RecordingId::new(RE).unwrap()
}

fn recording_json(status: &str) -> serde_json::Value {
    serde_json::json!({
        "sid": RE, "account_sid": SID, "call_sid": CALL, "status": status, "channels": 2,
        "source": "StartCallRecordingAPI", "duration": "-1", "api_version": "2010-04-01"
    })
}

fn dual() -> RecordingOptions {
    RecordingOptions::new()
        .channels(RecordingChannels::Dual)
        .callback(RECORDINGS.parse().unwrap())
}

async fn silent() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_call_placed_with_recording_and_async_detection_asks_for_both() {
    let server = MockServer::start().await;
    let twiml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Connect><Stream url=\"wss://agent.example.com/media\"/></Connect><Hangup/></Response>";
    let create = on("POST", account("Calls.json")).and(form(&[
        ("To", "+14155550100"),
        ("From", "+14155550199"),
        ("Twiml", twiml),
        ("StatusCallback", STATUS),
        ("StatusCallbackMethod", "POST"),
        ("StatusCallbackEvent", "initiated"),
        ("StatusCallbackEvent", "ringing"),
        ("StatusCallbackEvent", "answered"),
        ("StatusCallbackEvent", "completed"),
        ("MachineDetection", "DetectMessageEnd"),
        ("AsyncAmd", "true"),
        ("AsyncAmdStatusCallback", STATUS),
        ("AsyncAmdStatusCallbackMethod", "POST"),
        ("Record", "true"),
        ("RecordingChannels", "mono"),
        ("RecordingStatusCallback", STATUS),
        ("RecordingStatusCallbackMethod", "POST"),
        ("RecordingStatusCallbackEvent", "completed"),
    ]));
    mount(
        &server,
        create,
        answer(201, call_json(CALL, "queued", "outbound-api")),
        1,
    )
    .await;
    let call = OutboundCall::stream(
        "+14155550100".parse().unwrap(),
        "+14155550199".parse().unwrap(),
        StreamSpec::new("wss://agent.example.com/media".parse().unwrap()),
    )
    .status_callback(STATUS.parse().unwrap())
    .machine_detection(MachineDetection::DetectGreetingEnd)
    .record(RecordingOptions::new());
    twilio(&server).initiate_call(&call).await.unwrap();
}

#[tokio::test]
async fn detection_without_a_status_callback_stays_synchronous() {
    let server = MockServer::start().await;
    let create = on("POST", account("Calls.json")).and(form(&[
        ("To", "+14155550100"),
        ("From", "+14155550199"),
        ("Url", "https://agent.example.com/answer"),
        ("Method", "POST"),
        ("MachineDetection", "Enable"),
        ("Record", "true"),
        ("RecordingChannels", "dual"),
        ("RecordingStatusCallback", RECORDINGS),
        ("RecordingStatusCallbackMethod", "POST"),
        ("RecordingStatusCallbackEvent", "completed"),
    ]));
    mount(
        &server,
        create,
        answer(201, call_json(CALL, "queued", "outbound-api")),
        1,
    )
    .await;
    let call = OutboundCall::answer_url(
        "+14155550100".parse().unwrap(),
        "+14155550199".parse().unwrap(),
        "https://agent.example.com/answer".parse().unwrap(),
    )
    .machine_detection(MachineDetection::Detect)
    .record(dual());
    twilio(&server).initiate_call(&call).await.unwrap();
}

#[tokio::test]
async fn recording_options_twilio_cannot_honour_send_nothing() {
    let server = silent().await;
    let t = twilio(&server);
    for options in [
        RecordingOptions::new().format(RecordingFormat::Mp3),
        RecordingOptions::new().max_length(Duration::from_secs(60)),
    ] {
        let e = t.start_recording(&caller(), &options).await.unwrap_err();
        assert!(matches!(e, Error::Unsupported { .. }), "{e}");
        let call = OutboundCall::answer_url(
            "+14155550100".parse().unwrap(),
            "+14155550199".parse().unwrap(),
            "https://agent.example.com/answer".parse().unwrap(),
        )
        .record(options.clone());
        let e = t.initiate_call(&call).await.unwrap_err();
        assert!(matches!(e, Error::Unsupported { .. }), "{e}");
        let stream = StreamSpec::new("wss://agent.example.com/media".parse().unwrap());
        assert!(t.answer(&stream.record(options)).is_err());
    }
}

#[test]
fn answering_with_recording_starts_it_before_the_stream() {
    let t = offline();
    let stream = StreamSpec::new("wss://agent.example.com/media".parse().unwrap());
    let doc = t.answer(&stream.clone().record(dual())).unwrap().body;
    assert_eq!(
        doc,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Start><Recording channels=\"dual\" recordingStatusCallback=\"{RECORDINGS}\" recordingStatusCallbackEvent=\"completed\"/></Start><Connect><Stream url=\"wss://agent.example.com/media\"/></Connect><Hangup/></Response>"
        )
    );
    // Announced at the stream's status callback when the options name none.
    let doc = t
        .answer(
            &stream
                .clone()
                .status_callback(STATUS.parse().unwrap())
                .record(RecordingOptions::new()),
        )
        .unwrap()
        .body;
    assert!(
        doc.contains(&format!("<Start><Recording channels=\"mono\" recordingStatusCallback=\"{STATUS}\" recordingStatusCallbackEvent=\"completed\"/></Start><Connect>")),
        "{doc}"
    );
    // Not asked, not there.
    assert!(!t.answer(&stream).unwrap().body.contains("Recording"));
}

#[tokio::test]
async fn a_recording_started_mid_call_is_named_at_once() {
    let server = MockServer::start().await;
    let start = on("POST", account(&format!("Calls/{CALL}/Recordings.json"))).and(form(&[
        ("RecordingChannels", "dual"),
        ("RecordingStatusCallback", RECORDINGS),
        ("RecordingStatusCallbackMethod", "POST"),
        ("RecordingStatusCallbackEvent", "completed"),
    ]));
    mount(
        &server,
        start,
        answer(201, recording_json("in-progress")),
        1,
    )
    .await;
    let started = twilio(&server)
        .start_recording(&caller(), &dual())
        .await
        .unwrap();
    assert_eq!(started.recording_id, Some(recording_id()));
}

#[tokio::test]
async fn a_mid_call_start_twilio_fails_with_a_5xx_is_not_sent_twice() {
    let server = MockServer::start().await;
    let start = on("POST", account(&format!("Calls/{CALL}/Recordings.json")))
        .and(form(&[("RecordingChannels", "mono")]));
    mount(&server, start, ResponseTemplate::new(500), 1).await;
    let e = twilio(&server)
        .start_recording(&caller(), &RecordingOptions::new())
        .await
        .unwrap_err();
    assert!(e.may_have_acted() && e.http_status() == Some(500), "{e}");
}

#[tokio::test]
async fn stopping_names_the_recording_or_the_current_one() {
    let server = MockServer::start().await;
    for sid in [RE, "Twilio.CURRENT"] {
        let stop = on(
            "POST",
            account(&format!("Calls/{CALL}/Recordings/{sid}.json")),
        )
        .and(form(&[("Status", "stopped")]));
        mount(&server, stop, answer(200, recording_json("stopped")), 1).await;
    }
    let t = twilio(&server);
    t.stop_recording(&caller(), Some(&recording_id()))
        .await
        .unwrap();
    t.stop_recording(&caller(), None).await.unwrap();
}

#[tokio::test]
async fn stopping_a_recording_twilio_does_not_know_is_not_found() {
    let server = MockServer::start().await;
    let stop = on(
        "POST",
        account(&format!("Calls/{CALL}/Recordings/Twilio.CURRENT.json")),
    );
    mount(&server, stop, not_found_20404(), 1).await;
    let e = twilio(&server)
        .stop_recording(&caller(), None)
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
}

/// A writer that counts the writes it is given.
#[derive(Default)]
struct Counting {
    bytes: Vec<u8>,
    writes: usize,
}

impl tokio::io::AsyncWrite for Counting {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.writes += 1;
        self.bytes.extend_from_slice(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn a_download_streams_every_chunk_with_the_accounts_auth() {
    let server = MockServer::start().await;
    let wav: Vec<u8> = (0..1_500_000u32).map(|i| (i % 253) as u8).collect();
    let media = on("GET", account(&format!("Recordings/{RE}.wav")));
    let body = ResponseTemplate::new(200)
        .insert_header("content-type", "audio/x-wav")
        .set_body_bytes(wav.clone());
    mount(&server, media, body, 2).await;
    let t = twilio(&server);
    let mut out = Counting::default();
    let n = t
        .download_recording(&recording_id(), &mut out)
        .await
        .unwrap();
    assert_eq!(n, wav.len() as u64);
    assert!(out.bytes == wav, "the bytes differ");
    assert!(
        out.writes > 1,
        "written as it arrived, not whole: {} writes",
        out.writes
    );
    let mut sink = tokio::io::sink();
    let n = t
        .download_recording(&recording_id(), &mut sink)
        .await
        .unwrap();
    assert_eq!(n, wav.len() as u64);
}

#[tokio::test]
async fn a_download_of_an_unknown_recording_writes_nothing() {
    let server = MockServer::start().await;
    mount(
        &server,
        on("GET", account(&format!("Recordings/{RE}.wav"))),
        not_found_20404(),
        1,
    )
    .await;
    let mut out = Vec::new();
    let e = twilio(&server)
        .download_recording(&recording_id(), &mut out)
        .await
        .unwrap_err();
    assert!(e.is_not_found() && out.is_empty(), "{e}");
}

#[tokio::test]
async fn deleting_is_a_204_and_an_unknown_recording_is_not_found() {
    let server = MockServer::start().await;
    let path = account(&format!("Recordings/{RE}.json"));
    on("DELETE", path.clone())
        .respond_with(ResponseTemplate::new(204))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    mount(&server, on("DELETE", path), not_found_20404(), 1).await;
    let t = twilio(&server);
    t.delete_recording(&recording_id()).await.unwrap();
    let e = t.delete_recording(&recording_id()).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
}

#[tokio::test]
async fn dtmf_goes_on_the_media_stream_not_the_api() {
    let server = silent().await;
    let e = twilio(&server)
        .send_dtmf(&caller(), &Dtmf::new("1w2#").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Unsupported { .. }), "{e}");
    assert!(e.to_string().contains("media stream"), "{e}");
}

#[test]
fn the_capabilities_say_what_twilio_does() {
    let c = offline().capabilities();
    assert!(c.transfer && c.warm_transfer && c.sip_transfer);
    assert!(c.recording && c.recording_control && c.dual_channel_recording);
    assert!(c.recording_download && c.recording_delete);
    assert!(c.machine_detection && c.machine_detection_greeting_end);
    assert!(!c.dtmf_rest);
}
