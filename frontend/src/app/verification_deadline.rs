//! The [`Controller`]'s one timer for the verification code's deadline: while the peer's
//! reveal is awaited on an open data channel ([`AppModel::verification_deadline`]), a timeout
//! dispatches [`Action::VerificationDeadlinePassed`] a little after the deadline, and the
//! reducer turns the silence into a warning. It follows the model after every dispatch, so it is
//! dropped as soon as the code (or another warning) is in, or the call ends.

use super::recent_effects::now_millis;
use super::Controller;
use crate::call_state::{Action, AppModel, CallAttempt};
use gloo_timers::callback::Timeout;

/// The timer, with the call and deadline it was set for.
pub(super) type VerificationDeadlineTimer = Option<(CallAttempt, u64, Timeout)>;

impl Controller {
    /// Keeps (or drops) the verification deadline's timer as the model wants it.
    pub(super) fn follow_verification_deadline(&self) {
        let model: std::cell::Ref<'_, AppModel> = self.model.borrow();
        let mut timer = self.verification_deadline_timer.borrow_mut();
        let Some((call_attempt, deadline)) = model.verification_deadline() else {
            *timer = None;
            return;
        };
        if timer.as_ref().is_some_and(|(attempt, at, _)| *attempt == call_attempt && *at == deadline) {
            return;
        }
        let dispatch = self.dispatcher();
        // A little after the deadline, so the clock read then is past it.
        let delay = u32::try_from(deadline.saturating_sub(now_millis()) + 50).unwrap_or(u32::MAX);
        let timeout = Timeout::new(delay, move || dispatch(Action::VerificationDeadlinePassed { call_attempt }));
        *timer = Some((call_attempt, deadline, timeout));
    }
}
