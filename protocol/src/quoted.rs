//! Quoting client input back in error messages without echoing it whole: a 60 KB name must not
//! come back as a 60 KB error.

use std::borrow::Cow;

/// Most characters of client input an error message quotes; longer input is cut and ends in "…".
pub const MAX_QUOTED_CHARS: usize = 64;

/// `text` as an error message may quote it: at most [`MAX_QUOTED_CHARS`] characters, then "…".
pub fn quoted(text: &str) -> Cow<'_, str> {
    shortened(text, MAX_QUOTED_CHARS)
}

/// `text` cut to at most `max_chars` characters (on a character boundary), with "…" appended
/// when something was cut.
pub fn shortened(text: &str, max_chars: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max_chars) {
        None => Cow::Borrowed(text),
        Some((cut, _)) => Cow::Owned(format!("{}…", &text[..cut])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_quoted_whole_and_long_text_is_cut_on_a_character_boundary() {
        assert_eq!(quoted("dance"), "dance");
        assert_eq!(quoted(&"x".repeat(MAX_QUOTED_CHARS)), "x".repeat(MAX_QUOTED_CHARS));
        assert_eq!(quoted(&"x".repeat(60_000)), format!("{}…", "x".repeat(MAX_QUOTED_CHARS)));
        assert_eq!(shortened("héllo wörld", 4), "héll…");
        assert_eq!(shortened("🎥🎥🎥", 2), "🎥🎥…");
        assert_eq!(shortened("", 0), "");
    }
}
