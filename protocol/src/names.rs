//! User names (validated at login) and resume tokens.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest accepted user name, in characters, after trimming surrounding white space.
pub const MAX_NAME_CHARS: usize = 64;

/// A user name as it appears on the wire.
///
/// Names that arrive as call targets are kept exactly as sent (they are only looked up).
/// A name becomes someone's identity only through [`UserName::parse_login`], which trims it and
/// enforces the rules: 1 to [`MAX_NAME_CHARS`] characters, no control characters.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserName(String);

/// Why a name was refused at login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    /// Empty or only white space.
    Empty,
    /// More than [`MAX_NAME_CHARS`] characters after trimming.
    TooLong { chars: usize },
    /// Contains a control character (newline, tab, NUL, ...).
    ControlCharacter,
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
        }
    }
}

impl std::error::Error for NameError {}

impl UserName {
    /// Validates a name someone wants to sign in with: trims surrounding white space, then
    /// requires 1 to [`MAX_NAME_CHARS`] characters and no control characters.
    pub fn parse_login(raw: &str) -> Result<UserName, NameError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(NameError::Empty);
        }
        if trimmed.chars().any(char::is_control) {
            return Err(NameError::ControlCharacter);
        }
        let chars = trimmed.chars().count();
        if chars > MAX_NAME_CHARS {
            return Err(NameError::TooLong { chars });
        }
        Ok(UserName(trimmed.to_owned()))
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
