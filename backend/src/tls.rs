//! TLS for calls between devices on a LAN (browsers allow the camera only on https:// or
//! localhost): load a certificate and key from PEM files, or create a self-signed certificate
//! for this machine's names and addresses at start-up. `TlsListener` does handshakes
//! concurrently, off the accept loop, so a slow client cannot stall everyone else.

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// A client must finish its TLS handshake within this time.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Handshakes in progress at once; connections beyond are dropped at once, so a flood of
/// half-open TLS connections cannot use up memory and file descriptors before admission.
const MAX_CONCURRENT_HANDSHAKES: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("could not read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path} contains no PEM certificate")]
    NoCertificate { path: String },
    #[error("{path} contains no PEM private key")]
    NoKey { path: String },
    #[error("could not create a self-signed certificate: {0}")]
    SelfSigned(#[from] rcgen::Error),
    #[error("invalid certificate or key: {0}")]
    Rustls(#[from] rustls::Error),
}

/// A server certificate ready to serve, with what a person may want to know about it.
#[derive(Debug)]
pub struct TlsSetup {
    pub config: Arc<rustls::ServerConfig>,
    /// Names and addresses the certificate is valid for (self-signed mode).
    pub subject_names: Vec<String>,
    /// PEM of the certificate (self-signed mode), so tests and tools can trust it.
    pub certificate_pem: Option<String>,
}

fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Loads a PEM certificate chain and private key.
pub fn from_pem_files(certificate: &Path, key: &Path) -> Result<TlsSetup, TlsError> {
    let read =
        |path: &Path| std::fs::read(path).map_err(|source| TlsError::Read { path: path.display().to_string(), source });
    let certificate_bytes = read(certificate)?;
    let chain: Vec<CertificateDer<'static>> =
        rustls_pemfile::certs(&mut certificate_bytes.as_slice()).filter_map(Result::ok).collect();
    if chain.is_empty() {
        return Err(TlsError::NoCertificate { path: certificate.display().to_string() });
    }
    let key_bytes = read(key)?;
    let private_key = rustls_pemfile::private_key(&mut key_bytes.as_slice())
        .ok()
        .flatten()
        .ok_or_else(|| TlsError::NoKey { path: key.display().to_string() })?;
    Ok(TlsSetup { config: server_config(chain, private_key)?, subject_names: Vec::new(), certificate_pem: None })
}

/// This machine's host name and every address of its network interfaces, plus localhost.
pub fn local_names_and_addresses() -> Vec<String> {
    let mut names = vec!["localhost".to_owned()];
    if let Ok(hostname) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        let hostname = hostname.trim();
        if !hostname.is_empty() {
            names.push(hostname.to_owned());
            names.push(format!("{hostname}.local"));
        }
    }
    let mut addresses: Vec<IpAddr> = vec![IpAddr::from([127, 0, 0, 1]), IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1])];
    if let Ok(interfaces) = if_addrs::get_if_addrs() {
        addresses.extend(interfaces.iter().map(if_addrs::Interface::ip));
    }
    addresses.sort();
    addresses.dedup();
    names.extend(addresses.iter().map(IpAddr::to_string));
    names.dedup();
    names
}

/// Creates a self-signed certificate for `subject_names` (host names and IP addresses).
pub fn self_signed(subject_names: Vec<String>) -> Result<TlsSetup, TlsError> {
    let certified = rcgen::generate_simple_self_signed(subject_names.clone())?;
    let certificate_pem = certified.cert.pem();
    let chain = vec![certified.cert.der().clone()];
    let key = PrivateKeyDer::Pkcs8(certified.key_pair.serialize_der().into());
    Ok(TlsSetup { config: server_config(chain, key)?, subject_names, certificate_pem: Some(certificate_pem) })
}

/// Accepts TCP connections and completes TLS handshakes concurrently.
#[derive(Debug)]
pub struct TlsListener {
    handshaken: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local_address: SocketAddr,
    accept_task: tokio::task::AbortHandle,
}

impl TlsListener {
    pub fn new(listener: TcpListener, config: Arc<rustls::ServerConfig>) -> std::io::Result<TlsListener> {
        let local_address = listener.local_addr()?;
        let (ready, handshaken) = mpsc::channel(256);
        let acceptor = TlsAcceptor::from(config);
        let handshakes = Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT_HANDSHAKES));
        let accept_task = tokio::spawn(async move {
            loop {
                let (stream, remote) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(handshake_slot) = Arc::clone(&handshakes).try_acquire_owned() else {
                    tracing::debug!(%remote, "too many TLS handshakes in progress: connection dropped");
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let acceptor = acceptor.clone();
                let ready = ready.clone();
                tokio::spawn(async move {
                    let _handshake_slot = handshake_slot;
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls_stream)) => {
                            let _ = ready.send((tls_stream, remote)).await;
                        }
                        Ok(Err(error)) => tracing::debug!(%remote, %error, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%remote, "TLS handshake timed out"),
                    }
                });
            }
        })
        .abort_handle();
        Ok(TlsListener { handshaken, local_address, accept_task })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.handshaken.recv().await {
            Some(accepted) => accepted,
            // The accept task only ends when the listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local_address)
    }
}
