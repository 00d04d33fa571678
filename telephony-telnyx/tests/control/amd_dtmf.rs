//! Answering-machine detection's one table, as requested on dial and reported by every
//! `call.machine.*` event, and DTMF by `actions/send_dtmf`.

use serde_json::json;
use telephony_core::{
    AnsweredBy, CallNotice, Dtmf, MachineDetection, OutboundCall, StreamSpec, TelephonyProvider,
};
use telephony_telnyx::commands::Dial;
use wiremock::MockServer;
use wiremock::ResponseTemplate;

use crate::{CALLER, CONNECTION, action, body_of, call, callback, ended, event, ok, on, requests};

#[test]
fn every_documented_verdict_has_its_place_and_an_unknown_one_is_kept() {
    let t = crate::offline();
    // telnyx-python 4.189 types/call_machine_*.py, standard and premium.
    for (event_type, result, by) in [
        ("call.machine.detection.ended", "human", AnsweredBy::Human),
        (
            "call.machine.detection.ended",
            "machine",
            AnsweredBy::Machine,
        ),
        (
            "call.machine.detection.ended",
            "not_sure",
            AnsweredBy::Undetermined,
        ),
        (
            "call.machine.greeting.ended",
            "beep_detected",
            AnsweredBy::MachineEndBeep,
        ),
        (
            "call.machine.greeting.ended",
            "ended",
            AnsweredBy::MachineGreetingEnded,
        ),
        (
            "call.machine.greeting.ended",
            "not_sure",
            AnsweredBy::Undetermined,
        ),
        (
            "call.machine.premium.detection.ended",
            "human_residence",
            AnsweredBy::Human,
        ),
        (
            "call.machine.premium.detection.ended",
            "human_business",
            AnsweredBy::Human,
        ),
        (
            "call.machine.premium.detection.ended",
            "machine",
            AnsweredBy::Machine,
        ),
        (
            "call.machine.premium.detection.ended",
            "silence",
            AnsweredBy::Undetermined,
        ),
        (
            "call.machine.premium.detection.ended",
            "fax_detected",
            AnsweredBy::Fax,
        ),
        (
            "call.machine.premium.detection.ended",
            "not_sure",
            AnsweredBy::Undetermined,
        ),
        (
            "call.machine.premium.greeting.ended",
            "beep_detected",
            AnsweredBy::MachineEndBeep,
        ),
        (
            "call.machine.premium.greeting.ended",
            "no_beep_detected",
            AnsweredBy::MachineGreetingEnded,
        ),
        (
            "call.machine.premium.greeting.ended",
            "prompt_ended",
            AnsweredBy::from_raw("prompt_ended"),
        ),
        (
            "call.machine.detection.ended",
            "robot",
            AnsweredBy::from_raw("robot"),
        ),
    ] {
        let body = event(
            event_type,
            CALLER,
            None,
            json!({"result": result, "from": "+14155550100", "to": "+14155550123"}),
        );
        let CallNotice::Machine(m) = callback(&t, &body) else {
            panic!("{event_type} {result}: not a verdict");
        };
        assert_eq!(m.answered_by, by, "{event_type} {result}");
        assert_eq!(m.raw, result);
        assert_eq!(m.call_id, call(CALLER));
        assert_eq!(m.detection_time, None);
        // The status callback keeps saying it too.
        let status = t.parse_status_callback(&crate::signed(&body)).unwrap();
        assert_eq!(status.answered_by, Some(by));
    }
    // A machine event without a result is a status.
    let started = event(
        "call.machine.premium.detection.started",
        CALLER,
        None,
        json!({}),
    );
    assert!(matches!(callback(&t, &started), CallNotice::Status(_)));
}

#[test]
fn detection_is_asked_for_on_dial() {
    let call = |m| {
        let c = OutboundCall::stream(
            "+14155550123".parse().unwrap(),
            "+14155550100".parse().unwrap(),
            StreamSpec::new("wss://agent.example.com/media".parse().unwrap()),
        )
        .machine_detection(m);
        serde_json::to_value(Dial::new(CONNECTION, &c).unwrap()).unwrap()
    };
    assert_eq!(
        call(MachineDetection::Detect)["answering_machine_detection"],
        "detect"
    );
    assert_eq!(
        call(MachineDetection::DetectGreetingEnd)["answering_machine_detection"],
        "greeting_end"
    );
}

#[tokio::test]
async fn digits_are_sent_by_command_and_a_retry_is_the_same_command() {
    let server = MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path(action(CALLER, "send_dtmf")))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    on(&server, "POST", &action(CALLER, "send_dtmf"), ok()).await;
    let digits = Dtmf::new("1234#w*AW").unwrap();
    crate::retrying(&server)
        .send_dtmf(&call(CALLER), &digits)
        .await
        .unwrap();
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    let body = body_of(&sent[0]);
    assert_eq!(body["digits"], "1234#w*AW");
    assert_eq!(body["duration_millis"], 250);
    assert!(
        body["command_id"]
            .as_str()
            .unwrap()
            .starts_with("send_dtmf-")
    );
    assert_eq!(body, body_of(&sent[1]));

    let server = MockServer::start().await;
    on(&server, "POST", &action(CALLER, "send_dtmf"), ended()).await;
    let err = crate::telnyx(&server)
        .send_dtmf(&call(CALLER), &digits)
        .await
        .unwrap_err();
    assert!(telephony_telnyx::call_ended(&err));
}
