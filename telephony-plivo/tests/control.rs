//! Transfers against a fake Plivo on loopback: the exact requests (plivo-python 4.63
//! `calls.update` and `calls.create`), and each callback of a transfer, signed as Plivo signs
//! it, followed through `control::follow` to the document Plivo then runs.

mod common;

use std::time::Duration;

use common::*;
use telephony_core::control::follow;
use telephony_core::{
    Brief, CallNotice, E164, Error, NoAnswer, SipTarget, TelephonyProvider, Transfer,
    TransferEvent, TransferFailure, TransferLeg, TransferNotice, TransferRef, Url,
};
use wiremock::matchers::{method, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn target() -> E164 {
    "+14155550123".parse().unwrap()
}

fn ours() -> E164 {
    "+14155550199".parse().unwrap()
}

/// The transfer's only notice of a follow.
fn only(notices: &[CallNotice]) -> &TransferNotice {
    match notices {
        [CallNotice::Transfer(n)] => n,
        other => panic!("one transfer notice expected, got {other:?}"),
    }
}

/// The URL Plivo was told to fetch the caller's XML from (`aleg_url` of the move).
async fn moved_to(server: &MockServer) -> Url {
    let body = body_of(server, &p(&format!("Call/{UUID}/"))).await;
    assert_eq!(body["legs"], "aleg");
    assert_eq!(body["aleg_method"], "POST");
    url(body["aleg_url"].as_str().unwrap())
}

/// Plivo fetching a call's XML: its answer-URL parameters.
fn fetch(call: &str) -> Vec<(&str, &str)> {
    vec![
        ("CallUUID", call),
        ("CallStatus", "in-progress"),
        ("Direction", "inbound"),
        ("From", "14155550100"),
        ("To", "14155550199"),
        ("Event", "Redirect"),
    ]
}

#[tokio::test]
async fn cold_transfer_moves_the_call_then_dials_from_the_status_url() {
    let server = MockServer::start().await;
    // No caller id given: the number of ours on the live inbound call is the one it called.
    let live = serde_json::json!({"call_uuid": UUID, "call_status": "in-progress", "direction": "inbound", "from": "14155550100", "to": "14155550199"});
    mount(
        &server,
        on("GET", p(&format!("Call/{UUID}/"))).and(query_param("status", "live")),
        json(200, live),
        1,
    )
    .await;
    let moved = json(
        202,
        serde_json::json!({"message": "call transferred", "api_id": "x"}),
    );
    mount(&server, on("POST", p(&format!("Call/{UUID}/"))), moved, 1).await;
    let plivo = plivo(&server);
    let transfer = Transfer::cold(target().into())
        .timeout(Duration::from_secs(20))
        .on_no_answer(NoAnswer::SayAndHangup("Sorry, nobody is free.".into()))
        .events(url(EVENTS));
    let started = plivo
        .transfer(&UUID.parse().unwrap(), &transfer)
        .await
        .unwrap();
    assert_eq!(started.transfer_id, UUID);
    assert_eq!(started.target_call, None);

    let aleg = moved_to(&server).await;
    assert_eq!(aleg.query_pairs().filter(|(k, _)| k == "tenant").count(), 1);
    let reference = TransferRef::from_query(&aleg).unwrap();
    assert_eq!(
        (reference.leg, reference.caller.as_str()),
        (TransferLeg::Caller, UUID)
    );
    assert_eq!(reference.target, Some(target().into()));
    assert_eq!(reference.caller_id, Some(ours()));
    assert_eq!(reference.timeout_secs, Some(20));

    // Plivo fetches the caller's XML: the transfer started, and the reply dials the target,
    // reporting back to the same URL.
    let followed = follow(&plivo, &signed(&plivo, &aleg, &fetch(UUID)))
        .await
        .unwrap();
    let notice = only(&followed.notices);
    assert_eq!(notice.event, TransferEvent::TransferStarted);
    assert_eq!(notice.leg_call.as_ref().unwrap().as_str(), UUID);
    let doc = followed.reply.unwrap().body;
    let action = aleg.as_str().replace('&', "&amp;");
    assert!(
        doc.ends_with(&format!(
            "<Response><Dial callerId=\"14155550199\" timeout=\"20\" action=\"{action}\" method=\"POST\"><Number>14155550123</Number></Dial></Response>"
        )),
        "{doc}"
    );

    // The Dial's outcome (Plivo's "Dial status reporting" parameters).
    let outcome = |status: &'static str, b_leg: &'static str, cause: &'static str| {
        let mut params = fetch(UUID);
        params.extend([
            ("DialStatus", status),
            ("DialALegUUID", UUID),
            ("DialBLegUUID", b_leg),
            ("DialHangupCause", cause),
            ("DialRingStatus", "true"),
        ]);
        signed(&plivo, &aleg, &params)
    };
    let followed = follow(&plivo, &outcome("no-answer", "", "NO_ANSWER"))
        .await
        .unwrap();
    assert_eq!(
        only(&followed.notices).event,
        TransferEvent::TransferFailed {
            reason: TransferFailure::NoAnswer,
            raw: "no-answer".into()
        }
    );
    assert!(
        followed
            .reply
            .unwrap()
            .body
            .ends_with("<Response><Speak>Sorry, nobody is free.</Speak><Hangup/></Response>")
    );
    let followed = follow(&plivo, &outcome("completed", TARGET, "NORMAL_CLEARING"))
        .await
        .unwrap();
    let notice = only(&followed.notices);
    assert_eq!(notice.event, TransferEvent::TargetEnded);
    assert_eq!(notice.leg_call.as_ref().unwrap().as_str(), TARGET);
    assert!(
        followed
            .reply
            .unwrap()
            .body
            .ends_with("<Response><Hangup/></Response>")
    );
    // Busy, without a fallback: hang up.
    let mut quiet = reference.clone();
    quiet.fallback = None;
    let quiet_url = quiet.to_query(&url(EVENTS));
    let mut params = fetch(UUID);
    params.extend([("DialStatus", "busy"), ("DialHangupCause", "USER_BUSY")]);
    let followed = follow(&plivo, &signed(&plivo, &quiet_url, &params))
        .await
        .unwrap();
    assert!(matches!(
        &only(&followed.notices).event,
        TransferEvent::TransferFailed { reason: TransferFailure::Busy, raw } if raw == "busy"
    ));
    assert!(
        followed
            .reply
            .unwrap()
            .body
            .ends_with("<Response><Hangup/></Response>")
    );
}

