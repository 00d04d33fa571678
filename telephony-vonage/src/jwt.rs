//! The application JWT that authenticates Voice API requests: RS256 with the application's
//! private key, cached and renewed before it expires.

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde::{Deserialize, Serialize};
use telephony_core::{ConfigError, Secret};

/// The claims of an application JWT, as Vonage's SDKs sign them: `application_id`, `iat`, a
/// fresh `jti` (UUID v4) and `exp` (`iat` + the lifetime). No `nbf`: a token is usable at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AppClaims {
    /// The application.
    pub application_id: String,
    /// Issued at, Unix seconds.
    pub iat: u64,
    /// A unique id.
    pub jti: String,
    /// Expiry, Unix seconds.
    pub exp: u64,
}

struct Cached {
    token: Secret,
    iat: u64,
    exp: u64,
}

/// Signs application JWTs and keeps the current one: a token is reused until less than a third
/// of its life remains (or the clock went back), then replaced, so requests never carry one
/// about to expire and the key signs once per few minutes, not per request.
pub struct AppJwt {
    application_id: String,
    key: EncodingKey,
    ttl: Duration,
    cached: Mutex<Option<Cached>>,
}

impl fmt::Debug for AppJwt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppJwt")
            .field("application_id", &self.application_id)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl AppJwt {
    /// A signer for `application_id` with its private key (PEM), issuing tokens that live
    /// `ttl` (30 s to 24 h). A key that is not an RSA private key fails here, with what to do
    /// about it.
    pub fn new(
        application_id: impl Into<String>,
        private_key: &Secret,
        ttl: Duration,
    ) -> Result<AppJwt, ConfigError> {
        AppJwt::with_setting(application_id, private_key, ttl, "private_key")
    }

    /// [`new`](Self::new), naming `setting` (the environment variable the key came from) in
    /// errors.
    pub(crate) fn with_setting(
        application_id: impl Into<String>,
        private_key: &Secret,
        ttl: Duration,
        setting: &str,
    ) -> Result<AppJwt, ConfigError> {
        if !(30..=86_400).contains(&ttl.as_secs()) {
            return Err(ConfigError::new(
                "jwt_ttl",
                format!(
                    "{} s: an application JWT lives from 30 s to 24 h",
                    ttl.as_secs()
                ),
            ));
        }
        let pem = private_key.expose().trim();
        if pem.contains("BEGIN ENCRYPTED PRIVATE KEY") {
            return Err(ConfigError::new(
                setting,
                "the private key is encrypted: decrypt it first (openssl pkcs8 -in private.key -out plain.key)",
            ));
        }
        if !pem.contains("-----BEGIN PRIVATE KEY-----")
            && !pem.contains("-----BEGIN RSA PRIVATE KEY-----")
        {
            return Err(ConfigError::new(
                setting,
                "not a PEM private key: expected -----BEGIN PRIVATE KEY----- (PKCS#8), as the Vonage dashboard downloads private.key",
            ));
        }
        let key = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| {
            ConfigError::new(
                setting,
                format!("the private key is malformed, or not an RSA key: {e}"),
            )
        })?;
        let jwt = AppJwt {
            application_id: application_id.into(),
            key,
            ttl,
            cached: Mutex::new(None),
        };
        // Sign once now: a key that parses but cannot sign fails here, not on the first call.
        jwt.mint(SystemTime::now()).map_err(|e| {
            ConfigError::new(setting, format!("the private key cannot sign RS256: {e}"))
        })?;
        Ok(jwt)
    }

    /// The application.
    pub fn application_id(&self) -> &str {
        &self.application_id
    }

    /// A new token issued at `now`.
    ///
    /// Signed with jsonwebtoken's aws-lc-rs backend named outright, not through the process's
    /// default `CryptoProvider`: jsonwebtoken picks that default from its crate features and
    /// panics at the first signature when two backends (or none) end up enabled, for example
    /// when another crate in the host's build turns on `rust_crypto`. Named, the backend cannot
    /// clash, so a key that [`new`](Self::new) accepted signs or returns an error, never panics.
    pub fn mint(&self, now: SystemTime) -> Result<String, jsonwebtoken::errors::Error> {
        let iat = unix(now);
        let claims = AppClaims {
            application_id: self.application_id.clone(),
            iat,
            jti: uuid::Uuid::new_v4().to_string(),
            exp: iat.saturating_add(self.ttl.as_secs()),
        };
        let signer = (jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.signer_factory)(
            &Algorithm::RS256,
            &self.key,
        )?;
        // What `jsonwebtoken::encode` writes for `Header::new(Algorithm::RS256)`.
        let b64 = &base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(br#"{"typ":"JWT","alg":"RS256"}"#);
        let payload = b64.encode(serde_json::to_vec(&claims)?);
        let message = format!("{header}.{payload}");
        let signature = signer.try_sign(message.as_bytes())?;
        Ok(format!("{message}.{}", b64.encode(signature)))
    }

    /// The token to send at `now`: the cached one while more than a third of its life remains,
    /// else a new one.
    pub fn token(&self, now: SystemTime) -> Result<Secret, jsonwebtoken::errors::Error> {
        let t = unix(now);
        let mut cached = match self.cached.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(c) = cached.as_ref() {
            let renew_at = c.exp.saturating_sub(self.ttl.as_secs() / 3);
            if t >= c.iat && t < renew_at {
                return Ok(c.token.clone());
            }
        }
        let token = self.mint(now)?;
        let fresh = Cached {
            token: Secret::new(token),
            iat: t,
            exp: t.saturating_add(self.ttl.as_secs()),
        };
        let out = fresh.token.clone();
        *cached = Some(fresh);
        Ok(out)
    }
}
