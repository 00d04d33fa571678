//! One configuration for any provider, from the environment or a config file, built into
//! `Arc<dyn TelephonyProvider>`.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use telephony_core::{Carrier, ConfigError, Error, TelephonyProvider, Url};

use crate::registry::Registry;

/// A provider's settings: which carrier, and its settings as read.
///
/// From the environment, with the variables the command line uses (`TWILIO_ACCOUNT_SID`,
/// `PLIVO_AUTH_ID`, `VONAGE_APPLICATION_ID`, …); or from any serde format, as the provider
/// and the same settings in lower case without the provider's prefix:
///
/// ```
/// use telephony::ProviderConfig;
///
/// let config: ProviderConfig = serde_json::from_str(r#"{
///     "provider": "twilio",
///     "account_sid": "AC0123456789abcdef0123456789abcdef",
///     "auth_token": "token"
/// }"#)?;
/// assert_eq!(config.kind().id(), "twilio");
/// let provider = config.build()?; // Arc<dyn TelephonyProvider>
/// assert_eq!(provider.kind().name(), "Twilio");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A missing or malformed setting is an error naming it as the environment spells it
/// (`TWILIO_AUTH_TOKEN: not set: …`), and so is a key the carrier does not read. The carriers
/// are those of [`Registry::builtin`]; [`Registry::config`] reads one of any registry.
#[derive(Clone)]
pub struct ProviderConfig {
    carrier: &'static dyn Carrier,
    settings: BTreeMap<&'static str, String>,
    base_url: Option<Url>,
}

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The names only: values hold credentials.
        f.debug_struct("ProviderConfig")
            .field("provider", &self.carrier.kind().id())
            .field("settings", &self.settings.keys().collect::<Vec<_>>())
            .field("base_url", &self.base_url.as_ref().map(Url::as_str))
            .finish()
    }
}

