//! Secrets that never print.

use std::fmt;

/// `url` fit to print: a password in it (`redis://:hunter2@host`, `https://user:pw@…`) and
/// the value of any query parameter that names a credential (`?password=`, `pass`, `token`,
/// `secret`, `key`, `auth`…) replaced by `***`; text that is not a URL is not printed at all
/// (it may be a secret mistyped).
///
/// ```
/// use telephony_core::redact_url;
///
/// assert_eq!(redact_url("redis://:hunter2@10.0.0.5:6379/0"), "redis://:***@10.0.0.5:6379/0");
/// assert_eq!(redact_url("redis+unix:///run/redis.sock?db=1&pass=hunter2"), "redis+unix:///run/redis.sock?db=1&pass=***");
/// assert_eq!(redact_url("sqlite:campaign.db"), "sqlite:campaign.db");
/// assert_eq!(redact_url("hunter2"), "(unparsable URL)");
/// ```
pub fn redact_url(url: &str) -> String {
    const CREDENTIALS: [&str; 7] = ["pass", "password", "token", "secret", "key", "auth", "pwd"];
    let Ok(mut u) = url::Url::parse(url) else {
        return "(unparsable URL)".to_owned();
    };
    if u.password().is_some() {
        let _ = u.set_password(Some("***"));
    }
    if u.query().is_some() {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let lower = k.to_ascii_lowercase();
                let secret = CREDENTIALS.iter().any(|c| lower.contains(c));
                (
                    k.into_owned(),
                    if secret {
                        "***".to_owned()
                    } else {
                        v.into_owned()
                    },
                )
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    u.to_string()
}

/// A credential: an auth token, an API secret, a signature secret, a private key.
///
/// `Debug` and `Display` print `[REDACTED]`, so a secret inside a config struct, an error or a
/// log line never leaks. Read it with [`Secret::expose`], only where it is used.
///
/// ```
/// use telephony_core::Secret;
///
/// let token = Secret::new("hunter2");
/// assert_eq!(format!("{token:?} {token}"), "[REDACTED] [REDACTED]");
/// assert_eq!(token.expose(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Secret {
        Secret(secret.into())
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is empty (a missing credential).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// Secrets are read from configuration files, never written: `Secret` has no `Serialize`.
impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Secret {
        Secret(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Secret {
        Secret(s.to_owned())
    }
}
