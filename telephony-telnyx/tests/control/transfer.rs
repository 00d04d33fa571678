//! Transfers: the commands sent, the legs' callbacks read as steps, and the steps taken.

use std::time::Duration;

use serde_json::json;
use telephony_core::control::follow;
use telephony_core::{
    Brief, CallNotice, NoAnswer, SipTarget, TelephonyProvider, Transfer, TransferEvent,
    TransferFailure, TransferLeg, TransferNotice, TransferRef, Url,
};
use telephony_telnyx::client_state::encode_transfer;
use telephony_telnyx::transfer::{is_cold, new_ref};
use wiremock::MockServer;
use wiremock::ResponseTemplate;

use crate::{
    CALLER, CONNECTION, EVENTS, TARGET, action, bearer, body_of, call, callback, ended, event, ok,
    on, paths, requests, state_in, telnyx, verified,
};

pub(crate) fn events() -> Url {
    EVENTS.parse().unwrap()
}

pub(crate) fn warm(brief: Option<Brief>) -> Transfer {
    Transfer::warm("+14155550123".parse().unwrap(), brief)
        .caller_id("+14155550100".parse().unwrap())
        .events(events())
}

pub(crate) fn cold() -> Transfer {
    Transfer::cold("+14155550123".parse().unwrap()).events(events())
}

fn created(id: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"data": {"call_control_id": id, "call_leg_id": "2dc6fc34-f9e0-11ea-b68e-02420a0f7768", "call_session_id": "2dc1b3c8-f9e0-11ea-bc5a-02420a0f7768", "is_alive": false, "record_type": "call"}}))
}

/// The `client_state` of `leg` of `transfer` of the caller, as this library writes it.
pub(crate) fn state(r: &TransferRef, leg: TransferLeg) -> String {
    encode_transfer(&r.for_leg(leg), None).unwrap()
}

pub(crate) fn transfer_notice(notice: CallNotice) -> TransferNotice {
    match notice {
        CallNotice::Transfer(t) => *t,
        other => panic!("not a transfer step: {other:?}"),
    }
}

#[tokio::test]
async fn a_cold_transfer_stops_the_stream_then_transfers_with_its_state_on_both_legs() {
    let server = MockServer::start().await;
    on(&server, "POST", &action(CALLER, "streaming_stop"), ok()).await;
    on(&server, "POST", &action(CALLER, "transfer"), ok()).await;
    let desk = SipTarget::new("sip:desk@pbx.example.com")
        .unwrap()
        .header("Case", "42")
        .unwrap();
    let transfer = Transfer::cold(desk.into())
        .caller_id("+14155550100".parse().unwrap())
        .timeout(Duration::from_secs(20))
        .on_no_answer(NoAnswer::SayAndHangup(
            "Sorry, nobody can take your call.".into(),
        ))
        .events(events());
    let started = telnyx(&server)
        .transfer(&call(CALLER), &transfer)
        .await
        .unwrap();
    assert_eq!(started.transfer_id, CALLER);
    assert_eq!(started.target_call, None);
    assert_eq!(
        paths(&server).await,
        [action(CALLER, "streaming_stop"), action(CALLER, "transfer")]
    );
    let sent = requests(&server).await;
    for r in &sent {
        assert_eq!(r.headers["authorization"], bearer().as_str());
    }
    assert!(
        body_of(&sent[0])["command_id"]
            .as_str()
            .unwrap()
            .starts_with("streaming_stop-")
    );
    let body = body_of(&sent[1]);
    assert_eq!(body["to"], "sip:desk@pbx.example.com");
    assert_eq!(body["from"], "+14155550100");
    assert_eq!(body["timeout_secs"], 20);
    assert_eq!(body["webhook_url"], EVENTS);
    assert_eq!(body["webhook_url_method"], "POST");
    assert_eq!(
        body["custom_headers"],
        json!([{"name": "X-Case", "value": "42"}])
    );
    assert!(
        body["command_id"]
            .as_str()
            .unwrap()
            .starts_with("transfer-")
    );
    let caller = state_in(&body, "client_state");
    let target = state_in(&body, "target_leg_client_state");
    assert_eq!(caller.transfer.leg, TransferLeg::Caller);
    assert_eq!(caller.transfer.caller, call(CALLER));
    assert_eq!(
        caller.transfer.fallback.as_deref(),
        Some("Sorry, nobody can take your call.")
    );
    // Cold by the state's own flag: the id is any transfer's (no convention to read).
    assert!(is_cold(&caller.transfer));
    assert!(!caller.transfer.warm);
    assert!(!caller.transfer.id.starts_with("xfer-cold-"));
    assert!(is_cold(&target.transfer));
    assert_eq!(caller.failed, None);
    assert_eq!(
        target.transfer,
        caller.transfer.for_leg(TransferLeg::Target)
    );
}

