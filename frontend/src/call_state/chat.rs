//! The call's chat as the model keeps it: [`Chat`] (panel open or closed, the conversation, the
//! unread count) and its [`ChatMessage`]s. Cleared when the call ends.

use protocol::UserName;

/// One chat message, as shown: who wrote it, what, and when (milliseconds since the Unix epoch,
/// taken by the browser when it was sent or received).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub sender: UserName,
    /// True for the messages we wrote.
    pub ours: bool,
    pub text: String,
    pub at_millis: u64,
}

/// The chat of the current call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Chat {
    pub open: bool,
    pub messages: Vec<ChatMessage>,
    /// Messages from the peer that arrived while the panel was closed.
    pub unread: u32,
}

impl Chat {
    /// The accessible name of the button that opens and closes the panel.
    pub fn button_name(&self) -> String {
        match self.unread {
            0 => "Chat".to_owned(),
            unread => format!("Chat, {unread} unread"),
        }
    }
}
