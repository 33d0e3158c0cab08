//! The directory: who holds each name online (a [`ConnectionRef`]: node and connection), each
//! user's call, and ring deadlines, as plain data behind the [`Directory`] trait. It holds no
//! connection handle, timer or metric and imports nothing of delivery or the router: every
//! transition returns what happened (who to tell, at which connection, what to count), and the
//! session carries it out.
//!
//! One method per transition, and each transition that touches two users (claim, release,
//! offer, answer, leave, ring timeout, grace expiry) is one method, so an implementation can
//! make it atomic (today a mutex in [`MemoryDirectory`]; later one Lua script or a watched call
//! record in Redis). Deadlines are data: ring deadlines in the caller's call record, grace
//! deadlines in the away or waiting user's record; one task per process sleeps until the
//! earliest ([`Directory::next_ring_deadline`], [`Directory::next_grace_deadline`]) and expires
//! what is due.
//!
//! Held calls (issue 10): a user whose connection drops mid-call with `keepCallOnDisconnect`
//! stays online but *away* until a grace deadline, its call kept; relays to it are refused
//! (`PeerUnavailable`). A sign-in that takes the name over (the session verified a resume
//! token) with `inCallWith` naming the peer brings it back; on a server that has no record of
//! the call (restarted), such a sign-in *waits* for the peer to do the same, and the pairing is
//! restored only when both sides named each other. The directory never sees tokens: the session
//! verifies them and the directory learns only "takeover allowed".
//!
//! Every implementation runs the same tests: `conformance/` (async scenarios over
//! `crate::directory_backend::DirectoryBackend`, against memory and against Redis).

#[cfg(test)]
pub(crate) mod conformance;
pub(crate) mod identity;
mod memory;

pub use crate::address::{ConnectionId, ConnectionRef, NodeId};
pub use identity::Identity;
pub use memory::MemoryDirectory;
use protocol::{quoted, UserName};
use std::fmt;
use std::time::Instant;

/// Identifies one call, so that a late ring deadline cannot end a newer call between the same users.
pub type CallId = u64;

/// Names online, their holders, and their calls. Synchronous; see the module documentation.
pub trait Directory: Send + Sync + fmt::Debug {
    /// Claims `name` for `holder`. A name held by another connection, or one that looks like it
    /// (same key or shape), is refused, unless the request is a [`ClaimRequest::Takeover`]:
    /// then the name moves to `holder` (also from an away user), and its call is kept if
    /// `in_call_with` names its peer, ended otherwise. A takeover naming a peer that is not in
    /// a call with this user waits for that peer (see the module documentation). Any wait of
    /// others for this name that it does not answer ends.
    fn claim(&self, name: &Identity, holder: ConnectionRef, request: &ClaimRequest) -> Result<Claimed, ClaimError>;

    /// Frees `name` if `holder` still holds it, ending its call; `None` when it did not (names
    /// are freed exactly once: a connection replaced by a resume login cannot free its
    /// successor's name). With `hold_until`, a user in a connected call is not freed but kept
    /// away until then, its call held ([`Released::held`]).
    fn release(&self, name: &Identity, holder: ConnectionRef, hold_until: Option<Instant>) -> Option<Released>;

    /// Number of users signed in.
    fn online_count(&self) -> usize;

    /// The display form of the online name with `name`'s key, if someone holds it.
    fn online_name(&self, name: &UserName) -> Option<UserName>;

    /// Up to `limit` names online (their display forms), sorted, without `except`.
    fn online_names(&self, except: Option<&Identity>, limit: usize) -> Vec<UserName>;

    /// `caller` (held by `holder`) offers a call to `target`, a name as the client typed it. A
    /// new call rings until `ring_deadline` unless answered or ended before.
    fn start_call(
        &self,
        caller: &Identity,
        holder: ConnectionRef,
        target: &UserName,
        ring_deadline: Instant,
    ) -> Result<CallStarted, CallError>;

    /// `callee` (held by `holder`) answers `target`, the caller as the client typed it.
    fn answer_call(
        &self,
        callee: &Identity,
        holder: ConnectionRef,
        target: &UserName,
    ) -> Result<CallAnswered, CallError>;

    /// Ends `user`'s call (pending or answered); with `expected_peer` (as the client typed it),
    /// only if the call is with that user.
    fn end_call(
        &self,
        user: &Identity,
        holder: ConnectionRef,
        expected_peer: Option<&UserName>,
    ) -> Result<EndedCall, CallError>;

