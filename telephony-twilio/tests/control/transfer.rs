//! Transfer: the exact requests of a cold and a warm transfer, the refusals that send
//! nothing, and each step `continue_transfer` takes.

use std::time::Duration;

use telephony_core::control::{CallNotice, follow, valid_room};
use telephony_core::{
    Brief, Error, NoAnswer, SipTarget, TelephonyProvider, Transfer, TransferEvent, TransferFailure,
    TransferLeg, TransferNotice, TransferRef, Url,
};
use wiremock::matchers::{any, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

const XML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
const HOLD: &str = "https://cdn.example.com/hold.mp3";

fn events() -> Url {
    EVENTS.parse().unwrap()
}

/// The events URL of a cold transfer's `<Dial>`: the reference, then the dial mark.
fn dial_url(r: &TransferRef) -> String {
    let mut url = r.to_query(&events());
    url.query_pairs_mut()
        .append_pair("telephony_twilio", "dial");
    url.to_string()
}

/// A server that must get no request at all.
async fn silent() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    server
}

fn warm() -> Transfer {
    Transfer::warm(
        "+14155550123".parse().unwrap(),
        Some(Brief::Say("A caller about a refund.".into())),
    )
    .hold(HOLD.parse().unwrap())
    .timeout(Duration::from_secs(25))
    .events(events())
}

#[tokio::test]
async fn a_cold_transfer_dials_the_target_with_callbacks_that_carry_the_transfer() {
    let server = MockServer::start().await;
    let moved = answer(200, call_json(CALL, "in-progress", "inbound"));
    mount(&server, on("POST", call_path(CALL)), moved, 1).await;
    let t = Transfer::cold("+14155550123".parse().unwrap())
        .caller_id("+14155550100".parse().unwrap())
        .timeout(Duration::from_secs(20))
        .on_no_answer(NoAnswer::SayAndHangup("Sorry, nobody is free.".into()))
        .events(events());
    let started = twilio(&server).transfer(&caller(), &t).await.unwrap();
    assert_eq!(started.transfer_id, CALL);
    assert_eq!(started.target_call, None);
    let twiml = sent_field(&server, "Twiml").await;
    let r = TransferRef::from_query(&attr(&twiml, "statusCallback").parse().unwrap()).unwrap();
    let mut expected = TransferRef::for_transfer(caller(), &t, TransferLeg::Target);
    assert!(valid_room(&r.id), "{}", r.id);
    expected.id = r.id.clone();
    assert_eq!(r, expected);
    assert_eq!(r.fallback.as_deref(), Some("Sorry, nobody is free."));
    assert_eq!(
        twiml,
        format!(
            "{XML}<Response><Dial callerId=\"+14155550100\" timeout=\"20\" action=\"{}\"><Number statusCallback=\"{}\" statusCallbackEvent=\"initiated ringing answered completed\">+14155550123</Number></Dial></Response>",
            esc(&dial_url(&expected.for_leg(TransferLeg::Caller))),
            esc(&dial_url(&expected)),
        )
    );
}

