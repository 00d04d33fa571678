//! Vonage, as the registry knows it.

use std::sync::Arc;
use std::time::SystemTime;

use telephony_core::audio::{AudioFormat, Encoding, SampleRate};
use telephony_core::media::Pacer;
use telephony_core::{
    Carrier, Error, Markup, ProviderKind, Recognition, Secret, Signed, StreamSpec,
    TelephonyProvider, Url, Verified, WebhookError, WebhookRequest, WebhookScheme,
};

use crate::signature::{self, VonageValidator};
use crate::{KIND, Vonage, VonageConfig};

/// Vonage's description (see [`Carrier`]).
#[derive(Debug, Clone, Copy)]
pub struct VonageCarrier;

/// Vonage's description, for the registry.
pub static CARRIER: VonageCarrier = VonageCarrier;

const SETTINGS: &[&str] = &[
    "VONAGE_APPLICATION_ID",
    "VONAGE_PRIVATE_KEY_PATH",
    "VONAGE_PRIVATE_KEY",
    "VONAGE_API_KEY",
    "VONAGE_API_SECRET",
    "VONAGE_SIGNATURE_SECRET",
    "VONAGE_BASE_URL",
    "VONAGE_APPLICATIONS_BASE_URL",
    "VONAGE_REST_BASE_URL",
    "VONAGE_EVENT_URL",
    "VONAGE_STREAM_RATE",
    "VONAGE_CURRENCY",
];

const FORMATS: &[AudioFormat] = &[
    AudioFormat::L16LE_16K,
    AudioFormat::new(Encoding::L16Le, SampleRate::Hz8000),
    AudioFormat::new(Encoding::L16Le, SampleRate::Hz24000),
];

impl Carrier for VonageCarrier {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn settings(&self) -> &'static [&'static str] {
        SETTINGS
    }

    fn settings_prefix(&self) -> &'static str {
        "VONAGE_"
    }

    fn check_settings(
        &self,
        settings: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(), telephony_core::ConfigError> {
        VonageConfig::from_lookup(settings).map(|_| ())
    }

    fn build(
        &self,
        settings: &dyn Fn(&str) -> Option<String>,
        base_url: Option<Url>,
    ) -> Result<Arc<dyn TelephonyProvider>, Error> {
        let mut config = VonageConfig::from_lookup(settings)?;
        if let Some(url) = base_url {
            // One server answers for the Voice, Applications and Numbers hosts.
            config = config.all_hosts(url);
        }
        Ok(Arc::new(Vonage::new(config)?))
    }

    fn recognize(&self, request: &WebhookRequest) -> Recognition {
        let bearer = request
            .header(signature::HEADER)
            .is_some_and(|a| a.len() > 7 && a[..7].eq_ignore_ascii_case("bearer "));
        if bearer {
            return Recognition::BySignature;
        }
        let fields = request.params().get("conversation_uuid").is_some()
            || (request.is_json()
                && serde_json::from_slice::<serde_json::Value>(&request.body)
                    .ok()
                    .is_some_and(|v| {
                        v.get("uuid").is_some() || v.get("conversation_uuid").is_some()
                    }));
        if fields {
            Recognition::ByFields
        } else {
            Recognition::No
        }
    }

    fn pacer(&self) -> Option<Pacer> {
        Some(crate::pacer())
    }

    /// Vonage accepts 3 call creates per second per account, and answers more with HTTP 429 (not queued).
    fn calls_per_second(&self) -> f64 {
        3.0
    }

    fn stream_formats(&self) -> &'static [AudioFormat] {
        FORMATS
    }

    /// The WebSocket is a leg of the call: its `eventUrl` gets the leg's status events.
    fn stream_status_is_call_status(&self) -> bool {
        true
    }

    fn answer_markup(&self, stream: &StreamSpec) -> Result<Markup, Error> {
        let ncco = Vonage::stream_ncco(stream, None, SampleRate::Hz16000)
            .map_err(Error::invalid_request)?;
        Ok(Markup::json(
            ncco.to_json().map_err(Error::invalid_request)?,
        ))
    }

    fn webhooks(&self) -> &dyn WebhookScheme {
        &VonageWebhooks
    }
}

/// `Authorization: Bearer` HS256 tokens with the signature secret.
struct VonageWebhooks;

impl WebhookScheme for VonageWebhooks {
    fn secret_setting(&self) -> &'static str {
        "VONAGE_SIGNATURE_SECRET"
    }

    fn verify(
        &self,
        secret: Option<&Secret>,
        _alternate: Option<&Secret>,
        request: &WebhookRequest,
        now: SystemTime,
    ) -> Result<Verified, WebhookError> {
        let secret = secret.ok_or(WebhookError::MissingSecret {
            setting: "VONAGE_SIGNATURE_SECRET",
        })?;
        VonageValidator::new(secret.clone()).validate(request, now)
    }

    /// The token covers the body's hash (the query's, for a GET without a body); the nonce is
    /// its `jti`.
    fn sign(
        &self,
        secret: &Secret,
        request: &WebhookRequest,
        nonce: &str,
        now: SystemTime,
    ) -> Signed {
        let header = signature::sign_request(
            secret,
            &request.method,
            &request.url,
            &request.body,
            now,
            nonce,
        );
        Signed::new(
            request.url.clone(),
            vec![(signature::HEADER.to_owned(), header)],
        )
    }
}
