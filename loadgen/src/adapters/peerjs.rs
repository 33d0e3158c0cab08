//! PeerJS server (npm `peer`): the id and token are in the URL
//! (`/peerjs?id=ID&token=TOKEN&key=peerjs`), the server answers `{"type":"OPEN"}`; a client sends
//! `{"type":"CANDIDATE","dst":ID,"payload":…}` and the peer receives it re-serialised as
//! `{"type":"CANDIDATE","src":…,"dst":…,"payload":…}` (peer 1.0.2, dist/bin/peerjs.js). The
//! payloads are what the PeerJS client sends (`candidate`/`sdp`, `type`, `connectionId`).
//! `OFFER`, `ANSWER` and `LEAVE` are relayed the same way: the `calls` workload runs on it.

use super::{Conn, Frame, Incoming, Pair};
use crate::client::{json_string, Client};
use crate::Common;
use anyhow::{bail, Context};
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// The connection key PeerJS servers use unless configured otherwise.
pub const KEY: &str = "peerjs";
const CONNECTION_ID: &str = "mc_loadgen";

pub fn url(common: &Common, id: &str) -> String {
    format!("{}/peerjs?id={id}&token={}&key={KEY}", super::origin(common), token(id))
}

/// A token per id (any string; the server checks it only when the same id reconnects).
fn token(id: &str) -> String {
    format!("t{}", id.len())
}

pub fn classify(text: &str) -> Incoming {
    if text.starts_with(r#"{"type":"CANDIDATE""#) {
        return Incoming::Relayed;
    }
    if text.starts_with(r#"{"type":"LEAVE""#) || text.starts_with(r#"{"type":"EXPIRE""#) {
        return Incoming::PeerLeft;
    }
    Incoming::Other
}

