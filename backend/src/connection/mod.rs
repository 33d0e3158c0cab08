//! One WebSocket connection, served by one task: it reads and dispatches frames, writes what is
//! queued for it, pings, enforces the idle and login deadlines, and frees the name when the
//! connection ends. The connection task is where its errors stop: nothing here can take the
//! server down.
//!
//! Other tasks reach a connection through its [`ConnectionHandle`] (see [`crate::delivery`]):
//! a bounded queue of frames that this task writes out, and a way to ask it to close.

mod deadlines;
mod ending;
mod outgoing;

use crate::delivery::{Backlog, ConnectionHandle, KickReason};
use crate::dispatch::Session;
use crate::limits::ConnectionPermit;
use crate::websocket::Socket;
use crate::AppState;
use ending::{ending_of_error, Ending};
use futures_util::{SinkExt, StreamExt};
use outgoing::{push_text_frame, Unsent};
use protocol::{ErrorCode, LeaveReason};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::Message;

/// How long a closing connection may take to flush what is queued for it and say goodbye, in
/// all: shorter than the server's shutdown drain, so every client gets its close frame.
const CLOSING_DRAIN_TIMEOUT: Duration = Duration::from_secs(3);

/// After its close frame and half-close, how long (at most, within [`CLOSING_DRAIN_TIMEOUT`]) a
/// connection reads and ignores what the client still sends, waiting for it to close too.
/// Dropping a socket with unread input makes the kernel reset it, and the reset discards the
/// close frame if the client has not read it yet (a client still writing would see only that).
const CLOSE_LINGER: Duration = Duration::from_secs(1);

/// Runs one upgraded WebSocket until it closes. Never panics outward, never returns an error:
/// every failure ends this connection only.
///
/// Not an `async fn`: the connection is set up here, and the future returned owns only the
/// [`Connection`] and the permit. An `async fn` would keep its arguments (the socket among them)
/// in slots of their own beside the `Connection` they move into, for the connection's whole life.
pub fn serve_connection(
    socket: Socket,
    state: AppState,
    remote: SocketAddr,
    permit: ConnectionPermit,
) -> impl std::future::Future<Output = ()> + Send {
    let handle = ConnectionHandle::new(&state.queue_limits);
    let period = crate::delivery::deadline_sweep_period(&state.config);
    state.deadline_sweep.start_once(state.queue_limits.budget.local_queues(), period, &state.shutdown);
    // Reachable through the router (by the directory's reference) until the session ends.
    state.router.register(&handle);
    tracing::info!(connection = handle.id(), %remote, "connection opened");
    let _ = handle.send_text(state.hello_frame());
    let now = Instant::now();
    let mut connection = Connection {
        socket,
        // The session holds the only copy of the state: another one kept across the await
        // would cost every idle connection its size.
        session: Session::registered(state, handle.clone()),
        handle,
        connected_at: now,
        last_seen: now,
        last_ping: now,
        credentials_due: now,
        unsent: Unsent::default(),
        refusing: false,
    };
    async move {
        let ending = connection.run().await;
        // The cold path lives in its own boxed future, so it adds nothing to every idle connection.
        Box::pin(connection.finish(ending)).await;
        drop(permit);
    }
}

/// Why a write to the client did not complete.
enum WriteFailure {
    /// The socket failed or closed.
    Transport,
    /// The client did not take the frames within the send timeout: it does not read.
    TooSlow,
}

struct Connection {
    socket: Socket,
    session: Session,
    handle: ConnectionHandle,
    connected_at: Instant,
    last_seen: Instant,
    last_ping: Instant,
    /// When the next `credentials` push is due (from sign-in on).
    credentials_due: Instant,
    /// Frames a cancelled write left unsent (see [`outgoing`]).
    unsent: Unsent,
    /// The last data message was refused by the rate limit (only the first of a streak gets
    /// an `error`).
    refusing: bool,
}

