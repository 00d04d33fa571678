//! Machine detection (the create call's fields, plivo-python 4.63 `calls.create`; the
//! asynchronous callback of Plivo's "Asynchronous machine detection"; the one table), DTMF
//! through the API (`calls.send_digits`, "Send digits on an active call"), what placing a call
//! refuses, and the capabilities.

mod common;

use common::*;
use telephony_core::{
    AnsweredBy, CallNotice, Dtmf, Error, MachineDetection, OutboundCall, RecordingOptions,
    TelephonyProvider,
};
use wiremock::matchers::{any, body_json};
use wiremock::{Mock, MockServer};

fn outbound() -> OutboundCall {
    OutboundCall::answer_url(
        "+14155550100".parse().unwrap(),
        "+14155550199".parse().unwrap(),
        url("https://agent.example.com/plivo/answer"),
    )
    .status_callback(url("https://agent.example.com/plivo/status"))
}

#[tokio::test]
async fn detection_is_asynchronous_at_the_status_callback() {
    let server = MockServer::start().await;
    let request = on("POST", p("Call/")).and(body_json(serde_json::json!({
        "from": "14155550199", "to": "14155550100",
        "answer_url": "https://agent.example.com/plivo/answer", "answer_method": "POST",
        "hangup_url": "https://agent.example.com/plivo/status", "hangup_method": "POST",
        "ring_url": "https://agent.example.com/plivo/status", "ring_method": "POST",
        "machine_detection": "true",
        "machine_detection_url": "https://agent.example.com/plivo/status",
        "machine_detection_method": "POST"
    })));
    let fired = json(
        201,
        serde_json::json!({"message": "call fired", "request_uuid": TARGET_REQ, "api_id": "x"}),
    );
    mount(&server, request, fired, 1).await;
    plivo(&server)
        .initiate_call(&outbound().machine_detection(MachineDetection::Detect))
        .await
        .unwrap();
    // Without a status callback, detection is synchronous: no URL is sent.
    server.reset().await;
    let request = on("POST", p("Call/")).and(body_json(serde_json::json!({
        "from": "14155550199", "to": "14155550100",
        "answer_url": "https://agent.example.com/plivo/answer", "answer_method": "POST",
        "machine_detection": "true"
    })));
    let fired = json(201, serde_json::json!({"request_uuid": TARGET_REQ}));
    mount(&server, request, fired, 1).await;
    let mut call = outbound().machine_detection(MachineDetection::Detect);
    call.status_callback = None;
    plivo(&server).initiate_call(&call).await.unwrap();
}

#[tokio::test]
async fn what_placing_a_call_cannot_take_is_refused_before_any_request() {
    let server = MockServer::start().await;
    mount(
        &server,
        Mock::given(any()),
        json(201, serde_json::json!({})),
        0,
    )
    .await;
    let plivo = plivo(&server);
    for call in [
        outbound().machine_detection(MachineDetection::DetectGreetingEnd),
        outbound().record(RecordingOptions::new()),
    ] {
        let e = plivo.initiate_call(&call).await.unwrap_err();
        assert!(matches!(e, Error::Unsupported { .. }), "{e}");
    }
}

/// The asynchronous verdict, as Plivo posts it to `machine_detection_url`.
fn verdict(machine: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("From", "14155550199"),
        ("Machine", machine),
        ("To", "14155550100"),
        ("RequestUUID", TARGET_REQ),
        ("ALegRequestUUID", TARGET_REQ),
        ("CallUUID", TARGET),
        ("IfMachine", "continue"),
        ("Direction", "outbound"),
        ("ALegUUID", TARGET),
        ("Event", "MachineDetection"),
        ("CallStatus", "in-progress"),
    ]
}

#[test]
fn one_table_for_the_verdict_however_it_comes() {
    let plivo = telephony_plivo::Plivo::new(telephony_plivo::PlivoConfig::new(ID, TOKEN)).unwrap();
    let at = url("https://agent.example.com/plivo/status");
    for (machine, answered_by) in [
        ("true", AnsweredBy::Machine),
        ("false", AnsweredBy::Human),
        ("maybe", AnsweredBy::from_raw("maybe")),
    ] {
        assert_eq!(telephony_plivo::status::answered_by(machine), answered_by);
        let CallNotice::Machine(result) = plivo
            .parse_callback(&signed(&plivo, &at, &verdict(machine)))
            .unwrap()
        else {
            panic!("a verdict")
        };
        assert_eq!(result.call_id.as_str(), TARGET);
        assert_eq!(result.answered_by, answered_by);
        assert_eq!(result.raw, format!("Machine={machine}"));
        // Synchronously, on the hangup request (machine_detection=hangup), it fills the
        // status event.
        let hangup = signed(
            &plivo,
            &at,
            &[
                ("CallUUID", TARGET),
                ("CallStatus", "completed"),
                ("Event", "Hangup"),
                ("HangupCause", "NORMAL_CLEARING"),
                ("Machine", machine),
            ],
        );
        let CallNotice::Status(event) = plivo.parse_callback(&hangup).unwrap() else {
            panic!("a status")
        };
        assert_eq!(event.answered_by, Some(answered_by));
    }
    let missing = signed(
        &plivo,
        &at,
        &[("Event", "MachineDetection"), ("Machine", "true")],
    );
    assert!(matches!(
        plivo.parse_callback(&missing),
        Err(Error::Decode(_))
    ));
}

#[tokio::test]
async fn dtmf_goes_to_the_calls_own_leg() {
    let server = MockServer::start().await;
    let request = on("POST", p(&format!("Call/{UUID}/DTMF/"))).and(body_json(
        serde_json::json!({"digits": "12*#", "leg": "aleg"}),
    ));
    let sent = json(
        202,
        serde_json::json!({"message": "digits sent", "api_id": "07abfd94-58c0-11e1-86da-adf28403fe48"}),
    );
    mount(&server, request, sent, 1).await;
    let plivo = plivo(&server);
    let call = UUID.parse().unwrap();
    plivo
        .send_dtmf(&call, &Dtmf::new("12*#").unwrap())
        .await
        .unwrap();
    // Keys the API is not documented to take: refused before any request.
    for digits in ["1w2", "W", "A", "12D"] {
        let e = plivo
            .send_dtmf(&call, &Dtmf::new(digits).unwrap())
            .await
            .unwrap_err();
        assert!(matches!(e, Error::InvalidRequest(_)), "{digits}: {e}");
    }
    assert_eq!(requests(&server).await.len(), 1);
    server.reset().await;
    mount(&server, Mock::given(any()), not_found(), 1).await;
    let e = plivo
        .send_dtmf(&call, &Dtmf::new("1").unwrap())
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
}

#[test]
fn capabilities_say_what_plivo_does() {
    let c = telephony_plivo::Plivo::new(telephony_plivo::PlivoConfig::new(ID, TOKEN))
        .unwrap()
        .capabilities();
    assert!(c.machine_detection && !c.machine_detection_greeting_end);
    assert!(c.dtmf_send && c.dtmf_rest);
    assert!(c.transfer && c.warm_transfer && c.sip_transfer);
    assert!(!c.recording, "Plivo's Call API has no record flag");
    assert!(
        c.recording_on_answer,
        "a <Record recordSession> in the answer records the call"
    );
    assert!(c.recording_control && c.dual_channel_recording);
    assert!(c.recording_download && c.recording_delete);
}
