//! The do-nothing relays (`loadgen relay-server`), as a client sees them: signing in is
//! connecting, and every frame goes to the partner the server paired us with (by arrival order,
//! so pairs are set up one at a time). The frames carry the bytes of our own `candidate`
//! message, unparsed. For the TCP relay a frame is a 4-byte big-endian length and the bytes.

use super::{Conn, Frame, Pair};
use crate::client::{candidate_frame, connect_tcp, Client};
use crate::Common;
use anyhow::{anyhow, bail, Context};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// Frames larger than this are refused (the workloads send at most 60 KB).
pub const MAX_FRAME_BYTES: usize = 1 << 20;

/// `bytes` with its 4-byte big-endian length in front.
pub fn prefixed(bytes: &[u8]) -> Arc<[u8]> {
    let length = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    let mut framed = Vec::with_capacity(4 + bytes.len());
    framed.extend_from_slice(&length.to_be_bytes());
    framed.extend_from_slice(bytes);
    framed.into()
}

/// A TCP connection to the TCP floor, speaking length-prefixed frames.
#[derive(Debug)]
pub struct TcpConn {
    stream: BufReader<TcpStream>,
    frame: Vec<u8>,
    io_timeout: Duration,
}

impl TcpConn {
    pub async fn connect(common: &Common) -> anyhow::Result<TcpConn> {
        let stream = connect_tcp(&common.target, common.io_timeout).await?;
        Ok(TcpConn { stream: BufReader::with_capacity(8192, stream), frame: Vec::new(), io_timeout: common.io_timeout })
    }

    /// Writes one frame (prefix included) with one write.
    pub async fn send(&mut self, framed: &[u8]) -> anyhow::Result<()> {
        timeout(self.io_timeout, self.stream.get_mut().write_all(framed))
            .await
            .map_err(|_| anyhow!("send timed out"))?
            .context("send")
    }

    /// Reads the next frame; returns its bytes.
    pub async fn recv(&mut self) -> anyhow::Result<&[u8]> {
        let read = async {
            let length = self.stream.read_u32().await? as usize;
            if length > MAX_FRAME_BYTES {
                return Err(std::io::Error::other(format!("a frame of {length} bytes")));
            }
            self.frame.resize(length, 0);
            self.stream.read_exact(&mut self.frame).await?;
            Ok(())
        };
        match timeout(self.io_timeout, read).await {
            Err(_) => bail!("no frame within {:?}", self.io_timeout),
            Ok(Err(error)) if error.kind() == std::io::ErrorKind::UnexpectedEof => {
                bail!("the server closed the connection")
            }
            Ok(Err(error)) => Err(error).context("receive"),
            Ok(Ok(())) => Ok(&self.frame),
        }
    }

    /// Waits for bytes or the end; false once the connection is gone.
    pub async fn idle_read(&mut self) -> bool {
        let mut buffer = [0u8; 64];
        matches!(self.stream.read(&mut buffer).await, Ok(read) if read > 0)
    }

    /// Shuts down the sending side and waits (bounded) for the server to close.
    pub async fn close(mut self) {
        let _ = timeout(self.io_timeout, async {
            let _ = self.stream.get_mut().shutdown().await;
            let mut buffer = [0u8; 64];
            while matches!(self.stream.read(&mut buffer).await, Ok(read) if read > 0) {}
        })
        .await;
    }
}

/// Two connections, one after the other (the relay pairs them in that order).
pub async fn set_up_pair(common: &Common, (caller_candidate, callee_candidate): (&str, &str)) -> anyhow::Result<Pair> {
    let to_callee = candidate_frame("b", caller_candidate);
    let to_caller = candidate_frame("a", callee_candidate);
    if common.server == super::ServerKind::TcpFloor {
        let caller = TcpConn::connect(common).await?;
        let callee = TcpConn::connect(common).await?;
        return Ok(Pair {
            caller: Conn::Tcp(caller),
            callee: Conn::Tcp(callee),
            to_callee: Frame::Prefixed(prefixed(to_callee.as_bytes())),
            to_caller: Frame::Prefixed(prefixed(to_caller.as_bytes())),
        });
    }
    let target = &common.target;
    let caller = Client::open(target, common.io_timeout, &target.url).await?;
    let callee = Client::open(target, common.io_timeout, &target.url).await?;
    Ok(Pair {
        caller: Conn::Ws(caller),
        callee: Conn::Ws(callee),
        to_callee: Frame::Text(to_callee),
        to_caller: Frame::Text(to_caller),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_a_big_endian_length() {
        assert_eq!(&*prefixed(b"hi"), &[0, 0, 0, 2, b'h', b'i']);
        assert_eq!(&prefixed(&[7u8; 300])[..4], &[0, 0, 1, 44]);
        assert_eq!(&*prefixed(b""), &[0, 0, 0, 0]);
    }
}