/// The type of a PeerJS server message (`OPEN`, `OFFER`, …), if it is one.
pub fn message_type(text: &str) -> Option<&str> {
    let rest = text.strip_prefix(r#"{"type":""#)?;
    rest.split('"').next()
}

/// A message to `dst` with `payload` (raw JSON), as the PeerJS client sends it.
pub fn frame(kind: &str, dst: &str, payload: &str) -> Utf8Bytes {
    Utf8Bytes::from(format!(r#"{{"type":"{kind}","dst":{},"payload":{payload}}}"#, json_string(dst)))
}

pub fn candidate_payload(candidate: &str) -> String {
    format!(r#"{{"candidate":{candidate},"type":"media","connectionId":"{CONNECTION_ID}"}}"#)
}

pub fn sdp_payload(sdp: &str) -> String {
    format!(r#"{{"sdp":{sdp},"type":"media","connectionId":"{CONNECTION_ID}"}}"#)
}

pub fn leave_frame(dst: &str) -> Utf8Bytes {
    Utf8Bytes::from(format!(r#"{{"type":"LEAVE","dst":{}}}"#, json_string(dst)))
}

/// Connects as `id` and waits for `OPEN`.
pub async fn sign_in(common: &Common, id: &str) -> anyhow::Result<Client> {
    let mut client = Client::open(&common.target, common.io_timeout, &url(common, id)).await?;
    let greeting = client.recv().await.context("waiting for OPEN")?;
    if message_type(greeting.as_str()) != Some("OPEN") {
        bail!("expected OPEN, got {}", greeting.as_str().chars().take(160).collect::<String>());
    }
    Ok(client)
}

pub async fn set_up_pair(
    common: &Common,
    (caller_name, callee_name): (&str, &str),
    (caller_candidate, callee_candidate): (&str, &str),
) -> anyhow::Result<Pair> {
    let caller = sign_in(common, caller_name).await?;
    let callee = sign_in(common, callee_name).await?;
    Ok(Pair {
        caller: Conn::Ws(caller),
        callee: Conn::Ws(callee),
        to_callee: Frame::Text(frame("CANDIDATE", callee_name, &candidate_payload(caller_candidate))),
        to_caller: Frame::Text(frame("CANDIDATE", caller_name, &candidate_payload(callee_candidate))),
    })
}

/// Waits for a message of type `wanted`.
async fn expect(client: &mut Client, wanted: &str) -> anyhow::Result<()> {
    let text = client.recv().await?;
    if message_type(text.as_str()) != Some(wanted) {
        bail!("expected {wanted}, got {}", text.as_str().chars().take(160).collect::<String>());
    }
    Ok(())
}

/// One call as two PeerJS clients make it: OFFER, ANSWER, candidates both ways, LEAVE, close.
/// (The server tells nobody about a closed connection: the callee closes after LEAVE.)
pub async fn one_call(
    common: &Common,
    (caller_name, callee_name): (&str, &str),
    (offer, answer, candidate): (&str, &str, &str),
    candidates: usize,
) -> anyhow::Result<()> {
    let (caller, callee) = tokio::join!(sign_in(common, caller_name), sign_in(common, callee_name));
    let (mut caller, mut callee) = (caller?, callee?);
    let caller_side = async {
        caller.send(frame("OFFER", callee_name, &sdp_payload(offer))).await?;
        let candidate_frame = frame("CANDIDATE", callee_name, &candidate_payload(candidate));
        for _ in 0..candidates {
            caller.send(candidate_frame.clone()).await?;
        }
        expect(&mut caller, "ANSWER").await.context("caller waiting for the answer")?;
        for _ in 0..candidates {
            expect(&mut caller, "CANDIDATE").await.context("caller waiting for candidates")?;
        }
        caller.send(leave_frame(callee_name)).await?;
        caller.close().await;
        anyhow::Ok(())
    };
    let callee_side = async {
        expect(&mut callee, "OFFER").await.context("callee waiting for the offer")?;
        callee.send(frame("ANSWER", caller_name, &sdp_payload(answer))).await?;
        let candidate_frame = frame("CANDIDATE", caller_name, &candidate_payload(candidate));
        for _ in 0..candidates {
            callee.send(candidate_frame.clone()).await?;
        }
        for _ in 0..candidates {
            expect(&mut callee, "CANDIDATE").await.context("callee waiting for candidates")?;
        }
        expect(&mut callee, "LEAVE").await.context("callee waiting for leave")?;
        callee.close().await;
        anyhow::Ok(())
    };
    let (caller_result, callee_result) = tokio::join!(caller_side, callee_side);
    caller_result?;
    callee_result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_what_the_peerjs_client_sends() {
        assert_eq!(
            frame("CANDIDATE", "bob", &candidate_payload(r#"{"candidate":"c"}"#)).as_str(),
            r#"{"type":"CANDIDATE","dst":"bob","payload":{"candidate":{"candidate":"c"},"type":"media","connectionId":"mc_loadgen"}}"#
        );
        assert_eq!(
            frame("OFFER", "bob", &sdp_payload(r#"{"type":"offer","sdp":"v=0"}"#)).as_str(),
            r#"{"type":"OFFER","dst":"bob","payload":{"sdp":{"type":"offer","sdp":"v=0"},"type":"media","connectionId":"mc_loadgen"}}"#
        );
        assert_eq!(leave_frame("bob").as_str(), r#"{"type":"LEAVE","dst":"bob"}"#);
    }

    #[test]
    fn server_messages_are_recognised() {
        // As the server re-serialises them: type, src, dst, payload.
        let relayed = r#"{"type":"CANDIDATE","src":"alice","dst":"bob","payload":{"candidate":{}}}"#;
        assert_eq!(classify(relayed), Incoming::Relayed);
        assert_eq!(message_type(relayed), Some("CANDIDATE"));
        assert_eq!(classify(r#"{"type":"LEAVE","src":"alice","dst":"bob"}"#), Incoming::PeerLeft);
        assert_eq!(classify(r#"{"type":"OPEN"}"#), Incoming::Other);
        assert_eq!(message_type(r#"{"type":"OPEN"}"#), Some("OPEN"));
        assert_eq!(message_type(r#"{"type":"ID-TAKEN","payload":{"msg":"ID is taken"}}"#), Some("ID-TAKEN"));
        assert_eq!(message_type("Hello"), None);
    }
}