impl Connection {
    async fn run(&mut self) -> Ending {
        let state = self.session.state().clone();
        let config = &state.config;
        let mut checking_as_signed_in = false;
        self.handle.set_deadline(self.next_deadline(config, checking_as_signed_in));
        let may_wait = state.directory.may_wait();
        loop {
            // No wait on the shutdown token of its own (it would sit in every idle connection's
            // future): the deadline sweep wakes every queue once the token is cancelled, and
            // each wake-up and each turn of this loop looks at it first.
            if state.shutdown.is_cancelled() {
                return Ending::ServerShutdown;
            }
            let frame = tokio::select! {
                biased;
                () = self.handle.ready() => {
                    if state.shutdown.is_cancelled() {
                        return Ending::ServerShutdown;
                    }
                    if let Some(reason) = self.handle.kicked() {
                        return Ending::Kicked(reason);
                    }
                    // The deadline sweep woke this connection: before the socket, so a client
                    // flooding frames cannot starve the deadlines.
                    if self.handle.deadline_passed() {
                        if let Err(ending) = self.check_deadlines(checking_as_signed_in).await {
                            return ending;
                        }
                    }
                    // Boxed: the write's timer and its waits on a kick or on shutdown would
                    // otherwise sit in every idle connection's future (560 bytes of 896).
                    if let Err(failure) = Box::pin(self.write_queued(config.send_timeout)).await {
                        return failure.into();
                    }
                    continue;
                }
                frame = self.socket.next() => frame,
            };
            // Any frame, pongs included, proves the client is alive.
            self.last_seen = Instant::now();
            // Every frame was counted by the frame gate (fragments, pings and pongs too); a
            // refused ping or pong never got here, a refused message comes marked.
            self.report_refusals();
            let message = match frame {
                Some(Ok(Message::Close(Some(close)))) if close.code == CloseCode::Away => {
                    // 1001: the page went away (closed, reloaded, navigated): its peer connection
                    // is gone with it, so there is no call left to hold for a resume.
                    self.session.page_went_away();
                    return Ending::ClientClosed;
                }
                None | Some(Ok(Message::Close(_))) => return Ending::ClientClosed,
                Some(Err(error)) => return ending_of_error(&error),
                Some(Ok(message)) => message,
            };
            let data = matches!(message, Message::Text(_) | Message::Binary(_));
            if data && self.socket.get_mut().take_message_refused() {
                if !self.refusing {
                    self.refusing = true;
                    self.session.reply_error(ErrorCode::RateLimited, "Too many messages; slow down.".to_owned());
                }
            } else {
                self.refusing &= !data;
                match message {
                    // In memory the dispatch is ready at once and runs on this stack; a
                    // directory that may wait (Redis) is awaited in a box, so neither grows
                    // every idle connection's future.
                    Message::Text(text) if may_wait => Box::pin(self.session.handle_text(text.as_str())).await,
                    Message::Text(text) => self.session.handle_text_now(text.as_str()),
                    Message::Binary(_) => self.session.reply_error(
                        ErrorCode::BinaryFrame,
                        "Binary frames are not supported; send JSON text frames.".to_owned(),
                    ),
                    _ => {}
                }
            }
            if self.session.is_signed_in() && !checking_as_signed_in {
                // The login deadline no longer applies: idle connections wake up less often.
                checking_as_signed_in = true;
                self.credentials_due = Instant::now() + crate::dispatch::credentials_refresh_interval(config);
                self.handle.set_deadline(self.next_deadline(config, checking_as_signed_in));
            }
            // Frames that found a full queue: this sender waits for them (bounded) before its
            // next frame is read, which keeps its messages in order and pushes back on bursts.
            for backlog in self.session.take_backlog() {
                // Boxed: rare, and its nested waits would otherwise sit in every connection.
                if let Err(failure) = Box::pin(self.deliver_backlog(backlog, config.send_timeout)).await {
                    return failure.into();
                }
            }
        }
    }

