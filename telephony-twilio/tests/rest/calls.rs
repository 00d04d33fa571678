//! Placing calls, reading them, and hanging up, with Twilio's error bodies.

use super::*;

#[tokio::test]
async fn create_call_sends_every_field_once() {
    let server = MockServer::start().await;
    let twiml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Connect><Stream url=\"wss://agent.example.com/media\"><Parameter name=\"lead\" value=\"42\"/></Stream></Connect><Hangup/></Response>";
    let create = on("POST", CALLS)
        .and(header("authorization", basic_auth().as_str()))
        .and(form(&[
            ("To", "+14155550100"),
            ("From", "+14155550199"),
            ("Twiml", twiml),
            ("StatusCallback", "https://agent.example.com/status"),
            ("StatusCallbackMethod", "POST"),
            ("StatusCallbackEvent", "initiated"),
            ("StatusCallbackEvent", "ringing"),
            ("StatusCallbackEvent", "answered"),
            ("StatusCallbackEvent", "completed"),
            ("MachineDetection", "Enable"),
            ("AsyncAmd", "true"),
            ("AsyncAmdStatusCallback", "https://agent.example.com/status"),
            ("AsyncAmdStatusCallbackMethod", "POST"),
            ("Timeout", "25"),
        ]));
    mount(&server, create, the_call(201, "queued"), 1).await;
    let placed = twilio(&server).initiate_call(&stream_call()).await.unwrap();
    assert_eq!(placed.call_id.as_str(), CALL);
    assert_eq!(placed.status, CallStatus::Queued);
}

#[tokio::test]
async fn create_call_with_an_answer_url() {
    let server = MockServer::start().await;
    let create = on("POST", CALLS).and(form(&[
        ("To", "+14155550100"),
        ("From", "+14155550199"),
        ("Url", "https://agent.example.com/answer"),
        ("Method", "POST"),
        ("TimeLimit", "600"),
    ]));
    mount(&server, create, the_call(201, "queued"), 1).await;
    let call = OutboundCall::answer_url(
        "+14155550100".parse().unwrap(),
        "+14155550199".parse().unwrap(),
        "https://agent.example.com/answer".parse().unwrap(),
    )
    .time_limit(Duration::from_secs(600));
    twilio(&server).initiate_call(&call).await.unwrap();
}

#[tokio::test]
async fn hangup_completes_a_call_in_progress() {
    let server = MockServer::start().await;
    looked_at_as(&server, "in-progress").await;
    updated_to(&server, "completed", the_call(200, "completed")).await;
    assert_eq!(hang_up(&server).await, HangupOutcome::Ended);
}

#[tokio::test]
async fn hangup_cancels_a_ringing_call() {
    let server = MockServer::start().await;
    looked_at_as(&server, "ringing").await;
    updated_to(&server, "canceled", the_call(200, "canceled")).await;
    assert_eq!(hang_up(&server).await, HangupOutcome::Canceled);
}

/// Answered between the look and the cancel: `canceled` leaves an answered call up, so the
/// adapter completes it.
#[tokio::test]
async fn hangup_completes_a_call_answered_while_being_canceled() {
    let server = MockServer::start().await;
    looked_at_as(&server, "ringing").await;
    updated_to(&server, "canceled", the_call(200, "in-progress")).await;
    updated_to(&server, "completed", the_call(200, "completed")).await;
    assert_eq!(hang_up(&server).await, HangupOutcome::Ended);
}

#[tokio::test]
async fn hangup_of_an_ended_call_is_success() {
    let server = MockServer::start().await;
    looked_at_as(&server, "completed").await;
    mount(&server, on("POST", THE_CALL), ResponseTemplate::new(200), 0).await;
    assert_eq!(hang_up(&server).await, HangupOutcome::AlreadyEnded);
}

#[tokio::test]
async fn hangup_of_an_unknown_call_404_20404_is_success() {
    let server = MockServer::start().await;
    mount(&server, on("GET", THE_CALL), not_found_20404(), 2).await;
    assert_eq!(hang_up(&server).await, HangupOutcome::AlreadyEnded);
    // Anything but hang-up still reports the 404.
    let err = twilio(&server).call_status(&id()).await.unwrap_err();
    assert!(err.is_not_found() && err.provider_code() == Some("20404"));
}

