//! The missed calls while idle: "Missed call from NAME, HH:MM" each with **Call back**, and
//! **Clear**; and the **Do not disturb** toggle (`aria-pressed`) shown in the top bar.

use super::chat_panel::time_of_day;
use super::{isolated, on_click, on_click_with, true_or_false};
use crate::call_state::{Action, MissedCall};
use yew::prelude::*;

/// The missed calls, newest first, or nothing when there are none.
pub(super) fn missed_calls(missed: &[MissedCall], dispatch: &Callback<Action>) -> Html {
    if missed.is_empty() {
        return html! {};
    }
    let on = |make: fn() -> Action| on_click(dispatch, make);
    html! {
        <section class="missed-calls card" aria-labelledby="missed-calls-heading">
            <h2 id="missed-calls-heading">{"Missed calls"}</h2>
            <ul class="missed-list">
                // Newest first.
                { for missed.iter().enumerate().rev().map(|(index, missed)| html! {
                    <li class="missed-call">
                        <span class="missed-text">
                            {"Missed call from "}{isolated(&missed.from)}{", "}{time_of_day(missed.at_millis)}
                        </span>
                        <button onclick={on_click_with(dispatch, index, |index| Action::CallBackClicked { index })}>{"Call back"}</button>
                    </li>
                }) }
            </ul>
            <button class="link-button" onclick={on(|| Action::ClearMissedCallsClicked)}>{"Clear"}</button>
        </section>
    }
}

/// **Do not disturb**, pressed while on.
pub(super) fn do_not_disturb_toggle(on: bool, dispatch: &Callback<Action>) -> Html {
    let onclick = on_click(dispatch, || Action::DoNotDisturbClicked);
    html! {
        <button class={if on { "do-not-disturb is-on" } else { "do-not-disturb" }} aria-pressed={true_or_false(on)}
                title={if on { "Calls are refused as busy and listed as missed" } else { "Calls ring" }} {onclick}>
            {"Do not disturb"}
        </button>
    }
}
