//! The Recent list: one entry per person (any case), newest first, capped, for every call
//! direction and outcome with its time; its status from the pushed or polled online list, or
//! from `presence_query` on a server that lists nobody (after sign-in, when the list gains a
//! name, and on the glue's 30 s tick, only then); read per signed-in name, stored on change,
//! cleared.

use super::fixtures::*;

fn offer_from(caller: &str, at_millis: u64) -> Action {
    Action::ServerMessageReceived {
        message: ServerMessage::Offer { offer: sdp("offer"), name: name(caller) },
        at_millis,
    }
}

fn leave_from(caller: &str, reason: Option<LeaveReason>) -> Action {
    received(ServerMessage::Leave { name: Some(name(caller)), reason })
}

fn hello_with(features: &[&str]) -> ServerMessage {
    let ServerMessage::Hello(mut hello) = hello() else { unreachable!("the fixture is a hello") };
    hello.features = features.iter().map(|feature| (*feature).to_owned()).collect();
    ServerMessage::Hello(hello)
}

/// Alice signed in on a server announcing `features`, her stored list (`stored`) read.
fn alice_on(features: &[&str], stored: Option<&str>) -> (AppModel, Vec<Effect>) {
    let mut state = AppModel::new();
    state.apply(Action::AppStarted);
    state.apply(received(hello_with(features)));
    state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    let mut effects = state.apply(received(login_success("alice", "token-1")));
    assert!(effects.contains(&Effect::LoadRecentCalls { storage_key: "duet.recent.alice".to_owned() }), "{effects:?}");
    state.apply(Action::LocalMediaSettled { has_audio: true, has_video: true, problem: None });
    effects.extend(state.apply(Action::RecentCallsRestored {
        storage_key: "duet.recent.alice".to_owned(),
        text: stored.map(str::to_owned),
    }));
    (state, effects)
}

fn listed(state: &AppModel) -> Vec<(String, RecentEvent, u64)> {
    state.recent.entries.iter().map(|entry| (entry.name.to_string(), entry.event, entry.at_millis)).collect()
}

fn status(state: &AppModel, who: &str) -> PresenceStatus {
    state.presence_status(&name(who))
}

fn queries(effects: &[Effect]) -> Vec<Vec<String>> {
    sent(effects)
        .into_iter()
        .filter_map(|message| match message {
            ClientMessage::PresenceQuery { names } => Some(names.iter().map(ToString::to_string).collect()),
            _ => None,
        })
        .collect()
}

fn online_reply(names: &[&str]) -> Action {
    received(ServerMessage::Presence {
        joined: None,
        left: None,
        online: Some(names.iter().map(|n| name(n)).collect()),
    })
}

#[test]
fn every_call_direction_and_outcome_leaves_its_entry_with_its_time() {
    let mut state = signed_in_as_alice();
    // Outgoing, answered: stays "Outgoing call", named as the server spells the callee.
    state.set_clock_millis(1_000);
    state.apply(Action::CallRequested { typed_name: "Bob".to_owned() });
    assert_eq!(listed(&state), [("Bob".to_owned(), RecentEvent::Outgoing, 1_000)]);
    let call_attempt = state.call.call_attempt().expect("calling");
    state.apply(Action::LocalOfferCreated { call_attempt, offer: sdp("offer"), nonce: nonce(1) });
    state.set_clock_millis(1_500);
    state.apply(received(ServerMessage::Answer { answer: sdp("answer"), name: Some(name("bob")) }));
    state.apply(Action::HangUpClicked);
    assert_eq!(listed(&state), [("bob".to_owned(), RecentEvent::Outgoing, 1_000)]);

    // Outgoing, declined by carol: not answered.
    state.set_clock_millis(2_000);
    state.apply(Action::CallRequested { typed_name: "carol".to_owned() });
    state.apply(leave_from("carol", Some(LeaveReason::Declined)));
    // Incoming, answered.
    state.set_clock_millis(3_000);
    state.apply(offer_from("dave", 3_000));
    state.apply(Action::AcceptClicked);
    state.apply(Action::HangUpClicked);
    // Incoming, declined.
    state.set_clock_millis(4_000);
    state.apply(offer_from("erin", 4_000));
    state.apply(Action::DeclineClicked);
    // Incoming, rang out (missed, at the time it stopped ringing, as in the missed calls).
    state.set_clock_millis(5_000);
    state.apply(offer_from("frank", 5_000));
    state.apply(Action::ServerMessageReceived {
        message: ServerMessage::Leave { name: Some(name("frank")), reason: Some(LeaveReason::Timeout) },
        at_millis: 50_000,
    });
    // Refused by Do not disturb: missed too.
    state.apply(Action::DoNotDisturbClicked);
    state.set_clock_millis(60_000);
    state.apply(offer_from("grace", 60_000));
    assert_eq!(
        listed(&state),
        [
            ("grace".to_owned(), RecentEvent::Missed, 60_000),
            ("frank".to_owned(), RecentEvent::Missed, 50_000),
            ("erin".to_owned(), RecentEvent::Declined, 4_000),
            ("dave".to_owned(), RecentEvent::Incoming, 3_000),
            ("carol".to_owned(), RecentEvent::Unanswered, 2_000),
            ("bob".to_owned(), RecentEvent::Outgoing, 1_000),
        ]
    );
    let words: Vec<&str> = state.recent.entries.iter().map(|entry| entry.event.words()).collect();
    assert_eq!(
        words,
        ["Missed call", "Missed call", "Declined", "Incoming call", "Outgoing call, not answered", "Outgoing call"]
    );
}

