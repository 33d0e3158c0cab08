//! The TCP do-nothing relay: connections are paired in accept order and one task copies the
//! bytes each side sends to the other (the length prefixes need no parsing to be forwarded),
//! with a 16 KiB stack buffer per read and no buffer held while idle.

use std::io::{self, ErrorKind};
use tokio::net::TcpStream;

pub async fn serve(listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    let mut waiting: Option<TcpStream> = None;
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            // Out of descriptors and the like: keep serving the pairs there are.
            Err(_) => continue,
        };
        let _ = stream.set_nodelay(true);
        match waiting.take() {
            None => waiting = Some(stream),
            Some(first) => {
                tokio::spawn(async move {
                    let _ = relay(&first, &stream).await;
                });
            }
        }
    }
}

/// Forwards both ways until either side closes or fails.
pub async fn relay(first: &TcpStream, second: &TcpStream) -> io::Result<()> {
    tokio::select! {
        result = forward(first, second) => result,
        result = forward(second, first) => result,
    }
}

enum Pumped {
    Closed,
    Forwarded,
    NothingToRead,
    /// Bytes read that the receiver could not take yet.
    Pending(Vec<u8>),
}

/// One read and the write of what it got, without waiting.
fn pump(from: &TcpStream, to: &TcpStream) -> io::Result<Pumped> {
    let mut chunk = [0u8; 16 * 1024];
    let read = match from.try_read(&mut chunk) {
        Ok(0) => return Ok(Pumped::Closed),
        Ok(read) => read,
        Err(error) if error.kind() == ErrorKind::WouldBlock => return Ok(Pumped::NothingToRead),
        Err(error) => return Err(error),
    };
    match to.try_write(&chunk[..read]) {
        Ok(written) if written == read => Ok(Pumped::Forwarded),
        Ok(written) => Ok(Pumped::Pending(chunk[written..read].to_vec())),
        Err(error) if error.kind() == ErrorKind::WouldBlock => Ok(Pumped::Pending(chunk[..read].to_vec())),
        Err(error) => Err(error),
    }
}

async fn forward(from: &TcpStream, to: &TcpStream) -> io::Result<()> {
    loop {
        from.readable().await?;
        let mut pending = match pump(from, to)? {
            Pumped::Closed => return Ok(()),
            Pumped::Forwarded | Pumped::NothingToRead => continue,
            Pumped::Pending(pending) => pending,
        };
        while !pending.is_empty() {
            to.writable().await?;
            match to.try_write(&pending) {
                Ok(written) => {
                    pending.drain(..written);
                }
                Err(error) if error.kind() == ErrorKind::WouldBlock => {}
                Err(error) => return Err(error),
            }
        }
    }
}
