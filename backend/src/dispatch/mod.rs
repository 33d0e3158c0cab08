//! The per-connection session: what each client message does, one dispatch `match`, one small
//! function per message. It asks the directory (`crate::directory`) what a message changes and
//! where the result goes, counts what happened in the metrics, and hands frames to the router
//! (`crate::router`) or, for replies, to its own connection. `login.rs` signs in and out
//! (resume tokens, held calls); `ring_sweep.rs` ends calls that ring too long and holds that
//! outlast their grace period. The only awaits are the directory's answers (ready at once in
//! memory; a Redis round trip in cluster mode): frames are queued, never awaited, and no lock is
//! held across an `.await`.

mod login;
mod presence;
mod ring_sweep;

use crate::address::ConnectionRef;
use crate::cluster::node_channel::NodeDelivery;
use crate::delivery::{Backlog, ConnectionHandle};
use crate::directory::{Answered, CallError, CallPhase, DirectoryError, Identity, Offered};
use crate::metrics::{Metrics, RelayedType};
use crate::router::RouteError;
use crate::AppState;
pub use login::{credentials_refresh_interval, LoginRequest};
pub use presence::announce_change;
use protocol::{
    CandidateFrame, ClientMessage, ErrorCode, LeaveReason, LoginFailure, ServerMessage, SessionDescription, UserName,
};
pub use ring_sweep::RingSweep;
use tungstenite::Utf8Bytes;

/// Most names returned by one `users` request.
pub const MAX_USERS_LISTED: usize = 200;

/// Longest `error` message sent, in characters: a backstop behind the quoting of client input.
pub const MAX_ERROR_MESSAGE_CHARS: usize = 400;

