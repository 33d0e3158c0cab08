//! Do not disturb and missed calls. **Do not disturb** (remembered in localStorage, so it
//! survives reconnects and reloads): an incoming call is refused at once with `leave` reason
//! `busy` (the protocol has no reason that says "do not disturb", so the caller reads that the
//! person is busy) and listed as missed. A call that rang out or was cancelled while it rang is
//! listed as missed too, "Missed call from NAME, HH:MM", with **Call back**; the page title
//! counts the missed calls until they are handled (**Call back** or **Clear**).

use super::{AppModel, CallPhase, Effect, RecentEvent};
use protocol::{ClientMessage, LeaveReason, UserName};

/// How many missed calls are kept (the oldest go first).
pub const MAX_MISSED_CALLS: usize = 20;

/// A call that rang here without being answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissedCall {
    pub from: UserName,
    /// When it stopped ringing (the browser's clock, milliseconds since the Unix epoch).
    pub at_millis: u64,
}

impl AppModel {
    pub(super) fn do_not_disturb_clicked(&mut self, effects: &mut Vec<Effect>) {
        self.do_not_disturb = !self.do_not_disturb;
        effects.push(Effect::SaveDoNotDisturb { on: self.do_not_disturb });
    }

    /// An offer while idle with do not disturb on: refused as busy, listed as missed.
    /// Returns false when the call may ring.
    pub(super) fn refused_as_do_not_disturb(
        &mut self,
        caller: &UserName,
        at_millis: u64,
        effects: &mut Vec<Effect>,
    ) -> bool {
        if !self.do_not_disturb {
            return false;
        }
        effects.push(Effect::Send(ClientMessage::Leave {
            name: Some(caller.clone()),
            reason: Some(LeaveReason::DoNotDisturb),
        }));
        self.missed_call(caller.clone(), at_millis, effects);
        true
    }

    pub(super) fn missed_call(&mut self, from: UserName, at_millis: u64, effects: &mut Vec<Effect>) {
        self.record_recent(from.clone(), RecentEvent::Missed, at_millis, effects);
        self.missed_calls.push(MissedCall { from, at_millis });
        if self.missed_calls.len() > MAX_MISSED_CALLS {
            self.missed_calls.remove(0);
        }
    }

    /// **Call back** on the missed call at `index`: it is handled, and we call.
    pub(super) fn call_back_clicked(&mut self, index: usize, effects: &mut Vec<Effect>) {
        if self.call != CallPhase::Idle || index >= self.missed_calls.len() {
            return;
        }
        let missed = self.missed_calls.remove(index);
        self.call_requested(&missed.from.to_string(), effects);
    }

    pub(super) fn clear_missed_calls_clicked(&mut self) {
        self.missed_calls.clear();
    }

    /// The page title: the call's, after the number of missed calls still listed.
    pub fn page_title(&self) -> String {
        let title = self.call.page_title();
        match self.missed_calls.len() {
            0 => title,
            count => format!("({count}) {title}"),
        }
    }
}
