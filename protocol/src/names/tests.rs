//! Regression tests for issue 13's look-alike names: each name that was accepted as a different
//! person while `alice` was online either gets alice's key or is refused, with words.

use super::*;

fn key(name: &str) -> NameKey {
    NameKey::of(UserName::parse_login(name).expect("a valid name").as_str())
}

fn refusal(name: &str) -> String {
    UserName::parse_login(name).expect_err("the name is refused").to_string()
}

#[test]
fn names_differing_only_in_case_share_a_key() {
    assert_eq!(key("Alice"), key("alice"));
    assert_eq!(key("ALICE"), key("alice"));
    assert_ne!(key("alice"), key("bob"));
}

#[test]
fn cyrillic_a_in_a_latin_name_shares_a_key_and_is_refused_as_mixed_scripts() {
    let lookalike = "\u{0430}lice";
    assert_eq!(NameKey::of(lookalike), key("alice"));
    assert_eq!(UserName::parse_login(lookalike), Err(NameError::MixedScripts { first: "Latin", second: "Cyrillic" }));
    assert!(refusal(lookalike).contains("mixes Latin and Cyrillic"), "{}", refusal(lookalike));
}

#[test]
fn fullwidth_letters_share_a_key_with_their_ascii_look_alikes() {
    assert_eq!(key("\u{FF41}lice"), key("alice"));
    assert_eq!(key("\u{FF21}LICE"), key("alice"));
}

#[test]
fn zero_width_space_inside_a_name_is_refused_and_ignored_by_the_key() {
    let hidden = "ali\u{200B}ce";
    assert_eq!(UserName::parse_login(hidden), Err(NameError::InvisibleCharacter { character: '\u{200B}' }));
    assert!(refusal(hidden).contains("invisible characters (this one has U+200B)"), "{}", refusal(hidden));
    assert_eq!(NameKey::of(hidden), key("alice"));
}

#[test]
fn nfc_and_nfd_forms_of_one_name_are_one_display_form_and_one_key() {
    let composed = "ren\u{E9}";
    let decomposed = "rene\u{301}";
    let from_decomposed = UserName::parse_login(decomposed).expect("valid");
    assert_eq!(from_decomposed.as_str(), composed, "kept in NFC");
    assert_eq!(key(decomposed), key(composed));
    assert_ne!(key(composed), key("rene"), "an accent is visible: rené and rene are two people");
}

#[test]
fn names_made_only_of_invisible_characters_are_refused() {
    for invisible in
        ["\u{200B}", "\u{200B}\u{200C}\u{200D}", "\u{2060} \u{FEFF}", "\u{3164}", "\u{2800}\u{2800}", "\u{AD}"]
    {
        assert_eq!(UserName::parse_login(invisible), Err(NameError::InvisibleOnly), "{invisible:?}");
    }
    assert_eq!(refusal("\u{200B}"), "A name needs at least one visible character.");
}

#[test]
fn right_to_left_override_that_displays_ecila_as_alice_is_refused() {
    let reversed = "\u{202E}ecila";
    assert_eq!(UserName::parse_login(reversed), Err(NameError::DirectionControl { character: '\u{202E}' }));
    assert!(refusal(reversed).contains("change the writing direction (this one has U+202E)"), "{}", refusal(reversed));
    for control in ['\u{200E}', '\u{200F}', '\u{202A}', '\u{2066}', '\u{2069}', '\u{061C}'] {
        assert!(
            matches!(UserName::parse_login(&format!("ali{control}ce")), Err(NameError::DirectionControl { .. })),
            "U+{:04X}",
            u32::from(control)
        );
    }
}

#[test]
fn blank_looking_characters_after_a_name_are_refused_not_kept() {
    assert_eq!(UserName::parse_login("alice\u{2800}"), Err(NameError::InvisibleCharacter { character: '\u{2800}' }));
    assert_eq!(UserName::parse_login("alice\u{AD}"), Err(NameError::InvisibleCharacter { character: '\u{AD}' }));
}

#[test]
fn emoji_sequences_keep_their_joiners_and_variation_selectors() {
    for name in ["Zoë 🎥", "dev 👩\u{200D}💻", "love ❤\u{FE0F}", "❤\u{FE0F}\u{200D}🔥 fire"] {
        assert_eq!(UserName::parse_login(name).map(UserName::into_string), Ok(name.to_owned()), "{name:?}");
    }
    assert!(UserName::parse_login("a\u{200D}b").is_err(), "a joiner between letters hides nothing legitimate");
}

#[test]
fn names_in_one_script_or_an_allowed_mix_are_accepted() {
    for name in
        ["alice", "Zoë", "Ζωή", "Иван", "李小龍", "山田 たろう", "Jun 李", "Ana María", "سارة", "O'Brien-Smith", "r2d2"]
    {
        assert!(UserName::parse_login(name).is_ok(), "{name:?}: {:?}", UserName::parse_login(name));
    }
}

#[test]
fn white_space_runs_and_surrounding_space_do_not_make_another_name() {
    assert_eq!(NameKey::of("ana  maria"), key("Ana Maria"));
    assert_eq!(NameKey::of(" bob "), key("bob"));
    assert_eq!(NameKey::of_target(" bob "), Some(key("bob")));
}

#[test]
fn targets_too_long_to_be_a_name_get_no_key() {
    assert_eq!(NameKey::of_target(&"x".repeat(100_000)), None);
}

#[test]
fn digits_that_look_like_letters_share_a_key() {
    assert_eq!(key("b0b"), key("bob"));
}

#[test]
fn capital_i_drawn_like_lowercase_l_gives_the_same_shape_though_another_key() {
    assert_ne!(key("aIice"), key("alice"), "case folding makes it aiice");
    assert_eq!(NameKey::shape_of("aIice"), NameKey::shape_of("alice"));
    assert_ne!(NameKey::shape_of("Alice"), NameKey::shape_of("alice"), "case differences are the key's job");
}
