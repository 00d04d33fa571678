//! The webhook URL's certificate, checked as a carrier checks it: a TLS handshake, the chain
//! verified by rustls's webpki verifier against the Mozilla roots (webpki-roots, plus any
//! [`DoctorOptions::extra_roots`]), now and at the end of the warning window.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, Error as TlsError, RootCertStore, SignatureScheme};

use super::{Check, DoctorOptions};

const NAME: &str = "certificate";

pub(crate) async fn certificate(options: &DoctorOptions) -> Check {
    let Some(url) = &options.url else {
        return Check::skipped(NAME, "no --url");
    };
    if url.scheme() != "https" {
        return Check::skipped(NAME, format!("{} is not https", url.scheme()));
    }
    let Some(host) = url.host_str() else {
        return Check::skipped(NAME, "the URL has no host");
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let roots = match roots(options) {
        Ok(r) => r,
        Err(e) => {
            return Check::failed(
                NAME,
                format!("an extra root does not parse: {e}"),
                "give CA certificates as DER",
            );
        }
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = match WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    {
        Ok(v) => v,
        Err(e) => return Check::failed(NAME, format!("no verifier: {e}"), "report this as a bug"),
    };
    let Ok(name) = ServerName::try_from(host.clone()) else {
        return Check::failed(
            NAME,
            format!("{host:?} is not a host name TLS can check"),
            "give the URL's host name",
        );
    };
    let chain = match handshake(
        &host,
        port,
        name.clone(),
        verifier.clone(),
        provider,
        options.timeout,
    )
    .await
    {
        Ok(chain) => chain,
        Err(e) => {
            return Check::failed(
                NAME,
                format!("no TLS handshake with {host}:{port}: {e}"),
                "check that the URL serves https on that port",
            );
        }
    };
    let Some((leaf, intermediates)) = chain.split_first() else {
        return Check::failed(
            NAME,
            format!("{host} sent no certificate"),
            "configure the server's certificate",
        );
    };
    let verify = |at: SystemTime| {
        verifier.verify_server_cert(
            leaf,
            intermediates,
            &name,
            &[],
            UnixTime::since_unix_epoch(
                at.duration_since(SystemTime::UNIX_EPOCH)
                    .unwrap_or_default(),
            ),
        )
    };
    let now = SystemTime::now();
    if let Err(e) = verify(now) {
        return Check::failed(
            NAME,
            format!("{host}'s certificate is refused: {}", reason(&e)),
            advice(&e),
        );
    }
    let days = options.certificate_days;
    let later = now + Duration::from_secs(u64::from(days) * 86_400);
    match verify(later) {
        Err(TlsError::InvalidCertificate(
            rustls::CertificateError::Expired | rustls::CertificateError::ExpiredContext { .. },
        )) => Check::warning(
            NAME,
            format!("{host}'s certificate (or one of its chain) expires within {days} days"),
            "renew it now (certbot renew, or the proxy's ACME settings)",
        ),
        _ => Check::ok(
            NAME,
            format!(
                "valid for {host}, trusted by the webpki roots, not expiring within {days} days"
            ),
        ),
    }
}

fn roots(options: &DoctorOptions) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for der in &options.extra_roots {
        roots.add(CertificateDer::from(der.clone()))?;
    }
    Ok(roots)
}

fn reason(e: &TlsError) -> String {
    use rustls::CertificateError as C;
    match e {
        TlsError::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
            "it has expired".into()
        }
        TlsError::InvalidCertificate(C::NotValidYet | C::NotValidYetContext { .. }) => {
            "it is not valid yet".into()
        }
        TlsError::InvalidCertificate(C::UnknownIssuer) => {
            "it is not signed by an authority the carriers trust (self-signed, or a private CA)"
                .into()
        }
        TlsError::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => {
            "it is another host's".into()
        }
        TlsError::InvalidCertificate(C::Revoked) => "it is revoked".into(),
        other => other.to_string(),
    }
}

fn advice(e: &TlsError) -> String {
    use rustls::CertificateError as C;
    match e {
        TlsError::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => "renew the certificate (certbot renew, or the proxy's ACME settings) and reload the server".into(),
        TlsError::InvalidCertificate(C::UnknownIssuer) => "serve a certificate from a public CA (Let's Encrypt) with its full chain; carriers refuse self-signed ones".into(),
        TlsError::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => "serve a certificate issued for this host name".into(),
        _ => "serve a valid certificate from a public CA with its full chain".into(),
    }
}

/// The chain the server sends: the handshake accepts it whatever it is (the verdict comes
/// after, at two times), and checks the handshake's signatures as webpki does.
#[derive(Debug)]
struct Capture {
    inner: Arc<WebPkiServerVerifier>,
    chain: std::sync::Mutex<Vec<CertificateDer<'static>>>,
}

impl ServerCertVerifier for Capture {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        let mut chain = self.chain.lock().unwrap_or_else(|p| p.into_inner());
        chain.clear();
        chain.push(end_entity.clone().into_owned());
        chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

async fn handshake(
    host: &str,
    port: u16,
    name: ServerName<'static>,
    verifier: Arc<WebPkiServerVerifier>,
    provider: Arc<rustls::crypto::CryptoProvider>,
    timeout: Duration,
) -> Result<Vec<CertificateDer<'static>>, String> {
    let capture = Arc::new(Capture {
        inner: verifier,
        chain: std::sync::Mutex::new(Vec::new()),
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(capture.clone())
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let work = async {
        let tcp = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|e| e.to_string())?;
        let tls = connector
            .connect(name, tcp)
            .await
            .map_err(|e| e.to_string())?;
        drop(tls);
        Ok::<_, String>(())
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e),
        Err(_) => return Err(format!("no answer within {timeout:?}")),
    }
    let chain = capture
        .chain
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    Ok(chain)
}
