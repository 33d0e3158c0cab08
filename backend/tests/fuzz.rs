//! Property tests (run in the normal test command): arbitrary bytes and arbitrary JSON never
//! panic the parser, and arbitrary message sequences from several users never panic dispatch
//! nor break the directory's call-state symmetry.

use backend::delivery::ConnectionHandle;
use backend::directory::Directory;
use backend::dispatch::Session;
use backend::{AppState, Config};
use futures_util::FutureExt;
use proptest::prelude::*;
use protocol::ClientMessage;
use serde_json::{json, Value};

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|number| json!(number)),
        any::<f64>().prop_map(|number| json!(number)),
        ".{0,12}".prop_map(Value::String),
        prop::sample::select(vec!["login", "offer", "answer", "candidate", "leave", "users", "hello"])
            .prop_map(|word| json!(word)),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec!["type", "name", "offer", "answer", "candidate", "reason", "resume", "x"])
                    .prop_map(str::to_owned),
                inner,
                0..6
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_the_parser(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = ClientMessage::from_json(&text);
        let _ = protocol::ServerMessage::from_json(&text);
    }

    #[test]
    fn arbitrary_json_never_panics_and_valid_messages_round_trip(value in arbitrary_json()) {
        let text = value.to_string();
        if let Ok(message) = ClientMessage::from_json(&text) {
            // Whatever parses re-serializes to something that parses to the same message.
            prop_assert_eq!(ClientMessage::from_json(&message.to_json()), Ok(message));
        }
    }
}

#[derive(Debug, Clone)]
enum Step {
    Frame {
        session: usize,
        text: String,
    },
    Reconnect {
        session: usize,
    },
    /// The connection is lost and a new one signs in as `name` keeping calls, with the latest
    /// token issued for it (if any) and naming `in_call_with`.
    Resume {
        session: usize,
        name: &'static str,
        in_call_with: Option<&'static str>,
    },
    /// Every hold and wait runs out of grace.
    GraceEnds,
    /// An offer to bob from one session and an answer to alice from another (a connected call
    /// when they are alice and bob: something to hold and resume).
    AliceCallsBob {
        caller: usize,
        callee: usize,
    },
}

fn frame_text() -> impl Strategy<Value = String> {
    // Look-alikes of alice too (issue 13): other keys and shapes for one person must never let
    // two people in nor split a call.
    let name = prop::sample::select(vec![
        "alice",
        "bob",
        "carol",
        "nobody",
        "",
        " alice ",
        "a\nb",
        "ALICE",
        "aIice",
        "\u{430}lice",
        "Bob",
    ]);
    let reason = prop::sample::select(vec!["hangup", "declined", "busy", "timeout", "disconnected", "failed", "zzz"]);
    prop_oneof![
        name.clone().prop_map(|name| json!({"type": "login", "name": name}).to_string()),
        name.clone().prop_map(|name| json!({"type": "login", "name": name, "keepCallOnDisconnect": true}).to_string()),
        name.clone().prop_map(
            |name| json!({"type": "offer", "name": name, "offer": {"type": "offer", "sdp": "v=0"}}).to_string()
        ),
        name.clone().prop_map(|name| {
            json!({"type": "answer", "name": name, "answer": {"type": "answer", "sdp": "v=0"}}).to_string()
        }),
        name.clone()
            .prop_map(|name| json!({"type": "candidate", "name": name, "candidate": {"candidate": "c"}}).to_string()),
        (name, reason).prop_map(|(name, reason)| json!({"type": "leave", "name": name, "reason": reason}).to_string()),
        Just(json!({"type": "leave"}).to_string()),
        Just(json!({"type": "users"}).to_string()),
        arbitrary_json().prop_map(|value| value.to_string()),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        9 => (0usize..4, frame_text()).prop_map(|(session, text)| Step::Frame { session, text }),
        1 => (0usize..4).prop_map(|session| Step::Reconnect { session }),
        3 => (
            0usize..4,
            prop::sample::select(vec!["alice", "bob"]),
            prop::option::weighted(0.8, prop::sample::select(vec!["alice", "bob", "carol", "ALICE"]))
        )
            .prop_map(|(session, name, in_call_with)| Step::Resume { session, name, in_call_with }),
        1 => Just(Step::GraceEnds),
        2 => (0usize..4, 0usize..4).prop_map(|(caller, callee)| Step::AliceCallsBob { caller, callee }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_message_sequences_never_panic_dispatch_and_keep_calls_symmetric(steps in prop::collection::vec(step(), 1..60)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
        runtime.block_on(async {
            let state = AppState::new(Config::default());
            let connect = || {
                let handle = ConnectionHandle::detached(4096);
                (Session::new(state.clone(), handle.clone()), handle)
            };
            let mut sessions: Vec<_> = (0..4).map(|_| connect()).collect();
            // The latest resume token issued for each name (display form).
            let mut tokens = std::collections::HashMap::new();
            for step in steps {
                match step {
                    Step::Frame { session, text } => sessions[session].0.handle_text_now(&text),
                    Step::Reconnect { session } => {
                        sessions[session].0.disconnect().now_or_never().expect("in memory: never waits");
                        sessions[session] = connect();
                    }
                    Step::Resume { session, name, in_call_with } => {
                        // As the app does: the connection is lost, a new one signs in (the first
                        // time without a token).
                        sessions[session].0.disconnect().now_or_never().expect("in memory: never waits");
                        sessions[session] = connect();
                        let login = json!({
                            "type": "login", "name": name, "resume": tokens.get(name),
                            "inCallWith": in_call_with, "keepCallOnDisconnect": true,
                        });
                        sessions[session].0.handle_text_now(&login.to_string());
                    }
                    Step::AliceCallsBob { caller, callee } => {
                        let offer = json!({"type": "offer", "name": "bob", "offer": {"type": "offer", "sdp": "v=0"}});
                        sessions[caller].0.handle_text_now(&offer.to_string());
                        let answer = json!({"type": "answer", "name": "alice", "answer": {"type": "answer", "sdp": "v=0"}});
                        sessions[callee].0.handle_text_now(&answer.to_string());
                    }
                    Step::GraceEnds => {
                        let later = std::time::Instant::now() + std::time::Duration::from_secs(3600);
                        state.directory.memory().expect("in memory").expire_graces(later);
                    }
                }
                for (_, handle) in &sessions {
                    for frame in handle.take_queued() {
                        let reply: Value = serde_json::from_str(frame.as_str()).unwrap_or_default();
                        if let (Some(name), Some(token)) = (reply["name"].as_str(), reply["resume"].as_str()) {
                            tokens.insert(name.to_owned(), token.to_owned());
                        }
                    }
                }
                if let Err(broken) = state.directory.memory().expect("in memory").check_consistency() {
                    return Err(TestCaseError::fail(broken));
                }
            }
            Ok(())
        })?;
    }
}
