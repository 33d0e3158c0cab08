//! Browser test of a verification commitment changed on the way, in real Chromium: bob's page
//! rewrites the commitment in its answer before it reaches the server (what a lying server in
//! between would do; no test hook in the app), so bob's reveal does not open the commitment
//! alice received: alice sees a warning that someone in between may see and hear the call, and
//! no code.
//!
//! Must run in a network namespace with only the loopback interface (`scripts/test`).

mod common;

use common::*;

/// Rewrites the commitment in every answer the page sends (counted in `__duetTampered`).
const TAMPER_WITH_THE_ANSWER: &str = r#"
    window.__duetTampered = 0;
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (data) {
        if (typeof data === 'string') {
            const message = JSON.parse(data);
            if (message.type === 'answer' && message.answer && message.answer.duetCommitment) {
                message.answer.duetCommitment = '00'.repeat(32);
                window.__duetTampered += 1;
                data = JSON.stringify(message);
            }
        }
        return send.call(this, data);
    };
"#;

const CODE: &str =
    "const code = document.querySelector('[aria-label=\"Verification code\"]'); return code ? code.textContent : '';";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commitment_changed_on_the_way_is_shown_as_a_warning() {
    let people = two_people_signed_in_with_bob_preload(&[], &[], Some(TAMPER_WITH_THE_ANSWER)).await;
    let (alice, bob) = (&people.alice, &people.bob);
    people.alice_calls_bob().await;
    alice.wait_for_notice("Verification failed").await;
    let tampered = bob.run_script("return window.__duetTampered;", vec![]).await;
    assert_eq!(tampered.as_u64(), Some(1), "bob's one answer went out with another commitment");
    let code = alice.run_script(CODE, vec![]).await;
    assert_eq!(code.as_str(), Some(""), "no code beside the warning");
    let warning = alice
        .run_script("return document.querySelector('.verification-warning[role=alert]').textContent;", vec![])
        .await;
    assert!(
        warning.as_str().unwrap_or_default().contains("Someone in between may see and hear this call"),
        "{warning}"
    );
    people.close().await;
}
