//! The adapter's own signature over what it puts in a callback URL's query.
//!
//! Vonage signs a POST webhook's body (`payload_hash`), never its URL (see
//! [`covers_query`](crate::signature::covers_query)). A transfer's state
//! ([`TransferRef`](telephony_core::TransferRef): which caller, which room, what the target
//! hears) and a recording's call travel in the query of the callback URLs this adapter hands
//! Vonage, so the query must be signed too, or anyone holding one signed body could pair it
//! with a query of their own (another caller to move, another room).
//!
//! Every `telephony_*` parameter of such a URL is covered by an HMAC-SHA256 in
//! `telephony_sig`, keyed by a key derived from the application's private key (which every
//! replica has, and which never leaves the process). A URL with `telephony_*` parameters and
//! no valid `telephony_sig` is refused; a URL without any is left alone (a plain status
//! callback). The signature covers the parameters as decoded, sorted, so a re-encoding of the
//! query on the way (`%20` for `+`) changes nothing.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use telephony_core::rest::hex;
use telephony_core::{DecodeError, Error, Secret, Url, constant_time_eq};

use crate::KIND;

/// The prefix of every parameter the signature covers.
pub(crate) const PREFIX: &str = "telephony_";
/// The signature's parameter.
pub(crate) const SIG: &str = "telephony_sig";

/// The key that signs callback queries. Its Debug shows nothing of it.
#[derive(Clone)]
pub(crate) struct QuerySigner {
    key: [u8; 32],
}

impl fmt::Debug for QuerySigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QuerySigner(..)")
    }
}

impl QuerySigner {
    /// The key for an application's private key (PEM): SHA-256 over a label and the PEM with
    /// its whitespace removed, so a key read from a file and the same key from the environment
    /// (other line ends, a final newline) sign alike.
    pub(crate) fn new(private_key: &Secret) -> QuerySigner {
        let mut h = Sha256::new();
        h.update(b"telephony-vonage callback query v1\0");
        for b in private_key
            .expose()
            .bytes()
            .filter(|b| !b.is_ascii_whitespace())
        {
            h.update([b]);
        }
        QuerySigner {
            key: h.finalize().into(),
        }
    }

    fn mac(&self, pairs: &mut [(String, String)]) -> String {
        pairs.sort();
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        for (k, v) in pairs.iter() {
            for part in [k, v] {
                mac.update(&(part.len() as u64).to_be_bytes());
                mac.update(part.as_bytes());
            }
        }
        // 128 bits: enough against forgery, and the URL stays short.
        hex(&mac.finalize().into_bytes()[..16])
    }

    fn covered(url: &Url) -> Vec<(String, String)> {
        url.query_pairs()
            .filter(|(k, _)| k.starts_with(PREFIX) && k != SIG)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    /// `url` with its `telephony_*` parameters signed (an old signature replaced).
    pub(crate) fn sign(&self, url: &Url) -> Url {
        let mut url = url.clone();
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| k != SIG)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let sig = self.mac(&mut Self::covered(&url));
        url.query_pairs_mut()
            .clear()
            .extend_pairs(kept)
            .append_pair(SIG, &sig);
        url
    }

    /// Checks a callback URL: `Ok(true)` when it carries `telephony_*` parameters this key
    /// signed, `Ok(false)` when it carries none, an error when they are not signed or the
    /// signature does not match (the query was changed, or made by someone else).
    pub(crate) fn verify(&self, url: &Url) -> Result<bool, Error> {
        let mut covered = Self::covered(url);
        if covered.is_empty() {
            return Ok(false);
        }
        let expected = self.mac(&mut covered);
        let given: Vec<String> = url
            .query_pairs()
            .filter(|(k, _)| k == SIG)
            .map(|(_, v)| v.into_owned())
            .collect();
        match given.as_slice() {
            [one] if constant_time_eq(one.as_bytes(), expected.as_bytes()) => Ok(true),
            [] => Err(refused(
                "its telephony_* parameters are not signed (no telephony_sig)",
            )),
            _ => Err(refused(
                "its telephony_* parameters do not match their signature: the query was changed, or made with another application's key",
            )),
        }
    }
}

fn refused(why: &str) -> Error {
    Error::Decode(DecodeError::new(
        KIND,
        "callback URL",
        format!("refused: {why}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> QuerySigner {
        QuerySigner::new(&Secret::new(
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ))
    }

    #[test]
    fn signs_and_verifies_and_refuses_changes() {
        let s = signer();
        let url = Url::parse(
            "https://a.example/s?tenant=7&telephony_transfer=xfer-1&telephony_caller=c-1",
        )
        .unwrap();
        let signed = s.sign(&url);
        assert!(s.verify(&signed).unwrap());
        assert_eq!(
            signed.query_pairs().filter(|(k, _)| k == "tenant").count(),
            1
        );
        // Signing again replaces the signature.
        assert_eq!(
            s.sign(&signed)
                .query_pairs()
                .filter(|(k, _)| k == SIG)
                .count(),
            1
        );
        // Re-encoded, reordered: the same parameters.
        let re = Url::parse(&signed.as_str().replace(
            "telephony_transfer=xfer-1&telephony_caller=c-1",
            "telephony_caller=c%2D1&telephony_transfer=xfer-1",
        ))
        .unwrap();
        assert!(s.verify(&re).unwrap());
        for forged in [
            signed.as_str().replace("c-1", "c-2"),
            format!("{signed}&telephony_leg=caller"),
            url.as_str().to_owned(),
            format!("{url}&telephony_sig=00000000000000000000000000000000"),
            format!("{signed}&telephony_sig=00"),
        ] {
            assert!(s.verify(&Url::parse(&forged).unwrap()).is_err(), "{forged}");
        }
        // Another key: refused. The same key with other whitespace: the same.
        let other = QuerySigner::new(&Secret::new("another key"));
        assert!(other.verify(&signed).is_err());
        let same = QuerySigner::new(&Secret::new(
            "-----BEGIN PRIVATE KEY-----\r\nAAAA\r\n-----END PRIVATE KEY-----",
        ));
        assert!(same.verify(&signed).unwrap());
        // Nothing of ours: nothing to check.
        assert!(
            !s.verify(&Url::parse("https://a.example/s?tenant=7").unwrap())
                .unwrap()
        );
        assert_eq!(format!("{s:?}"), "QuerySigner(..)");
    }
}