#[tokio::test]
async fn a_cold_transfer_of_an_ended_call_is_telnyxs_refusal_and_a_missing_stream_is_not() {
    let server = MockServer::start().await;
    on(&server, "POST", &action(CALLER, "streaming_stop"), ended()).await;
    let err = telnyx(&server)
        .transfer(&call(CALLER), &cold())
        .await
        .unwrap_err();
    assert_eq!(err.provider_code(), Some("90018"));
    assert_eq!(paths(&server).await, [action(CALLER, "streaming_stop")]);

    let server = MockServer::start().await;
    let no_stream = ResponseTemplate::new(422)
        .set_body_json(json!({"errors": [{"code": "90055", "title": "No stream to stop"}]}));
    on(
        &server,
        "POST",
        &action(CALLER, "streaming_stop"),
        no_stream,
    )
    .await;
    on(&server, "POST", &action(CALLER, "transfer"), ok()).await;
    telnyx(&server)
        .transfer(&call(CALLER), &cold())
        .await
        .unwrap();
    assert_eq!(paths(&server).await.len(), 2);

    let server = MockServer::start().await;
    on(&server, "POST", &action(CALLER, "streaming_stop"), ok()).await;
    on(
        &server,
        "POST",
        &action(CALLER, "transfer"),
        ResponseTemplate::new(500),
    )
    .await;
    let err = telnyx(&server)
        .transfer(&call(CALLER), &cold())
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), Some(500));
}

#[tokio::test]
async fn a_warm_transfer_dials_the_target_alone_with_its_state() {
    let server = MockServer::start().await;
    on(&server, "POST", "/calls", created(TARGET)).await;
    let brief = Brief::Say("A caller about a refund of order 1234.".into());
    let started = telnyx(&server)
        .transfer(&call(CALLER), &warm(Some(brief.clone())))
        .await
        .unwrap();
    assert_eq!(started.target_call, Some(call(TARGET)));
    assert!(started.transfer_id.starts_with("xfer-"));
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1);
    let body = body_of(&sent[0]);
    assert_eq!(body["connection_id"], CONNECTION);
    assert_eq!(body["to"], "+14155550123");
    assert_eq!(body["from"], "+14155550100");
    assert_eq!(body["timeout_secs"], 30);
    assert_eq!(body["webhook_url"], EVENTS);
    assert!(body.get("stream_url").is_none());
    assert!(body.get("target_leg_client_state").is_none());
    assert!(body["command_id"].as_str().unwrap().starts_with("dial-"));
    let target = state_in(&body, "client_state").transfer;
    assert_eq!(target.id, started.transfer_id);
    assert_eq!(target.leg, TransferLeg::Target);
    assert_eq!(target.brief, Some(brief));
    assert!(!is_cold(&target));
    assert!(target.warm);
}

