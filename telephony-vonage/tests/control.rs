//! Call control on a fake Vonage on loopback: transfers cold and warm (the exact requests, the
//! signed callbacks of each leg read back and followed), DTMF, and the capabilities, with every
//! refusal made before any request. Recording and machine detection: tests/recording.rs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use telephony_core::control::follow;
use telephony_core::{
    Brief, CallId, CallNotice, Dtmf, Error, NoAnswer, RecordingId, RecordingOptions, Secret,
    SipTarget, TelephonyProvider, Transfer, TransferEvent, TransferFailure, TransferLeg,
    TransferNotice, TransferRef, Url, WebhookRequest,
};
use telephony_testkit::contract::rest::Waits;
use telephony_vonage::signature::sign_request;
use telephony_vonage::{Vonage, VonageConfig};
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const APP: &str = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab";
const KEY: &str = include_str!("fixtures/test_private.key");
const SECRET: &str = "vonage-signature-secret-0123456789";
/// The caller's call.
const CALLER: &str = "63f61863-4a51-4f6b-86e1-46edebcf9356";
/// The target's leg of a warm transfer.
const TARGET: &str = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab";
const EVENTS: &str = "https://agent.example.com/vonage/status?tenant=7";
const HOLD: &str = "https://agent.example.com/hold.mp3";

fn vonage(server: &MockServer) -> Vonage {
    Vonage::new(
        VonageConfig::new(APP, KEY)
            .signature_secret(SECRET)
            .all_hosts(server.uri().parse().unwrap())
            .http(Waits::default().http()),
    )
    .unwrap()
}

fn caller() -> CallId {
    CallId::new(CALLER).unwrap()
}

fn events() -> Url {
    Url::parse(EVENTS).unwrap()
}

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// A POST of `body` to `url`, signed as Vonage signs it (the body's hash, never the URL).
fn signed(url: &str, body: &Value) -> WebhookRequest {
    let url: telephony_core::RequestUrl = url.parse().unwrap();
    let body = body.to_string();
    let auth = sign_request(
        &Secret::new(SECRET),
        &http::Method::POST,
        &url,
        body.as_bytes(),
        now(),
        "jti-1",
    );
    let mut headers = http::HeaderMap::new();
    headers.insert("content-type", "application/json".parse().unwrap());
    headers.insert("authorization", auth.parse().unwrap());
    WebhookRequest::new(http::Method::POST, url, headers, body)
}

