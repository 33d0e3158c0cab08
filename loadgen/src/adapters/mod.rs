//! One adapter per server under test: how to connect and sign in, how to address a
//! candidate-sized message to a peer, and how to recognise it on arrival. The workloads (relay,
//! idle connections, calls) run unchanged over any of them.
//!
//! | server | sign-in | relayed message |
//! | --- | --- | --- |
//! | ours / classic (`duet`) | greeting, `login`, login reply | `candidate` with `name` |
//! | PeerJS (`peerjs`) | `/peerjs?id=&token=&key=peerjs`, `OPEN` | `CANDIDATE` with `dst` |
//! | matchbox (`matchbox`) | `/ROOM`, `IdAssigned` | `Signal` with `receiver` |
//! | y-webrtc (`y-webrtc`) | `subscribe` to one's own topic, `ping`/`pong` | `publish` to the peer's topic |
//! | do-nothing relays (`axum-floor`, `tcp-floor`) | the connection itself | any frame, to the partner |

pub mod duet;
pub mod floor;
pub mod matchbox;
pub mod peerjs;
pub mod ywebrtc;

use crate::client::Client;
use crate::Common;
use std::fmt;
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// Which server loadgen talks to (`--server`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ServerKind {
    /// Ours or the classic server (told apart by the greeting).
    Duet,
    /// PeerJS server (npm `peer`).
    Peerjs,
    /// matchbox_server (crates.io).
    Matchbox,
    /// y-webrtc's signaling server (npm `y-webrtc`, bin/server.js).
    #[value(name = "y-webrtc")]
    YWebrtc,
    /// `loadgen relay-server --kind axum`.
    AxumFloor,
    /// `loadgen relay-server --kind tcp`.
    TcpFloor,
}

impl ServerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ServerKind::Duet => "duet",
            ServerKind::Peerjs => "peerjs",
            ServerKind::Matchbox => "matchbox",
            ServerKind::YWebrtc => "y-webrtc",
            ServerKind::AxumFloor => "axum-floor",
            ServerKind::TcpFloor => "tcp-floor",
        }
    }

    /// The do-nothing relays pair connections in the order they arrive: pairs must then be set
    /// up one after the other.
    pub fn pairs_by_arrival(self) -> bool {
        matches!(self, ServerKind::AxumFloor | ServerKind::TcpFloor)
    }

    /// Whether the server knows calls (offer, answer, hang-up) for the `calls` workload.
    pub fn has_calls(self) -> bool {
        matches!(self, ServerKind::Duet | ServerKind::Peerjs)
    }
}

impl fmt::Display for ServerKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// An encoded message, ready to send again and again (cloning is cheap).
#[derive(Debug, Clone)]
pub enum Frame {
    Text(Utf8Bytes),
    /// A length-prefixed frame for the TCP floor, prefix included.
    Prefixed(std::sync::Arc<[u8]>),
}

/// What arrived, as far as a workload cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incoming {
    /// A message relayed from the peer.
    Relayed,
    /// The server says the peer left or hung up.
    PeerLeft,
    /// Anything else (the server's own notices).
    Other,
}

/// A signed-in connection to the server under test.
// WebSocket connections are the common case; boxing them would add an indirection per message.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Conn {
    Ws(Client),
    Tcp(floor::TcpConn),
}

impl Conn {
    pub async fn send(&mut self, frame: &Frame) -> anyhow::Result<()> {
        match (self, frame) {
            (Conn::Ws(client), Frame::Text(text)) => client.send(text.clone()).await,
            (Conn::Tcp(conn), Frame::Prefixed(bytes)) => conn.send(bytes).await,
            _ => anyhow::bail!("a frame for another kind of connection"),
        }
    }

    /// The next message, classified for `kind`.
    pub async fn recv(&mut self, kind: ServerKind) -> anyhow::Result<Incoming> {
        match self {
            Conn::Ws(client) => {
                let text = client.recv().await?;
                Ok(classify(kind, text.as_str()))
            }
            Conn::Tcp(conn) => {
                conn.recv().await?;
                Ok(Incoming::Relayed)
            }
        }
    }