#[tokio::test]
async fn cold_transfer_to_sip_sends_plivos_headers() {
    let server = MockServer::start().await;
    mount(
        &server,
        on("POST", p(&format!("Call/{UUID}/"))),
        json(202, serde_json::json!({"message": "call transferred"})),
        1,
    )
    .await;
    let plivo = plivo(&server);
    let desk = SipTarget::new("sip:desk@pbx.example.com")
        .unwrap()
        .header("X-Case", "42")
        .unwrap();
    let transfer = Transfer::cold(desk.into())
        .caller_id(ours())
        .events(url(EVENTS));
    plivo
        .transfer(&UUID.parse().unwrap(), &transfer)
        .await
        .unwrap();
    let aleg = moved_to(&server).await;
    let followed = follow(&plivo, &signed(&plivo, &aleg, &fetch(UUID)))
        .await
        .unwrap();
    let doc = followed.reply.unwrap().body;
    assert!(
        doc.contains("<User sipHeaders=\"Case=42\">sip:desk@pbx.example.com</User></Dial>"),
        "{doc}"
    );
}

#[tokio::test]
async fn what_plivo_cannot_take_is_refused_before_any_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    let plivo = plivo(&server);
    let call = UUID.parse().unwrap();
    let refusals = [
        // No status URL: nowhere for Plivo to read the Dial from.
        Transfer::cold(target().into()).caller_id(ours()),
        Transfer::warm(target().into(), None).caller_id(ours()),
        // Headers Plivo would drop: a lower-case or dashed name, a value with a space.
        Transfer::cold(
            SipTarget::new("sip:a@b.example")
                .unwrap()
                .header("case", "1")
                .unwrap()
                .into(),
        )
        .caller_id(ours())
        .events(url(EVENTS)),
        Transfer::warm(
            SipTarget::new("sip:a@b.example")
                .unwrap()
                .header("Case-Id", "1")
                .unwrap()
                .into(),
            None,
        )
        .caller_id(ours())
        .events(url(EVENTS)),
        Transfer::cold(
            SipTarget::new("sip:a@b.example")
                .unwrap()
                .header("Case", "a b")
                .unwrap()
                .into(),
        )
        .caller_id(ours())
        .events(url(EVENTS)),
    ];
    for transfer in refusals {
        let e = plivo.transfer(&call, &transfer).await.unwrap_err();
        assert!(matches!(e, Error::InvalidRequest(_)), "{transfer:?}: {e}");
    }
    // None of them sent anything: the only request is this one's.
    plivo
        .transfer(
            &call,
            &Transfer::cold(target().into())
                .caller_id(ours())
                .events(url(EVENTS)),
        )
        .await
        .unwrap();
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn a_cold_transfer_of_a_call_gone_is_not_found() {
    let server = MockServer::start().await;
    mount(
        &server,
        on("POST", p(&format!("Call/{UUID}/"))),
        not_found(),
        1,
    )
    .await;
    let e = plivo(&server)
        .transfer(
            &UUID.parse().unwrap(),
            &Transfer::cold(target().into())
                .caller_id(ours())
                .events(url(EVENTS)),
        )
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
}

