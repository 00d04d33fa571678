//! One configuration for any provider, from the environment or a config file, built into
//! `Arc<dyn TelephonyProvider>`.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use telephony_core::{ConfigError, Error, TelephonyProvider, Url};

/// A provider's settings: which provider, and its credentials.
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
/// A missing or malformed setting is an error naming it as the environment spells it:
/// `TWILIO_AUTH_TOKEN: not set: …`.
#[derive(Debug, Clone)]
#[non_exhaustive]
// Built once per process; boxing the variants would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum ProviderConfig {
    /// Twilio.
    #[cfg(feature = "twilio")]
    Twilio(crate::twilio::TwilioConfig),
    /// Plivo.
    #[cfg(feature = "plivo")]
    Plivo(crate::plivo::PlivoConfig),
    /// Vonage.
    #[cfg(feature = "vonage")]
    Vonage(crate::vonage::VonageConfig),
}

/// The provider ids this build knows, for messages.
fn known() -> Vec<&'static str> {
    vec![
        #[cfg(feature = "twilio")]
        "twilio",
        #[cfg(feature = "plivo")]
        "plivo",
        #[cfg(feature = "vonage")]
        "vonage",
    ]
}

impl ProviderConfig {
    /// The settings of `provider` (`twilio`, `plivo` or `vonage`) from the environment.
    pub fn from_env(provider: &str) -> Result<ProviderConfig, ConfigError> {
        ProviderConfig::from_lookup(provider, |name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) over any lookup of environment-style names.
    pub fn from_lookup(
        provider: &str,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<ProviderConfig, ConfigError> {
        let _ = &get;
        match provider.trim().to_ascii_lowercase().as_str() {
            #[cfg(feature = "twilio")]
            "twilio" => Ok(ProviderConfig::Twilio(
                crate::twilio::TwilioConfig::from_lookup(get)?,
            )),
            #[cfg(feature = "plivo")]
            "plivo" => Ok(ProviderConfig::Plivo(
                crate::plivo::PlivoConfig::from_lookup(get)?,
            )),
            #[cfg(feature = "vonage")]
            "vonage" => Ok(ProviderConfig::Vonage(
                crate::vonage::VonageConfig::from_lookup(get)?,
            )),
            other => Err(ConfigError::new(
                "provider",
                format!("{other:?} is not one of {}", known().join(", ")),
            )),
        }
    }

    /// Which provider.
    pub fn kind(&self) -> telephony_core::ProviderKind {
        match self {
            #[cfg(feature = "twilio")]
            ProviderConfig::Twilio(_) => crate::twilio::KIND,
            #[cfg(feature = "plivo")]
            ProviderConfig::Plivo(_) => crate::plivo::KIND,
            #[cfg(feature = "vonage")]
            ProviderConfig::Vonage(_) => crate::vonage::KIND,
        }
    }

    /// Points every API host of the provider at `url`: an emulated carrier, a test server.
    pub fn base_url(self, url: Url) -> ProviderConfig {
        let _ = &url;
        match self {
            #[cfg(feature = "twilio")]
            ProviderConfig::Twilio(c) => ProviderConfig::Twilio(c.base_url(url)),
            #[cfg(feature = "plivo")]
            ProviderConfig::Plivo(c) => ProviderConfig::Plivo(c.base_url(url)),
            #[cfg(feature = "vonage")]
            ProviderConfig::Vonage(c) => ProviderConfig::Vonage(c.all_hosts(url)),
        }
    }

    /// The adapter, checked (for Vonage, the private key is parsed and signs once).
    pub fn build(self) -> Result<Arc<dyn TelephonyProvider>, Error> {
        Ok(match self {
            #[cfg(feature = "twilio")]
            ProviderConfig::Twilio(c) => Arc::new(crate::twilio::Twilio::new(c)?),
            #[cfg(feature = "plivo")]
            ProviderConfig::Plivo(c) => Arc::new(crate::plivo::Plivo::new(c)?),
            #[cfg(feature = "vonage")]
            ProviderConfig::Vonage(c) => Arc::new(crate::vonage::Vonage::new(c)?),
        })
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
                let prefix = format!("{}_", provider.trim().to_ascii_uppercase());
                ProviderConfig::from_lookup(&provider, |name| {
                    let key = name.strip_prefix(&prefix).unwrap_or(name);
                    settings.get(&key.to_ascii_lowercase()).cloned()
                })
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
        let ProviderConfig::Vonage(v) = &c else {
            panic!("vonage")
        };
        assert_eq!(v.stream_rate.hz(), 24000);
        // The key is parsed when built: this one is not a key.
        assert!(c.build().unwrap_err().is_config());
        assert!(serde_json::from_str::<ProviderConfig>(r#"{"auth_token": "x"}"#).is_err());
    }
}
