//! The **Recent** list: the people we called or who called us, newest first, one entry per
//! person (the same person in any case of letters), at most [`MAX_RECENT_CALLS`], each with what
//! happened last and when, and the person's status. Kept in localStorage per signed-in name:
//! the reducer asks for the signed-in person's list ([`Effect::LoadRecentCalls`]) at every
//! sign-in and takes it in with [`Action::RecentCallsRestored`](super::Action::RecentCallsRestored);
//! the glue stores [`AppModel::recent_calls_to_store`] whenever it changes.
//!
//! Entries follow the call phase: [`AppModel::apply`] sketches the phase before and after every
//! action ([`CallSketch`]) and [`AppModel::follow_call_for_recent`] records the change, with the
//! glue's clock (`clock_millis`). Status comes from the pushed or polled online list, or, from a
//! server that lists nobody (`--presence-list none`), from `presence_query` about exactly the
//! Recent names: after sign-in, whenever the list gains a name, and every
//! [`RECENT_PRESENCE_QUERY_MILLIS`] while [`AppModel::queries_recent_presence`] holds (the
//! glue's timer follows it).

use super::{same_person, AppModel, CallPhase, Effect, OnlineListSource, SignalingConnection};
use crate::text_case::lowercase;
use protocol::{ClientMessage, UserName};
use std::collections::VecDeque;
use storage::StoredRecentCall;

mod storage;

/// How many people the Recent list keeps (the least recent go first).
pub const MAX_RECENT_CALLS: usize = 20;

/// How often the Recent names' presence is asked for from a server that lists nobody.
pub const RECENT_PRESENCE_QUERY_MILLIS: u32 = 30_000;

/// A `users` list (the snapshot or a polled reply) holds at most this many names (PROTOCOL.md):
/// one that long may leave out people who are online.
const USERS_LISTED_AT_MOST: usize = 200;

/// What happened last with a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecentEvent {
    /// We called (ringing, or answered).
    Outgoing,
    /// We called and it ended before they answered (declined, busy, no answer, cancelled).
    Unanswered,
    /// They called and we answered (or it still rings).
    Incoming,
    /// They called and it stopped ringing unanswered (or Do not disturb refused it).
    Missed,
    /// They called and we declined.
    Declined,
}

impl RecentEvent {
    /// The words shown.
    pub fn words(self) -> &'static str {
        match self {
            RecentEvent::Outgoing => "Outgoing call",
            RecentEvent::Unanswered => "Outgoing call, not answered",
            RecentEvent::Incoming => "Incoming call",
            RecentEvent::Missed => "Missed call",
            RecentEvent::Declined => "Declined",
        }
    }

    const STORED: [(RecentEvent, &'static str); 5] = [
        (RecentEvent::Outgoing, "outgoing"),
        (RecentEvent::Unanswered, "unanswered"),
        (RecentEvent::Incoming, "incoming"),
        (RecentEvent::Missed, "missed"),
        (RecentEvent::Declined, "declined"),
    ];

    /// One lower-case word: in storage, and as `data-event` for styling.
    pub fn word(self) -> &'static str {
        Self::STORED.iter().find(|(event, _)| *event == self).map_or("outgoing", |(_, word)| word)
    }

    fn from_stored(word: &str) -> Option<RecentEvent> {
        Self::STORED.iter().find(|(_, stored)| *stored == word).map(|(event, _)| *event)
    }
}

/// A person's status as far as the app knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresenceStatus {
    Unknown,
    Online,
    Offline,
}

impl PresenceStatus {
    pub fn words(self) -> &'static str {
        match self {
            PresenceStatus::Unknown => "Unknown",
            PresenceStatus::Online => "Online",
            PresenceStatus::Offline => "Offline",
        }
    }
}

/// One person in the Recent list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentCall {
    /// As last seen (the server's spelling once it named them).
    pub name: UserName,
    pub event: RecentEvent,
    /// When it happened (the browser's clock, milliseconds since the Unix epoch).
    pub at_millis: u64,
}

