//! The webhook rules every adapter keeps: signed requests verify and tampered ones do not,
//! replay keys, status callbacks, inbound calls, broken bodies and secrets that never print.
//!
//! Each rule is a public function that takes a [`WebhookCarrier`] and panics when the adapter
//! breaks it; [`webhook_contract!`](crate::webhook_contract) turns them into one `#[test]`
//! each:
//!
//! ```ignore
//! fn carrier() -> WebhookCarrier { /* the adapter, its secret, its status table */ }
//!
//! telephony_testkit::webhook_contract!(carrier());
//! ```
//!
//! Requests are signed as the carrier signs them, by its own description
//! ([`Carrier::webhooks`](telephony::Carrier::webhooks), [`WebhookScheme::sign`]), and checked
//! by the adapter ([`TelephonyProvider::verify_webhook`]), at one fixed time ([`now`]): no rule
//! reads the clock. Random inputs come from a fixed seed, so a failure repeats.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use telephony::{
    CallStatus, E164, Error, Recognition, RequestUrl, Secret, TelephonyProvider, Url, WebhookError,
    WebhookRequest, WebhookScheme,
};

use crate::script::Rng;

/// The time every rule signs and verifies at, in Unix seconds ([`now`]).
pub const NOW_UNIX: u64 = 1_750_000_000;

/// The time every rule signs and verifies at: [`NOW_UNIX`].
pub fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(NOW_UNIX)
}

/// Where the rules' status callbacks are sent: a path and a query to tamper with.
pub const STATUS_URL: &str = "https://agent.example.com/contract/status?tenant=acme-7&leg=a";

/// Where the rules' inbound calls are announced.
pub const INBOUND_URL: &str = "https://agent.example.com/contract/inbound";

/// Which parts of a request the carrier's signature covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signs {
    /// The body, byte for byte.
    pub body: bool,
    /// The host the request was sent to.
    pub host: bool,
    /// The URL's path.
    pub path: bool,
    /// The URL's query.
    pub query: bool,
}

impl Signs {
    /// The whole request: URL and body (Twilio, Plivo).
    pub const ALL: Signs = Signs {
        body: true,
        host: true,
        path: true,
        query: true,
    };

    /// The body and nothing of the URL (Vonage's `payload_hash` for a POST).
    pub const BODY: Signs = Signs {
        body: true,
        host: false,
        path: false,
        query: false,
    };
}

/// One carrier, as the webhook rules see it: what differs between carriers, and nothing else.
#[derive(Debug, Clone)]
pub struct WebhookCarrier {
    /// The adapter, holding [`secret`](Self::secret) as its webhook secret.
    pub provider: Arc<dyn TelephonyProvider>,
    /// The secret the carrier signs its webhooks with.
    pub secret: Secret,
    /// What its signature covers.
    pub signs: Signs,
    /// Headers the carrier sends that its signature does not cover, with a value (Twilio's
    /// `I-Twilio-Idempotency-Token`): a replay key must not change with them.
    pub unsigned_headers: Vec<(&'static str, &'static str)>,
    /// A status callback sent to `url`, reporting the call status `raw` as the carrier
    /// writes it, unsigned.
    pub status_callback: fn(url: RequestUrl, raw: &str) -> WebhookRequest,
    /// Every call status the carrier documents, with the normalized status it means.
    pub statuses: Vec<(&'static str, CallStatus)>,
    /// The webhook that announces an inbound call from `from` to `to`, sent to `url` (signed
    /// with `secret`, or not: the rules sign it again).
    pub inbound: fn(url: &Url, from: &E164, to: &E164, secret: &Secret) -> WebhookRequest,
    /// The credentials the adapter holds, none of which may ever print. The webhook secret is
    /// added by the rules.
    pub secrets: Vec<String>,
}

/// Runs every webhook rule as a `#[test]` of its own, for the carrier the expression gives
/// ([`WebhookCarrier`]).
///
/// ```ignore
/// telephony_testkit::webhook_contract!(carrier());
/// ```
#[macro_export]
macro_rules! webhook_contract {
    ($carrier:expr) => {
        $crate::__contract_tests!(webhook_contract, webhooks, $carrier;
            a_signed_request_verifies_and_is_recognised,
            changing_a_signed_byte_is_a_mismatch,
            a_request_without_its_signature_names_the_header,
            another_secret_is_a_mismatch,
            the_replay_key_names_the_delivery,
            every_documented_status_is_normalized,
            an_unknown_status_is_kept,
            a_broken_body_is_a_typed_error,
            an_inbound_call_gives_its_numbers_in_e164,
            no_secret_prints);
    };
}

impl WebhookCarrier {
    fn scheme(&self) -> &dyn WebhookScheme {
        self.provider.carrier().webhooks()
    }

