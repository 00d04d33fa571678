//! Telnyx, as the registry knows it.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use telephony_core::audio::AudioFormat;
use telephony_core::{
    Carrier, Error, Markup, ProviderKind, Recognition, Secret, Signed, StreamSpec,
    TelephonyProvider, Url, Verified, WebhookError, WebhookRequest, WebhookScheme,
};

use crate::signature::{self, PublicKey, SIGNATURE_HEADER, SigningKey, TIMESTAMP_HEADER};
use crate::{KIND, Telnyx, TelnyxConfig, events};

/// Telnyx's description (see [`Carrier`]).
#[derive(Debug, Clone, Copy)]
pub struct TelnyxCarrier;

/// Telnyx's description, for the registry.
pub static CARRIER: TelnyxCarrier = TelnyxCarrier;

const SETTINGS: &[&str] = &[
    "TELNYX_API_KEY",
    "TELNYX_CONNECTION_ID",
    "TELNYX_PUBLIC_KEY",
    "TELNYX_BASE_URL",
];

impl Carrier for TelnyxCarrier {
    fn kind(&self) -> ProviderKind {
        KIND
    }

    fn settings(&self) -> &'static [&'static str] {
        SETTINGS
    }

    fn settings_prefix(&self) -> &'static str {
        "TELNYX_"
    }

    fn check_settings(
        &self,
        settings: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(), telephony_core::ConfigError> {
        TelnyxConfig::from_lookup(settings).map(|_| ())
    }

    fn build(
        &self,
        settings: &dyn Fn(&str) -> Option<String>,
        base_url: Option<Url>,
    ) -> Result<Arc<dyn TelephonyProvider>, Error> {
        let mut config = TelnyxConfig::from_lookup(settings)?;
        if let Some(url) = base_url {
            config = config.base_url(url);
        }
        Ok(Arc::new(Telnyx::new(config)?))
    }

    fn recognize(&self, request: &WebhookRequest) -> Recognition {
        if request.header(SIGNATURE_HEADER).is_some() {
            return Recognition::BySignature;
        }
        match events::envelope(&request.body) {
            Ok(e) if e.data.payload.call_control_id.is_some() => Recognition::ByFields,
            _ => Recognition::No,
        }
    }

    /// Telnyx's call resource says only that an ended call ended (`is_alive: false`), not how: busy, unanswered and answered calls read alike.
    fn outcome_by_polling(&self) -> bool {
        false
    }

    fn stream_formats(&self) -> &'static [AudioFormat] {
        crate::media::STREAM_FORMATS
    }

    /// The stream's `streaming.*` events are events of the call, posted to the call's
    /// webhook URL and read by `parse_status_callback`.
    fn stream_status_is_call_status(&self) -> bool {
        true
    }

    fn answer_markup(&self, stream: &StreamSpec) -> Result<Markup, Error> {
        Telnyx::answer_command(stream.url.as_str(), stream)
    }

    fn webhooks(&self) -> &dyn WebhookScheme {
        &TelnyxWebhooks
    }
}

/// Ed25519 over `timestamp|body`: checked with the account's public key, signed (by tools
/// and emulators) with a private key.
struct TelnyxWebhooks;

impl WebhookScheme for TelnyxWebhooks {
    fn secret_setting(&self) -> &'static str {
        "TELNYX_PUBLIC_KEY"
    }

    fn verify(
        &self,
        secret: Option<&Secret>,
        _alternate: Option<&Secret>,
        request: &WebhookRequest,
        now: SystemTime,
    ) -> Result<Verified, WebhookError> {
        let key = secret.ok_or(WebhookError::MissingSecret {
            setting: "TELNYX_PUBLIC_KEY",
        })?;
        signature::verify_request(&PublicKey::from_base64(key.expose())?, request, now)
    }

    /// Signs with `secret` as a private key (its 32-byte seed, base64) at `now`; a secret that
    /// is not a seed signs as a forger would ([`SigningKey::for_signing`]).
    fn sign(
        &self,
        secret: &Secret,
        request: &WebhookRequest,
        _nonce: &str,
        now: SystemTime,
    ) -> Signed {
        let timestamp = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
            .to_string();
        let key = SigningKey::for_signing(secret);
        let headers = vec![
            (TIMESTAMP_HEADER.to_owned(), timestamp.clone()),
            (
                SIGNATURE_HEADER.to_owned(),
                key.sign(&timestamp, &request.body),
            ),
        ];
        Signed::new(request.url.clone(), headers)
    }
}
