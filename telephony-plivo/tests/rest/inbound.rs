//! Numbers, their capabilities, the account's balance, the answer document, and where each number's calls go: configure_inbound and inbound_drift.

use super::*;

#[tokio::test]
async fn numbers_follow_meta_next() {
    let server = MockServer::start().await;
    let second = json(
        200,
        serde_json::json!({
            "api_id": "x", "meta": {"limit": 20, "next": null, "offset": 20, "total_count": 21},
            "objects": [{"number": "14155550102", "alias": "two", "application": null}]
        }),
    );
    let request = on("GET", p("Number/")).and(query_param("offset", "20"));
    mount(&server, request, second, 1).await;
    let first = json(
        200,
        serde_json::json!({
            "api_id": "x", "meta": {"limit": 20, "next": format!("/v1/Account/{ID}/Number/?limit=20&offset=20"), "offset": 0, "total_count": 21},
            "objects": [{"number": "14155550101", "alias": "one", "application": format!("/v1/Account/{ID}/Application/{APP}/")}]
        }),
    );
    let request = on("GET", p("Number/"))
        .and(query_param("offset", "0"))
        .and(query_param("limit", "20"));
    mount(&server, request, first, 1).await;
    let numbers = plivo(&server).phone_numbers().await.unwrap();
    let listed: Vec<&str> = numbers.iter().map(|n| n.number.as_str()).collect();
    assert_eq!(listed, ["+14155550101", "+14155550102"]);
}

#[tokio::test]
async fn configure_inbound_sets_the_answer_url_and_links_an_unlinked_number() {
    let server = MockServer::start().await;
    number_linked_to(&server, None).await;
    application_answering(&server, "https://old.example.com/answer").await;
    let changed = || json(202, serde_json::json!({"message": "changed"}));
    let update_app = on("POST", p(&format!("Application/{APP}/"))).and(body_json(
        serde_json::json!({"answer_url": INBOUND, "answer_method": "POST"}),
    ));
    mount(&server, update_app, changed(), 1).await;
    let link =
        on("POST", p("Number/14155550101/")).and(body_json(serde_json::json!({"app_id": APP})));
    mount(&server, link, changed(), 1).await;
    let update = configure(&server, "+14155550101", INBOUND).await.unwrap();
    assert!(update.changed);
    assert!(
        update.notes.iter().any(|n| n.contains("never arrived")),
        "{:?}",
        update.notes
    );
    assert!(
        update.notes.iter().any(|n| n.contains("drifted")),
        "{:?}",
        update.notes
    );
}

#[tokio::test]
async fn configure_inbound_leaves_a_correct_setup_alone() {
    let server = MockServer::start().await;
    number_linked_to(&server, Some(APP)).await;
    application_answering(&server, INBOUND).await;
    mount(&server, Mock::given(method("POST")), status(202), 0).await;
    let update = configure(&server, "+14155550101", INBOUND).await.unwrap();
    assert!(!update.changed && update.notes.is_empty());
    assert_eq!(update.previous_url.as_deref(), Some(INBOUND));
}

#[tokio::test]
async fn configure_inbound_needs_an_application_and_an_owned_number() {
    let server = MockServer::start().await;
    let no_app =
        Plivo::new(PlivoConfig::new(ID, TOKEN).base_url(server.uri().parse().unwrap())).unwrap();
    let err = no_app
        .configure_inbound(
            &"+14155550101".parse().unwrap(),
            &"https://a/b".parse().unwrap(),
        )
        .await
        .unwrap_err();
    assert!(
        err.is_config() && err.to_string().contains("PLIVO_APP_ID"),
        "{err}"
    );
    mount(&server, on("GET", p("Number/14155550109/")), not_found(), 1).await;
    let err = configure(&server, "+14155550109", "https://a/b")
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("not a number of Plivo account"),
        "{err}"
    );
}