/// A leg's event as Vonage posts it (webhook reference, "event"), with `status`.
fn leg_event(uuid: &str, status: &str) -> Value {
    json!({
        "from": "447700900000", "to": "447700900001",
        "uuid": uuid,
        "conversation_uuid": "CON-aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
        "status": status, "direction": "outbound",
        "timestamp": "2020-01-01T12:00:00.000Z"
    })
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

/// The one request's JSON body, with the URL at `pointer` taken out (it holds a fresh room
/// name) and given back.
fn body_without(request: &Request, pointer: &str) -> (Value, String) {
    let mut body: Value = serde_json::from_slice(&request.body).unwrap();
    let url = body.pointer(pointer).unwrap().as_str().unwrap().to_owned();
    *body.pointer_mut(pointer).unwrap() = json!("<events>");
    (body, url)
}

async fn on(server: &MockServer, verb: &str, to: String, answer: ResponseTemplate) {
    Mock::given(method(verb))
        .and(path(to))
        .respond_with(answer)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_cold_transfer_moves_the_call_to_a_connect_with_its_signed_reference() {
    let server = MockServer::start().await;
    on(
        &server,
        "PUT",
        format!("/v1/calls/{CALLER}"),
        ResponseTemplate::new(204),
    )
    .await;
    let v = vonage(&server);
    let t = Transfer::cold("+447700900001".parse().unwrap())
        .caller_id("+447700900000".parse().unwrap())
        .timeout(Duration::from_secs(25))
        .events(events());
    let started = v.transfer(&caller(), &t).await.unwrap();
    assert_eq!(started.transfer_id, CALLER);
    assert_eq!(started.target_call, None);
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1);
    let (body, url) = body_without(&sent[0], "/destination/ncco/0/eventUrl/0");
    assert_eq!(
        body,
        json!({"action": "transfer", "destination": {"type": "ncco", "ncco": [{
            "action": "connect",
            "endpoint": [{"type": "phone", "number": "447700900001"}],
            "from": "447700900000",
            "timeout": 25,
            "eventUrl": ["<events>"],
            "eventMethod": "POST"
        }]}})
    );
    let url = Url::parse(&url).unwrap();
    assert!(
        url.as_str()
            .starts_with("https://agent.example.com/vonage/status?tenant=7&")
    );
    let r = TransferRef::from_query(&url).unwrap();
    assert_eq!((r.caller.as_str(), r.leg), (CALLER, TransferLeg::Caller));
    assert_eq!(r.timeout_secs, Some(25));
    assert!(url.query_pairs().any(|(k, _)| k == "telephony_sig"));
}

#[tokio::test]
async fn a_cold_transfer_to_sip_with_a_fallback_reads_our_number_and_is_synchronous() {
    let server = MockServer::start().await;
    // The call is inbound: our number is the one it called.
    on(
        &server,
        "GET",
        format!("/v1/calls/{CALLER}"),
        ResponseTemplate::new(200).set_body_json(json!({
            "uuid": CALLER, "status": "answered", "direction": "inbound",
            "from": {"type": "phone", "number": "447700900123"},
            "to": {"type": "phone", "number": "447700900000"}
        })),
    )
    .await;
    on(
        &server,
        "PUT",
        format!("/v1/calls/{CALLER}"),
        ResponseTemplate::new(204),
    )
    .await;
    let v = vonage(&server);
    let desk = SipTarget::new("sip:desk@pbx.example.com;transport=tls")
        .unwrap()
        .header("X-Case", "42")
        .unwrap();
    let t = Transfer::cold(desk.into())
        .on_no_answer(NoAnswer::SayAndHangup("Nobody is free. Goodbye.".into()))
        .events(events());
    v.transfer(&caller(), &t).await.unwrap();
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2, "read the call, then move it");
    let (body, url) = body_without(&sent[1], "/destination/ncco/0/eventUrl/0");
    assert_eq!(
        body["destination"]["ncco"][0],
        json!({
            "action": "connect",
            "endpoint": [{"type": "sip", "uri": "sip:desk@pbx.example.com;transport=tls", "headers": {"Case": "42"}}],
            "from": "447700900000",
            "eventType": "synchronous",
            "timeout": 30,
            "eventUrl": ["<events>"],
            "eventMethod": "POST"
        })
    );
    let r = TransferRef::from_query(&Url::parse(&url).unwrap()).unwrap();
    assert_eq!(r.fallback.as_deref(), Some("Nobody is free. Goodbye."));

    // The target does not answer: the synchronous event is answered with the fallback.
    let failed = signed(&url, &leg_event(TARGET, "unanswered"));
    v.verify_webhook(&failed, now()).unwrap();
    let followed = follow(&v, &failed).await.unwrap();
    assert_eq!(
        followed.reply.unwrap().body,
        r#"[{"action":"talk","text":"Nobody is free. Goodbye."}]"#
    );
    match &followed.notices[..] {
        [CallNotice::Transfer(n)] => {
            assert_eq!(
                n.event,
                TransferEvent::TransferFailed {
                    reason: TransferFailure::NoAnswer,
                    raw: "unanswered".into()
                }
            );
            assert_eq!(n.leg_call.as_ref().unwrap().as_str(), TARGET);
        }
        other => panic!("{other:?}"),
    }
    // It answers: the connect bridged it, no request needed.
    let answered = follow(&v, &signed(&url, &leg_event(TARGET, "answered")))
        .await
        .unwrap();
    let events: Vec<&TransferEvent> = answered
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
    assert_eq!(answered.reply, None);
    assert_eq!(requests(&server).await.len(), 2, "nothing more sent");
}

