//! Placing calls, reading their status and cost, and hanging up.

use super::*;

#[tokio::test]
async fn create_call_sends_the_documented_json() {
    let server = MockServer::start().await;
    let request = on("POST", p("Call/"))
        .and(header("authorization", basic().as_str()))
        .and(body_json(serde_json::json!({
            "from": "14155550199", "to": "14155550100",
            "answer_url": "https://agent.example.com/plivo/answer", "answer_method": "POST",
            "hangup_url": "https://agent.example.com/plivo/status", "hangup_method": "POST",
            "ring_url": "https://agent.example.com/plivo/status", "ring_method": "POST",
            "machine_detection": "true",
            // Asynchronous detection: the verdict is posted to the status callback.
            "machine_detection_url": "https://agent.example.com/plivo/status",
            "machine_detection_method": "POST",
            "time_limit": 3600, "ring_timeout": 30
        })));
    let answer = json(
        201,
        serde_json::json!({
            "api_id": "97ceeb52-58b6-11e1-86da-77300b68f8bb", "message": "call fired", "request_uuid": REQ
        }),
    );
    mount(&server, request, answer, 1).await;
    let placed = plivo(&server).initiate_call(&outbound()).await.unwrap();
    assert_eq!(placed.call_id.as_str(), REQ);
    assert_eq!(placed.status, CallStatus::Queued);
}

#[tokio::test]
async fn inline_streams_are_refused_before_any_request() {
    let server = MockServer::start().await;
    mount(&server, Mock::given(method("POST")), status(201), 0).await;
    let call = OutboundCall::stream(
        "+14155550100".parse().unwrap(),
        "+14155550199".parse().unwrap(),
        StreamSpec::new("wss://a/b".parse().unwrap()),
    );
    let err = plivo(&server).initiate_call(&call).await.unwrap_err();
    assert!(
        err.is_config() && err.to_string().contains("answer URL"),
        "{err}"
    );
}

#[tokio::test]
async fn status_tries_live_then_the_record_then_the_queue() {
    let server = MockServer::start().await;
    mount(
        &server,
        on_status("GET", call_path(UUID), "live"),
        not_found(),
        1,
    )
    .await;
    let record = json(200, cdr(Some("0.00850")));
    mount(&server, on("GET", call_path(UUID)), record, 1).await;
    let info = plivo(&server).call_status(&id(UUID)).await.unwrap();
    assert_eq!(info.status, CallStatus::Completed);
    assert_eq!(info.duration, Some(Duration::from_secs(17)));
    assert_eq!(
        info.cost.unwrap().amount,
        "0.00850".parse::<Decimal>().unwrap()
    );
}

/// The issue-18 record: an ended call with no `call_state` is not `unknown`; its times are
/// read and its parties are E.164, as every carrier's are.
#[tokio::test]
async fn a_real_record_without_a_state_is_an_ended_call_with_its_times() {
    const CALL: &str = "4d04c52e-cea3-4458-bbdb-0bfc314ee7cd";
    let server = MockServer::start().await;
    let live = on_status("GET", call_path(CALL), "live");
    mount(&server, live, not_found(), 1).await;
    let record =
        ResponseTemplate::new(200).set_body_raw(CALL_GET_RESPONSE.as_bytes(), "application/json");
    mount(&server, on("GET", call_path(CALL)), record, 1).await;
    let info = plivo(&server).call_status(&id(CALL)).await.unwrap();
    assert_eq!(info.status, CallStatus::NoAnswer);
    assert!(info.status.is_terminal());
    let at = |secs| Some(std::time::UNIX_EPOCH + Duration::from_secs(secs));
    // 17:49:30 and 17:49:40 at +05:30.
    assert_eq!(info.start_time, at(1_495_455_570));
    assert_eq!(info.end_time, at(1_495_455_580));
    assert_eq!(info.from.as_deref(), Some("+919879879876"));
    assert_eq!(info.to.as_deref(), Some("+919999999999"));
    assert_eq!(info.duration, Some(Duration::ZERO));
    assert_eq!(info.cost.unwrap().amount, Decimal::ZERO);
    // In JSON: a string status and both times.
    let json = serde_json::to_value(&info).unwrap();
    assert_eq!(json["status"], "no-answer");
    assert!(
        json["start_time"].is_object() && json["end_time"].is_object(),
        "{json}"
    );
}

