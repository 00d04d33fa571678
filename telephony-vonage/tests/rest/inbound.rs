//! The account: its balance, its numbers and their capabilities, and where each number's calls go (configure_inbound and inbound_drift).

use super::*;

/// The balance is read from the REST host's get-balance with the account's key and secret
/// (Basic, as Vonage's snippet sends them), every digit of the JSON number kept, in the
/// configured currency.
#[tokio::test]
async fn balance_reads_get_balance_with_basic_auth() {
    let server = MockServer::start().await;
    let get = basic_auth("GET", "/account/get-balance");
    mount(&server, get, answer(200, balance_fixture()), 2).await;
    let v = vonage(&server);
    assert!(v.capabilities().balance);
    assert_eq!(v.balance().await.unwrap().to_string(), "29.18202293 EUR");
    let gbp = Vonage::new(config(&server).currency(Currency::new("GBP").unwrap())).unwrap();
    assert_eq!(gbp.balance().await.unwrap().to_string(), "29.18202293 GBP");
}

/// Another REST host (its own base URL) is where the balance is read, not the Voice API's.
#[tokio::test]
async fn balance_goes_to_the_rest_host() {
    let (voice, rest) = (MockServer::start().await, MockServer::start().await);
    mount(
        &rest,
        basic_auth("GET", "/account/get-balance"),
        answer(200, balance_fixture()),
        1,
    )
    .await;
    mount(&voice, Mock::given(method("GET")), status(500), 0).await;
    let config = VonageConfig::new(APP, KEY)
        .api_credentials(API_KEY, API_SECRET)
        .base_url(voice.uri().parse().unwrap())
        .applications_base_url(voice.uri().parse().unwrap())
        .rest_base_url(rest.uri().parse().unwrap());
    let balance = Vonage::new(config).unwrap().balance().await.unwrap();
    assert_eq!(balance.amount.to_string(), "29.18202293");
}

/// Without the account's key and secret the balance cannot be asked for: a configuration
/// error naming the setting, before any request.
#[tokio::test]
async fn balance_without_the_api_key_names_it() {
    let server = MockServer::start().await;
    mount(&server, Mock::given(method("GET")), status(500), 0).await;
    let config = VonageConfig::new(APP, KEY).all_hosts(server.uri().parse().unwrap());
    let err = Vonage::new(config).unwrap().balance().await.unwrap_err();
    assert!(
        err.is_config() && err.to_string().contains("VONAGE_API_KEY"),
        "{err}"
    );
}

/// Each number says what it takes, as its `features` say (vonage-python-sdk's listing: one
/// SMS-only number, one with voice and SMS); one without the list is `None`.
#[tokio::test]
async fn numbers_say_whether_they_take_voice_and_sms() {
    let server = MockServer::start().await;
    let listing = json!({
        "count": 3,
        "numbers": [
            sms_only("3400000000"),
            {
                "country": "GB", "msisdn": "447007000000", "type": "mobile-lvn",
                "features": ["VOICE", "SMS"], "voiceCallbackType": "app",
                "voiceCallbackValue": "29f769u7-7ce1-46c9-ade3-f2dedee4fr4t",
                "app_id": "29f769u7-7ce1-46c9-ade3-f2dedee4fr4t"
            },
            {"country": "GB", "msisdn": "447007000001", "type": "landline"}
        ]
    });
    mount(
        &server,
        basic_auth("GET", "/account/numbers"),
        answer(200, listing),
        1,
    )
    .await;
    let numbers = vonage(&server).phone_numbers().await.unwrap();
    let said: Vec<(&str, Option<bool>, Option<bool>)> = numbers
        .iter()
        .map(|n| (n.number.as_str(), n.voice, n.sms))
        .collect();
    assert_eq!(
        said,
        [
            ("+3400000000", Some(false), Some(true)),
            ("+447007000000", Some(true), Some(true)),
            ("+447007000001", None, None),
        ]
    );
}

