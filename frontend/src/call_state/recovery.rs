//! Media recovery: a call that was connected and lost its network path is not ended, its ICE is
//! restarted ([`MediaRecovery`]). `disconnected` for longer than [`DISCONNECTED_GRACE_MILLIS`], or
//! `failed`, starts ICE restarts ([`Effect::RestartIce`]: `restartIce()`, whose
//! `negotiationneeded` makes an offer with new ICE credentials, sent through the server), again
//! after 1, 2, 4, 8 and then every 10 seconds ([`ice_restart_delay_millis`]) while the remote video
//! shows "Reconnecting…"; `connected` again ends it (overlay gone, backoff reset). Only after
//! [`ICE_RESTART_GIVE_UP_MILLIS`] without a connection does the call end ("Connection lost").
//! A call that never connected still ends at once on `failed` (no network path at set-up).
//!
//! Also here: a renegotiation offer of ours that could not reach the peer (the server away, or
//! `peer_unavailable` while the peer's own connection is away) is made again, never lost; the
//! **Restart connection** button; and the count of offers that collided (perfect negotiation
//! resolved them, see `peer/negotiation.rs`).
//!
//! Timers are effects ([`Effect::ScheduleRecoveryCheck`], one slot: a new one replaces the last)
//! and come back as [`Action::RecoveryCheckDue`](super::Action::RecoveryCheckDue) with the call attempt, so
//! the reducer stays pure and a late timer of an earlier call is dropped.

use super::{AppModel, CallPhase, Effect, NegotiationRole, Notice, PeerConnectionState, SignalingConnection};
use crate::peer_message::PeerMessage;
use protocol::LeaveReason;

/// How long `disconnected` may last before ICE is restarted (it often recovers by itself).
pub const DISCONNECTED_GRACE_MILLIS: u32 = 3_000;
/// How long ICE restarts go on without a connection before the call ends ("Connection lost").
pub const ICE_RESTART_GIVE_UP_MILLIS: u32 = 120_000;
/// The waits after the first ICE restarts; every later one waits [`ICE_RESTART_MAX_DELAY_MILLIS`].
const ICE_RESTART_FIRST_DELAYS_MILLIS: [u32; 4] = [1_000, 2_000, 4_000, 8_000];
/// The longest wait between two ICE restarts.
pub const ICE_RESTART_MAX_DELAY_MILLIS: u32 = 10_000;
/// How much later than the impolite side the polite side restarts ICE by itself, so the
/// impolite side's offer usually comes first and the two do not offer at once.
pub const POLITE_RESTART_DELAY_MILLIS: u32 = 2_000;
/// How soon an offer the server could not deliver (`peer_unavailable`, or no server) is tried again.
pub const OFFER_RETRY_MILLIS: u32 = 2_000;

/// The wait after ICE restart number `restart` (1-based): 1 s, 2 s, 4 s, 8 s, then 10 s.
pub fn ice_restart_delay_millis(restart: u32) -> u32 {
    let index = usize::try_from(restart.saturating_sub(1)).unwrap_or(usize::MAX);
    ICE_RESTART_FIRST_DELAYS_MILLIS.get(index).copied().unwrap_or(ICE_RESTART_MAX_DELAY_MILLIS)
}

/// ICE restarts under way: how many so far and how long since the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IceRestarts {
    pub restarts: u32,
    pub elapsed_millis: u32,
}

/// The current call's media recovery (reset with every peer connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MediaRecovery {
    /// `Some` while ICE is being restarted (the remote video says "Reconnecting…").
    pub restarting: Option<IceRestarts>,
    /// `disconnected` was reported; restarts begin if it lasts the grace period.
    pub disconnected_grace: bool,
    /// An offer of ours could not reach the peer: another one is made when it can.
    pub offer_unsent: bool,
    /// Offers that crossed one of the peer's (glare inside the call), each resolved.
    pub offer_collisions: u32,
    /// ICE restarts made in this call, counted for the statistics panel.
    pub total_restarts: u32,
    /// The peer sent a renegotiation offer since our last restart check: on the polite side, its
    /// restart is under way and ours would only cross it.
    pub peer_offered: bool,
}