#[tokio::test]
async fn a_cold_transfer_to_sip_without_events_hangs_up_after_the_dial() {
    let server = MockServer::start().await;
    let twiml = format!(
        "{XML}<Response><Dial timeout=\"30\"><Sip>sip:desk@pbx.example.com?X-Case=42%20a&amp;X-Team=billing</Sip></Dial><Hangup/></Response>"
    );
    let update = on("POST", call_path(CALL)).and(form(&[("Twiml", &twiml)]));
    let moved = answer(200, call_json(CALL, "in-progress", "inbound"));
    mount(&server, update, moved, 1).await;
    let sip = SipTarget::new("sip:desk@pbx.example.com")
        .unwrap()
        .header("X-Case", "42 a")
        .unwrap()
        .header("Team", "billing")
        .unwrap();
    twilio(&server)
        .transfer(&caller(), &Transfer::cold(sip.into()))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_cold_transfer_of_a_call_that_ended_is_twilios_404() {
    let server = MockServer::start().await;
    mount(&server, on("POST", call_path(CALL)), not_found_20404(), 1).await;
    let t = Transfer::cold("+14155550123".parse().unwrap());
    let e = twilio(&server).transfer(&caller(), &t).await.unwrap_err();
    assert!(
        e.is_not_found() && e.provider_code() == Some("20404"),
        "{e}"
    );
}

#[tokio::test]
async fn what_twilio_cannot_do_is_refused_before_any_request() {
    let server = silent().await;
    let t = twilio(&server);
    let number = || "+14155550123".parse().unwrap();
    let refused = [
        // The fallback is said from the <Dial action>'s reply, which needs callbacks.
        Transfer::cold(number()).on_no_answer(NoAnswer::SayAndHangup("Sorry.".into())),
        // Its steps are taken at the events URL.
        Transfer::warm(number(), None),
        // Over Twilio's 4000 characters of TwiML.
        Transfer::cold(number())
            .on_no_answer(NoAnswer::SayAndHangup("Sorry. ".repeat(400)))
            .events(events()),
        Transfer::warm(number(), Some(Brief::Say("x".repeat(1001)))).events(events()),
    ];
    for transfer in refused {
        let e = t.transfer(&caller(), &transfer).await.unwrap_err();
        assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
    }
    let long = Transfer::cold(number())
        .on_no_answer(NoAnswer::SayAndHangup("Sorry. ".repeat(400)))
        .events(events());
    let e = t.transfer(&caller(), &long).await.unwrap_err();
    assert!(e.to_string().contains("4000"), "{e}");
}

#[tokio::test]
async fn a_warm_transfer_dials_the_target_into_a_room_from_our_number() {
    let server = MockServer::start().await;
    let looked = answer(200, call_json(CALL, "in-progress", "inbound"));
    mount(&server, on("GET", call_path(CALL)), looked, 1).await;
    let created = answer(201, call_json(LEG, "queued", "outbound-api"));
    mount(&server, on("POST", account("Calls.json")), created, 1).await;
    let t = warm();
    let started = twilio(&server).transfer(&caller(), &t).await.unwrap();
    assert!(valid_room(&started.transfer_id), "{}", started.transfer_id);
    assert_eq!(started.target_call.as_ref().map(|c| c.as_str()), Some(LEG));
    let mut r = TransferRef::for_transfer(caller(), &t, TransferLeg::Target);
    r.id = started.transfer_id.clone();
    let room = &r.id;
    let twiml = format!(
        "{XML}<Response><Say>A caller about a refund.</Say><Dial><Conference startConferenceOnEnter=\"true\" endConferenceOnExit=\"true\" beep=\"false\">{room}</Conference></Dial></Response>"
    );
    let callback = r.to_query(&events()).to_string();
    let requests = server.received_requests().await.unwrap();
    let create = requests
        .iter()
        .find(|r| r.method.as_str() == "POST")
        .unwrap();
    // The inbound call's number of ours (its `to`) calls the target. The four events are
    // every one Twilio has: busy, no-answer and failed arrive as `completed`.
    assert_eq!(
        form_of(create),
        form(&[
            ("To", "+14155550123"),
            ("From", "+14155550100"),
            ("Twiml", &twiml),
            ("StatusCallback", &callback),
            ("StatusCallbackMethod", "POST"),
            ("StatusCallbackEvent", "initiated"),
            ("StatusCallbackEvent", "ringing"),
            ("StatusCallbackEvent", "answered"),
            ("StatusCallbackEvent", "completed"),
            ("Timeout", "25"),
        ])
        .0
    );
    assert_eq!(TransferRef::from_query(&callback.parse().unwrap()), Some(r));
}

#[tokio::test]
async fn a_warm_transfer_to_sip_with_a_caller_id_reads_nothing_first() {
    let server = MockServer::start().await;
    mount(&server, on("GET", call_path(CALL)), not_found_20404(), 0).await;
    let create = on("POST", account("Calls.json"));
    mount(
        &server,
        create,
        answer(201, call_json(LEG, "queued", "outbound-api")),
        1,
    )
    .await;
    let sip = SipTarget::new("sip:desk@pbx.example.com")
        .unwrap()
        .header("Case", "42")
        .unwrap();
    let brief = Brief::Play("https://cdn.example.com/brief.mp3".parse().unwrap());
    let t = Transfer::warm(sip.into(), Some(brief))
        .caller_id("+14155550111".parse().unwrap())
        .events(events());
    let started = twilio(&server).transfer(&caller(), &t).await.unwrap();
    assert_eq!(
        sent_field(&server, "To").await,
        "sip:desk@pbx.example.com?X-Case=42"
    );
    assert_eq!(sent_field(&server, "From").await, "+14155550111");
    assert_eq!(sent_field(&server, "Timeout").await, "30");
    assert_eq!(
        sent_field(&server, "Twiml").await,
        format!(
            "{XML}<Response><Play>https://cdn.example.com/brief.mp3</Play><Dial><Conference startConferenceOnEnter=\"true\" endConferenceOnExit=\"true\" beep=\"false\">{}</Conference></Dial></Response>",
            started.transfer_id
        )
    );
}

#[tokio::test]
async fn a_warm_transfer_whose_leg_twilio_refuses_with_a_5xx_is_not_sent_twice() {
    let server = MockServer::start().await;
    let failing = ResponseTemplate::new(503);
    mount(&server, on("POST", account("Calls.json")), failing, 1).await;
    let t = warm().caller_id("+14155550111".parse().unwrap());
    let e = twilio(&server).transfer(&caller(), &t).await.unwrap_err();
    assert_eq!(e.http_status(), Some(503));
    assert!(e.may_have_acted(), "{e}");
}

/// The notice a signed callback of the target leg gives, in `status`.
fn target_notice(r: &TransferRef, status: &str, extra: &[(&str, &str)]) -> TransferNotice {
    let url = r.to_query(&events()).to_string();
    let mut pairs = vec![
        ("CallSid", LEG),
        ("AccountSid", SID),
        ("CallStatus", status),
    ];
    pairs.extend_from_slice(extra);
    match offline().parse_callback(&signed(&url, &pairs)).unwrap() {
        CallNotice::Transfer(n) => *n,
        other => panic!("{other:?}"),
    }
}

fn warm_ref() -> TransferRef {
    TransferRef::for_transfer(caller(), &warm(), TransferLeg::Target)
}

#[tokio::test]
async fn the_answered_target_is_joined_by_the_caller_who_hears_hold_not_the_brief() {
    let server = MockServer::start().await;
    let r = warm_ref();
    let twiml = format!(
        "{XML}<Response><Dial><Conference startConferenceOnEnter=\"false\" endConferenceOnExit=\"true\" beep=\"false\" waitUrl=\"{HOLD}\">{}</Conference></Dial></Response>",
        r.id
    );
    let moved = on("POST", call_path(CALL)).and(form(&[("Twiml", &twiml)]));
    mount(
        &server,
        moved,
        answer(200, call_json(CALL, "in-progress", "inbound")),
        1,
    )
    .await;
    let url = r.to_query(&events()).to_string();
    let pairs = [
        ("CallSid", LEG),
        ("AccountSid", SID),
        ("CallStatus", "in-progress"),
    ];
    let followed = follow(&twilio(&server), &signed(&url, &pairs))
        .await
        .unwrap();
    let events: Vec<&TransferEvent> = followed
        .notices
        .iter()
        .map(|n| match n {
            CallNotice::Transfer(t) => &t.event,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        events,
        [&TransferEvent::TransferAnswered, &TransferEvent::Bridged]
    );
    assert_eq!(followed.reply, None);
}

#[tokio::test]
async fn a_caller_gone_before_the_bridge_ends_the_target_leg() {
    let server = MockServer::start().await;
    mount(&server, on("POST", call_path(CALL)), not_found_20404(), 1).await;
    let leg = answer(200, call_json(LEG, "in-progress", "outbound-api"));
    mount(&server, on("GET", call_path(LEG)), leg, 1).await;
    let ended = on("POST", call_path(LEG)).and(form(&[("Status", "completed")]));
    mount(
        &server,
        ended,
        answer(200, call_json(LEG, "completed", "outbound-api")),
        1,
    )
    .await;
    let notice = target_notice(&warm_ref(), "in-progress", &[]);
    let step = twilio(&server).continue_transfer(&notice).await.unwrap();
    assert_eq!(
        step.events,
        [TransferEvent::TransferFailed {
            reason: TransferFailure::CallerGone,
            raw: "20404".into()
        }]
    );
}

#[tokio::test]
async fn a_bridge_twilio_fails_with_a_5xx_is_an_error() {
    let server = MockServer::start().await;
    mount(
        &server,
        on("POST", call_path(CALL)),
        ResponseTemplate::new(500),
        1,
    )
    .await;
    let notice = target_notice(&warm_ref(), "in-progress", &[]);
    let e = twilio(&server)
        .continue_transfer(&notice)
        .await
        .unwrap_err();
    assert_eq!(e.http_status(), Some(500));
}

#[tokio::test]
async fn a_target_that_left_before_entering_ends_the_room_the_caller_waits_in() {
    let server = MockServer::start().await;
    let r = warm_ref();
    let listing = on("GET", account("Conferences.json"))
        .and(query_param("FriendlyName", r.id.as_str()))
        .and(query_param("Status", "init"));
    let waiting = serde_json::json!({"conferences": [
        {"sid": "CF01", "friendly_name": r.id, "status": "init"},
        {"sid": "CF02", "friendly_name": "another", "status": "init"}
    ]});
    mount(&server, listing, answer(200, waiting), 1).await;
    let end = on("POST", account("Conferences/CF01.json")).and(form(&[("Status", "completed")]));
    mount(
        &server,
        end,
        answer(200, serde_json::json!({"sid": "CF01"})),
        1,
    )
    .await;
    let notice = target_notice(&r, "completed", &[("CallDuration", "9")]);
    assert_eq!(notice.event, TransferEvent::TargetEnded);
    let step = twilio(&server).continue_transfer(&notice).await.unwrap();
    assert!(step.events.is_empty() && step.reply.is_none());
}

#[tokio::test]
async fn a_target_that_was_not_reached_leaves_the_caller_with_the_agent() {
    let server = silent().await;
    for status in ["busy", "no-answer", "failed", "ringing", "initiated"] {
        let notice = target_notice(&warm_ref(), status, &[]);
        let step = twilio(&server).continue_transfer(&notice).await.unwrap();
        assert!(step.events.is_empty() && step.reply.is_none(), "{status}");
    }
}

fn cold_ref(fallback: Option<&str>) -> TransferRef {
    let mut t = Transfer::cold("+14155550123".parse().unwrap()).events(events());
    if let Some(text) = fallback {
        t = t.on_no_answer(NoAnswer::SayAndHangup(text.into()));
    }
    TransferRef::for_transfer(caller(), &t, TransferLeg::Target)
}

#[tokio::test]
async fn a_cold_dial_needs_no_step_and_its_action_is_answered_with_twiml() {
    let server = silent().await;
    let t = twilio(&server);
    // The dialled party answered: Twilio bridges it.
    let r = cold_ref(Some("Sorry, nobody is free."));
    let url = dial_url(&r);
    let pairs = [
        ("CallSid", LEG),
        ("CallStatus", "in-progress"),
        ("ParentCallSid", CALL),
    ];
    let CallNotice::Transfer(answered) = t.parse_callback(&signed(&url, &pairs)).unwrap() else {
        panic!("not a transfer")
    };
    assert_eq!(answered.event, TransferEvent::TransferAnswered);
    assert_eq!(t.continue_transfer(&answered).await.unwrap().events, []);
    // The <Dial action>: the fallback, said to the caller, then the end of the call.
    let action = dial_url(&r.for_leg(TransferLeg::Caller));
    for (dial, with_fallback, expected) in [
        (
            "no-answer",
            true,
            "<Response><Say>Sorry, nobody is free.</Say><Hangup/></Response>",
        ),
        ("busy", false, "<Response><Hangup/></Response>"),
        ("completed", true, "<Response><Hangup/></Response>"),
    ] {
        let url = if with_fallback {
            action.clone()
        } else {
            dial_url(&cold_ref(None).for_leg(TransferLeg::Caller))
        };
        let pairs = [
            ("CallSid", CALL),
            ("CallStatus", "in-progress"),
            ("DialCallStatus", dial),
            ("DialCallSid", LEG),
        ];
        let followed = follow(&t, &signed(&url, &pairs)).await.unwrap();
        assert_eq!(followed.notices.len(), 1, "{dial}");
        let reply = followed.reply.expect("a reply");
        assert_eq!(reply.body, format!("{XML}{expected}"), "{dial}");
        assert!(reply.content_type.contains("xml"));
    }
}