impl ProviderConfig {
    /// The settings of `provider` (`twilio`, `plivo`, `vonage`, … as [`Registry::builtin`]
    /// has them) from the environment.
    ///
    /// # Errors
    ///
    /// An unknown provider, or a missing or malformed setting.
    pub fn from_env(provider: &str) -> Result<ProviderConfig, ConfigError> {
        ProviderConfig::from_lookup(provider, |name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) over any lookup of environment-style names.
    ///
    /// # Errors
    ///
    /// As [`from_env`](Self::from_env).
    pub fn from_lookup(
        provider: &str,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<ProviderConfig, ConfigError> {
        Registry::builtin().config(provider, get)
    }

    /// `carrier`'s settings from a lookup: every setting it reads, checked.
    pub(crate) fn for_carrier(
        carrier: &'static dyn Carrier,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<ProviderConfig, ConfigError> {
        let settings: BTreeMap<&'static str, String> = carrier
            .settings()
            .iter()
            .filter_map(|&name| get(name).map(|v| (name, v)))
            .collect();
        carrier.check_settings(&|name| settings.get(name).cloned())?;
        Ok(ProviderConfig {
            carrier,
            settings,
            base_url: None,
        })
    }

    /// Which provider.
    pub fn kind(&self) -> telephony_core::ProviderKind {
        self.carrier.kind()
    }

    /// Its carrier's description.
    pub fn carrier(&self) -> &'static dyn Carrier {
        self.carrier
    }

    /// Points every API host of the provider at `url`: an emulated carrier, a test server.
    pub fn base_url(mut self, url: Url) -> ProviderConfig {
        self.base_url = Some(url);
        self
    }

    /// The adapter, checked (for Vonage, the private key is parsed and signs once).
    ///
    /// # Errors
    ///
    /// What the adapter refuses to be built with.
    pub fn build(self) -> Result<Arc<dyn TelephonyProvider>, Error> {
        let settings = self.settings;
        self.carrier
            .build(&|name| settings.get(name).cloned(), self.base_url)
    }

    /// A configuration file's keys: each the carrier's setting in lower case without its
    /// prefix (`account_sid` for `TWILIO_ACCOUNT_SID`), or the setting's own name.
    fn from_keys(
        registry: &Registry,
        provider: &str,
        keys: BTreeMap<String, String>,
    ) -> Result<ProviderConfig, ConfigError> {
        let carrier = registry
            .find(provider)
            .ok_or_else(|| registry.unknown(provider))?;
        let prefix = carrier.settings_prefix();
        let name_of = |key: &str| {
            let upper = key.to_ascii_uppercase();
            carrier
                .settings()
                .iter()
                .copied()
                .find(|&s| s == upper || s.strip_prefix(prefix) == Some(upper.as_str()))
        };
        let unknown: Vec<&str> = keys
            .keys()
            .map(String::as_str)
            .filter(|k| name_of(k).is_none())
            .collect();
        if !unknown.is_empty() {
            let known: Vec<String> = carrier
                .settings()
                .iter()
                .map(|s| s.strip_prefix(prefix).unwrap_or(s).to_ascii_lowercase())
                .collect();
            return Err(ConfigError::new(
                unknown.join(", "),
                format!(
                    "not a {} setting; it reads {}",
                    carrier.kind().name(),
                    known.join(", ")
                ),
            ));
        }
        let by_name: BTreeMap<&'static str, String> = keys
            .into_iter()
            .filter_map(|(k, v)| name_of(&k).map(|n| (n, v)))
            .collect();
        ProviderConfig::for_carrier(carrier, |name| by_name.get(name).cloned())
    }
}

/// A setting's value as a config file writes it: text, a number or a boolean.
struct Setting(String);

impl<'de> serde::Deserialize<'de> for Setting {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Setting, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Setting;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, a number or a boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Setting, E> {
                Ok(Setting(v.to_owned()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Setting, E> {
                Ok(Setting(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Setting, E> {
                Ok(Setting(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Setting, E> {
                Ok(Setting(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Setting, E> {
                Ok(Setting(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> serde::Deserialize<'de> for ProviderConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ProviderConfig, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ProviderConfig;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a provider's settings: {\"provider\": \"twilio\", …}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ProviderConfig, A::Error> {
                let mut settings: BTreeMap<String, String> = BTreeMap::new();
                while let Some((k, Setting(v))) = map.next_entry::<String, Setting>()? {
                    settings.insert(k.to_ascii_lowercase(), v);
                }
                let provider = settings
                    .remove("provider")
                    .ok_or_else(|| de::Error::missing_field("provider"))?;
                ProviderConfig::from_keys(&Registry::builtin(), &provider, settings)
                    .map_err(de::Error::custom)
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_a_lookup_and_from_json_with_the_same_errors() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let c = ProviderConfig::from_lookup(
            "plivo",
            env(&[
                ("PLIVO_AUTH_ID", "MAXXXXXXXXXXXXXXXXX1"),
                ("PLIVO_AUTH_TOKEN", "t"),
            ]),
        )
        .unwrap();
        assert_eq!(c.kind().id(), "plivo");
        let e = ProviderConfig::from_lookup("twilio", env(&[])).unwrap_err();
        assert_eq!(e.setting, "TWILIO_ACCOUNT_SID");
        let e = ProviderConfig::from_lookup("skype", env(&[])).unwrap_err();
        assert!(e.to_string().contains("twilio, plivo, vonage"), "{e}");

        let e = serde_json::from_str::<ProviderConfig>(
            r#"{"provider": "twilio", "account_sid": "AC0123456789abcdef0123456789abcdef"}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("TWILIO_AUTH_TOKEN"), "{e}");
        let c: ProviderConfig = serde_json::from_str(
            r#"{"provider": "Vonage", "application_id": "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",
                "private_key": "-----BEGIN PRIVATE KEY-----\nX\n-----END PRIVATE KEY-----",
                "stream_rate": 24000}"#,
        )
        .unwrap();
        assert_eq!(c.kind().id(), "vonage");
        // The key is parsed when built: this one is not a key.
        assert!(c.build().unwrap_err().is_config());
        assert!(serde_json::from_str::<ProviderConfig>(r#"{"auth_token": "x"}"#).is_err());
        // A key the carrier does not read is refused by name, with what it reads.
        let e = serde_json::from_str::<ProviderConfig>(
            r#"{"provider": "twilio", "account_sid": "AC0123456789abcdef0123456789abcdef",
                "auth_token": "t", "auth_tokn": "typo"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("auth_tokn") && e.contains("auth_token"), "{e}");
    }
}
