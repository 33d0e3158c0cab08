//! One WebSocket client connection speaking the signaling protocol (ours or the classic subset),
//! with every wait bounded by a timeout.

use crate::target::Target;
use anyhow::{anyhow, bail, Context};
use futures_util::{SinkExt, StreamExt};
use protocol::ServerMessage;
use std::time::Duration;
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

/// Which server answered: ours greets with a JSON `hello`, the classic one with plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Duet,
    Classic,
}

impl Flavor {
    pub fn as_str(self) -> &'static str {
        match self {
            Flavor::Duet => "duet",
            Flavor::Classic => "classic",
        }
    }
}

/// What a server frame is, as far as the load generator cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Hello,
    LoginOk,
    LoginRefused,
    Offer,
    Answer,
    Candidate,
    Leave,
    Error,
    Users,
    /// A message no load run waits for (`call_resumed`, `credentials`).
    Other,
    /// Not a JSON message (the classic server's "Hello world").
    NotJson,
}

/// Classifies a server frame. Relayed candidates (the hot path) are recognised by their prefix;
/// everything else goes through the protocol crate's parser.
pub fn classify(text: &str) -> Kind {
    if text.starts_with(r#"{"type":"candidate","#) {
        return Kind::Candidate;
    }
    match ServerMessage::from_json(text) {
        Ok(ServerMessage::Hello(_)) => Kind::Hello,
        Ok(ServerMessage::Login { success: true, .. }) => Kind::LoginOk,
        Ok(ServerMessage::Login { success: false, .. }) => Kind::LoginRefused,
        Ok(ServerMessage::Offer { .. }) => Kind::Offer,
        Ok(ServerMessage::Answer { .. }) => Kind::Answer,
        Ok(ServerMessage::Candidate { .. }) => Kind::Candidate,
        Ok(ServerMessage::Leave { .. }) => Kind::Leave,
        Ok(ServerMessage::Error { .. }) => Kind::Error,
        // Resumed calls and refreshed credentials: nothing a load run waits for.
        Ok(ServerMessage::CallResumed { .. } | ServerMessage::Credentials { .. }) => Kind::Other,
        // The online list, polled (`users`) or pushed (`presence`).
        Ok(ServerMessage::Users { .. } | ServerMessage::Presence { .. }) => Kind::Users,
        Err(_) => Kind::NotJson,
    }
}

