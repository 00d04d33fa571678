//! Credentials and settings.

use telephony_core::rest::HttpConfig;
use telephony_core::{ConfigError, Secret, Url};

/// The byte order of L16 audio on Plivo's stream. Plivo does not document it; implementations
/// that work in production use little-endian, the default here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ByteOrder {
    /// Little-endian (the default).
    #[default]
    Little,
    /// Big-endian (network order, as RFC 3551 L16).
    Big,
}

/// Everything the Plivo adapter needs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PlivoConfig {
    /// The Auth ID: `MA` (or `SA` for a subaccount) and 18 more letters and digits.
    pub auth_id: String,
    /// The Auth Token: REST credentials and the webhook signing key.
    pub auth_token: Secret,
    /// The application inbound calls are answered by (`configure_inbound` points it at our
    /// webhook and links numbers to it).
    pub app_id: Option<String>,
    /// The API host: `https://api.plivo.com`, or a fake in tests.
    pub base_url: Url,
    /// L16 byte order on the audio stream.
    pub l16_byte_order: ByteOrder,
    /// Whether webhooks signed only with Plivo's older V2 scheme (which signs neither the
    /// query nor the body) are accepted. Off by default: V3 only.
    pub accept_v2_signatures: bool,
    /// Timeouts and retries.
    pub http: HttpConfig,
}

impl PlivoConfig {
    /// The default API host.
    pub const DEFAULT_BASE_URL: &'static str = "https://api.plivo.com";

    /// Settings from an Auth ID and its Auth Token.
    pub fn new(auth_id: impl Into<String>, auth_token: impl Into<Secret>) -> PlivoConfig {
        PlivoConfig {
            auth_id: auth_id.into(),
            auth_token: auth_token.into(),
            app_id: None,
            base_url: Url::parse(Self::DEFAULT_BASE_URL).expect("a valid constant URL"),
            l16_byte_order: ByteOrder::Little,
            accept_v2_signatures: false,
            http: HttpConfig::default(),
        }
    }