impl AppModel {
    /// True while the remote video shows "Reconnecting…": the call was connected and its media
    /// path is lost (or being restored).
    pub fn shows_media_reconnecting(&self) -> bool {
        matches!(self.call, CallPhase::InCall { .. })
            && (self.recovery.restarting.is_some()
                || matches!(
                    self.peer_connection_state,
                    // `connecting` inside a connected call: an ICE restart checking its candidates.
                    Some(
                        PeerConnectionState::Disconnected
                            | PeerConnectionState::Failed
                            | PeerConnectionState::Connecting
                    )
                ))
    }

    /// Whether an offer can reach the peer now: connected, signed in, the call not waiting to be resumed.
    pub(super) fn can_signal(&self) -> bool {
        self.connection == SignalingConnection::Connected
            && self.signed_in_name().is_some()
            && self.call_resume.is_none()
    }

    /// The peer connection of a connected call changed state (`Connecting` calls are handled
    /// by `from_browser`).
    pub(super) fn in_call_peer_state_changed(&mut self, state: PeerConnectionState, effects: &mut Vec<Effect>) {
        let Some(call_attempt) = self.call.call_attempt() else { return };
        let polite_delay = self.polite_restart_delay_millis();
        match state {
            PeerConnectionState::Connected => {
                self.recovery.restarting = None;
                self.recovery.disconnected_grace = false;
            }
            PeerConnectionState::Disconnected => {
                if self.recovery.restarting.is_none() && !self.recovery.disconnected_grace {
                    self.recovery.disconnected_grace = true;
                    let delay_millis = DISCONNECTED_GRACE_MILLIS + polite_delay;
                    effects.push(Effect::ScheduleRecoveryCheck { call_attempt, delay_millis });
                }
            }
            PeerConnectionState::Failed if self.recovery.restarting.is_none() => {
                if polite_delay == 0 {
                    self.start_ice_restarts(effects);
                } else if !self.recovery.disconnected_grace {
                    // The polite side gives the impolite side's offer a head start.
                    self.recovery.disconnected_grace = true;
                    effects.push(Effect::ScheduleRecoveryCheck { call_attempt, delay_millis: polite_delay });
                }
            }
            PeerConnectionState::Failed
            | PeerConnectionState::New
            | PeerConnectionState::Connecting
            | PeerConnectionState::Closed => {}
        }
    }

    /// On the polite side: true (once) when the peer offered since the last check, so the
    /// impolite side is restarting and an offer of ours would only cross its offers.
    fn polite_leaves_it_to_the_peer(&mut self) -> bool {
        let peer_offered = std::mem::take(&mut self.recovery.peer_offered);
        peer_offered && self.call.negotiation_role() == Some(NegotiationRole::Polite)
    }

    /// The polite side's head start for the impolite side (0 on the impolite side).
    fn polite_restart_delay_millis(&self) -> u32 {
        match self.call.negotiation_role() {
            Some(NegotiationRole::Polite) => POLITE_RESTART_DELAY_MILLIS,
            _ => 0,
        }
    }

    fn start_ice_restarts(&mut self, effects: &mut Vec<Effect>) {
        let Some(call_attempt) = self.call.call_attempt() else { return };
        self.recovery.disconnected_grace = false;
        self.recovery.restarting = Some(IceRestarts { restarts: 1, elapsed_millis: 0 });
        // A restart the other side made may already be checking: left to finish.
        if self.peer_connection_state != Some(PeerConnectionState::Connecting) && !self.polite_leaves_it_to_the_peer() {
            self.restart_ice(effects);
        }
        effects.push(Effect::ScheduleRecoveryCheck { call_attempt, delay_millis: ice_restart_delay_millis(1) });
    }

    /// An ICE restart now, or as soon as an offer can reach the peer. While the call is
    /// connected the polite side asks the impolite side on the data channel instead, so the two
    /// never offer at once.
    pub(super) fn restart_ice(&mut self, effects: &mut Vec<Effect>) {
        let Some(call_attempt) = self.call.call_attempt() else { return };
        let connected = self.peer_connection_state == Some(PeerConnectionState::Connected);
        let polite = self.call.negotiation_role() == Some(NegotiationRole::Polite);
        if polite && connected && self.data_channel_open {
            self.recovery.total_restarts = self.recovery.total_restarts.saturating_add(1);
            effects.push(Effect::SendPeerMessage(PeerMessage::RestartIce {}));
        } else if self.can_signal() {
            self.recovery.offer_unsent = false;
            self.recovery.total_restarts = self.recovery.total_restarts.saturating_add(1);
            effects.push(Effect::RestartIce { call_attempt });
        } else {
            self.recovery.offer_unsent = true;
        }
    }

