//! The `backend` binary: parse flags, set up logging, serve until SIGINT/SIGTERM.

use anyhow::Context;
use backend::{AppState, Config};
use clap::Parser;
use std::net::SocketAddr;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let address = SocketAddr::new(config.bind, config.port);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("could not listen on {address} (is another server using port {}?)", config.port))?;
    let static_dir = backend::static_files::static_dir(&config);
    tracing::info!(
        %address,
        web_app = %static_dir.as_ref().map_or("not built".to_owned(), |dir| dir.display().to_string()),
        "signaling server listening: ws://{address}/ (classic) and /ws"
    );
    backend::run(listener, AppState::new(config), shutdown_signal()).await.context("server failed")?;
    tracing::info!("server stopped");
    Ok(())
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