/// An SMS-only number is refused before the application is read or changed.
#[tokio::test]
async fn configure_inbound_refuses_a_number_without_voice() {
    let server = MockServer::start().await;
    let found = json!({"count": 1, "numbers": [sms_only("447700900000")]});
    mount(
        &server,
        basic_auth("GET", "/account/numbers"),
        answer(200, found),
        1,
    )
    .await;
    mount(&server, on("GET", app_path()), status(500), 0).await;
    mount(&server, Mock::given(method("PUT")), status(500), 0).await;
    mount(&server, Mock::given(method("POST")), status(500), 0).await;
    let err = configure(&vonage(&server), "+447700900000", ANSWER)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NumberWithoutVoice { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("Vonage reports that +447700900000 cannot take voice calls"),
        "{err}"
    );
}

#[tokio::test]
async fn numbers_are_listed_page_by_page_with_basic_auth() {
    let server = MockServer::start().await;
    let first: Vec<serde_json::Value> = (0..100)
        .map(|i| number(&format!("4477009{i:05}"), Some(APP)))
        .collect();
    let request = basic_auth("GET", "/account/numbers")
        .and(query_param("index", "1"))
        .and(query_param("size", "100"));
    mount(&server, request, numbers_page(101, first), 1).await;
    let request = on("GET", "/account/numbers").and(query_param("index", "2"));
    let second = numbers_page(101, vec![number("14155550100", None)]);
    mount(&server, request, second, 1).await;
    let numbers = vonage(&server).phone_numbers().await.unwrap();
    assert_eq!(numbers.len(), 101);
    assert_eq!(numbers[0].number.as_str(), "+447700900000");
    assert_eq!(
        numbers[0].provider_id.as_deref(),
        Some(format!("application {APP}").as_str())
    );
    assert_eq!(numbers[100].provider_id, None);

    // Without the account's key and secret, nothing is sent.
    let v =
        Vonage::new(VonageConfig::new(APP, KEY).all_hosts(server.uri().parse().unwrap())).unwrap();
    let e = v.phone_numbers().await.unwrap_err();
    assert!(
        e.is_config() && e.to_string().contains("VONAGE_API_KEY"),
        "{e}"
    );
    // An account with no numbers answers without the list.
    let empty = MockServer::start().await;
    let none = answer(200, json!({"count": 0}));
    serve(&empty, on("GET", "/account/numbers"), none).await;
    assert!(vonage(&empty).phone_numbers().await.unwrap().is_empty());
}

#[tokio::test]
async fn configure_inbound_rewrites_only_the_voice_webhooks_and_links_the_number() {
    let server = MockServer::start().await;
    let request = basic_auth("GET", "/account/numbers")
        .and(query_param("pattern", "447700900000"))
        .and(query_param("search_pattern", "0"));
    let numbers = numbers_page(
        2,
        vec![
            number("447700900000", Some("ffffffff-0000-4000-8000-000000000000")),
            number("4477009000001", None),
        ],
    );
    serve(&server, request, numbers).await;
    let old = answer(200, application("https://old.example.com/answer", "GET"));
    mount(&server, basic_auth("GET", app_path()), old, 1).await;
    let request = basic_auth("PUT", app_path()).and(body_json(json!({
        "name": "voice agent",
        "capabilities": {
            "voice": {
                "webhooks": {
                    "answer_url": {"address": ANSWER, "http_method": "GET", "connect_timeout": 500, "socket_timeout": 3000},
                    "fallback_answer_url": {"address": "https://fallback.example.com/answer", "http_method": "GET"},
                    "event_url": {"address": "https://agent.example.com/vonage/events", "http_method": "POST"}
                },
                "signed_callbacks": false,
                "conversations_ttl": 48,
                "region": "eu-west"
            },
            "rtc": {"webhooks": {"event_url": {"address": "https://rtc.example.com", "http_method": "POST"}}}
        },
        "keys": {"public_key": "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n"},
        "privacy": {"improve_ai": false}
    })));
    mount(
        &server,
        request,
        answer(200, application(ANSWER, "POST")),
        1,
    )
    .await;
    let elsewhere = answer(
        200,
        application("https://elsewhere.example.com/answer", "GET"),
    );
    let request = on(
        "GET",
        "/v2/applications/ffffffff-0000-4000-8000-000000000000",
    );
    mount(&server, request, elsewhere, 1).await;
    let request = basic_auth("POST", "/number/update")
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string(format!(
            "country=GB&msisdn=447700900000&app_id={APP}"
        )));
    let success = answer(
        200,
        json!({"error-code": "200", "error-code-label": "success"}),
    );
    mount(&server, request, success, 1).await;
    let v = Vonage::new(
        config(&server)
            .signature_secret("sig")
            .event_url("https://agent.example.com/vonage/events".parse().unwrap()),
    )
    .unwrap();
    let report = configure(&v, "+447700900000", ANSWER).await.unwrap();
    assert!(report.changed && report.drifted());
    // The number's calls went to the application it was linked to.
    assert_eq!(
        report.previous_url.as_deref(),
        Some("https://elsewhere.example.com/answer")
    );
    let notes = report.notes.join("\n");
    for expected in [
        "answer_url was https://old.example.com/answer",
        "event_url was https://old.example.com/events",
        "signed callbacks are off",
        "linked to application ffffffff-0000-4000-8000-000000000000",
    ] {
        assert!(notes.contains(expected), "{expected} not in {notes}");
    }
}