/// The same record with what a different ending leaves: the outcome follows the answer, the
/// billed seconds and the hangup cause.
#[tokio::test]
async fn a_record_without_a_state_takes_its_outcome_from_its_fields() {
    let base: serde_json::Value = serde_json::from_str(CALL_GET_RESPONSE).unwrap();
    for (changes, status) in [
        (
            serde_json::json!({"answer_time": "2017-05-22 17:49:35+05:30", "bill_duration": 5}),
            CallStatus::Completed,
        ),
        (
            serde_json::json!({"bill_duration": 60}),
            CallStatus::Completed,
        ),
        (
            serde_json::json!({"hangup_cause_name": "Busy Line", "hangup_source": "Callee"}),
            CallStatus::Busy,
        ),
        (
            serde_json::json!({"hangup_cause_code": 1000, "hangup_cause_name": "Canceled"}),
            CallStatus::Canceled,
        ),
        (
            serde_json::json!({"hangup_cause_code": 2000, "hangup_cause_name": "Invalid Destination Address"}),
            CallStatus::Failed,
        ),
        // A state Plivo sends but no table knows: still a record, so still an ended call.
        (
            serde_json::json!({"call_state": "EARLY MEDIA"}),
            CallStatus::NoAnswer,
        ),
        (serde_json::json!({"call_state": "BUSY"}), CallStatus::Busy),
    ] {
        let mut record = base.clone();
        for (k, v) in changes.as_object().unwrap() {
            record[k] = v.clone();
        }
        let call = record["call_uuid"].as_str().unwrap().to_owned();
        let server = MockServer::start().await;
        let live = on_status("GET", call_path(&call), "live");
        mount(&server, live, not_found(), 1).await;
        mount(&server, on("GET", call_path(&call)), json(200, record), 1).await;
        let info = plivo(&server).call_status(&id(&call)).await.unwrap();
        assert_eq!(info.status, status, "{changes}");
    }
}

#[tokio::test]
async fn status_of_a_live_call_and_of_a_queued_request() {
    let server = MockServer::start().await;
    let live = json(
        200,
        serde_json::json!({
            "call_status": "in-progress", "call_uuid": UUID, "direction": "outbound", "from": "14155550199", "to": "14155550100", "request_uuid": REQ
        }),
    );
    mount(&server, on_status("GET", call_path(UUID), "live"), live, 1).await;
    let info = plivo(&server).call_status(&id(UUID)).await.unwrap();
    assert_eq!(info.status, CallStatus::InProgress);
    // Plivo writes the parties as digits; reported in E.164.
    assert_eq!(
        (info.from.as_deref(), info.to.as_deref()),
        (Some("+14155550199"), Some("+14155550100"))
    );

    let server = MockServer::start().await;
    mount(
        &server,
        on_status("GET", call_path(REQ), "live"),
        not_found(),
        1,
    )
    .await;
    let queued = json(
        200,
        serde_json::json!({"call_status": "queued", "direction": "outbound", "request_uuid": REQ}),
    );
    mount(
        &server,
        on_status("GET", call_path(REQ), "queued"),
        queued,
        1,
    )
    .await;
    mount(&server, on("GET", call_path(REQ)), not_found(), 1).await;
    let info = plivo(&server).call_status(&id(REQ)).await.unwrap();
    assert_eq!(info.status, CallStatus::Queued);
}

