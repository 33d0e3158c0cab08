//! Whether we hold a name on the server: [`SignIn`].

use protocol::{ResumeToken, UserName};

/// Whether we hold a name on the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// The sign-in screen. `pending_name` is a login sent (or waiting for the connection) but
    /// not answered yet; `error` says in words why the last attempt failed.
    SignedOut { pending_name: Option<UserName>, error: Option<String> },
    /// Signed in. `resume` reclaims the name after a reconnect.
    SignedIn { name: UserName, resume: Option<ResumeToken> },
    /// The connection dropped while signed in: we sign back in under `name` with `resume`
    /// as soon as the connection is back.
    SigningBackIn { name: UserName, resume: Option<ResumeToken> },
}

impl SignIn {
    /// The sign-in screen with nothing pending and nothing to explain.
    pub const SIGNED_OUT: SignIn = SignIn::SignedOut { pending_name: None, error: None };

    /// The sign-in screen saying why the last attempt failed.
    pub fn refused(error: impl Into<String>) -> SignIn {
        SignIn::SignedOut { pending_name: None, error: Some(error.into()) }
    }

    /// The name shown as "Signed in as": ours, or the one we are signing back in with.
    pub fn shown_name(&self) -> Option<&UserName> {
        match self {
            SignIn::SignedIn { name, .. } | SignIn::SigningBackIn { name, .. } => Some(name),
            SignIn::SignedOut { .. } => None,
        }
    }

    /// The name of the login we sent (or will send) and await the reply to, if any.
    pub fn awaited_name(&self) -> Option<&UserName> {
        match self {
            SignIn::SignedOut { pending_name: Some(name), .. } | SignIn::SigningBackIn { name, .. } => Some(name),
            SignIn::SignedOut { pending_name: None, .. } | SignIn::SignedIn { .. } => None,
        }
    }
}
