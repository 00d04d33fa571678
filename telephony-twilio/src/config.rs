//! Credentials and settings.

use telephony_core::rest::HttpConfig;
use telephony_core::{ConfigError, Secret, Url};

/// How the REST API is authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// The account's Auth Token.
    AuthToken(Secret),
    /// An API key (`SK…`) and its secret: revocable, the better choice for servers.
    ApiKey {
        /// The key's SID.
        sid: String,
        /// Its secret.
        secret: Secret,
    },
}

/// Everything the Twilio adapter needs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TwilioConfig {
    /// The account SID, `AC` and 32 hex digits.
    pub account_sid: String,
    /// REST credentials.
    pub credentials: Credentials,
    /// The secret webhooks are signed with: the account's primary Auth Token. With an Auth
    /// Token as credentials it is the same one.
    pub webhook_token: Option<Secret>,
    /// The secret of a SharedKey, for webhooks signed HMAC-SHA256 (Twilio's webhook
    /// configuration API).
    pub shared_key_secret: Option<Secret>,
    /// The API's base URL: `https://api.twilio.com`, a regional edge
    /// (`https://api.sydney.au1.twilio.com`), or a fake in tests.
    pub base_url: Url,
    /// Timeouts and retries.
    pub http: HttpConfig,
}

impl TwilioConfig {
    /// The default API host.
    pub const DEFAULT_BASE_URL: &'static str = "https://api.twilio.com";

    /// Settings from an account SID and its Auth Token.
    pub fn new(account_sid: impl Into<String>, auth_token: impl Into<Secret>) -> TwilioConfig {
        let token = auth_token.into();
        TwilioConfig {
            account_sid: account_sid.into(),
            webhook_token: Some(token.clone()),
            credentials: Credentials::AuthToken(token),
            shared_key_secret: None,
            base_url: Url::parse(Self::DEFAULT_BASE_URL).expect("a valid constant URL"),
            http: HttpConfig::default(),
        }
    }

    /// Settings from the environment: `TWILIO_ACCOUNT_SID` and `TWILIO_AUTH_TOKEN`, or
    /// `TWILIO_API_KEY_SID` and `TWILIO_API_KEY_SECRET` (then `TWILIO_AUTH_TOKEN` only signs
    /// webhooks); `TWILIO_EDGE` and `TWILIO_REGION` pick a regional host; `TWILIO_BASE_URL`
    /// overrides the host.
    pub fn from_env() -> Result<TwilioConfig, ConfigError> {
        TwilioConfig::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) over any lookup, for tests and config files.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<TwilioConfig, ConfigError> {
        let var = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let sid = var("TWILIO_ACCOUNT_SID").ok_or_else(|| {
            ConfigError::new(
                "TWILIO_ACCOUNT_SID",
                "not set: the account SID (AC…) from the Twilio console",
            )
        })?;
        let token = var("TWILIO_AUTH_TOKEN").map(Secret::new);
        let key = var("TWILIO_API_KEY_SID");
        let key_secret = var("TWILIO_API_KEY_SECRET").map(Secret::new);
        let mut config = match (key, key_secret, token.clone()) {
            (Some(sid_k), Some(secret), _) => {
                let mut c = TwilioConfig::new(sid, Secret::new(""));
                c.credentials = Credentials::ApiKey { sid: sid_k, secret };
                c.webhook_token = token;
                c
            }
            (Some(_), None, _) => {
                return Err(ConfigError::new(
                    "TWILIO_API_KEY_SECRET",
                    "not set, but TWILIO_API_KEY_SID is: set both, or neither",
                ));
            }
            (None, _, Some(token)) => TwilioConfig::new(sid, token),
            (None, _, None) => {
                return Err(ConfigError::new(
                    "TWILIO_AUTH_TOKEN",
                    "not set: the account's Auth Token (or set TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET)",
                ));
            }
        };
        if let Some(url) = var("TWILIO_BASE_URL") {
            config.base_url = Url::parse(&url).map_err(|e| {
                ConfigError::new("TWILIO_BASE_URL", format!("{url:?} is not a URL: {e}"))
            })?;
        } else {
            config.base_url = regional_base_url(
                var("TWILIO_EDGE").as_deref(),
                var("TWILIO_REGION").as_deref(),
            )?;
        }
        config.validate()?;
        Ok(config)
    }

    /// Uses an API key for REST; `webhook_token` stays as it was.
    pub fn api_key(mut self, sid: impl Into<String>, secret: impl Into<Secret>) -> TwilioConfig {
        self.credentials = Credentials::ApiKey {
            sid: sid.into(),
            secret: secret.into(),
        };
        self
    }

    /// Sets the webhook signing token.
    pub fn webhook_token(mut self, token: impl Into<Secret>) -> TwilioConfig {
        self.webhook_token = Some(token.into());
        self
    }

    /// Sets the SharedKey secret for HMAC-SHA256 webhooks.
    pub fn shared_key_secret(mut self, secret: impl Into<Secret>) -> TwilioConfig {
        self.shared_key_secret = Some(secret.into());
        self
    }

    /// Points the client at another host: a regional edge, a proxy, a fake.
    pub fn base_url(mut self, url: Url) -> TwilioConfig {
        self.base_url = url;
        self
    }

    /// Sets timeouts and retries.
    pub fn http(mut self, http: HttpConfig) -> TwilioConfig {
        self.http = http;
        self
    }

