//! `loadgen`: see the library docs and `loadgen --help`.

use clap::Parser;
use loadgen::{Cli, Common};
use serde_json::json;
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let loadgen::Command::RelayServer(args) = &cli.command {
        return relay_server(args);
    }
    let (target, mode) = match cli.validate() {
        Ok(checked) => checked,
        Err(message) => {
            eprintln!("loadgen: {message}");
            return ExitCode::from(2);
        }
    };
    let partner = match cli.partner() {
        Ok(partner) => partner.map(Arc::new),
        Err(message) => {
            eprintln!("loadgen: {message}");
            return ExitCode::from(2);
        }
    };
    // One thread: the generator is pinned to one core, and a single-threaded runtime is the
    // cheapest way to drive many sockets from it.
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("loadgen: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let common = Common {
        target: Arc::new(target),
        partner,
        server: cli.server,
        server_pid: cli.server_pid,
        extra_pids: cli.extra_pids.clone().into(),
        io_timeout: cli.io_timeout,
    };
    let outcome = runtime.block_on(loadgen::run(&common, &mode, cli.timeout));
    // Dropping the runtime ends whatever a timed-out run left behind.
    drop(runtime);
    match outcome {
        Ok(mut report) => {
            if let Some(fields) = report.as_object_mut() {
                fields.insert("tool".to_owned(), json!("loadgen"));
                fields.insert("label".to_owned(), json!(cli.label));
            }
            println!("{}", loadgen::summary(&report));
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("loadgen: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Serves a do-nothing relay on the runtime our server's `#[tokio::main]` builds.
fn relay_server(args: &loadgen::relay_server::RelayServerArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("loadgen: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(loadgen::relay_server::run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("loadgen relay-server: {error:#}");
            ExitCode::FAILURE
        }
    }
}
