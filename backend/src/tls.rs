//! TLS for calls between devices on a LAN (browsers allow the camera only on https:// or
//! localhost): load a certificate and key from PEM files, or create a self-signed certificate
//! for this machine's names and addresses at start-up. Handshakes happen in each connection's own
//! task (see `serve.rs`), after the connection took its permit and under the request-head
//! deadline, so a slow or silent client cannot stall the accept loop or anyone else.

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

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
