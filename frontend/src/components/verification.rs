//! The call's verification code while the call lasts: the words, and the one sentence saying
//! what to do with them; a warning (role="alert") when the check failed; a hint while the two
//! apps are still exchanging their secrets.

use super::isolated;
use crate::call_state::VerificationOutcome;
use protocol::UserName;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub(super) struct VerificationProps {
    pub peer: UserName,
    pub outcome: Option<VerificationOutcome>,
}

#[function_component(Verification)]
pub(super) fn verification(props: &VerificationProps) -> Html {
    match &props.outcome {
        None => html! { <p class="verification hint">{"Working out the verification code…"}</p> },
        Some(VerificationOutcome::Code(code)) => html! {
            <section class="verification" aria-label="Verify this call">
                <p class="verification-line">
                    <span aria-hidden="true">{"Verification code: "}</span>
                    <strong class="verification-code" role="note" aria-label="Verification code">{code.to_string()}</strong>
                </p>
                <p class="hint">
                    {"Read this to "}{isolated(&props.peer)}
                    {"; if it matches on both screens, nobody in between can see or hear the call."}
                </p>
            </section>
        },
        Some(VerificationOutcome::Failed(failure)) => html! {
            <p class="verification verification-warning notice notice-alert" role="alert">{failure.to_string()}</p>
        },
    }
}
