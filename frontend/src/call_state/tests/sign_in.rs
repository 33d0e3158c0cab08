//! Tests of the connection coming up and signing in: login, refusals, the online list.

use super::fixtures::*;

#[test]
fn app_start_opens_the_signaling_connection() {
    let mut state = AppModel::new();
    assert_eq!(state.apply(Action::AppStarted), vec![Effect::OpenSignalingConnection]);
    assert_eq!(state.connection, SignalingConnection::Connecting);
}

#[test]
fn hello_marks_the_connection_up_and_stores_ice_servers() {
    let mut state = AppModel::new();
    state.apply(Action::AppStarted);
    state.apply(received(hello()));
    assert_eq!(state.connection, SignalingConnection::Connected);
    assert_eq!(state.ice_servers[0].urls, vec!["stun:stun.example:3478".to_owned()]);
}

#[test]
fn sign_in_sends_login_with_the_trimmed_name() {
    let mut state = AppModel::new();
    state.apply(received(hello()));
    let effects = state.apply(Action::SignInRequested { typed_name: "  alice ".to_owned() });
    assert_eq!(sent(&effects), vec![app_login(name("alice"), None, None)]);
    assert_eq!(state.sign_in, SignIn::SignedOut { pending_name: Some(name("alice")), error: None });
}

#[test]
fn sign_in_before_the_connection_is_up_is_sent_once_it_is() {
    let mut state = AppModel::new();
    state.apply(Action::AppStarted);
    assert!(sent(&state.apply(Action::SignInRequested { typed_name: "alice".to_owned() })).is_empty());
    let effects = state.apply(received(hello()));
    assert_eq!(sent(&effects), vec![app_login(name("alice"), None, None)]);
}

#[test]
fn empty_name_is_refused_locally_with_a_reason_in_words() {
    let mut state = AppModel::new();
    state.apply(received(hello()));
    let effects = state.apply(Action::SignInRequested { typed_name: "   ".to_owned() });
    assert!(effects.is_empty());
    let SignIn::SignedOut { error: Some(error), .. } = &state.sign_in else { panic!("{:?}", state.sign_in) };
    assert!(error.contains("empty"), "{error}");
}

#[test]
fn successful_login_signs_in_asks_for_users_and_media() {
    let mut state = AppModel::new();
    state.apply(received(hello()));
    state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    let effects = state.apply(received(login_success("alice", "token-1")));
    assert_eq!(
        effects,
        vec![
            Effect::Send(ClientMessage::Users),
            // The Recent list of this name (`tests/recent.rs`).
            Effect::LoadRecentCalls { storage_key: "duet.recent.alice".to_owned() },
            Effect::AcquireLocalMedia(MediaRequest {
                camera: None,
                microphone: None,
                processing: AudioProcessing::default()
            }),
            Effect::AskNotificationPermission,
        ]
    );
    assert_eq!(state.signed_in_name(), Some(&name("alice")));
    assert_eq!(state.local_media, LocalMedia::Requesting);
}

#[test]
fn taken_name_shows_the_servers_message_and_allows_another_try() {
    let mut state = AppModel::new();
    state.apply(received(hello()));
    state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    state.apply(received(ServerMessage::Login {
        success: false,
        name: None,
        resume: None,
        ice_servers: None,
        reason: Some(LoginFailure::Taken),
        message: Some("Someone online is already called alice.".to_owned()),
    }));
    assert_eq!(
        state.sign_in,
        SignIn::SignedOut { pending_name: None, error: Some("Someone online is already called alice.".to_owned()) }
    );
    let effects = state.apply(Action::SignInRequested { typed_name: "alice2".to_owned() });
    assert_eq!(sent(&effects), vec![app_login(name("alice2"), None, None)]);
}

#[test]
fn refused_login_without_a_message_still_says_why() {
    let mut state = AppModel::new();
    state.apply(received(hello()));
    state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    state.apply(received(ServerMessage::Login {
        success: false,
        name: None,
        resume: None,
        ice_servers: None,
        reason: None,
        message: None,
    }));
    let SignIn::SignedOut { error: Some(error), .. } = &state.sign_in else { panic!("{:?}", state.sign_in) };
    assert!(error.contains("alice"), "{error}");
}

#[test]
fn login_success_without_a_pending_name_trusts_the_servers_name() {
    // The server holds the name (the reply to a login whose wait was cut short): showing the
    // sign-in screen would leave the name taken and every new sign-in refused.
    let mut state = AppModel::new();
    state.apply(received(hello()));
    let effects = state.apply(received(login_success("mallory", "t")));
    assert_eq!(state.signed_in_name(), Some(&name("mallory")));
    assert!(sent(&effects).contains(&ClientMessage::Users), "{effects:?}");
    assert!(effects.iter().any(|effect| matches!(effect, Effect::AcquireLocalMedia(_))), "{effects:?}");
}