/// A request the server refuses; becomes an `error` reply with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("Sign in first: send {{\"type\":\"login\",\"name\":\"...\"}}.")]
    NotLoggedIn,
    #[error("This connection is already signed in as \"{0}\"; open a new connection to use another name.")]
    AlreadyLoggedIn(UserName),
    #[error(transparent)]
    Call(#[from] CallError),
    #[error(transparent)]
    Unavailable(#[from] DirectoryError),
}

impl RequestError {
    pub fn code(&self) -> ErrorCode {
        match self {
            RequestError::NotLoggedIn => ErrorCode::NotLoggedIn,
            RequestError::AlreadyLoggedIn(_) => ErrorCode::AlreadyLoggedIn,
            RequestError::Call(CallError::UserNotFound(_)) => ErrorCode::UserNotFound,
            RequestError::Call(CallError::CannotCallSelf) => ErrorCode::CannotCallSelf,
            RequestError::Call(CallError::AlreadyInCall(_)) => ErrorCode::AlreadyInCall,
            RequestError::Call(CallError::PeerUnavailable(_)) => ErrorCode::PeerUnavailable,
            RequestError::Call(CallError::Unavailable(_)) | RequestError::Unavailable(_) => ErrorCode::Unavailable,
            // `Busy` is answered with `leave`/`busy`, never as an error; kept total for safety.
            RequestError::Call(CallError::Busy(_) | CallError::NotInCall(_) | CallError::NoCall) => {
                ErrorCode::NotInCall
            }
        }
    }
}

/// The state one connection's reader loop owns.
#[derive(Debug)]
pub struct Session {
    state: AppState,
    /// This connection, reachable through the router until the session ends.
    connection: ConnectionHandle,
    /// The name this connection signed in with, as registered (display form and key).
    name: Option<Identity>,
    /// Frames that found a full queue while handling the current frame.
    backlog: Vec<Backlog>,
    /// This connection sent `presence_subscribe` (and is in the presence hub).
    subscribed: bool,
    /// The client signed in with `keepCallOnDisconnect`: a lost connection holds its call.
    keep_call_on_disconnect: bool,
    /// Cluster mode: where this connection's call peer is, so relaying a candidate costs no
    /// Redis round trip (boxed: nothing per idle connection in memory, where it is not used).
    relay_cache: Option<Box<RelayCache>>,
}

/// The relay target of the current call, as the directory last said, valid while no frame was
/// queued in this connection's reserve since (every `leave` and `call_resumed` is: the call
/// changed) and this session did not change its call itself (offer, answer, leave, login).
#[derive(Debug)]
struct RelayCache {
    peer: protocol::NameKey,
    connection: ConnectionRef,
    reserved_deliveries: u32,
}

impl Session {
    /// A session for a connection registered with the router (`connection/`); the session
    /// deregisters it when it ends.
    pub fn registered(state: AppState, connection: ConnectionHandle) -> Session {
        Session {
            state,
            connection,
            name: None,
            backlog: Vec::new(),
            subscribed: false,
            keep_call_on_disconnect: false,
            relay_cache: None,
        }
    }

    /// Registers `connection` with the router and starts its session: for driving sessions
    /// without a socket (property tests, tools).
    pub fn new(state: AppState, connection: ConnectionHandle) -> Session {
        state.router.register(&connection);
        Session::registered(state, connection)
    }

    /// Where the directory finds this connection.
    fn reference(&self) -> ConnectionRef {
        self.state.router.reference_to(self.connection.id())
    }

    fn id(&self) -> crate::address::ConnectionId {
        self.connection.id()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Frames the connection loop must deliver (waiting, bounded) before reading the next one.
    pub fn take_backlog(&mut self) -> Vec<Backlog> {
        std::mem::take(&mut self.backlog)
    }

    /// Keeps a frame that found a full queue for the connection loop. True when the frame was
    /// queued or kept; false when the recipient is gone.
    fn queued(&mut self, delivery: Result<(), RouteError>) -> bool {
        match delivery {
            Ok(()) => true,
            Err(RouteError::QueueFull(backlog)) => {
                self.backlog.push(backlog);
                true
            }
            Err(RouteError::NotConnected | RouteError::OtherNode(_)) => false,
        }
    }

    /// Dispatches one text frame at once, on the caller's stack, for a directory that never
    /// waits (in memory: see [`DirectoryBackend::may_wait`](crate::directory_backend::DirectoryBackend::may_wait)).
    /// The connection loop uses it so that an idle connection's future does not grow by a
    /// dispatch future; property tests drive sessions with it without a runtime.
    ///
    /// # Panics
    /// If the directory made the dispatch wait (a directory that may wait must be awaited
    /// through [`Self::handle_text`]).
    pub fn handle_text_now(&mut self, text: &str) {
        use futures_util::FutureExt;
        assert!(self.handle_text(text).now_or_never().is_some(), "the in-memory directory never waits");
    }

    /// Delivers a relayed frame to `to` (the connection of `recipient`, as the client named
    /// it): into its queue on this node (as [`Self::queued`]), or in cluster mode published to
    /// its node, awaited, so this sender's frames keep their order; a publish that fails is
    /// answered to this sender with `unavailable` (never lost silently). In cluster mode a
    /// connection found gone (the relay cache's target closed, its call held) is answered
    /// `peer_unavailable`, here or by the other node's bounce ([`relay_bounced`]). True when
    /// the frame was delivered (or kept in the backlog).
    async fn relay(&mut self, to: &ConnectionRef, recipient: &UserName, text: Utf8Bytes) -> bool {
        if to.node == self.state.router.node() {
            let delivery = self.state.router.deliver(to, text);
            if matches!(delivery, Err(RouteError::NotConnected)) && self.state.directory.may_wait() {
                self.relay_cache = None;
                let unavailable = RequestError::from(CallError::PeerUnavailable(recipient.clone()));
                self.reply_error(unavailable.code(), unavailable.to_string());
                return false;
            }
            return self.queued(delivery);
        }
        let Some(cluster) = &self.state.cluster else { return false };
        match cluster.publish_relayed(*to, self.reference(), recipient.as_str(), text.as_bytes()).await {
            Ok(()) => true,
            Err(error) => {
                tracing::info!(connection = self.id(), %to, %error, "relay to another node failed");
                self.reply_error(ErrorCode::Unavailable, crate::cluster_node::unreachable_words());
                false
            }
        }
    }

    /// Remembers (cluster mode only) that frames for `peer` go to `connection`; `seen` is the
    /// connection's reserve count read before the directory was asked.
    fn cache_relay_target(&mut self, peer: &UserName, connection: ConnectionRef, seen: u32) {
        if self.state.directory.may_wait() {
            self.relay_cache = Some(Box::new(RelayCache { peer: peer.key(), connection, reserved_deliveries: seen }));
        }
    }

    /// The cached relay target for `peer`, if still valid.
    fn cached_relay_target(&self, peer: &UserName) -> Option<ConnectionRef> {
        let cache = self.relay_cache.as_deref()?;
        let valid = cache.reserved_deliveries == self.connection.reserved_deliveries() && cache.peer == peer.key();
        valid.then_some(cache.connection)
    }

    /// Parses and dispatches one text frame; every failure becomes an `error` reply.
    pub async fn handle_text(&mut self, text: &str) {
        // The most frequent frame, in the form clients write it: relayed without a parse tree.
        if let Some(frame) = CandidateFrame::parse(text) {
            let peer = UserName::from_wire(frame.name);
            if let Err(error) = self.candidate(peer, frame.candidate).await {
                self.reply_error(error.code(), error.to_string());
            }
            return;
        }
        let message = match ClientMessage::from_json(text) {
            Ok(message) => message,
            Err(parse_error) => return self.reply_error(parse_error.error_code(), parse_error.to_string()),
        };
        if !matches!(message, ClientMessage::Candidate { .. }) {
            // Anything else may change this connection's call: ask the directory again.
            self.relay_cache = None;
        }
        let outcome = match message {
            ClientMessage::Login { name, resume, in_call_with, keep_call_on_disconnect } => {
                self.login(&name, LoginRequest { resume, in_call_with, keep_call_on_disconnect }).await
            }
            ClientMessage::Offer { name, offer } => self.offer(name, offer).await,
            ClientMessage::Answer { name, answer } => self.answer(name, answer).await,
            ClientMessage::Candidate { name, candidate } => self.candidate(name, candidate.as_json()).await,
            ClientMessage::Leave { name, reason } => self.leave(name, reason).await,
            ClientMessage::Users => self.users().await,
            ClientMessage::PresenceSubscribe => self.presence_subscribe().await,
            ClientMessage::PresenceQuery { names } => self.presence_query(&names).await,
        };
        if let Err(error) = outcome {
            self.reply_error(error.code(), error.to_string());
        }
    }

    pub fn is_signed_in(&self) -> bool {
        self.name.is_some()
    }

    /// Sends an `error` to this connection, counts it, and logs it (without the frame's
    /// content; log lines limited per code, see [`crate::log_limit`]). The message is capped
    /// too, whatever quotes it.
    pub fn reply_error(&mut self, code: ErrorCode, message: String) {
        self.state.metrics.error(code);
        if self.state.refusal_log.admits(code.as_str()) {
            tracing::info!(connection = self.id(), user = ?self.name, %code, "request refused");
        }
        let message = match protocol::shortened(&message, MAX_ERROR_MESSAGE_CHARS) {
            std::borrow::Cow::Borrowed(_) => message,
            std::borrow::Cow::Owned(shortened) => shortened,
        };
        self.reply(&ServerMessage::error(code, message));
    }

    fn reply(&mut self, message: &ServerMessage) {
        let delivery = self.connection.send(message).map_err(RouteError::from);
        self.queued(delivery);
    }

    fn signed_in_name(&self) -> Result<Identity, RequestError> {
        self.name.clone().ok_or(RequestError::NotLoggedIn)
    }

    async fn offer(&mut self, target: UserName, offer: SessionDescription) -> Result<(), RequestError> {
        let caller = self.signed_in_name()?;
        let ring_deadline = tokio::time::Instant::now().into_std() + self.state.config.ring_timeout;
        let seen = self.connection.reserved_deliveries();
        match self.state.directory.start_call(&caller, self.reference(), &target, ring_deadline).await {
            Ok(started) => {
                self.cache_relay_target(&target, started.callee_connection, seen);
                if let Offered::NewCall(_) = started.outcome {
                    self.state.metrics.call_ringing();
                }
                let relayed = ServerMessage::Offer { offer, name: caller.display().clone() };
                if self.relay(&started.callee_connection, &target, Utf8Bytes::from(relayed.to_json())).await {
                    self.state.metrics.relayed(RelayedType::Offer);
                }
                if let Offered::NewCall(call_id) = started.outcome {
                    tracing::info!(%caller, callee = %started.callee, call_id, "call started");
                    self.state.ring_sweep.deadline_added(&self.state);
                }
                Ok(())
            }
            Err(CallError::Busy(callee)) => {
                tracing::info!(%caller, %callee, reason = "busy", "call refused");
                // Named as the caller typed it, so the caller can match it with its request.
                self.reply(&ServerMessage::Leave { name: Some(target), reason: Some(LeaveReason::Busy) });
                Ok(())
            }
            Err(error) => Err(error.into()),
        }
    }

    async fn answer(&mut self, target: UserName, answer: SessionDescription) -> Result<(), RequestError> {
        let callee = self.signed_in_name()?;
        let seen = self.connection.reserved_deliveries();
        let answered = self.state.directory.answer_call(&callee, self.reference(), &target).await?;
        self.cache_relay_target(&target, answered.caller_connection, seen);
        if let Answered::Connected(call_id) = answered.outcome {
            self.state.metrics.call_connected(true);
            tracing::info!(caller = %answered.caller, %callee, call_id, "call answered");
        }
        let relayed = ServerMessage::Answer { answer, name: Some(callee.display().clone()) };
        if self.relay(&answered.caller_connection, &target, Utf8Bytes::from(relayed.to_json())).await {
            self.state.metrics.relayed(RelayedType::Answer);
        }
        Ok(())
    }

    /// Relays `candidate` (valid JSON) to `peer`, spliced into the relayed frame as it came.
    async fn candidate(&mut self, peer: UserName, candidate: &str) -> Result<(), RequestError> {
        let sender = self.signed_in_name()?;
        let target = match self.cached_relay_target(&peer) {
            Some(target) => target,
            None => {
                let seen = self.connection.reserved_deliveries();
                let target = self.state.directory.relay_target(&sender, self.reference(), &peer).await?;
                self.cache_relay_target(&peer, target, seen);
                target
            }
        };
        let relayed = protocol::relayed_candidate(candidate, sender.display().as_str());
        if self.relay(&target, &peer, Utf8Bytes::from(relayed)).await {
            self.state.metrics.relayed(RelayedType::Candidate);
        }
        Ok(())
    }

    async fn leave(&mut self, peer: Option<UserName>, reason: Option<LeaveReason>) -> Result<(), RequestError> {
        let user = self.signed_in_name()?;
        let ended = self.state.directory.end_call(&user, self.reference(), peer.as_ref()).await?;
        count_call_end(&self.state.metrics, ended.phase);
        // A client may only claim these reasons; the server alone says disconnected/timeout.
        let reason = match reason {
            Some(LeaveReason::Declined) => LeaveReason::Declined,
            Some(LeaveReason::Busy) => LeaveReason::Busy,
            Some(LeaveReason::Failed) => LeaveReason::Failed,
            Some(LeaveReason::DoNotDisturb) => LeaveReason::DoNotDisturb,
            _ => LeaveReason::Hangup,
        };
        tracing::info!(caller = %user, callee = %ended.peer, ?reason, "call ended");
        if let Some(peer_connection) = &ended.peer_connection {
            send_leave(&self.state, peer_connection, &user, reason);
        }
        if ended.peer_name_freed {
            // The peer was away (its call held): nothing holds its name any more.
            login::name_freed(&self.state, &ended.peer);
        }
        self.state.metrics.relayed(RelayedType::Leave);
        Ok(())
    }
}

impl Drop for Session {
    /// The connection is no longer reachable by its reference.
    fn drop(&mut self) {
        if self.subscribed {
            self.state.presence.unsubscribe(self.connection.id());
        }
        self.state.router.deregister(self.connection.id());
    }
}

/// A call ended: one fewer ringing or active in the gauges.
fn count_call_end(metrics: &Metrics, phase: CallPhase) {
    match phase {
        CallPhase::Ringing => metrics.call_ended(false),
        CallPhase::Connected => metrics.call_ended(true),
        // A wait for the other side is not a call (yet).
        CallPhase::Resuming => {}
    }
}

/// Tells `recipient` that its call with `departed` ended. Never waits: `leave` uses the queue's
/// small reserve (see [`crate::router::Router::deliver_reserved`]), which keeps it in order and
/// lets the ring sweep and clean-up send it too.
/// In cluster mode a recipient on another node gets it through a spawned publish.
pub fn send_leave(state: &AppState, recipient: &ConnectionRef, departed: &Identity, reason: LeaveReason) {
    let leave = crate::cluster_node::leave_text(departed, reason);
    crate::cluster_node::deliver_reserved_anywhere(state, recipient, NodeDelivery::Reserved, leave);
}

/// Cluster mode: a frame this node's connection `sender` relayed to `recipient` found the
/// recipient's connection gone (closed; its call held for a resume): the sender's relay cache
/// is dropped (its next frame asks the directory again) and it is told `peer_unavailable`, as
/// one server answers a relay to an away peer. The error goes into the sender's queue if there
/// is room (it is an answer, not a call change: never in the reserve).
pub fn relay_bounced(state: &AppState, sender: &ConnectionRef, recipient: &UserName) {
    if state.router.relay_target_changed(sender).is_err() {
        return;
    }
    let unavailable = RequestError::from(CallError::PeerUnavailable(recipient.clone()));
    state.metrics.error(unavailable.code());
    let error = ServerMessage::error(unavailable.code(), unavailable.to_string());
    let _ = state.router.deliver(sender, Utf8Bytes::from(error.to_json()));
}

fn login_refused(reason: LoginFailure, message: String) -> ServerMessage {
    ServerMessage::Login {
        success: false,
        name: None,
        resume: None,
        ice_servers: None,
        reason: Some(reason),
        message: Some(message),
    }
}
