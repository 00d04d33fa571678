//! Acme Telecom, a carrier of the host's own, written here with no edit to any crate of the
//! workspace: its description ([`AcmeCarrier`]), its signed webhooks, its adapter ([`Acme`]) on
//! core's REST client ([`rest`]) and its JSON media stream ([`media`]).

pub(crate) mod media;
pub(crate) mod rest;

use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use telephony::audio::AudioFormat;
use telephony::media::Pacer;
use telephony::{
    CallCost, CallEvent, CallId, CallInfo, CallInitiation, CallStatus, Capabilities, Carrier,
    ConfigError, DecodeError, E164, Error, HangupOutcome, InboundCall, InboundUpdate, Markup,
    MediaProtocol, OutboundCall, PhoneNumber, ProviderKind, Recognition, Secret, Signed,
    StreamSpec, TelephonyProvider, Url, Verified, WebhookError, WebhookRequest, WebhookScheme,
};
use telephony_core::rest::{HttpConfig, RestClient};

use self::rest::AcmeApi;

pub(crate) const KIND: ProviderKind = ProviderKind::new("acme", "Acme Telecom");
pub(crate) const SIGNATURE: &str = "X-Acme-Signature";
/// Where Acme's API is, unless `ACME_BASE_URL` says otherwise.
const API: &str = "https://api.acme.example";

/// Acme's description: the one thing a host writes to add a carrier.
pub(crate) struct AcmeCarrier;
pub(crate) static ACME: AcmeCarrier = AcmeCarrier;

/// The adapter.
#[derive(Debug)]
pub(crate) struct Acme {
    secret: Secret,
    api_key: Secret,
    base: Url,
    rest: RestClient<AcmeApi>,
}

impl Acme {
    /// Acme with its API key and webhook secret, its API at `base`.
    pub(crate) fn new(
        api_key: Secret,
        secret: Secret,
        base: Url,
        http: &HttpConfig,
    ) -> Result<Acme, Error> {
        Ok(Acme {
            secret,
            api_key,
            base,
            rest: RestClient::new(AcmeApi, http)?,
        })
    }
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

pub(crate) struct AcmeWebhooks;

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
        &["ACME_API_KEY", "ACME_SIGNING_SECRET", "ACME_BASE_URL"]
    }
    fn settings_prefix(&self) -> &'static str {
        "ACME_"
    }
    fn check_settings(&self, settings: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        for name in ["ACME_API_KEY", "ACME_SIGNING_SECRET"] {
            if settings(name).is_none_or(|v| v.is_empty()) {
                return Err(ConfigError::new(name, "not set"));
            }
        }
        if let Some(url) = settings("ACME_BASE_URL") {
            Url::parse(&url).map_err(|e| ConfigError::new("ACME_BASE_URL", e.to_string()))?;
        }
        Ok(())
    }
    fn build(
        &self,
        settings: &dyn Fn(&str) -> Option<String>,
        base_url: Option<Url>,
    ) -> Result<Arc<dyn TelephonyProvider>, Error> {
        self.check_settings(settings)?;
        let configured = settings("ACME_BASE_URL").and_then(|u| Url::parse(&u).ok());
        let base = base_url
            .or(configured)
            .unwrap_or_else(|| Url::parse(API).expect("a URL"));
        Ok(Arc::new(Acme::new(
            Secret::new(settings("ACME_API_KEY").unwrap_or_default()),
            Secret::new(settings("ACME_SIGNING_SECRET").unwrap_or_default()),
            base,
            &HttpConfig::default(),
        )?))
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
        media::FORMATS
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

/// Acme's call states → the normalized status; anything else is kept.
pub(crate) fn call_status(raw: &str) -> CallStatus {
    match raw {
        "queued" => CallStatus::Queued,
        "ringing" => CallStatus::Ringing,
        "answered" => CallStatus::InProgress,
        "done" => CallStatus::Completed,
        "busy" => CallStatus::Busy,
        "unanswered" => CallStatus::NoAnswer,
        "failed" => CallStatus::Failed,
        "cancelled" => CallStatus::Canceled,
        other => CallStatus::from_raw(other),
    }
}

/// A webhook's JSON body, and its required text fields.
struct Body(serde_json::Value, &'static str);

impl Body {
    fn read(request: &WebhookRequest, what: &'static str) -> Result<Body, Error> {
        serde_json::from_slice(&request.body)
            .map(|v| Body(v, what))
            .map_err(|e| Error::Decode(DecodeError::new(KIND, what, e.to_string())))
    }

    fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).and_then(serde_json::Value::as_str)
    }

    fn required(&self, field: &str) -> Result<&str, Error> {
        self.get(field)
            .ok_or_else(|| Error::Decode(DecodeError::new(KIND, self.1, format!("no {field}"))))
    }
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
        let mut caps = Capabilities::NONE;
        caps.playback_marks = true;
        caps.clear_audio = true;
        caps
    }
    fn validate_config(&self) -> Result<(), Error> {
        Ok(())
    }
    async fn initiate_call(&self, call: &OutboundCall) -> Result<CallInitiation, Error> {
        self.capabilities().check_call(self.kind(), call)?;
        self.place(call).await
    }
    async fn call_status(&self, call: &CallId) -> Result<CallInfo, Error> {
        self.fetch(call).await
    }
    async fn hangup(&self, call: &CallId) -> Result<HangupOutcome, Error> {
        self.end(call).await
    }
    async fn call_cost(&self, call: &CallId) -> Result<Option<CallCost>, Error> {
        self.cost(call).await
    }
    async fn phone_numbers(&self) -> Result<Vec<PhoneNumber>, Error> {
        self.numbers().await
    }
    async fn configure_inbound(&self, number: &E164, url: &Url) -> Result<InboundUpdate, Error> {
        self.point(number, url).await
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
        let body = Body::read(request, "status callback")?;
        let raw = body.required("state")?;
        let call = CallId::new(body.required("call")?)?;
        Ok(CallEvent::new(call, call_status(raw), raw))
    }
    fn parse_inbound(&self, request: &WebhookRequest) -> Result<InboundCall, Error> {
        let body = Body::read(request, "inbound call webhook")?;
        let call = CallId::new(body.required("call")?)?;
        let to = body.required("to")?;
        Ok(InboundCall::new(call, body.get("from").unwrap_or(""), to))
    }
    fn media_protocol(&self) -> Box<dyn MediaProtocol> {
        Box::new(media::AcmeMedia::new())
    }
}
