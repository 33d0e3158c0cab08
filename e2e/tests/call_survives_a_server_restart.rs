//! Browser test of a call that outlives its signaling server (issue 10): the real server binary
//! (its own process, a fixed port, an explicit `--resume-secret`) is killed with SIGKILL in the
//! middle of a call and started again on the same port a few seconds later. Meanwhile the
//! remote video keeps playing on both sides (media is peer to peer) under a small "Reconnecting
//! to the server…" notice; both apps reconnect and sign back in with their tokens and
//! `inCallWith` without a click, the new process (which never saw them) restores the pairing
//! (`call_resumed`), and a hang-up afterwards reaches the other side through it.
//!
//! Needs the backend binary built (`scripts/test` does) and a network namespace with only the
//! loopback interface (`scripts/test`).

mod common;

use common::backend_binary::{free_port, BackendProcess};
use common::*;
use std::time::Duration;

/// How long the server stays down.
const OUTAGE: Duration = Duration::from_secs(4);
/// How long both sides may take to sign back in and resume (the reconnect backoff waits up to 5 s).
const RESUME_TIMEOUT: Duration = Duration::from_secs(45);

const RECORD_PHASES: &str = r#"
    window.__duetPhases = [document.querySelector('.app').dataset.callPhase];
    setInterval(() => {
        const phase = document.querySelector('.app').dataset.callPhase;
        if (window.__duetPhases[window.__duetPhases.length - 1] !== phase) window.__duetPhases.push(phase);
    }, 50);
"#;

const SERVER_NOTICE: &str = "const notice = document.querySelector('.server-reconnecting[role=status]'); \
     return !!notice && notice.textContent.includes('Reconnecting to the server…');";

const RESUMED: &str = "return document.querySelector('.app').dataset.signaling === 'connected' \
     && !document.querySelector('.server-reconnecting') \
     && !!document.querySelector('.signed-in-as');";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_keeps_playing_through_a_server_crash_and_resumes_on_the_restarted_server() {
    require_loopback_only_network();
    let dist = built_app_directory();
    let log_directory = target_directory().join("e2e-logs");
    std::fs::create_dir_all(&log_directory).expect("create the log directory");
    let port = free_port();
    let secret = common::processes::random_hex(32);
    let flags = ["--resume-secret", secret.as_str(), "--call-resume-grace", "30s"];
    let server = BackendProcess::start(port, &dist, &flags, log_directory.join("server-restart-first.log")).await;
    let app_url = format!("http://127.0.0.1:{port}/");

    let mut driver = ChromeDriverProcess::start(&log_directory.join("chromedriver-server-restart.log"));
    driver.wait_until_listening().await;
    let silent = std::env::temp_dir().join(format!("duet-e2e-restart-silence-{}.wav", std::process::id()));
    write_silent_wav(&silent);
    let bob_arguments = [format!("--use-file-for-fake-audio-capture={}", silent.display())];
    let setup = MediaSetup::FakeCameraAndMicrophone;
    let alice = open_browser_with_arguments(driver.port, "alice", setup, &[]).await;
    let bob = open_browser_with_arguments(driver.port, "bob", setup, &bob_arguments).await;
    for person in [&alice, &bob] {
        person
            .client
            .goto(&app_url)
            .await
            .unwrap_or_else(|error| panic!("{}: could not open the app: {error}", person.name));
        person.sign_in(person.name).await;
        person.wait_for_signed_in().await;
    }
    alice.type_into_labelled_input("Name to call", "bob").await;
    alice.click_button("Call").await;
    bob.wait_for_phase("ringing").await;
    bob.click_button("Accept").await;
    for person in [&alice, &bob] {
        person.wait_until_remote_video_plays().await;
        person.run_script(RECORD_PHASES, vec![]).await;
    }

    // The server crashes: no close frame, every socket just breaks.
    server.kill_hard();
    for person in [&alice, &bob] {
        person.wait_for("the small 'Reconnecting to the server…' notice", SERVER_NOTICE).await;
        person.wait_for_new_remote_frames().await;
    }
    tokio::time::sleep(OUTAGE).await;
    for person in [&alice, &bob] {
        person.wait_for_new_remote_frames().await;
        person.wait_for_phase("in-call").await;
    }

    // The same binary, options and port again: a process that has never seen these sessions.
    let server = BackendProcess::start(port, &dist, &flags, log_directory.join("server-restart-second.log")).await;
    for person in [&alice, &bob] {
        let resumed = person.client.execute(RESUMED, vec![]).await.ok();
        if resumed != Some(serde_json::json!(true)) {
            person.wait_for_within("signed back in and the call resumed", RESUMED, RESUME_TIMEOUT).await;
        }
    }
    for person in [&alice, &bob] {
        person.wait_for_new_remote_frames().await;
        let phases = person.run_script("return JSON.stringify(window.__duetPhases);", vec![]).await;
        assert_eq!(phases, serde_json::json!("[\"in-call\"]"), "{}: the same call throughout", person.name);
        let summary = person.page_summary().await;
        assert!(!summary.contains("Connection lost"), "{}: {summary}\nserver log:\n{}", person.name, server.log_tail());
    }

    // The restarted server pairs them again: a hang-up goes through it to the other side.
    alice.click_button("Hang up").await;
    alice.wait_for_phase("idle").await;
    bob.wait_for_notice("alice hung up").await;
    bob.wait_for_phase("idle").await;

    alice.close().await;
    bob.close().await;
    drop(driver);
    drop(server);
}