/// A warm transfer placed against `server`: the target's call created, its URLs returned.
async fn warm(server: &MockServer, plivo: &telephony_plivo::Plivo) -> (String, Url) {
    let created = json(
        201,
        serde_json::json!({"api_id": "x", "message": "call fired", "request_uuid": TARGET_REQ}),
    );
    mount(server, on("POST", p("Call/")), created, 1).await;
    let transfer = Transfer::warm(
        target().into(),
        Some(Brief::Say("A caller about a refund.".into())),
    )
    .hold(url("https://cdn.example.com/hold.mp3"))
    .caller_id(ours())
    .timeout(Duration::from_secs(25))
    .events(url(EVENTS));
    let started = plivo
        .transfer(&UUID.parse().unwrap(), &transfer)
        .await
        .unwrap();
    assert_eq!(started.target_call.unwrap().as_str(), TARGET_REQ);
    let body = body_of(server, &p("Call/")).await;
    let answer = body["answer_url"].as_str().unwrap().to_owned();
    assert_eq!(
        body,
        serde_json::json!({
            "from": "14155550199", "to": "14155550123",
            "answer_url": answer, "answer_method": "POST",
            "ring_url": answer, "ring_method": "POST",
            "hangup_url": answer, "hangup_method": "POST",
            "ring_timeout": 25
        })
    );
    let answer = url(&answer);
    let reference = TransferRef::from_query(&answer).unwrap();
    assert_eq!(reference.id, started.transfer_id);
    assert_eq!(reference.leg, TransferLeg::Target);
    (started.transfer_id, answer)
}

/// The target leg's callback parameters.
fn target_leg(
    status: &'static str,
    extra: &[(&'static str, &'static str)],
) -> Vec<(&'static str, &'static str)> {
    let mut params = vec![
        ("CallUUID", TARGET),
        ("RequestUUID", TARGET_REQ),
        ("CallStatus", status),
        ("Direction", "outbound"),
        ("From", "14155550199"),
        ("To", "14155550123"),
    ];
    params.extend_from_slice(extra);
    params
}

