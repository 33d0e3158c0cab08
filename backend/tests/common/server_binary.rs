//! The real `backend` binary as its own process (for tests that need its memory figures, or more
//! connections than one process may hold with the clients beside it), stopped by PID on drop.

use super::Client;
use std::io::BufRead;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

/// The server process; killed and reaped when dropped, also when the test panics.
pub struct ServerProcess(pub Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The resident memory of process `pid`, in KiB.
pub fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS line")
}

/// Starts the binary on 127.0.0.1 (a free port, no rate limit) with `extra_flags`, and returns
/// it with the address it logged.
pub fn start_server_binary(extra_flags: &[&str]) -> (ServerProcess, SocketAddr) {
    // An explicit secret: the default secret file would land in the repository.
    let flags: Vec<&str> =
        ["--resume-secret", TEST_RESUME_SECRET].into_iter().chain(extra_flags.iter().copied()).collect();
    start_server_binary_in(None, &flags)
}

/// The resume secret of test servers (hex, 16 bytes).
pub const TEST_RESUME_SECRET: &str = "000102030405060708090a0b0c0d0e0f";

/// Like [`start_server_binary`], in `working_directory` if given, without the environment's
/// resume secret (so the secret comes from the flags or the working directory's file).
pub fn start_server_binary_in(
    working_directory: Option<&std::path::Path>,
    extra_flags: &[&str],
) -> (ServerProcess, SocketAddr) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_backend"));
    if let Some(directory) = working_directory {
        command.current_dir(directory);
    }
    let mut child = command
        .args(["--bind", "127.0.0.1", "--port", "0", "--rate-limit", "0", "--log-format", "json"])
        .args(extra_flags)
        .env("RUST_LOG", "warn,backend=info")
        .env_remove("DUET_RESUME_SECRET")
        .env_remove("DUET_RESUME_SECRET_FILE")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the backend binary");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = std::io::BufReader::new(stdout).lines();
    let address = loop {
        let line = lines.next().expect("the server logs where it listens").expect("read log");
        let log: serde_json::Value = serde_json::from_str(&line).expect("JSON log line");
        if let Some(address) = log["fields"]["address"].as_str() {
            break address.parse().expect("socket address");
        }
    };
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (ServerProcess(child), address)
}

/// A client signed in as `name` on the server at `address`.
pub async fn login_at(address: SocketAddr, name: &str) -> Client {
    let mut client = Client::connect_raw(&format!("ws://{address}/")).await;
    client.receive_json().await;
    client.send_text(&format!(r#"{{"type":"login","name":"{name}"}}"#)).await;
    assert_eq!(client.receive_json().await["success"], true);
    client
}