#[tokio::test]
async fn a_refused_link_is_an_error_after_the_answer_url_was_set() {
    let server = MockServer::start().await;
    number_linked_to(&server, None).await;
    application_answering(&server, INBOUND).await;
    let refused = plivo_error(400, "l1", "app_id is not valid");
    mount(&server, on("POST", p("Number/14155550101/")), refused, 1).await;
    let err = configure(&server, "+14155550101", INBOUND)
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), Some(400), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("link number 14155550101 to application {APP}"))
            && text.contains("app_id is not valid"),
        "{text}"
    );
    assert_eq!(err.api().unwrap().request_id.as_deref(), Some("l1"));
}

#[tokio::test]
async fn a_refused_application_update_stops_before_linking() {
    let server = MockServer::start().await;
    number_linked_to(&server, None).await;
    let app = serde_json::json!({"app_id": APP, "answer_url": "https://old.example.com/answer"});
    mount(
        &server,
        on("GET", p(&format!("Application/{APP}/"))),
        json(200, app),
        1,
    )
    .await;
    let refused = plivo_error(403, "u1", "subaccount may not modify this application");
    mount(
        &server,
        on("POST", p(&format!("Application/{APP}/"))),
        refused,
        1,
    )
    .await;
    mount(
        &server,
        on("POST", p("Number/14155550101/")),
        status(202),
        0,
    )
    .await;
    let err = configure(&server, "+14155550101", INBOUND)
        .await
        .unwrap_err();
    assert!(err.is_auth() && !err.is_retryable(), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("Plivo answered 403 to update application {APP}"))
            && text.contains("subaccount may not modify")
            && text.contains("the account may not do this"),
        "{text}"
    );
}

#[test]
fn answer_streams_l16_16k_exactly_and_refuses_what_plivo_cannot_stream() {
    use telephony_core::audio::{AudioFormat, Encoding, SampleRate};
    let plivo = Plivo::new(PlivoConfig::new(ID, TOKEN)).unwrap();
    let spec = StreamSpec::new("wss://agent.example.com/plivo/media".parse().unwrap())
        .parameter("lead", "42")
        .audio(AudioFormat::new(Encoding::L16Le, SampleRate::Hz16000));
    assert_eq!(
        plivo.answer(&spec).unwrap().body,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Stream bidirectional=\"true\" \
         contentType=\"audio/x-l16;rate=16000\" extraHeaders=\"lead=42\" keepCallAlive=\"true\">\
         wss://agent.example.com/plivo/media</Stream><Hangup/></Response>"
    );
    for format in [
        AudioFormat::new(Encoding::Alaw, SampleRate::Hz8000),
        AudioFormat::new(Encoding::Mulaw, SampleRate::Hz24000),
        AudioFormat::new(Encoding::L16Le, SampleRate::Hz24000),
    ] {
        let err = plivo.answer(&spec.clone().audio(format)).unwrap_err();
        assert!(err.is_config(), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("μ-law at 8000 Hz, or L16 at 8000 or 16000 Hz")
                && text.contains(&format.to_string()),
            "{text}"
        );
    }
}

/// The balance is the account's `cash_credits`, read from `GET /v1/Account/{auth_id}/` with
/// the account's Basic credentials, every digit kept, in US dollars.
#[tokio::test]
async fn balance_is_the_accounts_cash_credits() {
    let server = MockServer::start().await;
    let get = on("GET", p("")).and(header("authorization", basic().as_str()));
    mount(&server, get, json(200, account_fixture()), 1).await;
    let plivo = plivo(&server);
    assert!(plivo.capabilities().balance);
    let balance = plivo.balance().await.unwrap();
    assert_eq!(balance.to_string(), "4.88860 USD");
}

