//! Handlers for what the person does: sign in, call, cancel, accept, decline, hang up, dismiss.
//! Call and Accept clicked while the camera and microphone are starting are kept as a
//! [`PendingStart`] and carried out when they are ready (`in_call::local_media_settled`).

use super::{
    app_login, same_person, AppModel, CallPhase, Effect, LocalMedia, NegotiationRole, Notice, PendingStart, SignIn,
    SignalingConnection, WAITING_FOR_LOCAL_MEDIA,
};
use protocol::{LeaveReason, UserName};

impl AppModel {
    pub(super) fn sign_in_requested(&mut self, typed_name: &str, effects: &mut Vec<Effect>) {
        if !matches!(self.sign_in, SignIn::SignedOut { .. }) {
            return;
        }
        if self.connection == SignalingConnection::Connected
            && matches!(self.sign_in, SignIn::SignedOut { pending_name: Some(_), .. })
        {
            // A login is on the wire: a second one would be refused (`already_logged_in`) or
            // leave the server holding a name we do not show. Wait for the reply.
            return;
        }
        if matches!(self.connection, SignalingConnection::ReplacedByAnotherLogin | SignalingConnection::Dormant) {
            // Someone wants to sign in: open the connection; the login goes out after `hello`.
            self.connection = SignalingConnection::Connecting;
            effects.push(Effect::OpenSignalingConnection);
        }
        match UserName::parse_login(typed_name) {
            Err(error) => self.sign_in = SignIn::refused(error.to_string()),
            Ok(name) => {
                if self.connection == SignalingConnection::Connected {
                    effects.push(Effect::Send(app_login(name.clone(), None, None)));
                }
                self.sign_in = SignIn::SignedOut { pending_name: Some(name), error: None };
            }
        }
    }

    pub(super) fn call_requested(&mut self, typed_name: &str, effects: &mut Vec<Effect>) {
        if self.signed_in_name().is_none() {
            return;
        }
        if self.call != CallPhase::Idle {
            self.notice = Some(Notice::alert("Hang up the current call before calling someone else."));
            return;
        }
        if self.connection != SignalingConnection::Connected {
            self.notice = Some(Notice::alert("Not connected to the server; wait until the connection is back."));
            return;
        }
        let typed_name = typed_name.trim();
        if typed_name.is_empty() {
            self.notice = Some(Notice::alert("Type the name of the person to call."));
            return;
        }
        let peer = match UserName::parse_login(typed_name) {
            Ok(peer) => peer,
            Err(error) => {
                // The server would refuse it anyway; say why instead of sending it.
                self.notice = Some(Notice::alert(format!("Cannot call that name: {error}")));
                return;
            }
        };
        // Named as they registered when they are in the list of people online.
        let peer = self.online_users.iter().find(|online| same_person(online, &peer)).cloned().unwrap_or(peer);
        if self.signed_in_name().is_some_and(|own_name| same_person(own_name, &peer)) {
            self.notice = Some(Notice::alert("That is your own name; type someone else's."));
            return;
        }
        if self.local_media == LocalMedia::Requesting {
            // Calling now would leave the call without our tracks: call once the prompt is answered.
            self.pending_start = Some(PendingStart::Call { typed_name: typed_name.to_owned() });
            self.notice =
                Some(Notice::status(format!("Calling {peer} as soon as your camera and microphone are ready…")));
            return;
        }
        self.pending_start = None;
        self.superseded_offer_to = None;
        let call_attempt = self.allocate_call_attempt();
        self.call = CallPhase::Calling {
            call_attempt,
            peer,
            offer_sent: false,
            local_candidates_waiting: Vec::new(),
            remote_candidates_waiting: Vec::new(),
        };
        self.peer_connection_created();
        self.notice = None;
        effects.push(Effect::StartOutgoingCall {
            call_attempt,
            ice_servers: self.ice_servers.clone(),
            video: self.video_source(),
            role: NegotiationRole::of(true),
        });
    }

    pub(super) fn cancel_call_clicked(&mut self, effects: &mut Vec<Effect>) {
        let CallPhase::Calling { peer, .. } = &self.call else { return };
        let notice = Notice::status(format!("You cancelled the call to {peer}."));
        self.leave_call(peer.clone(), None, notice, effects);
    }

    pub(super) fn accept_clicked(&mut self, effects: &mut Vec<Effect>) {
        let CallPhase::Ringing { call_attempt, peer, offer, remote_candidates_waiting } = &self.call else { return };
        let call_attempt = *call_attempt;
        if self.local_media == LocalMedia::Requesting {
            // Keep ringing; the answer goes as soon as the prompt is answered.
            self.pending_start = Some(PendingStart::Accept { call_attempt });
            self.notice = Some(Notice::status(WAITING_FOR_LOCAL_MEDIA));
            return;
        }
        self.pending_start = None;
        effects.push(Effect::AnswerIncomingCall {
            call_attempt,
            ice_servers: self.ice_servers.clone(),
            video: self.video_source(),
            offer: offer.clone(),
            remote_candidates: remote_candidates_waiting.clone(),
            role: NegotiationRole::of(false),
        });
        let offer = offer.clone();
        self.call = CallPhase::Connecting { call_attempt, peer: peer.clone(), we_called: false };
        self.peer_connection_created();
        self.verification.theirs(&offer);
        self.notice = None;
    }

    pub(super) fn decline_clicked(&mut self, effects: &mut Vec<Effect>) {
        let CallPhase::Ringing { peer, .. } = &self.call else { return };
        let notice = Notice::status(format!("You declined the call from {peer}."));
        self.leave_call(peer.clone(), Some(LeaveReason::Declined), notice, effects);
    }

    pub(super) fn hang_up_clicked(&mut self, effects: &mut Vec<Effect>) {
        let (CallPhase::Connecting { peer, .. } | CallPhase::InCall { peer, .. }) = &self.call else { return };
        if self.connection != SignalingConnection::Connected {
            self.hang_up_without_server(peer.clone(), effects);
            return;
        }
        let notice = Notice::status(format!("You hung up. The call with {peer} ended."));
        self.leave_call(peer.clone(), None, notice, effects);
        self.online_list_stale(effects);
    }

    pub(super) fn dismiss_notice_clicked(&mut self) {
        self.notice = None;
    }
}
