//! Look-alike detection (Unicode TR39, through `unicode-security`): the [`NameKey`] that two
//! look-alike names share, and the refusal of names that mix look-alike letters of different
//! scripts. Behind the `confusables` feature: its tables are too large for the web app.

use super::{NameError, MAX_NAME_CHARS};
use std::sync::OnceLock;
use unicode_normalization::char::canonical_combining_class;
use unicode_script::{Script, UnicodeScript};
use unicode_security::mixed_script::AugmentedScriptSet;
use unicode_security::{is_potential_mixed_script_confusable_char, skeleton, MixedScript};

/// What makes two names the same person: the name trimmed, lowercased, mapped to its TR39
/// confusable skeleton (which also decomposes it, drops default-ignorable characters and maps
/// fullwidth, Cyrillic, Greek, ... look-alikes to one prototype), lowercased again (some
/// prototypes are capitals: the digit 0 maps to O), with every run of white space made one space.
///
/// So `alice`, `Alice`, `ALICE`, `аlice` (Cyrillic а), `ａlice` (fullwidth), `ali\u{200B}ce`
/// have one key, and the NFC and NFD forms of `rené` another. Not for display: a skeleton is a
/// comparison form only. Computed once per login and once per call operation, never per relay.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NameKey(Box<str>);

/// Longest text, in bytes, a call target may have to be worth a key: a valid name is at most
/// [`MAX_NAME_CHARS`] characters of up to 4 bytes in NFC, and NFD expands a character to at
/// most 4. Anything longer names nobody.
const MAX_TARGET_BYTES: usize = MAX_NAME_CHARS * 4 * 4;

impl NameKey {
    /// The key of `name` (a display form, or a call target as typed: both are trimmed here,
    /// and the skeleton makes the NFC and NFD forms alike).
    pub fn of(name: &str) -> NameKey {
        NameKey(collapsed_skeleton(&name.trim().to_lowercase(), true))
    }

    /// The shape of `name`: its TR39 skeleton with the case kept, white space runs made one
    /// space. Case folding first loses one classic look-alike: capital I is drawn like lowercase
    /// l in most sans-serif fonts, so `aIice` gets the key `aiice` but the shape `alice`. The
    /// server refuses a name whose key *or* shape is held by someone else.
    pub fn shape_of(name: &str) -> NameKey {
        NameKey(collapsed_skeleton(name.trim(), false))
    }

    /// The key of a call target, or `None` when the target is too long to be anyone's name
    /// (so a huge target costs no skeleton).
    pub fn of_target(target: &str) -> Option<NameKey> {
        (target.trim().len() <= MAX_TARGET_BYTES).then(|| NameKey::of(target))
    }

    /// The key's text, for tests and debugging only: not a display form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The TR39 skeleton of `text`, each run of white space made one space, and with `lowercase`
/// every prototype lowercased (some are capitals: the digit 0 maps to O).
fn collapsed_skeleton(text: &str, lowercase: bool) -> Box<str> {
    match ascii_skeletons().filter(|_| text.is_ascii()) {
        Some(skeletons) => {
            let prototypes = text.bytes().flat_map(|byte| skeletons[usize::from(byte)].chars());
            collapse(prototypes, text.len(), lowercase)
        }
        None => collapse(skeleton(text), text.len(), lowercase),
    }
}

/// `prototypes` (a skeleton) with each run of white space made one space, and with `lowercase`
/// every prototype lowercased.
fn collapse(prototypes: impl Iterator<Item = char>, capacity: usize, lowercase: bool) -> Box<str> {
    let mut collapsed = String::with_capacity(capacity);
    let mut after_space = false;
    for prototype in prototypes {
        if prototype.is_whitespace() {
            if !after_space {
                collapsed.push(' ');
            }
            after_space = true;
            continue;
        }
        after_space = false;
        if lowercase {
            collapsed.extend(prototype.to_lowercase());
        } else {
            collapsed.push(prototype);
        }
    }
    collapsed.into_boxed_str()
}

/// The skeleton of each ASCII character, computed once by [`skeleton`] itself: TR39 maps some
/// to others (`0` → `O`, `1` and `I` → `l`, `m` → `rn`, `%` → `°/₀`). The skeleton of an ASCII
/// text is these put end to end: an ASCII text is its own NFD, has no default-ignorable
/// character, and a prototype is per character; each of these skeletons is in NFD already and
/// made of starters only (canonical combining class 0), so the final NFD, which reorders only
/// runs of non-starters, keeps them as they are side by side. So a sign-in with an ASCII name
/// skips two NFD passes and the table searches per character (BENCHMARKS.md, "Server levers
/// (issue 15)"). `None` (every text takes [`skeleton`]) if some ASCII character's skeleton
/// held a non-starter.
fn ascii_skeletons() -> Option<&'static [Box<str>]> {
    static SKELETONS: OnceLock<Option<Vec<Box<str>>>> = OnceLock::new();
    SKELETONS
        .get_or_init(|| {
            let skeletons: Vec<Box<str>> = (0..128u8)
                .map(|byte| skeleton(char::from(byte).encode_utf8(&mut [0; 4])).collect::<String>().into_boxed_str())
                .collect();
            let starters_only =
                |prototype: &str| prototype.chars().all(|character| canonical_combining_class(character) == 0);
            skeletons.iter().all(|prototype| starters_only(prototype)).then_some(skeletons)
        })
        .as_deref()
}