    /// Where a message from `sender` (held by `holder`) to `target` goes: the target's
    /// connection, if the two are the parties of one pending or answered call. Read-only, no
    /// global lock: the hot path of relaying.
    fn relay_target(
        &self,
        sender: &Identity,
        holder: ConnectionRef,
        target: &UserName,
    ) -> Result<ConnectionRef, CallError>;

    /// The earliest ring deadline of a call still ringing, if any.
    fn next_ring_deadline(&self) -> Option<Instant>;

    /// Ends every call still ringing whose deadline is at or before `now`.
    fn expire_rings(&self, now: Instant) -> Vec<ExpiredRing>;

    /// The earliest grace deadline of an away user or a wait, if any.
    fn next_grace_deadline(&self) -> Option<Instant>;

    /// Ends every hold and wait whose grace deadline is at or before `now`: away names are
    /// freed (their calls ended), waiters are idle again.
    fn expire_graces(&self, now: Instant) -> Vec<ExpiredGrace>;

    /// Checks that call state is symmetric (whoever names a peer is named back by that peer with
    /// the same call id, in the matching role) and that the name indexes agree. For tests.
    fn check_consistency(&self) -> Result<(), String>;
}

/// How a name is claimed.
#[derive(Debug, Clone)]
pub enum ClaimRequest {
    /// A plain sign-in: only a free name.
    Fresh,
    /// The session verified a resume token for this name: take it over from whoever holds it.
    Takeover {
        /// The peer the client says it is still in a call with (as the client typed it).
        in_call_with: Option<UserName>,
        /// Until when a wait for that peer lasts.
        grace_deadline: Instant,
    },
}

/// The peer a takeover of `name` says it is still in a call with, if that names someone who
/// could sign in and not `name` itself (the same rule for every directory).
pub fn takeover_peer(name: &Identity, in_call_with: Option<&UserName>) -> Option<Identity> {
    in_call_with
        .and_then(|peer| UserName::parse_login(peer.as_str()).ok())
        .map(Identity::new)
        .filter(|peer| peer.key() != name.key())
}

/// A successful claim.
#[derive(Debug)]
pub struct Claimed {
    /// The name as registered: the requested one, or on a takeover the display form kept from
    /// the first login (a look-alike spelling with the right token does not rename anyone).
    pub identity: Identity,
    /// The name was free: one more user online (presence `joined`). False on a takeover of a
    /// name online or away.
    pub newly_online: bool,
    /// The connection that held the name before, to be closed (`None` if it was free or away).
    pub replaced: Option<ConnectionRef>,
    /// The call the name was in, ended (no `inCallWith` naming its peer): its peer must be
    /// told `disconnected`.
    pub ended_call: Option<EndedCall>,
    /// What became of the call named by `inCallWith`.
    pub resumption: Resumption,
    /// Others who waited for this name to come back into a call with them, not named by its
    /// `inCallWith`: their waits ended, each must be told `leave` `disconnected`.
    pub ended_waits: Vec<EndedWait>,
    /// Cluster mode: holders on dead nodes (lease expired, not swept yet) of this name or of a
    /// look-alike, freed by this claim; the peers of their calls must be told `disconnected`.
    /// Always empty in memory.
    pub stale_holders_freed: Vec<FreedName>,
}

/// A name freed because its holder's node died (swept, or freed by a claim of the name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreedName {
    pub display: UserName,
    pub holder: ConnectionRef,
    /// Its call, ended: the peer must be told `disconnected`.
    pub ended_call: Option<EndedCall>,
}

/// What a takeover with `inCallWith` did to the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resumption {
    /// No call to resume.
    None,
    /// The call with `peer` is active again with both sides connected: both get `call_resumed`.
    /// `new_pairing`: restored from two waits (a server without the call): one more active call.
    Restored { peer: Identity, peer_connection: ConnectionRef, new_pairing: bool },
    /// Back in the held call, but the peer is away too: both hear `call_resumed` when it is back.
    PeerAway { peer: Identity },
    /// Waiting for `peer` to sign in with `inCallWith` naming this user, until the grace deadline.
    Waiting { peer: Identity },
}

/// A wait that ended because the awaited name signed in without naming the waiter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedWait {
    pub waiter: Identity,
    pub waiter_connection: ConnectionRef,
}

