//! Placing calls, reading them and their cost, hanging up, and the calls' other controls.

use super::*;

#[tokio::test]
async fn create_call_sends_the_documented_json_with_a_valid_application_jwt() {
    let server = MockServer::start().await;
    let request = voice("POST", "/v1/calls")
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "to": [{"type": "phone", "number": "447700900000"}],
            "from": {"type": "phone", "number": "447700900001"},
            "answer_url": [ANSWER],
            "answer_method": "POST",
            "event_url": ["https://agent.example.com/vonage/events"],
            "event_method": "POST",
            "machine_detection": "continue",
            "length_timer": 3600,
            "ringing_timer": 30
        })));
    mount(&server, request, created(), 1).await;
    let placed = vonage(&server).initiate_call(&outbound()).await.unwrap();
    assert_eq!(placed.call_id.as_str(), UUID);
    assert_eq!(placed.status, CallStatus::Initiated);
}

#[tokio::test]
async fn an_inline_stream_becomes_an_ncco_and_greeting_end_detection_is_advanced_amd() {
    let server = MockServer::start().await;
    create_expecting(
        &server,
        json!({
            "to": [{"type": "phone", "number": "447700900000"}],
            "from": {"type": "phone", "number": "447700900001"},
            "ncco": [{
                "action": "connect",
                "endpoint": [{
                    "type": "websocket",
                    "uri": "wss://agent.example.com/vonage/media",
                    "content-type": "audio/l16;rate=24000",
                    "headers": {"session": "s-42"}
                }],
                "eventType": "synchronous",
                "eventUrl": ["https://agent.example.com/vonage/stream-events"]
            }],
            "advanced_machine_detection": {"behavior": "continue", "mode": "detect_beep", "beep_timeout": 45}
        }),
    )
    .await;
    let stream = StreamSpec::new("wss://agent.example.com/vonage/media".parse().unwrap())
        .parameter("session", "s-42")
        .audio(AudioFormat::new(
            telephony_core::audio::Encoding::L16Le,
            SampleRate::Hz24000,
        ))
        .status_callback(
            "https://agent.example.com/vonage/stream-events"
                .parse()
                .unwrap(),
        );
    let call = OutboundCall::stream(
        "+447700900000".parse().unwrap(),
        "+447700900001".parse().unwrap(),
        stream,
    )
    .machine_detection(MachineDetection::DetectGreetingEnd);
    vonage(&server).initiate_call(&call).await.unwrap();
}

#[tokio::test]
async fn a_call_can_dial_a_websocket_directly() {
    let server = MockServer::start().await;
    create_expecting(
        &server,
        json!({
            "to": [{"type": "websocket", "uri": "wss://agent.example.com/ws", "content-type": "audio/l16;rate=16000", "headers": {"campaign": "spring"}}],
            "from": {"type": "phone", "number": "447700900001"},
            "ncco": [{"action": "talk", "text": "Hello from the agent"}]
        }),
    )
    .await;
    let v = vonage(&server);
    let ncco = Ncco::new().talk(Talk::new("Hello from the agent"));
    let dial = |ws: Websocket| {
        CreateCall::ncco(NccoEndpoint::Websocket(ws), &ncco)
            .unwrap()
            .from("+447700900001")
    };
    let ws = Websocket::new("wss://agent.example.com/ws", SampleRate::Hz16000)
        .unwrap()
        .header("campaign", "spring");
    let created = v.client().create_call(&dial(ws)).await.unwrap();
    assert_eq!(created.conversation_uuid.as_deref(), Some(CONV));
    // A websocket endpoint that Vonage would refuse is refused here, before sending.
    let long = Websocket::new("wss://agent.example.com/ws", SampleRate::Hz16000)
        .unwrap()
        .header("blob", "x".repeat(600));
    let e = v.client().create_call(&dial(long)).await.unwrap_err();
    assert!(e.is_config() && e.to_string().contains("512"), "{e}");
}

