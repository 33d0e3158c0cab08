//! Test harness: the real server on 127.0.0.1:0 and a small WebSocket client.
// Every test binary compiles this module but uses only part of it.
#![allow(dead_code)]

pub mod resume;
pub mod server_binary;
/// A real redis-server on a free loopback port (shared with the unit tests of `cluster/`).
#[path = "../../src/cluster/test_redis.rs"]
pub mod test_redis;

use backend::{AppState, Config};
use futures_util::{SinkExt, StreamExt};
use protocol::ServerMessage;
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Generous: only hit when something is broken.
pub const RECEIVE_TIMEOUT: Duration = Duration::from_secs(10);

pub const SDP_OFFER: &str = r#"{"type":"offer","sdp":"v=0\r\no=- 46117 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"}"#;
pub const SDP_ANSWER: &str = r#"{ "type" : "answer","sdp":"v=0\r\no=- 99 2 IN IP4 127.0.0.1\r\n" }"#;
pub const CANDIDATE: &str = r#"{"candidate":"candidate:842163049 1 udp 1677729535 127.0.0.1 46154 typ srflx raddr 0.0.0.0 rport 0 generation 0","sdpMid":"0","sdpMLineIndex":0}"#;

pub struct TestServer {
    pub address: SocketAddr,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(Config::default()).await
    }

    pub async fn start_with(config: Config) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let address = listener.local_addr().expect("local address");
        // Alone in memory, or a cluster node with `redis_url` set.
        let state = AppState::start(config).await.expect("the server starts");
        let (shutdown, shutdown_signal) = oneshot::channel::<()>();
        let task = tokio::spawn(backend::run(listener, state.clone(), async move {
            let _ = shutdown_signal.await;
        }));
        TestServer { address, state, shutdown: Some(shutdown), task: Some(task) }
    }

    pub fn url(&self, path: &str) -> String {
        format!("ws://{}{}", self.address, path)
    }

    /// Connects on `/` and checks the first frame is the JSON `hello`.
    pub async fn connect(&self) -> Client {
        self.connect_path("/").await
    }

    pub async fn connect_path(&self, path: &str) -> Client {
        let mut client = Client::connect_raw(&self.url(path)).await;
        let hello = client.receive_json().await;
        assert_eq!(hello["type"], "hello", "first frame must be the JSON hello, got {hello}");
        client
    }

    pub async fn login(&self, name: &str) -> Client {
        let mut client = self.connect().await;
        client.send_text(&format!(r#"{{"type":"login","name":"{name}"}}"#)).await;
        let reply = client.receive_json().await;
        assert_eq!(reply["type"], "login", "{reply}");
        assert_eq!(reply["success"], true, "login as {name} failed: {reply}");
        client
    }

    /// Requests shutdown and waits for `run` to return.
    pub async fn shut_down(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(15), task)
                .await
                .expect("server stops within the drain timeout")
                .expect("server task did not panic")
                .expect("server returned no error");
        }
    }
}

pub struct Client {
    pub socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Client {
    pub async fn connect_raw(url: &str) -> Client {
        let (socket, _) =
            tokio_tungstenite::connect_async_with_config(url, None, true).await.expect("WebSocket connects");
        Client { socket }
    }

    pub async fn send_text(&mut self, text: &str) {
        self.socket.send(Message::text(text)).await.expect("send text frame");
    }

    pub async fn send_message(&mut self, message: Message) {
        self.socket.send(message).await.expect("send frame");
    }

    /// The next text frame (pings are answered by tungstenite and skipped).
    pub async fn receive_text(&mut self) -> String {
        self.receive_text_within(RECEIVE_TIMEOUT).await
    }

    pub async fn receive_text_within(&mut self, limit: Duration) -> String {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .unwrap_or_else(|_| panic!("no frame within {limit:?}"));
            match frame {
                Some(Ok(Message::Text(text))) => return text.to_string(),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    pub async fn receive_json(&mut self) -> Value {
        let text = self.receive_text().await;
        serde_json::from_str(&text).unwrap_or_else(|error| panic!("server sent non-JSON {text:?}: {error}"))
    }

    pub async fn receive_message(&mut self) -> ServerMessage {
        let text = self.receive_text().await;
        ServerMessage::from_json(&text)
            .unwrap_or_else(|error| panic!("server sent {text:?}, not a ServerMessage: {error}"))
    }

    /// Receives an `error` and returns its code.
    pub async fn receive_error_code(&mut self) -> String {
        let reply = self.receive_json().await;
        assert_eq!(reply["type"], "error", "expected an error, got {reply}");
        assert!(
            reply["message"].as_str().is_some_and(|message| !message.is_empty()),
            "error without a message: {reply}"
        );
        reply["code"].as_str().unwrap_or_else(|| panic!("error without code: {reply}")).to_owned()
    }

    /// Asserts nothing but pings arrives for `quiet`.
    pub async fn expect_silence(&mut self, quiet: Duration) {
        let deadline = tokio::time::Instant::now() + quiet;
        loop {
            match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Err(_) => return,
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                Ok(other) => panic!("expected silence, got {other:?}"),
            }
        }
    }

    /// Waits for the server to close the connection; returns the close code if one was sent.
    pub async fn expect_closed(&mut self, limit: Duration) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Err(_) => panic!("connection still open after {limit:?}"),
                Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|frame| u16::from(frame.code)),
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(_)) | None) => return None,
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

