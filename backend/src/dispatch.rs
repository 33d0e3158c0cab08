//! What each client message does: one dispatch `match`, one small function per message.
//! Everything here is synchronous (messages are queued, never awaited), so no lock can be held
//! across an `.await`.

use crate::delivery::{Backlog, ConnectionHandle, DeliveryError};
use crate::log_limit::LogDecision;
use crate::metrics::RelayedType;
use crate::registry::{Answered, CallError, CallId, Identity, Offered, RelayError};
use crate::AppState;
use protocol::{
    ClientMessage, ErrorCode, IceCandidate, LeaveReason, LoginFailure, ResumeToken, ServerMessage, SessionDescription,
    UserName,
};
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
}

impl RequestError {
    pub fn code(&self) -> ErrorCode {
        match self {
            RequestError::NotLoggedIn => ErrorCode::NotLoggedIn,
            RequestError::AlreadyLoggedIn(_) => ErrorCode::AlreadyLoggedIn,
            RequestError::Call(CallError::UserNotFound(_)) => ErrorCode::UserNotFound,
            RequestError::Call(CallError::CannotCallSelf) => ErrorCode::CannotCallSelf,
            RequestError::Call(CallError::AlreadyInCall(_)) => ErrorCode::AlreadyInCall,
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
    connection: ConnectionHandle,
    /// The name this connection signed in with, as registered (display form and key).
    name: Option<Identity>,
    /// Frames that found a full queue while handling the current frame.
    backlog: Vec<Backlog>,
}

impl Session {
    pub fn new(state: AppState, connection: ConnectionHandle) -> Session {
        Session { state, connection, name: None, backlog: Vec::new() }
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
    fn queued(&mut self, delivery: Result<(), DeliveryError>) -> bool {
        match delivery {
            Ok(()) => true,
            Err(DeliveryError::QueueFull(backlog)) => {
                self.backlog.push(backlog);
                true
            }
            Err(DeliveryError::NotOnline) => false,
        }
    }

    /// Parses and dispatches one text frame; every failure becomes an `error` reply.
    pub fn handle_text(&mut self, text: &str) {
        let message = match ClientMessage::from_json(text) {
            Ok(message) => message,
            Err(parse_error) => return self.reply_error(parse_error.error_code(), parse_error.to_string()),
        };
        let outcome = match message {
            ClientMessage::Login { name, resume } => self.login(&name, resume.as_ref()),
            ClientMessage::Offer { name, offer } => self.offer(name, offer),
            ClientMessage::Answer { name, answer } => self.answer(name, answer),
            ClientMessage::Candidate { name, candidate } => self.candidate(name, candidate),
            ClientMessage::Leave { name, reason } => self.leave(name, reason),
            ClientMessage::Users => self.users(),
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
        match self.state.refusal_log.check(code.as_str()) {
            LogDecision::Write { suppressed: 0 } => {
                tracing::info!(connection = self.connection.id(), user = ?self.name, %code, "request refused");
            }
            LogDecision::Write { suppressed } => tracing::info!(
                connection = self.connection.id(),
                user = ?self.name,
                %code,
                suppressed,
                "request refused ({suppressed} more refusals with this code were not logged)"
            ),
            LogDecision::Suppress => {}
        }
        let message = match protocol::shortened(&message, MAX_ERROR_MESSAGE_CHARS) {
            std::borrow::Cow::Borrowed(_) => message,
            std::borrow::Cow::Owned(shortened) => shortened,
        };
        self.reply(&ServerMessage::error(code, message));
    }

    fn reply(&mut self, message: &ServerMessage) {
        let delivery = self.connection.send(message);
        self.queued(delivery);
    }

    fn signed_in_name(&self) -> Result<Identity, RequestError> {
        self.name.clone().ok_or(RequestError::NotLoggedIn)
    }

    fn login(&mut self, requested: &UserName, resume: Option<&ResumeToken>) -> Result<(), RequestError> {
        if let Some(current) = &self.name {
            return Err(RequestError::AlreadyLoggedIn(current.display().clone()));
        }
        let name = match UserName::parse_login(requested.as_str()) {
            Ok(name) => name,
            Err(invalid) => {
                self.reply(&login_refused(LoginFailure::Invalid, invalid.to_string()));
                return Ok(());
            }
        };
        match self.state.registry.claim(&Identity::new(name), self.connection.clone(), resume) {
            Ok(claimed) => {
                let name = claimed.identity;
                tracing::info!(connection = self.connection.id(), user = %name, resumed = claimed.replaced_call_peer.is_some() || resume.is_some(), "login");
                self.name = Some(name.clone());
                let config = &self.state.config;
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
                self.reply(&ServerMessage::Login {
                    success: true,
                    name: Some(name.display().clone()),
                    resume: Some(claimed.resume),
                    ice_servers,
                    reason: None,
                    message: None,
                });
                if let Some(peer) = claimed.replaced_call_peer {
                    send_leave(&self.state, &peer, &name, LeaveReason::Disconnected);
                }
            }
            Err(taken) => self.reply(&login_refused(LoginFailure::Taken, taken.to_string())),
        }
        Ok(())
    }

    fn offer(&mut self, target: UserName, offer: SessionDescription) -> Result<(), RequestError> {
        let caller = self.signed_in_name()?;
        match self.state.registry.start_call(&caller, self.connection.id(), &target) {
            Ok((outcome, callee)) => {
                let relayed = ServerMessage::Offer { offer, name: caller.display().clone() };
                let delivery = self.state.registry.deliver(&callee, Utf8Bytes::from(relayed.to_json()));
                if self.queued(delivery) {
                    self.state.metrics.relayed(RelayedType::Offer);
                }
                if let Offered::NewCall(call_id) = outcome {
                    tracing::info!(%caller, %callee, call_id, "call started");
                    self.start_ring_timer(caller, call_id);
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

    fn start_ring_timer(&self, caller: Identity, call_id: CallId) {
        let state = self.state.clone();
        let ring_timeout = state.config.ring_timeout;
        let timer_caller = caller.clone();
        let timer = tokio::spawn(async move {
            tokio::time::sleep(ring_timeout).await;
            if let Some(callee) = state.registry.expire_ring(&timer_caller, call_id) {
                tracing::info!(caller = %timer_caller, %callee, reason = "timeout", "call ended");
                send_leave(&state, &timer_caller, &callee, LeaveReason::Timeout);
                send_leave(&state, &callee, &timer_caller, LeaveReason::Timeout);
            }
        });
        self.state.registry.attach_ring_timer(&caller, call_id, timer.abort_handle());
    }

    fn answer(&mut self, target: UserName, answer: SessionDescription) -> Result<(), RequestError> {
        let callee = self.signed_in_name()?;
        let (outcome, caller) = self.state.registry.answer_call(&callee, self.connection.id(), &target)?;
        if let Answered::Connected(call_id) = outcome {
            tracing::info!(%caller, %callee, call_id, "call answered");
        }
        let relayed = ServerMessage::Answer { answer, name: Some(callee.display().clone()) };
        let delivery = self.state.registry.deliver(&caller, Utf8Bytes::from(relayed.to_json()));
        if self.queued(delivery) {
            self.state.metrics.relayed(RelayedType::Answer);
        }
        Ok(())
    }

    fn candidate(&mut self, peer: UserName, candidate: IceCandidate) -> Result<(), RequestError> {
        let sender = self.signed_in_name()?;
        let relayed = ServerMessage::Candidate { candidate, name: Some(sender.display().clone()) };
        match self.state.registry.relay_to_peer(
            &sender,
            self.connection.id(),
            &peer,
            Utf8Bytes::from(relayed.to_json()),
        ) {
            Ok(()) => {
                self.state.metrics.relayed(RelayedType::Candidate);
                Ok(())
            }
            Err(RelayError::Delivery(delivery_error)) => {
                if self.queued(Err(delivery_error)) {
                    self.state.metrics.relayed(RelayedType::Candidate);
                }
                Ok(())
            }
            Err(RelayError::Call(error)) => Err(error.into()),
        }
    }

    fn leave(&mut self, peer: Option<UserName>, reason: Option<LeaveReason>) -> Result<(), RequestError> {
        let user = self.signed_in_name()?;
        let peer = self.state.registry.end_call(&user, self.connection.id(), peer.as_ref())?;
        // A client may only claim these reasons; the server alone says disconnected/timeout.
        let reason = match reason {
            Some(LeaveReason::Declined) => LeaveReason::Declined,
            Some(LeaveReason::Busy) => LeaveReason::Busy,
            Some(LeaveReason::Failed) => LeaveReason::Failed,
            _ => LeaveReason::Hangup,
        };
        tracing::info!(caller = %user, callee = %peer, ?reason, "call ended");
        send_leave(&self.state, &peer, &user, reason);
        self.state.metrics.relayed(RelayedType::Leave);
        Ok(())
    }

    fn users(&mut self) -> Result<(), RequestError> {
        // Who is online is for people who signed in (a classic client always signs in first).
        self.signed_in_name()?;
        let users = self.state.registry.online_names(self.name.as_ref(), MAX_USERS_LISTED);
        self.reply(&ServerMessage::Users { users });
        Ok(())
    }

    /// Frees this connection's name and ends its call. Returns the name and the peer to tell.
    pub fn disconnect(&mut self) -> Option<(Identity, Option<Identity>)> {
        let name = self.name.take()?;
        let peer = self.state.registry.release(&name, self.connection.id());
        Some((name, peer))
    }
}

/// Tells `recipient` that its call with `departed` ended. Never waits: `leave` uses the queue's
/// small reserve (see [`crate::registry::Registry::deliver_reserved`]), which keeps it in order
/// and lets timers and clean-up send it too.
pub fn send_leave(state: &AppState, recipient: &Identity, departed: &Identity, reason: LeaveReason) {
    let leave = ServerMessage::Leave { name: Some(departed.display().clone()), reason: Some(reason) };
    state.registry.deliver_reserved(recipient, Utf8Bytes::from(leave.to_json()));
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
