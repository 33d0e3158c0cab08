//! The [`Controller`]'s effects that keep a call going: renegotiation inside the call (perfect
//! negotiation in `peer/negotiation.rs`), ICE restarts and their timer, refreshed ICE servers
//! for the running call, and the grace period of a call waiting to be resumed.

use super::Controller;
use crate::call_state::{Action, Effect};
use gloo_timers::callback::Timeout;

impl Controller {
    pub(super) fn carry_out_recovery(&self, effect: Effect) {
        let dispatch = self.dispatcher();
        match effect {
            Effect::AnswerRenegotiationOffer { call_attempt, offer: description }
            | Effect::ApplyRenegotiationAnswer { call_attempt, answer: description } => {
                if let Some(peer) = self.peer_of(call_attempt) {
                    peer.receive_renegotiation(&description, dispatch);
                }
            }
            Effect::RestartIce { call_attempt } => {
                if let Some(peer) = self.peer_of(call_attempt) {
                    peer.restart_ice(dispatch);
                }
            }
            Effect::UpdateIceServers { call_attempt, ice_servers } => {
                if let Some(peer) = self.peer_of(call_attempt) {
                    peer.update_ice_servers(&ice_servers);
                }
            }
            Effect::ScheduleRecoveryCheck { call_attempt, delay_millis } => {
                // Replacing the timer cancels the previous one.
                let timer = Timeout::new(delay_millis, move || dispatch(Action::RecoveryCheckDue { call_attempt }));
                self.recovery_timer.replace(Some(timer));
            }
            Effect::ScheduleResumeDeadline { delay_millis } => {
                let timer = Timeout::new(delay_millis, move || dispatch(Action::ResumeDeadlinePassed));
                self.resume_timer.replace(Some(timer));
            }
            _ => {}
        }
    }
}
