//! The keyboard shortcuts, as a pure mapping from a key press to an [`Action`] (the glue in
//! `keyboard.rs` listens and dispatches): Ctrl+D (⌘D on a Mac) mutes or unmutes, Ctrl+E (⌘E)
//! turns the camera off or on, as in other call apps. The buttons show them in their titles.

use crate::call_state::Action;

/// Shown in the Mute/Unmute button's title.
pub const MUTE_SHORTCUT: &str = "Ctrl+D";
/// Shown in the camera button's title.
pub const CAMERA_SHORTCUT: &str = "Ctrl+E";
/// `aria-keyshortcuts` of the Mute/Unmute button.
pub const MUTE_ARIA_SHORTCUTS: &str = "Control+D Meta+D";
/// `aria-keyshortcuts` of the camera button.
pub const CAMERA_ARIA_SHORTCUTS: &str = "Control+E Meta+E";

/// A `keydown` as the browser reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPress<'a> {
    /// `KeyboardEvent.key` ("d", "D", "Enter", ...).
    pub key: &'a str,
    pub ctrl: bool,
    pub meta: bool,
    pub alt: bool,
    pub shift: bool,
}

/// The action a key press stands for, if it is one of the shortcuts.
pub fn shortcut_action(press: KeyPress<'_>) -> Option<Action> {
    if !(press.ctrl || press.meta) || press.alt || press.shift {
        return None;
    }
    match press.key {
        "d" | "D" => Some(Action::MuteClicked),
        "e" | "E" => Some(Action::CameraClicked),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(key: &str, ctrl: bool, meta: bool, alt: bool, shift: bool) -> KeyPress<'_> {
        KeyPress { key, ctrl, meta, alt, shift }
    }

    #[test]
    fn ctrl_or_command_d_mutes_and_e_toggles_the_camera() {
        assert_eq!(shortcut_action(press("d", true, false, false, false)), Some(Action::MuteClicked));
        assert_eq!(shortcut_action(press("D", false, true, false, false)), Some(Action::MuteClicked));
        assert_eq!(shortcut_action(press("e", true, false, false, false)), Some(Action::CameraClicked));
    }

    #[test]
    fn plain_letters_and_other_combinations_are_left_to_the_page() {
        assert_eq!(shortcut_action(press("d", false, false, false, false)), None, "typing a d in chat");
        assert_eq!(shortcut_action(press("d", true, false, true, false)), None);
        assert_eq!(shortcut_action(press("d", true, false, false, true)), None);
        assert_eq!(shortcut_action(press("x", true, false, false, false)), None);
    }
}
