//! The rate limit at the level of WebSocket frames: [`FrameGate`] sits between the socket and
//! tungstenite, reads the header of every frame the client sends and charges it (one frame and
//! its payload bytes) to the connection's [`RateLimiter`] before tungstenite sees it.
//!
//! Why below tungstenite: it reassembles fragments and answers pings on its own, so above it a
//! flood of empty continuation frames is invisible (20.9 million in 15 s were never counted) and
//! a refused ping is answered anyway. Here every frame is seen, and a refused ping or pong is
//! taken out of the stream, so it gets no pong. Refused data frames pass (tungstenite needs them
//! to keep the message boundaries); the connection drops their message, in order, through
//! [`FrameGate::take_message_refused`]. When the limiter says disconnect, reading fails with
//! [`RateLimitExceeded`] and the connection closes with 1008.
//!
//! Header bytes are held back until the header is complete, so a frame is passed or taken out
//! whole; nothing else is buffered (bytes are filtered in place in the reader's buffer).

use crate::limits::{RateDecision, RateLimiter};
use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

/// The longest frame header: 2 bytes, 8 of extended length, 4 of mask.
const MAX_HEADER_BYTES: usize = 14;

const OPCODE_CONTINUATION: u8 = 0x0;
const OPCODE_TEXT: u8 = 0x1;
const OPCODE_BINARY: u8 = 0x2;
const OPCODE_PING: u8 = 0x9;
const OPCODE_PONG: u8 = 0xA;

/// The error reading fails with once the rate limiter said disconnect.
#[derive(Debug, thiserror::Error)]
#[error("too many frames refused by the rate limit")]
pub struct RateLimitExceeded;

/// What to do with one frame.
enum Admission {
    Pass,
    TakeOut,
    Disconnect,
}

/// Which data messages begun but not yet taken by the connection were refused, in order: the
/// messages are numbered (wrapping), and only the numbers of refused ones are kept. Nothing is
/// allocated unless a message is refused (a queue of one flag per message kept an allocation
/// in every connection that ever received a message).
#[derive(Debug, Default)]
struct MessageMarks {
    /// Data messages begun so far, and taken so far (equal: none pending).
    begun: u32,
    taken: u32,
    /// The numbers of the refused messages not yet taken, oldest first.
    refused: VecDeque<u32>,
}

impl MessageMarks {
    fn begin(&mut self, refused: bool) {
        if refused {
            self.refused.push_back(self.begun);
        }
        self.begun = self.begun.wrapping_add(1);
    }

    /// The message begun last is refused (a refused continuation of it); none pending: nothing.
    fn refuse_last(&mut self) {
        if self.begun == self.taken {
            return;
        }
        let last = self.begun.wrapping_sub(1);
        if self.refused.back() != Some(&last) {
            self.refused.push_back(last);
        }
    }

    /// Whether the oldest pending message was refused (false when none is pending).
    fn take_next(&mut self) -> bool {
        if self.begun == self.taken {
            return false;
        }
        let next = self.taken;
        self.taken = self.taken.wrapping_add(1);
        let refused = self.refused.front() == Some(&next);
        if refused {
            self.refused.pop_front();
        }
        refused
    }
}

/// A socket whose incoming frames are counted and rate-limited (see the module documentation).
#[derive(Debug)]
pub struct FrameGate<Io> {
    inner: Io,
    limiter: RateLimiter,
    /// The header being read (held back until complete).
    header: [u8; MAX_HEADER_BYTES],
    header_len: u8,
    /// Payload bytes of the current frame still to come, and whether they are taken out.
    payload_left: u64,
    taking_out: bool,
    /// The data messages begun but not yet taken by the connection, and which were refused.
    messages: MessageMarks,
    /// Refusals not yet reported to the metrics.
    refusals: u64,
    exceeded: bool,
}

impl<Io> FrameGate<Io> {
    pub fn new(inner: Io, limiter: RateLimiter) -> FrameGate<Io> {
        FrameGate {
            inner,
            limiter,
            header: [0; MAX_HEADER_BYTES],
            header_len: 0,
            payload_left: 0,
            taking_out: false,
            messages: MessageMarks::default(),
            refusals: 0,
            exceeded: false,
        }
    }

    /// Whether the next complete data message (in order) was refused by the rate limit.
    pub fn take_message_refused(&mut self) -> bool {
        self.messages.take_next()
    }

    /// Frames refused since the last call (for the metrics).
    pub fn take_refusals(&mut self) -> u64 {
        std::mem::take(&mut self.refusals)
    }

    /// The socket itself, for the goodbye: shutting down and draining bypass the gate.
    pub fn inner_mut(&mut self) -> &mut Io {
        &mut self.inner
    }