    /// Waits for room in a full queue. While it waits, this connection keeps writing what is
    /// queued for its own client, so two clients flooding each other cannot stall each other;
    /// a full queue of its own is simply written out first.
    async fn deliver_backlog(&mut self, backlog: Backlog, patience: Duration) -> Result<(), WriteFailure> {
        if backlog.is_for(self.handle.id()) {
            // Its own queue: write it out, then there is room (others may refill it meanwhile;
            // a client that does not read makes `write_queued` fail as too slow).
            let mut backlog = backlog;
            loop {
                self.write_queued(patience).await?;
                if self.stopping() {
                    // Handled by the main loop (a kick left its permit there).
                    self.handle.wake();
                    return Ok(());
                }
                match backlog.retry() {
                    Ok(()) => return Ok(()),
                    Err(still_full) => backlog = still_full,
                }
            }
        }
        let delivery = backlog.deliver_within(patience);
        tokio::pin!(delivery);
        let state = self.session.state().clone();
        loop {
            tokio::select! {
                () = &mut delivery => return Ok(()),
                () = state.shutdown.cancelled() => return Ok(()),
                () = self.handle.ready() => {
                    if self.handle.kicked().is_some() {
                        // Handled by the main loop, which sees the stored permit.
                        self.handle.wake();
                        return Ok(());
                    }
                    // A passed deadline is the main loop's: the sweep wakes it again.
                    self.write_queued(patience).await?;
                }
            }
        }
    }

    /// Another task asked this connection to close, or the server is shutting down: writes
    /// give up and the main loop ends the connection.
    fn stopping(&self) -> bool {
        self.handle.kicked().is_some() || self.session.state().shutdown.is_cancelled()
    }

    /// Writes every queued frame with one flush at the end; gives up early (and successfully:
    /// the caller sees why) when the connection is stopping, so a client closed for the
    /// server-wide queue budget, or at shutdown, is not waited for up to the send timeout.
    async fn write_queued(&mut self, patience: Duration) -> Result<(), WriteFailure> {
        let kicked = self.handle.kicked_signal();
        tokio::pin!(kicked);
        kicked.as_mut().enable();
        if self.stopping() {
            return Ok(());
        }
        let shutdown = self.session.state().shutdown.cancelled();
        tokio::select! {
            written = Self::write_batch(&self.handle, &mut self.socket, &mut self.unsent, patience) => written,
            () = kicked => Ok(()),
            () = shutdown => Ok(()),
        }
    }

