//! A carrier of the host's own, defined here with no edit to any crate of the workspace: it
//! registers, builds from the environment and from a configuration file (an unknown key
//! refused by name), has its webhooks recognised and checked by the `InboundRouter`, answers
//! an inbound call with its own document, reads its status callbacks, and paces its media as
//! it says. This is what the README's "A carrier of your own" section describes.

use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use telephony::audio::AudioFormat;
use telephony::media::{Framing, Pacer};
use telephony::{
    CallCost, CallEvent, CallId, CallInfo, CallInitiation, CallStatus, Capabilities, Carrier,
    ConfigError, E164, Error, HangupOutcome, InboundCall, InboundRouter, InboundUpdate, Markup,
    MediaCommand, MediaError, MediaEvent, MediaProtocol, MemoryDirectory, OutboundCall, Outcome,
    PhoneNumber, ProviderKind, Recognition, Registry, RequestUrl, Secret, Signed, StreamSpec,
    TelephonyProvider, Url, Verified, WebhookError, WebhookRequest, WebhookScheme, WsMessage,
};

const KIND: ProviderKind = ProviderKind::new("acme", "Acme Telecom");
const SIGNATURE: &str = "X-Acme-Signature";

/// Acme's description: the one thing a host writes to add a carrier.
struct AcmeCarrier;
static ACME: AcmeCarrier = AcmeCarrier;

/// The adapter.
#[derive(Debug)]
struct Acme {
    secret: Secret,
}

/// Acme signs `url || body` with HMAC-SHA256, hex.
fn mac(secret: &Secret, url: &str, body: &[u8]) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).unwrap();
    m.update(url.as_bytes());
    m.update(body);
    m.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

struct AcmeWebhooks;

impl WebhookScheme for AcmeWebhooks {
    fn secret_setting(&self) -> &'static str {
        "ACME_SIGNING_SECRET"
    }

    fn verify(
        &self,
        secret: Option<&Secret>,
        _alternate: Option<&Secret>,
        request: &WebhookRequest,
        _now: SystemTime,
    ) -> Result<Verified, WebhookError> {
        let secret = secret.ok_or(WebhookError::MissingSecret {
            setting: "ACME_SIGNING_SECRET",
        })?;
        let given = request
            .header(SIGNATURE)
            .ok_or(WebhookError::MissingSignature { header: SIGNATURE })?;
        let expected = mac(secret, request.url.as_str(), &request.body);
        if telephony_core::constant_time_eq(given.as_bytes(), expected.as_bytes()) {
            Ok(Verified::new().with_replay_key(
                Some(format!("acme:{given}")),
                std::time::Duration::from_secs(600),
            ))
        } else {
            Err(WebhookError::Mismatch { diagnosis: None })
        }
    }

    fn sign(
        &self,
        secret: &Secret,
        request: &WebhookRequest,
        _nonce: &str,
        _now: SystemTime,
    ) -> Signed {
        Signed::new(
            request.url.clone(),
            vec![(
                SIGNATURE.to_owned(),
                mac(secret, request.url.as_str(), &request.body),
            )],
        )
    }
}

impl Carrier for AcmeCarrier {
    fn kind(&self) -> ProviderKind {
        KIND
    }
    fn settings(&self) -> &'static [&'static str] {
        &["ACME_API_KEY", "ACME_SIGNING_SECRET"]
    }
    fn settings_prefix(&self) -> &'static str {
        "ACME_"
    }
    fn check_settings(&self, settings: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        for name in self.settings() {
            if settings(name).is_none_or(|v| v.is_empty()) {
                return Err(ConfigError::new(*name, "not set"));
            }
        }
        Ok(())
    }
    fn build(
        &self,
        settings: &dyn Fn(&str) -> Option<String>,
        _base_url: Option<Url>,
    ) -> Result<Arc<dyn TelephonyProvider>, Error> {
        self.check_settings(settings)?;
        Ok(Arc::new(Acme {
            secret: Secret::new(settings("ACME_SIGNING_SECRET").unwrap_or_default()),
        }))
    }
    fn recognize(&self, request: &WebhookRequest) -> Recognition {
        if request.header(SIGNATURE).is_some() {
            Recognition::BySignature
        } else {
            Recognition::No
        }
    }
    fn pacer(&self) -> Option<Pacer> {
        Some(Pacer::new(
            std::time::Duration::from_millis(20),
            5,
            std::time::Duration::from_millis(100),
            10,
        ))
    }
    fn stream_formats(&self) -> &'static [AudioFormat] {
        &[AudioFormat::MULAW_8K]
    }
    fn answer_markup(&self, stream: &StreamSpec) -> Result<Markup, Error> {
        Ok(Markup::json(
            serde_json::json!({"stream": stream.url.as_str(), "parameters": stream.parameters})
                .to_string(),
        ))
    }
    fn webhooks(&self) -> &dyn WebhookScheme {
        &AcmeWebhooks
    }
}

