//! The online list: pushed by a server whose `hello` announces `presence` (the `users`
//! snapshot after `presence_subscribe`, then `presence` deltas as people sign in and out),
//! polled with `users` every few seconds from one that does not (the fallback).

use super::{same_person, AppModel, Effect, SignalingConnection};
use protocol::{ClientMessage, Hello, UserName, FEATURE_PRESENCE, FEATURE_PRESENCE_QUERY};

/// How a server gives out the list of people online, as its `hello` announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnlineListSource {
    /// No `features` (an older or classic server): `users`, asked again every few seconds.
    Polled,
    /// `presence`: subscribed after every sign-in, then pushed.
    Pushed,
    /// Only `presence_query` (`--presence-list none`): the server lists nobody.
    Hidden,
}

impl AppModel {
    pub(super) fn hello_received(&mut self, hello: Hello) {
        self.online_list = if hello.supports(FEATURE_PRESENCE) {
            OnlineListSource::Pushed
        } else if hello.supports(FEATURE_PRESENCE_QUERY) {
            OnlineListSource::Hidden
        } else {
            OnlineListSource::Polled
        };
        self.ice_servers = hello.ice_servers;
    }

    /// After every successful sign-in (a connection's subscription ends with it): subscribe
    /// (the snapshot replaces the list), or ask once on a server without presence.
    pub(super) fn online_list_wanted(&self, effects: &mut Vec<Effect>) {
        match self.online_list {
            OnlineListSource::Pushed => effects.push(Effect::Send(ClientMessage::PresenceSubscribe)),
            OnlineListSource::Polled => effects.push(Effect::Send(ClientMessage::Users)),
            OnlineListSource::Hidden => {}
        }
    }

    /// Something suggests the list changed (a call ended, a callee was not found): a polled
    /// list is asked for again; a pushed one is already current.
    pub(super) fn online_list_stale(&self, effects: &mut Vec<Effect>) {
        if self.online_list == OnlineListSource::Polled {
            effects.push(Effect::Send(ClientMessage::Users));
        }
    }

    /// The list is polled: the server has no presence, and we are connected and signed in.
    /// The app keeps its refresh timer only while this holds.
    pub fn polls_online_list(&self) -> bool {
        self.online_list == OnlineListSource::Polled
            && self.connection == SignalingConnection::Connected
            && self.signed_in_name().is_some()
    }

    /// A `presence` delta: joins added (once, in order), leaves removed; ourselves never listed.
    /// `online` answers a query (about names we asked for), which says nothing about the rest.
    pub(super) fn presence_received(&mut self, joined: Option<Vec<UserName>>, left: Option<Vec<UserName>>) {
        for gone in left.unwrap_or_default() {
            self.online_users.retain(|online| !same_person(online, &gone));
        }
        for arrived in joined.unwrap_or_default() {
            let known = self.online_users.iter().any(|online| same_person(online, &arrived));
            let ourselves = self.signed_in_name().is_some_and(|me| same_person(me, &arrived));
            if !known && !ourselves {
                let at = self.online_users.partition_point(|online| *online < arrived);
                self.online_users.insert(at, arrived);
            }
        }
    }
}
