//! Recording and machine detection on Vonage: the NCCO `record` asked for on answer and on
//! create, the recording callback read back (its call, format and channels from the adapter's
//! signed query), the download streamed with the application JWT, and the machine-detection
//! table over every documented value.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use telephony_core::{
    AnsweredBy, CallId, CallNotice, CallTarget, Error, InboundCall, Markup, OutboundCall,
    RecordingChannels, RecordingFormat, RecordingId, RecordingOptions, Secret, StreamSpec,
    TelephonyProvider, Url, WebhookRequest,
};
use telephony_testkit::contract::rest::Waits;
use telephony_vonage::signature::sign_request;
use telephony_vonage::{AppClaims, Vonage, VonageConfig};
use wiremock::matchers::{method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

const APP: &str = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab";
const KEY: &str = include_str!("fixtures/test_private.key");
const PUBLIC: &str = include_str!("fixtures/test_public.pem");
const SECRET: &str = "vonage-signature-secret-0123456789";
const UUID: &str = "63f61863-4a51-4f6b-86e1-46edebcf9356";
const STATUS: &str = "https://agent.example.com/vonage/status";
const FILE: &str = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab";

fn vonage(base: &str) -> Vonage {
    Vonage::new(
        VonageConfig::new(APP, KEY)
            .signature_secret(SECRET)
            .all_hosts(base.parse().unwrap())
            .http(Waits::default().http()),
    )
    .unwrap()
}

fn status() -> Url {
    STATUS.parse().unwrap()
}

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// A POST of `body` to `url`, signed as Vonage signs it.
fn signed(url: &str, body: &Value) -> WebhookRequest {
    let url: telephony_core::RequestUrl = url.parse().unwrap();
    let body = body.to_string();
    let auth = sign_request(
        &Secret::new(SECRET),
        &http::Method::POST,
        &url,
        body.as_bytes(),
        now(),
        "jti-rec",
    );
    let mut headers = http::HeaderMap::new();
    headers.insert("content-type", "application/json".parse().unwrap());
    headers.insert("authorization", auth.parse().unwrap());
    WebhookRequest::new(http::Method::POST, url, headers, body)
}

/// The recording callback of Vonage's webhook reference ("record"), its `end_time` a minute
/// after its `start_time` (the reference gives both the same).
fn recorded() -> Value {
    json!({
        "start_time": "2020-01-01T12:00:00Z",
        "recording_url": format!("https://api.nexmo.com/v1/files/{FILE}"),
        "size": 12222,
        "recording_uuid": "bbbbbbbb-bbbb-cccc-dddd-0123456789ab",
        "end_time": "2020-01-01T12:01:00Z",
        "conversation_uuid": "CON-aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
        "timestamp": "2020-01-01T14:00:00.000Z"
    })
}

#[test]
fn an_answer_records_first_and_its_callback_names_the_call_format_and_channels() {
    let v = vonage("https://api.nexmo.com");
    let call = InboundCall::new(CallId::new(UUID).unwrap(), "447700900123", "447700900000");
    let stream = StreamSpec::new("wss://agent.example.com/vonage".parse().unwrap())
        .status_callback(status())
        .record(
            RecordingOptions::new()
                .channels(RecordingChannels::Dual)
                .format(RecordingFormat::Wav),
        );
    let markup = v.answer_call(&call, &stream).unwrap();
    let mut ncco: Value = serde_json::from_str(&markup.body).unwrap();
    let url = ncco[0]["eventUrl"][0].as_str().unwrap().to_owned();
    ncco[0]["eventUrl"][0] = json!("<callback>");
    assert_eq!(
        ncco[0],
        json!({"action": "record", "format": "wav", "split": "conversation", "channels": 2,
               "eventUrl": ["<callback>"], "eventMethod": "POST"})
    );
    assert_eq!(ncco[1]["action"], "connect");
    assert_eq!(
        ncco.as_array().unwrap().len(),
        2,
        "nothing after the connect"
    );
    assert!(
        url.starts_with(&format!("{STATUS}?telephony_rec_call={UUID}")),
        "{url}"
    );

    let callback = signed(&url, &recorded());
    v.verify_webhook(&callback, now()).unwrap();
    let CallNotice::Recording(r) = v.parse_callback(&callback).unwrap() else {
        panic!("a recording")
    };
    assert_eq!(r.recording_id.as_ref().unwrap().as_str(), FILE);
    assert_eq!(r.call_id.as_ref().unwrap().as_str(), UUID);
    assert_eq!(
        r.url.as_str(),
        format!("https://api.nexmo.com/v1/files/{FILE}")
    );
    assert_eq!(r.duration, Some(Duration::from_secs(60)));
    assert_eq!(
        (r.channels, r.format),
        (Some(2), Some(RecordingFormat::Wav))
    );
    assert_eq!(
        r.started_at,
        Some(UNIX_EPOCH + Duration::from_secs(1_577_880_000))
    );
    // At a URL of nobody's making, only what the body says.
    let CallNotice::Recording(plain) = v.parse_callback(&signed(STATUS, &recorded())).unwrap()
    else {
        panic!("a recording")
    };
    assert_eq!(
        (plain.call_id, plain.format, plain.channels),
        (None, None, None)
    );
    // A query changed on the way is refused.
    let forged = url.replace("wav", "mp3");
    assert!(v.parse_callback(&signed(&forged, &recorded())).is_err());
}

#[test]
fn a_recording_needs_a_callback_and_lasts_the_call() {
    let v = vonage("https://api.nexmo.com");
    let call = InboundCall::new(CallId::new(UUID).unwrap(), "447700900123", "447700900000");
    let ws: Url = "wss://agent.example.com/vonage".parse().unwrap();
    for (stream, says) in [
        (
            StreamSpec::new(ws.clone()).record(RecordingOptions::new()),
            "callback",
        ),
        (
            StreamSpec::new(ws.clone()).record(
                RecordingOptions::new()
                    .callback(status())
                    .max_length(Duration::from_secs(60)),
            ),
            "max_length",
        ),
    ] {
        let e = v.answer_call(&call, &stream).unwrap_err();
        assert!(
            matches!(e, Error::InvalidRequest(_)) && e.to_string().contains(says),
            "{e}"
        );
    }
    // Its own callback wins over the status callback; mp3 is Vonage's default.
    let stream = StreamSpec::new(ws)
        .status_callback(status())
        .record(RecordingOptions::new().callback("https://rec.example.com/done".parse().unwrap()));
    let ncco: Value = serde_json::from_str(&v.answer(&stream).unwrap().body).unwrap();
    let url = Url::parse(ncco[0]["eventUrl"][0].as_str().unwrap()).unwrap();
    assert_eq!(url.host_str(), Some("rec.example.com"));
    assert!(ncco[0].get("format").is_none() && ncco[0].get("split").is_none());
    assert!(
        url.query_pairs()
            .any(|(k, v)| k == "telephony_rec_format" && v == "mp3")
    );
}

#[tokio::test]
async fn a_call_placed_with_an_ncco_records_first_and_an_answer_url_call_is_refused() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/calls"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"uuid": UUID, "status": "started"})),
        )
        .mount(&server)
        .await;
    let v = vonage(&server.uri());
    let to = || "+447700900000".parse().unwrap();
    let from = || "+447700900001".parse().unwrap();
    let streamed = OutboundCall::stream(
        to(),
        from(),
        StreamSpec::new("wss://agent.example.com/vonage".parse().unwrap()),
    )
    .status_callback(status())
    .record(RecordingOptions::new());
    v.initiate_call(&streamed).await.unwrap();
    let markup = OutboundCall::with_target(
        to(),
        from(),
        CallTarget::Markup(Markup::json(r#"[{"action":"talk","text":"Hello"}]"#.into())),
    )
    .status_callback(status())
    .record(RecordingOptions::new().channels(RecordingChannels::Dual));
    v.initiate_call(&markup).await.unwrap();
    let sent = server.received_requests().await.unwrap();
    let bodies: Vec<Value> = sent
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    for (body, next) in bodies.iter().zip(["connect", "talk"]) {
        let ncco = body["ncco"].as_array().unwrap();
        assert_eq!(ncco[0]["action"], "record");
        assert!(ncco[0]["eventUrl"][0].as_str().unwrap().starts_with(STATUS));
        assert_eq!(ncco[1]["action"], next);
    }
    assert_eq!(bodies[1]["ncco"][0]["channels"], 2);
    // An answer-URL call runs the host's NCCO: the recording is asked for there.
    let answered = OutboundCall::answer_url(
        to(),
        from(),
        "https://agent.example.com/answer".parse().unwrap(),
    )
    .status_callback(status())
    .record(RecordingOptions::new());
    let e = v.initiate_call(&answered).await.unwrap_err();
    assert!(
        matches!(e, Error::InvalidRequest(_)) && e.to_string().contains("StreamSpec::record"),
        "{e}"
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        2,
        "no third request"
    );
}

/// A request whose bearer token is the application's JWT.
struct AppJwt;

impl Match for AppJwt {
    fn matches(&self, request: &Request) -> bool {
        let Some(token) = request
            .headers
            .get("authorization")
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "))
        else {
            return false;
        };
        jsonwebtoken::decode::<AppClaims>(
            token,
            &DecodingKey::from_rsa_pem(PUBLIC.as_bytes()).unwrap(),
            &Validation::new(Algorithm::RS256),
        )
        .is_ok_and(|d| d.claims.application_id == APP)
    }
}

#[tokio::test]
async fn a_recording_streams_into_any_writer_with_the_application_jwt() {
    let server = MockServer::start().await;
    // 3 MB: many chunks on the way.
    let file: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    Mock::given(method("GET"))
        .and(path(format!("/v1/files/{FILE}")))
        .and(AppJwt)
        .respond_with(ResponseTemplate::new(200).set_body_bytes(file.clone()))
        .expect(3)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/files/gone"))
        .respond_with(ResponseTemplate::new(404).set_body_json(
            json!({"type": "https://developer.nexmo.com/api-errors#not-found", "title": "Not Found"}),
        ))
        .mount(&server)
        .await;
    let v = vonage(&server.uri());
    let id = RecordingId::new(FILE).unwrap();
    let mut out = Vec::new();
    assert_eq!(
        v.download_recording(&id, &mut out).await.unwrap(),
        file.len() as u64
    );
    assert_eq!(out, file);
    let n = v
        .download_recording(&id, &mut tokio::io::sink())
        .await
        .unwrap();
    assert_eq!(n, file.len() as u64);
    // By the callback's URL, on the configured host.
    let url: Url = format!("{}/v1/files/{FILE}", server.uri()).parse().unwrap();
    let n = v
        .download_recording_url(&url, &mut tokio::io::sink())
        .await
        .unwrap();
    assert_eq!(n, file.len() as u64);
    let e = v
        .download_recording(&RecordingId::new("gone").unwrap(), &mut Vec::new())
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
    // Anywhere else: refused before any request, the token never sent.
    let before = server.received_requests().await.unwrap().len();
    for elsewhere in [
        "https://files.example.com/v1/files/x",
        "http://api.nexmo.com/v1/files/x",
        "https://api.nexmo.com.example.com/v1/files/x",
    ] {
        let e = v
            .download_recording_url(&elsewhere.parse().unwrap(), &mut Vec::new())
            .await
            .unwrap_err();
        assert!(matches!(e, Error::InvalidRequest(_)), "{elsewhere}: {e}");
    }
    assert_eq!(server.received_requests().await.unwrap().len(), before);
}

#[test]
fn machine_detection_is_read_through_one_table() {
    let v = vonage("https://api.nexmo.com");
    // Standard detection names the call `call_uuid` (webhook reference); advanced, `uuid`.
    for (fields, answered_by, raw) in [
        (
            json!({"uuid": UUID, "status": "human"}),
            AnsweredBy::Human,
            "human",
        ),
        (
            json!({"call_uuid": UUID, "status": "machine"}),
            AnsweredBy::Machine,
            "machine",
        ),
        (
            json!({"uuid": UUID, "status": "machine", "sub_state": "beep_start"}),
            AnsweredBy::MachineEndBeep,
            "machine/beep_start",
        ),
        (
            json!({"uuid": UUID, "status": "machine", "sub_state": "beep_timeout"}),
            AnsweredBy::MachineGreetingEnded,
            "machine/beep_timeout",
        ),
        (
            json!({"uuid": UUID, "status": "machine", "sub_state": "greeting_over"}),
            AnsweredBy::from_raw("machine/greeting_over"),
            "machine/greeting_over",
        ),
    ] {
        let CallNotice::Machine(m) = v.parse_callback(&signed(STATUS, &fields)).unwrap() else {
            panic!("{fields}: a verdict")
        };
        assert_eq!(
            (m.call_id.as_str(), &m.answered_by, m.raw.as_str()),
            (UUID, &answered_by, raw)
        );
        // The status callback keeps carrying it too.
        let e = v.parse_status_callback(&signed(STATUS, &fields)).unwrap();
        assert_eq!(e.answered_by, Some(answered_by));
    }
    for (table, expected) in [
        (telephony_vonage::amd::answered_by("answered", None), None),
        (
            telephony_vonage::amd::answered_by("human", Some("beep_start")),
            Some(AnsweredBy::Human),
        ),
    ] {
        assert_eq!(table, expected);
    }
}
