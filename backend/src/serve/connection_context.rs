//! [`ConnectionContext`]: what a request learns about its TCP connection (a request extension
//! that `serve.rs` puts on every request): the peer, the connection's permit until its WebSocket
//! takes it, the refusal of a connection over a limit, and the hold on the 101.

use crate::limits::{AdmissionError, ConnectionPermit};
use crate::upgrade_write::{HoldUpgradeResponse, UpgradeSignal};
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

/// What a request learns about its TCP connection (a request extension).
#[derive(Debug)]
pub struct ConnectionContext {
    /// The TCP peer (see [`crate::client_address`] for who the client is behind a proxy).
    pub peer: SocketAddr,
    /// Held until the connection upgrades (then the WebSocket holds it) or ends.
    pub(super) permit: Mutex<Option<ConnectionPermit>>,
    /// Set for a connection over a limit: everything but `/healthz` gets this as a 503.
    pub(super) refusal: Option<AdmissionError>,
    pub(super) head_received: AtomicBool,
    /// Read by the socket's [`crate::upgrade_write::UpgradeWrite`]: set when the WebSocket
    /// upgrade is accepted.
    pub(super) hold_upgrade_response: HoldUpgradeResponse,
}

impl ConnectionContext {
    /// Takes this connection's permit for its WebSocket, first counting it against `client`'s
    /// address if the connection came through a trusted proxy. `Ok(None)`: no permit here (the
    /// router is served by something else, or the permit was taken already).
    pub fn take_permit_for_websocket(
        &self,
        client: std::net::IpAddr,
        max_per_address: usize,
    ) -> Result<Option<ConnectionPermit>, AdmissionError> {
        let mut slot = self.permit.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(permit) = slot.as_mut() {
            if !permit.is_attributed() {
                permit.attribute_to(client, max_per_address)?;
            }
        }
        Ok(slot.take())
    }

    /// Holds the 101 that answers an accepted WebSocket upgrade back until the first frame,
    /// so both leave in one socket write (see [`crate::upgrade_write`]).
    pub fn hold_upgrade_response(&self) {
        self.hold_upgrade_response.hold();
    }
}

impl UpgradeSignal for ConnectionContext {
    fn hold_signal(&self) -> &HoldUpgradeResponse {
        &self.hold_upgrade_response
    }
}
