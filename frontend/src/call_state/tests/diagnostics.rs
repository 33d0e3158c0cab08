//! Tests of what the reducer keeps about the peer connection for the view: its state and the
//! candidate pair ICE selected (shown as attributes on the remote video).

use super::fixtures::*;

fn pair(local_type: &str, remote_type: &str) -> SelectedCandidatePair {
    SelectedCandidatePair { local_type: local_type.to_owned(), remote_type: remote_type.to_owned() }
}

#[test]
fn the_selected_candidate_pair_of_the_current_call_is_kept_for_the_view() {
    let (mut state, call_attempt) = alice_in_call_with_bob();
    assert_eq!(state.selected_candidate_pair, None, "nothing before getStats() named a pair");
    let effects = state.apply(Action::SelectedCandidatePairRead { call_attempt, pair: pair("host", "prflx") });
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(state.selected_candidate_pair, Some(pair("host", "prflx")));
    // Read again after a reconnection of ICE: the newer pair replaces it.
    state.apply(Action::SelectedCandidatePairRead { call_attempt, pair: pair("relay", "relay") });
    assert_eq!(state.selected_candidate_pair, Some(pair("relay", "relay")));
}

#[test]
fn the_selected_candidate_pair_of_an_earlier_call_attempt_is_ignored() {
    let (mut state, first) = alice_in_call_with_bob();
    state.apply(Action::HangUpClicked);
    state.apply(Action::CallRequested { typed_name: "bob".to_owned() });
    assert_eq!(state.call.call_attempt(), Some(first.next()));
    assert!(state
        .apply(Action::SelectedCandidatePairRead { call_attempt: first, pair: pair("host", "host") })
        .is_empty());
    assert_eq!(state.selected_candidate_pair, None);
}

#[test]
fn the_selected_candidate_pair_is_ignored_without_a_peer_connection() {
    let (mut state, call_attempt) = alice_ringing_from_bob();
    state.apply(Action::SelectedCandidatePairRead { call_attempt, pair: pair("host", "host") });
    assert_eq!(state.selected_candidate_pair, None, "nothing is connected while it rings");
}

#[test]
fn the_selected_candidate_pair_is_cleared_when_we_hang_up() {
    let (mut state, call_attempt) = alice_in_call_with_bob();
    state.apply(Action::SelectedCandidatePairRead { call_attempt, pair: pair("host", "host") });
    let effects = state.apply(Action::HangUpClicked);
    assert!(effects.contains(&Effect::ReleasePeerConnection), "{effects:?}");
    assert_eq!(state.selected_candidate_pair, None);
    assert_eq!(state.peer_connection_state, None);
}

#[test]
fn the_selected_candidate_pair_is_cleared_however_the_call_ends() {
    let endings = [
        received(ServerMessage::Leave { name: Some(name("bob")), reason: Some(LeaveReason::Hangup) }),
        Action::SignalingClosed { close_code: protocol::close_codes::REPLACED_BY_NEW_LOGIN },
    ];
    for ending in endings {
        let (mut state, call_attempt) = alice_in_call_with_bob();
        state.apply(Action::SelectedCandidatePairRead { call_attempt, pair: pair("relay", "relay") });
        state.apply(ending.clone());
        assert_eq!(state.selected_candidate_pair, None, "{ending:?}");
    }
    let (mut state, call_attempt) = alice_connecting_to_bob();
    state.apply(Action::SelectedCandidatePairRead { call_attempt, pair: pair("relay", "relay") });
    state.apply(Action::PeerConnectionStateChanged { call_attempt, state: PeerConnectionState::Failed });
    assert_eq!(state.selected_candidate_pair, None);
}

#[test]
fn a_new_call_starts_without_a_selected_candidate_pair() {
    let (mut state, call_attempt) = alice_in_call_with_bob();
    state.apply(Action::SelectedCandidatePairRead { call_attempt, pair: pair("host", "host") });
    state.apply(Action::HangUpClicked);
    state.apply(Action::CallRequested { typed_name: "bob".to_owned() });
    assert_eq!(state.selected_candidate_pair, None);
    assert_eq!(state.peer_connection_state, Some(PeerConnectionState::New));
}

#[test]
fn peer_connection_states_are_parsed_from_the_browsers_words_and_rendered_back() {
    for state in PeerConnectionState::ALL {
        assert_eq!(PeerConnectionState::from_browser(state.as_str()), Some(state));
    }
    assert_eq!(PeerConnectionState::from_browser("connected"), Some(PeerConnectionState::Connected));
    assert_eq!(PeerConnectionState::Disconnected.as_str(), "disconnected");
    assert_eq!(PeerConnectionState::from_browser("Connected"), None, "the browser's words are lower case");
    assert_eq!(PeerConnectionState::from_browser("unknown"), None);
}

#[test]
fn a_disconnected_peer_connection_keeps_the_call_and_shows_the_state() {
    let (mut state, call_attempt) = alice_in_call_with_bob();
    let effects =
        state.apply(Action::PeerConnectionStateChanged { call_attempt, state: PeerConnectionState::Disconnected });
    // Only the grace timer before an ICE restart (`tests/ice_restart.rs`).
    assert_eq!(effects, vec![Effect::ScheduleRecoveryCheck { call_attempt, delay_millis: 3_000 }]);
    assert_eq!(state.call.word(), "in-call");
    assert_eq!(state.peer_connection_state, Some(PeerConnectionState::Disconnected));
}
