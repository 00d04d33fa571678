//! An HTTPS listener on loopback whose certificate is made to order: valid, about to expire, or
//! already expired. What a webhook URL's certificate check (`telephony doctor`) is tested
//! against.
//!
//! Each listener has its own test authority: a self-signed CA certificate, made with `rcgen`,
//! that signs the listener's certificate for `localhost` and `127.0.0.1`. A client that should
//! trust it is given [`TlsListener::ca_der`] (`DoctorOptions::extra_root`); one that is not
//! sees a certificate no public authority signed.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use telephony::Url;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The most of a request's head the listener reads before it answers.
const HEAD_LIMIT: usize = 16 * 1024;

/// A loopback HTTPS server with a certificate of a chosen validity. It completes the TLS
/// handshake and answers every request `404 Not Found` (it serves no route: it is there to
/// show its certificate). Stops when dropped.
///
/// ```no_run
/// # async fn f() -> std::io::Result<()> {
/// use telephony_testkit::TlsListener;
///
/// let listener = TlsListener::expired().await?;
/// let url = listener.url("/voice"); // https://localhost:PORT/voice
/// let ca = listener.ca_der(); // trust this to see "expired" rather than "unknown issuer"
/// # let _ = (url, ca); Ok(()) }
/// ```
#[derive(Debug)]
pub struct TlsListener {
    base: Url,
    ca: Vec<u8>,
    not_after: SystemTime,
    task: JoinHandle<()>,
}

impl TlsListener {
    /// A listener whose certificate expired a day ago (issued 90 days before that).
    pub async fn expired() -> std::io::Result<TlsListener> {
        let now = OffsetDateTime::now_utc();
        TlsListener::start(
            now - time::Duration::days(91),
            now - time::Duration::days(1),
        )
        .await
    }

    /// A listener whose certificate is valid now and expires `left` from now.
    pub async fn expiring_in(left: Duration) -> std::io::Result<TlsListener> {
        let now = OffsetDateTime::now_utc();
        let left = time::Duration::try_from(left).map_err(std::io::Error::other)?;
        TlsListener::start(now - time::Duration::days(1), now + left).await
    }

    /// Serves a certificate valid from `not_before` to `not_after`.
    async fn start(
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> std::io::Result<TlsListener> {
        let (ca, leaf, key) = certificates(not_before, not_after).map_err(std::io::Error::other)?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(std::io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(vec![leaf], key)
            .map_err(std::io::Error::other)?;
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let base = Url::parse(&format!("https://localhost:{port}/"))
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // A client that refuses the certificate ends the handshake: nothing to do.
                    if let Ok(tls) = acceptor.accept(tcp).await {
                        answer(tls).await;
                    }
                });
            }
        });
        let since_epoch = Duration::try_from(not_after - OffsetDateTime::UNIX_EPOCH)
            .map_err(std::io::Error::other)?;
        Ok(TlsListener {
            base,
            ca: ca.to_vec(),
            not_after: SystemTime::UNIX_EPOCH + since_epoch,
            task,
        })
    }

    /// `path` on the listener: `https://localhost:PORT/path`.
    pub fn url(&self, path: &str) -> Url {
        self.base
            .join(path.trim_start_matches('/'))
            .unwrap_or_else(|_| self.base.clone())
    }

    /// The test authority's certificate, as DER: the trust anchor that signed the listener's.
    pub fn ca_der(&self) -> Vec<u8> {
        self.ca.clone()
    }

    /// When the listener's certificate stops being valid (whole seconds).
    pub fn not_after(&self) -> SystemTime {
        self.not_after
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A test CA (valid for years around now) and the certificate it issues for loopback, valid
/// from `not_before` to `not_after`, with that certificate's key.
fn certificates(
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<
    (
        CertificateDer<'static>,
        CertificateDer<'static>,
        PrivateKeyDer<'static>,
    ),
    rcgen::Error,
> {
    let now = OffsetDateTime::now_utc();
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name = rcgen::DistinguishedName::new();
    ca.distinguished_name
        .push(DnType::CommonName, "telephony-testkit test CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.not_before = now - time::Duration::days(365);
    ca.not_after = now + time::Duration::days(3650);
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);

    let key = KeyPair::generate()?;
    let mut leaf = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
    leaf.distinguished_name = rcgen::DistinguishedName::new();
    leaf.distinguished_name
        .push(DnType::CommonName, "localhost");
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.use_authority_key_identifier_extension = true;
    leaf.not_before = not_before;
    leaf.not_after = not_after;
    let leaf_cert = leaf.signed_by(&key, &issuer)?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    Ok((ca_cert.der().clone(), leaf_cert.der().clone(), key))
}

/// Reads a request's head (up to [`HEAD_LIMIT`]) and answers `404 Not Found`.
async fn answer<S>(mut stream: S)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < HEAD_LIMIT {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let _ = stream
        .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        .await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_certificate_is_valid_until_the_given_time() {
        let listener = TlsListener::expiring_in(Duration::from_secs(3 * 86_400))
            .await
            .unwrap();
        let left = listener
            .not_after()
            .duration_since(SystemTime::now())
            .unwrap();
        assert!(left > Duration::from_secs(2 * 86_400) && left <= Duration::from_secs(3 * 86_400));
        assert!(
            listener
                .url("/voice")
                .as_str()
                .starts_with("https://localhost:")
        );
        assert!(listener.url("/voice").as_str().ends_with("/voice"));
        let expired = TlsListener::expired().await.unwrap();
        assert!(expired.not_after() < SystemTime::now());
        assert_ne!(expired.ca_der(), listener.ca_der());
    }
}
