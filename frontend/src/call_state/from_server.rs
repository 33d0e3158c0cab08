//! Handlers for the server's messages: login replies, the online list, offers, answers,
//! candidates, leaves and refusals.

use super::resume::ResumeSupport;
use super::{same_person, AppModel, CallPhase, Effect, LocalMedia, NegotiationRole, Notice, SignIn};
use protocol::{
    ClientMessage, ErrorCode, IceCandidate, IceServer, LeaveReason, LoginFailure, ResumeToken, ServerMessage,
    SessionDescription, UserName,
};

impl AppModel {
    pub(super) fn server_message_received(
        &mut self,
        message: ServerMessage,
        at_millis: u64,
        effects: &mut Vec<Effect>,
    ) {
        if let ServerMessage::Hello(hello) = &message {
            // Before the login goes out: it depends on whether the server resumes calls.
            self.resume_support = ResumeSupport::from_hello(hello);
        }
        self.signaling_frame_arrived(effects);
        match message {
            ServerMessage::Hello(hello) => self.hello_received(hello),
            ServerMessage::Login { success: true, name, resume, ice_servers, .. } => {
                self.login_succeeded(name, resume, ice_servers, effects);
            }
            ServerMessage::Login { success: false, reason: Some(LoginFailure::ResumeRefused), .. }
                if matches!(self.sign_in, SignIn::SigningBackIn { .. }) =>
            {
                self.resume_refused(effects);
            }
            ServerMessage::Login { success: false, message, name, .. } => self.login_refused(message, name),
            ServerMessage::Users { users } => {
                self.online_users = users;
                self.online_list_arrived(effects);
            }
            ServerMessage::Presence { joined, left, online } => {
                self.recent_presence_changed(joined.as_deref(), left.as_deref());
                self.presence_received(joined, left);
                if let Some(online) = online {
                    self.presence_query_answered(&online);
                }
            }
            ServerMessage::Offer { offer, name } => self.offer_received(offer, name, at_millis, effects),
            ServerMessage::Answer { answer, name } => self.answer_received(answer, name, effects),
            ServerMessage::Candidate { candidate, name } => self.candidate_received(candidate, name, effects),
            ServerMessage::Leave { name, reason } => self.leave_received(name, reason, at_millis, effects),
            ServerMessage::Error { message, code } => self.error_received(message, code, effects),
            ServerMessage::CallResumed { name } => self.call_resumed(&name, effects),
            ServerMessage::Credentials { resume, ice_servers } => {
                self.credentials_received(resume, ice_servers, effects)
            }
        }
    }

    fn login_succeeded(
        &mut self,
        name: Option<UserName>,
        resume: Option<ResumeToken>,
        ice_servers: Option<Vec<IceServer>>,
        effects: &mut Vec<Effect>,
    ) {
        let signed_out = matches!(self.sign_in, SignIn::SignedOut { .. });
        let name = match (self.sign_in.awaited_name(), name) {
            // The server's spelling of the name wins over the one we asked for.
            (Some(_), Some(name)) => name,
            (Some(requested), None) => requested.clone(),
            // No login pending, yet the server gave us a name (say, the reply to a login
            // whose wait was cut short): the server holds it, so we are signed in.
            (None, Some(name)) if signed_out => name,
            _ => return,
        };
        // A server with TURN mints credentials per user and sends them with the login.
        if let Some(ice_servers) = ice_servers {
            self.ice_servers = ice_servers;
        }
        let was_signing_back_in = matches!(self.sign_in, SignIn::SigningBackIn { .. });
        self.sign_in = SignIn::SignedIn { name, resume };
        if was_signing_back_in {
            if self.call_resume.is_none() {
                self.notice = Some(Notice::status("Connection to the server restored."));
            }
            self.signed_back_in(effects);
        }
        self.online_list_wanted(effects);
        self.recent_signed_in(effects);
        if self.local_media == LocalMedia::NotRequested {
            self.local_media = LocalMedia::Requesting;
            effects.push(Effect::AcquireLocalMedia(self.media_request()));
            // The first sign-in of the page (never on load): may a ringing call notify?
            effects.push(Effect::AskNotificationPermission);
        }
    }

    fn login_refused(&mut self, message: Option<String>, name: Option<UserName>) {
        let Some(attempted) = self.sign_in.awaited_name().cloned().or(name) else { return };
        let reason = message.unwrap_or_else(|| format!("The name \"{attempted}\" cannot be used."));
        self.sign_in = SignIn::refused(reason);
        self.online_users.clear();
    }

