//! The hand-written JSON reader and writer agree with `serde_json` (the tests build with it).

use super::*;
use serde_json::value::RawValue;

/// Texts `serde_json` accepts as one raw value and texts it refuses, of every kind of token.
const TEXTS: &[&str] = &[
    "null",
    " true ",
    "false",
    "0",
    "-0",
    "12",
    "-12.5e+3",
    "1E5",
    "0.25",
    "1e-7",
    "\"\"",
    "\"a\\\"b\"",
    "\"\\u00e9\\ud83c\\udf88\"",
    "\"\\ud800\"",
    "\"\\udc00 lone trailing\"",
    "\"é 🎈 \\/ \\b\\f\\n\\r\\t\"",
    "[]",
    "[ 1 , [ ] , { } ]",
    "{}",
    "{ \"a\" : 1 , \"b\" : [ true , null ] }",
    "{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"}",
    "\n\t{\"a\":{\"b\":{\"c\":[[[[\"deep\"]]]]}}}\r ",
    "",
    " ",
    "nul",
    "tru",
    "01",
    "-",
    "1.",
    ".5",
    "1e",
    "1e+",
    "+1",
    "\"unterminated",
    "\"tab\there\"",
    "\"bad \\x escape\"",
    "\"\\u12\"",
    "\"\\u12G4\"",
    "[1,]",
    "[1 2]",
    "{\"a\" 1}",
    "{\"a\":1,}",
    "{a:1}",
    "{\"a\":1 \"b\":2}",
    "[",
    "]",
    "{",
    "}",
    "1 2",
    "[1]]",
    "{\"a\":}",
    "NaN",
    "Infinity",
    "'single'",
    "[1,\n2,\n3]",
    "{\"\":\"\"}",
];

#[test]
fn values_are_accepted_and_refused_as_serde_json_accepts_and_refuses_them() {
    for text in TEXTS {
        let ours = value(text);
        let theirs = serde_json::from_str::<&RawValue>(text);
        match (&ours, &theirs) {
            (Ok(ours), Ok(theirs)) => assert_eq!(*ours, theirs.get(), "{text:?}"),
            (Err(_), Err(_)) => {}
            _ => panic!("{text:?}: ours {ours:?}, serde_json {theirs:?}"),
        }
    }
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert_eq!(value(&deep), Ok(deep.as_str()), "nesting is not limited, as for serde_json's raw values");
}

#[test]
fn strings_decode_as_serde_json_decodes_them_into_a_string() {
    for text in TEXTS.iter().filter(|text| value(text).is_ok_and(|checked| checked.starts_with('"'))) {
        let checked = value(text).expect("checked");
        let ours = string(checked).map(|decoded| decoded.map(Cow::into_owned));
        let theirs = serde_json::from_str::<String>(text);
        match (&ours, &theirs) {
            (Ok(Some(ours)), Ok(theirs)) => assert_eq!(ours, theirs, "{text:?}"),
            (Err(_), Err(_)) => {}
            _ => panic!("{text:?}: ours {ours:?}, serde_json {theirs:?}"),
        }
    }
    assert_eq!(string("12"), Ok(None));
}

#[test]
fn strings_are_escaped_as_serde_json_escapes_them() {
    let every_ascii: String = (0u8..=0x7f).map(char::from).collect();
    for text in [every_ascii.as_str(), "", "plain", "é 🎈 \u{2028} \u{7f}", "\"\\"] {
        assert_eq!(quoted_string(text), serde_json::to_string(text).expect("a string serializes"), "{text:?}");
        let quoted = quoted_string(text);
        assert_eq!(string(value(&quoted).expect("JSON")).expect("decodes").as_deref(), Some(text));
    }
}

#[test]
fn members_and_items_give_raw_values_in_order() {
    let object = value(r#" { "b" : [ 1 , 2 ] , "a\u0062" : {"x":null} , "b" : "again" } "#).expect("JSON");
    let found = members(object).expect("keys decode").expect("an object");
    let found: Vec<(&str, &str)> = found.iter().map(|(key, raw)| (key.as_ref(), *raw)).collect();
    assert_eq!(found, vec![("b", "[ 1 , 2 ]"), ("ab", r#"{"x":null}"#), ("b", r#""again""#)]);
    assert_eq!(members("[1]"), Ok(None));
    assert_eq!(members("{}"), Ok(Some(Vec::new())));
    assert!(members(r#"{"\ud800":1}"#).is_err(), "a key with a lone surrogate");
    assert_eq!(items("[ 1 ,\"two\", [3] ]"), Some(vec!["1", "\"two\"", "[3]"]));
    assert_eq!(items("[]"), Some(Vec::new()));
    assert_eq!(items("{}"), None);
}

#[test]
fn only_plain_unsigned_integers_are_unsigned() {
    assert_eq!(unsigned("0"), Some(0));
    assert_eq!(unsigned("18446744073709551615"), Some(u64::MAX));
    for not_unsigned in ["18446744073709551616", "-0", "-1", "1.0", "1e3", "\"1\"", "null", ""] {
        assert_eq!(unsigned(not_unsigned), None, "{not_unsigned}");
        assert!(serde_json::from_str::<u64>(not_unsigned).is_err(), "serde_json refuses {not_unsigned} too");
    }
    assert_eq!((boolean("true"), boolean("false"), boolean("null")), (Some(true), Some(false), None));
    assert!(is_null("null") && !is_null("false"));
}