    /// Waits for anything (pings are answered) or the end; false once the connection is gone.
    pub async fn idle_read(&mut self) -> bool {
        match self {
            Conn::Ws(client) => client.idle_read().await,
            Conn::Tcp(conn) => conn.idle_read().await,
        }
    }

    pub async fn close(self) {
        match self {
            Conn::Ws(client) => client.close().await,
            Conn::Tcp(conn) => conn.close().await,
        }
    }

    /// `duet`/`classic` for ours and the classic server, else the adapter's name.
    pub fn flavor(&self, kind: ServerKind) -> &'static str {
        match (kind, self) {
            (ServerKind::Duet, Conn::Ws(client)) => client.flavor.as_str(),
            _ => kind.as_str(),
        }
    }
}

/// Classifies a text frame from a server of `kind`.
pub fn classify(kind: ServerKind, text: &str) -> Incoming {
    match kind {
        ServerKind::Duet => duet::classify(text),
        ServerKind::Peerjs => peerjs::classify(text),
        ServerKind::Matchbox => matchbox::classify(text),
        ServerKind::YWebrtc => ywebrtc::classify(text),
        ServerKind::AxumFloor | ServerKind::TcpFloor => Incoming::Relayed,
    }
}

/// Two signed-in connections that can message each other, with the candidate each sends.
#[derive(Debug)]
pub struct Pair {
    pub caller: Conn,
    pub callee: Conn,
    pub to_callee: Frame,
    pub to_caller: Frame,
}

/// Sets up pair `index`: both sides signed in (and, on ours, in a call), each with the frame
/// carrying its candidate (an `RTCIceCandidateInit` JSON value) to the other.
pub async fn set_up_pair(
    common: &Common,
    prefix: &str,
    index: usize,
    caller_candidate: &str,
    callee_candidate: &str,
) -> anyhow::Result<Pair> {
    let (caller_name, callee_name) = (format!("{prefix}a{index}"), format!("{prefix}b{index}"));
    let names = (caller_name.as_str(), callee_name.as_str());
    let candidates = (caller_candidate, callee_candidate);
    match common.server {
        ServerKind::Duet => duet::set_up_pair(common, names, candidates).await,
        ServerKind::Peerjs => peerjs::set_up_pair(common, names, candidates).await,
        ServerKind::Matchbox => matchbox::set_up_pair(common, &format!("{prefix}p{index}"), candidates).await,
        ServerKind::YWebrtc => ywebrtc::set_up_pair(common, names, candidates).await,
        ServerKind::AxumFloor | ServerKind::TcpFloor => floor::set_up_pair(common, candidates).await,
    }
}

/// One connection signed in as `name` (for idle connections: nobody messages it).
pub async fn sign_in(common: &Common, name: &str) -> anyhow::Result<Conn> {
    let (target, io_timeout) = (&common.target, common.io_timeout);
    match common.server {
        ServerKind::Duet => Ok(Conn::Ws(Client::connect_and_login(target, io_timeout, name).await?)),
        ServerKind::Peerjs => Ok(Conn::Ws(peerjs::sign_in(common, name).await?)),
        // A room of its own: joining a shared room tells every member (full mesh).
        ServerKind::Matchbox => Ok(Conn::Ws(matchbox::sign_in(common, name).await?.0)),
        ServerKind::YWebrtc => Ok(Conn::Ws(ywebrtc::sign_in(common, name).await?)),
        ServerKind::AxumFloor => Ok(Conn::Ws(Client::open(target, io_timeout, &target.url).await?)),
        ServerKind::TcpFloor => Ok(Conn::Tcp(floor::TcpConn::connect(common).await?)),
    }
}

/// `ws://HOST:PORT` of the target, for adapters that choose their own path.
pub fn origin(common: &Common) -> String {
    format!("ws://{}", common.target.address)
}
