//! `loadgen relay-server`: the do-nothing relays the bench measures as floors. Each pairs
//! connections in the order they arrive and forwards every frame, unparsed, to the partner:
//! - `--kind axum`: tokio + axum WebSocket, the versions and socket settings of our server (384-byte
//!   read buffer, no write buffer), one task per pair: what our protocol logic costs on top of
//!   the framework;
//! - `--kind tcp`: raw TCP, the bytes of length-prefixed frames copied as they come: what the
//!   kernel alone costs.
//!
//! The runtime is the one our server's `#[tokio::main]` builds (multi-threaded, a worker per
//! core it may run on: one under `taskset -c 0`).

pub mod axum_relay;
pub mod tcp_relay;

use crate::target::loopback_ip;
use clap::{Args, ValueEnum};
use std::net::SocketAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RelayKind {
    Axum,
    Tcp,
}

#[derive(Debug, Clone, Args)]
pub struct RelayServerArgs {
    #[arg(long, value_enum)]
    pub kind: RelayKind,
    /// Port to listen on (0: any free port, printed on stdout).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Address to listen on: loopback only.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,
}

/// Connections the kernel queues for `accept`: the same backlog as our server's.
pub const LISTEN_BACKLOG: u32 = 1024;

/// Listens on a loopback address (anything else is refused).
pub fn listen(bind: &str, port: u16) -> anyhow::Result<tokio::net::TcpListener> {
    let ip = loopback_ip(bind)?;
    let address = SocketAddr::new(ip, port);
    let socket = if ip.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    Ok(socket.listen(LISTEN_BACKLOG)?)
}

/// Runs the relay until the process is stopped (the runtime is built by the caller).
pub async fn run(args: &RelayServerArgs) -> anyhow::Result<()> {
    let listener = listen(&args.bind, args.port)?;
    println!("relay-server {:?} listening on {}", args.kind, listener.local_addr()?);
    match args.kind {
        RelayKind::Axum => axum_relay::serve(listener).await,
        RelayKind::Tcp => tcp_relay::serve(listener).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn relays_listen_on_loopback_only() {
        for bind in ["0.0.0.0", "10.0.0.1", "example.org"] {
            assert!(listen(bind, 0).is_err_and(|error| error.to_string().contains("refusing")), "{bind}");
        }
        let listener = listen("127.0.0.1", 0).expect("loopback");
        assert!(listener.local_addr().expect("address").ip().is_loopback());
    }
}
