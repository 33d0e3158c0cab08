//! Browser glue for the keyboard shortcuts: one `keydown` listener on the document while the
//! [`KeyboardShortcuts`] lives; a press that `shortcuts::shortcut_action` maps is dispatched
//! and its browser default (Ctrl+D bookmarks, Ctrl+E searches) prevented.

use crate::shortcuts::{shortcut_action, KeyPress};
use crate::signaling::Dispatch;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Document, KeyboardEvent};

pub struct KeyboardShortcuts {
    document: Option<Document>,
    on_key_down: Closure<dyn FnMut(KeyboardEvent)>,
}

impl KeyboardShortcuts {
    pub fn start(dispatch: Dispatch) -> KeyboardShortcuts {
        let on_key_down = Closure::<dyn FnMut(KeyboardEvent)>::new(move |event: KeyboardEvent| {
            let key = event.key();
            let press = KeyPress {
                key: &key,
                ctrl: event.ctrl_key(),
                meta: event.meta_key(),
                alt: event.alt_key(),
                shift: event.shift_key(),
            };
            if let Some(action) = shortcut_action(press) {
                event.prevent_default();
                dispatch(action);
            }
        });
        let document = web_sys::window().and_then(|window| window.document());
        if let Some(document) = &document {
            let _ = document.add_event_listener_with_callback("keydown", on_key_down.as_ref().unchecked_ref());
        }
        KeyboardShortcuts { document, on_key_down }
    }
}

impl Drop for KeyboardShortcuts {
    fn drop(&mut self) {
        if let Some(document) = &self.document {
            let _ = document.remove_event_listener_with_callback("keydown", self.on_key_down.as_ref().unchecked_ref());
        }
    }
}

impl std::fmt::Debug for KeyboardShortcuts {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("KeyboardShortcuts").finish_non_exhaustive()
    }
}
