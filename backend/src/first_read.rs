//! A connection's first bytes, read once they arrive and handed to hyper before the rest of the
//! socket: [`first_read`] waits without allocating anything (a silent socket costs no buffer),
//! then reads what is there; [`Prefixed`] gives those bytes back first. Before, a one-byte
//! `peek` waited for them and hyper read them again: two receive calls for one request head
//! (BENCHMARKS.md, "Server levers (issue 15)").

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};
use tokio::net::TcpStream;

/// Bytes asked for by the first read: a WebSocket upgrade's head (1-3 KiB from a browser with
/// cookies) at once; the rest of a longer head is read by hyper.
pub const FIRST_READ_BYTES: usize = 4096;

/// Waits until `stream` is readable, then reads what is there (at most [`FIRST_READ_BYTES`]);
/// empty at the end of the stream. The buffer is allocated only once the socket is readable.
/// (Read through `AsyncRead`, which marks the socket not ready after a short read: the next
/// read waits for more instead of asking the kernel and hearing "nothing yet".)
pub async fn first_read(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    stream.readable().await?;
    let mut bytes = Vec::with_capacity(FIRST_READ_BYTES);
    stream.read_buf(&mut bytes).await?;
    Ok(bytes)
}

/// `inner` with `prefix` read first; writes go straight to `inner`.
#[derive(Debug)]
pub struct Prefixed<Io> {
    /// What is left of the bytes read before (`None` once given out: nothing kept per connection).
    prefix: Option<Box<Prefix>>,
    inner: Io,
}

#[derive(Debug)]
struct Prefix {
    bytes: Vec<u8>,
    given: usize,
}

impl<Io> Prefixed<Io> {
    pub fn new(prefix: Vec<u8>, inner: Io) -> Prefixed<Io> {
        let prefix = (!prefix.is_empty()).then(|| Box::new(Prefix { bytes: prefix, given: 0 }));
        Prefixed { prefix, inner }
    }
}

impl<Io: AsyncRead + Unpin> AsyncRead for Prefixed<Io> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(prefix) = &mut this.prefix {
            let rest = &prefix.bytes[prefix.given..];
            let count = rest.len().min(buffer.remaining());
            buffer.put_slice(&rest[..count]);
            prefix.given += count;
            if prefix.given == prefix.bytes.len() {
                this.prefix = None;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(context, buffer)
    }
}

write_through_to_inner!(Prefixed);

#[cfg(test)]
mod tests {
    use super::{first_read, Prefixed};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    #[tokio::test]
    async fn the_first_bytes_come_back_before_the_rest_of_the_stream_and_writes_pass_through() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback listener");
        let mut client = TcpStream::connect(listener.local_addr().expect("its address")).await.expect("connected");
        let (mut accepted, _) = listener.accept().await.expect("accepted");
        client.write_all(b"GET / HTTP/1.1\r\n").await.expect("loopback I/O");
        let first = first_read(&mut accepted).await.expect("first bytes");
        assert_eq!(first, b"GET / HTTP/1.1\r\n");
        client.write_all(b"Host: x\r\n\r\n").await.expect("loopback I/O");
        let mut prefixed = Prefixed::new(first, accepted);
        let mut start = [0u8; 4];
        prefixed.read_exact(&mut start).await.expect("loopback I/O");
        assert_eq!(&start, b"GET ");
        let mut rest = vec![0u8; 23];
        prefixed.read_exact(&mut rest).await.expect("loopback I/O");
        assert_eq!(rest, b"/ HTTP/1.1\r\nHost: x\r\n\r\n");
        prefixed.write_all(b"HTTP/1.1 200 OK\r\n").await.expect("loopback I/O");
        let mut answer = [0u8; 17];
        client.read_exact(&mut answer).await.expect("loopback I/O");
        assert_eq!(&answer, b"HTTP/1.1 200 OK\r\n");
    }

    #[tokio::test]
    async fn a_connection_closed_before_sending_anything_reads_as_its_end() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback listener");
        let client = TcpStream::connect(listener.local_addr().expect("its address")).await.expect("connected");
        let (mut accepted, _) = listener.accept().await.expect("accepted");
        drop(client);
        let first = first_read(&mut accepted).await.expect("first bytes");
        assert!(first.is_empty());
        let mut prefixed = Prefixed::new(first, accepted);
        assert_eq!(prefixed.read(&mut [0u8; 8]).await.expect("loopback I/O"), 0);
    }
}
