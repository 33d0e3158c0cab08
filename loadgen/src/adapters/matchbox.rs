//! matchbox_server (crates.io, 0.15): a client joins the room of its URL path (`ws://…/ROOM`),
//! the server answers `{"IdAssigned":"UUID"}` and tells the peers already in the room
//! `{"NewPeer":"UUID"}`; `{"Signal":{"receiver":UUID,"data":…}}` reaches the receiver as
//! `{"Signal":{"sender":UUID,"data":…}}`, and a closed connection as `{"PeerLeft":UUID}` to the
//! room (matchbox_protocol's `PeerRequest`/`PeerEvent`, serde's externally tagged JSON). The data
//! is what matchbox_socket sends for a candidate: `{"IceCandidate":"…"}` (its JSON, as a string).

use super::{Conn, Frame, Incoming, Pair};
use crate::client::{json_string, Client};
use crate::Common;
use anyhow::{bail, Context};
use tokio_tungstenite::tungstenite::Utf8Bytes;

pub fn classify(text: &str) -> Incoming {
    if text.starts_with(r#"{"Signal":"#) {
        return Incoming::Relayed;
    }
    if text.starts_with(r#"{"PeerLeft":"#) {
        return Incoming::PeerLeft;
    }
    Incoming::Other
}

/// The peer id of an `{"EVENT":"UUID"}` message, when it is that event.
pub fn event_id<'text>(text: &'text str, event: &str) -> Option<&'text str> {
    let rest = text.strip_prefix("{\"")?.strip_prefix(event)?.strip_prefix("\":\"")?;
    rest.strip_suffix("\"}")
}

/// A signal to `receiver` carrying a candidate (an `RTCIceCandidateInit` JSON value).
pub fn signal_frame(receiver: &str, candidate: &str) -> Utf8Bytes {
    let data = format!(r#"{{"IceCandidate":{}}}"#, json_string(candidate));
    Utf8Bytes::from(format!(r#"{{"Signal":{{"receiver":{},"data":{data}}}}}"#, json_string(receiver)))
}

/// Joins `room` and returns the connection with the id the server assigned.
pub async fn sign_in(common: &Common, room: &str) -> anyhow::Result<(Client, String)> {
    let url = format!("{}/{room}", super::origin(common));
    let mut client = Client::open(&common.target, common.io_timeout, &url).await?;
    let text = client.recv().await.context("waiting for IdAssigned")?;
    let Some(id) = event_id(text.as_str(), "IdAssigned") else {
        bail!("expected IdAssigned, got {}", text.as_str().chars().take(160).collect::<String>());
    };
    let id = id.to_owned();
    Ok((client, id))
}

/// Both sides join the pair's room; the caller learns the callee's id from `NewPeer`.
pub async fn set_up_pair(
    common: &Common,
    room: &str,
    (caller_candidate, callee_candidate): (&str, &str),
) -> anyhow::Result<Pair> {
    let (mut caller, caller_id) = sign_in(common, room).await?;
    let (callee, callee_id) = sign_in(common, room).await?;
    let text = caller.recv().await.context("caller waiting for NewPeer")?;
    if event_id(text.as_str(), "NewPeer") != Some(callee_id.as_str()) {
        bail!("expected NewPeer {callee_id}, got {}", text.as_str().chars().take(160).collect::<String>());
    }
    Ok(Pair {
        caller: Conn::Ws(caller),
        callee: Conn::Ws(callee),
        to_callee: Frame::Text(signal_frame(&callee_id, caller_candidate)),
        to_caller: Frame::Text(signal_frame(&caller_id, callee_candidate)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "67e55044-10b1-426f-9247-bb680e5fe0c8";

    #[test]
    fn signals_are_matchbox_peer_requests() {
        assert_eq!(
            signal_frame(ID, r#"{"candidate":"c","sdpMid":"0"}"#).as_str(),
            r#"{"Signal":{"receiver":"67e55044-10b1-426f-9247-bb680e5fe0c8","data":{"IceCandidate":"{\"candidate\":\"c\",\"sdpMid\":\"0\"}"}}}"#
        );
    }

    #[test]
    fn server_events_are_recognised() {
        assert_eq!(event_id(&format!(r#"{{"IdAssigned":"{ID}"}}"#), "IdAssigned"), Some(ID));
        assert_eq!(event_id(&format!(r#"{{"NewPeer":"{ID}"}}"#), "NewPeer"), Some(ID));
        assert_eq!(event_id(&format!(r#"{{"NewPeer":"{ID}"}}"#), "IdAssigned"), None);
        let signal = format!(r#"{{"Signal":{{"sender":"{ID}","data":{{"IceCandidate":"x"}}}}}}"#);
        assert_eq!(classify(&signal), Incoming::Relayed);
        assert_eq!(classify(&format!(r#"{{"PeerLeft":"{ID}"}}"#)), Incoming::PeerLeft);
        assert_eq!(classify(&format!(r#"{{"NewPeer":"{ID}"}}"#)), Incoming::Other);
    }
}
