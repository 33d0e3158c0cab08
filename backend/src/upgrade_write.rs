//! One socket write for the WebSocket upgrade's `101 Switching Protocols` and the first frame
//! (`hello`): [`UpgradeWrite`] sits under hyper, holds the 101 back when the request was
//! accepted as a WebSocket upgrade ([`HoldUpgradeResponse`]), and sends it together with
//! whatever is written next. hyper writes and flushes the 101 itself before it hands the
//! connection over, so without this the 101 and `hello` are two writes, two loopback transmits
//! (BENCHMARKS.md, "Server levers (issue 15)").
//!
//! The client sees the same bytes in the same order; only the number of writes changes. Held
//! bytes always leave: with the next write, at the next flush after it, or at shutdown.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The start of the response head that is held back (hyper writes it this way).
const SWITCHING_PROTOCOLS: &[u8] = b"HTTP/1.1 101 ";

/// Set when a request on the connection was accepted as a WebSocket upgrade: the 101 that hyper
/// writes next is held back until the first frame.
#[derive(Debug, Default)]
pub struct HoldUpgradeResponse(AtomicBool);

impl HoldUpgradeResponse {
    pub fn hold(&self) {
        self.0.store(true, Ordering::Release);
    }

    fn is_set(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// What holds a connection's [`HoldUpgradeResponse`] (serve.rs: the connection's context, so
/// that a socket costs no allocation of its own for it before its first byte).
pub trait UpgradeSignal: Send + Sync + 'static {
    fn hold_signal(&self) -> &HoldUpgradeResponse;
}

impl UpgradeSignal for HoldUpgradeResponse {
    fn hold_signal(&self) -> &HoldUpgradeResponse {
        self
    }
}

/// A connection's socket under hyper (see the module documentation).
#[derive(Debug)]
pub struct UpgradeWrite<Io, Signal = HoldUpgradeResponse> {
    inner: Io,
    state: State<Signal>,
}

#[derive(Debug)]
enum State<Signal> {
    /// HTTP: writes pass through until the upgrade is accepted.
    Http(Arc<Signal>),
    /// The 101 is held: flushing does not send it; the next write joins it.
    Holding(Vec<u8>),
    /// The 101 and the first frame, accepted but not yet all written from `.1` on.
    Sending(Vec<u8>, usize),
    /// After the upgrade (or once the held bytes are out): writes pass through.
    Direct,
}

impl<Io, Signal: UpgradeSignal> UpgradeWrite<Io, Signal> {
    pub fn new(inner: Io, signal: Arc<Signal>) -> UpgradeWrite<Io, Signal> {
        UpgradeWrite { inner, state: State::Http(signal) }
    }

    /// Whether `head` is hyper's 101 answer to an accepted upgrade, to be held back.
    fn holds(&self, head: &[u8]) -> bool {
        matches!(&self.state, State::Http(signal) if signal.hold_signal().is_set() && head.starts_with(SWITCHING_PROTOCOLS))
    }
}

impl<Io: AsyncWrite + Unpin, Signal> UpgradeWrite<Io, Signal> {
    /// Writes out what `Sending` holds; `Direct` once it is all out.
    fn poll_send_held(&mut self, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let State::Holding(held) = &mut self.state {
            self.state = State::Sending(std::mem::take(held), 0);
        }
        if let State::Sending(held, sent) = &mut self.state {
            while *sent < held.len() {
                let written = ready!(Pin::new(&mut self.inner).poll_write(context, &held[*sent..]))?;
                if written == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                *sent += written;
            }
            self.state = State::Direct;
        }
        Poll::Ready(Ok(()))
    }
}

impl<Io: AsyncRead + Unpin, Signal> AsyncRead for UpgradeWrite<Io, Signal> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(context, buffer)
    }
}

impl<Io: AsyncWrite + Unpin, Signal: UpgradeSignal> AsyncWrite for UpgradeWrite<Io, Signal> {
    fn poll_write(mut self: Pin<&mut Self>, context: &mut Context<'_>, bytes: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let holds = this.holds(bytes);
        match &mut this.state {
            State::Direct => Pin::new(&mut this.inner).poll_write(context, bytes),
            State::Http(_) if holds => {
                this.state = State::Holding(bytes.to_vec());
                Poll::Ready(Ok(bytes.len()))
            }
            State::Http(_) => Pin::new(&mut this.inner).poll_write(context, bytes),
            State::Holding(held) => {
                held.extend_from_slice(bytes);
                // Accepted: what does not go out now goes at the next write, flush or shutdown.
                if let Poll::Ready(Err(error)) = this.poll_send_held(context) {
                    return Poll::Ready(Err(error));
                }
                Poll::Ready(Ok(bytes.len()))
            }
            State::Sending(..) => {
                ready!(this.poll_send_held(context))?;
                Pin::new(&mut this.inner).poll_write(context, bytes)
            }
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffers: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let first = buffers.iter().find(|buffer| !buffer.is_empty()).map_or(&[][..], |buffer| &buffer[..]);
        let holds = this.holds(first);
        match &this.state {
            State::Direct => Pin::new(&mut this.inner).poll_write_vectored(context, buffers),
            State::Http(_) if holds => {
                // Copied slice by slice (collecting the bytes one by one cost 14 instructions each).
                let length = buffers.iter().map(|buffer| buffer.len()).sum();
                let mut held = Vec::with_capacity(length);
                for buffer in buffers {
                    held.extend_from_slice(buffer);
                }
                this.state = State::Holding(held);
                Poll::Ready(Ok(length))
            }
            State::Http(_) => Pin::new(&mut this.inner).poll_write_vectored(context, buffers),
            // Not reached in practice (frames are written with `poll_write`): one slice at a time.
            State::Holding(_) | State::Sending(..) => Pin::new(this).poll_write(context, first),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match this.state {
            // hyper's flush of the 101: it leaves with the first frame.
            State::Holding(_) => Poll::Ready(Ok(())),
            State::Sending(..) => {
                ready!(this.poll_send_held(context))?;
                Pin::new(&mut this.inner).poll_flush(context)
            }
            State::Http(_) | State::Direct => Pin::new(&mut this.inner).poll_flush(context),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_send_held(context))?;
        Pin::new(&mut self.inner).poll_shutdown(context)
    }
}

#[cfg(test)]
#[path = "upgrade_write_tests.rs"]
mod tests;
