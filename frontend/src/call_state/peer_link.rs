//! Handlers of the call's data channel: it opened (we tell the peer our media state at once, so
//! a state set before the call connected is right from the start), and a message from the peer
//! arrived (its media state, chat, or its verification nonce); and of the chat panel: **Chat** opens and closes it,
//! **Send** sends. Everything here is peer to peer: the signaling server never sees it.

use super::{AppModel, Chat, ChatMessage, Effect, Notice, RemoteMediaState};
use crate::peer_message::{chat_text_to_send, decode, PeerMessage};

impl AppModel {
    pub(super) fn data_channel_opened(&mut self, effects: &mut Vec<Effect>) {
        if !self.call.has_peer_connection() {
            return;
        }
        self.data_channel_open = true;
        self.send_media_state(effects);
        self.reveal_nonce(effects);
    }

    pub(super) fn peer_message_received(&mut self, text: &str, at_millis: u64, effects: &mut Vec<Effect>) {
        let Some(peer) = self.call.peer_name().cloned() else { return };
        // A frame we cannot read (another version, a bug on the other side) is ignored.
        let Ok(message) = decode(text) else { return };
        match message {
            PeerMessage::MediaState { muted, camera_off, sharing_screen } => {
                self.remote_media = Some(RemoteMediaState { muted, camera_off, sharing_screen });
            }
            PeerMessage::Reveal { nonce } => self.nonce_revealed(&nonce),
            PeerMessage::HangUp {} => self.peer_hung_up(effects),
            PeerMessage::RestartIce {} => self.peer_asked_for_ice_restart(effects),
            PeerMessage::Chat { text } => {
                self.chat.messages.push(ChatMessage { sender: peer, ours: false, text, at_millis });
                if !self.chat.open {
                    self.chat.unread = self.chat.unread.saturating_add(1);
                }
            }
        }
    }

    pub(super) fn chat_clicked(&mut self) {
        if !self.call.has_peer_connection() {
            return;
        }
        self.chat.open = !self.chat.open;
        if self.chat.open {
            self.chat.unread = 0;
        }
    }

    pub(super) fn chat_message_submitted(&mut self, typed: &str, at_millis: u64, effects: &mut Vec<Effect>) {
        let Some(text) = chat_text_to_send(typed) else { return };
        let Some(sender) = self.signed_in_name().cloned() else { return };
        if !self.data_channel_open {
            self.notice = Some(Notice::alert("Chat works once the call is connected."));
            return;
        }
        effects.push(Effect::SendPeerMessage(PeerMessage::Chat { text: text.clone() }));
        self.chat.messages.push(ChatMessage { sender, ours: true, text, at_millis });
    }

    /// The call is over (or a new one starts): the channel, the peer's state and the chat go.
    pub(super) fn forget_peer_link(&mut self) {
        self.data_channel_open = false;
        self.remote_media = None;
        self.chat = Chat::default();
    }
}
