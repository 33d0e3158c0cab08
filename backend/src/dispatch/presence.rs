//! Who is online: the `users` list, the presence subscription (snapshot, then deltas pushed by
//! [`crate::presence::PresenceHub`]) and `presence_query`, within `--presence-list`. In cluster
//! mode the snapshot is read from Redis (after taking the hub's change number) and every change
//! is also published to the other nodes.

use super::{RequestError, Session, MAX_USERS_LISTED};
use crate::config::PresenceList;
use crate::directory::Identity;
use crate::presence::Change;
use crate::AppState;
use protocol::{ServerMessage, UserName};

/// Most names answered by one `presence_query` (more are ignored).
pub const MAX_PRESENCE_QUERY_NAMES: usize = 200;

impl Session {
    /// Whether the global list of everyone online is given out.
    fn global_list(&self) -> bool {
        self.state.config.presence_list == PresenceList::Global
    }

    pub(super) async fn users(&mut self) -> Result<(), RequestError> {
        // Who is online is for people who signed in (a classic client always signs in first).
        self.signed_in_name()?;
        let users = match self.global_list() {
            true => self.state.directory.online_names(self.name.as_ref(), MAX_USERS_LISTED).await?,
            false => Vec::new(),
        };
        self.reply(&ServerMessage::Users { users });
        Ok(())
    }

    /// Subscribes to presence: the snapshot now, a delta per sign-in and sign-out after. With
    /// `--presence-list none` the snapshot is empty and nothing follows.
    pub(super) async fn presence_subscribe(&mut self) -> Result<(), RequestError> {
        let who = self.signed_in_name()?;
        if !self.global_list() {
            self.reply(&ServerMessage::Users { users: Vec::new() });
            return Ok(());
        }
        if self.subscribed {
            // A repeated subscription resynchronizes: unsubscribe, then a fresh snapshot.
            self.state.presence.unsubscribe(self.id());
            self.subscribed = false;
        }
        let state = &self.state;
        if state.directory.may_wait() {
            // Cluster mode: the number first, then the snapshot from Redis (see `presence.rs`).
            let since = state.presence.last_change_number();
            let users = state.directory.online_names(Some(&who), MAX_USERS_LISTED).await?;
            self.subscribed = self.state.presence.subscribe_with_snapshot(self.reference(), &who, since, users);
            return Ok(());
        }
        self.subscribed = state.presence.subscribe(self.reference(), &who, MAX_USERS_LISTED);
        Ok(())
    }

    /// Answers which of `names` are online, in their display forms, sorted, without duplicates.
    pub(super) async fn presence_query(&mut self, names: &[UserName]) -> Result<(), RequestError> {
        self.signed_in_name()?;
        let mut online: Vec<UserName> = Vec::new();
        for name in names.iter().take(MAX_PRESENCE_QUERY_NAMES) {
            online.extend(self.state.directory.online_name(name).await?);
        }
        online.sort();
        online.dedup();
        self.reply(&ServerMessage::Presence { joined: None, left: None, online: Some(online) });
        Ok(())
    }

    /// Pushes a sign-in or sign-out of `name` to the presence subscribers (merged with the other
    /// changes of the same moment; never to `name`'s own connection). Nothing during shutdown:
    /// every connection is closing, and a `left` for each to each would be quadratic work for nobody.
    pub(super) fn announce(&self, name: &Identity, change: Change) {
        announce_change(&self.state, name, change);
    }
}

/// Pushes a sign-in or sign-out of `name` to the presence subscribers (never to `name` itself:
/// the hub leaves every subscriber's own name out): this node's at once, and in cluster mode
/// every other node's through Redis's presence channel.
pub fn announce_change(state: &AppState, name: &Identity, change: Change) {
    if state.config.presence_list != PresenceList::Global || state.shutdown.is_cancelled() {
        return;
    }
    state.presence.announce(name, change);
    if let Some(cluster) = &state.cluster {
        cluster.publish_presence(state.router.node(), name);
    }
}
