//! Browser glue for the page going away (closed, reloaded, navigated): one `pagehide` listener
//! on the window while the [`PageExitWatcher`] lives, dispatching [`Action::PageClosing`]. The
//! call's peer connection dies with the page, so the reducer tells the peer at once on the data
//! channel (a synchronous send, which still goes out while the page unloads); the server, which
//! holds calls through lost connections, would otherwise keep the peer waiting.

use crate::call_state::Action;
use crate::signaling::Dispatch;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Event, Window};

pub struct PageExitWatcher {
    window: Option<Window>,
    on_page_hide: Closure<dyn FnMut(Event)>,
}

impl PageExitWatcher {
    pub fn start(dispatch: Dispatch) -> PageExitWatcher {
        let on_page_hide = Closure::<dyn FnMut(Event)>::new(move |_event: Event| dispatch(Action::PageClosing));
        let window = web_sys::window();
        if let Some(window) = &window {
            let _ = window.add_event_listener_with_callback("pagehide", on_page_hide.as_ref().unchecked_ref());
        }
        PageExitWatcher { window, on_page_hide }
    }
}

impl Drop for PageExitWatcher {
    fn drop(&mut self) {
        if let Some(window) = &self.window {
            let _ = window.remove_event_listener_with_callback("pagehide", self.on_page_hide.as_ref().unchecked_ref());
        }
    }
}

impl std::fmt::Debug for PageExitWatcher {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("PageExitWatcher").finish_non_exhaustive()
    }
}