    fn name(&self) -> &'static str {
        self.provider.kind().name()
    }

    /// A status callback reporting the carrier's `raw` status, unsigned.
    fn status(&self, raw: &str) -> WebhookRequest {
        (self.status_callback)(STATUS_URL.parse().expect("a URL"), raw)
    }

    /// An inbound call's webhook, unsigned or as the carrier signed it.
    fn inbound_call(&self, from: &str, to: &str) -> WebhookRequest {
        let url: Url = INBOUND_URL.parse().expect("a URL");
        (self.inbound)(&url, &number(from), &number(to), &self.secret)
    }

    /// Every secret that must not print.
    fn all_secrets(&self) -> Vec<String> {
        let mut secrets = self.secrets.clone();
        secrets.push(self.secret.expose().to_owned());
        secrets
    }

    fn verify(&self, request: &WebhookRequest) -> Result<telephony::Verified, WebhookError> {
        self.provider.verify_webhook(request, now())
    }
}

fn number(n: &str) -> E164 {
    n.parse().expect("an E.164 number")
}

/// `request` signed with `secret` and `nonce` as the carrier signs: the URL it signs (a scheme
/// may add to it) and its headers.
fn signed(
    carrier: &WebhookCarrier,
    mut request: WebhookRequest,
    secret: &Secret,
    nonce: &str,
) -> (WebhookRequest, Vec<String>) {
    let signature = carrier.scheme().sign(secret, &request, nonce, now());
    request.url = signature.url;
    let mut names = Vec::new();
    for (name, value) in signature.headers {
        let header = http::HeaderName::from_bytes(name.as_bytes()).expect("a header name");
        let value = http::HeaderValue::from_str(&value).expect("a header value");
        request.headers.insert(header, value);
        names.push(name);
    }
    (request, names)
}

/// A delivery's nonce: digits, as Plivo sends them.
fn nonce(n: u64) -> String {
    format!("{:020}", 5_429_567_804_466_091_622u64.wrapping_add(n))
}

/// The samples the rules sign and tamper with: the first documented status's callback and an
/// inbound call, both POSTs (the body is what is read).
fn samples(carrier: &WebhookCarrier) -> Vec<(String, WebhookRequest)> {
    let (raw, _) = carrier
        .statuses
        .first()
        .expect("at least one documented status");
    let samples = vec![
        (format!("a {raw:?} status callback"), carrier.status(raw)),
        (
            "an inbound call".to_owned(),
            carrier.inbound_call("+14155550199", "+14155550100"),
        ),
    ];
    for (what, request) in &samples {
        assert_eq!(
            request.method,
            http::Method::POST,
            "{what}: the rules take POSTs"
        );
        assert!(!request.body.is_empty(), "{what}: an empty body");
    }
    samples
}

/// A signature failure: the signature, the token or the body's signed hash does not match.
fn is_mismatch(e: &WebhookError) -> bool {
    matches!(
        e,
        WebhookError::Mismatch { .. }
            | WebhookError::BodyHashMismatch { .. }
            | WebhookError::TokenMismatch { .. }
    )
}

/// A request the carrier signed verifies with the adapter's secret, comes with a replay key,
/// and the carrier's description recognises it by its signature.
pub fn a_signed_request_verifies_and_is_recognised(carrier: &WebhookCarrier) {
    assert_eq!(carrier.provider.carrier().kind(), carrier.provider.kind());
    for (k, (what, request)) in samples(carrier).into_iter().enumerate() {
        let (request, _) = signed(carrier, request, &carrier.secret, &nonce(k as u64));
        let verified = carrier
            .verify(&request)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(verified.replay_key.is_some(), "{what}: no replay key");
        let recognized = carrier.provider.carrier().recognize(&request);
        assert_eq!(recognized, Recognition::BySignature, "{what}");
    }
}

