//! TCP_DEFER_ACCEPT on the listening socket (`--defer-accept`): Linux hands a connection to
//! `accept` only once its first bytes (the request head, or a TLS ClientHello) have arrived.
//! The server then wakes once for "a connection with its request" instead of once for the
//! connection and again for its request, and a silent socket costs no file descriptor, no task
//! and no connection permit while the kernel holds it. After about the given time without data
//! the kernel hands it over anyway, and `--request-head-timeout` applies from then on, as for
//! every accepted connection (BENCHMARKS.md, "Connect + sign-in: deferred accept").
//!
//! The one `unsafe` block of the workspace: the standard library's `set_deferaccept` is still
//! unstable, and socket2, rustix and nix have no safe wrapper for this option.

use std::io;
use std::time::Duration;
use tokio::net::TcpListener;

/// Asks the kernel to accept connections on `listener` only once they have sent data, waiting
/// at most about `wait` (rounded up to whole seconds; zero turns deferring off). Not available
/// outside Linux: an error of kind `Unsupported` there.
pub fn defer_accept(listener: &TcpListener, wait: Duration) -> io::Result<()> {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    set_defer_accept_seconds(listener, i32::try_from(seconds).unwrap_or(i32::MAX))
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn set_defer_accept_seconds(listener: &TcpListener, seconds: i32) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let value: libc::c_int = seconds;
    // SAFETY: the descriptor is the listener's own and stays open for the call (borrowed);
    // the option value is a valid `c_int` on the stack, and its size is passed with it.
    let result = unsafe {
        libc::setsockopt(
            listener.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_DEFER_ACCEPT,
            std::ptr::from_ref(&value).cast::<libc::c_void>(),
            libc::socklen_t::try_from(std::mem::size_of::<libc::c_int>()).unwrap_or(4),
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn set_defer_accept_seconds(_listener: &TcpListener, _seconds: i32) -> io::Result<()> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "TCP_DEFER_ACCEPT is a Linux socket option"))
}

#[cfg(test)]
mod tests {
    use super::defer_accept;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    const SILENCE: Duration = Duration::from_millis(300);

    #[tokio::test]
    async fn a_silent_connection_is_not_accepted_until_it_sends_data() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback listener");
        defer_accept(&listener, Duration::from_secs(5)).expect("TCP_DEFER_ACCEPT on the listener");
        let mut client = TcpStream::connect(listener.local_addr().expect("address")).await.expect("connect");

        let silent = tokio::time::timeout(SILENCE, listener.accept()).await;
        assert!(silent.is_err(), "a connection that sent nothing was accepted: {silent:?}");

        client.write_all(b"GET / HTTP/1.1\r\n").await.expect("send the first bytes");
        let (mut accepted, _) = tokio::time::timeout(Duration::from_secs(2), listener.accept())
            .await
            .expect("accepted once data arrived")
            .expect("accept");
        let mut first = [0; 16];
        accepted.read_exact(&mut first).await.expect("the first bytes are there at once");
        assert_eq!(&first, b"GET / HTTP/1.1\r\n");
    }

    #[tokio::test]
    async fn zero_turns_deferring_off_and_a_silent_connection_is_accepted_at_once() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback listener");
        defer_accept(&listener, Duration::from_secs(5)).expect("on");
        defer_accept(&listener, Duration::ZERO).expect("off again");
        let _client = TcpStream::connect(listener.local_addr().expect("address")).await.expect("connect");
        tokio::time::timeout(SILENCE, listener.accept())
            .await
            .expect("a silent connection is accepted without deferring")
            .expect("accept");
    }
}
