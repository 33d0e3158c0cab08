//! A call that outlives its signaling connection ([`CallResume`]). Media is peer to peer, so
//! when the WebSocket closes mid-call (any code but 4001) the call goes on: the app reconnects
//! in the background (0.5 s, 1 s, 2 s, then every [`CALL_RECONNECT_MAX_DELAY_MILLIS`]), signs
//! back in with its name, its latest resume token and `inCallWith` the peer, and waits for
//! `call_resumed`; meanwhile a small "Reconnecting to the server…" notice (not over the video).
//! `resume_refused`, `leave` `disconnected`, or no `call_resumed` within the server's
//! `callResumeGraceSecs` (fallback [`CALL_RESUME_GRACE_FALLBACK_SECS`]) end the call
//! ("Connection lost").
//!
//! Every login says `keepCallOnDisconnect: true`; the latest token (login reply or
//! `credentials`) is kept in [`SignIn`]; `credentials` with `iceServers` are kept for the next
//! call and given to the running one ([`Effect::UpdateIceServers`]).
//!
//! Hanging up while the server is away tells the peer on the call's data channel
//! ([`PeerMessage::HangUp`]) so its call ends at once, and the `leave` goes to the server once
//! signed back in; a peer's `hang_up` ends our call the same way.

use super::{same_person, AppModel, CallPhase, Effect, Notice, SignIn, SignalingConnection};
use crate::peer_message::PeerMessage;
use protocol::{ClientMessage, Hello, IceServer, LeaveReason, ResumeToken, UserName, FEATURE_RESUME_CALLS};

/// How long the other side may take to come back when the server's `hello` does not say.
pub const CALL_RESUME_GRACE_FALLBACK_SECS: u64 = 30;
/// The longest wait between two reconnect attempts while a call goes on without the server.
pub const CALL_RECONNECT_MAX_DELAY_MILLIS: u32 = 5_000;
/// What the notice says while the call goes on without the server.
pub const RECONNECTING_TO_THE_SERVER: &str = "Reconnecting to the server…";

/// Where the resume of the current call stands (`None` in the model: nothing to resume).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallResume {
    /// The signaling connection is lost; reconnecting.
    ServerAway,
    /// Signed back in with `inCallWith`; waiting for `call_resumed` (within the grace period).
    AwaitingPeer,
}

/// What the server said about resuming calls in its `hello`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResumeSupport {
    /// `hello.features` has `resume_calls`.
    pub resumes_calls: bool,
    /// `hello.limits.callResumeGraceSecs`, or the fallback.
    pub grace_secs: u64,
}

impl Default for ResumeSupport {
    fn default() -> Self {
        ResumeSupport { resumes_calls: false, grace_secs: CALL_RESUME_GRACE_FALLBACK_SECS }
    }
}

impl ResumeSupport {
    pub(super) fn from_hello(hello: &Hello) -> ResumeSupport {
        ResumeSupport {
            resumes_calls: hello.supports(FEATURE_RESUME_CALLS),
            grace_secs: hello.limits.call_resume_grace_secs.unwrap_or(CALL_RESUME_GRACE_FALLBACK_SECS),
        }
    }
}

/// The app's `login`: always with `keepCallOnDisconnect`.
pub fn app_login(name: UserName, resume: Option<ResumeToken>, in_call_with: Option<UserName>) -> ClientMessage {
    ClientMessage::Login { name, resume, in_call_with, keep_call_on_disconnect: true }
}

