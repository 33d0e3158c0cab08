//! Browser test of a reveal that never comes, in real Chromium: bob's page drops its own reveal
//! on the data channel (`RTCDataChannel.send` wrapped before the app loads; no test hook in the
//! app), so alice has bob's commitment but never his nonce. Alice's screen says it is working
//! out the code, then, about 10 s after the data channel opened, warns in words that the call
//! cannot be verified, with no code; bob, who got alice's reveal, shows his code.
//!
//! Must run in a network namespace with only the loopback interface (`scripts/test`).

mod common;

use common::*;
use std::time::Instant;

/// Drops every reveal the page sends on a data channel (counted in `__duetRevealsDropped`).
const WITHHOLD_THE_REVEAL: &str = r#"
    window.__duetRevealsDropped = 0;
    const send = RTCDataChannel.prototype.send;
    RTCDataChannel.prototype.send = function (data) {
        if (typeof data === 'string' && JSON.parse(data).type === 'reveal') {
            window.__duetRevealsDropped += 1;
            return;
        }
        return send.call(this, data);
    };
"#;

const CODE: &str =
    "const code = document.querySelector('[aria-label=\"Verification code\"]'); return code ? code.textContent : '';";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reveal_that_never_comes_is_a_warning_after_ten_seconds() {
    let people = two_people_signed_in_with_bob_preload(&[], &[], Some(WITHHOLD_THE_REVEAL)).await;
    let (alice, bob) = (&people.alice, &people.bob);
    people.alice_calls_bob().await;
    alice
        .wait_for("the data channel to open", "return document.querySelector('.app').dataset.peerChannel === 'open';")
        .await;
    let opened = Instant::now();
    alice
        .wait_for(
            "'Working out the verification code…' while the reveal is awaited",
            "return document.body.textContent.includes('Working out the verification code…');",
        )
        .await;
    alice.wait_for_notice("did not reveal its secret within 10 seconds").await;
    assert!(opened.elapsed().as_secs_f64() > 8.0, "the warning waits for the deadline: {:?}", opened.elapsed());
    assert_eq!(alice.run_script(CODE, vec![]).await.as_str(), Some(""), "no code beside the warning");
    let dropped = bob.run_script("return window.__duetRevealsDropped;", vec![]).await;
    assert_eq!(dropped.as_u64(), Some(1), "bob's one reveal was held back");
    bob.wait_for("bob's code (he got alice's reveal)", &format!("return (() => {{ {CODE} }})();")).await;
    people.close().await;
}
