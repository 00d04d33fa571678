//! Credentials and settings.

use std::path::Path;
use std::time::Duration;

use telephony_core::audio::SampleRate;
use telephony_core::rest::HttpConfig;
use telephony_core::{ConfigError, Currency, Secret, Url};

/// Everything the Vonage adapter needs.
///
/// - The Voice API authenticates with a JWT the adapter signs (RS256) with the application's
///   private key: [`application_id`](Self::application_id) and [`private_key`](Self::private_key).
/// - The Numbers and Applications APIs authenticate with the account's API key and secret:
///   needed for [`phone_numbers`](telephony_core::TelephonyProvider::phone_numbers) and
///   [`configure_inbound`](telephony_core::TelephonyProvider::configure_inbound) only.
/// - Signed webhooks are checked with the account's signature secret.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct VonageConfig {
    /// The Voice application's id (a UUID).
    pub application_id: String,
    /// The application's private key, PEM (`-----BEGIN PRIVATE KEY-----`, PKCS#8, as the
    /// dashboard downloads it; PKCS#1 `BEGIN RSA PRIVATE KEY` is accepted too).
    pub private_key: Secret,
    /// The account's API key, for the Numbers and Applications APIs (and to check that a signed
    /// webhook is for this account).
    pub api_key: Option<String>,
    /// The account's API secret.
    pub api_secret: Option<Secret>,
    /// The account's signature secret, which signs webhooks (HS256). Not the API secret.
    pub signature_secret: Option<Secret>,
    /// The Voice API host: `https://api.nexmo.com`, a regional host such as
    /// `https://api-us-3.vonage.com` (the answer webhook's `region_url` names a call's), or a
    /// fake in tests.
    pub base_url: Url,
    /// The Applications API host: `https://api.nexmo.com`, or a fake in tests.
    pub applications_base_url: Url,
    /// The Numbers API host: `https://rest.nexmo.com`, or a fake in tests.
    pub rest_base_url: Url,
    /// Where [`configure_inbound`](telephony_core::TelephonyProvider::configure_inbound) points
    /// the application's event webhook. Unset, the application's event URL is left as it is
    /// (or, when it has none, set to the answer URL, where the answer parser refuses events).
    pub event_url: Option<Url>,
    /// The currency the account is billed in, which Vonage's call records do not state: euros
    /// unless the account was set up otherwise.
    pub currency: Currency,
    /// The L16 rate streams ask for when a [`StreamSpec`](telephony_core::StreamSpec) does not
    /// say: 8, 16 (default) or 24 kHz.
    pub stream_rate: SampleRate,
    /// How long an application JWT is valid (15 minutes, as Vonage's SDKs sign; at most 24 h).
    pub jwt_ttl: Duration,
    /// How far a signed webhook's `iat` may be from now, either way (5 minutes).
    pub webhook_tolerance: Duration,
    /// Whether a signed webhook that carries a payload (a body, or a `GET`'s query) may come
    /// without a `payload_hash` claim (then nothing ties its fields to the signature). Off by
    /// default.
    pub allow_unhashed_payloads: bool,
    /// Timeouts and retries.
    pub http: HttpConfig,
    /// The setting the private key came from, to name it in errors.
    pub(crate) key_setting: &'static str,
}

impl VonageConfig {
    /// The default Voice and Applications API host.
    pub const DEFAULT_BASE_URL: &'static str = "https://api.nexmo.com";
    /// The default Numbers API host.
    pub const DEFAULT_REST_BASE_URL: &'static str = "https://rest.nexmo.com";

    /// Settings from an application id and its private key, PEM text.
    pub fn new(application_id: impl Into<String>, private_key: impl Into<Secret>) -> VonageConfig {
        VonageConfig {
            application_id: application_id.into(),
            private_key: private_key.into(),
            api_key: None,
            api_secret: None,
            signature_secret: None,
            base_url: Url::parse(Self::DEFAULT_BASE_URL).expect("a valid constant URL"),
            applications_base_url: Url::parse(Self::DEFAULT_BASE_URL)
                .expect("a valid constant URL"),
            rest_base_url: Url::parse(Self::DEFAULT_REST_BASE_URL).expect("a valid constant URL"),
            event_url: None,
            currency: Currency::EUR,
            stream_rate: SampleRate::Hz16000,
            jwt_ttl: Duration::from_secs(900),
            webhook_tolerance: Duration::from_secs(300),
            allow_unhashed_payloads: false,
            http: HttpConfig::default(),
            key_setting: "private_key",
        }
    }

    /// Settings from an application id and the path of its private key file (`private.key`).
    pub fn with_key_file(
        application_id: impl Into<String>,
        path: impl AsRef<Path>,
    ) -> Result<VonageConfig, ConfigError> {
        let pem = read_key("private_key", path.as_ref())?;
        Ok(VonageConfig::new(application_id, pem))
    }