/// alice calls bob and bob accepts; both first frames consumed.
pub async fn connected_call(alice: &mut Client, bob: &mut Client) {
    alice.send_text(&format!(r#"{{"type":"offer","name":"bob","offer":{SDP_OFFER}}}"#)).await;
    assert_eq!(bob.receive_json().await["type"], "offer");
    bob.send_text(&format!(r#"{{"type":"answer","name":"alice","answer":{SDP_ANSWER}}}"#)).await;
    assert_eq!(alice.receive_json().await["type"], "answer");
}

/// A plain HTTP/1.1 GET; returns (status, body).
pub async fn http_get(address: SocketAddr, path: &str, extra_headers: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(address).await.expect("connect for HTTP");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n{extra_headers}\r\n");
    stream.write_all(request.as_bytes()).await.expect("write request");
    let mut response = Vec::new();
    tokio::time::timeout(RECEIVE_TIMEOUT, stream.read_to_end(&mut response))
        .await
        .expect("response in time")
        .expect("read response");
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response.get(9..12).and_then(|code| code.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    (status, body)
}

/// Tries a WebSocket handshake with extra request headers; Ok(client) or the HTTP status.
pub async fn try_connect_with_headers(url: &str, headers: &[(&str, &str)]) -> Result<Client, u16> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = url.into_client_request().expect("valid URL");
    for (name, value) in headers {
        request.headers_mut().insert(
            tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            value.parse().expect("header value"),
        );
    }
    match tokio_tungstenite::connect_async_with_config(request, None, true).await {
        Ok((socket, _)) => Ok(Client { socket }),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
        Err(other) => panic!("handshake failed for another reason: {other}"),
    }
}

/// The value of one sample line of a Prometheus text exposition, e.g. `duet_users_online`.
pub fn metric_value(exposition: &str, sample: &str) -> f64 {
    exposition
        .lines()
        .find_map(|line| line.strip_prefix(sample).and_then(|rest| rest.strip_prefix(' ')))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no sample {sample} in:\n{exposition}"))
}

/// A WebSocket client that writes raw frames (fragments, invalid UTF-8, protocol errors) and
/// reads the server's frames itself, over a TCP socket whose receive buffer can be made small.
pub struct RawClient {
    pub reader: tokio::net::tcp::OwnedReadHalf,
    pub writer: tokio::net::tcp::OwnedWriteHalf,
}

pub const OPCODE_CONTINUATION: u8 = 0x0;
pub const OPCODE_TEXT: u8 = 0x1;
pub const OPCODE_CLOSE: u8 = 0x8;
pub const OPCODE_PING: u8 = 0x9;
pub const OPCODE_PONG: u8 = 0xA;

/// How reading a raw connection to its end went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawEnding {
    /// A close frame with this code arrived.
    Closed(u16),
    /// The connection ended (EOF or reset) without a close frame.
    NoCloseFrame(String),
}

impl RawClient {
    /// Connects on `/`, upgrades, and reads the `hello`.
    pub async fn connect(address: SocketAddr) -> RawClient {
        RawClient::connect_with_receive_buffer(address, None).await
    }

    /// Like [`RawClient::connect`] with the socket's receive buffer set to `bytes` (the kernel
    /// rounds it up), so what the server sends piles up in the server's send queue.
    pub async fn connect_with_receive_buffer(address: SocketAddr, bytes: Option<u32>) -> RawClient {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        if let Some(bytes) = bytes {
            socket.set_recv_buffer_size(bytes).expect("SO_RCVBUF");
        }
        let mut stream = socket.connect(address).await.expect("connect");
        let request = format!(
            "GET / HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.expect("write upgrade request");
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            head.push(stream.read_u8().await.expect("read the response head"));
        }
        let head = String::from_utf8_lossy(&head);
        assert!(head.starts_with("HTTP/1.1 101"), "no upgrade: {head}");
        assert!(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "wrong accept key: {head}");
        let (reader, writer) = stream.into_split();
        let mut client = RawClient { reader, writer };
        let (opcode, hello) = client.read_frame().await.expect("read hello").expect("a hello frame");
        assert_eq!(opcode, OPCODE_TEXT);
        assert!(String::from_utf8_lossy(&hello).contains(r#""type":"hello""#));
        client
    }

    /// A masked client frame.
    pub fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut bytes = vec![u8::from(fin) << 7 | opcode];
        RawClient::push_length_and_mask(&mut bytes, payload.len() as u64);
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        bytes.extend(payload.iter().enumerate().map(|(index, byte)| byte ^ mask[index % 4]));
        bytes
    }

    /// A frame header announcing `length` payload bytes (mask included).
    pub fn header(fin: bool, opcode: u8, length: u64) -> Vec<u8> {
        let mut bytes = vec![u8::from(fin) << 7 | opcode];
        RawClient::push_length_and_mask(&mut bytes, length);
        bytes
    }

    fn push_length_and_mask(bytes: &mut Vec<u8>, length: u64) {
        match length {
            0..=125 => bytes.push(0x80 | length as u8),
            126..=0xFFFF => {
                bytes.push(0x80 | 126);
                bytes.extend_from_slice(&(length as u16).to_be_bytes());
            }
            _ => {
                bytes.push(0x80 | 127);
                bytes.extend_from_slice(&length.to_be_bytes());
            }
        }
        bytes.extend_from_slice(&[0x37, 0xfa, 0x21, 0x3d]);
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        use tokio::io::AsyncWriteExt;
        self.writer.write_all(bytes).await
    }

    pub async fn send_frame(&mut self, fin: bool, opcode: u8, payload: &[u8]) -> std::io::Result<()> {
        self.send_raw(&RawClient::frame(fin, opcode, payload)).await
    }

    /// The next frame from the server, `None` at EOF.
    pub async fn read_frame(&mut self) -> std::io::Result<Option<(u8, Vec<u8>)>> {
        read_server_frame(&mut self.reader).await
    }

    /// Reads frames until the close frame (or the end of the connection), within `limit`.
    pub async fn read_until_close(&mut self, limit: Duration) -> RawEnding {
        read_until_close(&mut self.reader, limit).await
    }
}

/// The next (unmasked) frame from the server, `None` at EOF.
pub async fn read_server_frame(
    reader: &mut (impl tokio::io::AsyncRead + Unpin),
) -> std::io::Result<Option<(u8, Vec<u8>)>> {
    use tokio::io::AsyncReadExt;
    let mut start = [0; 2];
    match reader.read_exact(&mut start).await {
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(error) => return Err(error),
    }
    let length = match start[1] & 0x7F {
        126 => u64::from(reader.read_u16().await?),
        127 => reader.read_u64().await?,
        length => u64::from(length),
    };
    let mut payload = vec![0; length as usize];
    reader.read_exact(&mut payload).await?;
    Ok(Some((start[0] & 0x0F, payload)))
}

/// Reads frames until the close frame (or the end of the connection), within `limit`.
pub async fn read_until_close(reader: &mut (impl tokio::io::AsyncRead + Unpin), limit: Duration) -> RawEnding {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, read_server_frame(reader)).await {
            Err(_) => panic!("no close frame nor end of the connection within {limit:?}"),
            Ok(Ok(Some((OPCODE_CLOSE, payload)))) => {
                let code = payload.get(..2).map_or(1005, |code| u16::from_be_bytes([code[0], code[1]]));
                return RawEnding::Closed(code);
            }
            Ok(Ok(Some(_))) => continue,
            Ok(Ok(None)) => return RawEnding::NoCloseFrame("end of stream".into()),
            Ok(Err(error)) => return RawEnding::NoCloseFrame(error.to_string()),
        }
    }
}