    fn offer_received(
        &mut self,
        offer: SessionDescription,
        caller: UserName,
        at_millis: u64,
        effects: &mut Vec<Effect>,
    ) {
        match &self.call {
            CallPhase::Idle => {
                if self.signed_in_name().is_none() || self.refused_as_do_not_disturb(&caller, at_millis, effects) {
                    return;
                }
                self.ring(caller, offer, Vec::new(), effects);
            }
            CallPhase::Connecting { call_attempt, peer, .. } | CallPhase::InCall { call_attempt, peer, .. }
                if same_person(peer, &caller) =>
            {
                self.recovery.peer_offered = true;
                effects.push(Effect::AnswerRenegotiationOffer { call_attempt: *call_attempt, offer });
            }
            // Glare: we both called each other at once and the server took the peer's offer (it
            // only forwards an offer to an idle user), so it will refuse ours. Drop our attempt
            // and ring exactly as for a normal incoming call.
            CallPhase::Calling { peer, offer_sent, remote_candidates_waiting, .. } if same_person(peer, &caller) => {
                let offer_sent = *offer_sent;
                let remote_candidates_waiting = remote_candidates_waiting.clone();
                self.release_peer_connection(effects);
                self.superseded_offer_to = offer_sent.then(|| caller.clone());
                self.ring(caller, offer, remote_candidates_waiting, effects);
            }
            // The server never rings a busy user; if it happens anyway, say we are busy.
            _ => {
                effects.push(Effect::Send(ClientMessage::Leave { name: Some(caller), reason: Some(LeaveReason::Busy) }))
            }
        }
    }

    /// `caller`'s offer rings: a new call attempt, announced politely (role="status") for screen
    /// readers; the panel has the buttons. Its peer connection is prepared meanwhile (nothing
    /// sent: [`Effect::PrepareIncomingCall`]), so Accept has less to do.
    fn ring(
        &mut self,
        caller: UserName,
        offer: SessionDescription,
        remote_candidates_waiting: Vec<IceCandidate>,
        effects: &mut Vec<Effect>,
    ) {
        let call_attempt = self.allocate_call_attempt();
        effects.push(Effect::PrepareIncomingCall {
            call_attempt,
            ice_servers: self.ice_servers.clone(),
            offer: offer.clone(),
            role: NegotiationRole::of(false),
        });
        self.notice = Some(Notice::status(format!("{caller} is calling you.")));
        self.call = CallPhase::Ringing { call_attempt, peer: caller, offer, remote_candidates_waiting };
    }

    fn answer_received(&mut self, answer: SessionDescription, name: Option<UserName>, effects: &mut Vec<Effect>) {
        if let CallPhase::Connecting { call_attempt, peer, .. } | CallPhase::InCall { call_attempt, peer, .. } =
            &self.call
        {
            // The answer to a renegotiation offer of ours (an ICE restart).
            if name.as_ref().is_none_or(|name| same_person(name, peer)) {
                effects.push(Effect::ApplyRenegotiationAnswer { call_attempt: *call_attempt, answer });
            }
            return;
        }
        let CallPhase::Calling { call_attempt, peer, offer_sent: true, remote_candidates_waiting, .. } = &mut self.call
        else {
            return;
        };
        if name.as_ref().is_some_and(|name| !same_person(name, peer)) {
            return;
        }
        let call_attempt = *call_attempt;
        self.verification.theirs(&answer);
        effects.push(Effect::ApplyRemoteAnswer {
            call_attempt,
            answer,
            remote_candidates: std::mem::take(remote_candidates_waiting),
        });
        // From now on the peer is named as they registered (we may have typed another case).
        let peer = name.unwrap_or_else(|| peer.clone());
        self.call = CallPhase::Connecting { call_attempt, peer, we_called: true };
    }

    fn candidate_received(&mut self, candidate: IceCandidate, name: Option<UserName>, effects: &mut Vec<Effect>) {
        if let (Some(name), Some(peer)) = (&name, self.call.peer_name()) {
            if !same_person(name, peer) {
                return;
            }
        }
        match &mut self.call {
            CallPhase::Calling { remote_candidates_waiting, .. }
            | CallPhase::Ringing { remote_candidates_waiting, .. } => remote_candidates_waiting.push(candidate),
            CallPhase::Connecting { call_attempt, .. } | CallPhase::InCall { call_attempt, .. } => {
                effects.push(Effect::AddRemoteIceCandidate { call_attempt: *call_attempt, candidate });
            }
            CallPhase::Idle => {}
        }
    }

