//! The cheap checks every side runs on a name: nothing invisible, nothing that changes the
//! writing direction, something visible. Small tables only, so the web app can carry them.

use super::NameError;

/// Unicode's `Bidi_Control` characters (PropList.txt): they reorder what follows, so
/// "\u{202E}ecila" displays as "alice".
const BIDI_CONTROLS: &[(char, char)] =
    &[('\u{061C}', '\u{061C}'), ('\u{200E}', '\u{200F}'), ('\u{202A}', '\u{202E}'), ('\u{2066}', '\u{2069}')];

/// Unicode's `Default_Ignorable_Code_Point` (DerivedCoreProperties.txt, stable since Unicode 6):
/// characters a renderer shows as nothing at all (zero-width spaces and joiners, soft hyphen,
/// variation selectors, fillers, tags). The same ranges as `unicode-security`'s private table.
const DEFAULT_IGNORABLE: &[(char, char)] = &[
    ('\u{00AD}', '\u{00AD}'),
    ('\u{034F}', '\u{034F}'),
    ('\u{061C}', '\u{061C}'),
    ('\u{115F}', '\u{1160}'),
    ('\u{17B4}', '\u{17B5}'),
    ('\u{180B}', '\u{180F}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2060}', '\u{206F}'),
    ('\u{3164}', '\u{3164}'),
    ('\u{FE00}', '\u{FE0F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFA0}', '\u{FFA0}'),
    ('\u{FFF0}', '\u{FFF8}'),
    ('\u{1BCA0}', '\u{1BCA3}'),
    ('\u{1D173}', '\u{1D17A}'),
    ('\u{E0000}', '\u{E0FFF}'),
];

/// Characters that are not default-ignorable but still draw nothing but blank space, so a
/// name ending with one looks exactly like the name without it (white space is trimmed instead).
const BLANK_LOOKING: &[char] = &['\u{2800}'];

/// Default-ignorable characters that emoji sequences need: zero width joiner (👩‍💻), text and
/// emoji variation selectors (❤️), and the tag characters of subdivision flags.
const EMOJI_COMPONENTS: &[(char, char)] =
    &[('\u{200D}', '\u{200D}'), ('\u{FE0E}', '\u{FE0F}'), ('\u{E0020}', '\u{E007F}')];

fn in_ranges(character: char, ranges: &[(char, char)]) -> bool {
    ranges.iter().any(|&(first, last)| (first..=last).contains(&character))
}

pub(super) fn is_bidi_control(character: char) -> bool {
    in_ranges(character, BIDI_CONTROLS)
}

pub(super) fn is_default_ignorable(character: char) -> bool {
    in_ranges(character, DEFAULT_IGNORABLE)
}

fn is_invisible(character: char) -> bool {
    is_default_ignorable(character) || BLANK_LOOKING.contains(&character)
}

/// An emoji joiner, variation selector or tag right after a symbol (or after another of them):
/// part of an emoji sequence, not a hidden character inside a word.
fn is_emoji_component_in_place(character: char, previous: Option<char>) -> bool {
    in_ranges(character, EMOJI_COMPONENTS)
        && previous.is_some_and(|previous| {
            in_ranges(previous, EMOJI_COMPONENTS)
                || !(previous.is_alphanumeric() || previous.is_whitespace() || is_invisible(previous))
        })
}

/// Refuses a name with nothing visible, with a direction control, or with an invisible
/// character outside an emoji sequence. `name` is already trimmed, NFC and free of controls.
pub(super) fn check_visible(name: &str) -> Result<(), NameError> {
    if name.chars().all(|character| character.is_whitespace() || is_invisible(character)) {
        return Err(NameError::InvisibleOnly);
    }
    if let Some(character) = name.chars().find(|&character| is_bidi_control(character)) {
        return Err(NameError::DirectionControl { character });
    }
    let mut previous = None;
    for character in name.chars() {
        if is_invisible(character) && !is_emoji_component_in_place(character, previous) {
            return Err(NameError::InvisibleCharacter { character });
        }
        previous = Some(character);
    }
    Ok(())
}
