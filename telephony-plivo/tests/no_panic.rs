//! No input from the network makes a Plivo parser or signature check panic.

use http::{HeaderMap, HeaderValue, Method};
use proptest::prelude::*;
use telephony_core::{
    FormParams, MediaProtocol, Secret, TelephonyProvider, WebhookRequest, WsMessage,
};
use telephony_plivo::{ByteOrder, Plivo, PlivoConfig, PlivoMediaProtocol, signature, status};

fn plivo() -> Plivo {
    Plivo::new(PlivoConfig::new("MAXXXXXXXXXXXXXXXXX1", "tok")).unwrap()
}

fn shaped() -> impl Strategy<Value = String> {
    let event = prop::sample::select(vec![
        "start",
        "media",
        "dtmf",
        "playedStream",
        "played",
        "clearedAudio",
        "stop",
        "x",
    ]);
    let value = prop_oneof![
        any::<i64>().prop_map(|v| v.to_string()),
        "[ -~]{0,12}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        Just("null".to_owned()),
        Just("{\"payload\":\"//8=\",\"timestamp\":\"5\"}".to_owned()),
        Just("{\"mediaFormat\":{\"encoding\":\"audio/x-l16\",\"sampleRate\":16000},\"streamId\":\"s\"}".to_owned()),
        Just("{\"digit\":\"*\"}".to_owned()),
    ];
    (
        event,
        prop::collection::vec(
            (
                prop::sample::select(vec![
                    "media",
                    "start",
                    "dtmf",
                    "name",
                    "streamId",
                    "extra_headers",
                    "sequenceNumber",
                ]),
                value,
            ),
            0..5,
        ),
    )
        .prop_map(|(e, fields)| {
            let mut s = format!("{{\"event\":\"{e}\"");
            for (k, v) in fields {
                s.push_str(&format!(",\"{k}\":{v}"));
            }
            s + "}"
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn media_messages_never_panic(text in "\\PC{0,200}", msg in shaped(), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        for order in [ByteOrder::Little, ByteOrder::Big] {
            let mut p = PlivoMediaProtocol::new(order);
            let _ = p.decode(WsMessage::Text(&msg));
            let _ = p.decode(WsMessage::Text(&text));
            let _ = p.decode(WsMessage::Binary(&bytes));
            let _ = p.encode(telephony_core::MediaCommand::Mark(&text), &mut |_| {});
            let _ = p.encode(telephony_core::MediaCommand::SendDtmf(&text), &mut |_| {});
        }
    }

    #[test]
    fn webhooks_never_panic(
        body in prop::collection::vec(any::<u8>(), 0..300),
        query in "[ -~]{0,60}",
        sig in "[ -~]{0,60}",
        nonce in "[ -~]{0,20}",
        v2 in any::<bool>(),
    ) {
        let mut headers = HeaderMap::new();
        let (h, n) = if v2 { (signature::V2_HEADER, signature::V2_NONCE_HEADER) } else { (signature::V3_HEADER, signature::V3_NONCE_HEADER) };
        if let (Ok(s), Ok(nn)) = (HeaderValue::from_str(&sig), HeaderValue::from_str(&nonce)) {
            headers.insert(h, s);
            headers.insert(n, nn);
        }
        headers.insert("content-type", HeaderValue::from_static("application/x-www-form-urlencoded"));
        for method in [Method::POST, Method::GET] {
            if let Ok(url) = format!("https://h.example.com/p;x?{query}").parse() {
                let r = WebhookRequest::new(method, url, headers.clone(), body.clone());
                let _ = plivo().verify_webhook(&r, std::time::SystemTime::now());
                let _ = plivo().parse_status_callback(&r);
                let _ = plivo().parse_callback(&r);
                let _ = plivo().parse_inbound(&r);
                let _ = status::parse_stream_status(&r);
            }
        }
    }

    /// Callbacks shaped like Plivo's (a transfer's reference in the query, the fields of a
    /// dial outcome, a leg's status, a machine verdict or a recording, with random values)
    /// are read or refused, never a panic.
    #[test]
    fn callbacks_never_panic(
        query in prop::collection::vec((prop::sample::select(vec![
            "telephony_transfer", "telephony_caller", "telephony_leg", "telephony_say",
            "telephony_play", "telephony_hold", "telephony_fallback", "telephony_target",
            "telephony_header", "telephony_from", "telephony_timeout", "tenant",
        ]), prop_oneof![
            Just("xfer-1a".to_owned()), Just("caller".to_owned()), Just("target".to_owned()),
            Just("sip:a@b.example".to_owned()), Just("+14155550123".to_owned()),
            "\\PC{0,16}",
        ]), 0..8),
        form in prop::collection::vec((prop::sample::select(vec![
            "CallUUID", "CallStatus", "Event", "HangupCause", "DialStatus", "DialBLegUUID",
            "Machine", "record_url", "RecordUrl", "recording_id", "RecordingID",
            "recording_duration_ms", "recording_start_ms", "RecordingDuration", "call_uuid",
        ]), prop_oneof![
            Just("in-progress".to_owned()), Just("ringing".to_owned()), Just("completed".to_owned()),
            Just("MachineDetection".to_owned()), Just("Hangup".to_owned()), Just("https://media.plivo.com/r.mp3".to_owned()),
            Just("1e400".to_owned()), Just("-5".to_owned()), "\\PC{0,16}",
        ]), 0..8),
    ) {
        let mut url: telephony_core::Url = "https://h.example.com/status".parse().unwrap();
        for (k, v) in &query {
            url.query_pairs_mut().append_pair(k, v);
        }
        if let Ok(u) = telephony_core::RequestUrl::try_from(&url) {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = WebhookRequest::form_post(u, &pairs);
            let _ = plivo().parse_callback(&r);
        }
    }

    /// A signed request verifies, its signature is the HMAC of the V3 string the
    /// `telephony_plivo::signature` module docs describe (built here independently of the
    /// crate), and any change to what was signed (a value, an added parameter, the query, the
    /// path, the nonce, the token) fails.
    #[test]
    fn signed_requests_verify_and_any_tampering_fails(
        form in prop::collection::vec(("[A-Za-z]{1,10}", "\\PC{0,20}"), 0..8),
        query in prop::collection::vec(("[a-z]{1,5}", "[a-z0-9 ]{0,5}"), 0..4),
        nonce in "[0-9]{1,20}",
        tamper in 0..6usize,
        pick in any::<prop::sample::Index>(),
    ) {
        let token = Secret::new("tok");
        let mut parsed: telephony_core::Url = "https://h.example.com/plivo/cb".parse().unwrap();
        for (k, v) in &query {
            parsed.query_pairs_mut().append_pair(k, v);
        }
        let url = telephony_core::RequestUrl::try_from(&parsed).unwrap();
        let signed = |form: &[(String, String)], url: &telephony_core::RequestUrl, nonce: &str, token: &Secret| {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let mut r = WebhookRequest::form_post(url.clone(), &pairs);
            let sig = signature::sign_v3(token, &Method::POST, url, &r.body_params(), nonce);
            r.headers.insert(signature::V3_HEADER, HeaderValue::from_str(&sig).unwrap());
            r.headers.insert(signature::V3_NONCE_HEADER, HeaderValue::from_str(nonce).unwrap());
            (r, sig)
        };
        let (r, sig) = signed(&form, &url, &nonce, &token);
        prop_assert!(plivo().verify_webhook(&r, std::time::SystemTime::now()).is_ok());
        prop_assert_eq!(&sig, &reference_signature("tok", &url, &form, &nonce));

        let mut form2 = form.clone();
        let mut url2 = parsed.clone();
        let mut nonce2 = nonce.clone();
        let mut token2 = token.clone();
        match tamper {
            0 if !form2.is_empty() => form2[pick.index(form.len())].1.push('x'),
            0 | 1 => form2.push(("Injected".into(), "1".into())),
            2 => { url2.query_pairs_mut().append_pair("tampered", "1"); }
            3 => url2.set_path("/plivo/other"),
            4 => nonce2.push('0'),
            _ => token2 = Secret::new("another token"),
        }
        // Signed with the original values, sent with the changed ones (or checked with
        // another token).
        let url2 = telephony_core::RequestUrl::try_from(&url2).unwrap();
        let (mut forged, _) = signed(&form2, &url2, &nonce2, &token);
        forged.headers.insert(signature::V3_HEADER, HeaderValue::from_str(&sig).unwrap());
        let checker = Plivo::new(PlivoConfig::new("MAXXXXXXXXXXXXXXXXX1", token2)).unwrap();
        prop_assert!(checker.verify_webhook(&forged, std::time::SystemTime::now()).is_err(), "tamper {}", tamper);
    }
}

/// Plivo's V3 string (the `telephony_plivo::signature` module docs), written out plainly:
/// `base ? sorted-query [.] sorted-params`, or the GET form when there are no body parameters;
/// HMAC-SHA256 over it, `.` and the nonce.
fn reference_signature(
    token: &str,
    url: &telephony_core::RequestUrl,
    form: &[(String, String)],
    nonce: &str,
) -> String {
    use base64::Engine as _;
    use hmac::Mac as _;
    let mut query: Vec<(String, String)> = FormParams::parse(url.query().unwrap_or("").as_bytes())
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    query.sort();
    let qs = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let base = format!("https://{}{}", url.host(), url.path());
    let mut text = if form.is_empty() {
        if qs.is_empty() {
            base
        } else {
            format!("{base}?{qs}")
        }
    } else {
        let mut body = form.to_vec();
        body.sort();
        let params: String = body.iter().map(|(k, v)| format!("{k}{v}")).collect();
        let dot = if qs.is_empty() { "" } else { "." };
        format!("{base}?{qs}{dot}{params}")
    };
    text.push('.');
    text.push_str(nonce);
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(text.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// A transfer target with characters of more than one byte where a parser might cut the text
/// (`sip:é…`) is read or refused, never a panic, signed or not.
#[test]
fn a_target_with_wide_characters_never_panics() {
    for target in ["sip:\u{e9}@x.example", "si\u{e9}:a@b", "+1\u{1f600}"] {
        let mut url: telephony_core::Url = "https://h.example.com/status".parse().unwrap();
        url.query_pairs_mut()
            .append_pair("telephony_transfer", "xfer-1")
            .append_pair("telephony_caller", "c1")
            .append_pair("telephony_leg", "caller")
            .append_pair("telephony_target", target);
        let r = WebhookRequest::form_post(
            telephony_core::RequestUrl::try_from(&url).unwrap(),
            &[("CallUUID", "c1"), ("CallStatus", "in-progress")],
        );
        let _ = plivo().parse_callback(&r);
        let mut signed = r.clone();
        signed
            .headers
            .insert("x-plivo-signature-v3", "c2lnbmF0dXJl".parse().unwrap());
        let _ = plivo().parse_callback(&signed);
    }
}
