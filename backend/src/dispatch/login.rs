//! Signing in and out: `login` (plain, or with a resume token verified here, `inCallWith` and
//! `keepCallOnDisconnect`), the `credentials` pushed before the token and TURN credentials
//! expire, and what a lost connection does (frees the name, or holds its call away for the
//! grace period). The directory learns only "takeover allowed": tokens never reach it.

use super::{count_call_end, login_refused, send_leave, RequestError, Session};
use crate::cluster::node_channel::NodeDelivery;
use crate::delivery::KickReason;
use crate::directory::{ClaimError, ClaimRequest, EndedCall, ExpiredGrace, Identity, Resumption};
use crate::presence::Change;
use crate::AppState;
use protocol::{IceServer, LeaveReason, LoginFailure, ResumeToken, ServerMessage, UserName};
use std::time::{Duration, SystemTime};
use tungstenite::Utf8Bytes;

/// What a `login` asks for besides the name.
#[derive(Debug, Default)]
pub struct LoginRequest {
    pub resume: Option<ResumeToken>,
    pub in_call_with: Option<UserName>,
    pub keep_call_on_disconnect: bool,
}

impl Session {
    pub(super) async fn login(&mut self, requested: &UserName, request: LoginRequest) -> Result<(), RequestError> {
        if let Some(current) = &self.name {
            return Err(RequestError::AlreadyLoggedIn(current.display().clone()));
        }
        let mut name = match UserName::parse_login(requested.as_str()) {
            Ok(name) => name,
            Err(invalid) => {
                self.reply(&login_refused(LoginFailure::Invalid, invalid.to_string()));
                return Ok(());
            }
        };
        let claim = match &request.resume {
            None => ClaimRequest::Fresh,
            Some(token) => match self.state.resume_secret.verify(token, &name, SystemTime::now()) {
                Ok(display_form_at_issue) => {
                    // The spelling the token was issued for (same key): a restarted server
                    // shows the name as it was.
                    name = display_form_at_issue;
                    let grace_deadline = tokio::time::Instant::now().into_std() + self.state.config.call_resume_grace;
                    ClaimRequest::Takeover { in_call_with: request.in_call_with.clone(), grace_deadline }
                }
                Err(refused) => {
                    tracing::info!(connection = self.id(), user = %name, %refused, "resume refused");
                    self.reply(&login_refused(LoginFailure::ResumeRefused, refused.to_string()));
                    return Ok(());
                }
            },
        };
        let claimed = match self.state.directory.claim(&Identity::new(name), self.reference(), &claim).await {
            Ok(claimed) => claimed,
            Err(refused) => {
                let reason = match refused {
                    ClaimError::Taken { .. } => LoginFailure::Taken,
                    ClaimError::Unavailable(_) => LoginFailure::Unavailable,
                };
                self.reply(&login_refused(reason, refused.to_string()));
                return Ok(());
            }
        };
        if let Some(replaced) = claimed.replaced {
            // The connection that held the name is closed (4001); it can no longer act on it.
            let kick = NodeDelivery::Kick(KickReason::ReplacedByNewLogin);
            crate::cluster_node::deliver_reserved_anywhere(&self.state, &replaced, kick, Utf8Bytes::default());
        }
        if claimed.newly_online {
            self.state.metrics.users_online.inc();
        }
        let name = claimed.identity;
        tracing::info!(
            connection = self.id(),
            user = %name,
            resumed = request.resume.is_some(),
            in_call_with = ?request.in_call_with,
            "login"
        );
        self.name = Some(name.clone());
        if let Some(cluster) = &self.state.cluster {
            cluster.signed_in(self.id(), &name);
        }
        self.keep_call_on_disconnect = request.keep_call_on_disconnect;
        let (resume, ice_servers) = self.fresh_credentials(&name);
        self.reply(&ServerMessage::Login {
            success: true,
            name: Some(name.display().clone()),
            resume: Some(resume),
            ice_servers,
            reason: None,
            message: None,
        });
        if let Some(ended) = &claimed.ended_call {
            tell_call_ended(&self.state, ended, &name);
        }
        for stale in &claimed.stale_holders_freed {
            // Cluster mode: the name (or a look-alike) was held on a node that died; its call
            // ended with the claim, and the peer (on any node) is told as after a sweep.
            tracing::info!(user = %stale.display, holder = %stale.holder, "a dead node's name freed by a sign-in");
            // Gone, unless it is the name just claimed (the flush reads the final state).
            self.announce(&Identity::new(stale.display.clone()), Change::Left);
            if let Some(peer_connection) = stale.ended_call.as_ref().and_then(|ended| ended.peer_connection) {
                send_leave(
                    &self.state,
                    &peer_connection,
                    &Identity::new(stale.display.clone()),
                    LeaveReason::Disconnected,
                );
            }
        }
        for ended_wait in &claimed.ended_waits {
            tracing::info!(waiter = %ended_wait.waiter, peer = %name, "call not resumed: the peer signed in without it");
            send_leave(&self.state, &ended_wait.waiter_connection, &name, LeaveReason::Disconnected);
        }
        match claimed.resumption {
            Resumption::None => {}
            Resumption::Restored { peer, peer_connection, new_pairing } => {
                if new_pairing {
                    self.state.metrics.call_connected(false);
                }
                self.state.metrics.calls_resumed.inc();
                tracing::info!(user = %name, %peer, "call resumed");
                self.reply(&ServerMessage::CallResumed { name: peer.display().clone() });
                let resumed = ServerMessage::CallResumed { name: name.display().clone() };
                let resumed = Utf8Bytes::from(resumed.to_json());
                crate::cluster_node::deliver_reserved_anywhere(
                    &self.state,
                    &peer_connection,
                    NodeDelivery::Reserved,
                    resumed,
                );
            }
            Resumption::PeerAway { peer } | Resumption::Waiting { peer } => {
                tracing::info!(user = %name, %peer, "waiting for the peer to come back");
                self.state.ring_sweep.deadline_added(&self.state);
            }
        }
        if claimed.newly_online {
            self.announce(&name, Change::Joined);
        }
        Ok(())
    }

