//! User names (validated at login, with the same words in the server and the app), the key that
//! makes look-alike names collide, and resume tokens.
//!
//! A name is kept in its display form: trimmed and in Unicode NFC, as typed. Two names are the
//! same person when their `NameKey`s are equal (case folded, confusables mapped to one
//! skeleton, Unicode TR39). The key, the mixed-script rule and NFC need Unicode tables that
//! would grow the web app's wasm, so they sit behind the `confusables` and `nfc` features, which
//! only the server enables; the app runs the same [`UserName::parse_login`] without them, which
//! still refuses empty, overlong, invisible and direction-changing names with the same words.

mod characters;
#[cfg(feature = "confusables")]
mod key;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use std::fmt;
#[cfg(feature = "nfc")]
use unicode_normalization::UnicodeNormalization;

#[cfg(feature = "confusables")]
pub use key::NameKey;

/// Longest accepted user name, in characters, after trimming and NFC normalization.
pub const MAX_NAME_CHARS: usize = 64;

/// A user name as it appears on the wire.
///
/// Names that arrive as call targets are kept exactly as sent (they are only looked up, by key).
/// A name becomes someone's identity only through [`UserName::parse_login`], which trims it,
/// normalizes it to NFC and enforces the rules listed on [`NameError`].
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserName(String);

/// Why a name was refused at login. The `Display` text is meant for people: the app shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    /// Empty or only white space.
    Empty,
    /// More than [`MAX_NAME_CHARS`] characters after trimming and normalization.
    TooLong { chars: usize },
    /// Contains a control character (newline, tab, NUL, ...).
    ControlCharacter,
    /// Nothing in it can be seen: only invisible characters (and spaces).
    InvisibleOnly,
    /// Contains a character that changes the writing direction (U+202E and the like), which can
    /// make a name display as another ("\u{202E}ecila" shows as "alice").
    DirectionControl { character: char },
    /// Contains an invisible character (zero-width space, soft hyphen, blank filler, ...), which
    /// makes a name look like another one without it.
    InvisibleCharacter { character: char },
    /// Mixes letters of different scripts where one of them only brings letters that look like
    /// the other's (Cyrillic "а" among Latin letters). Only the server checks this (`confusables`).
    MixedScripts { first: &'static str, second: &'static str },
}

impl fmt::Display for NameError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::Empty => write!(formatter, "A name cannot be empty."),
            NameError::TooLong { chars } => {
                write!(formatter, "A name can have at most {MAX_NAME_CHARS} characters (this one has {chars}).")
            }
            NameError::ControlCharacter => {
                write!(formatter, "A name cannot contain control characters such as line breaks or tabs.")
            }
            NameError::InvisibleOnly => write!(formatter, "A name needs at least one visible character."),
            NameError::DirectionControl { character } => write!(
                formatter,
                "A name cannot contain characters that change the writing direction (this one has U+{:04X}): \
                 they can make a name look like another.",
                u32::from(*character)
            ),
            NameError::InvisibleCharacter { character } => write!(
                formatter,
                "A name cannot contain invisible characters (this one has U+{:04X}): they make a name look \
                 like another.",
                u32::from(*character)
            ),
            NameError::MixedScripts { first, second } => write!(
                formatter,
                "A name cannot mix look-alike letters of different alphabets (this one mixes {first} and \
                 {second}): they make a name look like another. Use the letters of one alphabet."
            ),
        }
    }
}

impl std::error::Error for NameError {}

impl UserName {
    /// Validates a name someone wants to sign in with and returns its display form: trims
    /// surrounding white space, normalizes to NFC (`nfc` feature), then requires 1 to [`MAX_NAME_CHARS`]
    /// characters, something visible, and no control, direction-changing or invisible characters
    /// (emoji sequences may keep their joiners and variation selectors). With the `confusables`
    /// feature, also refuses mixed-script look-alikes.
    pub fn parse_login(raw: &str) -> Result<UserName, NameError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(NameError::Empty);
        }
        if trimmed.chars().any(char::is_control) {
            return Err(NameError::ControlCharacter);
        }
        // Without the `nfc` feature (the web app), the server normalizes, and its login reply
        // carries the display form it keeps.
        // ASCII text is its own NFC (nothing in it decomposes or composes).
        #[cfg(feature = "nfc")]
        let display: String = if trimmed.is_ascii() { trimmed.to_owned() } else { trimmed.nfc().collect() };
        #[cfg(not(feature = "nfc"))]
        let display: String = trimmed.to_owned();
        let chars = display.chars().count();
        if chars > MAX_NAME_CHARS {
            return Err(NameError::TooLong { chars });
        }
        characters::check_visible(&display)?;
        #[cfg(feature = "confusables")]
        key::check_scripts(&display)?;
        Ok(UserName(display))
    }

    /// Wraps a name exactly as received (a call target, or a name from the server).
    pub fn from_wire(raw: impl Into<String>) -> UserName {
        UserName(raw.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// This name's comparison key: equal for names that look alike (see `NameKey`).
    #[cfg(feature = "confusables")]
    pub fn key(&self) -> NameKey {
        NameKey::of(&self.0)
    }
}

impl fmt::Debug for UserName {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, formatter)
    }
}

impl fmt::Display for UserName {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::borrow::Borrow<str> for UserName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// A secret the server hands out on successful login. Presenting it in a later `login` for the
/// same name takes the name over from a connection the server still thinks is alive (a phone
/// that switched networks), instead of being refused as `taken`.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ResumeToken(String);

impl ResumeToken {
    pub fn from_wire(raw: impl Into<String>) -> ResumeToken {
        ResumeToken(raw.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ResumeToken {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret itself.
        write!(formatter, "ResumeToken(<{} chars>)", self.0.len())
    }
}
