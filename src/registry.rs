//! The carriers this build knows: the one list that registers them.

use std::fmt;

use telephony_core::{Carrier, ConfigError};

use crate::config::ProviderConfig;

/// The carriers a host can configure by name: the built-in adapters this build has (by its
/// features), and any the host adds. Configuration, the command line and the emulators learn
/// a carrier from its [`Carrier`] description here; nothing else names one.
///
/// A carrier of the host's own registers the same way, with no edit to this crate:
///
/// ```
/// use telephony::Registry;
///
/// let registry = Registry::builtin(); // .with(&my_crate::CARRIER)
/// assert!(registry.find("twilio").is_some());
/// assert_eq!(registry.find("Twilio").unwrap().kind().name(), "Twilio");
/// ```
#[derive(Clone)]
pub struct Registry {
    carriers: Vec<&'static dyn Carrier>,
}

impl Registry {
    /// The built-in carriers, as this build's features include them.
    pub fn builtin() -> Registry {
        Registry {
            carriers: vec![
                #[cfg(feature = "twilio")]
                &telephony_twilio::CARRIER,
                #[cfg(feature = "plivo")]
                &telephony_plivo::CARRIER,
                #[cfg(feature = "vonage")]
                &telephony_vonage::CARRIER,
                #[cfg(feature = "telnyx")]
                &telephony_telnyx::CARRIER,
            ],
        }
    }

    /// No carrier at all.
    pub fn empty() -> Registry {
        Registry {
            carriers: Vec::new(),
        }
    }

    /// Adds `carrier`, replacing one with the same id.
    pub fn with(mut self, carrier: &'static dyn Carrier) -> Registry {
        self.carriers
            .retain(|c| c.kind().id() != carrier.kind().id());
        self.carriers.push(carrier);
        self
    }

    /// Every carrier, in the order registered.
    pub fn carriers(&self) -> &[&'static dyn Carrier] {
        &self.carriers
    }

    /// The carrier with this id, in any case.
    pub fn find(&self, id: &str) -> Option<&'static dyn Carrier> {
        let id = id.trim();
        self.carriers
            .iter()
            .copied()
            .find(|c| c.kind().id().eq_ignore_ascii_case(id))
    }

    /// The ids, in the order registered.
    pub fn ids(&self) -> Vec<&'static str> {
        self.carriers.iter().map(|c| c.kind().id()).collect()
    }

    /// The carriers whose first setting (the one that marks it as used) `get` has.
    pub fn configured(&self, get: impl Fn(&str) -> Option<String>) -> Vec<&'static dyn Carrier> {
        self.carriers
            .iter()
            .copied()
            .filter(|c| {
                c.settings()
                    .first()
                    .and_then(|mark| get(mark))
                    .is_some_and(|v| !v.trim().is_empty())
            })
            .collect()
    }

    /// The settings of the carrier `id` from a lookup of environment-style names.
    ///
    /// # Errors
    ///
    /// An unknown id (the message lists the known ones), or a missing or malformed setting.
    pub fn config(
        &self,
        id: &str,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<ProviderConfig, ConfigError> {
        let carrier = self.find(id).ok_or_else(|| self.unknown(id))?;
        ProviderConfig::for_carrier(carrier, get)
    }

    pub(crate) fn unknown(&self, id: &str) -> ConfigError {
        ConfigError::new(
            "provider",
            format!("{:?} is not one of {}", id.trim(), self.ids().join(", ")),
        )
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.ids()).finish()
    }
}