    /// Checks the settings' shapes, without any network call.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !is_sid(&self.account_sid, "AC") {
            return Err(ConfigError::new(
                "TWILIO_ACCOUNT_SID",
                format!(
                    "{:?} is not an account SID: expected AC followed by 32 hex digits",
                    self.account_sid
                ),
            ));
        }
        match &self.credentials {
            Credentials::AuthToken(t) if t.is_empty() => {
                return Err(ConfigError::new("TWILIO_AUTH_TOKEN", "is empty"));
            }
            Credentials::ApiKey { sid, secret } => {
                if !is_sid(sid, "SK") {
                    return Err(ConfigError::new(
                        "TWILIO_API_KEY_SID",
                        format!(
                            "{sid:?} is not an API key SID: expected SK followed by 32 hex digits"
                        ),
                    ));
                }
                if secret.is_empty() {
                    return Err(ConfigError::new("TWILIO_API_KEY_SECRET", "is empty"));
                }
            }
            Credentials::AuthToken(_) => {}
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

/// Twilio's host for an edge and a region, as twilio-python builds it: `api.{edge}.{region}`,
/// the region defaulting to `us1` when only an edge is given.
pub fn regional_base_url(edge: Option<&str>, region: Option<&str>) -> Result<Url, ConfigError> {
    let label_ok =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    for (name, v) in [("TWILIO_EDGE", edge), ("TWILIO_REGION", region)] {
        if let Some(v) = v
            && !label_ok(v)
        {
            return Err(ConfigError::new(name, format!("{v:?} is not a host label")));
        }
    }
    let host = match (edge, region) {
        (None, None) => "api.twilio.com".to_owned(),
        (Some(e), r) => format!("api.{e}.{}.twilio.com", r.unwrap_or("us1")),
        (None, Some(r)) => format!("api.{r}.twilio.com"),
    };
    Url::parse(&format!("https://{host}"))
        .map_err(|e| ConfigError::new("TWILIO_REGION", e.to_string()))
}

/// Whether `s` is a SID with this prefix: two letters and 32 hex digits.
pub(crate) fn is_sid(s: &str, prefix: &str) -> bool {
    s.len() == 34 && s.starts_with(prefix) && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SID: &str = "AC0123456789abcdef0123456789abcdef";

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn from_environment() {
        let c = TwilioConfig::from_lookup(env(&[
            ("TWILIO_ACCOUNT_SID", SID),
            ("TWILIO_AUTH_TOKEN", "tok"),
        ]))
        .unwrap();
        assert_eq!(c.credentials, Credentials::AuthToken(Secret::new("tok")));
        assert_eq!(c.base_url.as_str(), "https://api.twilio.com/");
        let c = TwilioConfig::from_lookup(env(&[
            ("TWILIO_ACCOUNT_SID", SID),
            ("TWILIO_AUTH_TOKEN", "tok"),
            ("TWILIO_API_KEY_SID", "SK0123456789abcdef0123456789abcdef"),
            ("TWILIO_API_KEY_SECRET", "ks"),
            ("TWILIO_EDGE", "sydney"),
            ("TWILIO_REGION", "au1"),
        ]))
        .unwrap();
        assert!(matches!(c.credentials, Credentials::ApiKey { .. }));
        assert_eq!(c.webhook_token, Some(Secret::new("tok")));
        assert_eq!(c.base_url.as_str(), "https://api.sydney.au1.twilio.com/");
    }

    #[test]
    fn config_errors_name_the_variable() {
        let e = TwilioConfig::from_lookup(env(&[])).unwrap_err();
        assert_eq!(e.setting, "TWILIO_ACCOUNT_SID");
        let e = TwilioConfig::from_lookup(env(&[("TWILIO_ACCOUNT_SID", SID)])).unwrap_err();
        assert_eq!(e.setting, "TWILIO_AUTH_TOKEN");
        let e = TwilioConfig::from_lookup(env(&[
            ("TWILIO_ACCOUNT_SID", "AC123"),
            ("TWILIO_AUTH_TOKEN", "t"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("32 hex digits"), "{e}");
        let e = TwilioConfig::from_lookup(env(&[
            ("TWILIO_ACCOUNT_SID", SID),
            ("TWILIO_API_KEY_SID", "SK0123456789abcdef0123456789abcdef"),
        ]))
        .unwrap_err();
        assert_eq!(e.setting, "TWILIO_API_KEY_SECRET");
        let e = TwilioConfig::from_lookup(env(&[
            ("TWILIO_ACCOUNT_SID", SID),
            ("TWILIO_AUTH_TOKEN", "t"),
            ("TWILIO_EDGE", "bad host"),
        ]))
        .unwrap_err();
        assert_eq!(e.setting, "TWILIO_EDGE");
    }

    #[test]
    fn regions() {
        assert_eq!(
            regional_base_url(Some("dublin"), None).unwrap().as_str(),
            "https://api.dublin.us1.twilio.com/"
        );
        assert_eq!(
            regional_base_url(None, Some("ie1")).unwrap().as_str(),
            "https://api.ie1.twilio.com/"
        );
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let c = TwilioConfig::new(SID, "super-secret-token").shared_key_secret("another-secret");
        let text = format!("{c:?}");
        assert!(
            !text.contains("super-secret-token") && !text.contains("another-secret"),
            "{text}"
        );
        assert!(text.contains("[REDACTED]"));
    }
}