#[tokio::test]
async fn what_vonage_cannot_do_is_refused_before_any_request() {
    let server = MockServer::start().await;
    let v = vonage(&server);
    let number = || "+447700900001".parse().unwrap();
    for (t, says) in [
        (
            Transfer::cold(number()).on_no_answer(NoAnswer::SayAndHangup("Sorry.".into())),
            "Transfer::events",
        ),
        (
            Transfer::cold(number()).timeout(Duration::from_secs(300)),
            "120",
        ),
        (Transfer::warm(number(), None), "events"),
        (
            Transfer::warm(number(), None)
                .events(events())
                .hold("ftp://x.example/hold.mp3".parse().unwrap()),
            "musicOnHoldUrl",
        ),
    ] {
        let e = v.transfer(&caller(), &t).await.unwrap_err();
        assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
        assert!(e.to_string().contains(says), "{e}");
    }
    let rec = RecordingId::new("aaaaaaaa-bbbb-cccc-dddd-0123456789ab").unwrap();
    let unsupported = [
        v.start_recording(&caller(), &RecordingOptions::new())
            .await
            .map(drop),
        v.stop_recording(&caller(), Some(&rec)).await,
        v.delete_recording(&rec).await,
    ];
    for e in unsupported {
        assert!(matches!(e, Err(Error::Unsupported { .. })), "{e:?}");
    }
    for digits in ["A1", "12wD", "W#B"] {
        let e = v
            .send_dtmf(&caller(), &Dtmf::new(digits).unwrap())
            .await
            .unwrap_err();
        assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
        assert!(e.to_string().contains("pauses with p"), "{e}");
    }
    assert!(requests(&server).await.is_empty(), "no request left");
}

#[tokio::test]
async fn a_cold_transfer_of_a_call_gone_or_a_failing_api_is_an_error() {
    let server = MockServer::start().await;
    let gone =
        json!({"type": "https://developer.nexmo.com/api-errors#not-found", "title": "Not Found"});
    on(
        &server,
        "PUT",
        format!("/v1/calls/{CALLER}"),
        ResponseTemplate::new(404).set_body_json(gone),
    )
    .await;
    let v = vonage(&server);
    let t = Transfer::cold("+447700900001".parse().unwrap())
        .caller_id("+447700900000".parse().unwrap());
    let e = v.transfer(&caller(), &t).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
    let server = MockServer::start().await;
    on(
        &server,
        "PUT",
        format!("/v1/calls/{CALLER}"),
        ResponseTemplate::new(500),
    )
    .await;
    let e = vonage(&server).transfer(&caller(), &t).await.unwrap_err();
    assert_eq!(e.http_status(), Some(500), "{e}");
}

/// A warm transfer placed: the target's leg, its brief, the room, the signed reference.
async fn warm(server: &MockServer, v: &Vonage) -> (String, String) {
    Mock::given(method("POST"))
        .and(path("/v1/calls"))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"uuid": TARGET, "status": "started", "direction": "outbound", "conversation_uuid": "CON-1"}),
        ))
        .expect(1)
        .mount(server)
        .await;
    let t = Transfer::warm(
        "+447700900001".parse().unwrap(),
        Some(Brief::Say("A caller about a refund.".into())),
    )
    .caller_id("+447700900000".parse().unwrap())
    .timeout(Duration::from_secs(20))
    .hold(HOLD.parse().unwrap())
    .events(events());
    let started = v.transfer(&caller(), &t).await.unwrap();
    assert_eq!(started.target_call.as_ref().unwrap().as_str(), TARGET);
    let room = started.transfer_id;
    assert!(room.starts_with("xfer-"), "{room}");
    let sent = requests(server).await;
    let (body, url) = body_without(sent.last().unwrap(), "/event_url/0");
    assert_eq!(
        body,
        json!({
            "to": [{"type": "phone", "number": "447700900001"}],
            "from": {"type": "phone", "number": "447700900000"},
            "ncco": [
                {"action": "talk", "text": "A caller about a refund."},
                {"action": "conversation", "name": room, "startOnEnter": true, "endOnExit": true}
            ],
            "event_url": ["<events>"],
            "event_method": "POST",
            "ringing_timer": 20
        })
    );
    let r = TransferRef::from_query(&Url::parse(&url).unwrap()).unwrap();
    assert_eq!((r.id.as_str(), r.leg), (room.as_str(), TransferLeg::Target));
    (room, url)
}

