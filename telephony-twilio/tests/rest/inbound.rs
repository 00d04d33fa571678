//! The account: its balance, its numbers and their capabilities, and where each number's calls go (configure_inbound and inbound_drift).

use super::*;

#[tokio::test]
async fn numbers_follow_every_page() {
    let server = MockServer::start().await;
    let next = format!("{NUMBERS}?PageSize=100&Page=1&PageToken=PAabc");
    let second = answer(
        200,
        serde_json::json!({
            "incoming_phone_numbers": [number_json("PN02", "+14155550102", None, None)],
            "next_page_uri": null, "page": 1, "page_size": 100
        }),
    );
    let request = on("GET", NUMBERS).and(query_param("PageToken", "PAabc"));
    mount(&server, request, second, 1).await;
    let first = answer(
        200,
        serde_json::json!({
            "incoming_phone_numbers": [number_json("PN01", "+14155550101", Some("https://old.example.com/voice"), None)],
            "next_page_uri": next, "page": 0, "page_size": 100
        }),
    );
    on("GET", NUMBERS)
        .and(query_param("PageSize", "100"))
        .respond_with(first)
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    let numbers = twilio(&server).phone_numbers().await.unwrap();
    let listed: Vec<&str> = numbers.iter().map(|n| n.number.as_str()).collect();
    assert_eq!(listed, ["+14155550101", "+14155550102"]);
    assert_eq!(
        numbers[0].voice_url.as_deref(),
        Some("https://old.example.com/voice")
    );
    assert_eq!(numbers[0].provider_id.as_deref(), Some("PN01"));
}

#[tokio::test]
async fn configure_inbound_reports_drift_and_unbinds_an_app() {
    let server = MockServer::start().await;
    let found = answer(
        200,
        serde_json::json!({
            "incoming_phone_numbers": [number_json("PN01", "+14155550101", Some("https://old.example.com/voice"), Some("AP0123456789abcdef0123456789abcdef"))],
            "next_page_uri": null
        }),
    );
    let lookup = on("GET", NUMBERS).and(query_param("PhoneNumber", "+14155550101"));
    mount(&server, lookup, found, 1).await;
    let update = on(
        "POST",
        format!("{}/PN01.json", NUMBERS.trim_end_matches(".json")),
    )
    .and(form(&[
        ("VoiceUrl", "https://agent.example.com/inbound"),
        ("VoiceMethod", "POST"),
        ("VoiceApplicationSid", ""),
    ]));
    let updated = number_json(
        "PN01",
        "+14155550101",
        Some("https://agent.example.com/inbound"),
        None,
    );
    mount(&server, update, answer(200, updated), 1).await;
    let update = twilio(&server)
        .configure_inbound(
            &"+14155550101".parse().unwrap(),
            &"https://agent.example.com/inbound".parse().unwrap(),
        )
        .await
        .unwrap();
    assert!(update.changed && update.drifted());
    assert_eq!(
        update.previous_url.as_deref(),
        Some("https://old.example.com/voice")
    );
    assert!(
        update.notes.iter().any(|n| n.contains("TwiML app")),
        "{:?}",
        update.notes
    );
}

/// What configure_inbound would change, read from the number alone: a TwiML app that takes
/// its calls, a GET voice method; nothing is written.
#[tokio::test]
async fn inbound_drift_reads_the_number_and_writes_nothing() {
    let server = MockServer::start().await;
    let mut bound = number_json(
        "PN01",
        "+14155550101",
        Some("https://agent.example.com/inbound"),
        Some("AP0123456789abcdef0123456789abcdef"),
    );
    bound["voice_method"] = "GET".into();
    let found = answer(
        200,
        serde_json::json!({"incoming_phone_numbers": [bound], "next_page_uri": null}),
    );
    let lookup = on("GET", NUMBERS).and(query_param("PhoneNumber", "+14155550101"));
    mount(&server, lookup, found, 2).await;
    for verb in ["POST", "PUT", "DELETE"] {
        mount(
            &server,
            Mock::given(method(verb)),
            ResponseTemplate::new(500),
            0,
        )
        .await;
    }
    let drift = twilio(&server)
        .inbound_drift(
            &"+14155550101".parse().unwrap(),
            Some(&"https://agent.example.com/inbound".parse().unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(
        drift.current_url.as_deref(),
        Some("https://agent.example.com/inbound")
    );
    let said: Vec<String> = drift.drift.iter().map(ToString::to_string).collect();
    assert_eq!(said.len(), 2, "{said:?}");
    assert!(matches!(drift.drift[0], Drift::Url { .. }), "{drift:?}");
    assert!(
        said[0].contains("TwiML app AP0123456789abcdef0123456789abcdef"),
        "{said:?}"
    );
    assert!(said[1].contains("voice method is GET"), "{said:?}");
    // Without a URL, only the method: where its calls go is nothing to compare.
    let drift = twilio(&server)
        .inbound_drift(&"+14155550101".parse().unwrap(), None)
        .await
        .unwrap();
    assert!(
        matches!(drift.drift.as_slice(), [Drift::Setting { .. }]),
        "{drift:?}"
    );
    for r in server.received_requests().await.unwrap() {
        assert_eq!(r.method.as_str(), "GET", "{}", r.url);
    }
}

/// Bad numbers, and calls Twilio would refuse, fail before anything is sent: the one POST the
/// server sees is the good call at the end.
#[tokio::test]
async fn a_bad_number_fails_before_any_request() {
    let server = MockServer::start().await;
    mount(
        &server,
        Mock::given(method("POST")),
        the_call(201, "queued"),
        1,
    )
    .await;
    let t = twilio(&server);
    for (to, from) in [
        ("4155550100", "+14155550199"),
        ("+1 415 555 0100", "+14155550199"),
        ("+14155550100", "+0123456789"),
        ("+1415", "+14155550199"),
    ] {
        let err = dial(&t, to, from).await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidNumber(_)) && err.is_config(),
            "{to} {from}: {err}"
        );
        assert!(err.to_string().contains("E.164"), "{err}");
    }
    // A number that arrives in JSON is checked as it is read.
    assert!(serde_json::from_str::<telephony_core::E164>("\"4155550100\"").is_err());
    let number = |n: &str| n.parse().unwrap();
    let refused = [
        OutboundCall::stream(
            number("+14155550100"),
            number("+14155550199"),
            StreamSpec::new("wss://agent.example.com/media?lead=42".parse().unwrap()),
        ),
        OutboundCall::stream(
            number("+14155550100"),
            number("+14155550199"),
            StreamSpec::new("https://agent.example.com/media".parse().unwrap()),
        ),
        OutboundCall::with_target(
            number("+14155550100"),
            number("+14155550199"),
            CallTarget::Markup(Markup::json("[]".into())),
        ),
    ];
    for call in &refused {
        let err = t.initiate_call(call).await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidRequest(_)) && err.is_config(),
            "{err}"
        );
    }
    dial(&t, "+14155550100", "+14155550199").await.unwrap();
}