#[tokio::test]
async fn a_warm_transfer_without_a_caller_id_dials_from_our_number_on_the_call() {
    let server = MockServer::start().await;
    on(&server, "GET", &format!("/calls/{CALLER}"), ResponseTemplate::new(200).set_body_json(json!({"data": {"call_control_id": CALLER, "is_alive": true, "record_type": "call", "direction": "incoming", "from": "+13125550001", "to": "+14155550100"}}))).await;
    on(&server, "POST", "/calls", created(TARGET)).await;
    let t = Transfer::warm("+14155550123".parse().unwrap(), None).events(events());
    telnyx(&server).transfer(&call(CALLER), &t).await.unwrap();
    let sent = requests(&server).await;
    assert_eq!(body_of(&sent[1])["from"], "+14155550100");

    // Telnyx's call resource does not always say the numbers: then the caller id is needed.
    let server = MockServer::start().await;
    on(
        &server,
        "GET",
        &format!("/calls/{CALLER}"),
        ResponseTemplate::new(200).set_body_json(
            json!({"data": {"call_control_id": CALLER, "is_alive": true, "record_type": "call"}}),
        ),
    )
    .await;
    let err = telnyx(&server)
        .transfer(&call(CALLER), &t)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("caller_id"), "{err}");
    assert_eq!(paths(&server).await, [format!("/calls/{CALLER}")]);
}

#[tokio::test]
async fn what_telnyx_cannot_do_is_refused_before_any_request() {
    let server = MockServer::start().await;
    let t = telnyx(&server);
    let refused = [
        // A warm transfer's steps are taken at its events URL.
        Transfer::warm("+14155550123".parse().unwrap(), None),
        warm(Some(Brief::Say("x".repeat(1001)))),
        warm(Some(Brief::Play(
            "ftp://media.example.com/brief.wav".parse().unwrap(),
        ))),
        // Too long for client_state (3 bytes a character).
        warm(Some(Brief::Say("€".repeat(1000)))),
        cold().on_no_answer(NoAnswer::SayAndHangup("x".repeat(3001))),
    ];
    for transfer in refused {
        let err = t.transfer(&call(CALLER), &transfer).await.unwrap_err();
        assert!(
            matches!(err, telephony_core::Error::InvalidRequest(_)),
            "{err}"
        );
    }
    assert!(requests(&server).await.is_empty());
}

#[tokio::test]
async fn a_warm_target_is_briefed_alone_then_bridged_when_the_brief_ends() {
    let server = MockServer::start().await;
    on(&server, "POST", &action(TARGET, "speak"), ok()).await;
    on(&server, "POST", &action(CALLER, "streaming_stop"), ok()).await;
    on(&server, "POST", &action(TARGET, "bridge"), ok()).await;
    let t = telnyx(&server);
    let brief = Brief::Say("A caller about a refund.".into());
    let r = new_ref(&call(CALLER), &warm(Some(brief)));
    let target = state(&r, TransferLeg::Target);
    let answered = event(
        "call.answered",
        TARGET,
        Some(&target),
        json!({"state": "answered"}),
    );
    let followed = follow(&t, &verified(&t, &answered)).await.unwrap();
    assert_eq!(followed.notices.len(), 1);
    assert_eq!(followed.reply, None);
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].url.path(), action(TARGET, "speak"));
    let speak = body_of(&sent[0]);
    assert_eq!(speak["payload"], "A caller about a refund.");
    assert_eq!(speak["voice"], "female");
    assert_eq!(speak["language"], "en-US");
    assert_eq!(speak["payload_type"], "text");
    assert_eq!(speak["service_level"], "basic");
    assert_eq!(state_in(&speak, "client_state").transfer, r);
    assert!(speak["command_id"].as_str().unwrap().starts_with("speak-"));

    // The brief's end comes back with the state the speak set.
    let spoken = event(
        "call.speak.ended",
        TARGET,
        speak["client_state"].as_str(),
        json!({"status": "completed"}),
    );
    let followed = follow(&t, &verified(&t, &spoken)).await.unwrap();
    let events: Vec<_> = followed
        .notices
        .iter()
        .map(|n| transfer_notice(n.clone()).event)
        .collect();
    assert_eq!(events, [TransferEvent::BriefEnded, TransferEvent::Bridged]);
    let sent = requests(&server).await;
    assert_eq!(sent[1].url.path(), action(CALLER, "streaming_stop"));
    assert_eq!(sent[2].url.path(), action(TARGET, "bridge"));
    let bridge = body_of(&sent[2]);
    assert_eq!(bridge["call_control_id"], CALLER);
    assert_eq!(state_in(&bridge, "client_state").transfer, r);
    assert!(
        bridge["command_id"]
            .as_str()
            .unwrap()
            .starts_with("bridge-")
    );
}

