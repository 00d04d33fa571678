//! Credentials and settings.

use telephony_core::rest::HttpConfig;
use telephony_core::{ConfigError, Secret, Url};

use crate::signature::PublicKey;

/// Everything the Telnyx adapter needs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TelnyxConfig {
    /// The API key (v2, `KEY…`), sent as a bearer token.
    pub api_key: Secret,
    /// The Call Control application's id: outbound calls are placed through it, and the
    /// numbers it answers point at it.
    pub connection_id: String,
    /// The account's public key, which every webhook verifies with (Mission Control, Keys &
    /// Credentials). Without it, webhooks cannot be verified.
    pub public_key: Option<PublicKey>,
    /// The API's base URL: `https://api.telnyx.com/v2`, or a fake in tests.
    pub base_url: Url,
    /// Timeouts and retries.
    pub http: HttpConfig,
}

impl TelnyxConfig {
    /// The default API base.
    pub const DEFAULT_BASE_URL: &'static str = "https://api.telnyx.com/v2/";

    /// Settings from an API key and a Call Control application id.
    pub fn new(api_key: impl Into<Secret>, connection_id: impl Into<String>) -> TelnyxConfig {
        TelnyxConfig {
            api_key: api_key.into(),
            connection_id: connection_id.into(),
            public_key: None,
            base_url: Url::parse(Self::DEFAULT_BASE_URL).expect("a valid constant URL"),
            http: HttpConfig::default(),
        }
    }

    /// Settings from the environment: `TELNYX_API_KEY`, `TELNYX_CONNECTION_ID`,
    /// `TELNYX_PUBLIC_KEY` (to verify webhooks) and `TELNYX_BASE_URL` (to override the API).
    ///
    /// # Errors
    ///
    /// A missing or malformed setting, named.
    pub fn from_env() -> Result<TelnyxConfig, ConfigError> {
        TelnyxConfig::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) over any lookup, for tests and config files.
    ///
    /// # Errors
    ///
    /// A missing or malformed setting, named.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<TelnyxConfig, ConfigError> {
        let var = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let key = var("TELNYX_API_KEY").ok_or_else(|| {
            ConfigError::new(
                "TELNYX_API_KEY",
                "not set: an API key (v2) from Mission Control, Keys & Credentials",
            )
        })?;
        let connection = var("TELNYX_CONNECTION_ID").ok_or_else(|| {
            ConfigError::new(
                "TELNYX_CONNECTION_ID",
                "not set: the id of the Call Control application calls go through",
            )
        })?;
        let mut config = TelnyxConfig::new(Secret::new(key), connection);
        if let Some(key) = var("TELNYX_PUBLIC_KEY") {
            config.public_key = Some(PublicKey::from_base64(&key).map_err(|e| {
                ConfigError::new(
                    "TELNYX_PUBLIC_KEY",
                    format!("{e} (expected the base64 public key Mission Control shows)"),
                )
            })?);
        }
        if let Some(url) = var("TELNYX_BASE_URL") {
            config.base_url = Url::parse(&url).map_err(|e| {
                ConfigError::new("TELNYX_BASE_URL", format!("{url:?} is not a URL: {e}"))
            })?;
        }
        config.validate()?;
        Ok(config)
    }

    /// Sets the public key webhooks verify with.
    pub fn public_key(mut self, key: PublicKey) -> TelnyxConfig {
        self.public_key = Some(key);
        self
    }

    /// Points the client at another base URL (a proxy, a fake). Requests go to paths under
    /// it: `{base}/calls`, `{base}/phone_numbers`.
    pub fn base_url(mut self, url: Url) -> TelnyxConfig {
        self.base_url = url;
        self
    }

    /// Sets timeouts and retries.
    pub fn http(mut self, http: HttpConfig) -> TelnyxConfig {
        self.http = http;
        self
    }

    /// Checks the settings' shapes, without any network call.
    ///
    /// # Errors
    ///
    /// The first setting that cannot be right, named.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.api_key.is_empty() {
            return Err(ConfigError::new("TELNYX_API_KEY", "is empty"));
        }
        if self.api_key.expose().bytes().any(|b| !b.is_ascii_graphic()) {
            return Err(ConfigError::new(
                "TELNYX_API_KEY",
                "has spaces or characters a bearer token cannot carry",
            ));
        }
        if self.connection_id.is_empty()
            || !self
                .connection_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(ConfigError::new(
                "TELNYX_CONNECTION_ID",
                format!(
                    "{:?} is not an application id (letters, digits, - and _)",
                    self.connection_id
                ),
            ));
        }
        if !matches!(self.base_url.scheme(), "https" | "http") || self.base_url.host().is_none() {
            return Err(ConfigError::new(
                "TELNYX_BASE_URL",
                format!("{} is not an http(s) URL with a host", self.base_url),
            ));
        }
        Ok(())
    }

    /// `segments` under the base URL, each one percent-encoded as a path segment as
    /// Telnyx's SDK does (`:` and `@` stay, a `/` in an id is `%2F`).
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base_url.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn from_environment_and_errors_name_the_setting() {
        let c = TelnyxConfig::from_lookup(env(&[
            ("TELNYX_API_KEY", "KEY0123"),
            ("TELNYX_CONNECTION_ID", "1684641123236054244"),
            (
                "TELNYX_PUBLIC_KEY",
                "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
            ),
        ]))
        .unwrap();
        assert_eq!(
            c.url(&["calls"]).as_str(),
            "https://api.telnyx.com/v2/calls"
        );
        assert!(c.public_key.is_some());
        let e = TelnyxConfig::from_lookup(env(&[])).unwrap_err();
        assert_eq!(e.setting, "TELNYX_API_KEY");
        let e = TelnyxConfig::from_lookup(env(&[("TELNYX_API_KEY", "KEY")])).unwrap_err();
        assert_eq!(e.setting, "TELNYX_CONNECTION_ID");
        let e = TelnyxConfig::from_lookup(env(&[
            ("TELNYX_API_KEY", "KEY"),
            ("TELNYX_CONNECTION_ID", "1"),
            ("TELNYX_PUBLIC_KEY", "short"),
        ]))
        .unwrap_err();
        assert_eq!(e.setting, "TELNYX_PUBLIC_KEY");
    }

    #[test]
    fn a_base_url_without_a_slash_keeps_its_path() {
        let c = TelnyxConfig::new("KEY", "1").base_url("http://127.0.0.1:9/v2".parse().unwrap());
        assert_eq!(
            c.url(&["calls", "v3:a/b", "actions", "hangup"]).as_str(),
            "http://127.0.0.1:9/v2/calls/v3:a%2Fb/actions/hangup"
        );
    }

    #[test]
    fn the_api_key_never_prints() {
        let c = TelnyxConfig::new("KEYsecret", "1");
        assert!(!format!("{c:?}").contains("KEYsecret"));
    }
}
