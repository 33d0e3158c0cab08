//! The chat panel: the conversation in a `role="log"` named **Chat messages** (each message with
//! its sender and time; links as `<a rel="noopener noreferrer">`, everything else as text, never
//! HTML from the peer), and a form with the input **Message** and **Send** (Enter sends).

use super::input_by_id;
use crate::call_state::{Action, Chat, ChatMessage};
use crate::peer_message::{chat_pieces, ChatPiece, MAX_CHAT_CHARS};
use wasm_bindgen::JsValue;
use yew::prelude::*;

/// "HH:MM" in the browser's time zone.
pub(super) fn time_of_day(at_millis: u64) -> String {
    // Milliseconds since the epoch are exact in an f64 for the next 280,000 years.
    #[allow(clippy::cast_precision_loss)]
    let date = js_sys::Date::new(&JsValue::from_f64(at_millis as f64));
    format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
}

fn message_view(message: &ChatMessage) -> Html {
    html! {
        <li class={if message.ours { "chat-message ours" } else { "chat-message" }}>
            <p class="chat-meta">
                <span class="chat-sender">{if message.ours { "You".to_owned() } else { message.sender.to_string() }}</span>
                {" "}
                <time class="chat-time">{time_of_day(message.at_millis)}</time>
            </p>
            <p class="chat-text">
                { for chat_pieces(&message.text).into_iter().map(|piece| match piece {
                    ChatPiece::Text(text) => html! { {text} },
                    ChatPiece::Link(url) => html! {
                        <a href={url.clone()} target="_blank" rel="noopener noreferrer">{url}</a>
                    },
                }) }
            </p>
        </li>
    }
}

/// The chat panel of the call's `chat`.
pub(super) fn chat_panel(chat: &Chat, dispatch: &Callback<Action>) -> Html {
    let onsubmit = {
        let dispatch = dispatch.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let Some(field) = input_by_id("chat-message") else { return };
            // Milliseconds since the epoch fit an f64 exactly; the cast only drops the fraction.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let at_millis = js_sys::Date::now() as u64;
            dispatch.emit(Action::ChatMessageSubmitted { typed: field.value(), at_millis });
            field.set_value("");
        })
    };
    html! {
        <section id="chat-panel" class="chat-panel card" aria-label="Chat">
            <ol class="chat-log" role="log" aria-label="Chat messages">
                { for chat.messages.iter().map(message_view) }
            </ol>
            <form class="chat-form" {onsubmit}>
                <label for="chat-message">{"Message"}</label>
                <div class="input-row">
                    <input id="chat-message" type="text" autocomplete="off"
                           maxlength={MAX_CHAT_CHARS.to_string()} />
                    <button type="submit" class="primary">{"Send"}</button>
                </div>
            </form>
        </section>
    }
}
