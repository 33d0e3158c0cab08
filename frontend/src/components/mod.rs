//! The views: they render a [`ViewSnapshot`] and dispatch [`Action`]s, nothing else (the only
//! browser calls here attach a stream to a `<video>`, read form inputs and the clock for a chat
//! message's time and for whether a Recent call was today). Plain functions returning [`Html`],
//! not components: each component type costs the wasm Yew's component machinery (its scope,
//! lifecycle and props comparison; BENCHMARKS.md, "Web app size"), and these have no state of
//! their own. The one component is [`video::StreamVideo`], whose effects attach the stream.
//!
//! Layout: the page, the connection banner and sign-in here; the call screen (videos, the
//! remote person's state, call controls, people online) in `call_screen`; the media buttons
//! (Mute, camera, Share screen, Settings, Chat) in `media_bar`; the chat panel in `chat_panel`;
//! the Settings panel in `settings_panel`; the Recent list in `recent_list`; the
//! `<video>` that shows a stream in `video`.
//!
//! Stable hooks for tests and styling: `data-call-phase`, `data-peer-state`, `data-signaling`
//! and `data-peer-channel` (the call's data channel `open` or `closed`), `data-offer-collisions` and
//! `data-ice-restarts` (the current call's, see `call_state/recovery.rs`), `data-negotiation-role`
//! (`polite`, `impolite` or `none`) on the root element; `data-selected-candidate-type` and
//! `data-selected-remote-candidate-type` (the candidate types of the pair ICE selected, while
//! the call's peer connection lives) on the remote video; accessible names on every control
//! and video.

use crate::app::ViewSnapshot;
use crate::call_state::{Action, NegotiationRole, PeerConnectionState, SignIn, SignalingConnection};
use call_screen::call_screen;
use protocol::UserName;
use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;
use yew::prelude::*;

mod call_screen;
mod chat_panel;
mod media_bar;
mod missed_calls;
mod recent_list;
mod settings_panel;
mod stats_panel;
mod verification;
mod video;

/// The whole page.
pub fn app_view(snapshot: &ViewSnapshot, dispatch: &Callback<Action>) -> Html {
    let model = &snapshot.model;
    let peer_state = model.peer_connection_state.map_or("none", PeerConnectionState::as_str);
    html! {
        <div class="app" data-call-phase={model.call.word()} data-peer-state={peer_state}
             data-signaling={model.connection.word()}
             data-peer-channel={if model.data_channel_open { "open" } else { "closed" }}
             data-offer-collisions={model.recovery.offer_collisions.to_string()}
             data-ice-restarts={model.recovery.total_restarts.to_string()}
             data-negotiation-role={model.call.negotiation_role().map_or("none", NegotiationRole::word)}>
            <header class="top-bar">
                <h1 class="brand">{"Duet"}</h1>
                if let Some(name) = model.sign_in.shown_name() {
                    <p class="signed-in-as">{"Signed in as "}<strong>{isolated(name)}</strong></p>
                    {missed_calls::do_not_disturb_toggle(model.do_not_disturb, dispatch)}
                }
            </header>
            if let Err(problem) = &snapshot.signaling_url {
                <p class="banner banner-alert" role="alert">{format!("Cannot connect: {problem}")}</p>
            }
            {connection_banner(&model.connection, model.server_reconnecting_notice())}
            // Both screens are a `<main>`: keyed apart, one never reuses the other's elements
            // (a typed name would stay in a reused input).
            if model.shows_call_screen() {
                {call_screen(snapshot, dispatch)}
            } else {
                {sign_in_screen(&model.sign_in, dispatch)}
            }
        </div>
    }
}

/// The page's `<input>` with the id `id` (each form's input has an id of its own).
pub(crate) fn input_by_id(id: &str) -> Option<HtmlInputElement> {
    web_sys::window()?.document()?.get_element_by_id(id)?.dyn_into().ok()
}

