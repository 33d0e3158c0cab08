//! https:// and wss:// with a certificate from PEM files and with the self-signed mode.

mod common;

use backend::{AppState, Config};
use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::ServerName;
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;

fn client_trusting(certificate_pem: &str) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in rustls_pemfile::certs(&mut certificate_pem.as_bytes()) {
        roots.add(certificate.expect("PEM certificate")).expect("trust the test certificate");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

async fn start_tls(tls: Arc<rustls::ServerConfig>) -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(backend::run_tls(listener, tls, AppState::new(Config::default()), async move {
        let _ = stopped.await;
    }));
    (address, stop)
}

async fn login_over_wss(connector: &tokio_rustls::TlsConnector, address: std::net::SocketAddr, server_name: &str) {
    let tcp = TcpStream::connect(address).await.expect("TCP connect");
    let name = ServerName::try_from(server_name.to_owned()).expect("server name");
    let tls = connector.connect(name, tcp).await.expect("TLS handshake with the trusted certificate");
    let url = format!("wss://{server_name}:{}/ws", address.port());
    let (mut socket, _) = tokio_tungstenite::client_async(url, tls).await.expect("WebSocket over TLS");
    let hello = socket.next().await.expect("frame").expect("ok");
    assert!(hello.to_text().expect("text").starts_with(r#"{"type":"hello""#));
    socket.send(Message::text(r#"{"type":"login","name":"alice"}"#)).await.expect("send");
    let login = socket.next().await.expect("frame").expect("ok");
    assert!(login.to_text().expect("text").contains(r#""success":true"#), "{login:?}");
}

#[tokio::test]
async fn wss_with_a_certificate_and_key_from_pem_files() {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    let folder = std::env::temp_dir().join(format!("duet-tls-test-{}", std::process::id()));
    std::fs::create_dir_all(&folder).expect("temp folder");
    let certificate_path = folder.join("cert.pem");
    let key_path = folder.join("key.pem");
    std::fs::write(&certificate_path, certified.cert.pem()).expect("write certificate");
    std::fs::write(&key_path, certified.key_pair.serialize_pem()).expect("write key");

    let setup = backend::tls::from_pem_files(&certificate_path, &key_path).expect("load PEM files");
    let (address, _stop) = start_tls(setup.config).await;
    login_over_wss(&client_trusting(&certified.cert.pem()), address, "localhost").await;

    // A client that does not trust the certificate is refused at the handshake.
    let untrusting = client_trusting("");
    let tcp = TcpStream::connect(address).await.expect("TCP connect");
    assert!(untrusting.connect(ServerName::try_from("localhost").expect("name"), tcp).await.is_err());
    let _ = std::fs::remove_dir_all(folder);

    let missing = backend::tls::from_pem_files(std::path::Path::new("/nonexistent/cert.pem"), &key_path);
    assert!(missing.expect_err("missing file").to_string().contains("/nonexistent/cert.pem"));
}

#[tokio::test]
async fn self_signed_mode_covers_this_machines_names_and_addresses() {
    let names = backend::tls::local_names_and_addresses();
    assert!(names.iter().any(|name| name == "localhost"));
    assert!(names.iter().any(|name| name == "127.0.0.1"));
    let setup = backend::tls::self_signed(names).expect("self-signed certificate");
    let certificate_pem = setup.certificate_pem.clone().expect("self-signed mode exposes its certificate");
    let (address, _stop) = start_tls(setup.config).await;
    let connector = client_trusting(&certificate_pem);
    login_over_wss(&connector, address, "localhost").await;
    login_over_wss(&connector, address, "127.0.0.1").await;

    // https:// serves plain HTTP too (the web app, health checks).
    let tcp = TcpStream::connect(address).await.expect("TCP connect");
    let mut tls = connector.connect(ServerName::try_from("localhost").expect("name"), tcp).await.expect("handshake");
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.expect("write");
    let mut response = String::new();
    let _ = tls.read_to_string(&mut response).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}