#[tokio::test]
async fn without_a_brief_the_bridge_is_at_once_and_a_file_brief_is_played() {
    let server = MockServer::start().await;
    on(&server, "POST", &action(CALLER, "streaming_stop"), ok()).await;
    on(&server, "POST", &action(TARGET, "bridge"), ok()).await;
    on(&server, "POST", &action(TARGET, "playback_start"), ok()).await;
    let t = telnyx(&server);
    let r = new_ref(&call(CALLER), &warm(None));
    let answered = transfer_notice(callback(
        &t,
        &event(
            "call.answered",
            TARGET,
            Some(&state(&r, TransferLeg::Target)),
            json!({}),
        ),
    ));
    let step = t.continue_transfer(&answered).await.unwrap();
    assert_eq!(step.events, [TransferEvent::Bridged]);
    assert_eq!(
        paths(&server).await,
        [action(CALLER, "streaming_stop"), action(TARGET, "bridge")]
    );

    let audio: Url = "https://media.example.com/brief.mp3".parse().unwrap();
    let r = new_ref(&call(CALLER), &warm(Some(Brief::Play(audio))));
    let answered = transfer_notice(callback(
        &t,
        &event(
            "call.answered",
            TARGET,
            Some(&state(&r, TransferLeg::Target)),
            json!({}),
        ),
    ));
    let step = t.continue_transfer(&answered).await.unwrap();
    assert!(step.events.is_empty());
    let sent = requests(&server).await;
    assert_eq!(sent[2].url.path(), action(TARGET, "playback_start"));
    let play = body_of(&sent[2]);
    assert_eq!(play["audio_url"], "https://media.example.com/brief.mp3");
    assert_eq!(state_in(&play, "client_state").transfer, r);
    let played = transfer_notice(callback(
        &t,
        &event(
            "call.playback.ended",
            TARGET,
            play["client_state"].as_str(),
            json!({}),
        ),
    ));
    assert_eq!(played.event, TransferEvent::BriefEnded);
    // The played brief's end bridges, as a spoken one's does.
    let step = t.continue_transfer(&played).await.unwrap();
    assert_eq!(step.events, [TransferEvent::Bridged]);
    let sent = paths(&server).await;
    assert_eq!(
        sent[sent.len() - 2..],
        [action(CALLER, "streaming_stop"), action(TARGET, "bridge")]
    );
}

#[tokio::test]
async fn a_caller_gone_before_the_bridge_fails_the_transfer_and_the_target_is_hung_up() {
    let server = MockServer::start().await;
    on(&server, "POST", &action(CALLER, "streaming_stop"), ended()).await;
    on(&server, "POST", &action(TARGET, "hangup"), ok()).await;
    let t = telnyx(&server);
    let r = new_ref(&call(CALLER), &warm(None));
    let answered = transfer_notice(callback(
        &t,
        &event(
            "call.answered",
            TARGET,
            Some(&state(&r, TransferLeg::Target)),
            json!({}),
        ),
    ));
    let step = t.continue_transfer(&answered).await.unwrap();
    assert_eq!(
        step.events,
        [TransferEvent::TransferFailed {
            reason: TransferFailure::CallerGone,
            raw: "90018".into()
        }]
    );
    assert_eq!(
        paths(&server).await,
        [action(CALLER, "streaming_stop"), action(TARGET, "hangup")]
    );

    // Gone between the stream's stop and the bridge: the caller's state says which leg left.
    let server = MockServer::start().await;
    on(&server, "POST", &action(CALLER, "streaming_stop"), ok()).await;
    on(&server, "POST", &action(TARGET, "bridge"), ended()).await;
    on(
        &server,
        "GET",
        &format!("/calls/{CALLER}"),
        ResponseTemplate::new(404),
    )
    .await;
    on(&server, "POST", &action(TARGET, "hangup"), ended()).await;
    let step = telnyx(&server).continue_transfer(&answered).await.unwrap();
    assert!(matches!(
        step.events.as_slice(),
        [TransferEvent::TransferFailed {
            reason: TransferFailure::CallerGone,
            ..
        }]
    ));
    assert_eq!(paths(&server).await.len(), 4);

    // The target left instead: its own hang-up reports it; the caller stays.
    let server = MockServer::start().await;
    on(&server, "POST", &action(CALLER, "streaming_stop"), ok()).await;
    on(&server, "POST", &action(TARGET, "bridge"), ended()).await;
    on(
        &server,
        "GET",
        &format!("/calls/{CALLER}"),
        ResponseTemplate::new(200)
            .set_body_json(json!({"data": {"call_control_id": CALLER, "is_alive": true}})),
    )
    .await;
    let step = telnyx(&server).continue_transfer(&answered).await.unwrap();
    assert!(step.events.is_empty());
    assert_eq!(paths(&server).await.len(), 3);

    // A 5xx is an error.
    let server = MockServer::start().await;
    on(&server, "POST", &action(CALLER, "streaming_stop"), ok()).await;
    on(
        &server,
        "POST",
        &action(TARGET, "bridge"),
        ResponseTemplate::new(503),
    )
    .await;
    let err = telnyx(&server)
        .continue_transfer(&answered)
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), Some(503));
}