    /// Settings from the environment:
    ///
    /// - `VONAGE_APPLICATION_ID` and `VONAGE_PRIVATE_KEY_PATH` (the key file), or
    ///   `VONAGE_PRIVATE_KEY` (the PEM text itself, its base64, or a path);
    /// - optionally `VONAGE_API_KEY` and `VONAGE_API_SECRET` (numbers, inbound set-up),
    ///   `VONAGE_SIGNATURE_SECRET` (signed webhooks), `VONAGE_BASE_URL`,
    ///   `VONAGE_APPLICATIONS_BASE_URL`, `VONAGE_REST_BASE_URL`, `VONAGE_EVENT_URL`,
    ///   `VONAGE_CURRENCY` and `VONAGE_STREAM_RATE` (8000, 16000 or 24000).
    pub fn from_env() -> Result<VonageConfig, ConfigError> {
        VonageConfig::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) over any lookup.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<VonageConfig, ConfigError> {
        let var = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let app = var("VONAGE_APPLICATION_ID").ok_or_else(|| {
            ConfigError::new(
                "VONAGE_APPLICATION_ID",
                "not set: the id of the Voice application in the Vonage dashboard",
            )
        })?;
        let (key, key_setting) = if let Some(path) = var("VONAGE_PRIVATE_KEY_PATH") {
            (
                read_key("VONAGE_PRIVATE_KEY_PATH", Path::new(&path))?,
                "VONAGE_PRIVATE_KEY_PATH",
            )
        } else if let Some(key) = get("VONAGE_PRIVATE_KEY").filter(|k| !k.trim().is_empty()) {
            (inline_key(Secret::new(key))?, "VONAGE_PRIVATE_KEY")
        } else {
            return Err(ConfigError::new(
                "VONAGE_PRIVATE_KEY_PATH",
                "not set: the path of the application's private.key (or put the PEM itself in VONAGE_PRIVATE_KEY)",
            ));
        };
        let mut config = VonageConfig::new(app, key);
        config.key_setting = key_setting;
        config.api_key = var("VONAGE_API_KEY");
        config.api_secret = var("VONAGE_API_SECRET").map(Secret::new);
        config.signature_secret = var("VONAGE_SIGNATURE_SECRET").map(Secret::new);
        for (name, slot) in [
            ("VONAGE_BASE_URL", &mut config.base_url),
            (
                "VONAGE_APPLICATIONS_BASE_URL",
                &mut config.applications_base_url,
            ),
            ("VONAGE_REST_BASE_URL", &mut config.rest_base_url),
        ] {
            if let Some(url) = var(name) {
                *slot = Url::parse(&url)
                    .map_err(|e| ConfigError::new(name, format!("{url:?} is not a URL: {e}")))?;
            }
        }
        if let Some(url) = var("VONAGE_EVENT_URL") {
            config.event_url = Some(Url::parse(&url).map_err(|e| {
                ConfigError::new("VONAGE_EVENT_URL", format!("{url:?} is not a URL: {e}"))
            })?);
        }
        if let Some(c) = var("VONAGE_CURRENCY") {
            config.currency = Currency::new(&c).ok_or_else(|| {
                ConfigError::new(
                    "VONAGE_CURRENCY",
                    format!("{c:?} is not a three-letter currency code"),
                )
            })?;
        }
        if let Some(r) = var("VONAGE_STREAM_RATE") {
            config.stream_rate = match r.as_str() {
                "8000" => SampleRate::Hz8000,
                "16000" => SampleRate::Hz16000,
                "24000" => SampleRate::Hz24000,
                _ => {
                    return Err(ConfigError::new(
                        "VONAGE_STREAM_RATE",
                        format!("{r:?}: Vonage streams L16 at 8000, 16000 or 24000 Hz"),
                    ));
                }
            };
        }
        config.validate()?;
        Ok(config)
    }

    /// Sets the API key and secret (Numbers and Applications APIs).
    pub fn api_credentials(
        mut self,
        api_key: impl Into<String>,
        api_secret: impl Into<Secret>,
    ) -> VonageConfig {
        self.api_key = Some(api_key.into());
        self.api_secret = Some(api_secret.into());
        self
    }

    /// Sets the signature secret that signs webhooks.
    pub fn signature_secret(mut self, secret: impl Into<Secret>) -> VonageConfig {
        self.signature_secret = Some(secret.into());
        self
    }

    /// Points the Voice API at another host (a region's).
    pub fn base_url(mut self, url: Url) -> VonageConfig {
        self.base_url = url;
        self
    }

    /// Points the Applications API at another host.
    pub fn applications_base_url(mut self, url: Url) -> VonageConfig {
        self.applications_base_url = url;
        self
    }