impl std::fmt::Debug for NameKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "NameKey({:?})", self.0)
    }
}

/// Refuses a name that mixes scripts in a way made for deceiving: more than TR39's "moderately
/// restrictive" level allows (Latin with Han, Japanese or Korean scripts, or with one other
/// recommended script that is neither Cyrillic nor Greek, is fine), and one of the scripts
/// brings only letters that look like letters of another (TR39 mixed-script confusables, the
/// rule rustc uses for identifiers). "аlice" (Cyrillic а) is refused, and so is "Ivan Иванов"
/// (each of its Latin letters has a Cyrillic look-alike); "Zoë 🎥", "Jun 李" and "Ζωή" are not.
pub(super) fn check_scripts(name: &str) -> Result<(), NameError> {
    // Every ASCII character is Latin or Common (which goes with every script): an ASCII name is
    // one script, and it is decided without a script lookup per character.
    if name.is_ascii() || name.is_single_script() || restriction_level_allows(name) {
        return Ok(());
    }
    // Each script used, and whether every letter of it is a potential look-alike.
    let mut scripts: Vec<(Script, bool)> = Vec::new();
    for character in name.chars() {
        let script = character.script();
        if matches!(script, Script::Common | Script::Inherited | Script::Unknown) {
            continue;
        }
        let lookalike = is_potential_mixed_script_confusable_char(character);
        match scripts.iter_mut().find(|(known, _)| *known == script) {
            Some((_, all_lookalike)) => *all_lookalike &= lookalike,
            None => scripts.push((script, lookalike)),
        }
    }
    let Some(&(lookalike_script, _)) = scripts.iter().find(|(_, all_lookalike)| *all_lookalike) else {
        return Ok(());
    };
    match scripts.iter().find(|(script, _)| *script != lookalike_script) {
        Some(&(other_script, _)) => {
            Err(NameError::MixedScripts { first: other_script.full_name(), second: lookalike_script.full_name() })
        }
        None => Ok(()),
    }
}

/// TR39 restriction levels up to "moderately restrictive", counting letters only (spaces,
/// digits, punctuation and emoji are Common and fit every script): the scripts other than Latin
/// resolve to Han with Japanese or Korean, or to one recommended script that is not Cyrillic or
/// Greek (the scripts whose letters look most like Latin ones).
fn restriction_level_allows(name: &str) -> bool {
    let mut without_latin = AugmentedScriptSet::default();
    for character in name.chars() {
        let scripts = AugmentedScriptSet::for_char(character);
        if !scripts.base.contains_script(Script::Latin) {
            without_latin.intersect_with(scripts);
        }
    }
    if without_latin.hanb || without_latin.jpan || without_latin.kore {
        return true;
    }
    let mut others = without_latin.base.iter();
    match (others.next(), others.next()) {
        (Some(only), None) => only.is_recommended() && only != Script::Cyrillic && only != Script::Greek,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::{ascii_skeletons, collapse, collapsed_skeleton, skeleton};
    use unicode_normalization::UnicodeNormalization;
    use unicode_security::MixedScript;

    fn every_ascii_pair() -> impl Iterator<Item = String> {
        (0..128u8)
            .flat_map(|first| (0..128u8).map(move |second| String::from_iter([char::from(first), char::from(second)])))
    }

    #[test]
    fn ascii_names_take_the_table_of_ascii_skeletons() {
        assert!(
            ascii_skeletons().is_some(),
            "an ASCII character's skeleton is not ASCII: every name takes the slow path"
        );
    }

    #[test]
    fn the_ascii_table_gives_the_skeleton_of_every_ascii_pair_and_run_of_spaces() {
        let runs = ["m0 Il1|  x", "  rn  ", "a\tb\n c", "MIXED case 0123", "100% \"m\""].map(str::to_owned);
        for text in every_ascii_pair().chain(runs) {
            for lowercase in [true, false] {
                let expected = collapse(skeleton(&text), text.len(), lowercase);
                assert_eq!(collapsed_skeleton(&text, lowercase), expected, "{text:?}, lowercase: {lowercase}");
            }
        }
    }

    #[test]
    fn ascii_text_is_its_own_nfc_and_one_script() {
        for text in every_ascii_pair() {
            assert_eq!(text.nfc().collect::<String>(), text);
        }
        // Single-script is the intersection of the characters' script sets: if all of ASCII
        // together is one script, so is every ASCII text.
        let all_of_ascii: String = (0..128u8).map(char::from).collect();
        assert!(all_of_ascii.as_str().is_single_script());
    }
}
