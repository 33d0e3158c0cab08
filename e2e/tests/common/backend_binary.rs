//! The real `backend` binary as a process of its own, for a test that kills the signaling
//! server (SIGKILL, as a crash would) and starts it again on the same port: found next to the
//! test executable (`target/<profile>/backend`; `scripts/test` builds it with
//! `cargo test --workspace --no-run`), serving this worktree's `dist/`, with an explicit resume
//! secret so the restarted process accepts the tokens the first one issued.

use super::processes::{last_lines, wait_until_listening};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// `target/<profile>/backend`, beside the `deps/` folder this test runs from.
pub fn backend_binary() -> PathBuf {
    let test_executable = std::env::current_exe().expect("the test executable's path");
    let profile_directory = test_executable
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test runs from target/<profile>/deps/")
        .to_path_buf();
    let binary = profile_directory.join("backend");
    assert!(
        binary.is_file(),
        "{} is missing: build it first (`cargo build -p backend`, or ./scripts/test, which runs \
         `cargo test --workspace --no-run`)",
        binary.display()
    );
    binary
}

/// A free TCP port on 127.0.0.1 (free now; the server binds it right after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

/// One run of the server binary; killed and reaped when dropped, also when the test panics.
pub struct BackendProcess {
    child: Child,
    pub port: u16,
    log_path: PathBuf,
}

impl BackendProcess {
    /// Starts the binary on 127.0.0.1:`port` serving `static_dir`, with `extra_flags`, its log
    /// appended to `log_path`; returns once it accepts connections.
    pub async fn start(port: u16, static_dir: &std::path::Path, extra_flags: &[&str], log_path: PathBuf) -> Self {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&log_path).expect("open the server log");
        let mut child = Command::new(backend_binary())
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .arg("--static-dir")
            .arg(static_dir)
            .args(extra_flags)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|error| panic!("could not start {}: {error}", backend_binary().display()));
        let tail = log_path.clone();
        wait_until_listening(&mut child, "backend", port, move || {
            format!("; its log ends with:\n{}", last_lines(&tail, 15))
        })
        .await;
        BackendProcess { child, port, log_path }
    }

    /// SIGKILL, as a crash would: no close frame, no goodbye to anyone.
    pub fn kill_hard(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The end of the server's log, for failure messages.
    pub fn log_tail(&self) -> String {
        last_lines(&self.log_path, 30)
    }
}

impl Drop for BackendProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
