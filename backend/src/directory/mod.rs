//! The directory: who holds each name online (a [`ConnectionRef`]: node and connection), each
//! user's call, and ring deadlines, as plain data behind the [`Directory`] trait. It holds no
//! connection handle, timer or metric and imports nothing of delivery or the router: every
//! transition returns what happened (who to tell, at which connection, what to count), and the
//! session carries it out.
//!
//! One method per transition, and each transition that touches two users (claim with a resume
//! token, release, offer, answer, leave, ring timeout) is one method, so an implementation can
//! make it atomic (today a mutex in [`MemoryDirectory`]; later one Lua script or a watched call
//! record in Redis). Ring deadlines are data in the caller's call record; one task per process
//! sleeps until [`Directory::next_ring_deadline`] and calls [`Directory::expire_rings`].
//!
//! Every implementation runs the same tests: `conformance/` (generic over `impl Directory`).

#[cfg(test)]
pub(crate) mod conformance;
mod identity;
mod memory;

pub use crate::address::{ConnectionId, ConnectionRef, NodeId};
pub use identity::Identity;
pub use memory::MemoryDirectory;
use protocol::{quoted, ResumeToken, UserName};
use std::fmt;
use std::time::Instant;

/// Identifies one call, so that a late ring deadline cannot end a newer call between the same users.
pub type CallId = u64;

/// Names online, their holders, and their calls. Synchronous; see the module documentation.
pub trait Directory: Send + Sync + fmt::Debug {
    /// Claims `name` for `holder`. A name held by another connection, or one that looks like it
    /// (same key or shape), is refused, unless `resume` matches the token handed out when it was
    /// claimed: then the name moves to `holder`, and the old holder's call ends.
    fn claim(
        &self,
        name: &Identity,
        holder: ConnectionRef,
        resume: Option<&ResumeToken>,
    ) -> Result<Claimed, ClaimError>;

    /// Frees `name` if `holder` still holds it, ending its call; `None` when it did not (names
    /// are freed exactly once: a connection replaced by a resume login cannot free its
    /// successor's name).
    fn release(&self, name: &Identity, holder: ConnectionRef) -> Option<Released>;

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

    /// Checks that call state is symmetric (whoever names a peer is named back by that peer with
    /// the same call id, in the matching role) and that the name indexes agree. For tests.
    fn check_consistency(&self) -> Result<(), String>;
}

/// A successful claim.
#[derive(Debug)]
pub struct Claimed {
    /// The name as registered: the requested one, or on a resume the display form kept from
    /// the first login (a look-alike spelling with the right token does not rename anyone).
    pub identity: Identity,
    pub resume: ResumeToken,
    /// With a resume token: the connection that held the name before, to be closed. `None`: the
    /// name was free, one more user is online.
    pub replaced: Option<ConnectionRef>,
    /// The call the replaced connection was in, ended: its peer must be told `disconnected`.
    pub ended_call: Option<EndedCall>,
}

/// A name freed by its holder.
#[derive(Debug)]
pub struct Released {
    /// The call it was in, ended: its peer must be told `disconnected`.
    pub ended_call: Option<EndedCall>,
}

/// How far a call had got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallPhase {
    /// Offered, not answered yet.
    Ringing,
    /// Answered.
    Connected,
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

/// Why a name could not be claimed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    /// Someone online has this name, or one that looks like it (same [`protocol::NameKey`]).
    #[error("{}", describe_taken(.requested, .in_use))]
    Taken { requested: UserName, in_use: UserName },
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
}
