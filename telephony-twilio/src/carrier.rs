//! Twilio, as the registry knows it.

use std::sync::Arc;
use std::time::SystemTime;

use telephony_core::audio::AudioFormat;
use telephony_core::{
    Carrier, Error, Markup, ProviderKind, Recognition, Secret, Signed, StreamSpec,
    TelephonyProvider, Url, Verified, WebhookError, WebhookRequest, WebhookScheme,
};

use crate::signature::{RequestValidator, SIGNATURE_HEADER, sign_request};
use crate::{KIND, Twilio, TwilioConfig};

/// Twilio's description (see [`Carrier`]).
#[derive(Debug, Clone, Copy)]
pub struct TwilioCarrier;

/// Twilio's description, for the registry.
pub static CARRIER: TwilioCarrier = TwilioCarrier;

const SETTINGS: &[&str] = &[
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_API_KEY_SID",
    "TWILIO_API_KEY_SECRET",
    "TWILIO_EDGE",
    "TWILIO_REGION",
    "TWILIO_BASE_URL",
];

impl Carrier for TwilioCarrier {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn settings(&self) -> &'static [&'static str] {
        SETTINGS
    }

    fn settings_prefix(&self) -> &'static str {
        "TWILIO_"
    }

    fn check_settings(
        &self,
        settings: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(), telephony_core::ConfigError> {
        TwilioConfig::from_lookup(settings).map(|_| ())
    }

    fn build(
        &self,
        settings: &dyn Fn(&str) -> Option<String>,
        base_url: Option<Url>,
    ) -> Result<Arc<dyn TelephonyProvider>, Error> {
        let mut config = TwilioConfig::from_lookup(settings)?;
        if let Some(url) = base_url {
            config = config.base_url(url);
        }
        Ok(Arc::new(Twilio::new(config)?))
    }

    fn recognize(&self, request: &WebhookRequest) -> Recognition {
        if request.header(SIGNATURE_HEADER).is_some() {
            return Recognition::BySignature;
        }
        let params = request.params();
        if params.get("CallSid").is_some() || params.get("AccountSid").is_some() {
            return Recognition::ByFields;
        }
        Recognition::No
    }

    fn stream_formats(&self) -> &'static [AudioFormat] {
        &[AudioFormat::MULAW_8K]
    }

    fn answer_markup(&self, stream: &StreamSpec) -> Result<Markup, Error> {
        Ok(Markup::xml(
            Twilio::stream_twiml(stream).map_err(Error::invalid_request)?,
        ))
    }

    fn webhooks(&self) -> &dyn WebhookScheme {
        &TwilioWebhooks
    }
}

/// `X-Twilio-Signature`, with the Auth Token or a SharedKey secret.
struct TwilioWebhooks;

impl WebhookScheme for TwilioWebhooks {
    fn secret_setting(&self) -> &'static str {
        "TWILIO_AUTH_TOKEN"
    }

    fn alternate_secret(&self) -> Option<&'static str> {
        Some("the SharedKey secret of HMAC-SHA256 webhooks")
    }

    fn verify(
        &self,
        secret: Option<&Secret>,
        alternate: Option<&Secret>,
        request: &WebhookRequest,
        _now: SystemTime,
    ) -> Result<Verified, WebhookError> {
        let validator = match (secret, alternate) {
            (Some(token), Some(key)) => {
                RequestValidator::new(token.clone()).with_shared_key(key.clone())
            }
            (Some(token), None) => RequestValidator::new(token.clone()),
            (None, Some(key)) => RequestValidator::shared_key_only(key.clone()),
            (None, None) => {
                return Err(WebhookError::MissingSecret {
                    setting: "TWILIO_AUTH_TOKEN",
                });
            }
        };
        validator.validate(request)
    }

    fn sign(
        &self,
        secret: &Secret,
        request: &WebhookRequest,
        nonce: &str,
        _now: SystemTime,
    ) -> Signed {
        let json = request.method == http::Method::POST && !request.is_form();
        let form = if json || request.method == http::Method::GET {
            Default::default()
        } else {
            request.body_params()
        };
        let pairs: Vec<(&str, &str)> = form.iter().collect();
        let (url, signature) = sign_request(
            secret,
            &request.url,
            &pairs,
            json.then_some(request.body.as_ref()),
        );
        // Twilio's signature has no nonce (its idempotency header is not signed).
        let _ = nonce;
        Signed::new(url, vec![(SIGNATURE_HEADER.to_owned(), signature)])
    }
}