#[derive(Debug)]
struct NoMedia;

impl MediaProtocol for NoMedia {
    fn kind(&self) -> ProviderKind {
        KIND
    }
    fn wire_format(&self) -> Option<AudioFormat> {
        Some(AudioFormat::MULAW_8K)
    }
    fn framing(&self) -> Framing {
        Framing {
            frame: std::time::Duration::from_millis(20),
            strict: false,
        }
    }
    fn decode<'a>(&'a mut self, _: WsMessage<'a>) -> Result<MediaEvent<'a>, MediaError> {
        Err(MediaError::Unsupported {
            provider: KIND,
            what: "media in this test",
        })
    }
    fn encode(
        &mut self,
        _: MediaCommand<'_>,
        _: &mut dyn FnMut(WsMessage<'_>),
    ) -> Result<(), MediaError> {
        Err(MediaError::Unsupported {
            provider: KIND,
            what: "media in this test",
        })
    }
}

fn unsupported<T>(operation: &'static str) -> Result<T, Error> {
    Err(Error::Unsupported {
        provider: KIND,
        operation,
    })
}

#[async_trait]
impl TelephonyProvider for Acme {
    fn kind(&self) -> ProviderKind {
        KIND
    }
    fn carrier(&self) -> &'static dyn Carrier {
        &ACME
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::NONE
    }
    fn validate_config(&self) -> Result<(), Error> {
        Ok(())
    }
    async fn initiate_call(&self, _: &OutboundCall) -> Result<CallInitiation, Error> {
        unsupported("calls in this test")
    }
    async fn call_status(&self, _: &CallId) -> Result<CallInfo, Error> {
        unsupported("calls in this test")
    }
    async fn hangup(&self, _: &CallId) -> Result<HangupOutcome, Error> {
        unsupported("calls in this test")
    }
    async fn call_cost(&self, _: &CallId) -> Result<Option<CallCost>, Error> {
        unsupported("calls in this test")
    }
    async fn phone_numbers(&self) -> Result<Vec<PhoneNumber>, Error> {
        Ok(Vec::new())
    }
    async fn configure_inbound(&self, _: &E164, _: &Url) -> Result<InboundUpdate, Error> {
        unsupported("numbers in this test")
    }
    fn verify_webhook(
        &self,
        request: &WebhookRequest,
        now: SystemTime,
    ) -> Result<Verified, WebhookError> {
        AcmeWebhooks.verify(Some(&self.secret), None, request, now)
    }
    fn answer(&self, stream: &StreamSpec) -> Result<Markup, Error> {
        ACME.answer_markup(stream)
    }
    fn speak_and_hangup(&self, text: &str) -> Result<Markup, Error> {
        Ok(Markup::json(serde_json::json!({"say": text}).to_string()))
    }
    fn parse_status_callback(&self, request: &WebhookRequest) -> Result<CallEvent, Error> {
        let v: serde_json::Value =
            serde_json::from_slice(&request.body).map_err(Error::invalid_request)?;
        let call = CallId::new(v["call"].as_str().unwrap_or_default())?;
        let status = match v["state"].as_str() {
            Some("done") => CallStatus::Completed,
            _ => CallStatus::InProgress,
        };
        Ok(CallEvent::new(
            call,
            status,
            v["state"].as_str().unwrap_or(""),
        ))
    }
    fn parse_inbound(&self, request: &WebhookRequest) -> Result<InboundCall, Error> {
        let v: serde_json::Value =
            serde_json::from_slice(&request.body).map_err(Error::invalid_request)?;
        let mut call = InboundCall::new(
            CallId::new(v["call"].as_str().unwrap_or_default())?,
            v["from"].as_str().unwrap_or_default(),
            v["to"].as_str().unwrap_or_default(),
        );
        call.to_number = v["to"].as_str().and_then(|t| t.parse().ok());
        Ok(call)
    }
    fn media_protocol(&self) -> Box<dyn MediaProtocol> {
        Box::new(NoMedia)
    }
}

