//! Tests of [`super::ReadAhead`]: every `poll_read` of the scripted socket below it is one
//! system call, so the script's count of reads is the count of `recvfrom`.

use super::*;
use futures_util::{SinkExt as _, StreamExt as _};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWrite};
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// What one read of the scripted socket returns.
#[derive(Debug)]
enum Step {
    Bytes(Vec<u8>),
    Pending,
    Fails(io::ErrorKind),
}

/// A socket that answers reads from a script (end of file once it runs out) and records the
/// room each read was offered; writes are taken and dropped.
#[derive(Debug, Clone, Default)]
struct Script {
    steps: Arc<Mutex<VecDeque<Step>>>,
    offered: Arc<Mutex<Vec<usize>>>,
}

impl Script {
    fn new(steps: impl IntoIterator<Item = Step>) -> Script {
        Script { steps: Arc::new(Mutex::new(steps.into_iter().collect())), ..Script::default() }
    }

    /// The room offered to each read made of the socket, in order.
    fn reads(&self) -> Vec<usize> {
        self.offered.lock().expect("script lock").clone()
    }
}

impl AsyncRead for Script {
    fn poll_read(self: Pin<&mut Self>, context: &mut Context<'_>, buffer: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        self.offered.lock().expect("script lock").push(buffer.remaining());
        let mut steps = self.steps.lock().expect("script lock");
        match steps.pop_front() {
            None => Poll::Ready(Ok(())),
            Some(Step::Pending) => {
                context.waker().wake_by_ref();
                Poll::Pending
            }
            Some(Step::Fails(kind)) => Poll::Ready(Err(kind.into())),
            Some(Step::Bytes(mut bytes)) => {
                let given = bytes.len().min(buffer.remaining());
                buffer.put_slice(&bytes[..given]);
                if given < bytes.len() {
                    steps.push_front(Step::Bytes(bytes.split_off(given)));
                }
                Poll::Ready(Ok(()))
            }
        }
    }
}

