//! Browser test of the chat in real Chromium: a message each way over the call's data channel
//! (Enter sends, and so does **Send**), the unread count on the **Chat** button while the panel
//! is closed, sender and time on each message, a URL shown as a link with
//! `rel="noopener noreferrer"`, markup from the peer shown as text, the server's relay counters
//! unchanged by chat (it never sees it), and the chat gone when the call ends.
//!
//! Must run in a network namespace with only the loopback interface (`scripts/test`).

mod common;

use common::metrics::metrics_seen_by;
use common::*;
use std::time::Duration;

/// The `duet_messages_relayed_total` lines of `/metrics`, once two reads a second apart agree
/// (the last ICE candidates of the call set-up are relayed by then).
async fn settled_relay_counters(person: &Person) -> String {
    let relayed = |metrics: String| {
        metrics.lines().filter(|line| line.starts_with("duet_messages_relayed_total")).collect::<Vec<_>>().join("\n")
    };
    let mut previous = relayed(metrics_seen_by(person).await);
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let current = relayed(metrics_seen_by(person).await);
        if current == previous {
            return current;
        }
        previous = current;
    }
    panic!("the relay counters kept moving:\n{previous}");
}

/// The chat log's messages as "SENDER|TIME|TEXT" lines.
const CHAT_LOG: &str = "const log = document.querySelector('[role=log][aria-label=\"Chat messages\"]'); \
    if (!log) return ''; \
    return [...log.querySelectorAll('li')].map(li => [li.querySelector('.chat-sender').textContent, \
        li.querySelector('time').textContent, li.querySelector('.chat-text').textContent].join('|')).join('\\n');";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_message_goes_each_way_peer_to_peer() {
    let people = two_people_signed_in(&[], &[]).await;
    let (alice, bob) = (&people.alice, &people.bob);
    people.alice_calls_bob().await;
    for person in [alice, bob] {
        person
            .wait_for(
                "the data channel to open",
                "return document.querySelector('.app').dataset.peerChannel === 'open';",
            )
            .await;
    }
    let relayed_before = settled_relay_counters(alice).await;

    // Alice opens the chat and sends with Enter; bob's panel is closed, so it counts as unread.
    alice.click_button("Chat").await;
    alice.type_into_labelled_input("Message", "Hi bob, the notes: https://example.org/notes?id=7.\u{E007}").await;
    bob.click_enabled_button("Chat, 1 unread").await;
    let seen_by_bob = bob.wait_for("alice's message in bob's chat", CHAT_LOG).await;
    let seen_by_bob = seen_by_bob.as_str().unwrap_or_default().to_owned();
    let fields: Vec<&str> = seen_by_bob.split('|').collect();
    assert_eq!(fields.len(), 3, "{seen_by_bob}");
    assert_eq!(fields[0], "alice");
    assert!(fields[1].len() == 5 && fields[1].as_bytes()[2] == b':', "a time as HH:MM: {seen_by_bob}");
    assert_eq!(fields[2], "Hi bob, the notes: https://example.org/notes?id=7.");
    let link = bob
        .run_script(
            "const a = document.querySelector('[role=log] a'); return a ? a.getAttribute('href') + ' ' + a.rel : 'none';",
            vec![],
        )
        .await;
    assert_eq!(link.as_str(), Some("https://example.org/notes?id=7 noopener noreferrer"));

    // Bob answers with markup and the Send button: alice sees the characters, not bold text.
    bob.type_into_labelled_input("Message", "<b>not bold</b> & fine").await;
    bob.click_button("Send").await;
    alice
        .wait_for(
            "bob's reply in alice's chat",
            &format!("const text = (() => {{ {CHAT_LOG} }})(); return text.includes('bob|') && text.endsWith('|<b>not bold</b> & fine');"),
        )
        .await;
    let markup =
        alice.run_script("return document.querySelectorAll('[role=log] b, [role=log] script').length;", vec![]).await;
    assert_eq!(markup.as_u64(), Some(0), "text from the peer is never HTML");
    alice.save_screenshot("chat-alice.png").await;

    assert_eq!(settled_relay_counters(alice).await, relayed_before, "chat never goes through the server");

    alice.click_button("Hang up").await;
    bob.wait_for_phase("idle").await;
    let gone = "return !document.querySelector('[role=log]') && ![...document.querySelectorAll('button')].some(b => b.textContent.startsWith('Chat'));";
    bob.wait_for("the chat to be gone after the call", gone).await;
    people.close().await;
}
