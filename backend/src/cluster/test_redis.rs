//! A real `redis-server` for tests (Debian package `redis-server`, installed by `scripts/setup`):
//! started on a free 127.0.0.1 port in its own temporary directory, without persistence, and
//! killed by PID when dropped (also when the test panics). It can be killed and started again
//! on the same port, for the "Redis down and back" tests.
//!
//! Only `std`: unit tests include it as `crate::cluster::test_redis`, integration tests through
//! `backend/tests/common/` with `#[path]`, and a scratch benchmark crate the same way.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Generous: a loaded 2-core machine can take a while to start a process.
const START_DEADLINE: Duration = Duration::from_secs(20);

/// A `redis-server` process owned by a test.
#[derive(Debug)]
pub struct TestRedis {
    port: u16,
    directory: PathBuf,
    process: Option<Child>,
}

impl TestRedis {
    /// Starts `redis-server` on a free loopback port and waits until it answers `PING`.
    pub fn start() -> TestRedis {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let unique = NEXT.fetch_add(1, Ordering::Relaxed);
        let directory = std::env::temp_dir().join(format!("duet-test-redis-{}-{unique}", std::process::id()));
        std::fs::create_dir_all(&directory).expect("a temporary directory for redis-server");
        let mut last_error = String::new();
        // A port found free can be taken by someone else before redis-server binds it: retry.
        for _ in 0..5 {
            let mut redis = TestRedis { port: free_port(), directory: directory.clone(), process: None };
            match redis.spawn_and_wait() {
                Ok(()) => return redis,
                Err(error) => last_error = error,
            }
        }
        panic!("redis-server did not start: {last_error}");
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:PORT/`, for a client.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(Child::id)
    }

    /// Kills the server (SIGKILL, by PID) and waits for it to exit: every connection drops.
    pub fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }

    /// Starts the server again on the same port (empty: no persistence); panics if it cannot.
    pub fn restart(&mut self) {
        self.kill();
        let started = Instant::now();
        // The port can linger briefly after the kill; keep trying until the deadline.
        loop {
            match self.spawn_and_wait() {
                Ok(()) => return,
                Err(error) if started.elapsed() > START_DEADLINE => panic!("redis-server did not restart: {error}"),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    fn spawn_and_wait(&mut self) -> Result<(), String> {
        let port = self.port.to_string();
        let mut process = Command::new("redis-server")
            .args(["--port", &port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--protected-mode", "yes", "--daemonize", "no", "--loglevel", "warning"])
            .arg("--dir")
            .arg(&self.directory)
            .current_dir(&self.directory)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| format!("cannot run redis-server (scripts/setup installs it): {error}"))?;
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            if let Ok(Some(status)) = process.try_wait() {
                return Err(format!("redis-server exited at start ({status}) on port {port}"));
            }
            if answers_ping(self.port) {
                self.process = Some(process);
                return Ok(());
            }
            if Instant::now() > deadline {
                let _ = process.kill();
                let _ = process.wait();
                return Err(format!("redis-server on port {port} did not answer PING in time"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)).expect("a free loopback port");
    listener.local_addr().expect("its address").port()
}

/// Whether a server on `port` answers `PING` with `+PONG`.
pub fn answers_ping(port: u16) -> bool {
    let address = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port).into();
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(500)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut reply = [0u8; 7];
    stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
}