/// The Recent list and what the app knows of each person's presence.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecentCalls {
    /// Newest first, one per person.
    pub entries: Vec<RecentCall>,
    /// The localStorage key of the signed-in person whose list this is.
    pub(super) storage_key: Option<String>,
    /// From a server that lists nobody, or past a cut-off snapshot: the answers to our
    /// queries, per name (kept current by `joined` and `left` when pushed).
    pub(super) answered: Vec<(UserName, bool)>,
    /// The names of each query sent and not answered yet, oldest first.
    pub(super) queries_in_flight: VecDeque<Vec<UserName>>,
    /// The pushed snapshot or polled list arrived since the last sign-in.
    pub(super) online_list_known: bool,
    /// That list was cut off at [`USERS_LISTED_AT_MOST`]: a name missing from it is not known
    /// to be offline.
    pub(super) online_list_cut_off: bool,
}

impl RecentCalls {
    /// The localStorage key of `owner`'s list: one per person (case-insensitive, as names are),
    /// so two people sharing a browser do not see each other's list.
    pub fn storage_key(owner: &UserName) -> String {
        format!("duet.recent.{}", lowercase(owner.as_str()))
    }

    /// The list as stored (empty text for an empty list: the glue removes the key).
    pub fn to_storage(&self) -> String {
        if self.entries.is_empty() {
            return String::new();
        }
        let stored: Vec<StoredRecentCall> = self
            .entries
            .iter()
            .map(|entry| StoredRecentCall {
                name: entry.name.to_string(),
                event: entry.event.word().to_owned(),
                at: entry.at_millis,
            })
            .collect();
        let mut text = String::from("[");
        for (index, entry) in stored.iter().enumerate() {
            if index > 0 {
                text.push(',');
            }
            entry.write(&mut text);
        }
        text.push(']');
        text
    }

    /// A stored list, newest first; unreadable text or entries (another version, edited by
    /// hand) are left out, and so are repeated people and those past the cap.
    pub fn from_storage(text: &str) -> Vec<RecentCall> {
        let stored = StoredRecentCall::read_list(text);
        let mut entries: Vec<RecentCall> = Vec::new();
        for item in stored {
            let (Ok(name), Some(event)) = (UserName::parse_login(&item.name), RecentEvent::from_stored(&item.event))
            else {
                continue;
            };
            if entries.len() < MAX_RECENT_CALLS && !entries.iter().any(|entry| same_person(&entry.name, &name)) {
                entries.push(RecentCall { name, event, at_millis: item.at });
            }
        }
        entries
    }

    fn position(&self, name: &UserName) -> Option<usize> {
        self.entries.iter().position(|entry| same_person(&entry.name, name))
    }
}

/// The call phase as the Recent list sees it: who, and in which stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum CallSketch {
    Idle,
    Calling(UserName),
    Ringing(UserName),
    Talking(UserName),
}

impl CallSketch {
    pub(super) fn of(call: &CallPhase) -> CallSketch {
        match call {
            CallPhase::Idle => CallSketch::Idle,
            CallPhase::Calling { peer, .. } => CallSketch::Calling(peer.clone()),
            CallPhase::Ringing { peer, .. } => CallSketch::Ringing(peer.clone()),
            CallPhase::Connecting { peer, .. } | CallPhase::InCall { peer, .. } => CallSketch::Talking(peer.clone()),
        }
    }
}

