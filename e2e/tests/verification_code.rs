//! Browser test of the verification code in real Chromium: both screens show the same words with
//! the sentence naming the other person, the next call shows other words, and each call's
//! peer connection has its own DTLS certificates (bob's page records the `a=fingerprint` lines of
//! its connections' local and remote descriptions: strings only, no SDP goes back). A changed
//! commitment is caught in `verification_code_tampered.rs`.
//!
//! Must run in a network namespace with only the loopback interface (`scripts/test`).

mod common;

use common::two_browsers::WATCH_CONNECTIONS;
use common::*;

/// The latest connection's local and remote fingerprint lines, "LOCAL|REMOTE".
const LATEST_FINGERPRINTS: &str = r#"
    const connection = window.__duetConnections[window.__duetConnections.length - 1];
    const lines = (description) => (description ? description.sdp : '').split(/\r?\n/)
        .filter(line => line.startsWith('a=fingerprint:')).sort().join(',');
    return lines(connection.localDescription) + '|' + lines(connection.remoteDescription);
"#;

const CODE: &str =
    "const code = document.querySelector('[aria-label=\"Verification code\"]'); return code ? code.textContent : '';";

/// Waits for the code and checks the sentence around it; returns the code.
async fn shown_code(person: &Person, peer: &str) -> String {
    let code = person.wait_for("the verification code", CODE).await.as_str().unwrap_or_default().to_owned();
    let words: Vec<&str> = code.split(' ').collect();
    assert_eq!(words.len(), 4, "{}: four words: {code:?}", person.name);
    assert!(words.iter().all(|word| !word.is_empty() && word.chars().all(|c| c.is_ascii_lowercase())), "{code:?}");
    let sentence =
        format!("Read this to {peer}; if it matches on both screens, nobody in between can see or hear the call.");
    let shown = person
        .run_script(
            "return [...document.querySelectorAll('.verification p')].map(p => p.textContent).join('\\n');",
            vec![],
        )
        .await;
    assert!(shown.as_str().unwrap_or_default().contains(&sentence), "{}: {shown}", person.name);
    code
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_codes_match_on_both_screens_and_change_with_the_next_call() {
    let people = two_people_signed_in_with_bob_preload(&[], &[], Some(WATCH_CONNECTIONS)).await;
    let (alice, bob) = (&people.alice, &people.bob);

    people.alice_calls_bob().await;
    let first_code = shown_code(alice, "bob").await;
    assert_eq!(shown_code(bob, "alice").await, first_code, "both screens show the same code");
    let first_fingerprints = bob.run_script(LATEST_FINGERPRINTS, vec![]).await.as_str().unwrap_or_default().to_owned();
    let (local, remote) = first_fingerprints.split_once('|').expect("LOCAL|REMOTE");
    assert!(local.starts_with("a=fingerprint:") && remote.starts_with("a=fingerprint:"), "{first_fingerprints}");
    bob.save_screenshot("verification-code-bob.png").await;

    alice.click_button("Hang up").await;
    bob.wait_for_phase("idle").await;
    let gone = "return !document.querySelector('[aria-label=\"Verification code\"]');";
    bob.wait_for("the code to go with the call", gone).await;

    people.alice_calls_bob().await;
    let second_code = shown_code(alice, "bob").await;
    assert_eq!(shown_code(bob, "alice").await, second_code);
    assert_ne!(second_code, first_code, "every call has its own code");
    let second_fingerprints = bob.run_script(LATEST_FINGERPRINTS, vec![]).await.as_str().unwrap_or_default().to_owned();
    let (second_local, second_remote) = second_fingerprints.split_once('|').expect("LOCAL|REMOTE");
    assert_ne!(second_local, local, "bob's certificate is new for the second call");
    assert_ne!(second_remote, remote, "alice's certificate is new for the second call");
    people.close().await;
}
