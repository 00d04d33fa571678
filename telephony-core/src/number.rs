//! The account's numbers, and where each sends its inbound calls.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::id::E164;

/// A number the account owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PhoneNumber {
    /// The number.
    pub number: E164,
    /// The provider's id for it (Twilio `PN…`), where it has one.
    pub provider_id: Option<String>,
    /// Where inbound calls to it go now (Twilio `VoiceUrl`, or the application's answer URL).
    pub voice_url: Option<String>,
    /// A label.
    pub friendly_name: Option<String>,
    /// Whether it can take voice calls, as the carrier reports it (Twilio
    /// `capabilities.voice`, Plivo `voice_enabled`, Vonage `features`); `None` where the
    /// carrier does not say (Telnyx).
    #[serde(default)]
    pub voice: Option<bool>,
    /// Whether it can take SMS, as the carrier reports it; `None` where it does not say.
    #[serde(default)]
    pub sms: Option<bool>,
}

impl PhoneNumber {
    /// A number with nothing else known.
    pub fn new(number: E164) -> PhoneNumber {
        PhoneNumber {
            number,
            provider_id: None,
            voice_url: None,
            friendly_name: None,
            voice: None,
            sms: None,
        }
    }

    /// Sets what the carrier reports the number can take: voice calls, SMS (`None`: not said).
    pub fn with_features(mut self, voice: Option<bool>, sms: Option<bool>) -> PhoneNumber {
        self.voice = voice;
        self.sms = sms;
        self
    }
}

/// What pointing a number at our webhook did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InboundUpdate {
    /// The number.
    pub number: E164,
    /// The URL its calls went to before, if any.
    pub previous_url: Option<String>,
    /// The URL they go to now.
    pub url: String,
    /// Whether anything had to change.
    pub changed: bool,
    /// Findings worth a log line: the URL had drifted from what we set, the number was not
    /// linked to the application, …
    pub notes: Vec<String>,
}

impl InboundUpdate {
    /// A report.
    pub fn new(
        number: E164,
        previous_url: Option<String>,
        url: impl Into<String>,
        changed: bool,
        notes: Vec<String>,
    ) -> InboundUpdate {
        InboundUpdate {
            number,
            previous_url,
            url: url.into(),
            changed,
            notes,
        }
    }

    /// Whether the number pointed somewhere else before: someone changed it, or it was never
    /// set up.
    pub fn drifted(&self) -> bool {
        self.changed && self.previous_url.is_some()
    }
}

/// One thing [`configure_inbound`](crate::TelephonyProvider::configure_inbound) would find
/// wrong with a number's inbound set-up, read by
/// [`inbound_drift`](crate::TelephonyProvider::inbound_drift) without changing anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Drift {
    /// The number's calls go to `found` (`None`: nowhere), not to the URL asked about;
    /// `configure_inbound` points them there.
    Url {
        /// Where they go now.
        found: Option<String>,
    },
    /// Another setting `configure_inbound` would change: the number not linked to the
    /// application, an event URL missing, a webhook without a method, …
    Setting {
        /// What is wrong and what it would become.
        detail: String,
    },
    /// The carrier sends its webhooks unsigned while this adapter verifies signatures, so it
    /// refuses every one of them. `configure_inbound` reports it but does not change it (the
    /// setting serves more than this number); `fix` says what to turn on, and where.
    Unsigned {
        /// What was found.
        detail: String,
        /// What to do.
        fix: String,
    },
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Drift::Url { found: Some(url) } => write!(f, "its calls go to {url}"),
            Drift::Url { found: None } => f.write_str("its calls go nowhere"),
            Drift::Setting { detail } | Drift::Unsigned { detail, .. } => f.write_str(detail),
        }
    }
}

/// What [`configure_inbound`](crate::TelephonyProvider::configure_inbound) would change or
/// report for a number, read without changing anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InboundDrift {
    /// The number.
    pub number: E164,
    /// Where its calls go now, where the carrier says.
    pub current_url: Option<String>,
    /// What differs; empty when `configure_inbound` would change and report nothing.
    pub drift: Vec<Drift>,
}

impl InboundDrift {
    /// A finding.
    pub fn new(number: E164, current_url: Option<String>, drift: Vec<Drift>) -> InboundDrift {
        InboundDrift {
            number,
            current_url,
            drift,
        }
    }

    /// Whether nothing drifted.
    pub fn is_clean(&self) -> bool {
        self.drift.is_empty()
    }
}
