//! **Recent** while idle: the people we called or who called us, newest first, each a "Call
//! NAME" button (as in the online list) with what happened last, when, and their status in
//! words; and **Clear recent calls**.

use super::chat_panel::time_of_day;
use super::{on_click, on_click_with};
use crate::call_state::{Action, AppModel, PresenceStatus, RecentCall};
use crate::text_case::{initial, lowercase};
use yew::prelude::*;

/// "14:05" today, "2026-12-03 14:05" on another day (the browser's time zone).
fn when(at_millis: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let then = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at_millis as f64));
    let today = js_sys::Date::new_0();
    let same_day = then.get_full_year() == today.get_full_year()
        && then.get_month() == today.get_month()
        && then.get_date() == today.get_date();
    if same_day {
        time_of_day(at_millis)
    } else {
        format!(
            "{}-{:02}-{:02} {}",
            then.get_full_year(),
            then.get_month() + 1,
            then.get_date(),
            time_of_day(at_millis)
        )
    }
}

/// The Recent region: `model`'s recent calls, newest first, each with the person's status now.
pub(super) fn recent_list(model: &AppModel, dispatch: &Callback<Action>) -> Html {
    let entries: &[RecentCall] = &model.recent.entries;
    let clear = on_click(dispatch, || Action::ClearRecentCallsClicked);
    html! {
        <section class="recent card" aria-labelledby="recent-heading">
            <h2 id="recent-heading">{"Recent"}</h2>
            if entries.is_empty() {
                <p class="hint">{"People you call or who call you are listed here."}</p>
            } else {
                <ul class="recent-list">
                    { for entries.iter().enumerate().map(|(index, entry)| {
                        let status = model.presence_status(&entry.name);
                        let name = entry.name.to_string();
                        let onclick = on_click_with(dispatch, name.clone(), |typed_name| Action::CallRequested { typed_name });
                        let details = format!("recent-details-{index}");
                        // The status's class, alone and on the dot and the words.
                        let (status_class, dot_class, words_class) = match status {
                            PresenceStatus::Online => ("online", "presence-dot online", "recent-status online"),
                            PresenceStatus::Offline => ("offline", "presence-dot offline", "recent-status offline"),
                            PresenceStatus::Unknown => ("unknown", "presence-dot unknown", "recent-status unknown"),
                        };
                        html! {
                            <li key={lowercase(&name)} class="recent-call" data-recent-user={name.clone()}
                                data-status={status_class} data-event={entry.event.word()}>
                                <button class="person" {onclick} aria-label={["Call ", &name].concat()}
                                        aria-describedby={details.clone()}>
                                    <span class="avatar" aria-hidden="true">
                                        {if name.is_empty() { String::new() } else { initial(&name) }}
                                        <span class={dot_class}></span>
                                    </span>
                                    <span class="person-name"><bdi>{name.clone()}</bdi></span>
                                </button>
                                <span class="recent-details" id={details}>
                                    <span class="recent-event">{format!("{}, {}", entry.event.words(), when(entry.at_millis))}</span>
                                    {" · "}
                                    <span class={words_class}>{status.words()}</span>
                                </span>
                            </li>
                        }
                    }) }
                </ul>
                <button class="link-button" onclick={clear}>{"Clear recent calls"}</button>
            }
        </section>
    }
}
