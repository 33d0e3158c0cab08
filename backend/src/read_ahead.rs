//! One system call for a message larger than tungstenite's read chunk: [`ReadAhead`] sits
//! under the [`FrameGate`](crate::frame_gate::FrameGate), reads the socket into a buffer of the
//! thread's ([`SCRATCH_BYTES`], shared by every connection the thread serves and used only within
//! one `poll_read`), hands the reader what it asked for and keeps the rest in an allocation of
//! exactly its size, freed as soon as the reader has taken it.
//!
//! tungstenite reads at most its configured read buffer size per call (384 bytes,
//! [`crate::READ_BUFFER_BYTES`], a capacity every idle connection keeps), so a 4.4 KB message was
//! nine `recvfrom` (with the 512 bytes of before); a larger buffer would be kept by every idle
//! connection (tungstenite's default of 128 KiB is 134 KiB per idle connection on matchbox).
//! Here the message is one `recvfrom`, its other chunks are copies, and an idle connection holds
//! nothing for it but one pointer.
//! The socket's bytes reach the reader unchanged and in order (BENCHMARKS.md, "Server levers
//! (issue 15)").

use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

/// The most one read takes from the socket (and so the most a connection holds read ahead): as
/// much as the largest frame the server accepts by default (`--max-frame-bytes`, 64 KiB).
pub const SCRATCH_BYTES: usize = 64 * 1024;

thread_local! {
    /// Where a read lands before it is split between the reader and the leftover.
    static SCRATCH: RefCell<Box<[u8]>> = RefCell::new(vec![0; SCRATCH_BYTES].into_boxed_slice());
}

/// A socket read ahead of its reader (see the module documentation).
#[derive(Debug)]
pub struct ReadAhead<Io> {
    inner: Io,
    /// What was read beyond what the reader asked for; `None` once it has all been taken.
    leftover: Option<Box<Leftover>>,
}

/// Bytes read from the socket and not yet taken by the reader.
#[derive(Debug)]
struct Leftover {
    bytes: Box<[u8]>,
    taken: usize,
}

impl<Io> ReadAhead<Io> {
    pub fn new(inner: Io) -> ReadAhead<Io> {
        ReadAhead { inner, leftover: None }
    }

    /// Bytes read from the socket that the reader has not taken yet.
    pub fn read_ahead_bytes(&self) -> usize {
        self.leftover.as_ref().map_or(0, |leftover| leftover.bytes.len() - leftover.taken)
    }

    /// Moves what fits of the leftover into `buffer`; frees it once it is all taken.
    fn take_leftover(&mut self, buffer: &mut ReadBuf<'_>) -> bool {
        let Some(leftover) = &mut self.leftover else { return false };
        let end = leftover.bytes.len().min(leftover.taken + buffer.remaining());
        buffer.put_slice(&leftover.bytes[leftover.taken..end]);
        leftover.taken = end;
        if end == leftover.bytes.len() {
            self.leftover = None;
        }
        true
    }
}

impl<Io: AsyncRead + Unpin> ReadAhead<Io> {
    /// Reads the socket into the thread's scratch buffer: what fits goes to `buffer`, the rest
    /// is kept. `Err(())` if the scratch buffer is in use (a `ReadAhead` reading another).
    fn poll_read_through_scratch(
        &mut self,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Result<Poll<io::Result<()>>, ()> {
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.try_borrow_mut().map_err(|_| ())?;
            let mut read = ReadBuf::new(&mut scratch[..]);
            Ok(match Pin::new(&mut self.inner).poll_read(context, &mut read) {
                Poll::Ready(Ok(())) => {
                    let read = read.filled();
                    let given = read.len().min(buffer.remaining());
                    buffer.put_slice(&read[..given]);
                    if given < read.len() {
                        self.leftover = Some(Box::new(Leftover { bytes: read[given..].into(), taken: 0 }));
                    }
                    Poll::Ready(Ok(()))
                }
                other => other,
            })
        })
    }
}

impl<Io: AsyncRead + Unpin> AsyncRead for ReadAhead<Io> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if buffer.remaining() == 0 || this.take_leftover(buffer) {
            return Poll::Ready(Ok(()));
        }
        if buffer.remaining() < SCRATCH_BYTES {
            if let Ok(poll) = this.poll_read_through_scratch(context, buffer) {
                return poll;
            }
        }
        Pin::new(&mut this.inner).poll_read(context, buffer)
    }
}

write_through_to_inner!(ReadAhead);

#[cfg(test)]
#[path = "read_ahead_tests.rs"]
mod tests;
