//! The axum do-nothing relay: a WebSocket upgrade at any path; the first connection of a pair
//! waits for the next one (paired in the handler, so in the order the requests arrive), then
//! one task forwards each text or binary frame to the other side until either closes.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use axum::serve::ListenerExt;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Our server's WebSocket read buffer (backend's `READ_BUFFER_BYTES`).
pub const READ_BUFFER_BYTES: usize = 384;

/// The connection waiting for a partner: where to send the partner's socket.
type Waiting = Arc<Mutex<Option<oneshot::Sender<WebSocket>>>>;

pub fn router() -> axum::Router {
    let waiting: Waiting = Arc::default();
    axum::Router::new().fallback(upgrade).with_state(waiting)
}

pub async fn serve(listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    let listener = listener.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
    axum::serve(listener, router()).await?;
    Ok(())
}

async fn upgrade(State(waiting): State<Waiting>, upgrade: WebSocketUpgrade) -> Response {
    let upgrade = upgrade.read_buffer_size(READ_BUFFER_BYTES).write_buffer_size(0);
    let mut slot = waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    match slot.take() {
        Some(first) => {
            drop(slot);
            upgrade.on_upgrade(move |socket| async move {
                let _ = first.send(socket);
            })
        }
        None => {
            let (sender, partner) = oneshot::channel();
            *slot = Some(sender);
            drop(slot);
            upgrade.on_upgrade(move |socket| async move {
                if let Ok(partner) = partner.await {
                    relay(socket, partner).await;
                }
            })
        }
    }
}

async fn relay(mut first: WebSocket, mut second: WebSocket) {
    loop {
        let (message, to_second) = tokio::select! {
            message = first.recv() => (message, true),
            message = second.recv() => (message, false),
        };
        let message = match message {
            Some(Ok(message @ (Message::Text(_) | Message::Binary(_)))) => message,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Close(_)) | Err(_)) | None => return,
        };
        let to = if to_second { &mut second } else { &mut first };
        if to.send(message).await.is_err() {
            return;
        }
    }
}