#[tokio::test]
async fn configure_inbound_changes_nothing_that_is_right_and_reports_failures() {
    let server = MockServer::start().await;
    let app = application(ANSWER, "POST");
    let numbers = numbers_page(1, vec![number("447700900000", Some(APP))]);
    serve(&server, on("GET", "/account/numbers"), numbers).await;
    serve(&server, on("GET", app_path()), answer(200, app)).await;
    for verb in ["PUT", "POST"] {
        mount(&server, Mock::given(method(verb)), status(500), 0).await;
    }
    let v = vonage(&server);
    let report = configure(&v, "+447700900000", ANSWER).await.unwrap();
    assert!(!report.changed && report.notes.is_empty(), "{report:?}");

    // A number the account does not rent.
    let e = configure(&v, "+14155550100", ANSWER).await.unwrap_err();
    assert!(
        e.to_string().contains("not a number of Vonage account"),
        "{e}"
    );
}

/// What configure_inbound would change, as it would report it, read without a write: the
/// number linked to another application, both webhooks elsewhere, signed callbacks off with
/// a signature secret set.
#[tokio::test]
async fn inbound_drift_reports_what_configure_inbound_would_change_and_writes_nothing() {
    let server = MockServer::start().await;
    let other = "ffffffff-0000-4000-8000-000000000000";
    let numbers = numbers_page(1, vec![number("447700900000", Some(other))]);
    serve(&server, basic_auth("GET", "/account/numbers"), numbers).await;
    let old = answer(200, application("https://old.example.com/answer", "GET"));
    serve(&server, basic_auth("GET", app_path()), old).await;
    let elsewhere = answer(
        200,
        application("https://elsewhere.example.com/answer", "GET"),
    );
    serve(
        &server,
        on("GET", format!("/v2/applications/{other}")),
        elsewhere,
    )
    .await;
    no_writes(&server).await;
    let v = Vonage::new(
        config(&server)
            .signature_secret("sig")
            .event_url("https://agent.example.com/vonage/events".parse().unwrap()),
    )
    .unwrap();
    let number = "+447700900000".parse().unwrap();
    let found = v
        .inbound_drift(&number, Some(&ANSWER.parse().unwrap()))
        .await
        .unwrap();
    only_reads(&server).await;
    assert_eq!(
        found.current_url.as_deref(),
        Some("https://elsewhere.example.com/answer")
    );
    let drift = &found.drift;
    assert_eq!(drift.len(), 5, "{drift:#?}");
    assert_eq!(
        drift[0],
        Drift::Url {
            found: Some("https://elsewhere.example.com/answer".to_owned())
        }
    );
    let said: Vec<String> = drift.iter().map(ToString::to_string).collect();
    assert!(said[1].contains(&format!("linked to application {other}, not {APP}")));
    assert!(said[2].starts_with("answer_url was https://old.example.com/answer"));
    assert!(said[3].starts_with("event_url was https://old.example.com/events"));
    let Drift::Unsigned { detail, fix } = &drift[4] else {
        panic!("{drift:#?}");
    };
    assert!(detail.contains("signed callbacks are off") && detail.contains(APP));
    assert!(fix.contains("capabilities.voice.signed_callbacks"), "{fix}");
    assert!(!found.is_clean());

    // A number the account does not rent, and one without voice: configure_inbound's errors.
    let e = v
        .inbound_drift(
            &"+14155550100".parse().unwrap(),
            Some(&ANSWER.parse().unwrap()),
        )
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("not a number of Vonage account"),
        "{e}"
    );
}