    /// Writes every queued frame, one socket write for the batch (the goodbye flushes this way
    /// even after a kick).
    async fn write_batch(
        handle: &ConnectionHandle,
        socket: &mut Socket,
        unsent: &mut Unsent,
        patience: Duration,
    ) -> Result<(), WriteFailure> {
        let written = tokio::time::timeout(patience, async {
            let mut batch = handle.take_batch();
            if batch.is_empty() && unsent.is_empty() {
                return Ok(());
            }
            unsent
                .write_frames(socket, |buffer| batch.drain().for_each(|text| push_text_frame(buffer, text.as_bytes())))
                .await
        });
        match written.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(WriteFailure::Transport),
            Err(_) => Err(WriteFailure::TooSlow),
        }
    }

    /// Adds the frames the gate refused since the last call to the metrics.
    fn report_refusals(&mut self) {
        let refusals = self.socket.get_mut().take_refusals();
        if refusals > 0 {
            self.session.state().metrics.rate_limited.inc_by(refusals);
        }
    }

    async fn write(&mut self, message: Message, patience: Duration) -> Result<(), WriteFailure> {
        match tokio::time::timeout(patience, self.socket.send(message)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(WriteFailure::Transport),
            Err(_) => Err(WriteFailure::TooSlow),
        }
    }

    /// Frees the name, ends the call, flushes what is queued plus a close frame (bounded).
    async fn finish(mut self, ending: Ending) {
        let state = self.session.state().clone();
        let id = self.handle.id();
        if let Some((name, ended_call)) = self.session.disconnect().await {
            tracing::info!(connection = id, user = %name, ?ending, "user left");
            if let Some(ended) = ended_call {
                if let Some(peer_connection) = &ended.peer_connection {
                    crate::dispatch::send_leave(&state, peer_connection, &name, LeaveReason::Disconnected);
                }
                tracing::info!(caller = %name, callee = %ended.peer, reason = "disconnected", "call ended");
            }
        }
        self.handle.mark_closed();
        self.report_refusals();
        let (close, close_reason) = ending.close(state.config.login_timeout);
        if let Some(reason) = close_reason {
            state.metrics.closed(reason);
        }
        tracing::info!(connection = id, ?ending, "connection closed");
        if ending == Ending::Kicked(KickReason::SlowConsumer) || ending == Ending::TransportError {
            return;
        }
        let deadline = Instant::now() + CLOSING_DRAIN_TIMEOUT;
        let goodbye = async {
            let _ = match close {
                Some(close) => {
                    Self::write_batch(&self.handle, &mut self.socket, &mut self.unsent, CLOSING_DRAIN_TIMEOUT)
                        .await
                        .is_ok()
                        && self.write(Message::Close(Some(close)), CLOSING_DRAIN_TIMEOUT).await.is_ok()
                }
                // The client closed: no frames after its close frame, only the end of one a write
                // left; flushing then sends tungstenite's reply to its close frame.
                None => self.unsent.write_out(&mut self.socket).await.is_ok() && self.socket.flush().await.is_ok(),
            };
            // Half-close, then give the client a moment to read the close frame: what it still
            // sends is read and ignored until it closes too (or the linger ends).
            let socket = self.socket.get_mut().inner_mut();
            let _ = socket.shutdown().await;
            let _ = tokio::time::timeout(CLOSE_LINGER, discard_until_closed(socket)).await;
        };
        let _ = tokio::time::timeout_at(deadline, goodbye).await;
    }
}

impl From<WriteFailure> for Ending {
    fn from(failure: WriteFailure) -> Ending {
        match failure {
            WriteFailure::Transport => Ending::TransportError,
            WriteFailure::TooSlow => Ending::Kicked(KickReason::SlowConsumer),
        }
    }
}

/// Reads and ignores everything until the peer closes its side (or the socket fails).
async fn discard_until_closed(socket: &mut (impl AsyncRead + Unpin)) {
    let mut ignored = [0; 512];
    while socket.read(&mut ignored).await.is_ok_and(|read| read > 0) {}
}

#[cfg(test)]
mod tests {
    use super::{serve_connection, Connection};
    use crate::limits::ConnectionPermit;
    use std::mem::size_of;
    use std::time::Duration;

    /// The size of what `function` returns (a future's, without running it).
    fn returned_size<Arguments, Returned>(_: impl FnOnce(Arguments) -> Returned) -> usize {
        size_of::<Returned>()
    }

    #[test]
    fn an_idle_connection_future_holds_its_parts_once_and_no_write_in_progress() {
        // Every idle connection's task is this future: it must not keep the socket twice (an
        // async fn keeps its arguments beside what they move into) nor the write path's timer
        // and waits (boxed while writing).
        let run = returned_size(Connection::run);
        let write = returned_size(|(connection, patience): (&'static mut Connection, Duration)| {
            connection.write_queued(patience)
        });
        assert!(run < write, "the run loop's future ({run} bytes) holds the write path ({write} bytes)");
        let served = returned_size(|(socket, state, remote, permit)| serve_connection(socket, state, remote, permit));
        let parts = size_of::<Connection>() + size_of::<ConnectionPermit>() + run;
        assert!(served <= parts + 32, "the served future ({served} bytes) holds more than its parts ({parts} bytes)");
    }
}
