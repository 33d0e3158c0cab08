//! The do-nothing relays of `loadgen relay-server` (in this process, on 127.0.0.1:0): a pair of
//! connections gets each other's frames, unchanged, both ways; and the relay workload runs over
//! them, closed loop and paced.

use loadgen::adapters::{self, Conn, Frame, Incoming, ServerKind};
use loadgen::relay::RelayOptions;
use loadgen::relay_server::{axum_relay, listen, tcp_relay};
use loadgen::target::Target;
use loadgen::{Common, Mode};
use std::sync::Arc;
use std::time::Duration;

async fn start(kind: ServerKind) -> Common {
    let listener = listen("127.0.0.1", 0).expect("listen on 127.0.0.1:0");
    let address = listener.local_addr().expect("address");
    match kind {
        ServerKind::AxumFloor => tokio::spawn(axum_relay::serve(listener)),
        _ => tokio::spawn(tcp_relay::serve(listener)),
    };
    Common {
        target: Arc::new(Target::parse(&format!("ws://{address}/")).expect("loopback URL")),
        partner: None,
        server: kind,
        server_pid: Some(std::process::id()),
        extra_pids: Arc::new([]),
        io_timeout: Duration::from_secs(10),
    }
}

async fn frames_go_to_the_partner_both_ways(kind: ServerKind) {
    let common = start(kind).await;
    for round in 0..2 {
        let pair = adapters::set_up_pair(&common, "t", round, r#"{"candidate":"a"}"#, r#"{"candidate":"b"}"#)
            .await
            .expect("pair");
        let (mut caller, mut callee) = (pair.caller, pair.callee);
        for _ in 0..3 {
            caller.send(&pair.to_callee).await.expect("caller sends");
            assert_eq!(callee.recv(kind).await.expect("callee receives"), Incoming::Relayed);
            callee.send(&pair.to_caller).await.expect("callee sends");
            assert_eq!(caller.recv(kind).await.expect("caller receives"), Incoming::Relayed);
        }
        exact_bytes_arrive(&mut caller, &mut callee).await;
        caller.close().await;
        callee.close().await;
    }
}

/// The bytes a side receives are the bytes its partner sent.
async fn exact_bytes_arrive(from: &mut Conn, to: &mut Conn) {
    let body = r#"{"type":"candidate","name":"b","candidate":{"candidate":"exact"}}"#;
    match (from, to) {
        (Conn::Ws(from), Conn::Ws(to)) => {
            from.send(body.into()).await.expect("send");
            assert_eq!(to.recv().await.expect("receive").as_str(), body);
        }
        (Conn::Tcp(from), Conn::Tcp(to)) => {
            let frame = Frame::Prefixed(adapters::floor::prefixed(body.as_bytes()));
            let Frame::Prefixed(bytes) = &frame else { unreachable!() };
            from.send(bytes).await.expect("send");
            assert_eq!(to.recv().await.expect("receive"), body.as_bytes());
        }
        _ => panic!("both sides use the same transport"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_floor_forwards_frames_between_a_pair() {
    frames_go_to_the_partner_both_ways(ServerKind::AxumFloor).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_floor_forwards_frames_between_a_pair() {
    frames_go_to_the_partner_both_ways(ServerKind::TcpFloor).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_workload_runs_over_both_floors_closed_and_paced() {
    for kind in [ServerKind::AxumFloor, ServerKind::TcpFloor] {
        let common = start(kind).await;
        for (rate, bytes) in [(None, 257), (Some(200.0), 4400)] {
            let options = RelayOptions {
                pairs: 3,
                warmup: Duration::from_millis(50),
                window: Duration::from_millis(200),
                windows: 2,
                candidate_bytes: bytes,
                concurrency: 3,
                rate,
            };
            let report = loadgen::run(&common, &Mode::Relay(options), Duration::from_secs(60)).await.expect("relay");
            assert_eq!(report["errors"], 0, "{kind}: {report}");
            assert_eq!(report["server_kind"], kind.as_str());
            let windows = report["windows"].as_array().expect("windows");
            assert!(windows.iter().all(|window| window["relayed"].as_u64() > Some(0)), "{kind}: {report}");
        }
    }
}