/// Which byte ranges of the request's URL text hold the host, the path and the query.
fn url_parts(url: &RequestUrl) -> [(&'static str, std::ops::Range<usize>); 3] {
    let text = url.as_str();
    let end = text.len();
    let host_start = text.find("://").map_or(0, |i| i + 3);
    let host = host_start..host_start + url.host().len();
    let mark = text.find('?');
    let target = text[host.end..]
        .find(['/', '?'])
        .map_or(end, |i| host.end + i);
    [
        ("host", host),
        ("path", target..mark.unwrap_or(end)),
        ("query", mark.map_or(end, |q| q + 1)..end),
    ]
}

/// Another byte in the same place: the low bit flipped, so a letter stays a letter of the same
/// case, a digit a digit, and a `+` never becomes the space it means in a form.
fn changed(b: u8) -> u8 {
    b ^ 1
}

/// Changing any one byte of what the signature covers (the body, the host, the path, the
/// query) fails with a mismatch, never a panic; changing a part it does not cover (as the
/// carrier says) still verifies.
pub fn changing_a_signed_byte_is_a_mismatch(carrier: &WebhookCarrier) {
    let name = carrier.name();
    for (k, (what, request)) in samples(carrier).into_iter().enumerate() {
        let (request, _) = signed(carrier, request, &carrier.secret, &nonce(k as u64));
        carrier
            .verify(&request)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let judge = |changed: &WebhookRequest, part: &str, at: usize, signed: bool| {
            let verdict = catch_unwind(AssertUnwindSafe(|| carrier.verify(changed)))
                .unwrap_or_else(|_| panic!("{name}: {what}, {part} byte {at}: a panic"));
            match verdict {
                Err(e) if signed => {
                    assert!(is_mismatch(&e), "{what}, {part} byte {at}: {e:?}");
                }
                Ok(_) if !signed => {}
                other => panic!("{what}, {part} byte {at} changed: {other:?}"),
            }
        };
        for at in 0..request.body.len() {
            let mut body = request.body.to_vec();
            body[at] = changed(body[at]);
            let mut tampered = request.clone();
            tampered.body = body.into();
            judge(&tampered, "body", at, carrier.signs.body);
        }
        let signs = carrier.signs;
        for (part, range) in url_parts(&request.url) {
            let covered = match part {
                "host" => signs.host,
                "path" => signs.path,
                _ => signs.query,
            };
            let mut tried = 0;
            let present = !range.is_empty();
            for at in range {
                let mut text = request.url.as_str().as_bytes().to_vec();
                text[at] = changed(text[at]);
                let Ok(url) = String::from_utf8(text).map(|t| RequestUrl::parse(&t)) else {
                    continue;
                };
                let Ok(url) = url else { continue };
                let mut tampered = request.clone();
                tampered.url = url;
                judge(&tampered, part, at, covered);
                tried += 1;
            }
            assert!(
                tried > 0 || !present,
                "{what}: no {part} byte could be changed"
            );
        }
    }
}

/// A request without the carrier's signature headers is refused as unsigned, naming the header
/// it looked for, one of those the carrier signs with.
pub fn a_request_without_its_signature_names_the_header(carrier: &WebhookCarrier) {
    for (k, (what, request)) in samples(carrier).into_iter().enumerate() {
        let (mut request, headers) = signed(carrier, request, &carrier.secret, &nonce(k as u64));
        for header in &headers {
            request.headers.remove(header.as_str());
        }
        match carrier.verify(&request) {
            Err(e @ WebhookError::MissingSignature { header }) => {
                let named = headers.iter().any(|h| h.eq_ignore_ascii_case(header));
                assert!(named, "{what}: {header} is not among {headers:?}");
                assert!(e.to_string().contains(header), "{what}: {e}");
            }
            other => panic!("{what} without {headers:?}: {other:?}"),
        }
    }
}

/// A request signed with another secret is a mismatch.
pub fn another_secret_is_a_mismatch(carrier: &WebhookCarrier) {
    let forger = Secret::new("contract-forger-secret-0123456789abcdef");
    for (k, (what, request)) in samples(carrier).into_iter().enumerate() {
        let (forged, _) = signed(carrier, request, &forger, &nonce(k as u64));
        match carrier.verify(&forged) {
            Err(e) => assert!(is_mismatch(&e), "{what}: {e:?}"),
            Ok(_) => panic!("{what}: verified with another secret"),
        }
    }
}

/// The replay key names the delivery: the same for the same signed request however often it
/// is checked and whatever unsigned headers a proxy adds, different for another delivery.
pub fn the_replay_key_names_the_delivery(carrier: &WebhookCarrier) {
    let samples = samples(carrier);
    let mut keys = Vec::new();
    for (k, (what, request)) in samples.into_iter().enumerate() {
        let (request, _) = signed(carrier, request, &carrier.secret, &nonce(k as u64));
        let key = |r: &WebhookRequest| {
            let verified = carrier.verify(r).unwrap_or_else(|e| panic!("{what}: {e}"));
            verified
                .replay_key
                .unwrap_or_else(|| panic!("{what}: no replay key"))
        };
        let first = key(&request);
        assert_eq!(key(&request), first, "{what}: checked again");
        let mut proxied = request.clone();
        let added = [
            ("user-agent", "contract/1.0"),
            ("x-forwarded-for", "203.0.113.9"),
            ("x-request-id", "contract-7"),
        ];
        for (name, value) in added.iter().chain(&carrier.unsigned_headers) {
            let header = http::HeaderName::from_bytes(name.as_bytes()).expect("a header name");
            let value = http::HeaderValue::from_static(value);
            proxied.headers.insert(header, value);
        }
        assert_eq!(key(&proxied), first, "{what}: with unsigned headers");
        keys.push(first);
    }
    // Another delivery: another status, another nonce.
    let (raw, _) = carrier.statuses.last().expect("a status");
    let (other, _) = signed(carrier, carrier.status(raw), &carrier.secret, &nonce(99));
    let other = carrier.verify(&other).expect("another delivery verifies");
    let other = other.replay_key.expect("a replay key");
    assert!(
        !keys.contains(&other),
        "{other} is another delivery's key too"
    );
    assert_ne!(
        keys[0], keys[1],
        "a status callback and an inbound call share a key"
    );
}

/// Every status the carrier documents is read to the normalized status it means, and its raw
/// value kept. The table holds what every carrier reports of a call: ringing, answered,
/// completed.
pub fn every_documented_status_is_normalized(carrier: &WebhookCarrier) {
    for needed in [
        CallStatus::Ringing,
        CallStatus::InProgress,
        CallStatus::Completed,
    ] {
        let listed = carrier.statuses.iter().any(|(_, s)| *s == needed);
        assert!(listed, "no documented status means {needed:?}");
    }
    for (raw, status) in &carrier.statuses {
        let event = carrier
            .provider
            .parse_status_callback(&carrier.status(raw))
            .unwrap_or_else(|e| panic!("{raw}: {e}"));
        assert_eq!(&event.status, status, "{raw}");
        assert_eq!(event.raw_status, *raw);
    }
}

/// A status the carrier does not document (a new one) is kept as
/// [`CallStatus::Unknown`], never an error, and is not taken for the end of the call.
pub fn an_unknown_status_is_kept(carrier: &WebhookCarrier) {
    const NEW: &str = "teleported";
    let event = carrier
        .provider
        .parse_status_callback(&carrier.status(NEW))
        .unwrap_or_else(|e| panic!("an unknown status is an error: {e}"));
    assert_eq!(event.status, CallStatus::from_raw(NEW));
    assert_eq!(event.raw_status, NEW);
    assert!(!event.status.is_terminal());
}

/// An error a request the carrier sent can cause: it could not be read, or an id or number in
/// it is malformed.
fn is_request_error(e: &Error) -> bool {
    matches!(
        e,
        Error::Decode(_) | Error::InvalidCallId(_) | Error::InvalidNumber(_)
    )
}

/// Every body the malformed rule tries, from `body`: empty, cut at every length, a few bytes
/// changed, and random bytes; each with whether it is certainly no webhook (random bytes).
fn broken_bodies(body: &[u8], random: &mut Rng) -> Vec<(String, Vec<u8>, bool)> {
    let mut out = vec![("empty".to_owned(), Vec::new(), true)];
    for cut in 1..body.len() {
        out.push((format!("cut at {cut}"), body[..cut].to_vec(), false));
    }
    for n in 0..150 {
        let mut b = body.to_vec();
        for _ in 0..=random.below(4) {
            let at = random.below(b.len());
            if let Some(byte) = b.get_mut(at) {
                *byte = random.next() as u8;
            }
        }
        if b != body {
            out.push((format!("mutation {n}"), b, false));
        }
    }
    for n in 0..50 {
        let len = 1 + random.below(300);
        let b = (0..len).map(|_| random.next() as u8).collect();
        out.push((format!("random bytes {n}"), b, true));
    }
    out
}

/// A malformed, truncated or random body is a typed error (it could not be read, or holds a
/// malformed id or number), never a panic, for the status and inbound parsers alike; a signed
/// request whose body changed does not verify.
pub fn a_broken_body_is_a_typed_error(carrier: &WebhookCarrier) {
    let mut random = Rng(0x5eed_c0de_2024_0011);
    let secrets = carrier.all_secrets();
    let mut tried = 0;
    for (k, (what, request)) in samples(carrier).into_iter().enumerate() {
        let (request, _) = signed(carrier, request, &carrier.secret, &nonce(k as u64));
        for (how, body, never_valid) in broken_bodies(&request.body, &mut random) {
            let mut broken = request.clone();
            broken.body = body.into();
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                (
                    carrier.verify(&broken),
                    carrier.provider.parse_status_callback(&broken).map(|_| ()),
                    carrier.provider.parse_inbound(&broken).map(|_| ()),
                )
            }));
            let Ok((verified, status, inbound)) = outcome else {
                panic!("{what}, {how}: a panic on {:?}", broken.body);
            };
            if carrier.signs.body {
                assert!(verified.is_err(), "{what}, {how}: verified");
            }
            for (parser, parsed) in [("status", status), ("inbound", inbound)] {
                match parsed {
                    Err(e) => {
                        assert!(is_request_error(&e), "{what}, {how}, {parser}: {e:?}");
                        let text = format!("{e} {e:?}");
                        for secret in &secrets {
                            assert!(!text.contains(secret.as_str()), "{what}: {text}");
                        }
                    }
                    Ok(()) => assert!(!never_valid, "{what}, {how}: {parser} read it"),
                }
            }
            tried += 1;
        }
    }
    assert!(tried >= 300, "only {tried} bodies");
}

