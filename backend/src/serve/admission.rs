//! Admission at `accept`: the permit a new TCP connection takes (counted per address, or only in
//! total for a trusted proxy's until its request names the client), the 503 of a connection
//! over a limit, and the start-up line that says which connection limit is enforced.

use crate::limits::{open_files_limit, AdmissionError, ConnectionPermit};
use crate::AppState;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;

/// Takes a permit for a new TCP connection from `peer`.
pub(super) fn admit(state: &AppState, peer: SocketAddr) -> Result<ConnectionPermit, AdmissionError> {
    let limiter = &state.connection_limiter;
    if state.trusted_proxies.contains(peer.ip()) {
        // Many clients share a proxy's address: its connections count per address only once
        // their request says whose they are (see `accept_websocket`).
        limiter.try_admit_unattributed(state.max_connections)
    } else {
        limiter.try_admit(peer.ip(), state.max_connections, state.config.max_connections_per_ip)
    }
}

/// The answer to every request but `/healthz` on a connection over a limit.
pub(super) fn refusal_response(refusal: AdmissionError) -> Response {
    let headers = [(header::CONNECTION, "close"), (header::RETRY_AFTER, "5")];
    (StatusCode::SERVICE_UNAVAILABLE, headers, format!("{refusal}\n")).into_response()
}

/// Says at start-up how many connections the server takes, and whether the open-file limit
/// lowered `--max-connections`.
pub(super) fn log_connection_limit(state: &AppState) {
    let configured = state.config.max_connections;
    let open_files = open_files_limit();
    let enforced = state.max_connections;
    let open_files_text = open_files.map_or("unknown".to_owned(), |limit| limit.to_string());
    if configured != 0 && enforced < configured {
        tracing::warn!(
            configured,
            enforced,
            open_files_limit = %open_files_text,
            "--max-connections is more than the open-file limit (ulimit -n) allows with 128 descriptors in \
             reserve: at most {enforced} connections; raise `ulimit -n` to allow more"
        );
    } else {
        tracing::info!(
            max_connections = enforced,
            open_files_limit = %open_files_text,
            "connection limit: {enforced} (0: unlimited) within the open-file limit {open_files_text}"
        );
    }
}
