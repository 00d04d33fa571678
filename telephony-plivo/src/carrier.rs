//! Plivo, as the registry knows it.

use std::sync::Arc;
use std::time::SystemTime;

use telephony_core::audio::{AudioFormat, Encoding, SampleRate};
use telephony_core::{
    Carrier, Error, Markup, ProviderKind, Recognition, Secret, Signed, StreamSpec,
    TelephonyProvider, Url, Verified, WebhookError, WebhookRequest, WebhookScheme,
};

use crate::signature::{PlivoValidator, V2_HEADER, V3_HEADER, V3_NONCE_HEADER, sign_v3};
use crate::{KIND, Plivo, PlivoConfig};

/// Plivo's description (see [`Carrier`]).
#[derive(Debug, Clone, Copy)]
pub struct PlivoCarrier;

/// Plivo's description, for the registry.
pub static CARRIER: PlivoCarrier = PlivoCarrier;

const SETTINGS: &[&str] = &[
    "PLIVO_AUTH_ID",
    "PLIVO_AUTH_TOKEN",
    "PLIVO_APP_ID",
    "PLIVO_BASE_URL",
    "PLIVO_L16_BYTE_ORDER",
    "PLIVO_ACCEPT_V2_SIGNATURES",
];

const FORMATS: &[AudioFormat] = &[
    AudioFormat::MULAW_8K,
    AudioFormat::new(Encoding::L16Le, SampleRate::Hz16000),
    AudioFormat::new(Encoding::L16Le, SampleRate::Hz8000),
];

impl Carrier for PlivoCarrier {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn settings(&self) -> &'static [&'static str] {
        SETTINGS
    }

    fn settings_prefix(&self) -> &'static str {
        "PLIVO_"
    }

    fn check_settings(
        &self,
        settings: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(), telephony_core::ConfigError> {
        PlivoConfig::from_lookup(settings).map(|_| ())
    }

    fn build(
        &self,
        settings: &dyn Fn(&str) -> Option<String>,
        base_url: Option<Url>,
    ) -> Result<Arc<dyn TelephonyProvider>, Error> {
        let mut config = PlivoConfig::from_lookup(settings)?;
        if let Some(url) = base_url {
            config = config.base_url(url);
        }
        Ok(Arc::new(Plivo::new(config)?))
    }

    fn recognize(&self, request: &WebhookRequest) -> Recognition {
        if request.header(V3_HEADER).is_some() || request.header(V2_HEADER).is_some() {
            return Recognition::BySignature;
        }
        if request.params().get("CallUUID").is_some() {
            return Recognition::ByFields;
        }
        Recognition::No
    }

    /// Plivo dequeues API-created calls at 2 per second per account (its account limits page).
    fn calls_per_second(&self) -> f64 {
        2.0
    }

    /// Plivo files an ended call under its CallUUID, which the create's request id does not find: how a call that was never answered ended is in its callbacks only.
    fn outcome_by_polling(&self) -> bool {
        false
    }

    fn stream_formats(&self) -> &'static [AudioFormat] {
        FORMATS
    }

    fn answer_markup(&self, stream: &StreamSpec) -> Result<Markup, Error> {
        Ok(Markup::xml(
            Plivo::stream_xml(stream).map_err(Error::invalid_request)?,
        ))
    }

    fn webhooks(&self) -> &dyn WebhookScheme {
        &PlivoWebhooks
    }
}

/// `X-Plivo-Signature-V3` with its nonce (V2 refused, as by default).
struct PlivoWebhooks;

impl WebhookScheme for PlivoWebhooks {
    fn secret_setting(&self) -> &'static str {
        "PLIVO_AUTH_TOKEN"
    }

    fn verify(
        &self,
        secret: Option<&Secret>,
        _alternate: Option<&Secret>,
        request: &WebhookRequest,
        _now: SystemTime,
    ) -> Result<Verified, WebhookError> {
        let secret = secret.ok_or(WebhookError::MissingSecret {
            setting: "PLIVO_AUTH_TOKEN",
        })?;
        PlivoValidator::new(secret.clone()).validate(request)
    }

    fn sign(
        &self,
        secret: &Secret,
        request: &WebhookRequest,
        nonce: &str,
        _now: SystemTime,
    ) -> Signed {
        let form = request.body_params();
        let signature = sign_v3(secret, &request.method, &request.url, &form, nonce);
        Signed::new(
            request.url.clone(),
            vec![
                (V3_HEADER.to_owned(), signature),
                (V3_NONCE_HEADER.to_owned(), nonce.to_owned()),
            ],
        )
    }
}