/// The webhook of an inbound call gives the caller and the number called in E.164, whatever
/// the carrier's own spelling (Vonage writes no `+`), and verifies once signed.
pub fn an_inbound_call_gives_its_numbers_in_e164(carrier: &WebhookCarrier) {
    for (k, (from, to)) in [
        ("+14155550199", "+14155550100"),
        ("+447700900123", "+442079460000"),
    ]
    .into_iter()
    .enumerate()
    {
        let request = carrier.inbound_call(from, to);
        let (request, _) = signed(carrier, request, &carrier.secret, &nonce(10 + k as u64));
        carrier
            .verify(&request)
            .unwrap_or_else(|e| panic!("{from} → {to}: {e}"));
        let call = carrier
            .provider
            .parse_inbound(&request)
            .unwrap_or_else(|e| panic!("{from} → {to}: {e}"));
        assert_eq!(call.from_number, Some(number(from)), "{call:?}");
        assert_eq!(call.to_number, Some(number(to)), "{call:?}");
        assert!(!call.call_id.as_str().is_empty(), "{call:?}");
    }
}

/// The adapter's `Debug` and every rejection's text and `Debug` show no secret: not the
/// webhook secret, not the adapter's other credentials.
pub fn no_secret_prints(carrier: &WebhookCarrier) {
    let mut shown = vec![format!("{:?}", carrier.provider)];
    let forger = Secret::new("contract-forger-secret-0123456789abcdef");
    for (k, (_, request)) in samples(carrier).into_iter().enumerate() {
        let (genuine, headers) =
            signed(carrier, request.clone(), &carrier.secret, &nonce(k as u64));
        let (forged, _) = signed(carrier, request, &forger, &nonce(k as u64));
        let mut unsigned = genuine.clone();
        for header in &headers {
            unsigned.headers.remove(header.as_str());
        }
        let mut tampered = genuine.clone();
        tampered.body = [&genuine.body[..], b"&x=1"].concat().into();
        for request in [&forged, &unsigned, &tampered] {
            if let Err(e) = carrier.verify(request) {
                shown.push(format!("{e} {e:?}"));
            }
        }
        let mut empty = genuine.clone();
        empty.body = Default::default();
        for parsed in [
            carrier.provider.parse_status_callback(&empty).err(),
            carrier.provider.parse_inbound(&empty).err(),
        ]
        .into_iter()
        .flatten()
        {
            shown.push(format!("{parsed} {parsed:?}"));
        }
    }
    assert!(shown.len() > 4, "{shown:?}");
    for secret in carrier.all_secrets() {
        for text in &shown {
            assert!(!text.contains(&secret), "{secret:?} in {text}");
        }
    }
}