    /// Points the Numbers API at another host.
    pub fn rest_base_url(mut self, url: Url) -> VonageConfig {
        self.rest_base_url = url;
        self
    }

    /// Points the Voice, Applications and Numbers APIs at one server: a fake in tests, or the
    /// emulator.
    pub fn all_hosts(self, url: Url) -> VonageConfig {
        self.base_url(url.clone())
            .applications_base_url(url.clone())
            .rest_base_url(url)
    }

    /// Sets where `configure_inbound` points the event webhook.
    pub fn event_url(mut self, url: Url) -> VonageConfig {
        self.event_url = Some(url);
        self
    }

    /// Sets the account's billing currency.
    pub fn currency(mut self, currency: Currency) -> VonageConfig {
        self.currency = currency;
        self
    }

    /// Sets the default stream rate (8, 16 or 24 kHz).
    pub fn stream_rate(mut self, rate: SampleRate) -> VonageConfig {
        self.stream_rate = rate;
        self
    }

    /// Sets how long application JWTs live.
    pub fn jwt_ttl(mut self, ttl: Duration) -> VonageConfig {
        self.jwt_ttl = ttl;
        self
    }

    /// Sets how far a signed webhook's `iat` may be from now.
    pub fn webhook_tolerance(mut self, tolerance: Duration) -> VonageConfig {
        self.webhook_tolerance = tolerance;
        self
    }

    /// Accepts signed webhooks whose token has no `payload_hash` even when they carry a payload
    /// (off by default: such fields are not covered by the signature). For an integration known
    /// to send tokens without the claim.
    pub fn allow_unhashed_payloads(mut self, allow: bool) -> VonageConfig {
        self.allow_unhashed_payloads = allow;
        self
    }

    /// Sets timeouts and retries.
    pub fn http(mut self, http: HttpConfig) -> VonageConfig {
        self.http = http;
        self
    }

    /// Checks the settings' shapes, without any network call. The private key itself is
    /// parsed when the client is built.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !is_uuid(&self.application_id) {
            return Err(ConfigError::new(
                "VONAGE_APPLICATION_ID",
                format!(
                    "{:?} is not an application id: expected a UUID such as aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab",
                    self.application_id
                ),
            ));
        }
        if self.private_key.is_empty() {
            return Err(ConfigError::new(
                "VONAGE_PRIVATE_KEY_PATH",
                "the key is empty",
            ));
        }
        if self.api_key.is_some() != self.api_secret.is_some() {
            let missing = if self.api_key.is_none() {
                "VONAGE_API_KEY"
            } else {
                "VONAGE_API_SECRET"
            };
            return Err(ConfigError::new(
                missing,
                "not set, while its partner is: the Numbers and Applications APIs need both",
            ));
        }
        if let Some(k) = &self.api_key
            && (k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            return Err(ConfigError::new(
                "VONAGE_API_KEY",
                format!("{k:?} is not an API key: letters and digits, as the dashboard shows it"),
            ));
        }
        if self.signature_secret.as_ref().is_some_and(Secret::is_empty) {
            return Err(ConfigError::new("VONAGE_SIGNATURE_SECRET", "is empty"));
        }
        for (name, url) in [
            ("VONAGE_BASE_URL", &self.base_url),
            ("VONAGE_APPLICATIONS_BASE_URL", &self.applications_base_url),
            ("VONAGE_REST_BASE_URL", &self.rest_base_url),
        ] {
            if !matches!(url.scheme(), "https" | "http") || url.host().is_none() {
                return Err(ConfigError::new(
                    name,
                    format!("{url} is not an http(s) URL with a host"),
                ));
            }
        }
        let ttl = self.jwt_ttl.as_secs();
        if !(30..=86_400).contains(&ttl) {
            return Err(ConfigError::new(
                "jwt_ttl",
                format!("{ttl} s: an application JWT lives from 30 s to 24 h"),
            ));
        }
        Ok(())
    }
}

/// `VONAGE_PRIVATE_KEY`: the PEM itself (its newlines possibly written `\n`, as one line of an
/// env file keeps them), the PEM in base64 (as secret stores often hold it), or a path. The
/// value is never repeated in an error: it may be the key.
fn inline_key(value: Secret) -> Result<Secret, ConfigError> {
    use base64::Engine as _;
    let text = value.expose().trim();
    if text.contains("-----BEGIN") {
        return Ok(Secret::new(text.replace("\\n", "\n")));
    }
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(compact.as_bytes())
        && let Ok(pem) = String::from_utf8(decoded)
        && pem.contains("-----BEGIN")
    {
        return Ok(Secret::new(pem));
    }
    let path = Path::new(text);
    if text.len() < 4096 && path.is_file() {
        return read_key("VONAGE_PRIVATE_KEY", path);
    }
    Err(ConfigError::new(
        "VONAGE_PRIVATE_KEY",
        "is neither a PEM key (-----BEGIN PRIVATE KEY-----), nor one in base64, nor the path of a readable file",
    ))
}

