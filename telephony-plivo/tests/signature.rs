//! Plivo signatures against reference values computed with plivo-python 4.63.0
//! (`fixtures/signature_vectors.json`), and the request-level checks around them; and, at the
//! end, the webhook contract every adapter runs (tampering, a missing signature, replay keys,
//! every documented status, broken bodies, inbound numbers, secrets).

use std::time::SystemTime;

use telephony_core::{
    FormParams, MemoryReplayGuard, RequestUrl, Secret, TelephonyProvider, WebhookError,
    WebhookRequest, check_replay,
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
        let url: RequestUrl = c["url"].as_str().unwrap().parse().unwrap();
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
        let url: RequestUrl = c["url"].as_str().unwrap().parse().unwrap();
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
        assert!(
            PlivoValidator::new(token.clone())
                .accept_v2(true)
                .validate(&r)
                .is_ok(),
            "{c}"
        );
        // Without the opt-in, V2 is refused however right the signature.
        assert!(
            matches!(
                PlivoValidator::new(token).validate(&r),
                Err(WebhookError::UnsupportedAlgorithm(_))
            ),
            "{c}"
        );
    }
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
        let url: RequestUrl = c["url"].as_str().unwrap().parse().unwrap();
        names(c).iter().any(|k| {
            FormParams::parse(url.query().unwrap_or("").as_bytes())
                .iter()
                .any(|(q, _)| q == k.as_str())
        })
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
    let url: RequestUrl = "https://agent.example.com/plivo/hangup".parse().unwrap();
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
    let plivo = Plivo::new(
        PlivoConfig::new("MAXXXXXXXXXXXXXXXXX1", token.clone()).accept_v2_signatures(true),
    )
    .unwrap();
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
        let url: RequestUrl = "https://agent.example.com/plivo/hangup".parse().unwrap();
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

/// A V3 signature replayed as V2: V2 signs the base URL and the nonce only, so with the rest of
/// the V3 string moved into the V2 nonce the same MAC comes out, and a forger could attach any
/// body. Refused: V2 needs the opt-in, and a nonce is decimal digits, as Plivo sends.
#[test]
fn a_v3_signature_never_passes_as_v2() {
    let token = Secret::new("tok");
    let url: RequestUrl = "https://agent.example.com/plivo/answer".parse().unwrap();
    let captured = WebhookRequest::form_post(url.clone(), &[("CallUUID", "victim"), ("To", "1")]);
    let nonce = "05429567804466091622";
    let v3 = sign_v3(
        &token,
        &captured.method,
        &url,
        &captured.body_params(),
        nonce,
    );
    let rest = telephony_plivo::signature::signed_string(&captured)
        .strip_prefix(&telephony_plivo::signature::base_url(&url))
        .unwrap()
        .to_owned();
    // The forgery: the attacker's own body, the V3 MAC as V2, the rest in the nonce.
    let mut forged = WebhookRequest::form_post(url.clone(), &[("CallUUID", "attacker")]);
    let v2_nonce = format!("{rest}.{nonce}");
    assert_eq!(
        signature_v2(&token, &url, &v2_nonce),
        v3,
        "the MACs coincide"
    );
    forged.headers.insert(V2_HEADER, v3.parse().unwrap());
    forged
        .headers
        .insert(V2_NONCE_HEADER, v2_nonce.parse().unwrap());
    for accept_v2 in [false, true] {
        let verdict = PlivoValidator::new(token.clone())
            .accept_v2(accept_v2)
            .validate(&forged);
        assert!(verdict.is_err(), "accept_v2 {accept_v2}: {verdict:?}");
    }
}

/// A V3 POST with a query re-cut as a GET: the body's parameters moved into a longer nonce
/// give the same signed string. Refused: the nonce is digits only.
#[test]
fn a_v3_post_never_passes_as_a_get_with_a_longer_nonce() {
    let token = Secret::new("tok");
    let url: RequestUrl = "https://agent.example.com/plivo/answer?x=1"
        .parse()
        .unwrap();
    let post = WebhookRequest::form_post(url.clone(), &[("CallUUID", "victim")]);
    let nonce = "05429567804466091622";
    let sig = sign_v3(&token, &post.method, &url, &post.body_params(), nonce);
    // base?x=1.CallUUIDvictim.NONCE == GET base?x=1 with nonce "CallUUIDvictim.NONCE"
    let mut get = WebhookRequest::new(
        http::Method::GET,
        url.clone(),
        http::HeaderMap::new(),
        Vec::new(),
    );
    get.headers.insert(V3_HEADER, sig.parse().unwrap());
    get.headers.insert(
        V3_NONCE_HEADER,
        format!("CallUUIDvictim.{nonce}").parse().unwrap(),
    );
    assert!(matches!(
        PlivoValidator::new(token).validate(&get),
        Err(WebhookError::Malformed { what: "nonce", .. })
    ));
}