impl AsyncWrite for Script {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, bytes: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(bytes.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// `length` bytes that differ from one position to the next (so order is checked).
fn pattern(length: usize) -> Vec<u8> {
    (0..length).map(|index| (index % 251) as u8).collect()
}

/// Reads in chunks of `chunk` bytes (as tungstenite does) until end of file or an error.
async fn read_all(socket: &mut ReadAhead<Script>, chunk: usize) -> (Vec<u8>, Option<io::ErrorKind>) {
    let mut read = Vec::new();
    let mut buffer = vec![0; chunk];
    loop {
        match socket.read(&mut buffer).await {
            Ok(0) => return (read, None),
            Ok(length) => read.extend_from_slice(&buffer[..length]),
            Err(error) => return (read, Some(error.kind())),
        }
    }
}

#[tokio::test]
async fn a_large_frame_is_one_socket_read_whatever_the_readers_chunk() {
    let frame = pattern(4_400);
    let script = Script::new([Step::Bytes(frame.clone())]);
    let mut socket = ReadAhead::new(script.clone());
    let mut buffer = [0; 512];
    let mut read = Vec::new();
    while read.len() < frame.len() {
        let length = socket.read(&mut buffer).await.expect("the script has the bytes");
        read.extend_from_slice(&buffer[..length]);
    }
    assert_eq!(read, frame);
    // Without the read ahead: nine reads of at most 512 bytes.
    assert_eq!(script.reads(), [SCRATCH_BYTES]);
}

#[tokio::test]
async fn leftover_bytes_come_before_the_next_socket_read_in_order() {
    let script = Script::new([Step::Bytes(pattern(1_000)), Step::Bytes(pattern(300))]);
    let mut socket = ReadAhead::new(script.clone());
    let mut buffer = [0; 512];
    assert_eq!(socket.read(&mut buffer).await.expect("bytes"), 512);
    assert_eq!(buffer[..], pattern(1_000)[..512]);
    assert_eq!(socket.read_ahead_bytes(), 488);
    assert_eq!(socket.read(&mut buffer).await.expect("bytes"), 488);
    assert_eq!(buffer[..488], pattern(1_000)[512..]);
    assert_eq!(script.reads().len(), 1, "the leftover is given without reading the socket");
    assert_eq!(socket.read(&mut buffer).await.expect("bytes"), 300);
    assert_eq!(buffer[..300], pattern(300)[..]);
    assert_eq!(script.reads().len(), 2);
}

#[tokio::test]
async fn a_message_split_across_socket_reads_arrives_whole() {
    let message = pattern(3_000);
    let steps = [
        Step::Bytes(message[..100].to_vec()),
        Step::Pending,
        Step::Bytes(message[100..2_000].to_vec()),
        Step::Pending,
        Step::Bytes(message[2_000..].to_vec()),
    ];
    let mut socket = ReadAhead::new(Script::new(steps));
    assert_eq!(read_all(&mut socket, 512).await, (message, None));
}

#[tokio::test]
async fn end_of_file_comes_after_the_leftover() {
    let script = Script::new([Step::Bytes(pattern(700))]);
    let mut socket = ReadAhead::new(script.clone());
    assert_eq!(read_all(&mut socket, 512).await, (pattern(700), None));
    // One read for the bytes, one that found the end of file (after the leftover was given).
    assert_eq!(script.reads(), [SCRATCH_BYTES, SCRATCH_BYTES]);
}

#[tokio::test]
async fn a_socket_error_comes_after_the_leftover_and_unchanged() {
    let script = Script::new([Step::Bytes(pattern(700)), Step::Fails(io::ErrorKind::ConnectionReset)]);
    let mut socket = ReadAhead::new(script);
    assert_eq!(read_all(&mut socket, 512).await, (pattern(700), Some(io::ErrorKind::ConnectionReset)));
}

#[tokio::test]
async fn the_leftover_is_freed_once_drained() {
    let mut socket = ReadAhead::new(Script::new([Step::Bytes(pattern(600)), Step::Pending]));
    let mut buffer = [0; 512];
    assert_eq!(socket.read(&mut buffer).await.expect("bytes"), 512);
    assert!(socket.leftover.as_ref().is_some_and(|leftover| leftover.bytes.len() == 88));
    assert_eq!(socket.read(&mut buffer).await.expect("bytes"), 88);
    assert!(socket.leftover.is_none(), "an idle connection holds nothing read ahead");
    assert_eq!(socket.read_ahead_bytes(), 0);
}

#[tokio::test]
async fn what_fits_the_readers_buffer_is_not_kept() {
    let mut socket = ReadAhead::new(Script::new([Step::Bytes(pattern(300))]));
    let mut buffer = [0; 512];
    assert_eq!(socket.read(&mut buffer).await.expect("bytes"), 300);
    assert!(socket.leftover.is_none());
}

#[tokio::test]
async fn a_reader_with_room_for_a_whole_read_reads_the_socket_directly() {
    let script = Script::new([Step::Bytes(pattern(100_000))]);
    let mut socket = ReadAhead::new(script.clone());
    let (read, error) = read_all(&mut socket, SCRATCH_BYTES + 1).await;
    assert_eq!((read.len(), error), (100_000, None));
    assert_eq!(script.reads()[0], SCRATCH_BYTES + 1);
    assert!(socket.leftover.is_none());
}

#[tokio::test]
async fn tungstenite_reads_a_4400_byte_message_in_one_socket_read() {
    let mut frame = vec![0x81, 0x80 | 126];
    frame.extend_from_slice(&4_400u16.to_be_bytes());
    frame.extend_from_slice(&[0; 4]); // mask: zero, so the payload is sent as it is
    frame.extend(std::iter::repeat_n(b'c', 4_400));
    let script = Script::new([Step::Bytes(frame)]);
    let config = WebSocketConfig::default().read_buffer_size(crate::READ_BUFFER_BYTES);
    let mut socket = WebSocketStream::from_raw_socket(ReadAhead::new(script.clone()), Role::Server, Some(config)).await;
    let message = socket.next().await.expect("a message").expect("a valid frame");
    assert_eq!(message, Message::text("c".repeat(4_400)));
    assert_eq!(script.reads(), [SCRATCH_BYTES]);
    // Writes pass through to the socket.
    socket.send(Message::text("reply")).await.expect("the script takes writes");
}