#[tokio::test]
async fn api_key_credentials_are_sent_as_basic_auth() {
    use base64::Engine as _;
    const KEY: &str = "SK0123456789abcdef0123456789abcdef";
    const KEY_SECRET: &str = "key-s3cr3t-value";
    let server = MockServer::start().await;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:{KEY_SECRET}"))
    );
    // The account stays in the path; the key and its secret authenticate.
    let fetch = on("GET", THE_CALL).and(header("authorization", expected.as_str()));
    mount(&server, fetch, the_call(200, "ringing"), 1).await;
    let config = TwilioConfig::new(SID, TOKEN)
        .api_key(KEY, KEY_SECRET)
        .base_url(server.uri().parse().unwrap())
        .http(HttpConfig::default().retry(RetryPolicy::none()));
    let info = Twilio::new(config)
        .unwrap()
        .call_status(&id())
        .await
        .unwrap();
    assert_eq!(info.status, CallStatus::Ringing);
}

/// The call ended between the look and the hang-up: Twilio answers the POST with 404/20404,
/// and that is success.
#[tokio::test]
async fn hangup_when_the_update_answers_404_20404_is_success() {
    for (status, target) in [("in-progress", "completed"), ("ringing", "canceled")] {
        let server = MockServer::start().await;
        looked_at_as(&server, status).await;
        updated_to(&server, target, not_found_20404()).await;
        assert_eq!(
            hang_up(&server).await,
            HangupOutcome::AlreadyEnded,
            "{status}"
        );
    }
}

/// No credential reaches Debug output, an error message or an error's Debug.
#[tokio::test]
async fn secrets_never_print() {
    let key_secret = "key-s3cr3t-value";
    let config = TwilioConfig::new(SID, TOKEN)
        .api_key("SK0123456789abcdef0123456789abcdef", key_secret)
        .shared_key_secret("shared-s3cr3t-value");
    let twilio = Twilio::new(config.clone()).unwrap();
    for text in [
        format!("{config:?}"),
        format!("{twilio:?}"),
        format!("{:?}", twilio.client()),
    ] {
        for secret in [TOKEN, key_secret, "shared-s3cr3t-value"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_string(r#"{"code":20003,"message":"Authenticate"}"#),
        )
        .mount(&server)
        .await;
    let twilio = Twilio::new(config.base_url(server.uri().parse().unwrap())).unwrap();
    let err = twilio.call_status(&id()).await.unwrap_err();
    let shown = format!("{err} {err:?}");
    for secret in [TOKEN, key_secret, "shared-s3cr3t-value"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(shown.contains("TWILIO_API_KEY_SID"), "{shown}");
}

/// An error answer keeps Twilio's code and documentation link, and a 401 names the setting
/// and the account (shortened), never the token.
#[tokio::test]
async fn error_bodies_keep_the_code_and_the_link() {
    let server = MockServer::start().await;
    let refused = answer(
        401,
        serde_json::json!({
            "code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401
        }),
    );
    mount(&server, on("GET", THE_CALL), refused, 1).await;
    let err = twilio(&server).call_status(&id()).await.unwrap_err();
    assert_eq!(err.provider_code(), Some("20003"));
    assert_eq!(
        err.to_string(),
        "Twilio answered 401 (code 20003) to fetch call CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: \
         Authenticate; check TWILIO_AUTH_TOKEN for account AC012345… \
         (https://www.twilio.com/docs/errors/20003)"
    );
    // Problem details, which Twilio's newer APIs write.
    let server = MockServer::start().await;
    let problem = answer(
        400,
        serde_json::json!({
            "title": "Bad Request", "detail": "To is not a valid phone number"
        }),
    );
    mount(&server, on("POST", CALLS), problem, 1).await;
    let err = twilio(&server)
        .initiate_call(&stream_call())
        .await
        .unwrap_err();
    assert_eq!(err.api().unwrap().message, "To is not a valid phone number");
}

/// A call resource, read as Twilio documents it, with the account's Basic credentials.
#[tokio::test]
async fn fetch_reads_the_call_resource() {
    let server = MockServer::start().await;
    let fetch = on("GET", THE_CALL).and(header("authorization", basic_auth().as_str()));
    mount(&server, fetch, the_call(200, "in-progress"), 1).await;
    let info = twilio(&server).call_status(&id()).await.unwrap();
    assert_eq!(info.status, CallStatus::InProgress);
    assert_eq!(info.duration, Some(Duration::from_secs(12)));
    assert_eq!(info.from.as_deref(), Some("+14155550199"));
}
