//! Ours and the classic server: the tutorial protocol (`login`, `offer`, `answer`, `candidate`
//! with the peer's `name`). A pair is also put in a call: ours relays candidates only in one.

use super::{Conn, Frame, Incoming, Pair};
use crate::client::{self, candidate_frame, Client, Kind};
use crate::Common;
use anyhow::Context;

pub fn classify(text: &str) -> Incoming {
    match client::classify(text) {
        Kind::Candidate => Incoming::Relayed,
        Kind::Leave => Incoming::PeerLeft,
        _ => Incoming::Other,
    }
}

pub async fn set_up_pair(
    common: &Common,
    (caller_name, callee_name): (&str, &str),
    (caller_candidate, callee_candidate): (&str, &str),
) -> anyhow::Result<Pair> {
    let mut caller = Client::connect_and_login(&common.target, common.io_timeout, caller_name).await?;
    // With --partner-url the callee is on another node: every candidate crosses between nodes.
    let mut callee = Client::connect_and_login(common.partner_target(), common.io_timeout, callee_name).await?;
    let sdp_offer = client::sdp_json("offer", 300);
    let sdp_answer = client::sdp_json("answer", 300);
    caller.send(client::offer_frame(callee_name, &sdp_offer)).await?;
    callee.expect(Kind::Offer).await.context("callee waiting for the offer")?;
    callee.send(client::answer_frame(caller_name, &sdp_answer)).await?;
    caller.expect(Kind::Answer).await.context("caller waiting for the answer")?;
    Ok(Pair {
        caller: Conn::Ws(caller),
        callee: Conn::Ws(callee),
        to_callee: Frame::Text(candidate_frame(callee_name, caller_candidate)),
        to_caller: Frame::Text(candidate_frame(caller_name, callee_candidate)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relayed_candidates_and_leave_are_recognised() {
        assert_eq!(classify(r#"{"type":"candidate","candidate":{"candidate":"x"},"name":"bob"}"#), Incoming::Relayed);
        assert_eq!(classify(r#"{"type":"leave"}"#), Incoming::PeerLeft);
        assert_eq!(classify(r#"{"type":"login","success":true}"#), Incoming::Other);
    }
}
