//! Handlers for the signaling connection and the page's timers: start, close and reconnect,
//! the first frame that proves the connection works, and the online-list refresh (polled only
//! from a server without presence, see `presence.rs`).

use super::{app_login, reconnect_delay_millis, AppModel, CallPhase, Effect, Notice, SignIn, SignalingConnection};
use protocol::{close_codes, ClientMessage, ParseError};

impl AppModel {
    pub(super) fn app_started(&mut self, effects: &mut Vec<Effect>) {
        self.connection = SignalingConnection::Connecting;
        effects.push(Effect::OpenSignalingConnection);
    }

    pub(super) fn online_users_refresh_due(&mut self, effects: &mut Vec<Effect>) {
        // Only a server without presence is polled (see `presence.rs`).
        if self.polls_online_list() && self.call == CallPhase::Idle {
            effects.push(Effect::Send(ClientMessage::Users));
        }
    }

    pub(super) fn reconnect_due(&mut self, effects: &mut Vec<Effect>) {
        if matches!(self.connection, SignalingConnection::Reconnecting { .. }) {
            effects.push(Effect::OpenSignalingConnection);
        }
    }

    /// A newer server may send types we do not know: never fatal, never shown.
    pub(super) fn server_message_unreadable(&self, error: ParseError) {
        let _ = error;
    }

    /// Any frame proves the connection works (`hello` is the first one on every connection):
    /// the login that waited for it goes out.
    pub(super) fn signaling_frame_arrived(&mut self, effects: &mut Vec<Effect>) {
        if self.connection == SignalingConnection::Connected {
            return;
        }
        self.connection = SignalingConnection::Connected;
        self.reconnect_attempts = 0;
        match &self.sign_in {
            SignIn::SigningBackIn { .. } => {
                if let Some(login) = self.sign_back_in_login(effects) {
                    effects.push(Effect::Send(login));
                }
            }
            SignIn::SignedOut { pending_name: Some(name), .. } => {
                effects.push(Effect::Send(app_login(name.clone(), None, None)));
            }
            SignIn::SignedOut { pending_name: None, .. } | SignIn::SignedIn { .. } => {}
        }
    }

    pub(super) fn signaling_closed(&mut self, close_code: u16, effects: &mut Vec<Effect>) {
        let was_connected = self.connection == SignalingConnection::Connected;
        if was_connected && matches!(self.sign_in, SignIn::SignedOut { pending_name: None, .. }) {
            // Nobody is signed in and the server hung up an idle connection: no need to hold
            // one. It is reopened on "Sign in".
            self.connection = SignalingConnection::Dormant;
            self.reconnect_attempts = 0;
            return;
        }
        let kept = close_code != close_codes::REPLACED_BY_NEW_LOGIN && self.keep_call_through_lost_connection();
        // Media is peer to peer: a kept call goes on while we sign back in ("Reconnecting to
        // the server…" shows meanwhile, see `resume.rs`).
        if let (false, Some(peer)) = (kept, self.call.peer_name()) {
            let notice =
                Notice::alert(format!("The connection to the server was lost, so the call with {peer} ended."));
            self.end_call(notice, effects);
        }
        self.online_users.clear();
        self.sign_in = match std::mem::replace(&mut self.sign_in, SignIn::SIGNED_OUT) {
            SignIn::SignedIn { name, resume } | SignIn::SigningBackIn { name, resume } => {
                SignIn::SigningBackIn { name, resume }
            }
            signed_out @ SignIn::SignedOut { .. } => signed_out,
        };
        if close_code == close_codes::REPLACED_BY_NEW_LOGIN {
            self.connection = SignalingConnection::ReplacedByAnotherLogin;
            self.sign_in = SignIn::refused("You signed in with this name somewhere else, so this tab was signed out.");
            self.notice = None;
            return;
        }
        self.reconnect_attempts = self.reconnect_attempts.saturating_add(1);
        let delay_millis = self.reconnect_delay_for_call(reconnect_delay_millis(self.reconnect_attempts));
        self.connection =
            SignalingConnection::Reconnecting { attempt: self.reconnect_attempts, retry_in_millis: delay_millis };
        effects.push(Effect::ScheduleReconnect { delay_millis });
    }
}