#[test]
fn the_page_cap_is_cores() {
    assert_eq!(MAX_PAGES, HttpConfig::default().max_pages);
    assert_eq!(MAX_PAGES, 1000);
}

/// The balance is read from the account's Balance resource with its Basic credentials,
/// exactly as Twilio writes it.
#[tokio::test]
async fn balance_reads_the_balance_resource() {
    let server = MockServer::start().await;
    let fetch = on("GET", BALANCE).and(header("authorization", basic_auth().as_str()));
    mount(&server, fetch, answer(200, balance_fixture()), 1).await;
    let twilio = twilio(&server);
    assert!(twilio.capabilities().balance);
    let balance = twilio.balance().await.unwrap();
    assert_eq!(balance.to_string(), "0.05 USD");
    assert_eq!(balance.spendable(), balance.amount);
}

/// A subaccount's Balance resource has no balance: an error that says so, not a zero.
#[tokio::test]
async fn balance_of_a_subaccount_says_it_has_none() {
    let server = MockServer::start().await;
    let none = serde_json::json!({"account_sid": SID, "balance": null, "currency": null});
    mount(&server, on("GET", BALANCE), answer(200, none), 1).await;
    let err = twilio(&server).balance().await.unwrap_err();
    assert!(err.to_string().contains("subaccount"), "{err}");
}

/// Each number says what it takes, as its capabilities say (the fixture: voice, no SMS).
#[tokio::test]
async fn numbers_say_whether_they_take_voice_and_sms() {
    let server = MockServer::start().await;
    let page = serde_json::json!({
        "incoming_phone_numbers": [
            fixture_number("PNaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "+18089255327"),
            voiceless_number("PN02", "+14155550102"),
            {"sid": "PN03", "phone_number": "+14155550103"}
        ],
        "next_page_uri": null
    });
    mount(&server, on("GET", NUMBERS), answer(200, page), 1).await;
    let numbers = twilio(&server).phone_numbers().await.unwrap();
    let said: Vec<(&str, Option<bool>, Option<bool>)> = numbers
        .iter()
        .map(|n| (n.number.as_str(), n.voice, n.sms))
        .collect();
    assert_eq!(
        said,
        [
            ("+18089255327", Some(true), Some(false)),
            ("+14155550102", Some(false), Some(true)),
            ("+14155550103", None, None),
        ]
    );
}

/// A number without voice is refused before its voice URL is touched.
#[tokio::test]
async fn configure_inbound_refuses_a_number_without_voice() {
    let server = MockServer::start().await;
    let found = serde_json::json!({
        "incoming_phone_numbers": [voiceless_number("PN01", "+14155550101")],
        "next_page_uri": null
    });
    mount(&server, on("GET", NUMBERS), answer(200, found), 1).await;
    mount(
        &server,
        Mock::given(method("POST")),
        answer(200, serde_json::json!({})),
        0,
    )
    .await;
    let err = twilio(&server)
        .configure_inbound(
            &"+14155550101".parse().unwrap(),
            &"https://agent.example.com/inbound".parse().unwrap(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NumberWithoutVoice { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "Twilio reports that +14155550101 cannot take voice calls: enable voice on it, or use a \
         voice-capable number, before pointing its calls at a webhook"
    );
}
