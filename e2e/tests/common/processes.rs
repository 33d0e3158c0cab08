//! Processes a browser test starts and stops by PID: chromedriver (with the browsers it
//! starts, as one process group), the in-process signaling server, and Debian's coturn.

use super::POLL_INTERVAL;
use backend::{AppState, Config};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// chromedriver on a free 127.0.0.1 port, killed (with the browsers it started) when dropped,
/// also when the test panics.
pub struct ChromeDriverProcess {
    child: Child,
    pub port: u16,
}

impl ChromeDriverProcess {
    pub fn start(log_path: &Path) -> ChromeDriverProcess {
        let port = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|listener| listener.local_addr())
            .expect("a free port on 127.0.0.1")
            .port();
        let mut command = Command::new("chromedriver");
        command
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log_path.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own process group, so Drop can end chromedriver and the browsers it started.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().unwrap_or_else(|error| {
            panic!("could not start chromedriver ({error}); run ./scripts/setup to install chromium-driver")
        });
        ChromeDriverProcess { child, port }
    }

    pub async fn wait_until_listening(&mut self) {
        wait_until_listening(&mut self.child, "chromedriver", self.port, String::new).await;
    }
}

impl Drop for ChromeDriverProcess {
    fn drop(&mut self) {
        let process_group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &process_group]).stderr(Stdio::null()).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The signaling server serving `dist/`, stopped when dropped.
pub struct ServerHandle {
    pub address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl ServerHandle {
    /// Starts `config` in-process on 127.0.0.1 (`config.port`, 0 for a free one): plain HTTP and
    /// WebSocket, or https:// and wss:// with `tls` (`backend::run_tls`).
    pub async fn start(mut config: Config, tls: Option<&backend::tls::TlsSetup>) -> ServerHandle {
        let port = config.port;
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .await
            .unwrap_or_else(|error| panic!("bind 127.0.0.1:{port}: {error}"));
        let address = listener.local_addr().expect("local address");
        config.bind = Ipv4Addr::LOCALHOST.into();
        config.port = address.port();
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let state = AppState::new(config);
        let task = match tls {
            Some(tls) => tokio::spawn(backend::run_tls(listener, tls.config.clone(), state, shutdown)),
            None => tokio::spawn(backend::run(listener, state, shutdown)),
        };
        ServerHandle { address, stop: Some(stop), task: Some(task) }
    }

    /// Stops the server the way a deploy does (WebSockets closed with 1012) and waits for it.
    pub async fn stop_and_wait(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let finished = tokio::time::timeout(Duration::from_secs(10), task).await;
            assert!(finished.is_ok(), "the server did not stop within 10 s");
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Debian's coturn on 127.0.0.1 (a free port, UDP and TCP), TURN REST auth with a fresh random
/// secret; killed by PID when dropped, also when the test panics.
pub struct TurnServerProcess {
    child: Child,
    pub port: u16,
    pub secret: String,
    log_path: PathBuf,
}

/// Relay ports for coturn: above Linux's default ephemeral range (32768-60999), so they do not
/// collide with the browsers' own sockets.
const TURN_RELAY_PORTS: (u16, u16) = (61000, 61999);

/// `bytes` random bytes from the OS, as hex (TURN and resume secrets).
pub fn random_hex(bytes: usize) -> String {
    use std::io::Read;
    let mut buffer = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut buffer))
        .expect("read /dev/urandom");
    buffer.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A port free for both UDP and TCP on 127.0.0.1.
fn free_udp_and_tcp_port() -> u16 {
    for _ in 0..50 {
        let udp = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("a UDP socket on 127.0.0.1");
        let port = udp.local_addr().expect("its address").port();
        if std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
    panic!("no port free for both UDP and TCP on 127.0.0.1 after 50 tries");
}

impl TurnServerProcess {
    pub fn start(log_path: &Path) -> TurnServerProcess {
        let port = free_udp_and_tcp_port();
        let secret = random_hex(16);
        // coturn writes (and flushes) its own log file, so a failure can quote it while it runs;
        // its pid file and (unused) user database stay next to it instead of in /var.
        let _ = std::fs::remove_file(log_path);
        let state_directory = log_path.parent().expect("the log directory");
        let child = Command::new("turnserver")
            .args([
                "-n".to_owned(),
                "--listening-ip=127.0.0.1".to_owned(),
                "--relay-ip=127.0.0.1".to_owned(),
                format!("--listening-port={port}"),
                "--use-auth-secret".to_owned(),
                format!("--static-auth-secret={secret}"),
                "--realm=duet".to_owned(),
                "--allow-loopback-peers".to_owned(),
                "--no-cli".to_owned(),
                "--no-tls".to_owned(),
                "--no-dtls".to_owned(),
                format!("--min-port={}", TURN_RELAY_PORTS.0),
                format!("--max-port={}", TURN_RELAY_PORTS.1),
                "--fingerprint".to_owned(),
                format!("--log-file={}", log_path.display()),
                "--simple-log".to_owned(),
                format!("--pidfile={}", state_directory.join("turnserver.pid").display()),
                format!("--userdb={}", state_directory.join("turnserver.sqlite").display()),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("could not start turnserver ({error}); run ./scripts/setup to install coturn")
            });
        TurnServerProcess { child, port, secret, log_path: log_path.to_path_buf() }
    }

    pub fn log_tail(&self) -> String {
        last_lines(&self.log_path, 15)
    }

    /// Waits until coturn accepts TCP on its port (it opens UDP and TCP listeners together).
    pub async fn wait_until_listening(&mut self) {
        let log_path = self.log_path.clone();
        let log_tail = move || format!("; its log ends with:\n{}", last_lines(&log_path, 15));
        wait_until_listening(&mut self.child, "turnserver", self.port, log_tail).await;
    }

    pub fn url(&self) -> String {
        format!("turn:127.0.0.1:{}?transport=udp", self.port)
    }
}

impl Drop for TurnServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `child` (called `program` in failures) accepts TCP on 127.0.0.1:`port`, for at most
/// 15 s; fails early if it exits. `more` adds to a failure message (say, the end of its log).
pub(super) async fn wait_until_listening(child: &mut Child, program: &str, port: u16, more: impl Fn() -> String) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await.is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{program} exited early with {status}{}", more());
        }
        assert!(Instant::now() < deadline, "{program} did not listen on 127.0.0.1:{port} within 15 s{}", more());
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// The last `count` lines of the text file at `path` (empty when it cannot be read).
pub(super) fn last_lines(path: &Path, count: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(count)..].join("\n")
}
