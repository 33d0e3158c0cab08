//! The call's verification code while the call lasts: the words, and the one sentence saying
//! what to do with them; a warning (role="alert") when the check failed; a hint while the two
//! apps are still exchanging their secrets.

use super::isolated;
use crate::call_state::VerificationOutcome;
use protocol::UserName;
use yew::prelude::*;

/// The code and its sentence, the warning, or the hint, for the call with `peer`.
pub(super) fn verification(peer: &UserName, outcome: Option<VerificationOutcome>) -> Html {
    match &outcome {
        None => html! { <p class="verification hint">{"Working out the verification code…"}</p> },
        Some(VerificationOutcome::Code(code)) => html! {
            <section class="verification" aria-label="Verify this call">
                <p class="verification-line">
                    <span aria-hidden="true">{"Verification code: "}</span>
                    <strong class="verification-code" role="note" aria-label="Verification code">{code.to_string()}</strong>
                </p>
                <p class="hint">
                    {"Read this to "}{isolated(peer)}
                    {"; if it matches on both screens, nobody in between can see or hear the call."}
                </p>
            </section>
        },
        Some(VerificationOutcome::Failed(failure)) => html! {
            <p class="verification verification-warning notice notice-alert" role="alert">{failure.to_string()}</p>
        },
    }
}