/// Property: a signature made for one request, moved to another whose signed string could
/// be cut differently (another method, V2 for V3, the nonce lengthened by what the string
/// held), never verifies.
mod cross_use {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn no_signature_stands_in_for_another(
            form in prop::collection::vec(("[A-Za-z]{1,8}", "[A-Za-z0-9 .]{0,10}"), 1..5),
            query in prop::collection::vec(("[a-z]{1,5}", "[a-z0-9.]{0,6}"), 0..3),
            nonce in "[0-9]{20}",
            cut in 0usize..40,
        ) {
            let token = Secret::new("tok");
            let mut parsed: telephony_core::Url = "https://h.example.com/plivo/cb".parse().unwrap();
            for (k, v) in &query {
                parsed.query_pairs_mut().append_pair(k, v);
            }
            let url = RequestUrl::try_from(&parsed).unwrap();
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let post = WebhookRequest::form_post(url.clone(), &pairs);
            let v3 = sign_v3(&token, &post.method, &url, &post.body_params(), &nonce);
            let string = telephony_plivo::signature::signed_string(&post);
            let base = telephony_plivo::signature::base_url(&url);
            let validator = PlivoValidator::new(token.clone()).accept_v2(true);
            // V2 with the rest of the string (or any suffix of it) before the nonce.
            let rest = &string[base.len()..];
            let from = cut.min(rest.len());
            let mut v2 = WebhookRequest::form_post(url.clone(), &[("Forged", "1")]);
            v2.headers.insert(V2_HEADER, v3.parse().unwrap());
            if let Ok(v) = format!("{}.{nonce}", &rest[from..]).parse() {
                v2.headers.insert(V2_NONCE_HEADER, v);
                prop_assert!(validator.validate(&v2).is_err());
            }
            // A GET of the same URL with a nonce lengthened by the string's tail.
            let tail = &string[string.len() - cut.min(string.len() - base.len())..];
            let mut get = WebhookRequest::new(http::Method::GET, url.clone(), http::HeaderMap::new(), Vec::new());
            get.headers.insert(V3_HEADER, v3.parse().unwrap());
            if let Ok(v) = format!("{tail}.{nonce}").parse() {
                get.headers.insert(V3_NONCE_HEADER, v);
                prop_assert!(validator.validate(&get).is_err());
            }
        }
    }
}

/// Randomized URLs judged by plivo-python: a host's case, default and other ports, an empty
/// path, `;params`, characters a WHATWG parser would encode; each request signed for its own
/// URL or another spelling of it. The validator, given the URL exactly as received, says what
/// the SDK says, every time.
#[test]
fn the_validator_agrees_with_the_sdk_on_randomized_urls() {
    let v = vectors();
    let cases = v["random"].as_array().unwrap();
    assert!(cases.len() >= 100);
    let mut valid = 0;
    for c in cases {
        let url: RequestUrl = c["url"].as_str().unwrap().parse().unwrap();
        let mut request = if c["method"] == "GET" {
            WebhookRequest::new(http::Method::GET, url, http::HeaderMap::new(), Vec::new())
        } else {
            let mut r = WebhookRequest::new(
                http::Method::POST,
                url,
                http::HeaderMap::new(),
                c["body"].as_str().unwrap().to_owned(),
            );
            r.headers.insert(
                "content-type",
                "application/x-www-form-urlencoded".parse().unwrap(),
            );
            r
        };
        request
            .headers
            .insert(V3_HEADER, c["signature"].as_str().unwrap().parse().unwrap());
        request.headers.insert(
            V3_NONCE_HEADER,
            c["nonce"].as_str().unwrap().parse().unwrap(),
        );
        let ours = PlivoValidator::new(Secret::new(c["token"].as_str().unwrap()))
            .validate(&request)
            .is_ok();
        assert_eq!(ours, c["valid"].as_bool().unwrap(), "{c}");
        valid += usize::from(ours);
    }
    assert!(valid > 20 && valid < cases.len() - 20, "{valid} valid");
}

/// A hangup callback as Plivo sends it (`hangup_url`), reporting `status`.
fn status_callback(url: RequestUrl, status: &str) -> WebhookRequest {
    WebhookRequest::form_post(
        url,
        &[
            ("ALegRequestUUID", "a1b2c3d4-0000-4000-8000-0123456789ab"),
            ("BillDuration", "60"),
            ("CallStatus", status),
            ("CallUUID", "b2a7c1d4-5e6f-4a8b-9c0d-1e2f3a4b5c6d"),
            ("Direction", "outbound"),
            ("Duration", "57"),
            ("Event", "Hangup"),
            ("From", "14155550199"),
            ("HangupCause", "NORMAL_CLEARING"),
            ("RequestUUID", "a1b2c3d4-0000-4000-8000-0123456789ab"),
            ("To", "14155550100"),
        ],
    )
}

/// Plivo, as the webhook contract sees it.
fn carrier() -> telephony_testkit::contract::webhooks::WebhookCarrier {
    use telephony_core::CallStatus;
    use telephony_testkit::contract::webhooks::{Signs, WebhookCarrier};
    const TOKEN: &str = "plivo-auth-token-0123456789abcdef";
    WebhookCarrier {
        provider: std::sync::Arc::new(
            Plivo::new(PlivoConfig::new("MAXXXXXXXXXXXXXXXXX1", TOKEN)).unwrap(),
        ),
        secret: Secret::new(TOKEN),
        signs: Signs::ALL,
        unsigned_headers: Vec::new(),
        status_callback,
        // Every CallStatus Plivo documents.
        statuses: vec![
            ("queued", CallStatus::Queued),
            ("ringing", CallStatus::Ringing),
            ("in-progress", CallStatus::InProgress),
            ("completed", CallStatus::Completed),
            ("busy", CallStatus::Busy),
            ("no-answer", CallStatus::NoAnswer),
            ("cancel", CallStatus::Canceled),
            ("timeout", CallStatus::Failed),
            ("failed", CallStatus::Failed),
        ],
        inbound: |url, from, to, secret| {
            let emulator = telephony_testkit::Emulators::builtin()
                .find("plivo")
                .unwrap();
            emulator.inbound_webhook(url, from, to, secret)
        },
        secrets: vec![TOKEN.to_owned()],
    }
}

telephony_testkit::webhook_contract!(carrier());