impl AppModel {
    /// The change of call phase one action made, in the Recent list. `declined`: the action
    /// was **Decline**.
    pub(super) fn follow_call_for_recent(&mut self, before: CallSketch, declined: bool, effects: &mut Vec<Effect>) {
        let after = CallSketch::of(&self.call);
        if after == before {
            return;
        }
        let at_millis = self.clock_millis;
        match (before, after) {
            (CallSketch::Calling(earlier), CallSketch::Calling(peer)) if same_person(&earlier, &peer) => {}
            (CallSketch::Ringing(earlier), CallSketch::Ringing(peer)) if same_person(&earlier, &peer) => {}
            (_, CallSketch::Calling(peer)) => self.record_recent(peer, RecentEvent::Outgoing, at_millis, effects),
            (_, CallSketch::Ringing(peer)) => self.record_recent(peer, RecentEvent::Incoming, at_millis, effects),
            // Answered: the server's spelling of their name from now on.
            (CallSketch::Calling(_), CallSketch::Talking(peer)) => self.settle_recent(peer, None),
            (CallSketch::Calling(peer), CallSketch::Idle) => self.settle_recent(peer, Some(RecentEvent::Unanswered)),
            (CallSketch::Ringing(peer), CallSketch::Idle) => {
                let event = if declined { RecentEvent::Declined } else { RecentEvent::Missed };
                self.settle_recent(peer, Some(event));
            }
            _ => {}
        }
    }

    /// `name` goes to the top of the list with `event` at `at_millis` (once per person).
    pub(super) fn record_recent(
        &mut self,
        name: UserName,
        event: RecentEvent,
        at_millis: u64,
        effects: &mut Vec<Effect>,
    ) {
        let known = self.recent.position(&name).map(|index| self.recent.entries.remove(index)).is_some();
        self.recent.entries.insert(0, RecentCall { name, event, at_millis });
        self.recent.entries.truncate(MAX_RECENT_CALLS);
        if !known {
            self.query_recent_presence(effects);
        }
    }

    /// The entry of `name` (if listed) takes this spelling and, when given, `event`; it keeps
    /// its place and time.
    fn settle_recent(&mut self, name: UserName, event: Option<RecentEvent>) {
        let Some(index) = self.recent.position(&name) else { return };
        let entry = &mut self.recent.entries[index];
        entry.event = event.unwrap_or(entry.event);
        entry.name = name;
    }

    /// What the glue keeps in localStorage: the signed-in person's key and the list's text
    /// (empty: remove the key). The glue writes it whenever it changes, after any action (so a
    /// call's every step does not add an effect to the reducer's answer).
    pub fn recent_calls_to_store(&self) -> Option<(&str, String)> {
        Some((self.recent.storage_key.as_deref()?, self.recent.to_storage()))
    }

    /// Signed in (first time or again): the list of this person is read (unless already held),
    /// and what we knew of presence is forgotten until the server tells again.
    pub(super) fn recent_signed_in(&mut self, effects: &mut Vec<Effect>) {
        let Some(name) = self.signed_in_name() else { return };
        let storage_key = RecentCalls::storage_key(name);
        self.recent.online_list_known = false;
        self.recent.online_list_cut_off = false;
        self.recent.answered.clear();
        self.recent.queries_in_flight.clear();
        if self.recent.storage_key.as_ref() == Some(&storage_key) {
            self.query_recent_presence(effects);
        } else {
            self.recent.entries.clear();
            self.recent.storage_key = Some(storage_key.clone());
            effects.push(Effect::LoadRecentCalls { storage_key });
        }
    }

    /// The list read from localStorage (for `storage_key`; a list read for someone else, who
    /// has since signed out, is ignored), merged after anything recorded meanwhile.
    pub(super) fn recent_calls_restored(&mut self, storage_key: &str, text: Option<&str>, effects: &mut Vec<Effect>) {
        if self.recent.storage_key.as_deref() != Some(storage_key) {
            return;
        }
        for entry in RecentCalls::from_storage(text.unwrap_or_default()) {
            if self.recent.entries.len() < MAX_RECENT_CALLS && self.recent.position(&entry.name).is_none() {
                self.recent.entries.push(entry);
            }
        }
        self.query_recent_presence(effects);
    }

    /// **Clear recent calls**.
    pub(super) fn clear_recent_calls_clicked(&mut self) {
        self.recent.entries.clear();
        self.recent.answered.clear();
    }