#[tokio::test]
async fn problem_details_are_typed() {
    let server = MockServer::start().await;
    let problem = answer(
        400,
        json!({
            "type": "https://developer.nexmo.com/api-errors#bad-request",
            "title": "Bad Request",
            "detail": "The request failed due to validation errors",
            "invalid_parameters": [{"name": "to[0].number", "reason": "must be a valid number"}],
            "instance": "bf0ca0bf927b3b52e3cb03217e1a1ddf"
        }),
    )
    .insert_header("content-type", "application/problem+json");
    serve(&server, voice("POST", "/v1/calls"), problem).await;
    let e = vonage(&server)
        .initiate_call(&outbound())
        .await
        .unwrap_err();
    let api = e.api().unwrap();
    assert_eq!(api.status, 400);
    assert_eq!(api.code.as_deref(), Some("bad-request"));
    assert_eq!(
        api.more_info.as_deref(),
        Some("https://developer.nexmo.com/api-errors#bad-request")
    );
    assert!(
        api.message.contains("to[0].number: must be a valid number"),
        "{}",
        api.message
    );
    assert!(!e.is_retryable() && !e.is_auth());

    let server = MockServer::start().await;
    let unauthorized = answer(
        401,
        json!({
            "type": "https://developer.nexmo.com/api-errors#unauthorized", "title": "Unauthorized",
            "detail": "You did not provide correct credentials."
        }),
    );
    serve(&server, voice("GET", call_path()), unauthorized).await;
    let e = vonage(&server).call_status(&id()).await.unwrap_err();
    assert!(e.is_auth());
    let text = e.to_string();
    assert!(
        text.contains("VONAGE_APPLICATION_ID") && text.contains("unauthorized"),
        "{text}"
    );
    assert!(!text.contains("BEGIN PRIVATE KEY"));

    // Nothing is sent when the request cannot be right.
    let bad = outbound().ring_timeout(Duration::from_secs(300));
    let e = vonage(&server).initiate_call(&bad).await.unwrap_err();
    assert!(
        e.is_config() && e.to_string().contains("ringing_timer"),
        "{e}"
    );
}

#[tokio::test]
async fn fetch_a_call_with_its_cost() {
    let server = MockServer::start().await;
    let call = answer(
        200,
        json!({
            "_links": {"self": {"href": format!("/calls/{UUID}")}},
            "uuid": UUID, "conversation_uuid": CONV,
            "to": {"type": "phone", "number": "447700900000"},
            "from": {"type": "phone", "number": "447700900001"},
            "status": "completed", "direction": "outbound",
            "rate": "0.39", "price": "23.40", "duration": "60",
            "start_time": "2020-01-01 12:00:00", "end_time": "2020-01-01T12:01:00.000Z",
            "network": "65512"
        }),
    );
    mount(&server, voice("GET", call_path()), call, 2).await;
    let v = vonage(&server);
    let id = id();
    let info = v.call_status(&id).await.unwrap();
    assert_eq!(info.status, CallStatus::Completed);
    assert_eq!(info.direction, Some(Direction::Outbound));
    // Vonage's digits, in E.164 as every adapter reports a party.
    assert_eq!(info.to.as_deref(), Some("+447700900000"));
    assert_eq!(info.from.as_deref(), Some("+447700900001"));
    assert_eq!(info.duration, Some(Duration::from_secs(60)));
    assert_eq!(
        info.end_time
            .unwrap()
            .duration_since(info.start_time.unwrap())
            .unwrap(),
        Duration::from_secs(60)
    );
    let cost = v.call_cost(&id).await.unwrap().unwrap();
    assert_eq!(cost.amount, "23.40".parse::<Decimal>().unwrap());
    assert_eq!(cost.rate, Some("0.39".parse::<Decimal>().unwrap()));
    assert_eq!(cost.currency, Currency::EUR);
}

