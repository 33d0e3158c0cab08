//! [`find_text`]: where one piece of text first occurs in another, as `str::find` with a `&str`
//! pattern answers, by comparing bytes. A match of valid UTF-8 starts at a character boundary
//! (its first byte is never a continuation byte), so the answer is the same; the wasm then
//! carries no two-way substring searcher (`StrSearcher`, about 2.5 KB raw: BENCHMARKS.md, "Web
//! app size"). The texts searched are short (a chat message, an address, an offer's JSON).

/// The byte index of the first occurrence of `needle` in `haystack`, as `haystack.find(needle)`.
pub fn find_text(haystack: &str, needle: &str) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.as_bytes().windows(needle.len()).position(|window| window == needle.as_bytes())
}

/// Whether `needle` occurs in `haystack`, as `haystack.contains(needle)`.
pub fn contains_text(haystack: &str, needle: &str) -> bool {
    find_text(haystack, needle).is_some()
}

#[cfg(test)]
mod tests {
    use super::{contains_text, find_text};

    #[test]
    fn find_text_answers_as_str_find_does() {
        let cases = [
            ("see https://example.org and http://a.b", "http://"),
            ("see https://example.org and http://a.b", "https://"),
            ("déjà vu https://é.example", "https://"),
            ("naïve", "ï"),
            ("abc", ""),
            ("", "a"),
            ("ab", "abc"),
            ("aaab", "aab"),
            (r#"{"type":"offer","sdp":"v=0"}"#, r#""type":"offer""#),
            (r#"{"type":"answer","sdp":"v=0"}"#, r#""type":"offer""#),
        ];
        for (haystack, needle) in cases {
            assert_eq!(find_text(haystack, needle), haystack.find(needle), "{haystack:?} {needle:?}");
            assert_eq!(contains_text(haystack, needle), haystack.contains(needle), "{haystack:?} {needle:?}");
        }
    }
}
