//! Browser glue for the signaling WebSocket (gloo-net): reads where to connect from the page,
//! opens the socket, turns every text frame into an [`Action`], and reports the close code.
//! Dropping a [`SignalingSocket`] closes the socket and ends its tasks; events of a replaced
//! socket are never dispatched. An unusable address is a typed [`SignalingUrlError`].

use crate::call_state::Action;
use crate::errors::SignalingUrlError;
use crate::signaling_url::{
    resolve_signaling_url, PageLocation, ALLOWED_SIGNALING_ORIGINS_META_NAME, SIGNALING_META_NAME,
    SIGNALING_QUERY_PARAMETER,
};
use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};
use gloo_net::websocket::futures::WebSocket;
use gloo_net::websocket::{Message, WebSocketError};
use protocol::ServerMessage;
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;
use web_sys::UrlSearchParams;

/// Hands actions to the controller (which may already be gone).
pub type Dispatch = Rc<dyn Fn(Action)>;

/// Close code reported when the socket failed without a close frame.
const ABNORMAL_CLOSURE: u16 = 1006;

/// Reads the signaling URL configuration from the page (`?signaling=`, `<meta>`), falling back
/// to same-origin `/ws`.
pub fn configured_signaling_url() -> Result<String, SignalingUrlError> {
    let window = web_sys::window().ok_or(SignalingUrlError::NoWindow)?;
    let location = window.location();
    let page = PageLocation {
        protocol: location.protocol().unwrap_or_else(|_| "http:".to_owned()),
        host: location.host().unwrap_or_default(),
    };
    let query_value = location
        .search()
        .ok()
        .and_then(|search| UrlSearchParams::new_with_str(&search).ok())
        .and_then(|params| params.get(SIGNALING_QUERY_PARAMETER));
    let meta_content = |name: &str| {
        window
            .document()
            .and_then(|document| document.query_selector(&format!("meta[name=\"{name}\"]")).ok().flatten())
            .and_then(|meta| meta.get_attribute("content"))
    };
    let meta_value = meta_content(SIGNALING_META_NAME);
    let allowed_origins_value = meta_content(ALLOWED_SIGNALING_ORIGINS_META_NAME);
    resolve_signaling_url(&page, query_value.as_deref(), meta_value.as_deref(), allowed_origins_value.as_deref())
}

thread_local! {
    /// Incremented per opened socket; a socket's reader only dispatches while it is current.
    static CURRENT_SOCKET_GENERATION: Cell<u64> = const { Cell::new(0) };
}

/// One open (or opening) signaling connection.
pub struct SignalingSocket {
    outgoing_frames: mpsc::UnboundedSender<String>,
}

impl std::fmt::Debug for SignalingSocket {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("SignalingSocket")
    }
}

impl SignalingSocket {
    /// Opens `url`. The first frame the server sends is `hello`; its arrival is what tells the
    /// state that the connection is up. A failure to open is reported as a close.
    pub fn open(url: &str, dispatch: Dispatch) -> SignalingSocket {
        let generation = CURRENT_SOCKET_GENERATION.with(|current| {
            current.set(current.get() + 1);
            current.get()
        });
        let is_current = move || CURRENT_SOCKET_GENERATION.with(|current| current.get() == generation);
        let (outgoing_frames, mut frames_to_write) = mpsc::unbounded::<String>();
        let socket = match WebSocket::open(url) {
            Ok(socket) => socket,
            Err(_) => {
                spawn_local(async move {
                    if is_current() {
                        dispatch(Action::SignalingClosed { close_code: ABNORMAL_CLOSURE });
                    }
                });
                return SignalingSocket { outgoing_frames };
            }
        };
        let (mut sink, mut stream) = socket.split();
        spawn_local(async move {
            while let Some(frame) = frames_to_write.next().await {
                if sink.send(Message::Text(frame)).await.is_err() {
                    break;
                }
            }
            // The owner dropped us (or the socket failed): close it.
            let _ = sink.close().await;
        });
        spawn_local(async move {
            let mut close_code = ABNORMAL_CLOSURE;
            while let Some(item) = stream.next().await {
                if !is_current() {
                    return;
                }
                match item {
                    Ok(Message::Text(text)) => match ServerMessage::from_json(&text) {
                        Ok(message) => {
                            // Milliseconds since the epoch fit an f64 exactly; the cast drops the fraction.
                            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                            let at_millis = js_sys::Date::now() as u64;
                            dispatch(Action::ServerMessageReceived { message, at_millis })
                        }
                        Err(error) => dispatch(Action::ServerMessageUnreadable { error }),
                    },
                    Ok(Message::Bytes(_)) => {}
                    Err(WebSocketError::ConnectionClose(event)) => {
                        close_code = event.code;
                        break;
                    }
                    Err(_) => {}
                }
            }
            if is_current() {
                dispatch(Action::SignalingClosed { close_code });
            }
        });
        SignalingSocket { outgoing_frames }
    }

    /// Queues one text frame (dropped silently if the socket is already gone: the close
    /// event is on its way and the state reacts to that).
    pub fn send_text(&self, frame: String) {
        let _ = self.outgoing_frames.unbounded_send(frame);
    }
}