fn env(name: &str) -> Option<String> {
    match name {
        "ACME_API_KEY" => Some("key-1".into()),
        "ACME_SIGNING_SECRET" => Some("acme-secret".into()),
        _ => None,
    }
}

/// A JSON POST to `url`, signed by `secret`.
fn signed(url: &str, body: serde_json::Value, secret: &str) -> WebhookRequest {
    let url: RequestUrl = url.parse().unwrap();
    let mut r = WebhookRequest::new(
        axum::http::Method::POST,
        url,
        axum::http::HeaderMap::new(),
        body.to_string(),
    );
    r.headers
        .insert("content-type", "application/json".parse().unwrap());
    let s = AcmeWebhooks.sign(&Secret::new(secret), &r, "", SystemTime::now());
    for (k, v) in s.headers {
        r.headers.insert(
            axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    r
}

#[test]
fn it_registers_and_builds_from_settings() {
    let registry = Registry::builtin().with(&ACME);
    assert!(registry.ids().contains(&"acme"));
    assert!(
        Registry::builtin().find("acme").is_none(),
        "no edit to the built-ins"
    );
    let provider = registry.config("Acme", env).unwrap().build().unwrap();
    assert_eq!(provider.kind(), KIND);
    // A setting missing, then a configuration file's key Acme does not read.
    let e = registry.config("acme", |_| None).unwrap_err();
    assert_eq!(e.setting, "ACME_API_KEY");
    assert_eq!(registry.configured(env).len(), 1);
    let options = telephony::stream::StreamOptions::for_provider(provider.as_ref());
    assert!(options.pacer.is_some(), "its pacing, from its description");
}

#[tokio::test]
async fn the_router_recognises_verifies_and_answers_its_calls() {
    let provider = Registry::builtin()
        .with(&ACME)
        .config("acme", env)
        .unwrap()
        .build()
        .unwrap();
    let directory = Arc::new(MemoryDirectory::new());
    directory.insert(
        "+14155550100".parse().unwrap(),
        StreamSpec::new("wss://agent.example.com/media/acme".parse().unwrap()),
    );
    let router = InboundRouter::new(directory).provider(provider);
    let now = SystemTime::now();
    let call = serde_json::json!({"call": "acme-1", "from": "+14155550199", "to": "+14155550100"});

    let reply = router
        .handle(
            &signed(
                "https://agent.example.com/inbound",
                call.clone(),
                "acme-secret",
            ),
            now,
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.outcome);
    assert!(matches!(reply.outcome, Outcome::Answered { .. }));
    assert!(
        reply.body.contains("wss://agent.example.com/media/acme"),
        "{}",
        reply.body
    );

    let forged = router
        .handle(
            &signed("https://agent.example.com/inbound", call, "not-the-secret"),
            now,
        )
        .await;
    assert_eq!(forged.status, 403);

    let status = serde_json::json!({"call": "acme-1", "state": "done"});
    let (kind, event) = router
        .status(
            &signed("https://agent.example.com/status", status, "acme-secret"),
            now,
        )
        .await
        .unwrap();
    assert_eq!((kind, event.status), (KIND, CallStatus::Completed));
}