#[tokio::test]
async fn a_cold_target_not_reached_says_the_fallback_then_hangs_up() {
    let server = MockServer::start().await;
    on(&server, "POST", &action(CALLER, "speak"), ok()).await;
    on(&server, "POST", &action(CALLER, "hangup"), ok()).await;
    let t = telnyx(&server);
    let transfer = cold().on_no_answer(NoAnswer::SayAndHangup("Sorry, nobody is free.".into()));
    let r = new_ref(&call(CALLER), &transfer);
    let busy = transfer_notice(callback(
        &t,
        &event(
            "call.hangup",
            TARGET,
            Some(&state(&r, TransferLeg::Target)),
            json!({"hangup_cause": "user_busy"}),
        ),
    ));
    assert!(t.continue_transfer(&busy).await.unwrap().events.is_empty());
    let sent = requests(&server).await;
    assert_eq!(sent[0].url.path(), action(CALLER, "speak"));
    let speak = body_of(&sent[0]);
    assert_eq!(speak["payload"], "Sorry, nobody is free.");
    let said = state_in(&speak, "client_state");
    assert_eq!(said.transfer.leg, TransferLeg::Caller);
    assert_eq!(
        said.failed,
        Some((TransferFailure::Busy, "user_busy".to_owned()))
    );
    // The fallback said: the caller's leg is hung up.
    let spoken = transfer_notice(callback(
        &t,
        &event(
            "call.speak.ended",
            CALLER,
            speak["client_state"].as_str(),
            json!({}),
        ),
    ));
    assert_eq!(
        spoken.event,
        TransferEvent::TransferFailed {
            reason: TransferFailure::Busy,
            raw: "user_busy".into()
        }
    );
    t.continue_transfer(&spoken).await.unwrap();
    assert_eq!(
        paths(&server).await,
        [action(CALLER, "speak"), action(CALLER, "hangup")]
    );

    // Without a fallback, the caller is hung up at once; a warm failure leaves the caller
    // with the agent.
    let server = MockServer::start().await;
    on(&server, "POST", &action(CALLER, "hangup"), ended()).await;
    let t = telnyx(&server);
    let r = new_ref(&call(CALLER), &cold());
    let timeout = transfer_notice(callback(
        &t,
        &event(
            "call.hangup",
            TARGET,
            Some(&state(&r, TransferLeg::Target)),
            json!({"hangup_cause": "timeout"}),
        ),
    ));
    t.continue_transfer(&timeout).await.unwrap();
    assert_eq!(paths(&server).await, [action(CALLER, "hangup")]);
    let r = new_ref(&call(CALLER), &warm(None));
    let busy = transfer_notice(callback(
        &t,
        &event(
            "call.hangup",
            TARGET,
            Some(&state(&r, TransferLeg::Target)),
            json!({"hangup_cause": "user_busy"}),
        ),
    ));
    assert!(t.continue_transfer(&busy).await.unwrap().events.is_empty());
    assert_eq!(paths(&server).await.len(), 1);
}
