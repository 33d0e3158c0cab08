//! The [`Controller`]'s glue for the **Recent** list: the list read from localStorage at
//! sign-in and written whenever it changes (the reducer chooses the key and the text), and the
//! timer that asks a server that lists nobody about the Recent names every 30 s, kept only
//! while [`AppModel::queries_recent_presence`] holds (it follows the model after every
//! dispatch, so it is dropped as soon as it is not wanted).

use super::Controller;
use crate::call_state::{Action, AppModel, RECENT_PRESENCE_QUERY_MILLIS};
use gloo_timers::callback::Interval;

/// The timers of this file.
#[derive(Default)]
pub(super) struct RecentTimers {
    recent_presence: Option<Interval>,
    /// The key and text last written to localStorage.
    stored: Option<(String, String)>,
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The browser's clock, milliseconds since the Unix epoch.
pub(super) fn now_millis() -> u64 {
    // Milliseconds since the epoch are exact in an f64 and positive.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let now = js_sys::Date::now() as u64;
    now
}

impl Controller {
    /// [`Effect::LoadRecentCalls`](crate::call_state::Effect::LoadRecentCalls).
    pub(super) fn load_recent_calls(&self, storage_key: String) {
        let text = local_storage().and_then(|storage| storage.get_item(&storage_key).ok().flatten());
        self.dispatch(Action::RecentCallsRestored { storage_key, text });
    }

    /// Writes the Recent list to localStorage when it changed since the last write.
    fn store_recent_calls(timers: &mut RecentTimers, model: &AppModel) {
        let Some((storage_key, text)) = model.recent_calls_to_store() else { return };
        let wanted = (storage_key.to_owned(), text);
        if timers.stored.as_ref() == Some(&wanted) {
            return;
        }
        if let Some(storage) = local_storage() {
            // Storage full or disabled: the list holds for this visit only.
            let _ = if wanted.1.is_empty() {
                storage.remove_item(&wanted.0)
            } else {
                storage.set_item(&wanted.0, &wanted.1)
            };
        }
        timers.stored = Some(wanted);
    }

    /// Stores the list when it changed, and keeps (or drops) the Recent presence timer as the
    /// model wants it.
    pub(super) fn follow_recent_timers(&self) {
        let model: std::cell::Ref<'_, AppModel> = self.model.borrow();
        let mut timers = self.recent_timers.borrow_mut();
        Self::store_recent_calls(&mut timers, &model);
        if !model.queries_recent_presence() {
            timers.recent_presence = None;
        } else if timers.recent_presence.is_none() {
            let dispatch = self.dispatcher();
            timers.recent_presence =
                Some(Interval::new(RECENT_PRESENCE_QUERY_MILLIS, move || dispatch(Action::RecentPresenceQueryDue)));
        }
    }
}