/// Each number says what it takes, as `voice_enabled` and `sms_enabled` say; one that says
/// nothing is `None`, not a guess.
#[tokio::test]
async fn numbers_say_whether_they_take_voice_and_sms() {
    let server = MockServer::start().await;
    let mut voiceless = voiceless_number();
    voiceless["number"] = "14155550104".into();
    let body = serde_json::json!({
        "api_id": "x", "meta": {"limit": 20, "next": null, "offset": 0},
        "objects": [fixture_number(), voiceless, {"number": "14155550103"}]
    });
    mount(&server, on("GET", p("Number/")), json(200, body), 1).await;
    let numbers = plivo(&server).phone_numbers().await.unwrap();
    let said: Vec<(&str, Option<bool>, Option<bool>)> = numbers
        .iter()
        .map(|n| (n.number.as_str(), n.voice, n.sms))
        .collect();
    assert_eq!(
        said,
        [
            ("+14155550101", Some(true), Some(true)),
            ("+14155550104", Some(false), Some(true)),
            ("+14155550103", None, None),
        ]
    );
}

/// A number without voice is refused before its application is read or changed.
#[tokio::test]
async fn configure_inbound_refuses_a_number_without_voice() {
    let server = MockServer::start().await;
    let get = on("GET", p("Number/14155550101/"));
    mount(&server, get, json(200, voiceless_number()), 1).await;
    mount(&server, Mock::given(method("POST")), status(202), 0).await;
    let err = plivo(&server)
        .configure_inbound(&"+14155550101".parse().unwrap(), &INBOUND.parse().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NumberWithoutVoice { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("Plivo reports that +14155550101 cannot take voice calls"),
        "{err}"
    );
}

#[tokio::test]
async fn inbound_drift_of_a_number_linked_to_another_application() {
    // Linked elsewhere, and APP answering elsewhere too: both changes, and where calls go.
    let found = drift_of(
        Some(OTHER_APP),
        Some("https://mid.example.com/x"),
        Some("POST"),
        Some(INBOUND),
    )
    .await;
    assert_eq!(found.current_url.as_deref(), Some(OTHER_ANSWER));
    assert_eq!(
        found.drift,
        [
            Drift::Url {
                found: Some(OTHER_ANSWER.to_owned())
            },
            setting(&format!(
                "linked to application {OTHER_APP}, not {APP} (PLIVO_APP_ID)"
            )),
            setting(&format!(
                "application {APP} answers at https://mid.example.com/x; configure_inbound sets {INBOUND}"
            )),
        ]
    );
    // Linked to none, APP already answering at the URL: only the link.
    let found = drift_of(None, Some(INBOUND), Some("POST"), Some(INBOUND)).await;
    assert_eq!(found.current_url, None);
    assert_eq!(
        found.drift,
        [
            Drift::Url { found: None },
            setting(&format!("linked to no application; {APP} should answer it")),
        ]
    );
}

#[tokio::test]
async fn inbound_drift_of_an_application_answering_elsewhere() {
    let found = drift_of(Some(APP), Some(OTHER_ANSWER), Some("POST"), Some(INBOUND)).await;
    assert_eq!(found.current_url.as_deref(), Some(OTHER_ANSWER));
    assert_eq!(
        found.drift,
        [Drift::Url {
            found: Some(OTHER_ANSWER.to_owned())
        }]
    );
    // The right URL fetched with GET: configure_inbound sets POST.
    let found = drift_of(Some(APP), Some(INBOUND), Some("GET"), Some(INBOUND)).await;
    assert_eq!(
        found.drift,
        [setting(&format!(
            "application {APP} fetches its answer URL with GET; configure_inbound sets POST"
        ))]
    );
}

#[tokio::test]
async fn inbound_drift_of_a_number_set_up_right_is_clean() {
    for method in [Some("POST"), None] {
        let found = drift_of(Some(APP), Some(INBOUND), method, Some(INBOUND)).await;
        assert!(found.is_clean(), "{found:?}");
        assert_eq!(found.current_url.as_deref(), Some(INBOUND));
        assert_eq!(found.number, "+14155550101".parse::<E164>().unwrap());
        let found = drift_of(Some(APP), Some(INBOUND), method, None).await;
        assert!(found.is_clean(), "{found:?}");
    }
}

/// Without a URL, what is wrong whatever the URL: the link, the method, an application that
/// answers nowhere; never a `Drift::Url`.
#[tokio::test]
async fn inbound_drift_without_a_url_reports_what_is_wrong_whatever_the_url() {
    let found = drift_of(Some(APP), Some(OTHER_ANSWER), Some("POST"), None).await;
    assert!(found.is_clean(), "{found:?}");
    assert_eq!(found.current_url.as_deref(), Some(OTHER_ANSWER));
    let found = drift_of(Some(OTHER_APP), None, Some("GET"), None).await;
    assert_eq!(found.current_url.as_deref(), Some(OTHER_ANSWER));
    assert_eq!(
        found.drift,
        [
            setting(&format!(
                "application {APP} has no answer URL: calls to it go nowhere"
            )),
            setting(&format!(
                "linked to application {OTHER_APP}, not {APP} (PLIVO_APP_ID)"
            )),
            setting(&format!(
                "application {APP} fetches its answer URL with GET; configure_inbound sets POST"
            )),
        ]
    );
}

/// Refused like configure_inbound, and still without a write: a number without voice, one
/// not the account's, no PLIVO_APP_ID.
#[tokio::test]
async fn inbound_drift_refuses_what_configure_inbound_refuses_with_gets_only() {
    let server = MockServer::start().await;
    mount(&server, Mock::given(method_is("POST")), status(202), 0).await;
    // Read twice: with PLIVO_APP_ID, and without it.
    let get = on("GET", p("Number/14155550101/"));
    mount(&server, get, json(200, voiceless_number()), 2).await;
    mount(&server, on("GET", p("Number/14155550109/")), not_found(), 1).await;
    let url: Url = INBOUND.parse().unwrap();
    let err = plivo(&server)
        .inbound_drift(&"+14155550101".parse().unwrap(), Some(&url))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NumberWithoutVoice { .. }), "{err}");
    let err = plivo(&server)
        .inbound_drift(&"+14155550109".parse().unwrap(), None)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("not a number of Plivo account"),
        "{err}"
    );
    // Without PLIVO_APP_ID the voiceless number is refused the same way.
    let no_app =
        Plivo::new(PlivoConfig::new(ID, TOKEN).base_url(server.uri().parse().unwrap())).unwrap();
    let err = no_app
        .inbound_drift(&"+14155550101".parse().unwrap(), Some(&url))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NumberWithoutVoice { .. }), "{err}");
}