impl AppModel {
    /// The small notice shown (not over the video) while the call goes on without the server.
    pub fn server_reconnecting_notice(&self) -> Option<&'static str> {
        self.call_resume.map(|_| RECONNECTING_TO_THE_SERVER)
    }

    /// The signaling connection closed (not replaced by another login): keep a connected call
    /// when the server holds calls (its `hello` said `resume_calls`; an older one has already
    /// told the peer `disconnected`) and we can sign back in with a token. Returns true when the
    /// call was kept.
    pub(super) fn keep_call_through_lost_connection(&mut self) -> bool {
        let has_token = matches!(
            &self.sign_in,
            SignIn::SignedIn { resume: Some(_), .. } | SignIn::SigningBackIn { resume: Some(_), .. }
        );
        if !has_token || !self.resume_support.resumes_calls || !matches!(self.call, CallPhase::InCall { .. }) {
            return false;
        }
        self.call_resume = Some(CallResume::ServerAway);
        true
    }

    /// The login to send when signing back in: with `inCallWith` while a call waits to be
    /// resumed. A server that cannot resume calls (no `resume_calls`) ends the call instead.
    pub(super) fn sign_back_in_login(&mut self, effects: &mut Vec<Effect>) -> Option<ClientMessage> {
        let SignIn::SigningBackIn { name, resume } = &self.sign_in else { return None };
        let (name, resume) = (name.clone(), resume.clone());
        if self.call_resume.is_some() && (!self.resume_support.resumes_calls || resume.is_none()) {
            self.call_resume_failed(effects);
        }
        let in_call_with = self.call_resume.and_then(|_| self.call.peer_name().cloned());
        Some(app_login(name, resume, in_call_with))
    }

    /// Signed back in: wait for `call_resumed` within the grace period; send the `leave` owed
    /// for a hang-up while the server was away.
    pub(super) fn signed_back_in(&mut self, effects: &mut Vec<Effect>) {
        if let Some(peer) = self.leave_owed_to.take() {
            effects.push(Effect::Send(ClientMessage::Leave { name: Some(peer), reason: None }));
        }
        if self.call_resume == Some(CallResume::ServerAway) {
            self.call_resume = Some(CallResume::AwaitingPeer);
            let delay_millis = u32::try_from(self.resume_support.grace_secs.saturating_mul(1000)).unwrap_or(u32::MAX);
            effects.push(Effect::ScheduleResumeDeadline { delay_millis });
        }
    }

    pub(super) fn call_resumed(&mut self, name: &UserName, effects: &mut Vec<Effect>) {
        let Some(peer) = self.call.peer_name() else { return };
        if self.call_resume.is_none() || !same_person(peer, name) {
            return;
        }
        self.call_resume = None;
        self.notice = Some(Notice::status("Connection to the server restored."));
        if self.recovery.offer_unsent || self.recovery.restarting.is_some() {
            self.restart_ice(effects);
        }
    }

    pub(super) fn resume_deadline_passed(&mut self, effects: &mut Vec<Effect>) {
        if self.call_resume != Some(CallResume::AwaitingPeer) {
            return;
        }
        let Some(peer) = self.call.peer_name().cloned() else { return };
        let notice = Notice::alert(format!("Connection lost: {peer} did not come back in time. The call ended."));
        // The server may still wait for them: tell it the call is over.
        self.leave_call(peer, None, notice, effects);
        self.online_list_stale(effects);
    }

    /// The server cannot restore the call (no token, refused token, no `resume_calls`).
    pub(super) fn call_resume_failed(&mut self, effects: &mut Vec<Effect>) {
        if self.call_resume.is_none() {
            return;
        }
        let Some(peer) = self.call.peer_name().cloned() else { return };
        let notice = Notice::alert(format!(
            "Connection lost: the server could not restore the call with {peer}. The call ended."
        ));
        self.end_call(notice, effects);
    }

    /// `login` refused with `resume_refused`: the call it meant to resume is over; sign in
    /// again without the token.
    pub(super) fn resume_refused(&mut self, effects: &mut Vec<Effect>) {
        self.call_resume_failed(effects);
        if let SignIn::SigningBackIn { name, resume } = &mut self.sign_in {
            *resume = None;
            let name = name.clone();
            effects.push(Effect::Send(app_login(name, None, None)));
        }
    }

    /// `credentials`: a fresh token for the next resume and, on servers with TURN, fresh ICE
    /// servers for the next call and the running one.
    pub(super) fn credentials_received(
        &mut self,
        token: ResumeToken,
        ice_servers: Option<Vec<IceServer>>,
        effects: &mut Vec<Effect>,
    ) {
        if let SignIn::SignedIn { resume, .. } | SignIn::SigningBackIn { resume, .. } = &mut self.sign_in {
            *resume = Some(token);
        }
        let Some(ice_servers) = ice_servers else { return };
        self.ice_servers = ice_servers.clone();
        if let (true, Some(call_attempt)) = (self.call.has_peer_connection(), self.call.call_attempt()) {
            effects.push(Effect::UpdateIceServers { call_attempt, ice_servers });
        }
    }

    /// Hang up with the server away: the peer hears it on the data channel, the server once we
    /// are signed back in.
    pub(super) fn hang_up_without_server(&mut self, peer: UserName, effects: &mut Vec<Effect>) {
        if self.data_channel_open {
            effects.push(Effect::SendPeerMessage(PeerMessage::HangUp {}));
        }
        self.leave_owed_to = Some(peer.clone());
        self.end_call(Notice::status(format!("You hung up. The call with {peer} ended.")), effects);
    }

    /// The page goes away with the call's peer connection: the peer hears it on the data channel
    /// at once (the server would hold the call for the grace period), and the server too if the
    /// `leave` still gets out.
    pub(super) fn page_closing(&mut self, effects: &mut Vec<Effect>) {
        let (CallPhase::Connecting { peer, .. } | CallPhase::InCall { peer, .. }) = &self.call else { return };
        let peer = peer.clone();
        if self.data_channel_open {
            effects.push(Effect::SendPeerMessage(PeerMessage::HangUp {}));
        }
        let notice = Notice::status(format!("You left the call with {peer}."));
        self.leave_call(peer, None, notice, effects);
    }

    /// The peer hung up on the data channel (its server connection was away): the call ends
    /// here too, and the server hears of it if it still pairs us.
    pub(super) fn peer_hung_up(&mut self, effects: &mut Vec<Effect>) {
        let Some(peer) = self.call.peer_name().cloned() else { return };
        if !matches!(self.call, CallPhase::InCall { .. } | CallPhase::Connecting { .. }) {
            return;
        }
        let notice = Notice::alert(format!("{peer} hung up. The call ended."));
        if self.connection == SignalingConnection::Connected && self.signed_in_name().is_some() {
            self.leave_call(peer, Some(LeaveReason::Hangup), notice, effects);
        } else {
            self.end_call(notice, effects);
        }
        self.online_list_stale(effects);
    }

    /// The reconnect delay while a call goes on without the server: the usual backoff, capped
    /// lower so the call is resumed soon after the server is back.
    pub(super) fn reconnect_delay_for_call(&self, delay_millis: u32) -> u32 {
        if self.call_resume.is_some() {
            delay_millis.min(CALL_RECONNECT_MAX_DELAY_MILLIS)
        } else {
            delay_millis
        }
    }
}
