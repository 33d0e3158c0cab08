//! Browser glue for the signaling WebSocket (`web_sys::WebSocket` with three event closures):
//! reads where to connect from the page, opens the socket, turns every text frame into an
//! [`Action`], and reports the close code. Dropping a [`SignalingSocket`] detaches its closures
//! and closes the socket; events of a replaced socket are never dispatched. An unusable address
//! is a typed [`SignalingUrlError`].

use crate::call_state::Action;
use crate::errors::SignalingUrlError;
use crate::signaling_url::{
    resolve_signaling_url, PageLocation, ALLOWED_SIGNALING_ORIGINS_META_NAME, SIGNALING_META_NAME,
    SIGNALING_QUERY_PARAMETER,
};
use crate::spawn::spawn;
use protocol::ServerMessage;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, Event, MessageEvent, UrlSearchParams, WebSocket};

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
            .and_then(|document| document.query_selector(&["meta[name=\"", name, "\"]"].concat()).ok().flatten())
            .and_then(|meta| meta.get_attribute("content"))
    };
    let meta_value = meta_content(SIGNALING_META_NAME);
    let allowed_origins_value = meta_content(ALLOWED_SIGNALING_ORIGINS_META_NAME);
    resolve_signaling_url(&page, query_value.as_deref(), meta_value.as_deref(), allowed_origins_value.as_deref())
}

thread_local! {
    /// Incremented per opened socket; a socket's events are only dispatched while it is current.
    static CURRENT_SOCKET_GENERATION: Cell<u64> = const { Cell::new(0) };
}

/// One open (or opening) signaling connection.
pub struct SignalingSocket {
    /// `None` when the browser refused to open the URL (reported as a close).
    open_socket: Option<OpenSocket>,
}

/// The browser's socket, the frames queued while it connects, and the closures it calls.
struct OpenSocket {
    socket: WebSocket,
    frames_waiting_for_open: Rc<RefCell<Vec<String>>>,
    on_open: Closure<dyn FnMut(Event)>,
    on_message: Closure<dyn FnMut(MessageEvent)>,
    on_close: Closure<dyn FnMut(Event)>,
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
        let Ok(socket) = WebSocket::new(url) else {
            spawn(async move {
                if is_current() {
                    dispatch(Action::SignalingClosed { close_code: ABNORMAL_CLOSURE });
                }
            });
            return SignalingSocket { open_socket: None };
        };
        let frames_waiting_for_open = Rc::new(RefCell::new(Vec::<String>::new()));
        let on_open = {
            let (socket, frames) = (socket.clone(), Rc::clone(&frames_waiting_for_open));
            Closure::<dyn FnMut(Event)>::new(move |_event: Event| {
                for frame in frames.take() {
                    let _ = socket.send_with_str(&frame);
                }
            })
        };
        let on_message = {
            let dispatch = Rc::clone(&dispatch);
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                // Only text frames are ours; anything else is ignored.
                let Some(text) = event.data().as_string().filter(|_| is_current()) else { return };
                match ServerMessage::from_json(&text) {
                    Ok(message) => {
                        // Milliseconds since the epoch fit an f64 exactly; the cast drops the fraction.
                        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                        let at_millis = js_sys::Date::now() as u64;
                        dispatch(Action::ServerMessageReceived { message, at_millis })
                    }
                    Err(error) => dispatch(Action::ServerMessageUnreadable { error }),
                }
            })
        };
        // A failed socket fires `error` then `close` (code 1006): the close is what is reported.
        let on_close = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            if is_current() {
                dispatch(Action::SignalingClosed { close_code: event.unchecked_into::<CloseEvent>().code() });
            }
        });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        let open_socket = OpenSocket { socket, frames_waiting_for_open, on_open, on_message, on_close };
        SignalingSocket { open_socket: Some(open_socket) }
    }

    /// Sends one text frame, or queues it until the socket is open (dropped silently if the
    /// socket is already gone: the close event is on its way and the state reacts to that).
    pub fn send_text(&self, frame: String) {
        let Some(open_socket) = &self.open_socket else { return };
        if open_socket.socket.ready_state() == WebSocket::CONNECTING {
            open_socket.frames_waiting_for_open.borrow_mut().push(frame);
        } else {
            let _ = open_socket.socket.send_with_str(&frame);
        }
    }
}

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        let _ = self.socket.close();
        // The closures are dropped with `self` right after this.
        let _ = (&self.on_open, &self.on_message, &self.on_close);
    }
}
