//! Unicode upper- and lower-casing of names. In the browser the JavaScript engine does it
//! (`String.prototype.toLowerCase` / `toUpperCase`: the same Unicode default case mappings as
//! Rust's `str::to_lowercase` / `to_uppercase`, final sigma included), so the wasm carries none of
//! core's case tables (about 24 KB, 11 KB gzip); natively (the reducer's unit tests) Rust's own.

/// `text` in lower case.
#[cfg(target_arch = "wasm32")]
pub fn lowercase(text: &str) -> String {
    js_sys::JsString::from(text).to_lower_case().into()
}

/// `text` in lower case.
#[cfg(not(target_arch = "wasm32"))]
pub fn lowercase(text: &str) -> String {
    text.to_lowercase()
}

/// `text` in upper case.
#[cfg(target_arch = "wasm32")]
pub fn uppercase(text: &str) -> String {
    js_sys::JsString::from(text).to_upper_case().into()
}

/// `text` in upper case.
#[cfg(not(target_arch = "wasm32"))]
pub fn uppercase(text: &str) -> String {
    text.to_uppercase()
}

/// The first letter of `name` in upper case (it may become two, as `ß` does), for an avatar;
/// `?` for an empty name.
pub fn initial(name: &str) -> String {
    let mut first = [0_u8; 4];
    uppercase(name.chars().next().unwrap_or('?').encode_utf8(&mut first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_initial_is_the_first_letter_in_upper_case() {
        assert_eq!(initial("émile"), "É");
        assert_eq!(initial("ßa"), "SS");
        assert_eq!(initial(""), "?");
    }
}