#[test]
fn one_entry_per_person_in_any_case_the_latest_on_top() {
    let mut state = signed_in_as_alice();
    state.set_clock_millis(1_000);
    state.apply(Action::CallRequested { typed_name: "bob".to_owned() });
    state.apply(Action::CancelCallClicked);
    state.set_clock_millis(2_000);
    state.apply(Action::CallRequested { typed_name: "carol".to_owned() });
    state.apply(Action::CancelCallClicked);
    state.set_clock_millis(3_000);
    state.apply(offer_from("BOB", 3_000));
    state.apply(Action::DeclineClicked);
    assert_eq!(
        listed(&state),
        [("BOB".to_owned(), RecentEvent::Declined, 3_000), ("carol".to_owned(), RecentEvent::Unanswered, 2_000)]
    );
}

#[test]
fn the_list_keeps_the_twenty_most_recent_people() {
    let mut state = signed_in_as_alice();
    for number in 0..25u64 {
        state.set_clock_millis(number);
        state.apply(Action::CallRequested { typed_name: format!("person{number}") });
        state.apply(Action::CancelCallClicked);
    }
    assert_eq!(state.recent.entries.len(), MAX_RECENT_CALLS);
    assert_eq!(state.recent.entries[0].name.as_str(), "person24");
    assert_eq!(state.recent.entries[MAX_RECENT_CALLS - 1].name.as_str(), "person5");
}

#[test]
fn status_follows_the_pushed_snapshot_joins_and_leaves_and_is_unknown_until_then() {
    let (mut state, _) = alice_on(&[FEATURE_PRESENCE, FEATURE_PRESENCE_QUERY], None);
    state.apply(Action::CallRequested { typed_name: "bob".to_owned() });
    state.apply(Action::CancelCallClicked);
    assert_eq!(status(&state, "bob"), PresenceStatus::Unknown, "no snapshot yet");
    state.apply(received(ServerMessage::Users { users: vec![name("bob")] }));
    assert_eq!(status(&state, "bob"), PresenceStatus::Online);
    assert_eq!(status(&state, "BOB"), PresenceStatus::Online, "the same person in any case");
    state.apply(received(ServerMessage::Presence { joined: None, left: Some(vec![name("bob")]), online: None }));
    assert_eq!(status(&state, "bob"), PresenceStatus::Offline);
    state.apply(received(ServerMessage::Presence { joined: Some(vec![name("bob")]), left: None, online: None }));
    assert_eq!(status(&state, "bob"), PresenceStatus::Online);
    assert!(!state.queries_recent_presence(), "a pushed list needs no queries");
    assert_eq!(queries(&state.apply(Action::RecentPresenceQueryDue)), Vec::<Vec<String>>::new());

    // Disconnected, then signed back in: unknown until the fresh snapshot.
    state.apply(Action::SignalingClosed { close_code: 1006 });
    assert_eq!(status(&state, "bob"), PresenceStatus::Unknown);
    state.apply(Action::ReconnectDue);
    state.apply(received(hello_with(&[FEATURE_PRESENCE, FEATURE_PRESENCE_QUERY])));
    state.apply(received(login_success("alice", "token-2")));
    assert_eq!(status(&state, "bob"), PresenceStatus::Unknown);
    state.apply(received(ServerMessage::Users { users: vec![] }));
    assert_eq!(status(&state, "bob"), PresenceStatus::Offline);
    assert_eq!(state.recent.entries.len(), 1, "the list is kept across the reconnect");
}

#[test]
fn status_follows_the_polled_list_on_a_classic_server() {
    let (mut state, _) = alice_on(&[], None);
    state.apply(offer_from("bob", 1));
    state.apply(Action::DeclineClicked);
    assert_eq!(status(&state, "bob"), PresenceStatus::Unknown);
    state.apply(received(ServerMessage::Users { users: vec![name("carol")] }));
    assert_eq!(status(&state, "bob"), PresenceStatus::Offline);
    state.apply(received(ServerMessage::Users { users: vec![name("Bob")] }));
    assert_eq!(status(&state, "bob"), PresenceStatus::Online);
    assert!(!state.queries_recent_presence());
}

