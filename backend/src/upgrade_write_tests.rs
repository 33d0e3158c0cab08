//! Tests of [`super::UpgradeWrite`]: every `poll_write` of the socket below it is one system
//! call, so the recorder's list of writes is the list of socket writes.

use super::*;
use std::sync::Mutex;
use tokio::io::AsyncWriteExt;

/// What the socket was asked to write, one entry per write call; takes at most `limit` bytes
/// per call (to test partial writes).
#[derive(Debug, Clone, Default)]
struct Recorder {
    writes: Arc<Mutex<Vec<Vec<u8>>>>,
    limit: Option<usize>,
}

impl Recorder {
    fn writes(&self) -> Vec<Vec<u8>> {
        self.writes.lock().expect("recorder lock").clone()
    }
}

impl AsyncWrite for Recorder {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, bytes: &[u8]) -> Poll<io::Result<usize>> {
        let taken = self.limit.map_or(bytes.len(), |limit| limit.min(bytes.len()));
        self.writes.lock().expect("recorder lock").push(bytes[..taken].to_vec());
        Poll::Ready(Ok(taken))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

const RESPONSE_101: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n";
const HELLO_FRAME: &[u8] = b"\x81\x10{\"type\":\"hello\"}";

fn socket(limit: Option<usize>) -> (UpgradeWrite<Recorder>, Recorder, Arc<HoldUpgradeResponse>) {
    let recorder = Recorder { limit, ..Recorder::default() };
    let hold = Arc::new(HoldUpgradeResponse::default());
    (UpgradeWrite::new(recorder.clone(), Arc::clone(&hold)), recorder, hold)
}

#[tokio::test]
async fn the_101_and_hello_leave_in_one_socket_write() {
    let (mut socket, recorder, hold) = socket(None);
    hold.hold();
    // What hyper does: write the head, flush; then the connection task writes hello and flushes.
    socket.write_all(RESPONSE_101).await.expect("the recorder takes every write");
    socket.flush().await.expect("the recorder takes every write");
    assert!(recorder.writes().is_empty(), "the 101 waits for the first frame");
    socket.write_all(HELLO_FRAME).await.expect("the recorder takes every write");
    socket.flush().await.expect("the recorder takes every write");
    assert_eq!(recorder.writes(), vec![[RESPONSE_101, HELLO_FRAME].concat()]);
    // From then on, writes pass through one for one.
    socket.write_all(b"\x81\x02{}").await.expect("the recorder takes every write");
    assert_eq!(recorder.writes().len(), 2);
}

#[tokio::test]
async fn a_vectored_101_is_held_too() {
    let (mut socket, recorder, hold) = socket(None);
    hold.hold();
    let (head, tail) = RESPONSE_101.split_at(20);
    let slices = [io::IoSlice::new(head), io::IoSlice::new(tail)];
    assert_eq!(socket.write_vectored(&slices).await.expect("the recorder takes every write"), RESPONSE_101.len());
    socket.flush().await.expect("the recorder takes every write");
    socket.write_all(HELLO_FRAME).await.expect("the recorder takes every write");
    assert_eq!(recorder.writes(), vec![[RESPONSE_101, HELLO_FRAME].concat()]);
}

#[tokio::test]
async fn http_answers_are_never_held() {
    let (mut socket, recorder, hold) = socket(None);
    // Not accepted as an upgrade: even a 101 passes (hyper answers nothing else with 101, but
    // only an accepted upgrade is followed by a frame that would carry it).
    socket.write_all(RESPONSE_101).await.expect("the recorder takes every write");
    hold.hold();
    // Accepted, but the answer is not the 101 (an answer the handler chose instead): passes.
    socket.write_all(b"HTTP/1.1 403 Forbidden\r\n\r\n").await.expect("the recorder takes every write");
    assert_eq!(recorder.writes().len(), 2);
}

#[tokio::test]
async fn held_bytes_leave_at_shutdown_if_nothing_follows() {
    let (mut socket, recorder, hold) = socket(None);
    hold.hold();
    socket.write_all(RESPONSE_101).await.expect("the recorder takes every write");
    socket.flush().await.expect("the recorder takes every write");
    socket.shutdown().await.expect("the recorder takes every write");
    assert_eq!(recorder.writes(), vec![RESPONSE_101.to_vec()]);
}

#[tokio::test]
async fn a_partial_write_sends_the_rest_before_anything_else() {
    let (mut socket, recorder, hold) = socket(Some(50));
    hold.hold();
    socket.write_all(RESPONSE_101).await.expect("the recorder takes every write");
    socket.flush().await.expect("the recorder takes every write");
    socket.write_all(HELLO_FRAME).await.expect("the recorder takes every write");
    socket.write_all(b"next").await.expect("the recorder takes every write");
    socket.flush().await.expect("the recorder takes every write");
    assert_eq!(recorder.writes().concat(), [RESPONSE_101, HELLO_FRAME, b"next"].concat());
}
