//! Telnyx webhook signatures: Ed25519 over `timestamp|raw body`.
//!
//! Telnyx signs every webhook (Call Control events, TeXML callbacks) with the account's
//! Ed25519 key. Two headers carry it:
//!
//! - `telnyx-timestamp`: Unix seconds, a decimal string;
//! - `telnyx-signature-ed25519`: the base64 of the 64-byte signature over the bytes
//!   `timestamp || "|" || raw body`.
//!
//! It verifies with the account's public key (Mission Control, Keys & Credentials: 32 raw
//! bytes in base64) when the timestamp is within 300 seconds of now, either way, as
//! telnyx-python 4 and telnyx-node check it. The body is the bytes as received: never
//! re-serialize JSON before verifying. The URL is not signed, so a TLS-terminating proxy
//! changes nothing.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use telephony_telnyx::signature::{PublicKey, SigningKey, verify};
//!
//! let key = SigningKey::from_seed_base64("nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=")?;
//! let body = br#"{"data":{"id":"e1","event_type":"call.answered"}}"#;
//! let signature = key.sign("1700000000", body);
//!
//! let public = PublicKey::from_base64("11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")?;
//! let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_100);
//! verify(&public, Some(&signature), Some("1700000000"), body, now)?;
//! # Ok::<(), telephony_core::WebhookError>(())
//! ```

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Signer as _;
use telephony_core::{Secret, Verified, WebhookError, WebhookRequest, bounded_replay_key};

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "telnyx-signature-ed25519";
/// The header that carries the signed time.
pub const TIMESTAMP_HEADER: &str = "telnyx-timestamp";
/// How far the signed time may be from now, either way.
pub const TOLERANCE: Duration = Duration::from_secs(300);

/// DER prefix of an Ed25519 public key in SubjectPublicKeyInfo form (RFC 8410): what some
/// tools export instead of the 32 raw bytes.
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// The account's public key, which every webhook verifies with.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(ed25519_dalek::VerifyingKey);

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", STANDARD.encode(self.0.as_bytes()))
    }
}

impl PublicKey {
    /// The key as Telnyx shows it: the base64 of its 32 bytes. The 44-byte DER
    /// SubjectPublicKeyInfo form is taken too.
    ///
    /// # Errors
    ///
    /// Not base64, or not an Ed25519 public key.
    pub fn from_base64(text: &str) -> Result<PublicKey, WebhookError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|e| malformed("public key", format!("not base64: {e}")))?;
        let raw: &[u8] = match bytes.len() {
            32 => &bytes,
            44 if bytes[..12] == SPKI_PREFIX => &bytes[12..],
            n => {
                return Err(malformed(
                    "public key",
                    format!("{n} bytes; an Ed25519 public key is 32 (base64 of 44 characters)"),
                ));
            }
        };
        let raw: [u8; 32] = raw
            .try_into()
            .map_err(|_| malformed("public key", "length"))?;
        ed25519_dalek::VerifyingKey::from_bytes(&raw)
            .map(PublicKey)
            .map_err(|_| malformed("public key", "not a point of Ed25519's curve"))
    }

    /// The key's 32 bytes, in base64.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0.as_bytes())
    }
}

/// A private key that signs as Telnyx does: for emulators, tests and `telephony webhook sign`.
/// Its `Debug` prints only the public half.
#[derive(Clone)]
pub struct SigningKey(ed25519_dalek::SigningKey);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SigningKey")
            .field(&self.public_key())
            .finish()
    }
}