#[tokio::test]
async fn a_warm_transfer_moves_the_caller_to_the_room_on_hold_when_the_target_answers() {
    let server = MockServer::start().await;
    let v = vonage(&server);
    let (room, url) = warm(&server, &v).await;
    // The caller's call, moved: hold audio until the target (its brief over) enters.
    let moved = json!({"action": "transfer", "destination": {"type": "ncco", "ncco": [{
        "action": "conversation", "name": room, "musicOnHoldUrl": [HOLD],
        "startOnEnter": false, "endOnExit": true
    }]}});
    Mock::given(method("PUT"))
        .and(path(format!("/v1/calls/{CALLER}")))
        .and(body_json(moved))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    for (status, event) in [
        ("started", TransferEvent::TransferStarted),
        ("ringing", TransferEvent::TransferRinging),
    ] {
        let f = follow(&v, &signed(&url, &leg_event(TARGET, status)))
            .await
            .unwrap();
        assert!(matches!(&f.notices[..], [CallNotice::Transfer(n)] if n.event == event));
    }
    let answered = signed(&url, &leg_event(TARGET, "answered"));
    v.verify_webhook(&answered, now()).unwrap();
    let f = follow(&v, &answered).await.unwrap();
    let steps: Vec<TransferEvent> = f
        .notices
        .iter()
        .map(|n| match n {
            CallNotice::Transfer(t) => {
                assert_eq!(t.transfer.id, room);
                t.event.clone()
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        steps,
        [TransferEvent::TransferAnswered, TransferEvent::Bridged]
    );
    // The brief went to the target's leg only: nothing the caller was sent speaks.
    let to_caller: Vec<Request> = requests(&server)
        .await
        .into_iter()
        .filter(|r| r.url.path() == format!("/v1/calls/{CALLER}"))
        .collect();
    assert_eq!(to_caller.len(), 1);
    assert!(!String::from_utf8_lossy(&to_caller[0].body).contains("refund"));
}

#[tokio::test]
async fn a_caller_gone_by_the_answer_is_reported_and_the_target_hung_up() {
    let server = MockServer::start().await;
    let v = vonage(&server);
    let (_, url) = warm(&server, &v).await;
    let gone =
        json!({"type": "https://developer.nexmo.com/api-errors#not-found", "title": "Not Found"});
    on(
        &server,
        "PUT",
        format!("/v1/calls/{CALLER}"),
        ResponseTemplate::new(404).set_body_json(gone),
    )
    .await;
    Mock::given(method("PUT"))
        .and(path(format!("/v1/calls/{TARGET}")))
        .and(body_json(json!({"action": "hangup"})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let f = follow(&v, &signed(&url, &leg_event(TARGET, "answered")))
        .await
        .unwrap();
    match &f.notices[..] {
        [CallNotice::Transfer(a), CallNotice::Transfer(b)] => {
            assert_eq!(a.event, TransferEvent::TransferAnswered);
            assert!(matches!(
                &b.event,
                TransferEvent::TransferFailed {
                    reason: TransferFailure::CallerGone,
                    ..
                }
            ));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_target_not_reached_leaves_the_caller_with_the_agent_and_an_ended_one_ends_the_room() {
    let server = MockServer::start().await;
    let v = vonage(&server);
    let (_, url) = warm(&server, &v).await;
    let before = requests(&server).await.len();
    for (status, reason) in [
        ("busy", TransferFailure::Busy),
        ("timeout", TransferFailure::NoAnswer),
        ("unanswered", TransferFailure::NoAnswer),
        ("rejected", TransferFailure::Failed),
        ("failed", TransferFailure::Failed),
        ("cancelled", TransferFailure::Failed),
    ] {
        let f = follow(&v, &signed(&url, &leg_event(TARGET, status)))
            .await
            .unwrap();
        let expected = TransferEvent::TransferFailed {
            reason,
            raw: status.to_owned(),
        };
        assert!(
            matches!(&f.notices[..], [CallNotice::Transfer(n)] if n.event == expected && n.status.as_ref().unwrap().raw_status == status),
            "{status}: {:?}",
            f.notices
        );
        assert_eq!(f.reply, None);
    }
    assert_eq!(
        requests(&server).await.len(),
        before,
        "the caller never left the agent"
    );
    // The target's leg ended: the caller's call is ended with it (already ended is fine).
    Mock::given(method("PUT"))
        .and(path(format!("/v1/calls/{CALLER}")))
        .and(body_json(json!({"action": "hangup"})))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    let f = follow(&v, &signed(&url, &leg_event(TARGET, "completed")))
        .await
        .unwrap();
    assert!(
        matches!(&f.notices[..], [CallNotice::Transfer(n)] if n.event == TransferEvent::TargetEnded)
    );
}

#[tokio::test]
async fn a_query_vonage_does_not_sign_is_read_only_under_the_adapters_signature() {
    let server = MockServer::start().await;
    let v = vonage(&server);
    let r = TransferRef::for_transfer(
        caller(),
        &Transfer::warm("+447700900001".parse().unwrap(), None).events(events()),
        TransferLeg::Target,
    );
    let url = v.transfer_callback_url(&r, &events());
    let body = leg_event(TARGET, "answered");
    let notice = v.parse_callback(&signed(url.as_str(), &body)).unwrap();
    assert!(matches!(notice, CallNotice::Transfer(ref n) if n.transfer == r));
    // Another caller in the query: Vonage's token still verifies (it signs the body only), so
    // the adapter's own signature is what refuses it.
    let forged = url
        .as_str()
        .replace(CALLER, "ffffffff-4a51-4f6b-86e1-46edebcf9356");
    let request = signed(&forged, &body);
    v.verify_webhook(&request, now()).unwrap();
    let e = v.parse_callback(&request).unwrap_err();
    assert!(
        e.to_string().contains("telephony_sig") || e.to_string().contains("signature"),
        "{e}"
    );
    // A reference written without the adapter's key.
    let unsigned = r.to_query(&events());
    assert!(v.parse_callback(&signed(unsigned.as_str(), &body)).is_err());
    // Nothing of ours in the query: a plain status.
    let plain = v.parse_callback(&signed(EVENTS, &body)).unwrap();
    assert!(matches!(plain, CallNotice::Status(ref e) if e.raw_status == "answered"));
    // The event Vonage posts after a transfer (no status; the conversations the call moved
    // between) is acknowledged, not refused.
    let moved = v
        .parse_callback(&signed(
            EVENTS,
            &json!({"uuid": CALLER, "conversation_uuid_from": "CON-1", "conversation_uuid_to": "CON-2", "timestamp": "2020-01-01T12:00:00.000Z"}),
        ))
        .unwrap();
    assert!(
        matches!(moved, CallNotice::Other { ref call_id, ref event } if event == "transfer" && call_id.as_ref().map(CallId::as_str) == Some(CALLER)),
        "{moved:?}"
    );
    // A status that is no step of a transfer, at a transfer's URL, is what it says.
    let n = v
        .parse_callback(&signed(
            url.as_str(),
            &json!({"uuid": TARGET, "status": "disconnected"}),
        ))
        .unwrap();
    assert!(matches!(n, CallNotice::Status(_)), "{n:?}");
    // A notice not made here has nothing to continue.
    let step = v
        .continue_transfer(&TransferNotice::new(r, TransferEvent::TransferRinging))
        .await
        .unwrap();
    assert_eq!(step, telephony_core::control::TransferStep::none());
    assert!(requests(&server).await.is_empty());
}

#[tokio::test]
async fn dtmf_is_played_through_the_voice_api() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path(format!("/v1/calls/{CALLER}/dtmf")))
        .and(body_json(json!({"digits": "1234#*"})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"message": "DTMF sent", "uuid": CALLER})),
        )
        .expect(1)
        .mount(&server)
        .await;
    // The pauses as Vonage's p (500 ms): w is one, W two.
    Mock::given(method("PUT"))
        .and(path(format!("/v1/calls/{CALLER}/dtmf")))
        .and(body_json(json!({"digits": "1p2pp#pppp*"})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"message": "DTMF sent", "uuid": CALLER})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let v = vonage(&server);
    v.send_dtmf(&caller(), &Dtmf::new("1234#*").unwrap())
        .await
        .unwrap();
    v.send_dtmf(&caller(), &Dtmf::new("1w2W#WW*").unwrap())
        .await
        .unwrap();
    let other = CallId::new("ffffffff-4a51-4f6b-86e1-46edebcf9356").unwrap();
    let e = v
        .send_dtmf(&other, &Dtmf::new("1").unwrap())
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e}");
}

#[test]
fn the_capabilities_say_what_vonage_does() {
    let v = Vonage::new(VonageConfig::new(APP, KEY)).unwrap();
    let c = v.capabilities();
    assert!(c.transfer && c.warm_transfer && c.sip_transfer);
    assert!(c.machine_detection && c.machine_detection_greeting_end);
    assert!(c.dtmf_rest && c.dtmf_send);
    assert!(c.recording && c.dual_channel_recording && c.recording_download);
    assert!(c.recording_on_answer);
    assert!(!c.recording_control && !c.recording_delete);
}