    /// The polite side asked us (on the data channel) to restart ICE for both.
    pub(super) fn peer_asked_for_ice_restart(&mut self, effects: &mut Vec<Effect>) {
        if matches!(self.call, CallPhase::InCall { .. })
            && self.call.negotiation_role() == Some(NegotiationRole::Impolite)
        {
            self.restart_ice(effects);
        }
    }

    pub(super) fn recovery_check_due(&mut self, effects: &mut Vec<Effect>) {
        let Some(call_attempt) = self.call.call_attempt() else { return };
        if !matches!(self.call, CallPhase::InCall { .. }) {
            return;
        }
        let connected = self.peer_connection_state == Some(PeerConnectionState::Connected);
        if let Some(IceRestarts { restarts, elapsed_millis }) = self.recovery.restarting {
            if connected {
                self.recovery.restarting = None;
                return;
            }
            let elapsed_millis = elapsed_millis.saturating_add(ice_restart_delay_millis(restarts));
            if elapsed_millis >= ICE_RESTART_GIVE_UP_MILLIS {
                self.connection_lost(effects);
                return;
            }
            let restarts = restarts.saturating_add(1);
            self.recovery.restarting = Some(IceRestarts { restarts, elapsed_millis });
            // A restart still checking its candidates is left to finish; a lost one is made again;
            // the polite side leaves it to an impolite side that is restarting.
            let checking = self.peer_connection_state == Some(PeerConnectionState::Connecting);
            if (!checking || self.recovery.offer_unsent) && !self.polite_leaves_it_to_the_peer() {
                self.restart_ice(effects);
            }
            effects
                .push(Effect::ScheduleRecoveryCheck { call_attempt, delay_millis: ice_restart_delay_millis(restarts) });
        } else if self.recovery.disconnected_grace {
            self.recovery.disconnected_grace = false;
            if !connected {
                self.start_ice_restarts(effects);
            }
        } else if self.recovery.offer_unsent {
            self.restart_ice(effects);
            if self.recovery.offer_unsent {
                effects.push(Effect::ScheduleRecoveryCheck { call_attempt, delay_millis: OFFER_RETRY_MILLIS });
            }
        }
    }

    /// The server could not deliver something to the peer (its connection is away): an offer
    /// of ours may be lost, so one is made again shortly (the restart backoff does it while
    /// restarting).
    pub(super) fn peer_unavailable(&mut self, effects: &mut Vec<Effect>) {
        let Some(call_attempt) = self.call.call_attempt() else { return };
        if !matches!(self.call, CallPhase::InCall { .. } | CallPhase::Connecting { .. }) {
            return;
        }
        let timer_running = self.recovery.restarting.is_some() || self.recovery.disconnected_grace;
        if !self.recovery.offer_unsent && !timer_running {
            effects.push(Effect::ScheduleRecoveryCheck { call_attempt, delay_millis: OFFER_RETRY_MILLIS });
        }
        self.recovery.offer_unsent = true;
    }

    pub(super) fn restart_connection_clicked(&mut self, effects: &mut Vec<Effect>) {
        if matches!(self.call, CallPhase::InCall { .. }) {
            self.restart_ice(effects);
            if self.recovery.offer_unsent && self.recovery.restarting.is_none() {
                if let Some(call_attempt) = self.call.call_attempt() {
                    effects.push(Effect::ScheduleRecoveryCheck { call_attempt, delay_millis: OFFER_RETRY_MILLIS });
                }
            }
        }
    }

    pub(super) fn offer_collided(&mut self) {
        self.recovery.offer_collisions = self.recovery.offer_collisions.saturating_add(1);
    }

    /// The media (or the server's pairing) could not be restored in time: the call ends with
    /// "Connection lost", the peer told (`failed`) when the server can hear it.
    pub(super) fn connection_lost(&mut self, effects: &mut Vec<Effect>) {
        let Some(peer) = self.call.peer_name().cloned() else { return };
        let notice =
            Notice::alert(format!("Connection lost: the connection to {peer} could not be restored. The call ended."));
        if self.connection == SignalingConnection::Connected && self.signed_in_name().is_some() {
            self.leave_call(peer, Some(LeaveReason::Failed), notice, effects);
        } else {
            self.end_call(notice, effects);
        }
        self.online_list_stale(effects);
    }
}