#[test]
fn a_server_that_lists_nobody_is_asked_about_the_recent_names_after_sign_in_on_news_and_on_the_tick() {
    let stored = r#"[{"name":"bob","event":"outgoing","at":1},{"name":"carol","event":"missed","at":0}]"#;
    let (mut state, effects) = alice_on(&[FEATURE_PRESENCE_QUERY], Some(stored));
    assert_eq!(queries(&effects), [["bob", "carol"]], "asked once the list is read after sign-in");
    assert!(state.queries_recent_presence(), "the glue's 30 s timer is wanted");
    assert_eq!(status(&state, "bob"), PresenceStatus::Unknown, "until the answer");

    // The answer names those online; the others asked about are offline.
    state.apply(online_reply(&["Bob"]));
    assert_eq!(status(&state, "bob"), PresenceStatus::Online);
    assert_eq!(status(&state, "carol"), PresenceStatus::Offline);
    assert_eq!(status(&state, "dave"), PresenceStatus::Unknown, "never asked");

    // A new name is asked about at once; a name already listed is not news.
    let effects = state.apply(Action::CallRequested { typed_name: "dave".to_owned() });
    assert_eq!(queries(&effects), [["dave", "bob", "carol"]]);
    assert_eq!(queries(&state.apply(Action::CancelCallClicked)), Vec::<Vec<String>>::new());
    let effects = state.apply(Action::CallRequested { typed_name: "CAROL".to_owned() });
    assert_eq!(queries(&effects), Vec::<Vec<String>>::new());
    state.apply(Action::CancelCallClicked);
    state.apply(online_reply(&["dave"]));
    assert_eq!(status(&state, "dave"), PresenceStatus::Online);
    assert_eq!(status(&state, "bob"), PresenceStatus::Offline, "bob left meanwhile");

    // The tick asks again about everyone listed.
    let effects = state.apply(Action::RecentPresenceQueryDue);
    assert_eq!(queries(&effects), [["CAROL", "dave", "bob"]]);

    // No timer while disconnected, or with nobody listed.
    state.apply(Action::SignalingClosed { close_code: 1006 });
    assert!(!state.queries_recent_presence());
    assert_eq!(status(&state, "dave"), PresenceStatus::Unknown);
    state.apply(Action::ReconnectDue);
    state.apply(received(hello_with(&[FEATURE_PRESENCE_QUERY])));
    let effects = state.apply(received(login_success("alice", "token-2")));
    assert_eq!(queries(&effects), [["CAROL", "dave", "bob"]], "asked again after signing back in");
    assert!(state.queries_recent_presence());
    state.apply(Action::ClearRecentCallsClicked);
    assert!(!state.queries_recent_presence());
}

#[test]
fn the_list_is_read_for_the_signed_in_name_stored_on_change_and_cleared() {
    let stored = r#"[{"name":"bob","event":"declined","at":7},{"name":"BOB","event":"missed","at":6},
                     {"name":"","event":"missed","at":5},{"name":"carol","event":"no such event","at":4},
                     {"name":"dave","event":"incoming","at":3}]"#;
    let (mut state, _) = alice_on(&[], Some(stored));
    assert_eq!(
        listed(&state),
        [("bob".to_owned(), RecentEvent::Declined, 7), ("dave".to_owned(), RecentEvent::Incoming, 3)],
        "unreadable entries and repeats are left out"
    );
    let (key, text) = state.recent_calls_to_store().expect("signed in");
    assert_eq!(key, "duet.recent.alice");
    assert_eq!(RecentCalls::from_storage(&text), state.recent.entries, "what is stored reads back the same");

    state.set_clock_millis(9);
    state.apply(Action::CallRequested { typed_name: "erin".to_owned() });
    let (_, text) = state.recent_calls_to_store().expect("signed in");
    assert_eq!(RecentCalls::from_storage(&text)[0].name.as_str(), "erin", "the change is what the glue stores");

    // A list read for someone else (signed out meanwhile) is not taken in.
    state.apply(Action::CancelCallClicked);
    state.apply(Action::RecentCallsRestored {
        storage_key: "duet.recent.mallory".to_owned(),
        text: Some(r#"[{"name":"zed","event":"missed","at":1}]"#.to_owned()),
    });
    assert!(!state.recent.entries.iter().any(|entry| entry.name.as_str() == "zed"));

    state.apply(Action::ClearRecentCallsClicked);
    assert!(state.recent.entries.is_empty());
    assert_eq!(state.recent_calls_to_store(), Some(("duet.recent.alice", String::new())), "empty: the key goes");
    assert_eq!(RecentCalls::from_storage("not json"), vec![]);
}