    fn admit(&mut self, first_byte: u8, payload_bytes: u64) -> Admission {
        let opcode = first_byte & 0x0F;
        let data = matches!(opcode, OPCODE_CONTINUATION | OPCODE_TEXT | OPCODE_BINARY);
        // Only a valid ping or pong (final, at most 125 bytes) can be taken out: anything else
        // must reach tungstenite, which closes the connection for it (1002).
        let valid_control = first_byte & 0x80 != 0 && payload_bytes <= 125;
        let control_taken_out_when_refused = matches!(opcode, OPCODE_PING | OPCODE_PONG) && valid_control;
        if !data && !control_taken_out_when_refused {
            // Close, reserved opcodes and invalid control frames: tungstenite handles them.
            return Admission::Pass;
        }
        let decision = self.limiter.check(payload_bytes);
        let refused = decision != RateDecision::Allow;
        if refused {
            self.refusals += 1;
        }
        if decision == RateDecision::Disconnect {
            return Admission::Disconnect;
        }
        match opcode {
            OPCODE_TEXT | OPCODE_BINARY => self.messages.begin(refused),
            OPCODE_CONTINUATION if refused => self.messages.refuse_last(),
            _ if refused => return Admission::TakeOut,
            _ => {}
        }
        Admission::Pass
    }

    /// Filters `buffer[start..end]` (just read; `buffer[..start]` is free room as large as the
    /// header bytes held from before) in place: returns how many bytes at the start of `buffer`
    /// tungstenite may read. Stops early when the limiter says disconnect.
    fn filter(&mut self, buffer: &mut [u8], start: usize, end: usize) -> usize {
        // Invariant: written + self.header_len <= read, so held header bytes always fit.
        let mut written = 0;
        let mut read = start;
        while read < end {
            if self.payload_left > 0 {
                let take = usize::try_from(self.payload_left).unwrap_or(usize::MAX).min(end - read);
                if !self.taking_out {
                    if written != read {
                        buffer.copy_within(read..read + take, written);
                    }
                    written += take;
                }
                read += take;
                self.payload_left -= take as u64;
                continue;
            }
            self.header[usize::from(self.header_len)] = buffer[read];
            self.header_len += 1;
            read += 1;
            let Some((header_bytes, payload_bytes)) = parse_header(&self.header[..usize::from(self.header_len)]) else {
                continue;
            };
            self.header_len = 0;
            match self.admit(self.header[0], payload_bytes) {
                Admission::Pass => {
                    buffer[written..written + header_bytes].copy_from_slice(&self.header[..header_bytes]);
                    written += header_bytes;
                    self.taking_out = false;
                }
                Admission::TakeOut => self.taking_out = true,
                Admission::Disconnect => {
                    self.exceeded = true;
                    return written;
                }
            }
            self.payload_left = payload_bytes;
        }
        written
    }
}

/// `(header length, payload length)` once `header` holds a complete frame header.
fn parse_header(header: &[u8]) -> Option<(usize, u64)> {
    let [_, second, ..] = *header else { return None };
    let length_code = second & 0x7F;
    let extended = match length_code {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let mask = if second & 0x80 != 0 { 4 } else { 0 };
    let header_bytes = 2 + extended + mask;
    if header.len() < header_bytes {
        return None;
    }
    let payload_bytes = match extended {
        0 => u64::from(length_code),
        _ => header[2..2 + extended].iter().fold(0, |length, byte| (length << 8) | u64::from(*byte)),
    };
    Some((header_bytes, payload_bytes))
}

impl<Io: AsyncRead + Unpin> AsyncRead for FrameGate<Io> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let gate = &mut *self;
        loop {
            if gate.exceeded {
                return Poll::Ready(Err(io::Error::other(RateLimitExceeded)));
            }
            let held = usize::from(gate.header_len);
            let room = buffer.initialize_unfilled();
            if room.len() <= held {
                // tungstenite reads in chunks of hundreds of bytes; a header is at most 14.
                return Poll::Ready(Err(io::Error::other("read buffer smaller than a frame header")));
            }
            let mut inner_buffer = ReadBuf::new(&mut room[held..]);
            ready!(Pin::new(&mut gate.inner).poll_read(context, &mut inner_buffer))?;
            let read = inner_buffer.filled().len();
            if read == 0 {
                return Poll::Ready(Ok(()));
            }
            let passed = gate.filter(room, held, held + read);
            buffer.advance(passed);
            if passed > 0 {
                return Poll::Ready(Ok(()));
            }
            // Everything read was a held-back header or a frame taken out: read on.
        }
    }
}

write_through_to_inner!(FrameGate);