/// Set up right, nothing drifted; signed callbacks off matter only with a signature secret.
#[tokio::test]
async fn inbound_drift_of_a_number_set_up_right_is_clean() {
    let server = MockServer::start().await;
    let numbers = numbers_page(1, vec![number("447700900000", Some(APP))]);
    serve(&server, on("GET", "/account/numbers"), numbers).await;
    serve(
        &server,
        on("GET", app_path()),
        answer(200, application(ANSWER, "POST")),
    )
    .await;
    no_writes(&server).await;
    let ours = "+447700900000".parse().unwrap();
    let url = ANSWER.parse().unwrap();
    let found = vonage(&server)
        .inbound_drift(&ours, Some(&url))
        .await
        .unwrap();
    assert!(found.is_clean(), "{found:#?}");
    assert_eq!(found.current_url.as_deref(), Some(ANSWER));
    let signed = Vonage::new(config(&server).signature_secret("sig")).unwrap();
    // With the URL or without it, signed callbacks off are the one drift.
    for url in [Some(&url), None] {
        let found = signed.inbound_drift(&ours, url).await.unwrap();
        assert!(
            matches!(found.drift.as_slice(), [Drift::Unsigned { .. }]),
            "{found:#?}"
        );
        assert_eq!(found.current_url.as_deref(), Some(ANSWER));
    }
    // Without a URL, another URL than the application's is no drift: nothing to compare.
    let elsewhere = MockServer::start().await;
    let numbers = numbers_page(1, vec![number("447700900000", Some(APP))]);
    serve(&elsewhere, on("GET", "/account/numbers"), numbers).await;
    let app = answer(200, application("https://other.example.com/answer", "POST"));
    serve(&elsewhere, on("GET", app_path()), app).await;
    no_writes(&elsewhere).await;
    let found = vonage(&elsewhere).inbound_drift(&ours, None).await.unwrap();
    assert!(found.is_clean(), "{found:#?}");
    let found = vonage(&elsewhere)
        .inbound_drift(&ours, Some(&url))
        .await
        .unwrap();
    assert!(
        matches!(found.drift.as_slice(), [Drift::Url { .. }]),
        "{found:#?}"
    );
    only_reads(&server).await;
    only_reads(&elsewhere).await;
}

#[tokio::test]
async fn a_refused_number_link_is_an_error() {
    let server = MockServer::start().await;
    let numbers = numbers_page(1, vec![number("447700900000", None)]);
    serve(&server, on("GET", "/account/numbers"), numbers).await;
    let app = answer(200, application(ANSWER, "POST"));
    serve(&server, on("GET", app_path()), app).await;
    serve(&server, Mock::given(method("PUT")), answer(200, json!({}))).await;
    let failed = answer(
        200,
        json!({"error-code": "420", "error-code-label": "method failed"}),
    );
    serve(&server, on("POST", "/number/update"), failed).await;
    let e = configure(&vonage(&server), "+447700900000", ANSWER)
        .await
        .unwrap_err();
    assert_eq!(e.http_status(), Some(420));
    assert!(e.to_string().contains("method failed"), "{e}");
}