#[tokio::test]
async fn an_unpriced_call_has_no_cost_and_numbers_may_come_as_numbers() {
    let server = MockServer::start().await;
    let call = answer(
        200,
        json!({"uuid": UUID, "status": "answered", "rate": null, "price": null, "duration": 12}),
    );
    serve(&server, voice("GET", call_path()), call).await;
    let v = Vonage::new(config(&server).currency(Currency::USD)).unwrap();
    let id = id();
    assert_eq!(v.call_cost(&id).await.unwrap(), None);
    let info = v.call_status(&id).await.unwrap();
    assert_eq!(info.status, CallStatus::InProgress);
    assert_eq!(info.duration, Some(Duration::from_secs(12)));
}

#[tokio::test]
async fn hangup_is_a_put_and_an_ended_call_is_success() {
    let hangup = || voice("PUT", call_path()).and(body_json(json!({"action": "hangup"})));
    let server = MockServer::start().await;
    mount(&server, hangup(), status(204), 1).await;
    let outcome = vonage(&server).hangup(&id()).await.unwrap();
    assert_eq!(outcome, HangupOutcome::Ended);

    let server = MockServer::start().await;
    let gone = answer(
        404,
        json!({"type": "https://developer.nexmo.com/api-errors#not-found", "title": "Not Found"}),
    );
    mount(&server, hangup(), gone, 1).await;
    let outcome = vonage(&server).hangup(&id()).await.unwrap();
    assert_eq!(outcome, HangupOutcome::AlreadyEnded);
}

#[tokio::test]
async fn a_refused_hangup_is_success_only_when_the_call_is_over() {
    for (state, ended) in [("completed", true), ("answered", false)] {
        let server = MockServer::start().await;
        let refused = answer(
            400,
            json!({
                "type": "https://developer.nexmo.com/api-errors#bad-request", "title": "Bad Request",
                "detail": "Call is not in a valid state"
            }),
        );
        mount(&server, voice("PUT", call_path()), refused, 1).await;
        let call = answer(200, json!({"uuid": UUID, "status": state}));
        mount(&server, voice("GET", call_path()), call, 1).await;
        let r = vonage(&server).hangup(&id()).await;
        if ended {
            assert_eq!(r.unwrap(), HangupOutcome::AlreadyEnded);
        } else {
            let e = r.unwrap_err();
            assert_eq!(e.http_status(), Some(400));
            assert!(e.to_string().contains("not in a valid state"), "{e}");
        }
    }
}

#[tokio::test]
async fn transfer_mute_and_dtmf() {
    let server = MockServer::start().await;
    for body in [
        json!({
            "action": "transfer",
            "destination": {"type": "ncco", "ncco": [{"action": "talk", "text": "Transferring you"}]}
        }),
        json!({
            "action": "transfer",
            "destination": {"type": "ncco", "url": ["https://agent.example.com/vonage/next"]}
        }),
        json!({"action": "earmuff"}),
    ] {
        let request = voice("PUT", call_path()).and(body_json(body));
        mount(&server, request, status(204), 1).await;
    }
    let dtmf =
        voice("PUT", format!("{}/dtmf", call_path())).and(body_json(json!({"digits": "1713#"})));
    let sent = answer(200, json!({"message": "DTMF sent", "uuid": UUID}));
    mount(&server, dtmf, sent, 1).await;
    let v = vonage(&server);
    let c = v.client();
    c.transfer_ncco(UUID, &Ncco::new().talk(Talk::new("Transferring you")))
        .await
        .unwrap();
    c.transfer_url(
        UUID,
        &"https://agent.example.com/vonage/next".parse().unwrap(),
    )
    .await
    .unwrap();
    c.control(UUID, CallControl::Earmuff).await.unwrap();
    c.send_dtmf(UUID, "1713#").await.unwrap();
    assert!(c.send_dtmf(UUID, "12x").await.unwrap_err().is_config());
    assert!(c.transfer_ncco(UUID, &Ncco::new()).await.is_err());
}