#[tokio::test]
async fn warm_transfer_briefs_the_target_and_never_the_caller() {
    let server = MockServer::start().await;
    let plivo = plivo(&server);
    let (room, answer) = warm(&server, &plivo).await;
    mount(
        &server,
        on("POST", p(&format!("Call/{UUID}/"))),
        json(202, serde_json::json!({"message": "call transferred"})),
        1,
    )
    .await;

    let ringing = follow(
        &plivo,
        &signed(
            &plivo,
            &answer,
            &target_leg("ringing", &[("Event", "Ring")]),
        ),
    )
    .await
    .unwrap();
    let notice = only(&ringing.notices);
    assert_eq!(notice.event, TransferEvent::TransferRinging);
    assert_eq!(notice.leg_call.as_ref().unwrap().as_str(), TARGET);
    assert_eq!(notice.status.as_ref().unwrap().raw_status, "ringing");
    assert_eq!(ringing.reply, None);

    // The target answers: the caller is moved, and the target gets the brief and the room.
    let answered = follow(
        &plivo,
        &signed(
            &plivo,
            &answer,
            &target_leg("in-progress", &[("Event", "StartApp")]),
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        only(&answered.notices).event,
        TransferEvent::TransferAnswered
    );
    let doc = answered.reply.unwrap().body;
    assert!(
        doc.ends_with(&format!(
            "<Response><Speak>A caller about a refund.</Speak><Conference startConferenceOnEnter=\"true\" endConferenceOnExit=\"true\">{room}</Conference></Response>"
        )),
        "{doc}"
    );
    let aleg = moved_to(&server).await;
    let caller = TransferRef::from_query(&aleg).unwrap();
    assert_eq!(
        (caller.leg, caller.id.as_str()),
        (TransferLeg::Caller, room.as_str())
    );
    assert_eq!((caller.target, caller.brief), (None, None));
    assert!(!aleg.as_str().contains("refund"), "{aleg}");

    // The caller's fetch: it enters the room, waiting on the hold audio, without the brief.
    let bridged = follow(&plivo, &signed(&plivo, &aleg, &fetch(UUID)))
        .await
        .unwrap();
    assert_eq!(only(&bridged.notices).event, TransferEvent::Bridged);
    let doc = bridged.reply.unwrap().body;
    assert!(
        doc.ends_with(&format!(
            "<Response><Conference startConferenceOnEnter=\"false\" endConferenceOnExit=\"true\" waitSound=\"https://cdn.example.com/hold.mp3\">{room}</Conference></Response>"
        )),
        "{doc}"
    );
    assert!(!doc.contains("Speak") && !doc.contains("refund"), "{doc}");

    let ended = follow(
        &plivo,
        &signed(
            &plivo,
            &answer,
            &target_leg(
                "completed",
                &[
                    ("Event", "Hangup"),
                    ("HangupCause", "NORMAL_CLEARING"),
                    ("Duration", "42"),
                ],
            ),
        ),
    )
    .await
    .unwrap();
    let notice = only(&ended.notices);
    assert_eq!(notice.event, TransferEvent::TargetEnded);
    assert_eq!(
        notice.status.as_ref().unwrap().hangup_cause.as_deref(),
        Some("NORMAL_CLEARING")
    );
    assert_eq!(ended.reply, None);
}

#[tokio::test]
async fn a_target_not_reached_leaves_the_caller_with_the_agent() {
    let server = MockServer::start().await;
    let plivo = plivo(&server);
    let (_, answer) = warm(&server, &plivo).await;
    for (status, cause, reason) in [
        ("busy", "USER_BUSY", TransferFailure::Busy),
        ("no-answer", "NO_ANSWER", TransferFailure::NoAnswer),
        ("cancel", "ORIGINATOR_CANCEL", TransferFailure::NoAnswer),
        ("failed", "UNALLOCATED_NUMBER", TransferFailure::Failed),
    ] {
        let params = target_leg(status, &[("Event", "Hangup"), ("HangupCause", cause)]);
        let followed = follow(&plivo, &signed(&plivo, &answer, &params))
            .await
            .unwrap();
        assert_eq!(
            only(&followed.notices).event,
            TransferEvent::TransferFailed {
                reason,
                raw: cause.into()
            },
            "{status}"
        );
        assert_eq!(followed.reply, None);
    }
    // Only the target's call was placed: the caller was never moved.
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn a_caller_gone_ends_the_target_and_says_so() {
    let server = MockServer::start().await;
    let plivo = plivo(&server);
    let (_, answer) = warm(&server, &plivo).await;
    mount(
        &server,
        on("POST", p(&format!("Call/{UUID}/"))),
        not_found(),
        1,
    )
    .await;
    let followed = follow(
        &plivo,
        &signed(&plivo, &answer, &target_leg("in-progress", &[])),
    )
    .await
    .unwrap();
    match &followed.notices[..] {
        [CallNotice::Transfer(a), CallNotice::Transfer(b)] => {
            assert_eq!(a.event, TransferEvent::TransferAnswered);
            assert!(matches!(
                b.event,
                TransferEvent::TransferFailed {
                    reason: TransferFailure::CallerGone,
                    ..
                }
            ));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        followed
            .reply
            .unwrap()
            .body
            .ends_with("<Response><Hangup/></Response>")
    );
}

#[tokio::test]
async fn a_failed_move_is_an_error() {
    let server = MockServer::start().await;
    let plivo = plivo(&server);
    let (_, answer) = warm(&server, &plivo).await;
    mount(
        &server,
        on("POST", p(&format!("Call/{UUID}/"))),
        json(500, serde_json::json!({"api_id": "x", "error": "internal"})),
        1,
    )
    .await;
    let request = signed(&plivo, &answer, &target_leg("in-progress", &[]));
    let e = follow(&plivo, &request).await.unwrap_err();
    assert_eq!(e.api().map(|a| a.status), Some(500), "{e}");
}

#[tokio::test]
async fn any_replica_takes_a_step_from_the_notice_alone() {
    let server = MockServer::start().await;
    let plivo = plivo(&server);
    let (_, answer) = warm(&server, &plivo).await;
    let moved = json(
        202,
        serde_json::json!({"message": "call transferred", "api_id": "x"}),
    );
    mount(&server, on("POST", p(&format!("Call/{UUID}/"))), moved, 1).await;
    let request = signed(&plivo, &answer, &target_leg("in-progress", &[]));
    // The notice carries the URL its callback came to, exactly as Plivo called it.
    let notice = match plivo.parse_callback(&request).unwrap() {
        CallNotice::Transfer(n) => n,
        other => panic!("{other:?}"),
    };
    assert_eq!(notice.url.as_ref(), Some(&answer));
    // Another adapter (a replica that read nothing before) takes the step from it: the caller
    // is moved to the same status URL, about the caller's leg.
    let replica = common::plivo(&server);
    let step = replica.continue_transfer(&notice).await.unwrap();
    assert!(step.reply.unwrap().body.contains("<Conference"));
    let aleg = moved_to(&server).await;
    let reference = TransferRef::from_query(&aleg).unwrap();
    assert_eq!(reference.leg, TransferLeg::Caller);
    assert_eq!(reference.target, None);
    let mut base = aleg.clone();
    base.query_pairs_mut().clear().extend_pairs(
        aleg.query_pairs()
            .filter(|(k, _)| !k.starts_with("telephony_")),
    );
    assert_eq!(base.as_str(), EVENTS);
    // A notice without its URL (built by hand): nowhere to point Plivo, refused before any
    // request.
    let bare = TransferNotice::new(notice.transfer.clone(), TransferEvent::TransferAnswered);
    let e = replica.continue_transfer(&bare).await.unwrap_err();
    assert!(
        matches!(e, Error::InvalidRequest(ref m) if m.contains("TransferNotice::url")),
        "{e}"
    );
    let mut cold = TransferRef::from_query(&aleg).unwrap();
    cold.target = Some(target().into());
    let e = replica
        .continue_transfer(&TransferNotice::new(cold, TransferEvent::TransferStarted))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
    // The target's call and the one move: nothing else was sent.
    assert_eq!(requests(&server).await.len(), 2);
}