fn read_key(setting: &str, path: &Path) -> Result<Secret, ConfigError> {
    std::fs::read_to_string(path).map(Secret::new).map_err(|e| {
        ConfigError::new(
            setting,
            format!("cannot read the private key at {}: {e}", path.display()),
        )
    })
}

/// Whether `s` is a UUID in its hyphenated form.
pub(crate) fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &str = "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab";

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
        let pem = "-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----";
        let c = VonageConfig::from_lookup(env(&[
            ("VONAGE_APPLICATION_ID", APP),
            ("VONAGE_PRIVATE_KEY", pem),
            ("VONAGE_API_KEY", "abcd1234"),
            ("VONAGE_API_SECRET", "s3cret"),
            ("VONAGE_SIGNATURE_SECRET", "sig"),
            ("VONAGE_STREAM_RATE", "24000"),
            ("VONAGE_CURRENCY", "usd"),
        ]))
        .unwrap();
        assert!(c.private_key.expose().contains("KEY-----\nMIIE\n-----END"));
        assert_eq!(c.stream_rate, SampleRate::Hz24000);
        assert_eq!(c.currency, Currency::USD);
        assert_eq!(
            VonageConfig::from_lookup(env(&[])).unwrap_err().setting,
            "VONAGE_APPLICATION_ID"
        );
        let e = VonageConfig::from_lookup(env(&[("VONAGE_APPLICATION_ID", APP)])).unwrap_err();
        assert_eq!(e.setting, "VONAGE_PRIVATE_KEY_PATH");
        let e = VonageConfig::from_lookup(env(&[
            ("VONAGE_APPLICATION_ID", APP),
            ("VONAGE_PRIVATE_KEY_PATH", "/nonexistent/private.key"),
        ]))
        .unwrap_err();
        assert_eq!(e.setting, "VONAGE_PRIVATE_KEY_PATH");
        assert!(e.reason.contains("/nonexistent/private.key"), "{e}");
        let e = VonageConfig::from_lookup(env(&[
            ("VONAGE_APPLICATION_ID", "app-1"),
            ("VONAGE_PRIVATE_KEY", pem),
        ]))
        .unwrap_err();
        assert!(e.reason.contains("UUID"), "{e}");
        let e = VonageConfig::from_lookup(env(&[
            ("VONAGE_APPLICATION_ID", APP),
            ("VONAGE_PRIVATE_KEY", pem),
            ("VONAGE_API_KEY", "abcd1234"),
        ]))
        .unwrap_err();
        assert_eq!(e.setting, "VONAGE_API_SECRET");
        let e = VonageConfig::from_lookup(env(&[
            ("VONAGE_APPLICATION_ID", APP),
            ("VONAGE_PRIVATE_KEY", pem),
            ("VONAGE_STREAM_RATE", "44100"),
        ]))
        .unwrap_err();
        assert_eq!(e.setting, "VONAGE_STREAM_RATE");
    }

    #[test]
    fn an_inline_key_may_be_base64_and_is_never_echoed() {
        use base64::Engine as _;
        let pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq\n-----END PRIVATE KEY-----\n";
        let b64 = base64::engine::general_purpose::STANDARD.encode(pem);
        let c = VonageConfig::from_lookup(env(&[
            ("VONAGE_APPLICATION_ID", APP),
            ("VONAGE_PRIVATE_KEY", &b64),
        ]))
        .unwrap();
        assert_eq!(c.private_key.expose(), pem);
        assert_eq!(c.key_setting, "VONAGE_PRIVATE_KEY");
        // Base64 of something else, or a mangled key: an error that does not repeat it.
        let mangled = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7-not-a-key";
        let e = VonageConfig::from_lookup(env(&[
            ("VONAGE_APPLICATION_ID", APP),
            ("VONAGE_PRIVATE_KEY", mangled),
        ]))
        .unwrap_err();
        assert_eq!(e.setting, "VONAGE_PRIVATE_KEY");
        assert!(!e.to_string().contains("MIIEvQ"), "{e}");
    }

    #[test]
    fn secrets_never_print() {
        let c = VonageConfig::new(APP, "-----BEGIN PRIVATE KEY-----top-secret-key")
            .api_credentials("abcd1234", "api-secret-value")
            .signature_secret("signature-secret-value");
        let debug = format!("{c:?}");
        for secret in [
            "top-secret-key",
            "api-secret-value",
            "signature-secret-value",
        ] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
    }
}
