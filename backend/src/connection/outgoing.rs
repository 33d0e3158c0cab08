//! The frames a connection writes itself: its text frames and its pings are framed here and
//! written to the socket under tungstenite, not through tungstenite's write buffer, which keeps
//! its capacity after every flush (257 bytes per idle connection after `hello` and the login
//! reply; BENCHMARKS.md, "Memory per idle connection (issue 15)"). What is framed here is freed
//! once written: an idle connection holds no write buffer.
//!
//! tungstenite still writes the control frames of its own protocol handling (its answer to a
//! client's ping or close) and the connection's close frame. Frames never interleave: what
//! tungstenite holds is flushed before frames written here start, and bytes framed here that a
//! cancelled write left unsent (a kick or the shutdown interrupts a write) are written before
//! anything else, tungstenite's close frame included.

use crate::websocket::Socket;
use futures_util::SinkExt;
use std::io;
use tokio::io::AsyncWriteExt;

/// First byte of a final, unfragmented text frame.
const TEXT_FRAME: u8 = 0x81;
/// First byte of a ping (control frames are never fragmented).
const PING_FRAME: u8 = 0x89;

/// Bytes framed but not yet written (see the module documentation). Unallocated while empty.
#[derive(Debug, Default)]
pub(super) struct Unsent(Vec<u8>);

/// A write to the client failed (the socket failed or closed).
#[derive(Debug)]
pub(super) struct TransportFailed;

impl From<io::Error> for TransportFailed {
    fn from(_: io::Error) -> TransportFailed {
        TransportFailed
    }
}

impl From<tungstenite::Error> for TransportFailed {
    fn from(_: tungstenite::Error) -> TransportFailed {
        TransportFailed
    }
}

impl Unsent {
    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Writes what a cancelled write left, then what tungstenite holds, then the frames `frame`
    /// adds (a server's frames are not masked), and flushes. Cancel-safe: what was not written
    /// stays here, whole frames or the end of one, for the next write to continue.
    pub(super) async fn write_frames(
        &mut self,
        socket: &mut Socket,
        frame: impl FnOnce(&mut Vec<u8>),
    ) -> Result<(), TransportFailed> {
        self.write_out(socket).await?;
        // tungstenite's own control frames (a pong) go first, whole.
        socket.flush().await?;
        frame(&mut self.0);
        self.write_out(socket).await?;
        // Sends what a layer below holds (the upgrade's 101 with the first frame).
        socket.get_mut().flush().await?;
        Ok(())
    }

    /// Writes what is unsent and frees the buffer; on a failure or a cancel the rest stays.
    pub(super) async fn write_out(&mut self, socket: &mut Socket) -> Result<(), TransportFailed> {
        if self.0.is_empty() {
            return Ok(());
        }
        let gate = socket.get_mut();
        while !self.0.is_empty() {
            let written = gate.write(&self.0).await?;
            if written == 0 {
                return Err(TransportFailed);
            }
            self.0.drain(..written);
        }
        // The capacity goes too: an idle connection keeps no buffer.
        self.0 = Vec::new();
        Ok(())
    }
}

/// Appends a text frame carrying `text`.
pub(super) fn push_text_frame(buffer: &mut Vec<u8>, text: &[u8]) {
    push_frame(buffer, TEXT_FRAME, text);
}

/// Appends a ping with no payload.
pub(super) fn push_ping(buffer: &mut Vec<u8>) {
    push_frame(buffer, PING_FRAME, &[]);
}

/// Appends one unmasked frame (RFC 6455 section 5.2): the first byte, the payload's length in
/// 7 bits, or 126 and 16 bits, or 127 and 64 bits, then the payload.
fn push_frame(buffer: &mut Vec<u8>, first_byte: u8, payload: &[u8]) {
    let length = payload.len();
    buffer.reserve(length + 10);
    buffer.push(first_byte);
    if length < 126 {
        buffer.push(length as u8);
    } else if let Ok(length) = u16::try_from(length) {
        buffer.push(126);
        buffer.extend_from_slice(&length.to_be_bytes());
    } else {
        buffer.push(127);
        buffer.extend_from_slice(&(length as u64).to_be_bytes());
    }
    buffer.extend_from_slice(payload);
}

#[cfg(test)]
mod tests {
    use super::{push_ping, push_text_frame};
    use tungstenite::protocol::frame::coding::{Data, OpCode};
    use tungstenite::protocol::frame::FrameHeader;

    /// The frame's header as tungstenite reads it, and the payload after it.
    fn parsed(bytes: &[u8]) -> (FrameHeader, usize, Vec<u8>) {
        let mut cursor = std::io::Cursor::new(bytes);
        let (header, length) = FrameHeader::parse(&mut cursor).expect("valid").expect("complete");
        let start = usize::try_from(cursor.position()).expect("small");
        (header, usize::try_from(length).expect("small"), bytes[start..].to_vec())
    }

    #[test]
    fn text_frames_of_every_length_class_are_read_back_by_tungstenite() {
        for length in [0, 1, 125, 126, 257, 65_535, 65_536, 70_000] {
            let text = "x".repeat(length);
            let mut buffer = Vec::new();
            push_text_frame(&mut buffer, text.as_bytes());
            let (header, read_length, payload) = parsed(&buffer);
            assert!(header.is_final, "{length}");
            assert_eq!(header.opcode, OpCode::Data(Data::Text), "{length}");
            assert_eq!(header.mask, None, "a server's frames are not masked");
            assert_eq!((read_length, payload), (length, text.into_bytes()));
        }
    }

    #[test]
    fn a_ping_is_an_empty_final_ping_frame() {
        let mut buffer = Vec::new();
        push_ping(&mut buffer);
        assert_eq!(buffer, [0x89, 0x00]);
        let (header, length, _) = parsed(&buffer);
        assert_eq!((header.opcode, length), (OpCode::Control(tungstenite::protocol::frame::coding::Control::Ping), 0));
    }
}
