//! Plivo signatures against reference values computed with plivo-python 4.63.0
//! (`fixtures/signature_vectors.json`), and the request-level checks around them.

use std::time::SystemTime;

use telephony_core::{
    FormParams, MemoryReplayGuard, Secret, TelephonyProvider, Url, WebhookError, WebhookRequest,
    check_replay,
};
use telephony_plivo::signature::{
    PlivoValidator, V2_HEADER, V2_NONCE_HEADER, V3_HEADER, V3_NONCE_HEADER, construct_get_url,
    construct_post_url, sign_v3, signature_v2, signature_v3, signed_string,
};
use telephony_plivo::{Plivo, PlivoConfig};

fn vectors() -> serde_json::Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/signature_vectors.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn v3_strings_and_signatures_match_the_sdk() {
    let v = vectors();
    let cases = v["v3"].as_array().unwrap();
    assert!(cases.len() >= 52);
    for c in cases {
        let url: Url = c["url"].as_str().unwrap().parse().unwrap();
        let params: Vec<(String, String)> = c["params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p[0].as_str().unwrap().to_owned(),
                    p[1].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let pairs = params.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        let signed = if c["method"] == "GET" {
            construct_get_url(&url, pairs)
        } else {
            construct_post_url(&url, pairs)
        };
        assert_eq!(signed, c["signed_string"].as_str().unwrap(), "{c}");
        let token = Secret::new(c["token"].as_str().unwrap());
        let nonce = c["nonce"].as_str().unwrap();
        assert_eq!(
            signature_v3(&token, &signed, nonce),
            c["signature"].as_str().unwrap(),
            "{c}"
        );

        // Whole requests, where the parameters are the request's own (a GET's are its query).
        if c["method"] == "GET" && !params.is_empty() {
            continue;
        }
        let form: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let mut request = if c["method"] == "GET" {
            WebhookRequest::new(
                http::Method::GET,
                url.clone(),
                http::HeaderMap::new(),
                Vec::new(),
            )
        } else {
            WebhookRequest::form_post(url.clone(), &form)
        };
        assert_eq!(signed_string(&request), signed);
        request
            .headers
            .insert(V3_HEADER, c["signature"].as_str().unwrap().parse().unwrap());
        request
            .headers
            .insert(V3_NONCE_HEADER, nonce.parse().unwrap());
        assert!(
            PlivoValidator::new(token.clone())
                .validate(&request)
                .is_ok(),
            "{c}"
        );
        assert!(
            PlivoValidator::new(Secret::new("other"))
                .validate(&request)
                .is_err()
        );
        assert_eq!(
            sign_v3(
                &token,
                &request.method,
                &url,
                &FormParams::parse(&request.body),
                nonce
            ),
            c["signature"].as_str().unwrap()
        );
    }
}

#[test]
fn v2_matches_the_sdk() {
    for c in vectors()["v2"].as_array().unwrap() {
        let url: Url = c["url"].as_str().unwrap().parse().unwrap();
        let token = Secret::new(c["token"].as_str().unwrap());
        let nonce = c["nonce"].as_str().unwrap();
        assert_eq!(
            signature_v2(&token, &url, nonce),
            c["signature"].as_str().unwrap(),
            "{c}"
        );
        let mut r = WebhookRequest::form_post(url, &[("CallUUID", "x")]);
        r.headers
            .insert(V2_HEADER, c["signature"].as_str().unwrap().parse().unwrap());
        r.headers.insert(V2_NONCE_HEADER, nonce.parse().unwrap());
        assert!(PlivoValidator::new(token).validate(&r).is_ok(), "{c}");
    }
}

#[test]
fn unsigned_requests_say_which_header_is_missing() {
    let r = WebhookRequest::form_post("https://a/x".parse().unwrap(), &[("CallUUID", "x")]);
    let e = PlivoValidator::new(Secret::new("t"))
        .validate(&r)
        .unwrap_err();
    assert!(e.to_string().contains("X-Plivo-Signature-V3"), "{e}");
}

/// The SDK's quirks that a reimplementation gets wrong most easily are in the vectors, so a
/// fixture that lost them would be noticed.
#[test]
fn the_vectors_cover_repeated_keys_and_a_query_that_replaces_a_parameter() {
    let v = vectors();
    let cases = v["v3"].as_array().unwrap();
    let with = |method: &str, pred: &dyn Fn(&serde_json::Value) -> bool| {
        cases
            .iter()
            .filter(|c| c["method"] == method && pred(c))
            .count()
    };
    let names = |c: &serde_json::Value| -> Vec<String> {
        c["params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p[0].as_str().unwrap().to_owned())
            .collect()
    };
    let repeated = |c: &serde_json::Value| {
        let n = names(c);
        n.iter().any(|k| n.iter().filter(|m| *m == k).count() > 1)
    };
    let replaced = |c: &serde_json::Value| {
        let url: Url = c["url"].as_str().unwrap().parse().unwrap();
        names(c)
            .iter()
            .any(|k| url.query_pairs().any(|(q, _)| q == k.as_str()))
    };
    assert!(with("POST", &repeated) >= 4, "repeated body keys");
    assert!(
        with("GET", &replaced) >= 8,
        "GET query replacing a parameter"
    );
    // What the SDK does there: every value of a repeated body key, sorted; the query's values
    // alone where the query names a parameter.
    let string = |url: &str| {
        cases.iter().find(|c| c["url"] == url).unwrap()["signed_string"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        string("https://example.com/gather?x=1"),
        "https://example.com/gather?x=1.AzDigits1Digits10Digits2"
    );
    assert_eq!(
        string("https://example.com/cb?tag=q2&tag=q1"),
        "https://example.com/cb?a=1&tag=q1&tag=q2"
    );
}

fn signed_hangup(token: &Secret, nonce: &str) -> WebhookRequest {
    let url: Url = "https://agent.example.com/plivo/hangup".parse().unwrap();
    let mut r = WebhookRequest::form_post(
        url.clone(),
        &[
            ("CallUUID", "b2a7c1d4-5e6f-4a8b-9c0d-1e2f3a4b5c6d"),
            ("Event", "Hangup"),
        ],
    );
    let sig = sign_v3(token, &r.method, &url, &r.body_params(), nonce);
    r.headers.insert(V3_HEADER, sig.parse().unwrap());
    r.headers.insert(V3_NONCE_HEADER, nonce.parse().unwrap());
    r
}

/// A captured request sent again carries the same nonce: the first use passes the replay
/// guard, the second is refused, and a fresh delivery (another nonce) passes.
#[test]
fn a_nonce_used_twice_is_a_replay() {
    let token = Secret::new("plivo-s3cr3t");
    let plivo = Plivo::new(PlivoConfig::new("MAXXXXXXXXXXXXXXXXX1", token.clone())).unwrap();
    let guard = MemoryReplayGuard::new(16);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let now = SystemTime::now();
        let first = signed_hangup(&token, "05429567804466091622");
        let verified = plivo.verify_webhook(&first, now).unwrap();
        assert_eq!(
            verified.replay_key.as_deref(),
            Some("plivo:05429567804466091622")
        );
        check_replay(&guard, &verified, now).await.unwrap();

        let again = plivo.verify_webhook(&first.clone(), now).unwrap();
        assert_eq!(
            check_replay(&guard, &again, now).await,
            Err(WebhookError::Replayed("plivo:05429567804466091622".into()))
        );

        let fresh = signed_hangup(&token, "12345678901234567890");
        let verified = plivo.verify_webhook(&fresh, now).unwrap();
        check_replay(&guard, &verified, now).await.unwrap();

        // V2 deliveries are keyed by their nonce the same way.
        let url: Url = "https://agent.example.com/plivo/hangup".parse().unwrap();
        let mut v2 = WebhookRequest::form_post(url.clone(), &[("CallUUID", "x")]);
        v2.headers.insert(
            V2_HEADER,
            signature_v2(&token, &url, "777").parse().unwrap(),
        );
        v2.headers.insert(V2_NONCE_HEADER, "777".parse().unwrap());
        let verified = plivo.verify_webhook(&v2, now).unwrap();
        check_replay(&guard, &verified, now).await.unwrap();
        assert!(matches!(
            check_replay(&guard, &verified, now).await,
            Err(WebhookError::Replayed(_))
        ));
    });
}
