//! An HTTPS endpoint's handshake on a connection of its own, timed apart from
//! the request (curl's `time_connect` and `time_appconnect` phases), and the
//! certificate the server presented. Whether that certificate is trusted is
//! the HTTP client's to say (its request verifies it); this connection only
//! measures and reads, so it accepts any certificate whose handshake
//! signature holds.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// What the timed handshake saw.
pub struct Handshake {
    /// TCP connect, in ms.
    pub connect_ms: f64,
    /// The TLS handshake after it, in ms.
    pub tls_ms: f64,
    /// The end of the server certificate's validity, when it could be read.
    pub not_after: Option<SystemTime>,
}

#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not a host name or address: {0}")]
    Name(String),
}

/// Connects to `host:port` and completes a TLS handshake, within `timeout`.
pub async fn handshake(
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<Handshake, HandshakeError> {
    tokio::time::timeout(timeout, timed(host, port))
        .await
        .map_err(|_| HandshakeError::Timeout(timeout))?
}

async fn timed(host: &str, port: u16) -> Result<Handshake, HandshakeError> {
    let name = ServerName::try_from(host.trim_matches(['[', ']']).to_string())
        .map_err(|_| HandshakeError::Name(host.to_string()))?;
    let started = Instant::now();
    let tcp = tokio::net::TcpStream::connect((host.trim_matches(['[', ']']), port)).await?;
    let connect_ms = ms(started);
    let connected = Instant::now();
    let tls = tokio_rustls::TlsConnector::from(config())
        .connect(name, tcp)
        .await?;
    let tls_ms = ms(connected);
    let not_after = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .and_then(|leaf| super::certificate::not_after(leaf));
    Ok(Handshake {
        connect_ms,
        tls_ms,
        not_after,
    })
}

fn config() -> Arc<rustls::ClientConfig> {
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let algorithms = provider.signature_verification_algorithms;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("the provider's default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(algorithms)))
        .with_no_client_auth();
    Arc::new(config)
}

fn ms(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 1000.0 * 10.0).round() / 10.0
}

/// Takes any certificate (the request's own client judges trust), but checks
/// the handshake's signatures with the provider's algorithms.
#[derive(Debug)]
struct AnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}