/// True when `error` (from reading the socket) is the gate's [`RateLimitExceeded`].
pub fn is_rate_limit_exceeded(error: &io::Error) -> bool {
    error.get_ref().is_some_and(|inner| inner.is::<RateLimitExceeded>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    /// A masked client frame.
    fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut bytes = vec![u8::from(fin) << 7 | opcode];
        match payload.len() {
            length @ 0..=125 => bytes.push(0x80 | length as u8),
            length @ 126..=0xFFFF => {
                bytes.push(0x80 | 126);
                bytes.extend_from_slice(&(length as u16).to_be_bytes());
            }
            length => {
                bytes.push(0x80 | 127);
                bytes.extend_from_slice(&(length as u64).to_be_bytes());
            }
        }
        let mask = [1, 2, 3, 4];
        bytes.extend_from_slice(&mask);
        bytes.extend(payload.iter().enumerate().map(|(index, byte)| byte ^ mask[index % 4]));
        bytes
    }

    /// Feeds `input` through a gate in reads of `chunk` bytes; returns what passed.
    async fn through_gate(limiter: RateLimiter, input: &[u8], chunk: usize) -> (Vec<u8>, FrameGate<&[u8]>) {
        let mut gate = FrameGate::new(input, limiter);
        let mut passed = Vec::new();
        let mut buffer = vec![0; chunk];
        loop {
            match gate.read(&mut buffer).await {
                Ok(0) => return (passed, gate),
                Ok(read) => passed.extend_from_slice(&buffer[..read]),
                Err(error) => {
                    assert!(is_rate_limit_exceeded(&error), "{error}");
                    return (passed, gate);
                }
            }
        }
    }

    #[tokio::test]
    async fn allowed_frames_pass_unchanged_whatever_the_read_size() {
        let mut input = frame(true, OPCODE_TEXT, b"hello");
        input.extend(frame(false, OPCODE_TEXT, &[b'x'; 300]));
        input.extend(frame(true, OPCODE_CONTINUATION, &[b'y'; 70_000]));
        input.extend(frame(true, OPCODE_PING, b"ping"));
        for chunk in [15, 16, 17, 64, 512, 100_000] {
            let (passed, _) = through_gate(RateLimiter::new(0, 0, 0, 0), &input, chunk).await;
            assert_eq!(passed, input, "reads of {chunk} bytes");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn refused_pings_are_taken_out_and_refused_messages_marked_in_order() {
        let mut input = frame(true, OPCODE_TEXT, b"first");
        input.extend(frame(true, OPCODE_PING, b"allowed"));
        let allowed = input.clone();
        let refused_ping = frame(true, OPCODE_PING, b"refused");
        input.extend(&refused_ping);
        let refused_text = frame(false, OPCODE_TEXT, b"second");
        input.extend(&refused_text);
        let refused_continuation = frame(true, OPCODE_CONTINUATION, b"");
        input.extend(&refused_continuation);
        for chunk in [15, 20, 512] {
            let (passed, mut gate) = through_gate(RateLimiter::new(1, 2, 0, 0), &input, chunk).await;
            let expected = [allowed.clone(), refused_text.clone(), refused_continuation.clone()].concat();
            assert_eq!(passed, expected, "the refused ping is gone (reads of {chunk} bytes)");
            assert!(!gate.take_message_refused(), "first");
            assert!(gate.take_message_refused(), "second");
            assert_eq!(gate.take_refusals(), 3);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn invalid_control_frames_are_never_taken_out_but_left_to_tungstenite() {
        let exhausted = || RateLimiter::new(1, 1, 0, 0);
        let mut input = frame(true, OPCODE_TEXT, b"{}");
        input.extend(frame(false, OPCODE_PING, b"fragmented"));
        input.extend(frame(true, OPCODE_PONG, &[0; 200]));
        let (passed, _) = through_gate(exhausted(), &input, 512).await;
        assert_eq!(passed, input, "refused, but tungstenite must see them to close with 1002");
    }

    #[tokio::test(start_paused = true)]
    async fn a_flood_of_empty_continuation_frames_fails_the_read() {
        let mut input = frame(false, OPCODE_TEXT, b"{");
        for _ in 0..10_000 {
            input.extend(frame(false, OPCODE_CONTINUATION, b""));
        }
        let (passed, mut gate) = through_gate(RateLimiter::new(50, 200, 0, 0), &input, 512).await;
        let frames_passed = 200 + crate::limits::MAX_REFUSALS_PER_WINDOW as usize;
        assert!(passed.len() <= 6 * (frames_passed + 1), "stopped early: {} bytes passed", passed.len());
        assert_eq!(gate.take_refusals(), u64::from(crate::limits::MAX_REFUSALS_PER_WINDOW) + 1);
        assert!(gate.read(&mut [0; 512]).await.is_err_and(|error| is_rate_limit_exceeded(&error)));
    }

    #[test]
    fn refused_messages_are_told_in_order_across_the_numbers_wrapping_and_nothing_is_kept_for_allowed_ones() {
        let mut marks = MessageMarks { begun: u32::MAX - 1, taken: u32::MAX - 1, ..MessageMarks::default() };
        assert!(!marks.take_next(), "nothing pending");
        marks.refuse_last();
        marks.begin(false);
        marks.begin(true);
        marks.begin(false);
        marks.refuse_last();
        marks.refuse_last();
        marks.begin(false);
        assert_eq!(marks.refused.len(), 2);
        let told: Vec<bool> = (0..5).map(|_| marks.take_next()).collect();
        assert_eq!(told, [false, true, true, false, false]);
        marks.refuse_last();
        assert!(marks.refused.is_empty(), "a continuation with no message pending marks nothing");
        let mut allowed_only = MessageMarks::default();
        for _ in 0..100 {
            allowed_only.begin(false);
            assert!(!allowed_only.take_next());
        }
        assert_eq!(allowed_only.refused.capacity(), 0, "allowed messages allocate nothing");
    }
}