/// A form's submit handler: instead of submitting, dispatches `action` with what is typed in
/// the input with the id `input_id`.
pub(crate) fn submit_typed_name(
    input_id: &'static str,
    dispatch: &Callback<Action>,
    action: fn(String) -> Action,
) -> Callback<SubmitEvent> {
    let dispatch = dispatch.clone();
    Callback::from(move |event: SubmitEvent| {
        event.prevent_default();
        let typed_name = input_by_id(input_id).map(|input| input.value()).unwrap_or_default();
        dispatch.emit(action(typed_name));
    })
}

/// The server connection's state; `call_kept`: a call goes on without the server, a small
/// notice instead of the alert.
fn connection_banner(connection: &SignalingConnection, call_kept: Option<&'static str>) -> Html {
    if let Some(words) = call_kept {
        return html! { <p class="banner banner-info server-reconnecting" role="status">{words}</p> };
    }
    match connection {
        SignalingConnection::Connected | SignalingConnection::Dormant => html! {},
        SignalingConnection::Connecting => html! {
            <p class="banner banner-info" role="status">{"Connecting to the server…"}</p>
        },
        SignalingConnection::Reconnecting { attempt, retry_in_millis } => html! {
            <p class="banner banner-alert connection-lost" role="alert">
                {SignalingConnection::reconnecting_words(*attempt, *retry_in_millis)}
            </p>
        },
        SignalingConnection::ReplacedByAnotherLogin => html! {
            <p class="banner banner-alert" role="alert">{"This tab is offline: your name is in use in another tab or device."}</p>
        },
    }
}

/// "Your name" and "Sign in"; the reason a name was refused, in words.
fn sign_in_screen(sign_in: &SignIn, dispatch: &Callback<Action>) -> Html {
    let onsubmit = submit_typed_name("sign-in-name", dispatch, |typed_name| Action::SignInRequested { typed_name });
    let (pending, error) = match sign_in {
        SignIn::SignedOut { pending_name, error } => (pending_name.clone(), error.clone()),
        _ => (None, None),
    };
    html! {
        <main key="sign-in" class="sign-in">
            <form class="card sign-in-card" {onsubmit}>
                <h2>{"Sign in to call someone"}</h2>
                <p class="hint">{"Pick a name others can call you by. No account needed."}</p>
                <label for="sign-in-name">{"Your name"}</label>
                <input id="sign-in-name" type="text" autocomplete="nickname" maxlength="64"
                       aria-describedby="sign-in-error" aria-invalid={true_or_false(error.is_some())} />
                <button type="submit" class="primary">{"Sign in"}</button>
                <p id="sign-in-error" class="form-error" role="alert">{error.unwrap_or_default()}</p>
                if let Some(name) = pending {
                    <p class="hint" role="status">{"Signing in as "}{isolated(&name)}{"…"}</p>
                }
            </form>
        </main>
    }
}

/// A click handler that dispatches the action `make` builds. The buttons share few closure types
/// (each is code of its own in the wasm), and no `Action` is cloned per click: `Action`'s `Clone`
/// (3 KB of wasm) is not needed in the browser.
pub(crate) fn on_click(dispatch: &Callback<Action>, make: fn() -> Action) -> Callback<MouseEvent> {
    on_click_with(dispatch, make, |make| make())
}

/// A click handler that dispatches `make(value)`, with a copy of `value` (a name, an index) per click.
pub(crate) fn on_click_with<Value: Clone + 'static>(
    dispatch: &Callback<Action>,
    value: Value,
    make: fn(Value) -> Action,
) -> Callback<MouseEvent> {
    let dispatch = dispatch.clone();
    Callback::from(move |_: MouseEvent| dispatch.emit(make(value.clone())))
}

/// "true" or "false", for `aria-pressed`, `aria-expanded` and `aria-invalid`: a static string,
/// no formatting.
pub(crate) fn true_or_false(value: bool) -> &'static str {
    if value {
        "true"
    } else {
        "false"
    }
}

/// A person's name as its own bidirectional island (`<bdi>`): a right-to-left name cannot
/// reorder the words around it (the server already refuses names with bidi control characters).
pub(crate) fn isolated(name: &UserName) -> Html {
    html! { <bdi>{name.to_string()}</bdi> }
}
