//! Tests of the online list: pushed (subscribe after every sign-in, snapshot, `joined` and
//! `left` deltas) by a server that announces presence, polled with `users` by one that does not.

use super::fixtures::*;

/// `hello` announcing `features`.
fn hello_with(features: &[&str]) -> ServerMessage {
    let ServerMessage::Hello(mut hello) = hello() else { unreachable!("the fixture is a hello") };
    hello.features = features.iter().map(|feature| (*feature).to_owned()).collect();
    ServerMessage::Hello(hello)
}

/// `hello` from a server that pushes presence.
fn hello_with_presence() -> ServerMessage {
    hello_with(&[FEATURE_PRESENCE, FEATURE_PRESENCE_QUERY])
}

fn joined(names: &[&str]) -> ServerMessage {
    ServerMessage::Presence { joined: Some(names.iter().map(|text| name(text)).collect()), left: None, online: None }
}

fn left(names: &[&str]) -> ServerMessage {
    ServerMessage::Presence { joined: None, left: Some(names.iter().map(|text| name(text)).collect()), online: None }
}

fn snapshot(names: &[&str]) -> ServerMessage {
    ServerMessage::Users { users: names.iter().map(|text| name(text)).collect() }
}

/// Signed in as alice on a server with presence; returns what the login reply sent.
fn alice_on_a_presence_server() -> (AppModel, Vec<ClientMessage>) {
    let mut state = AppModel::new();
    state.apply(Action::AppStarted);
    state.apply(received(hello_with_presence()));
    state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    let effects = state.apply(received(login_success("alice", "token-1")));
    state.apply(Action::LocalMediaSettled { has_audio: true, has_video: true, problem: None });
    (state, sent(&effects))
}

fn listed(state: &AppModel) -> Vec<&str> {
    state.online_users.iter().map(UserName::as_str).collect()
}

#[test]
fn a_server_with_presence_is_subscribed_to_after_sign_in_and_never_polled() {
    let (mut state, sent_on_login) = alice_on_a_presence_server();
    assert!(sent_on_login.contains(&ClientMessage::PresenceSubscribe), "{sent_on_login:?}");
    assert!(!sent_on_login.contains(&ClientMessage::Users), "{sent_on_login:?}");
    assert!(!state.polls_online_list());
    assert_eq!(state.apply(Action::OnlineUsersRefreshDue), vec![]);
}

#[test]
fn the_snapshot_then_joins_and_leaves_update_the_list_in_order() {
    let (mut state, _) = alice_on_a_presence_server();
    state.apply(received(snapshot(&["bob", "dave"])));
    assert_eq!(listed(&state), ["bob", "dave"]);
    state.apply(received(joined(&["carol"])));
    assert_eq!(listed(&state), ["bob", "carol", "dave"]);
    state.apply(received(left(&["bob"])));
    assert_eq!(listed(&state), ["carol", "dave"]);
}

#[test]
fn duplicate_joins_unknown_leaves_and_our_own_join_are_harmless() {
    let (mut state, _) = alice_on_a_presence_server();
    state.apply(received(snapshot(&["bob"])));
    state.apply(received(joined(&["bob"])));
    state.apply(received(joined(&["Bob"])));
    state.apply(received(joined(&["alice"])));
    state.apply(received(left(&["zoe"])));
    assert_eq!(listed(&state), ["bob"]);
    state.apply(received(left(&["bob"])));
    state.apply(received(left(&["bob"])));
    assert_eq!(listed(&state), Vec::<&str>::new());
}

#[test]
fn reconnect_resubscribes_and_the_new_snapshot_resyncs_the_list() {
    let (mut state, _) = alice_on_a_presence_server();
    state.apply(received(snapshot(&["bob", "carol"])));
    state.apply(Action::SignalingClosed { close_code: 1006 });
    assert!(state.online_users.is_empty(), "nothing is known while disconnected");
    state.apply(Action::ReconnectDue);
    state.apply(received(hello_with_presence()));
    let effects = state.apply(received(login_success("alice", "token-2")));
    assert_eq!(sent(&effects), vec![ClientMessage::PresenceSubscribe]);
    // bob left and dave joined while we were away: the snapshot says so.
    state.apply(received(snapshot(&["carol", "dave"])));
    assert_eq!(listed(&state), ["carol", "dave"]);
}

#[test]
fn a_pushed_list_is_not_asked_for_again_when_a_call_ends() {
    let (mut state, _) = alice_on_a_presence_server();
    let effects = state.apply(Action::CallRequested { typed_name: "bob".to_owned() });
    let Some(Effect::StartOutgoingCall { call_attempt, .. }) = effects.first().cloned() else {
        panic!("calling starts a peer connection: {effects:?}")
    };
    state.apply(Action::LocalOfferCreated { call_attempt, offer: sdp("offer"), nonce: nonce(1) });
    let reason = Some(LeaveReason::Declined);
    let effects = state.apply(received(ServerMessage::Leave { name: Some(name("bob")), reason }));
    assert_eq!(state.call, CallPhase::Idle);
    assert!(!sent(&effects).contains(&ClientMessage::Users), "{effects:?}");
}

#[test]
fn a_server_without_presence_is_polled_with_users_as_before() {
    let mut state = signed_in_as_alice();
    assert!(state.polls_online_list());
    assert_eq!(state.apply(Action::OnlineUsersRefreshDue), vec![Effect::Send(ClientMessage::Users)]);
    state.apply(received(joined(&["bob"])));
    assert_eq!(listed(&state), ["bob"], "a delta is applied whatever the server announced");
}

#[test]
fn a_server_without_a_global_list_is_neither_subscribed_to_nor_polled() {
    let mut state = AppModel::new();
    state.apply(Action::AppStarted);
    state.apply(received(hello_with(&[FEATURE_PRESENCE_QUERY])));
    state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    let effects = state.apply(received(login_success("alice", "token-1")));
    let sent = sent(&effects);
    assert!(!sent.contains(&ClientMessage::Users) && !sent.contains(&ClientMessage::PresenceSubscribe), "{sent:?}");
    assert_eq!(state.online_list, OnlineListSource::Hidden);
    assert!(!state.polls_online_list());
}