#[test]
fn each_signed_in_name_has_its_own_list() {
    assert_eq!(RecentCalls::storage_key(&name("Alice")), RecentCalls::storage_key(&name("alice")));
    assert_ne!(RecentCalls::storage_key(&name("alice")), RecentCalls::storage_key(&name("carol")));

    let (mut state, _) = alice_on(&[], Some(r#"[{"name":"bob","event":"outgoing","at":1}]"#));
    // Signed out (the name taken over elsewhere), then carol signs in in the same tab.
    state.apply(Action::SignalingClosed { close_code: 4001 });
    state.apply(Action::SignInRequested { typed_name: "carol".to_owned() });
    state.apply(received(hello()));
    let effects = state.apply(received(login_success("carol", "token-3")));
    assert!(effects.contains(&Effect::LoadRecentCalls { storage_key: "duet.recent.carol".to_owned() }), "{effects:?}");
    assert!(state.recent.entries.is_empty(), "alice's list is not carol's");
    assert_eq!(state.recent_calls_to_store(), Some(("duet.recent.carol", String::new())));
}

#[test]
fn past_a_snapshot_cut_off_at_200_names_the_recent_names_are_asked_about_and_deltas_keep_them_current() {
    let stored = r#"[{"name":"bob","event":"outgoing","at":1},{"name":"carol","event":"missed","at":0}]"#;
    let (mut state, effects) = alice_on(&[FEATURE_PRESENCE, FEATURE_PRESENCE_QUERY], Some(stored));
    assert_eq!(queries(&effects), Vec::<Vec<String>>::new(), "the snapshot may tell");
    let crowd: Vec<UserName> = (0..200).map(|number| name(&format!("person{number:03}"))).collect();
    let effects = state.apply(received(ServerMessage::Users { users: crowd }));
    assert_eq!(queries(&effects), [["bob", "carol"]], "200 names: bob and carol may be online all the same");
    assert_eq!(status(&state, "bob"), PresenceStatus::Unknown);
    state.apply(online_reply(&["bob"]));
    assert_eq!(status(&state, "bob"), PresenceStatus::Online);
    assert_eq!(status(&state, "carol"), PresenceStatus::Offline);
    state.apply(received(ServerMessage::Presence { joined: None, left: Some(vec![name("bob")]), online: None }));
    assert_eq!(status(&state, "bob"), PresenceStatus::Offline, "a left is the latest word");
    state.apply(received(ServerMessage::Presence { joined: Some(vec![name("carol")]), left: None, online: None }));
    assert_eq!(status(&state, "carol"), PresenceStatus::Online);
    assert!(!state.queries_recent_presence(), "deltas keep them current: no 30 s timer");
    let effects = state.apply(Action::CallRequested { typed_name: "dave".to_owned() });
    assert_eq!(queries(&effects), [["dave", "bob", "carol"]], "a new name is asked about at once");
}

#[test]
fn the_stored_list_is_written_and_read_as_serde_json_wrote_and_read_it() {
    let stored =
        r#"[{"name":"Zoë \"z\" 🎈","event":"outgoing","at":1733300000000},{"name":"bob","event":"missed","at":0}]"#;
    let entries = RecentCalls::from_storage(stored);
    assert_eq!(entries.len(), 2);
    let recent = RecentCalls { entries, ..RecentCalls::default() };
    // The derived serializer's field order (name, event, at) and serde_json's escapes.
    assert_eq!(recent.to_storage(), stored, "the same bytes back");
    let as_serde_json_reads_it: serde_json::Value = serde_json::from_str(&recent.to_storage()).expect("JSON");
    assert_eq!(as_serde_json_reads_it[0]["name"], "Zoë \"z\" 🎈");
    // Other fields and white space are skipped; one entry that is not an entry (a field missing,
    // `null`, of the wrong type or given twice) makes the whole list unreadable, as before.
    let spaced = r#" [ { "at" : 5 , "event" : "incoming" , "name" : "dave" , "later" : [1] } ] "#;
    assert_eq!(RecentCalls::from_storage(spaced).len(), 1);
    for broken in [
        r#"[{"name":"dave","event":"incoming"},{"name":"bob","event":"missed","at":1}]"#,
        r#"[{"name":"dave","event":"incoming","at":null}]"#,
        r#"[{"name":"dave","event":"incoming","at":-1}]"#,
        r#"[{"name":"dave","event":"incoming","at":"5"}]"#,
        r#"[{"name":"dave","name":"erin","event":"incoming","at":5}]"#,
        r#"[{"name":"dave","event":"incoming","at":5},7]"#,
        r#"{"name":"dave","event":"incoming","at":5}"#,
    ] {
        assert_eq!(RecentCalls::from_storage(broken), vec![], "{broken}");
    }
}