#[tokio::test]
async fn status_of_nothing_is_not_found() {
    let server = MockServer::start().await;
    mount(&server, Mock::given(method("GET")), not_found(), 4).await;
    let err = plivo(&server).call_status(&id(UUID)).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

/// Plivo files an ended call's record under its CallUUID and has no lookup by request id (the
/// record carries no request_uuid, and the call list filters on none): the answer for a
/// request id of an ended call is a not-found that says what to pass instead.
#[tokio::test]
async fn a_request_id_of_an_ended_call_says_to_pass_the_call_uuid() {
    let server = MockServer::start().await;
    for status in ["live", "queued"] {
        mount(
            &server,
            on_status("GET", call_path(REQ), status),
            not_found(),
            2,
        )
        .await;
    }
    let no_calls = json(200, serde_json::json!({"api_id": "x", "calls": []}));
    mount(&server, on_status("GET", p("Call/"), "live"), no_calls, 2).await;
    // The record exists, under the CallUUID; the request id finds nothing.
    let record = json(200, cdr(Some("0.01200")));
    mount(&server, on("GET", call_path(UUID)), record, 0).await;
    mount(&server, on("GET", call_path(REQ)), not_found(), 2).await;
    let plivo = plivo(&server);
    let req = id(REQ);
    let status = plivo.call_status(&req).await.unwrap_err();
    let cost = plivo.call_cost(&req).await.unwrap_err();
    for err in [status, cost] {
        assert!(err.is_not_found(), "{err}");
        let hint = err.api().unwrap().hint.as_deref().unwrap_or_default();
        assert!(
            hint.contains("request_uuid")
                && hint.contains("pass the CallUUID from the answer or hangup callback"),
            "{err}"
        );
        assert!(
            err.to_string().contains(hint),
            "the hint is in the message: {err}"
        );
    }
}

#[tokio::test]
async fn cost_of_a_call_still_going_is_not_priced_yet() {
    // By its CallUUID: no record yet, but live.
    let server = MockServer::start().await;
    mount(
        &server,
        on_status("GET", call_path(UUID), "live"),
        live_uuid(),
        1,
    )
    .await;
    mount(&server, on("GET", call_path(UUID)), status(404), 1).await;
    assert_eq!(plivo(&server).call_cost(&id(UUID)).await.unwrap(), None);

    // By its request id, answered: the live call that names the request.
    let server = MockServer::start().await;
    for state in ["live", "queued"] {
        mount(
            &server,
            on_status("GET", call_path(REQ), state),
            status(404),
            1,
        )
        .await;
    }
    mount(&server, on("GET", call_path(REQ)), status(404), 1).await;
    let calls = json(200, serde_json::json!({"calls": [UUID]}));
    mount(&server, on_status("GET", p("Call/"), "live"), calls, 1).await;
    mount(
        &server,
        on_status("GET", call_path(UUID), "live"),
        live_uuid(),
        1,
    )
    .await;
    assert_eq!(plivo(&server).call_cost(&id(REQ)).await.unwrap(), None);
}

/// Once answered, Plivo knows a call by its CallUUID; a host holding only the request id
/// must still be able to hang it up, or it bills on.
#[tokio::test]
async fn a_request_id_finds_its_answered_call() {
    const OTHER: &str = "11111111-2222-4333-8444-555555555555";
    let server = MockServer::start().await;
    for tail in [format!("Call/{REQ}/"), format!("Request/{REQ}/")] {
        mount(&server, on("DELETE", p(&tail)), not_found(), 1).await;
    }
    let calls = json(
        200,
        serde_json::json!({"api_id": "x", "calls": [OTHER, UUID]}),
    );
    mount(&server, on_status("GET", p("Call/"), "live"), calls, 2).await;
    // Looked up as often as the adapter needs: no expectation on these three.
    on_status("GET", call_path(OTHER), "live")
        .respond_with(json(
            200,
            serde_json::json!({"call_uuid": OTHER, "call_status": "in-progress", "request_uuid": "another"}),
        ))
        .mount(&server)
        .await;
    on_status("GET", call_path(UUID), "live")
        .respond_with(json(
            200,
            serde_json::json!({"call_uuid": UUID, "call_status": "in-progress", "request_uuid": REQ, "direction": "outbound"}),
        ))
        .mount(&server)
        .await;
    on("GET", call_path(REQ))
        .respond_with(not_found())
        .mount(&server)
        .await;
    mount(&server, on("DELETE", call_path(UUID)), status(204), 1).await;
    let plivo = plivo(&server);
    let info = plivo.call_status(&id(REQ)).await.unwrap();
    assert_eq!(info.call_id.as_str(), UUID);
    assert_eq!(info.status, CallStatus::InProgress);
    assert_eq!(plivo.hangup(&id(REQ)).await.unwrap(), HangupOutcome::Ended);
}

#[tokio::test]
async fn hangup_deletes_then_cancels_the_request_then_reports_already_ended() {
    let server = MockServer::start().await;
    mount(&server, on("DELETE", call_path(UUID)), status(204), 1).await;
    let outcome = plivo(&server).hangup(&id(UUID)).await.unwrap();
    assert_eq!(outcome, HangupOutcome::Ended);

    let server = MockServer::start().await;
    mount(&server, on("DELETE", call_path(REQ)), not_found(), 1).await;
    let request = on("DELETE", p(&format!("Request/{REQ}/")));
    mount(&server, request, status(204), 1).await;
    let outcome = plivo(&server).hangup(&id(REQ)).await.unwrap();
    assert_eq!(outcome, HangupOutcome::Canceled);

    let server = MockServer::start().await;
    mount(&server, Mock::given(method("DELETE")), not_found(), 2).await;
    let outcome = plivo(&server).hangup(&id(UUID)).await.unwrap();
    assert_eq!(outcome, HangupOutcome::AlreadyEnded);
}

#[tokio::test]
async fn cost_is_total_amount_in_dollars_with_the_rate() {
    let server = MockServer::start().await;
    let record = json(200, cdr(Some("0.01667")));
    mount(&server, on("GET", call_path(UUID)), record, 1).await;
    let cost = plivo(&server).call_cost(&id(UUID)).await.unwrap().unwrap();
    assert_eq!(
        (cost.amount, cost.currency),
        ("0.01667".parse().unwrap(), Currency::USD)
    );
    assert_eq!(cost.rate, Some("0.00850".parse().unwrap()));

    // A record not priced yet.
    let server = MockServer::start().await;
    mount(&server, on("GET", call_path(UUID)), json(200, cdr(None)), 1).await;
    assert_eq!(plivo(&server).call_cost(&id(UUID)).await.unwrap(), None);

    // No record, no live call, no request: not found, not "not priced".
    let server = MockServer::start().await;
    mount(&server, Mock::given(method("GET")), status(404), 4).await;
    let err = plivo(&server).call_cost(&id(UUID)).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

#[tokio::test]
async fn the_api_id_is_the_request_id_not_part_of_the_message() {
    let server = MockServer::start().await;
    let refused = plivo_error(
        400,
        "c8f0ae3a-7c7e-11ee-8d3e-0242ac110004",
        "invalid to number",
    );
    mount(&server, on("POST", p("Call/")), refused, 1).await;
    let err = plivo(&server).initiate_call(&outbound()).await.unwrap_err();
    let api = err.api().unwrap();
    assert_eq!(
        api.request_id.as_deref(),
        Some("c8f0ae3a-7c7e-11ee-8d3e-0242ac110004")
    );
    assert_eq!(api.message, "invalid to number");
    assert!(
        err.to_string()
            .ends_with("invalid to number [request id c8f0ae3a-7c7e-11ee-8d3e-0242ac110004]"),
        "{err}"
    );
}

#[tokio::test]
async fn hangup_failures_other_than_404_are_errors() {
    // A 500 is retried (hanging up twice is harmless), then reported.
    let server = MockServer::start().await;
    let failing = plivo_error(500, "a1", "internal error");
    mount(&server, on("DELETE", call_path(UUID)), failing, 3).await;
    let request = on("DELETE", p(&format!("Request/{UUID}/")));
    mount(&server, request, status(204), 0).await;
    let err = plivo(&server).hangup(&id(UUID)).await.unwrap_err();
    assert_eq!(err.http_status(), Some(500), "{err}");
    assert!(err.is_retryable() && !err.may_have_acted(), "{err}");
    assert!(
        err.to_string().contains(&format!("hang up call {UUID}")),
        "{err}"
    );

    // A 401 is not retried, and says which settings to check.
    let server = MockServer::start().await;
    let refused = plivo_error(401, "a2", "authentication failed");
    mount(&server, Mock::given(method("DELETE")), refused, 1).await;
    let err = plivo(&server).hangup(&id(UUID)).await.unwrap_err();
    assert!(err.is_auth() && !err.is_retryable(), "{err}");
    assert_eq!(err.api().unwrap().request_id.as_deref(), Some("a2"));
    let text = format!("{err} {err:?}");
    assert!(
        text.contains("check PLIVO_AUTH_ID and PLIVO_AUTH_TOKEN for account MAXXXXXXXXXXXXXXXXX1"),
        "{text}"
    );
    assert!(!text.contains(TOKEN), "{text}");
}

#[tokio::test]
async fn a_success_that_does_not_parse_is_a_decode_error() {
    let server = MockServer::start().await;
    let no_uuid = json(
        201,
        serde_json::json!({"api_id": "x", "message": "call fired"}),
    );
    mount(&server, on("POST", p("Call/")), no_uuid, 1).await;
    let html = status(200).set_body_string("<html>maintenance</html>");
    mount(&server, on_status("GET", call_path(UUID), "live"), html, 1).await;
    let no_number = json(
        200,
        serde_json::json!({"objects": [{"alias": "no number"}]}),
    );
    mount(&server, on("GET", p("Number/")), no_number, 1).await;
    let bad_total = json(200, cdr(Some("a lot")));
    mount(&server, on("GET", call_path(REQ)), bad_total, 1).await;
    let plivo = plivo(&server);
    let errors = [
        plivo.initiate_call(&outbound()).await.unwrap_err(),
        plivo.call_status(&id(UUID)).await.unwrap_err(),
        plivo.phone_numbers().await.unwrap_err(),
        plivo.call_cost(&id(REQ)).await.unwrap_err(),
    ];
    for err in errors {
        assert!(matches!(err, Error::Decode(_)), "{err}");
        assert!(err.to_string().starts_with("Plivo: cannot read"), "{err}");
    }
}
