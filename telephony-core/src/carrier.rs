//! A carrier, described once by its adapter crate.

use std::sync::Arc;
use std::time::SystemTime;

use telephony_audio::AudioFormat;
use url::Url;

use crate::error::Error;
use crate::markup::{Markup, StreamSpec};
use crate::media::Pacer;
use crate::provider::{ProviderKind, TelephonyProvider};
use crate::secret::Secret;
use crate::webhook::{RequestUrl, Verified, WebhookError, WebhookRequest};

/// Everything outside an adapter needs to know of its carrier: how to build it from settings,
/// how to recognise its webhooks, how its media stream is paced and what it streams, and the
/// webhook tools the command line offers. The adapter crate describes it once (a unit struct
/// and a `static`); the facade's registry lists the built-in ones, and a host registers its
/// own the same way.
///
/// Settings are named as the environment names them (`TWILIO_ACCOUNT_SID`); a configuration
/// file gives them in lower case without the carrier's prefix (`account_sid`), and a key this
/// carrier does not read is refused by name.
pub trait Carrier: Send + Sync + 'static {
    /// Its id (`twilio`) and name (`Twilio`).
    fn kind(&self) -> ProviderKind;

    /// Every setting it reads, as the environment names them. The first is its mark: a host
    /// with it set uses this carrier (`TWILIO_ACCOUNT_SID`).
    fn settings(&self) -> &'static [&'static str];

    /// The prefix of its settings' names (`TWILIO_`), stripped in configuration files.
    fn settings_prefix(&self) -> &'static str;

    /// Checks settings looked up by name, without building anything: every required one
    /// present, every one well formed.
    ///
    /// # Errors
    ///
    /// The first missing or malformed setting, named.
    fn check_settings(
        &self,
        settings: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(), crate::ConfigError>;

    /// Builds the adapter from settings looked up by name, every API host pointed at
    /// `base_url` when one is given (an emulator, a test server, a regional edge).
    ///
    /// # Errors
    ///
    /// A missing or malformed setting, named.
    fn build(
        &self,
        settings: &dyn Fn(&str) -> Option<String>,
        base_url: Option<Url>,
    ) -> Result<Arc<dyn TelephonyProvider>, Error>;

    /// Whether `request` is one of this carrier's webhooks, and how sure that is.
    fn recognize(&self, request: &WebhookRequest) -> Recognition;

    /// What its media stream paces outbound audio with, when it must be paced (Vonage keeps
    /// no buffer of its own); `None` sends at once.
    fn pacer(&self) -> Option<Pacer> {
        None
    }

    /// How many outbound calls an account may create per second by default, as the carrier
    /// documents it: what a campaign paces its creates to unless told otherwise. One where
    /// the carrier publishes no figure.
    fn calls_per_second(&self) -> f64 {
        1.0
    }

    /// Whether polling a call's status by the id its create returned tells how an ended call
    /// ended (busy, no answer, failed, answered). Where it does not (Plivo files an ended call
    /// under an id the create never returned; Telnyx's API says only that the call ended),
    /// the outcome comes from the carrier's webhooks, and a campaign asks for them.
    fn outcome_by_polling(&self) -> bool {
        true
    }

    /// The wire formats its media stream can carry, the default first.
    fn stream_formats(&self) -> &'static [AudioFormat];

    /// Whether the status callback of its media stream ([`StreamSpec::status_callback`])
    /// reports call events, which [`TelephonyProvider::parse_status_callback`] reads, so that
    /// a host can point it at its status webhook (Vonage: the WebSocket leg's events, a
    /// dropped socket as `disconnected`). `false` (the default) where the stream reports
    /// events of a type of its own, which a status webhook would refuse.
    fn stream_status_is_call_status(&self) -> bool {
        false
    }

    /// The document that connects a call to `stream`, without credentials (what
    /// [`TelephonyProvider::answer`] returns).
    ///
    /// # Errors
    ///
    /// A stream the carrier cannot carry (a URL it refuses, a format it does not stream).
    fn answer_markup(&self, stream: &StreamSpec) -> Result<Markup, Error>;

    /// Its webhook signatures, for tools: check one with a secret, or sign a request as the
    /// carrier does.
    fn webhooks(&self) -> &dyn WebhookScheme;
}

/// How sure a carrier is that a request is its webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Recognition {
    /// Not its webhook.
    No,
    /// It carries fields only this carrier sends.
    ByFields,
    /// It carries this carrier's signature header.
    BySignature,
}

/// A carrier's webhook signatures, with the secrets given rather than configured: what
/// `telephony webhook verify` and `sign` run.
pub trait WebhookScheme: Send + Sync {
    /// The setting that holds the signing secret (`TWILIO_AUTH_TOKEN`).
    fn secret_setting(&self) -> &'static str;

    /// The name of a second secret some requests are signed with instead (Twilio's SharedKey
    /// secret), when the scheme has one.
    fn alternate_secret(&self) -> Option<&'static str> {
        None
    }

    /// Checks `request` with `secret` (and `alternate`, where the scheme has one) at `now`.
    ///
    /// # Errors
    ///
    /// Why it does not verify; [`WebhookError::MissingSecret`] when the request needs the
    /// secret that was not given.
    fn verify(
        &self,
        secret: Option<&Secret>,
        alternate: Option<&Secret>,
        request: &WebhookRequest,
        now: SystemTime,
    ) -> Result<Verified, WebhookError>;

    /// Signs `request` as the carrier does, with `nonce` where the scheme uses one, at `now`.
    fn sign(
        &self,
        secret: &Secret,
        request: &WebhookRequest,
        nonce: &str,
        now: SystemTime,
    ) -> Signed;
}

/// What signing a request gives: the headers a genuine request carries, and the URL it is
/// sent to (a scheme may add to it: Twilio's `bodySHA256`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Signed {
    /// Headers, `(name, value)`.
    pub headers: Vec<(String, String)>,
    /// The URL the request goes to, signed.
    pub url: RequestUrl,
}

impl Signed {
    /// Headers for `url`.
    pub fn new(url: RequestUrl, headers: Vec<(String, String)>) -> Signed {
        Signed { headers, url }
    }
}
