//! TCP_NODELAY for accepted sockets without a `setsockopt` per connection: set once on the
//! listening socket, Linux copies it into every socket `accept` returns (BENCHMARKS.md, "Server
//! levers (issue 15)": one system call fewer per connect + sign-in).

use tokio::net::{TcpListener, TcpStream};

/// TCP_NODELAY on every accepted socket (signaling frames are small and must not wait for
/// Nagle). Set once on the listener, Linux copies it into every socket `accept` returns: no
/// `setsockopt` per connection. Checked on the first accepted socket; where it was not copied
/// (or the listener refused it), each socket gets its own `setsockopt` as before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptedNodelay {
    /// Set on the listener; not yet seen on an accepted socket.
    Unchecked,
    /// Accepted sockets come with it.
    Inherited,
    /// Set on each accepted socket.
    PerConnection,
}

impl AcceptedNodelay {
    pub fn from_listener(listener: &TcpListener) -> AcceptedNodelay {
        match socket2::SockRef::from(listener).set_tcp_nodelay(true) {
            Ok(()) => AcceptedNodelay::Unchecked,
            Err(_) => AcceptedNodelay::PerConnection,
        }
    }

    /// Makes sure `stream` has TCP_NODELAY (a `getsockopt` on the first one, then nothing while
    /// accepted sockets inherit it).
    pub fn apply(&mut self, stream: &TcpStream) {
        if *self == AcceptedNodelay::Unchecked {
            *self = match stream.nodelay() {
                Ok(true) => AcceptedNodelay::Inherited,
                _ => AcceptedNodelay::PerConnection,
            };
        }
        if *self == AcceptedNodelay::PerConnection {
            if let Err(error) = stream.set_nodelay(true) {
                tracing::debug!(%error, "could not set TCP_NODELAY");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AcceptedNodelay;
    use tokio::net::{TcpListener, TcpStream};

    #[tokio::test]
    async fn accepted_sockets_get_nodelay_from_the_listener_or_their_own_setsockopt() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback listener");
        let mut nodelay = AcceptedNodelay::from_listener(&listener);
        let address = listener.local_addr().expect("its address");
        for _ in 0..2 {
            let _client = TcpStream::connect(address).await.expect("connected");
            let (accepted, _) = listener.accept().await.expect("accepted");
            nodelay.apply(&accepted);
            assert!(accepted.nodelay().expect("TCP_NODELAY readable"), "accepted socket without TCP_NODELAY");
            assert_ne!(nodelay, AcceptedNodelay::Unchecked);
        }
        #[cfg(target_os = "linux")]
        assert_eq!(nodelay, AcceptedNodelay::Inherited);
    }

    #[tokio::test]
    async fn a_listener_without_nodelay_sets_it_on_each_accepted_socket() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback listener");
        let mut nodelay = AcceptedNodelay::PerConnection;
        let _client = TcpStream::connect(listener.local_addr().expect("its address")).await.expect("connected");
        let (accepted, _) = listener.accept().await.expect("accepted");
        assert!(!accepted.nodelay().expect("TCP_NODELAY readable"));
        nodelay.apply(&accepted);
        assert!(accepted.nodelay().expect("TCP_NODELAY readable"));
    }
}