/// A JSON string literal (names are generated ASCII, but escape anyway).
pub fn json_string(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

/// An `RTCIceCandidateInit` JSON value of exactly `bytes` bytes (or the shortest valid one when
/// `bytes` is smaller), varied by `seed`.
pub fn candidate_json(bytes: usize, seed: u32) -> String {
    let port = 40_000 + seed % 20_000;
    let head = format!(
        r#"{{"candidate":"candidate:842163049 1 udp 1677729535 127.0.0.1 {port} typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag lgen network-id 1"#
    );
    let tail = r#"","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"lgen"}"#;
    let fixed = head.len() + tail.len();
    let mut json = head;
    if bytes > fixed + 14 {
        json.push_str(" network-cost ");
        json.extend(std::iter::repeat_n('9', bytes - fixed - 14));
    }
    json.push_str(tail);
    json
}

/// An `RTCSessionDescriptionInit` JSON value of about `bytes` bytes (at least a minimal SDP).
pub fn sdp_json(kind: &str, bytes: usize) -> String {
    let mut sdp = String::from("v=0\\r\\no=- 4611731400430051336 2 IN IP4 127.0.0.1\\r\\ns=-\\r\\nt=0 0\\r\\na=group:BUNDLE 0\\r\\nm=video 9 UDP/TLS/RTP/SAVPF 96\\r\\nc=IN IP4 0.0.0.0\\r\\na=mid:0\\r\\n");
    let mut line = 0u32;
    while sdp.len() + 30 < bytes {
        sdp.push_str(&format!("a=rtcp-fb:96 nack pli {line}\\r\\n"));
        line += 1;
    }
    format!(r#"{{"type":"{kind}","sdp":"{sdp}"}}"#)
}

pub fn login_frame(name: &str) -> Utf8Bytes {
    Utf8Bytes::from(format!(r#"{{"type":"login","name":{}}}"#, json_string(name)))
}

pub fn offer_frame(to: &str, sdp: &str) -> Utf8Bytes {
    Utf8Bytes::from(format!(r#"{{"type":"offer","name":{},"offer":{sdp}}}"#, json_string(to)))
}

pub fn answer_frame(to: &str, sdp: &str) -> Utf8Bytes {
    Utf8Bytes::from(format!(r#"{{"type":"answer","name":{},"answer":{sdp}}}"#, json_string(to)))
}

pub fn candidate_frame(to: &str, candidate: &str) -> Utf8Bytes {
    Utf8Bytes::from(format!(r#"{{"type":"candidate","name":{},"candidate":{candidate}}}"#, json_string(to)))
}

pub fn leave_frame(to: &str) -> Utf8Bytes {
    Utf8Bytes::from(format!(r#"{{"type":"leave","name":{}}}"#, json_string(to)))
}

/// A TCP connection to the target (from its next source address), with Nagle off.
pub async fn connect_tcp(target: &Target, io_timeout: Duration) -> anyhow::Result<TcpStream> {
    let socket = if target.address.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    if let Some(source) = target.next_source() {
        socket.bind((source, 0).into()).with_context(|| format!("bind {source}"))?;
    }
    let stream = timeout(io_timeout, socket.connect(target.address))
        .await
        .map_err(|_| anyhow!("TCP connect timed out"))?
        .context("TCP connect")?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// A connected, greeted WebSocket client.
#[derive(Debug)]
pub struct Client {
    ws: WebSocketStream<TcpStream>,
    pub flavor: Flavor,
    io_timeout: Duration,
}

impl Client {
    /// Opens a TCP connection (from the target's next source address), upgrades it, and reads
    /// the greeting to tell which server this is.
    pub async fn connect(target: &Target, io_timeout: Duration) -> anyhow::Result<Client> {
        let mut client = Client::open(target, io_timeout, &target.url).await?;
        let greeting = client.recv().await.context("waiting for the greeting")?;
        client.flavor = if classify(&greeting) == Kind::Hello { Flavor::Duet } else { Flavor::Classic };
        Ok(client)
    }

    /// Opens a TCP connection (from the target's next source address) and upgrades it with a
    /// request for `url` (the target's own URL, or another path on the same server); reads nothing.
    pub async fn open(target: &Target, io_timeout: Duration, url: &str) -> anyhow::Result<Client> {
        let stream = connect_tcp(target, io_timeout).await?;
        let (ws, _response) = timeout(io_timeout, tokio_tungstenite::client_async(url, stream))
            .await
            .map_err(|_| anyhow!("WebSocket handshake timed out"))?
            .context("WebSocket handshake")?;
        Ok(Client { ws, flavor: Flavor::Duet, io_timeout })
    }

    /// Connects and logs in as `name`.
    pub async fn connect_and_login(target: &Target, io_timeout: Duration, name: &str) -> anyhow::Result<Client> {
        let mut client = Client::connect(target, io_timeout).await?;
        client.send(login_frame(name)).await?;
        client.expect(Kind::LoginOk).await.with_context(|| format!("login as {name}"))?;
        Ok(client)
    }

    pub async fn send(&mut self, text: Utf8Bytes) -> anyhow::Result<()> {
        timeout(self.io_timeout, self.ws.send(Message::Text(text)))
            .await
            .map_err(|_| anyhow!("send timed out"))?
            .context("send")
    }

    /// The next text frame (pings are answered by the library; other control frames skipped).
    pub async fn recv(&mut self) -> anyhow::Result<Utf8Bytes> {
        loop {
            let next = timeout(self.io_timeout, self.ws.next())
                .await
                .map_err(|_| anyhow!("no frame within {:?}", self.io_timeout))?;
            match next {
                None => bail!("the server closed the connection"),
                Some(Err(error)) => return Err(error).context("receive"),
                Some(Ok(Message::Text(text))) => return Ok(text),
                Some(Ok(Message::Close(frame))) => bail!("the server closed the connection ({frame:?})"),
                Some(Ok(Message::Binary(_))) => bail!("unexpected binary frame"),
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
            }
        }
    }

    /// The kind of the next text frame.
    pub async fn recv_kind(&mut self) -> anyhow::Result<Kind> {
        Ok(classify(&self.recv().await?))
    }

    /// Receives the next frame and fails unless it is of kind `wanted`.
    pub async fn expect(&mut self, wanted: Kind) -> anyhow::Result<()> {
        let text = self.recv().await?;
        let kind = classify(&text);
        if kind != wanted {
            let shown: String = text.as_str().chars().take(160).collect();
            bail!("expected {wanted:?}, got {kind:?}: {shown}");
        }
        Ok(())
    }

    /// Waits for the next frame or the end of the stream; for holding idle connections, where
    /// only pings (answered by the library) arrive. Returns false once the connection is gone.
    pub async fn idle_read(&mut self) -> bool {
        matches!(self.ws.next().await, Some(Ok(_)))
    }

    /// Closes with a close handshake and waits (bounded) for the server to end the stream.
    pub async fn close(mut self) {
        let io_timeout = self.io_timeout;
        let _ = timeout(io_timeout, async {
            let _ = self.ws.close(None).await;
            while let Some(Ok(_)) = self.ws.next().await {}
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidate_payload_has_the_requested_size_and_is_json() {
        for bytes in [257, 300, 1000] {
            let json = candidate_json(bytes, 7);
            assert_eq!(json.len(), bytes, "{json}");
            let value: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
            assert!(value["candidate"].as_str().is_some_and(|line| line.starts_with("candidate:")));
        }
        // Too small a request gives the shortest valid candidate.
        let minimal = candidate_json(10, 1);
        assert!(serde_json::from_str::<serde_json::Value>(&minimal).is_ok());
    }

    #[test]
    fn sdp_payload_is_json_of_about_the_requested_size() {
        let sdp = sdp_json("offer", 1024);
        let value: serde_json::Value = serde_json::from_str(&sdp).expect("valid JSON");
        assert_eq!(value["type"], "offer");
        assert!((1000..=1100).contains(&sdp.len()), "{}", sdp.len());
    }

    #[test]
    fn frames_are_messages_the_protocol_crate_accepts() {
        let candidate = candidate_json(257, 1);
        let sdp = sdp_json("answer", 200);
        for frame in [
            login_frame("lg-a1"),
            offer_frame("bob", &sdp),
            answer_frame("alice", &sdp),
            candidate_frame("bob", &candidate),
            leave_frame("bob"),
        ] {
            assert!(protocol::ClientMessage::from_json(frame.as_str()).is_ok(), "{}", frame.as_str());
        }
    }

    #[test]
    fn server_frames_are_classified() {
        assert_eq!(classify(r#"{"type":"candidate","candidate":{"candidate":"x"},"name":"bob"}"#), Kind::Candidate);
        assert_eq!(classify(r#"{"type":"candidate","candidate":null}"#), Kind::Candidate);
        assert_eq!(classify(r#"{"type":"login","success":true}"#), Kind::LoginOk);
        assert_eq!(classify(r#"{"type":"login","success":false}"#), Kind::LoginRefused);
        assert_eq!(classify(r#"{"type":"leave"}"#), Kind::Leave);
        assert_eq!(classify(r#"{"type":"answer","answer":{"type":"answer","sdp":""}}"#), Kind::Answer);
        assert_eq!(classify(r#"{"type":"error","message":"Command not found: x"}"#), Kind::Error);
        assert_eq!(classify("Hello world"), Kind::NotJson);
    }
}