impl SigningKey {
    /// A key from its 32-byte seed, in base64. A 64-byte key pair (seed then public key, as
    /// libsodium and Go write it) is taken too, and its public half checked.
    ///
    /// # Errors
    ///
    /// Not base64, or not 32 or 64 bytes, or a key pair whose halves disagree. The error
    /// never quotes the key.
    pub fn from_seed_base64(text: &str) -> Result<SigningKey, WebhookError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| malformed("private key", "not base64"))?;
        let seed: [u8; 32] = match bytes.len() {
            32 | 64 => bytes[..32]
                .try_into()
                .map_err(|_| malformed("private key", "length"))?,
            n => {
                return Err(malformed(
                    "private key",
                    format!("{n} bytes; an Ed25519 seed is 32 (or a 64-byte key pair)"),
                ));
            }
        };
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        if bytes.len() == 64 && key.verifying_key().as_bytes()[..] != bytes[32..] {
            return Err(malformed(
                "private key",
                "a 64-byte key pair whose public half is not its seed's",
            ));
        }
        Ok(SigningKey(key))
    }

    /// A key from its 32-byte seed.
    pub fn from_seed(seed: [u8; 32]) -> SigningKey {
        SigningKey(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    /// [`from_seed_base64`](Self::from_seed_base64) of a secret setting.
    ///
    /// # Errors
    ///
    /// As [`from_seed_base64`](Self::from_seed_base64).
    pub fn from_secret(secret: &Secret) -> Result<SigningKey, WebhookError> {
        SigningKey::from_seed_base64(secret.expose())
    }

    /// The key a secret signs with, as `telephony webhook sign` and the emulator sign: the
    /// secret itself where it is a seed ([`from_secret`](Self::from_secret)), else the key whose
    /// seed is the secret's SHA-256, whose signatures no account's public key verifies (what a
    /// forger's would be).
    pub fn for_signing(secret: &Secret) -> SigningKey {
        SigningKey::from_secret(secret).unwrap_or_else(|_| {
            use sha2::Digest as _;
            SigningKey::from_seed(sha2::Sha256::digest(secret.expose().as_bytes()).into())
        })
    }

    /// Its public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// The `telnyx-signature-ed25519` value for `body` signed at `timestamp` (the header's
    /// text, exactly as it is sent).
    pub fn sign(&self, timestamp: &str, body: &[u8]) -> String {
        let signature = self.0.sign(&message(timestamp, body));
        STANDARD.encode(signature.to_bytes())
    }
}

/// The bytes Telnyx signs: `timestamp || "|" || body`.
pub fn message(timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(timestamp.len() + 1 + body.len());
    m.extend_from_slice(timestamp.as_bytes());
    m.push(b'|');
    m.extend_from_slice(body);
    m
}

/// Checks one webhook: both headers present and well formed, the timestamp within
/// [`TOLERANCE`] of `now` (checked first, as telnyx-python does), and the signature valid for
/// `timestamp|body` under `key`.
///
/// # Errors
///
/// [`WebhookError::MissingSignature`] naming the missing header, [`WebhookError::Malformed`]
/// for a timestamp that is not a decimal number or a signature that is not 64 bytes of
/// base64, [`WebhookError::Stale`] outside the window, [`WebhookError::Mismatch`] otherwise.
pub fn verify(
    key: &PublicKey,
    signature: Option<&str>,
    timestamp: Option<&str>,
    body: &[u8],
    now: SystemTime,
) -> Result<(), WebhookError> {
    let signature = signature.ok_or(WebhookError::MissingSignature {
        header: SIGNATURE_HEADER,
    })?;
    let timestamp = timestamp.ok_or(WebhookError::MissingSignature {
        header: TIMESTAMP_HEADER,
    })?;
    let signed_at = parse_timestamp(timestamp)?;
    let now_secs = unix_seconds(now);
    if signed_at.abs_diff(now_secs) > TOLERANCE.as_secs() {
        return Err(WebhookError::Stale {
            signed_at,
            now: now_secs,
            tolerance: TOLERANCE,
        });
    }
    let bytes = decode_signature(signature)?;
    let signature = ed25519_dalek::Signature::from_bytes(&bytes);
    // Strict: no small-order points or non-canonical encodings, which no genuine signer
    // produces.
    key.0
        .verify_strict(&message(timestamp, body), &signature)
        .map_err(|_| WebhookError::Mismatch { diagnosis: None })
}

/// How long a delivery's id is remembered: Telnyx retries a delivery that was not
/// acknowledged, with a fresh timestamp and signature but the same `data.id`, so the id
/// outlives the signature's window.
pub const REMEMBER_EVENT: Duration = Duration::from_secs(3600);

/// Checks a webhook request with [`verify`] (and that its body is UTF-8, as telnyx-python
/// requires), and gives the key a replay guard remembers:
/// the event's `data.id` (read from the body the signature covers), so a retried delivery
/// is known as one; a body without one (a TeXML form) is keyed on the signature's bytes.
///
/// # Errors
///
/// As [`verify`].
pub fn verify_request(
    key: &PublicKey,
    request: &WebhookRequest,
    now: SystemTime,
) -> Result<Verified, WebhookError> {
    let signature = request.header(SIGNATURE_HEADER);
    verify(
        key,
        signature,
        request.header(TIMESTAMP_HEADER),
        &request.body,
        now,
    )?;
    // Telnyx sends UTF-8 (JSON, or a TeXML form), and its SDK refuses anything else.
    if std::str::from_utf8(&request.body).is_err() {
        return Err(malformed("body", "not UTF-8"));
    }
    #[derive(serde::Deserialize)]
    struct Event {
        data: EventId,
    }
    #[derive(serde::Deserialize)]
    struct EventId {
        id: String,
    }
    let key = match serde_json::from_slice::<Event>(&request.body) {
        Ok(e) if !e.data.id.is_empty() => format!("telnyx:event:{}", e.data.id),
        _ => {
            let bytes = decode_signature(signature.unwrap_or_default())?;
            // Re-encoded from its bytes, so another spelling of the same signature is the
            // same key.
            format!("telnyx:sig:{}", STANDARD.encode(bytes))
        }
    };
    Ok(Verified::new().with_replay_key(Some(bounded_replay_key(&key)), REMEMBER_EVENT))
}

/// The 64 signature bytes a header carries.
///
/// # Errors
///
/// Not base64, or not 64 bytes.
pub fn decode_signature(header: &str) -> Result<[u8; 64], WebhookError> {
    let bytes = STANDARD
        .decode(header.trim())
        .map_err(|e| malformed("signature", format!("not base64: {e}")))?;
    let len = bytes.len();
    bytes
        .try_into()
        .map_err(|_| malformed("signature", format!("{len} bytes; Ed25519's are 64")))
}

/// A `telnyx-timestamp`: ASCII digits (at most 19), nothing else.
fn parse_timestamp(text: &str) -> Result<i64, WebhookError> {
    if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed(
            "timestamp",
            format!("{:?} is not Unix seconds", preview(text)),
        ));
    }
    text.parse()
        .map_err(|_| malformed("timestamp", "out of range"))
}

fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

fn preview(text: &str) -> String {
    text.chars().take(24).collect()
}

fn malformed(what: &'static str, detail: impl Into<String>) -> WebhookError {
    WebhookError::Malformed {
        what,
        detail: detail.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8032 §7.1, TEST 1.
    const SEED: &str = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
    const PUBLIC: &str = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

    #[test]
    fn the_rfc_8032_key_signs_the_empty_message_as_the_rfc_says() {
        let key = ed25519_dalek::SigningKey::from_bytes(
            &STANDARD.decode(SEED).unwrap().try_into().unwrap(),
        );
        let sig = key.sign(b"").to_bytes();
        assert_eq!(telephony_core::rest::hex(&sig[..4]), "e5564300");
        assert_eq!(telephony_core::rest::hex(&sig[60..]), "8e7a100b");
        assert_eq!(
            SigningKey::from_seed_base64(SEED)
                .unwrap()
                .public_key()
                .to_base64(),
            PUBLIC
        );
    }

    #[test]
    fn keys_are_read_raw_or_as_spki_and_anything_else_is_named() {
        let raw = PublicKey::from_base64(PUBLIC).unwrap();
        let mut spki = SPKI_PREFIX.to_vec();
        spki.extend(STANDARD.decode(PUBLIC).unwrap());
        assert_eq!(
            PublicKey::from_base64(&STANDARD.encode(&spki)).unwrap(),
            raw
        );
        for bad in ["", "not base64!", "AAAA", &STANDARD.encode([0u8; 33])] {
            assert!(matches!(
                PublicKey::from_base64(bad),
                Err(WebhookError::Malformed {
                    what: "public key",
                    ..
                })
            ));
        }
        let pair = {
            let mut b = STANDARD.decode(SEED).unwrap();
            b.extend(STANDARD.decode(PUBLIC).unwrap());
            STANDARD.encode(b)
        };
        assert_eq!(
            SigningKey::from_seed_base64(&pair).unwrap().public_key(),
            raw
        );
        let mut wrong = STANDARD.decode(&pair).unwrap();
        wrong[40] ^= 1;
        let err = SigningKey::from_seed_base64(&STANDARD.encode(wrong)).unwrap_err();
        assert!(!err.to_string().contains(SEED));
    }

    #[test]
    fn timestamps_are_digits_only() {
        for bad in [
            "",
            "-1",
            "+1700000000",
            "1700000000.5",
            " 1700000000",
            "1e9",
            "١٢",
        ] {
            assert!(parse_timestamp(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_timestamp("0").unwrap(), 0);
        assert!(parse_timestamp("99999999999999999999").is_err());
    }

    #[test]
    fn debug_shows_no_private_key() {
        let key = SigningKey::from_seed_base64(SEED).unwrap();
        let shown = format!("{key:?}");
        assert!(shown.contains(PUBLIC), "{shown}");
        assert!(!shown.contains(SEED));
    }
}