/// Without PLIVO_APP_ID, configure_inbound refuses (it has no application to link to), but
/// where the number's calls go is still read: the application it is linked to, and that
/// application's answer URL; the missing setting is the drift to fix. Reads only.
#[tokio::test]
async fn inbound_drift_without_plivo_app_id_still_says_where_calls_go() {
    let server = MockServer::start().await;
    mount(&server, Mock::given(method_is("POST")), status(202), 0).await;
    number_linked_to(&server, Some(APP)).await;
    application_answering(&server, "https://old.example.com/answer").await;
    let no_app =
        Plivo::new(PlivoConfig::new(ID, TOKEN).base_url(server.uri().parse().unwrap())).unwrap();
    let url: Url = INBOUND.parse().unwrap();
    let found = no_app
        .inbound_drift(&"+14155550101".parse().unwrap(), Some(&url))
        .await
        .unwrap();
    assert_eq!(
        found.current_url.as_deref(),
        Some("https://old.example.com/answer")
    );
    assert_eq!(
        found.drift[0],
        Drift::Url {
            found: Some("https://old.example.com/answer".to_owned())
        }
    );
    assert!(
        matches!(&found.drift[1], Drift::Setting { detail } if detail.contains("PLIVO_APP_ID is not set") && detail.contains(APP)),
        "{found:?}"
    );
    let err = no_app
        .configure_inbound(&"+14155550101".parse().unwrap(), &url)
        .await
        .unwrap_err();
    assert!(
        err.is_config() && err.to_string().contains("PLIVO_APP_ID"),
        "{err}"
    );
}