#[tokio::test]
async fn the_application_jwt_is_reused_across_requests() {
    let server = MockServer::start().await;
    mount(&server, voice("PUT", call_path()), status(204), 3).await;
    let v = vonage(&server);
    for _ in 0..3 {
        v.hangup(&id()).await.unwrap();
    }
    let tokens: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.headers["authorization"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(tokens.len(), 3);
    assert!(tokens.iter().all(|t| t == &tokens[0]), "signed per request");
}

#[tokio::test]
async fn the_other_error_paths() {
    let server = MockServer::start().await;
    let call = call_path();
    let not_found = answer(
        404,
        json!({
            "type": "https://developer.nexmo.com/api-errors#not-found", "title": "Not Found",
            "detail": "Call not found"
        }),
    );
    mount(&server, voice("GET", call.as_str()), not_found, 1).await;
    let not_answered = answer(
        400,
        json!({
            "type": "https://developer.nexmo.com/api-errors#bad-request", "title": "Bad Request",
            "detail": "Call is not answered"
        }),
    );
    mount(
        &server,
        voice("PUT", format!("{call}/dtmf")),
        not_answered,
        1,
    )
    .await;
    for (action, code) in [("mute", 409), ("hangup", 410)] {
        let request = voice("PUT", call.as_str()).and(body_json(json!({"action": action})));
        mount(&server, request, status(code), 1).await;
    }
    let refused = answer(
        401,
        json!({"error-code": "401", "error-code-label": "authentication failed"}),
    );
    mount(&server, basic_auth("GET", "/account/numbers"), refused, 1).await;
    let invalid = answer(
        400,
        json!({
            "type": "https://developer.nexmo.com/api-errors/application#payload-validation",
            "title": "Bad Request", "detail": "The request failed due to validation errors",
            "invalid_parameters": [{"name": "capabilities.voice.webhooks.answer_url.address", "reason": "Is not a valid URL"}]
        }),
    );
    mount(&server, basic_auth("PUT", app_path()), invalid, 1).await;
    let v = vonage(&server);
    let id = id();
    let e = v.call_status(&id).await.unwrap_err();
    assert!(
        e.is_not_found() && e.to_string().contains("Call not found"),
        "{e}"
    );
    let e = v.client().send_dtmf(UUID, "1").await.unwrap_err();
    assert_eq!(e.http_status(), Some(400));
    assert!(!e.may_have_acted(), "a 400 was not acted on");
    let e = v
        .client()
        .control(UUID, CallControl::Mute)
        .await
        .unwrap_err();
    assert_eq!(e.http_status(), Some(409));
    assert_eq!(v.hangup(&id).await.unwrap(), HangupOutcome::AlreadyEnded);
    let e = v.phone_numbers().await.unwrap_err();
    assert!(e.is_auth(), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("authentication failed") && text.contains("VONAGE_API_SECRET"),
        "{text}"
    );
    assert!(!text.contains(API_SECRET));
    let mut app = application("https://old.example.com/answer", "POST");
    app["name"] = json!("renamed");
    let e = v.client().put_application(APP, &app).await.unwrap_err();
    assert!(
        e.to_string()
            .contains("answer_url.address: Is not a valid URL"),
        "{e}"
    );
}

/// The call API's credentials, checked apart from the account's: a read of a call no account
/// has, with the application JWT. Vonage's 404 means the JWT was accepted; its 401 is the
/// error, with the application to check.
#[tokio::test]
async fn the_application_jwt_is_checked_with_a_read_of_no_call() {
    const NO_CALL: &str = "/v1/calls/00000000-0000-4000-8000-000000000000";
    let server = MockServer::start().await;
    serve(&server, voice("GET", NO_CALL), status(404)).await;
    vonage(&server).check_call_credentials().await.unwrap();

    let server = MockServer::start().await;
    serve(
        &server,
        on("GET", NO_CALL),
        answer(
            401,
            json!({"type": "https://developer.nexmo.com/api-errors#unauthorized", "title": "Unauthorized", "detail": "You did not provide correct credentials.", "instance": "bf0ca0bf927b3b52e3cb03217e1a1ddf"}),
        ),
    )
    .await;
    match vonage(&server).check_call_credentials().await {
        Err(Error::Api(api)) => {
            assert_eq!(api.status, 401);
            assert!(
                api.hint
                    .as_deref()
                    .is_some_and(|h| h.contains("VONAGE_APPLICATION_ID")),
                "{api:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}
