//! A connection's deadlines: when it next has something to check (a ping due, the idle timeout,
//! the login deadline, a credentials refresh), stored in its queue for the deadline sweep
//! ([`crate::delivery::DeadlineSweep`]) that wakes it, and what it does once woken.

use super::outgoing::{push_ping, TransportFailed};
use super::{Connection, Ending, WriteFailure};
use std::future::Future;
use std::pin::Pin;
use tokio::time::Instant;

impl Connection {
    /// When the connection next has something to check: a ping due, the idle timeout (from the
    /// last frame seen; a frame seen since only makes the check find nothing due), the login
    /// deadline until sign-in, then the credentials refresh.
    pub(super) fn next_deadline(&self, config: &crate::Config, signed_in: bool) -> Instant {
        let next = (self.last_ping + config.heartbeat_interval).min(self.last_seen + config.idle_timeout);
        if signed_in {
            next.min(self.credentials_due)
        } else {
            next.min(self.connected_at + config.login_timeout)
        }
    }

    /// The deadline sweep woke this connection: ends it if idle or not signed in in time,
    /// pushes credentials and pings when due, and sets the next deadline. Boxed where called:
    /// a rare path should not grow every idle connection's future.
    pub(super) fn check_deadlines(
        &mut self,
        signed_in: bool,
    ) -> Pin<Box<dyn Future<Output = Result<(), Ending>> + Send + '_>> {
        Box::pin(async move {
            let state = self.session.state().clone();
            let config = &state.config;
            let now = Instant::now();
            if now.duration_since(self.last_seen) >= config.idle_timeout {
                return Err(Ending::Idle);
            }
            if !self.session.is_signed_in() && now.duration_since(self.connected_at) >= config.login_timeout {
                return Err(Ending::LoginTimeout);
            }
            if signed_in && now >= self.credentials_due {
                self.credentials_due = now + crate::dispatch::credentials_refresh_interval(config);
                self.session.push_credentials();
            }
            if now.duration_since(self.last_ping) >= config.heartbeat_interval {
                self.last_ping = now;
                let ping =
                    tokio::time::timeout(config.send_timeout, self.unsent.write_frames(&mut self.socket, push_ping));
                match ping.await {
                    Ok(Ok(())) => {}
                    Ok(Err(TransportFailed)) => return Err(WriteFailure::Transport.into()),
                    Err(_) => return Err(WriteFailure::TooSlow.into()),
                }
            }
            self.handle.set_deadline(self.next_deadline(config, signed_in));
            Ok(())
        })
    }
}