    /// Asks which Recent names are online, where the online list cannot tell: a server that
    /// lists nobody, or a pushed snapshot cut off at 200 names (a crowded server).
    pub(super) fn query_recent_presence(&mut self, effects: &mut Vec<Effect>) {
        let cut_off_snapshot = self.online_list == OnlineListSource::Pushed && self.recent.online_list_cut_off;
        if !(self.queries_recent_presence() || (cut_off_snapshot && self.may_ask_about_recent_names())) {
            return;
        }
        let names: Vec<UserName> = self.recent.entries.iter().map(|entry| entry.name.clone()).collect();
        self.recent.queries_in_flight.push_back(names.clone());
        effects.push(Effect::Send(ClientMessage::PresenceQuery { names }));
    }

    /// The server lists nobody, we are connected and signed in, and someone is in the Recent
    /// list: their presence is asked for every [`RECENT_PRESENCE_QUERY_MILLIS`] (the glue keeps
    /// its timer only while this holds).
    pub fn queries_recent_presence(&self) -> bool {
        self.online_list == OnlineListSource::Hidden && self.may_ask_about_recent_names()
    }

    fn may_ask_about_recent_names(&self) -> bool {
        self.connection == SignalingConnection::Connected
            && self.signed_in_name().is_some()
            && !self.recent.entries.is_empty()
    }

    /// A `presence` reply with `online`: of the names that query asked about, these are
    /// online and the others not.
    pub(super) fn presence_query_answered(&mut self, online: &[UserName]) {
        let asked = self.recent.queries_in_flight.pop_front().unwrap_or_else(|| online.to_vec());
        for name in asked {
            let is_online = online.iter().any(|online| same_person(online, &name));
            self.recent.answered.retain(|(known, _)| !same_person(known, &name));
            self.recent.answered.push((name, is_online));
        }
    }

    /// The pushed snapshot or the polled list arrived: a name missing from it is offline, unless
    /// it was cut off (then a pushed one's Recent names are asked about).
    pub(super) fn online_list_arrived(&mut self, effects: &mut Vec<Effect>) {
        let first = !self.recent.online_list_known;
        self.recent.online_list_known = true;
        self.recent.online_list_cut_off = self.online_users.len() >= USERS_LISTED_AT_MOST;
        if first && self.recent.online_list_cut_off {
            self.query_recent_presence(effects);
        }
    }

    /// A pushed `joined` or `left` is the latest word on a Recent name (also past a cut-off
    /// snapshot, where the list alone cannot tell).
    pub(super) fn recent_presence_changed(&mut self, joined: Option<&[UserName]>, left: Option<&[UserName]>) {
        let changes = joined.unwrap_or_default().iter().map(|name| (name, true));
        for (name, online) in changes.chain(left.unwrap_or_default().iter().map(|name| (name, false))) {
            if self.recent.position(name).is_none() {
                continue;
            }
            self.recent.answered.retain(|(known, _)| !same_person(known, name));
            self.recent.answered.push((name.clone(), online));
        }
    }

    /// `name`'s status: from the online list (pushed or polled) or, from a server that lists
    /// nobody, from our queries; unknown while signed out or disconnected and until then.
    pub fn presence_status(&self, name: &UserName) -> PresenceStatus {
        if self.connection != SignalingConnection::Connected || self.signed_in_name().is_none() {
            return PresenceStatus::Unknown;
        }
        let answered =
            || self.recent.answered.iter().find(|(known, _)| same_person(known, name)).map(|(_, online)| *online);
        let online = match self.online_list {
            OnlineListSource::Pushed | OnlineListSource::Polled if self.recent.online_list_known => {
                if self.online_users.iter().any(|online| same_person(online, name)) {
                    Some(true)
                } else if self.recent.online_list_cut_off {
                    answered()
                } else {
                    Some(false)
                }
            }
            OnlineListSource::Pushed | OnlineListSource::Polled => None,
            OnlineListSource::Hidden => answered(),
        };
        match online {
            None => PresenceStatus::Unknown,
            Some(true) => PresenceStatus::Online,
            Some(false) => PresenceStatus::Offline,
        }
    }
}