    /// A new resume token for `name`, and on servers with TURN fresh ICE servers.
    fn fresh_credentials(&self, name: &Identity) -> (ResumeToken, Option<Vec<IceServer>>) {
        let config = &self.state.config;
        let resume = self.state.resume_secret.issue(name.display(), SystemTime::now(), config.resume_token_ttl);
        // TURN credentials are per user, so they come with the login, not with `hello`.
        let ice_servers = (!config.turn_urls.is_empty()).then(|| {
            crate::ice::servers_for_user(
                &config.stun_urls,
                &config.turn_urls,
                config.turn_secret.as_deref(),
                config.turn_ttl,
                name.display(),
            )
        });
        (resume, ice_servers)
    }

    /// Pushes `credentials` (a new token, fresh TURN credentials) to this signed-in connection;
    /// the connection loop calls it every [`credentials_refresh_interval`].
    pub fn push_credentials(&mut self) {
        let Some(name) = self.name.clone() else { return };
        let (resume, ice_servers) = self.fresh_credentials(&name);
        self.reply(&ServerMessage::Credentials { resume, ice_servers });
    }

    /// The client closed with 1001 (going away: its page was closed or left): nothing of its
    /// call can outlive it, so a disconnect now ends the call at once even for a client that
    /// keeps its calls through a lost connection.
    pub fn page_went_away(&mut self) {
        self.keep_call_on_disconnect = false;
    }

    /// Frees this connection's name (if it still holds it) and ends its call, or, for a client
    /// that keeps its calls, holds a connected call (and the name) for the grace period. Returns
    /// the name and the call that ended, whose peer must be told.
    pub async fn disconnect(&mut self) -> Option<(Identity, Option<EndedCall>)> {
        let name = self.name.take()?;
        if let Some(cluster) = &self.state.cluster {
            cluster.signed_out(self.id());
        }
        let hold_until = self
            .keep_call_on_disconnect
            .then(|| tokio::time::Instant::now().into_std() + self.state.config.call_resume_grace);
        let ended_call = match self.state.directory.release(&name, self.reference(), hold_until).await {
            Err(unavailable) => {
                // Cluster mode with Redis out of reach: freed when Redis is back (the node's
                // lease events retry it), so the name is not held by a closed connection.
                tracing::warn!(user = %name, %unavailable, "name not freed at once: retried when Redis is back");
                if let Some(cluster) = &self.state.cluster {
                    cluster.release_later(name.clone(), self.reference());
                }
                None
            }
            Ok(Some(released)) if released.held => {
                tracing::info!(user = %name, "connection lost mid-call: call held for the grace period");
                self.state.ring_sweep.deadline_added(&self.state);
                None
            }
            Ok(Some(released)) => {
                self.state.metrics.users_online.dec();
                self.announce(&name, Change::Left);
                if let Some(ended) = &released.ended_call {
                    count_call_end(&self.state.metrics, ended.phase);
                    if ended.peer_name_freed {
                        name_freed(&self.state, &ended.peer);
                    }
                }
                released.ended_call
            }
            Ok(None) => None,
        };
        Some((name, ended_call))
    }
}

/// How often a signed-in connection gets `credentials`: half the lifetime of the shorter of its
/// resume token and (on servers with TURN) its TURN credentials.
pub fn credentials_refresh_interval(config: &crate::Config) -> Duration {
    let mut lifetime = config.resume_token_ttl;
    if !config.turn_urls.is_empty() {
        lifetime = lifetime.min(config.turn_ttl);
    }
    (lifetime / 2).max(Duration::from_millis(500))
}

/// A call of `departed` ended by a transition of its own: counted, its peer told
/// `disconnected`, and a peer that was away freed (presence `left`).
fn tell_call_ended(state: &AppState, ended: &EndedCall, departed: &Identity) {
    count_call_end(&state.metrics, ended.phase);
    if let Some(peer_connection) = &ended.peer_connection {
        send_leave(state, peer_connection, departed, LeaveReason::Disconnected);
    }
    if ended.peer_name_freed {
        name_freed(state, &ended.peer);
    }
}

/// An away name freed: one fewer online, presence `left`.
pub(super) fn name_freed(state: &AppState, name: &Identity) {
    state.metrics.users_online.dec();
    super::presence::announce_change(state, name, Change::Left);
}

/// Carries out the holds and waits the sweep expired: away names freed (their peers told
/// `disconnected`), waiters told their peer did not come back.
pub(super) fn expired_graces(state: &AppState, expired: Vec<ExpiredGrace>) {
    for grace in expired {
        state.metrics.call_resume_expired.inc();
        match grace {
            ExpiredGrace::Away { name, ended_call } => {
                tracing::info!(user = %name, "did not come back within the grace period: call ended");
                name_freed(state, &name);
                if let Some(ended) = &ended_call {
                    tell_call_ended(state, ended, &name);
                }
            }
            ExpiredGrace::Wait { waiter, waiter_connection, peer } => {
                tracing::info!(user = %waiter, %peer, "the peer did not come back within the grace period");
                send_leave(state, &waiter_connection, &peer, LeaveReason::Disconnected);
            }
        }
    }
}
