//! The `backend` binary: parse flags, set up logging and TLS, serve until SIGINT/SIGTERM.

use anyhow::Context;
use backend::config::LogFormat;
use backend::{AppState, Config};
use clap::Parser;
use std::net::SocketAddr;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut config = Config::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    match config.log_format {
        LogFormat::Text => tracing_subscriber::fmt().with_env_filter(filter).init(),
        LogFormat::Json => tracing_subscriber::fmt().json().with_env_filter(filter).init(),
    }

    let tls = if config.tls_self_signed {
        let names = backend::tls::local_names_and_addresses();
        Some(backend::tls::self_signed(names).context("could not create the self-signed certificate")?)
    } else if let (Some(certificate), Some(key)) = (&config.tls_cert, &config.tls_key) {
        Some(backend::tls::from_pem_files(certificate, key).context("could not load the TLS certificate")?)
    } else {
        None
    };

    if config.resume_secret.is_none() {
        let secret = backend::resume_token::ResumeSecret::load_or_create(&config.resume_secret_file)
            .context("no --resume-secret given and the secret file is not usable")?;
        config.resume_secret = Some(secret);
    }

    let address = SocketAddr::new(config.bind, config.port);
    let listener = listen(address)
        .with_context(|| format!("could not listen on {address} (is another server using port {}?)", config.port))?;
    // The real address, also when --port 0 asked the system to pick one.
    let address = listener.local_addr().unwrap_or(address);
    let cluster = config.redis_url.is_some();
    let state = AppState::start(config).await.context("could not join the cluster through --redis-url")?;
    if cluster {
        tracing::info!(node = %state.router.node(), "cluster mode: names and calls shared through Redis");
    }
    let (http, ws) = if tls.is_some() { ("https", "wss") } else { ("http", "ws") };
    tracing::info!(
        %address,
        web_app = %state.web_app.as_ref().map_or("not built".to_owned(), |web_app| web_app.folder.display().to_string()),
        "signaling server listening: {ws}://{address}/ (classic) and /ws"
    );
    match tls {
        None => {
            tracing::info!("open {http}://localhost:{}/ in two browser windows", address.port());
            backend::run(listener, state, shutdown_signal()).await.context("server failed")?;
        }
        Some(tls) => {
            for name in tls.subject_names.iter().filter(|name| is_reachable_from_elsewhere(name)) {
                tracing::info!(
                    "on another device open {http}://{name}:{}/ (accept the certificate warning once)",
                    address.port()
                );
            }
            backend::run_tls(listener, tls.config, state, shutdown_signal()).await.context("server failed")?;
        }
    }
    tracing::info!("server stopped");
    Ok(())
}

/// Connections the kernel queues for `accept` (the standard library's listener asks for 128): a
/// burst of connections waits there instead of being dropped or answered with SYN cookies.
const LISTEN_BACKLOG: u32 = 1024;

fn listen(address: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if address.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Names and addresses worth showing for "open this on your phone": not loopback, not IPv6.
fn is_reachable_from_elsewhere(name: &str) -> bool {
    match name.parse::<std::net::IpAddr>() {
        Ok(address) => address.is_ipv4() && !address.is_loopback(),
        Err(_) => name != "localhost",
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested: closing connections");
}
