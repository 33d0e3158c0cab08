//! A signed-in person as the directory knows them: the display form of their name (what others
//! see), its comparison key (what the directory is keyed by, so look-alike names collide)
//! and its shape (the skeleton with case kept, a second index that catches `aIice`). Computed
//! once at login; shared by reference count, so call state and sessions copy a pointer, never a
//! string. The directory's maps are keyed by the identity itself ([`ByKey`], [`ByShape`]): a
//! pointer per entry, looked up by a `&NameKey`, never a copy of the key.

use protocol::{NameKey, UserName};
use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
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
        // Kept for the whole sign-in: without the spare capacity the name was collected with
        // (a 20-byte name took a 48-byte allocation, 32 once shrunk).
        let mut text = display.into_string();
        text.shrink_to_fit();
        let display = UserName::from_wire(text);
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

/// An identity as a map key, hashed and compared by its [`NameKey`] (found with a `&NameKey`):
/// the map holds a pointer to the identity instead of a copy of its key (one allocation and 8
/// bytes of each entry less per user online).
#[derive(Clone, Debug)]
pub struct ByKey(pub Identity);

/// An identity as a map key, hashed and compared by its shape ([`Identity::shape`]).
#[derive(Clone, Debug)]
pub struct ByShape(pub Identity);

impl Borrow<NameKey> for ByKey {
    fn borrow(&self) -> &NameKey {
        self.0.key()
    }
}

impl Hash for ByKey {
    /// The key's hash, as `Borrow` requires: a lookup by `&NameKey` finds the entry.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.key().hash(state);
    }
}

impl PartialEq for ByKey {
    fn eq(&self, other: &ByKey) -> bool {
        self.0 == other.0
    }
}

impl Eq for ByKey {}

impl Borrow<NameKey> for ByShape {
    fn borrow(&self) -> &NameKey {
        self.0.shape()
    }
}

impl Hash for ByShape {
    /// The shape's hash, as `Borrow` requires: a lookup by `&NameKey` (a shape) finds the entry.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.shape().hash(state);
    }
}

impl PartialEq for ByShape {
    fn eq(&self, other: &ByShape) -> bool {
        self.0.shape() == other.0.shape()
    }
}

impl Eq for ByShape {}