    /// Settings from the environment: `PLIVO_AUTH_ID`, `PLIVO_AUTH_TOKEN`, and optionally
    /// `PLIVO_APP_ID`, `PLIVO_BASE_URL`, `PLIVO_L16_BYTE_ORDER` (`little` or `big`) and
    /// `PLIVO_ACCEPT_V2_SIGNATURES` (`true` or `false`, the default).
    pub fn from_env() -> Result<PlivoConfig, ConfigError> {
        PlivoConfig::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) over any lookup.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<PlivoConfig, ConfigError> {
        let var = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let id = var("PLIVO_AUTH_ID").ok_or_else(|| {
            ConfigError::new(
                "PLIVO_AUTH_ID",
                "not set: the Auth ID (MA…) from the Plivo console",
            )
        })?;
        let token = var("PLIVO_AUTH_TOKEN").ok_or_else(|| {
            ConfigError::new(
                "PLIVO_AUTH_TOKEN",
                "not set: the Auth Token from the Plivo console",
            )
        })?;
        let mut config = PlivoConfig::new(id, token);
        config.app_id = var("PLIVO_APP_ID");
        if let Some(url) = var("PLIVO_BASE_URL") {
            config.base_url = Url::parse(&url).map_err(|e| {
                ConfigError::new("PLIVO_BASE_URL", format!("{url:?} is not a URL: {e}"))
            })?;
        }
        if let Some(order) = var("PLIVO_L16_BYTE_ORDER") {
            config.l16_byte_order = match order.to_ascii_lowercase().as_str() {
                "little" | "le" => ByteOrder::Little,
                "big" | "be" => ByteOrder::Big,
                _ => {
                    return Err(ConfigError::new(
                        "PLIVO_L16_BYTE_ORDER",
                        format!("{order:?}: expected little or big"),
                    ));
                }
            };
        }
        if let Some(v2) = var("PLIVO_ACCEPT_V2_SIGNATURES") {
            config.accept_v2_signatures = match v2.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                _ => {
                    return Err(ConfigError::new(
                        "PLIVO_ACCEPT_V2_SIGNATURES",
                        format!("{v2:?}: expected true or false"),
                    ));
                }
            };
        }
        config.validate()?;
        Ok(config)
    }

    /// Accepts (or not, the default) webhooks signed only with Plivo's V2 scheme, which signs
    /// neither the query nor the body: for an application Plivo still signs that way.
    pub fn accept_v2_signatures(mut self, accept: bool) -> PlivoConfig {
        self.accept_v2_signatures = accept;
        self
    }

    /// Sets the application inbound calls use.
    pub fn app_id(mut self, app_id: impl Into<String>) -> PlivoConfig {
        self.app_id = Some(app_id.into());
        self
    }

    /// Points the client at another host.
    pub fn base_url(mut self, url: Url) -> PlivoConfig {
        self.base_url = url;
        self
    }

    /// Sets the L16 byte order of the audio stream.
    pub fn l16_byte_order(mut self, order: ByteOrder) -> PlivoConfig {
        self.l16_byte_order = order;
        self
    }

    /// Sets timeouts and retries.
    pub fn http(mut self, http: HttpConfig) -> PlivoConfig {
        self.http = http;
        self
    }

    /// Checks the settings' shapes, without any network call.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let id = &self.auth_id;
        let shape_ok = id.len() == 20
            && (id.starts_with("MA") || id.starts_with("SA"))
            && id
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if !shape_ok {
            return Err(ConfigError::new(
                "PLIVO_AUTH_ID",
                format!(
                    "{id:?} is not an Auth ID: expected MA or SA followed by 18 capital letters and digits"
                ),
            ));
        }
        if self.auth_token.is_empty() {
            return Err(ConfigError::new("PLIVO_AUTH_TOKEN", "is empty"));
        }
        if let Some(app) = &self.app_id
            && (app.is_empty() || !app.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        {
            return Err(ConfigError::new(
                "PLIVO_APP_ID",
                format!("{app:?} is not an application id"),
            ));
        }
        if !matches!(self.base_url.scheme(), "https" | "http") || self.base_url.host().is_none() {
            return Err(ConfigError::new(
                "base_url",
                format!("{} is not an http(s) URL with a host", self.base_url),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "MAXXXXXXXXXXXXXXXXX1";

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn from_environment_and_errors() {
        let c = PlivoConfig::from_lookup(env(&[
            ("PLIVO_AUTH_ID", ID),
            ("PLIVO_AUTH_TOKEN", "tok"),
            ("PLIVO_APP_ID", "12345678901234567"),
            ("PLIVO_L16_BYTE_ORDER", "big"),
        ]))
        .unwrap();
        assert_eq!(c.app_id.as_deref(), Some("12345678901234567"));
        assert_eq!(c.l16_byte_order, ByteOrder::Big);
        assert_eq!(
            PlivoConfig::from_lookup(env(&[])).unwrap_err().setting,
            "PLIVO_AUTH_ID"
        );
        assert_eq!(
            PlivoConfig::from_lookup(env(&[("PLIVO_AUTH_ID", ID)]))
                .unwrap_err()
                .setting,
            "PLIVO_AUTH_TOKEN"
        );
        let e = PlivoConfig::from_lookup(env(&[
            ("PLIVO_AUTH_ID", "MA123"),
            ("PLIVO_AUTH_TOKEN", "t"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("18 capital letters"), "{e}");
        let e = PlivoConfig::from_lookup(env(&[
            ("PLIVO_AUTH_ID", ID),
            ("PLIVO_AUTH_TOKEN", "t"),
            ("PLIVO_L16_BYTE_ORDER", "middle"),
        ]))
        .unwrap_err();
        assert_eq!(e.setting, "PLIVO_L16_BYTE_ORDER");
    }

    #[test]
    fn the_token_never_prints() {
        let c = PlivoConfig::new(ID, "super-secret-token");
        assert!(!format!("{c:?}").contains("super-secret-token"));
    }
}
