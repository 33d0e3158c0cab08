//! A signed-in person as the directory knows them: the display form of their name (what others
//! see), its comparison key (what the directory is keyed by, so look-alike names collide)
//! and its shape (the skeleton with case kept, a second index that catches `aIice`). Computed
//! once at login; shared by reference count, so call state and sessions copy a pointer, never a
//! string.

use protocol::{NameKey, UserName};
use std::fmt;
use std::sync::Arc;

/// A name with its key. Two identities are the same person when their keys are equal.
#[derive(Clone)]
pub struct Identity(Arc<IdentityParts>);

struct IdentityParts {
    display: UserName,
    key: NameKey,
    shape: NameKey,
}

impl Identity {
    /// The identity of a name that passed [`UserName::parse_login`] (its NFC display form).
    pub fn new(display: UserName) -> Identity {
        let key = display.key();
        let shape = NameKey::shape_of(display.as_str());
        Identity(Arc::new(IdentityParts { display, key, shape }))
    }

    /// The name as registered: NFC, trimmed, as typed. What every message and list shows.
    pub fn display(&self) -> &UserName {
        &self.0.display
    }

    pub fn key(&self) -> &NameKey {
        &self.0.key
    }

    /// See [`NameKey::shape_of`]: no two people online share one.
    pub fn shape(&self) -> &NameKey {
        &self.0.shape
    }
}

impl PartialEq for Identity {
    fn eq(&self, other: &Identity) -> bool {
        // The directory hands out one `Arc` per login, so this is nearly always a pointer compare.
        Arc::ptr_eq(&self.0, &other.0) || self.0.key == other.0.key
    }
}

impl Eq for Identity {}

impl fmt::Debug for Identity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0.display, formatter)
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.display, formatter)
    }
}
