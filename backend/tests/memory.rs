//! The real server binary's memory stays flat while clients that never read keep getting
//! flooded: per-client queues are bounded and such clients are disconnected.

mod common;

use common::server_binary::{login_at, resident_kib, start_server_binary};
use common::*;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

/// One sender floods one receiver that never reads, until the server disconnects the receiver.
async fn flood_one_pair(address: std::net::SocketAddr, round: usize, pair: usize) -> usize {
    let mut sender = login_at(address, &format!("sender-{round}-{pair}")).await;
    let mut receiver = login_at(address, &format!("receiver-{round}-{pair}")).await;
    let receiver_name = format!("receiver-{round}-{pair}");
    sender.send_text(&format!(r#"{{"type":"offer","name":"{receiver_name}","offer":{SDP_OFFER}}}"#)).await;
    receiver.receive_json().await;
    receiver.send_text(&format!(r#"{{"type":"answer","name":"sender-{round}-{pair}","answer":{SDP_ANSWER}}}"#)).await;
    sender.receive_json().await;

    let (mut sink, mut stream) = sender.socket.split();
    let watcher = tokio::spawn(async move {
        while let Some(Ok(frame)) = stream.next().await {
            if frame.to_text().is_ok_and(|text| text.contains(r#""reason":"disconnected""#)) {
                return;
            }
        }
        panic!("sender lost its connection");
    });
    let candidate = format!(r#"{{"candidate":"candidate:{}","sdpMid":"0"}}"#, "y".repeat(8 * 1024));
    let frame = format!(r#"{{"type":"candidate","name":"{receiver_name}","candidate":{candidate}}}"#);
    let mut sent_bytes = 0;
    while !watcher.is_finished() && sent_bytes < 256 * 1024 * 1024 {
        sink.send(Message::text(frame.clone())).await.expect("send");
        sent_bytes += frame.len();
    }
    tokio::time::timeout(RECEIVE_TIMEOUT, watcher).await.expect("receiver disconnected in time").expect("watcher");
    drop(receiver);
    sent_bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_memory_stays_flat_while_clients_that_never_read_are_flooded() {
    let (server, address) = start_server_binary(&["--send-timeout", "200ms"]);
    let pid = server.0.id();
    const PAIRS: usize = 6;
    const ROUNDS: usize = 6;
    let mut total_sent = 0;
    let mut after_first_round = 0;
    for round in 0..ROUNDS {
        let floods: Vec<_> = (0..PAIRS).map(|pair| tokio::spawn(flood_one_pair(address, round, pair))).collect();
        for flood in floods {
            total_sent += flood.await.expect("flood task");
        }
        if round == 0 {
            after_first_round = resident_kib(pid);
        }
    }
    let at_end = resident_kib(pid);
    let growth_kib = at_end.saturating_sub(after_first_round);
    eprintln!(
        "pushed {} MiB at receivers that never read; server RSS {after_first_round} KiB -> {at_end} KiB",
        total_sent >> 20
    );
    assert!(total_sent > 100 * 1024 * 1024, "the floods pushed too little to prove anything: {total_sent} bytes");
    assert!(growth_kib < 24 * 1024, "server memory grew by {growth_kib} KiB over {ROUNDS} rounds");
}
