//! y-webrtc's signaling server (npm `y-webrtc` 10.3, bin/server.js): topic pub/sub.
//! `{"type":"subscribe","topics":[…]}` (no reply), `{"type":"publish","topic":T,"data":…}` goes
//! to every subscriber of T, the sender included, with `"clients":N` added; `{"type":"ping"}` is
//! answered `{"type":"pong"}`. Each connection subscribes to a topic of its own (its name) and
//! publishes to its peer's, so a message reaches exactly one receiver; sign-in is the subscribe
//! followed by a ping, whose pong shows the subscription is in place. The data is what the
//! y-webrtc client publishes for a candidate (`signal` with `to`, `from` and the candidate).

use super::{Conn, Frame, Incoming, Pair};
use crate::client::{json_string, Client};
use crate::Common;
use anyhow::{bail, Context};
use tokio_tungstenite::tungstenite::Utf8Bytes;

pub fn classify(text: &str) -> Incoming {
    if text.starts_with(r#"{"type":"publish""#) {
        return Incoming::Relayed;
    }
    Incoming::Other
}

pub fn subscribe_frame(topic: &str) -> Utf8Bytes {
    Utf8Bytes::from(format!(r#"{{"type":"subscribe","topics":[{}]}}"#, json_string(topic)))
}

pub const PING: &str = r#"{"type":"ping"}"#;
pub const PONG: &str = r#"{"type":"pong"}"#;

/// A candidate from `from` published on `to`'s topic.
pub fn publish_frame(from: &str, to: &str, candidate: &str) -> Utf8Bytes {
    let (from, to) = (json_string(from), json_string(to));
    Utf8Bytes::from(format!(
        r#"{{"type":"publish","topic":{to},"data":{{"type":"signal","from":{from},"to":{to},"signal":{{"type":"candidate","candidate":{candidate}}}}}}}"#
    ))
}

/// Connects, subscribes to the topic `name`, and waits for the pong after it.
pub async fn sign_in(common: &Common, name: &str) -> anyhow::Result<Client> {
    let url = format!("{}/", super::origin(common));
    let mut client = Client::open(&common.target, common.io_timeout, &url).await?;
    client.send(subscribe_frame(name)).await?;
    client.send(Utf8Bytes::from_static(PING)).await?;
    let text = client.recv().await.context("waiting for pong")?;
    if text.as_str() != PONG {
        bail!("expected a pong, got {}", text.as_str().chars().take(160).collect::<String>());
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
        to_callee: Frame::Text(publish_frame(caller_name, callee_name, caller_candidate)),
        to_caller: Frame::Text(publish_frame(callee_name, caller_name, callee_candidate)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_what_the_y_webrtc_client_sends() {
        assert_eq!(subscribe_frame("alice").as_str(), r#"{"type":"subscribe","topics":["alice"]}"#);
        assert_eq!(
            publish_frame("alice", "bob", r#"{"candidate":"c"}"#).as_str(),
            r#"{"type":"publish","topic":"bob","data":{"type":"signal","from":"alice","to":"bob","signal":{"type":"candidate","candidate":{"candidate":"c"}}}}"#
        );
    }

    #[test]
    fn published_messages_are_recognised() {
        // As the server re-serialises them: the message with `clients` added at the end.
        let relayed = r#"{"type":"publish","topic":"bob","data":{"type":"signal"},"clients":1}"#;
        assert_eq!(classify(relayed), Incoming::Relayed);
        assert_eq!(classify(PONG), Incoming::Other);
    }
}
