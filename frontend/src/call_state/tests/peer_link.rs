//! Tests of the call's data channel: the peer's media state shown only while it holds, chat both
//! ways with the unread count, and everything cleared when the call ends.

use super::fixtures::*;
use crate::peer_message::{PeerMessage, MAX_CHAT_CHARS};

fn from_bob(call_attempt: CallAttempt, message: &PeerMessage) -> Action {
    Action::PeerMessageReceived { call_attempt, text: message.encode(), at_millis: 1_000 }
}

fn in_call_with_open_channel() -> (AppModel, CallAttempt) {
    let (mut state, call_attempt) = alice_in_call_with_bob();
    state.apply(Action::DataChannelOpened { call_attempt });
    (state, call_attempt)
}

#[test]
fn the_peers_media_state_is_kept_while_it_holds_and_replaced_when_it_changes() {
    let (mut state, call_attempt) = in_call_with_open_channel();
    assert_eq!(state.remote_media, None, "nothing is shown before the peer says anything");
    state.apply(from_bob(
        call_attempt,
        &PeerMessage::MediaState { muted: true, camera_off: true, sharing_screen: false },
    ));
    let remote = state.remote_media.expect("known");
    assert!(remote.muted && remote.camera_off && remote.video_hidden());
    state.apply(from_bob(
        call_attempt,
        &PeerMessage::MediaState { muted: false, camera_off: true, sharing_screen: true },
    ));
    let remote = state.remote_media.expect("known");
    assert!(!remote.muted, "no lingering muted state");
    assert!(!remote.video_hidden(), "a shared screen shows even with the camera off");
}

#[test]
fn unreadable_frames_from_the_peer_change_nothing() {
    let (mut state, call_attempt) = in_call_with_open_channel();
    let before = state.clone();
    for text in ["<script>", r#"{"v":9,"type":"chat","text":"hi"}"#, r#"{"v":1,"type":"chat"}"#] {
        let effects = state.apply(Action::PeerMessageReceived { call_attempt, text: text.to_owned(), at_millis: 5 });
        assert!(effects.is_empty());
    }
    assert_eq!(state, before);
}

#[test]
fn a_message_of_an_earlier_call_is_ignored() {
    let (mut state, call_attempt) = in_call_with_open_channel();
    state.apply(Action::HangUpClicked);
    state.apply(Action::CallRequested { typed_name: "bob".to_owned() });
    state.apply(from_bob(call_attempt, &PeerMessage::Chat { text: "late".to_owned() }));
    assert!(state.chat.messages.is_empty());
}

#[test]
fn chat_goes_both_ways_with_sender_and_time() {
    let (mut state, call_attempt) = in_call_with_open_channel();
    let effects = state.apply(Action::ChatMessageSubmitted { typed: "  hello bob ".to_owned(), at_millis: 42 });
    assert_eq!(effects, vec![Effect::SendPeerMessage(PeerMessage::Chat { text: "hello bob".to_owned() })]);
    state.apply(from_bob(call_attempt, &PeerMessage::Chat { text: "hi alice".to_owned() }));
    assert_eq!(
        state.chat.messages,
        vec![
            ChatMessage { sender: name("alice"), ours: true, text: "hello bob".to_owned(), at_millis: 42 },
            ChatMessage { sender: name("bob"), ours: false, text: "hi alice".to_owned(), at_millis: 1_000 },
        ]
    );
}

#[test]
fn an_empty_message_is_not_sent_and_a_long_one_is_cut_to_the_limit() {
    let (mut state, _) = in_call_with_open_channel();
    assert_eq!(state.apply(Action::ChatMessageSubmitted { typed: "   ".to_owned(), at_millis: 1 }), vec![]);
    let effects = state.apply(Action::ChatMessageSubmitted { typed: "a".repeat(MAX_CHAT_CHARS + 5), at_millis: 1 });
    assert_eq!(effects, vec![Effect::SendPeerMessage(PeerMessage::Chat { text: "a".repeat(MAX_CHAT_CHARS) })]);
}

#[test]
fn chat_before_the_channel_opens_says_so_instead_of_losing_the_message() {
    let (mut state, _) = alice_calling_bob();
    assert_eq!(state.apply(Action::ChatMessageSubmitted { typed: "hi".to_owned(), at_millis: 1 }), vec![]);
    assert_eq!(notice_text(&state), "Chat works once the call is connected.");
    assert!(state.chat.messages.is_empty());
}

#[test]
fn unread_messages_count_while_the_panel_is_closed_and_clear_when_it_opens() {
    let (mut state, call_attempt) = in_call_with_open_channel();
    state.apply(from_bob(call_attempt, &PeerMessage::Chat { text: "one".to_owned() }));
    state.apply(from_bob(call_attempt, &PeerMessage::Chat { text: "two".to_owned() }));
    assert_eq!(state.chat.button_name(), "Chat, 2 unread");
    state.apply(Action::ChatClicked);
    assert!(state.chat.open);
    assert_eq!(state.chat.button_name(), "Chat");
    state.apply(from_bob(call_attempt, &PeerMessage::Chat { text: "three".to_owned() }));
    assert_eq!(state.chat.unread, 0, "read as it arrives while open");
}

#[test]
fn the_chat_and_the_peers_state_are_cleared_when_the_call_ends() {
    let (mut state, call_attempt) = in_call_with_open_channel();
    state.apply(from_bob(call_attempt, &PeerMessage::Chat { text: "bye".to_owned() }));
    state.apply(from_bob(
        call_attempt,
        &PeerMessage::MediaState { muted: true, camera_off: false, sharing_screen: false },
    ));
    state.apply(received(ServerMessage::Leave { name: Some(name("bob")), reason: None }));
    assert_eq!(state.call, CallPhase::Idle);
    assert_eq!(state.chat, Chat::default());
    assert_eq!(state.remote_media, None);
    assert!(!state.data_channel_open);
    assert_eq!(state.apply(Action::MuteClicked), vec![Effect::SetMicrophoneEnabled { enabled: false }], "no channel");
}

#[test]
fn the_chat_button_does_nothing_without_a_call() {
    let mut state = signed_in_as_alice();
    state.apply(Action::ChatClicked);
    assert!(!state.chat.open);
}
