//! Handlers for what the browser reports about the current call's peer
//! connection (local offer and answer, gathered candidates, state changes, failures, the
//! selected candidate pair). [`AppModel::apply`] has already dropped the events of an earlier
//! call attempt, so these only see the current call's.

use super::{AppModel, CallPhase, Effect, Notice, PeerConnectionState};
use crate::errors::PeerError;
use crate::ice_diagnostics::SelectedCandidatePair;
use crate::verification::Nonce;
use protocol::{ClientMessage, IceCandidate, LeaveReason, SessionDescription};

impl AppModel {
    pub(super) fn local_offer_created(&mut self, offer: &SessionDescription, nonce: Nonce, effects: &mut Vec<Effect>) {
        if let CallPhase::Connecting { peer, .. } | CallPhase::InCall { peer, .. } = &self.call {
            // A renegotiation offer (an ICE restart, made by `negotiationneeded`).
            let peer = peer.clone();
            if self.can_signal() {
                let offer = self.committed_description(offer, nonce);
                effects.push(Effect::Send(ClientMessage::Offer { name: peer, offer }));
            } else {
                // No server to carry it: made again once there is (`recovery.rs`, `resume.rs`).
                self.recovery.offer_unsent = true;
            }
            return;
        }
        if !matches!(self.call, CallPhase::Calling { offer_sent: false, .. }) {
            return;
        }
        let offer = self.committed_description(offer, nonce);
        let CallPhase::Calling { peer, offer_sent, local_candidates_waiting, .. } = &mut self.call else { return };
        *offer_sent = true;
        effects.push(Effect::Send(ClientMessage::Offer { name: peer.clone(), offer }));
        for candidate in local_candidates_waiting.drain(..) {
            effects.push(Effect::Send(ClientMessage::Candidate { name: peer.clone(), candidate }));
        }
    }

    pub(super) fn local_answer_created(
        &mut self,
        answer: &SessionDescription,
        nonce: Nonce,
        effects: &mut Vec<Effect>,
    ) {
        if let CallPhase::Connecting { peer, .. } | CallPhase::InCall { peer, .. } = &self.call {
            let peer = peer.clone();
            let answer = self.committed_description(answer, nonce);
            effects.push(Effect::Send(ClientMessage::Answer { name: peer, answer }));
        }
    }

    pub(super) fn candidate_gathered(&mut self, candidate: IceCandidate, effects: &mut Vec<Effect>) {
        match &mut self.call {
            CallPhase::Calling { offer_sent: false, local_candidates_waiting, .. } => {
                local_candidates_waiting.push(candidate);
            }
            CallPhase::Calling { peer, .. } | CallPhase::Connecting { peer, .. } | CallPhase::InCall { peer, .. } => {
                effects.push(Effect::Send(ClientMessage::Candidate { name: peer.clone(), candidate }));
            }
            CallPhase::Idle | CallPhase::Ringing { .. } => {}
        }
    }

    pub(super) fn peer_connection_state_changed(&mut self, state: PeerConnectionState, effects: &mut Vec<Effect>) {
        self.peer_connection_state = Some(state);
        if matches!(self.call, CallPhase::InCall { .. }) {
            // A connected call is restored, never ended, when its network path is lost (`recovery.rs`).
            self.in_call_peer_state_changed(state, effects);
            return;
        }
        match state {
            PeerConnectionState::Connected => {
                if let CallPhase::Connecting { call_attempt, peer, we_called } = &self.call {
                    self.call =
                        CallPhase::InCall { call_attempt: *call_attempt, peer: peer.clone(), we_called: *we_called };
                    self.notice = None;
                    self.start_sampling_stats(effects);
                }
            }
            // Never connected: no network path at set-up, so the call ends (issue 14).
            PeerConnectionState::Failed => {
                let Some(peer) = self.call.peer_name() else { return };
                let notice = Notice::alert(format!(
                    "The connection to {peer} failed (no network path between you). The call ended."
                ));
                // `failed`, so the other side says why too rather than "NAME hung up".
                self.leave_call(peer.clone(), Some(LeaveReason::Failed), notice, effects);
            }
            PeerConnectionState::New
            | PeerConnectionState::Connecting
            | PeerConnectionState::Disconnected
            | PeerConnectionState::Closed => {}
        }
    }

    pub(super) fn peer_connection_failed(&mut self, error: PeerError, effects: &mut Vec<Effect>) {
        let Some(peer) = self.call.peer_name() else { return };
        let notice = Notice::alert(format!("The call with {peer} could not be set up: {error}"));
        self.leave_call(peer.clone(), Some(LeaveReason::Failed), notice, effects);
    }

    /// Kept for the components, which show it on the remote video, until the peer connection
    /// is released.
    pub(super) fn selected_candidate_pair_read(&mut self, pair: SelectedCandidatePair) {
        if self.call.has_peer_connection() {
            self.selected_candidate_pair = Some(pair);
        }
    }
}
