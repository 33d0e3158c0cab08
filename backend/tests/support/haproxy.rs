//! Debian's HAProxy running the shipped `deploy/haproxy.cfg` for a test: only its listening
//! port, its `server` lines (the test's nodes) and a stats socket changed, everything else
//! (timeouts, balancing, health checks) as shipped; killed by PID on drop. Only `std` and
//! `tokio`: `backend/tests/load_balancer.rs` and `e2e/tests/call_across_nodes.rs` include it
//! with `#[path]`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Generous, for a loaded 2-core machine: HAProxy checks every second and needs two in a row.
pub const STATE_DEADLINE: Duration = Duration::from_secs(30);

/// `haproxy` running a copy of `deploy/haproxy.cfg` in a temporary folder; killed by PID on drop.
pub struct Haproxy {
    child: Child,
    pub address: SocketAddr,
    directory: PathBuf,
}

impl Haproxy {
    pub fn start(nodes: &[SocketAddr]) -> Haproxy {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port")
            .port();
        let address: SocketAddr = ([127, 0, 0, 1], port).into();
        let directory = std::env::temp_dir().join(format!("duet-test-haproxy-{}-{}", std::process::id(), port));
        std::fs::create_dir_all(&directory).expect("a temporary folder for haproxy");
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/haproxy.cfg");
        let shipped = std::fs::read_to_string(&shipped).expect("read deploy/haproxy.cfg");
        let config = test_config(&shipped, address, nodes, &directory.join("admin.sock"));
        let config_path = directory.join("haproxy.cfg");
        std::fs::write(&config_path, config).expect("write the test's haproxy.cfg");
        let log = std::fs::File::create(directory.join("haproxy.log")).expect("haproxy's log file");
        // Debian puts it in /usr/sbin, which a non-root PATH may lack.
        let program = if Path::new("/usr/sbin/haproxy").exists() { "/usr/sbin/haproxy" } else { "haproxy" };
        let child = Command::new(program)
            .arg("-db")
            .arg("-f")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log file"))
            .stderr(log)
            .spawn()
            .expect("run haproxy (scripts/setup installs Debian's haproxy)");
        let mut haproxy = Haproxy { child, address, directory };
        let deadline = Instant::now() + STATE_DEADLINE;
        while std::net::TcpStream::connect(address).is_err() || !haproxy.directory.join("admin.sock").exists() {
            if let Ok(Some(status)) = haproxy.child.try_wait() {
                panic!("haproxy exited at start ({status}):\n{}", haproxy.log());
            }
            assert!(Instant::now() < deadline, "haproxy did not listen on {address}:\n{}", haproxy.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        haproxy
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.directory.join("haproxy.log")).unwrap_or_default()
    }

    /// The state HAProxy gives each node (`UP`, `DOWN`, `UP 1/2`...), from `show stat`.
    pub fn node_states(&self) -> Vec<(String, String)> {
        use std::io::{Read, Write};
        let mut socket =
            std::os::unix::net::UnixStream::connect(self.directory.join("admin.sock")).expect("haproxy's stats socket");
        socket.write_all(b"show stat\n").expect("ask for the stats");
        let mut csv = String::new();
        socket.read_to_string(&mut csv).expect("read the stats");
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().unwrap_or_default().trim_start_matches("# ").split(',').collect();
        let column = |name: &str| header.iter().position(|field| *field == name).expect("a stats column");
        let (proxy, server, status) = (column("pxname"), column("svname"), column("status"));
        lines
            .map(|line| line.split(',').collect::<Vec<_>>())
            .filter(|fields| fields.len() > status && fields[proxy] == "duet_nodes" && fields[server] != "BACKEND")
            .map(|fields| (fields[server].to_owned(), fields[status].to_owned()))
            .collect()
    }

    /// Waits until HAProxy gives the nodes exactly these states, e.g. `[("node1", "UP"), ...]`.
    pub async fn wait_for_states(&self, wanted: &[(&str, &str)]) {
        let wanted: Vec<(String, String)> =
            wanted.iter().map(|(node, state)| ((*node).to_owned(), (*state).to_owned())).collect();
        let deadline = Instant::now() + STATE_DEADLINE;
        loop {
            let states = self.node_states();
            if states == wanted {
                return;
            }
            assert!(Instant::now() < deadline, "haproxy shows {states:?}, not {wanted:?}:\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.directory);
    }
}

/// The shipped config with the test's listening address, its nodes in place of the shipped
/// `server` lines, and a stats socket; everything else (timeouts, balancing, health checks) as
/// shipped.
fn test_config(shipped: &str, listen: SocketAddr, nodes: &[SocketAddr], stats_socket: &Path) -> String {
    let mut config = String::new();
    let mut servers_written = false;
    for line in shipped.lines() {
        let setting = line.trim_start();
        if setting.starts_with("bind ") {
            config.push_str(&format!("    bind {listen}\n"));
        } else if setting.starts_with("server ") {
            if !servers_written {
                for (index, node) in nodes.iter().enumerate() {
                    config.push_str(&format!("    server node{} {node}\n", index + 1));
                }
                servers_written = true;
            }
        } else {
            config.push_str(line);
            config.push('\n');
            if setting == "global" {
                config.push_str(&format!("    stats socket {} mode 600 level admin\n", stats_socket.display()));
            }
        }
    }
    assert!(servers_written, "deploy/haproxy.cfg lists no `server` line");
    config
}