/// A name freed (or held) by its holder.
#[derive(Debug)]
pub struct Released {
    /// The user is away, its call held until the grace deadline: still online, nobody told.
    pub held: bool,
    /// The call it was in, ended: its peer must be told `disconnected`.
    pub ended_call: Option<EndedCall>,
}

/// A hold or wait past its grace deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpiredGrace {
    /// `name` was away past its grace: the name is free (presence `left`), its call ended.
    Away { name: Identity, ended_call: Option<EndedCall> },
    /// `waiter` waited for `peer` past the grace: idle again, to be told `leave` `disconnected`.
    Wait { waiter: Identity, waiter_connection: ConnectionRef, peer: Identity },
}

/// How far a call had got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallPhase {
    /// Offered, not answered yet.
    Ringing,
    /// Answered.
    Connected,
    /// One side waiting for the other to come back (not counted as a call).
    Resuming,
}

/// A call that one party ended (leave, disconnect, replaced by a resume login).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedCall {
    /// The other party.
    pub peer: Identity,
    /// The other party's connection, which must be told; `None` if it is no longer online.
    pub peer_connection: Option<ConnectionRef>,
    /// How far the call had got before it ended (what to count).
    pub phase: CallPhase,
    /// The peer was away: its name is freed now (presence `left`, one fewer online).
    pub peer_name_freed: bool,
}

/// What a successful offer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offered {
    /// A new call: the callee now rings.
    NewCall(CallId),
    /// A new offer inside an existing call with the same peer (renegotiation, ICE restart).
    Renegotiation,
}

/// A successful offer: what it did and where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallStarted {
    pub outcome: Offered,
    pub callee: Identity,
    pub callee_connection: ConnectionRef,
}

/// What a successful answer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    /// The ringing call is now connected.
    Connected(CallId),
    /// An answer to a renegotiation offer.
    Renegotiation,
}

/// A successful answer: what it did and where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallAnswered {
    pub outcome: Answered,
    pub caller: Identity,
    pub caller_connection: ConnectionRef,
}

/// A call that rang past its deadline, now ended for both: both must be told `timeout`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredRing {
    pub call_id: CallId,
    pub caller: Identity,
    pub caller_connection: ConnectionRef,
    pub callee: Identity,
    /// `None` if the callee is no longer online.
    pub callee_connection: Option<ConnectionRef>,
}

/// The directory could not be asked: its store is out of reach (cluster mode: Redis down,
/// restarting or too slow). Nothing changed; the session answers `unavailable`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    #[error("The server cannot reach its shared directory right now; nothing was changed. Try again in a moment.")]
    Unavailable,
}

/// Why a name could not be claimed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    /// Someone online has this name, or one that looks like it (same [`protocol::NameKey`]).
    #[error("{}", describe_taken(.requested, .in_use))]
    Taken { requested: UserName, in_use: UserName },
    /// The directory's store is out of reach: nothing was claimed.
    #[error(transparent)]
    Unavailable(#[from] DirectoryError),
}

/// Words for a refused login: the name in use is shown (it is in the online list anyway) so the
/// person sees what theirs was mistaken for.
fn describe_taken(requested: &UserName, in_use: &UserName) -> String {
    if requested == in_use {
        format!("Someone online already uses the name \"{in_use}\". Pick another name.")
    } else {
        format!("The name \"{requested}\" looks too much like a name already in use (\"{in_use}\"). Pick another.")
    }
}

/// Why a call operation was refused. The session turns each into an `error` reply. Names are
/// display forms, or the target as the client sent it when it matched nobody.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    // Names here are call targets exactly as a client sent them: quoted, never echoed whole.
    #[error("\"{}\" is not online.", quoted(.0.as_str()))]
    UserNotFound(UserName),
    #[error("You cannot call yourself.")]
    CannotCallSelf,
    #[error("\"{}\" is in another call.", quoted(.0.as_str()))]
    Busy(UserName),
    #[error("You are already in a call with \"{}\"; hang up first.", quoted(.0.as_str()))]
    AlreadyInCall(UserName),
    #[error("You are not in a call with \"{}\".", quoted(.0.as_str()))]
    NotInCall(UserName),
    #[error("You are not in a call.")]
    NoCall,
    #[error("\"{}\" lost its connection; waiting for it to come back. Try again shortly.", quoted(.0.as_str()))]
    PeerUnavailable(UserName),
    /// The directory's store is out of reach: nothing was done.
    #[error(transparent)]
    Unavailable(#[from] DirectoryError),
}