    fn leave_received(
        &mut self,
        name: Option<UserName>,
        reason: Option<LeaveReason>,
        at_millis: u64,
        effects: &mut Vec<Effect>,
    ) {
        let Some(peer) = self.call.peer_name() else { return };
        if name.is_some_and(|name| !same_person(&name, peer)) {
            return;
        }
        let was_ringing = matches!(self.call, CallPhase::Ringing { .. });
        let was_calling = matches!(self.call, CallPhase::Calling { .. });
        // The call was being restored (the server's pairing, or the media path) and could not be.
        let restoring = self.call_resume.is_some() || self.recovery.restarting.is_some();
        let notice = match reason {
            Some(LeaveReason::Disconnected | LeaveReason::Failed) if restoring => Notice::alert(format!(
                "Connection lost: {peer} lost their connection and did not come back. The call ended."
            )),
            Some(LeaveReason::Declined) => Notice::alert(format!("{peer} declined your call.")),
            // Busy in another call (an app of ours with Do not disturb on says so with its own reason;
            // older apps answer busy).
            Some(LeaveReason::Busy) => {
                Notice::alert(format!("{peer} is busy (in another call or not taking calls). Try again later."))
            }
            Some(LeaveReason::DoNotDisturb) => Notice::alert(format!("{peer} does not want to be disturbed.")),
            Some(LeaveReason::Timeout) if was_ringing => Notice::alert(format!("You missed a call from {peer}.")),
            Some(LeaveReason::Timeout) => Notice::alert(format!("{peer} did not answer.")),
            Some(LeaveReason::Disconnected) => Notice::alert(format!("{peer} lost their connection. The call ended.")),
            // Their peer connection failed first (no network path, or a WebRTC step): not a hang-up.
            Some(LeaveReason::Failed) => Notice::alert(format!(
                "The connection to {peer} failed (their browser could not reach yours: no network path between you). \
                 The call ended."
            )),
            Some(LeaveReason::Hangup) | None if was_ringing => Notice::alert(format!("{peer} cancelled the call.")),
            Some(LeaveReason::Hangup) | None if was_calling => {
                Notice::alert(format!("{peer} ended the call before it started."))
            }
            Some(LeaveReason::Hangup) | None => Notice::alert(format!("{peer} hung up. The call ended.")),
            Some(LeaveReason::Other) => Notice::alert(format!("The call with {peer} ended.")),
        };
        if was_ringing && matches!(reason, Some(LeaveReason::Timeout | LeaveReason::Hangup) | None) {
            self.missed_call(peer.clone(), at_millis, effects);
        }
        self.end_call(notice, effects);
        self.online_list_stale(effects);
    }

    fn error_received(&mut self, message: String, code: Option<ErrorCode>, effects: &mut Vec<Effect>) {
        if let SignIn::SignedOut { pending_name, error } = &mut self.sign_in {
            // Signed out, the only thing we send is `login`: this refuses it. The sign-in screen
            // shows `error`, not the notice; the pending login is over, so another try is allowed.
            *pending_name = None;
            *error = Some(if message.is_empty() {
                "The server refused the sign-in. Try again.".to_owned()
            } else {
                format!("The server refused the sign-in: {message}")
            });
            return;
        }
        if code == Some(ErrorCode::PeerUnavailable) {
            // The peer's connection is away (the server holds the call): what we sent is lost
            // for now and made again shortly (a renegotiation offer) or not needed (candidates).
            self.peer_unavailable(effects);
            return;
        }
        if code == Some(ErrorCode::AlreadyInCall) && self.superseded_offer_to.take().is_some() {
            // The expected refusal of our own offer that lost the glare (we have sent no offer
            // since; `call_requested` clears the mark): whatever the call is now, leave it be.
            return;
        }
        let (calling_peer, offer_sent) = match &self.call {
            CallPhase::Calling { peer, offer_sent, .. } => (Some(peer.clone()), *offer_sent),
            _ => (None, false),
        };
        match (code, calling_peer) {
            (Some(ErrorCode::UserNotFound), Some(peer)) => {
                self.end_call(Notice::alert(format!("{peer} is not online right now.")), effects);
                self.online_list_stale(effects);
            }
            (Some(ErrorCode::CannotCallSelf), Some(_)) => {
                self.end_call(Notice::alert("You cannot call yourself."), effects);
            }
            // A late candidate or leave after the call ended: harmless.
            (Some(ErrorCode::NotInCall), _) => {}
            // Our offer is out and unanswered: any other refusal (`already_in_call`,
            // `rate_limited`, `invalid_message`, codes we do not know) means no call is coming,
            // and nothing else would ever end "Calling …". (The glare refusal returned above.)
            (_, Some(peer)) if offer_sent => {
                let reason = if message.is_empty() { "the server refused the call.".to_owned() } else { message };
                self.end_call(Notice::alert(format!("Could not call {peer}: {reason}")), effects);
            }
            (Some(ErrorCode::RateLimited), _) => {
                self.notice = Some(Notice::alert(format!("Slow down: {message}")));
            }
            (_, _) => {
                if !message.is_empty() {
                    self.notice = Some(Notice::alert(format!("The server refused a request: {message}")));
                }
            }
        }
    }
}