#[test]
fn login_success_without_any_name_or_pending_login_is_ignored() {
    let mut state = AppModel::new();
    state.apply(received(hello()));
    let reply = ServerMessage::Login {
        success: true,
        name: None,
        resume: None,
        ice_servers: None,
        reason: None,
        message: None,
    };
    assert!(state.apply(received(reply)).is_empty());
    assert_eq!(state.signed_in_name(), None);
}

#[test]
fn login_success_while_signed_in_does_not_change_the_name() {
    let mut state = signed_in_as_alice();
    state.apply(received(login_success("mallory", "t")));
    assert_eq!(state.signed_in_name(), Some(&name("alice")));
}

#[test]
fn second_sign_in_while_a_login_is_pending_is_ignored() {
    let mut state = AppModel::new();
    state.apply(received(hello()));
    let effects = state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    assert_eq!(sent(&effects).len(), 1);
    let effects = state.apply(Action::SignInRequested { typed_name: "alicia".to_owned() });
    assert!(effects.is_empty(), "no second login on the wire: {effects:?}");
    assert_eq!(state.sign_in, SignIn::SignedOut { pending_name: Some(name("alice")), error: None });
    state.apply(received(login_success("alice", "t")));
    assert_eq!(state.signed_in_name(), Some(&name("alice")));
}

#[test]
fn sign_in_before_the_connection_is_up_can_still_change_the_name() {
    let mut state = AppModel::new();
    state.apply(Action::AppStarted);
    assert!(sent(&state.apply(Action::SignInRequested { typed_name: "alcie".to_owned() })).is_empty());
    assert!(sent(&state.apply(Action::SignInRequested { typed_name: "alice".to_owned() })).is_empty());
    let effects = state.apply(received(hello()));
    assert_eq!(sent(&effects), vec![app_login(name("alice"), None, None)]);
}

#[test]
fn server_error_while_signed_out_shows_on_the_sign_in_screen_and_allows_another_try() {
    let mut state = AppModel::new();
    state.apply(received(hello()));
    state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    state.apply(received(ServerMessage::Error {
        message: "You are already logged in".to_owned(),
        code: Some(ErrorCode::AlreadyLoggedIn),
    }));
    let SignIn::SignedOut { pending_name: None, error: Some(error) } = &state.sign_in else {
        panic!("the sign-in screen shows the error: {:?}", state.sign_in)
    };
    assert!(error.contains("You are already logged in"), "{error}");
    let effects = state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    assert_eq!(sent(&effects), vec![app_login(name("alice"), None, None)]);
}

#[test]
fn rate_limit_error_while_signed_out_is_shown_on_the_sign_in_screen() {
    let mut state = AppModel::new();
    state.apply(received(hello()));
    state.apply(received(ServerMessage::Error {
        message: "Too many messages".to_owned(),
        code: Some(ErrorCode::RateLimited),
    }));
    let SignIn::SignedOut { error: Some(error), .. } = &state.sign_in else { panic!("{:?}", state.sign_in) };
    assert!(error.contains("Too many messages"), "{error}");
}

#[test]
fn users_reply_replaces_the_online_list() {
    let mut state = signed_in_as_alice();
    state.apply(received(ServerMessage::Users { users: vec![name("bob"), name("carol")] }));
    assert_eq!(state.online_users, vec![name("bob"), name("carol")]);
}

#[test]
fn online_list_refreshes_only_while_idle_and_connected() {
    let mut state = signed_in_as_alice();
    assert_eq!(state.apply(Action::OnlineUsersRefreshDue), vec![Effect::Send(ClientMessage::Users)]);
    state.apply(Action::CallRequested { typed_name: "bob".to_owned() });
    assert!(state.apply(Action::OnlineUsersRefreshDue).is_empty());
    let mut signed_out = AppModel::new();
    signed_out.apply(received(hello()));
    assert!(signed_out.apply(Action::OnlineUsersRefreshDue).is_empty());
}

#[test]
fn login_with_turn_credentials_replaces_the_hello_ice_servers() {
    let mut state = AppModel::new();
    state.apply(Action::AppStarted);
    state.apply(received(hello()));
    state.apply(Action::SignInRequested { typed_name: "alice".to_owned() });
    let turn = IceServer {
        urls: vec!["turn:127.0.0.1:3478".to_owned()],
        username: Some("1700000000:alice".to_owned()),
        credential: Some("c2VjcmV0".to_owned()),
    };
    state.apply(received(ServerMessage::Login {
        success: true,
        name: Some(name("alice")),
        resume: None,
        ice_servers: Some(vec![turn.clone()]),
        reason: None,
        message: None,
    }));
    assert_eq!(state.ice_servers, vec![turn]);
}
