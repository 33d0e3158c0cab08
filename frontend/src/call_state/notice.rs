//! Messages for the person using the app: [`Notice`] and how loudly it is announced.

/// How loudly a notice is announced: `role="status"` (polite) or `role="alert"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    Status,
    Alert,
}

/// A message for the person using the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    pub text: String,
}

impl Notice {
    pub fn status(text: impl Into<String>) -> Notice {
        Notice { kind: NoticeKind::Status, text: text.into() }
    }

    pub fn alert(text: impl Into<String>) -> Notice {
        Notice { kind: NoticeKind::Alert, text: text.into() }
    }
}
