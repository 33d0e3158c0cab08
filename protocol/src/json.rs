//! A small JSON reader and writer with no dependencies, for the web app: its wasm reads server
//! messages, payloads and its own stored settings with this instead of `serde_json` (about
//! 16 KB gzip less, see BENCHMARKS.md "Web app size"). The server keeps `serde_json`.
//!
//! Reading is in two steps. [`value`] checks that a text is one JSON value, by the same grammar
//! as `serde_json` (which accepts lone `\u` surrogates in strings it only skips), and returns it
//! without surrounding white space. The accessors then read a checked value: [`members`] of an
//! object as (key, raw value text) pairs, [`items`] of an array, [`string`], [`boolean`],
//! [`unsigned`], [`is_null`]. Strings are decoded like `serde_json` decodes a Rust `String`
//! (escapes, surrogate pairs; a lone surrogate is an error).
//!
//! Writing: [`write_string`] escapes exactly as `serde_json` does (`\"`, `\\`, `\b`, `\t`, `\n`,
//! `\f`, `\r`, other control characters as `\u00xx`; everything else as it is).

use std::borrow::Cow;
use std::fmt;

/// A text that is not one JSON value, or a string that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// What was wrong.
    pub problem: &'static str,
    /// Byte offset in the text where it was noticed.
    pub at: usize,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} at byte {}", self.problem, self.at)
    }
}

impl std::error::Error for SyntaxError {}

fn is_white_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\n' | b'\t' | b'\r')
}

/// Index of the first byte at or after `at` that is not white space.
fn skip_white_space(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && is_white_space(bytes[at]) {
        at += 1;
    }
    at
}

/// `text` checked to be exactly one JSON value (white space around it allowed), without that
/// white space.
pub fn value(text: &str) -> Result<&str, SyntaxError> {
    let bytes = text.as_bytes();
    let start = skip_white_space(bytes, 0);
    let end = value_end(bytes, start)?;
    let after = skip_white_space(bytes, end);
    if after != bytes.len() {
        return Err(SyntaxError { problem: "trailing characters", at: after });
    }
    Ok(&text[start..end])
}

/// The end of the value starting at `at` (which is not white space), checking its syntax.
/// Nesting is followed with a stack of open brackets, not recursion, so depth is not limited.
fn value_end(bytes: &[u8], mut at: usize) -> Result<usize, SyntaxError> {
    let mut open: Vec<u8> = Vec::new();
    loop {
        // A value starts at `at`.
        at = skip_white_space(bytes, at);
        match bytes.get(at) {
            None => return Err(SyntaxError { problem: "end of text where a value was expected", at }),
            Some(b'{') => {
                let next = skip_white_space(bytes, at + 1);
                if bytes.get(next) == Some(&b'}') {
                    at = next + 1;
                } else {
                    open.push(b'}');
                    at = member_value_start(bytes, next)?;
                    continue;
                }
            }
            Some(b'[') => {
                let next = skip_white_space(bytes, at + 1);
                if bytes.get(next) == Some(&b']') {
                    at = next + 1;
                } else {
                    open.push(b']');
                    at = next;
                    continue;
                }
            }
            Some(b'"') => at = string_end(bytes, at)?,
            Some(b'-' | b'0'..=b'9') => at = number_end(bytes, at)?,
            Some(b't') => at = literal_end(bytes, at, b"true")?,
            Some(b'f') => at = literal_end(bytes, at, b"false")?,
            Some(b'n') => at = literal_end(bytes, at, b"null")?,
            Some(_) => return Err(SyntaxError { problem: "expected a value", at }),
        }
        // A value ended at `at`: close brackets, or go on to the next item or member.
        loop {
            let Some(&closing) = open.last() else { return Ok(at) };
            at = skip_white_space(bytes, at);
            match bytes.get(at) {
                Some(b',') if closing == b']' => {
                    at += 1;
                    break;
                }
                Some(b',') => {
                    at = member_value_start(bytes, skip_white_space(bytes, at + 1))?;
                    break;
                }
                Some(&byte) if byte == closing => {
                    open.pop();
                    at += 1;
                }
                _ => return Err(SyntaxError { problem: "expected `,` or a closing bracket", at }),
            }
        }
    }
}

/// Reads `"key" :` at `at` (not white space) and returns where the member's value starts.
fn member_value_start(bytes: &[u8], at: usize) -> Result<usize, SyntaxError> {
    if bytes.get(at) != Some(&b'"') {
        return Err(SyntaxError { problem: "expected a key", at });
    }
    let colon = skip_white_space(bytes, string_end(bytes, at)?);
    if bytes.get(colon) != Some(&b':') {
        return Err(SyntaxError { problem: "expected `:`", at: colon });
    }
    Ok(colon + 1)
}

fn literal_end(bytes: &[u8], at: usize, literal: &[u8]) -> Result<usize, SyntaxError> {
    let end = at + literal.len();
    if bytes.get(at..end) == Some(literal) {
        Ok(end)
    } else {
        Err(SyntaxError { problem: "expected a value", at })
    }
}

fn digits_end(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(u8::is_ascii_digit) {
        at += 1;
    }
    at
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
fn number_end(bytes: &[u8], start: usize) -> Result<usize, SyntaxError> {
    let invalid = |at| Err(SyntaxError { problem: "invalid number", at });
    let mut at = start + usize::from(bytes[start] == b'-');
    match bytes.get(at) {
        Some(b'0') => {
            at += 1;
            if bytes.get(at).is_some_and(u8::is_ascii_digit) {
                return invalid(at);
            }
        }
        Some(b'1'..=b'9') => at = digits_end(bytes, at),
        _ => return invalid(at),
    }
    if bytes.get(at) == Some(&b'.') {
        let fraction_end = digits_end(bytes, at + 1);
        if fraction_end == at + 1 {
            return invalid(fraction_end);
        }
        at = fraction_end;
    }
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(bytes.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        let exponent_end = digits_end(bytes, at);
        if exponent_end == at {
            return invalid(exponent_end);
        }
        at = exponent_end;
    }
    Ok(at)
}

/// The end of the string whose opening quote is at `start`: no control characters, only
/// JSON's escapes (`\u` with four hex digits, any value).
fn string_end(bytes: &[u8], start: usize) -> Result<usize, SyntaxError> {
    let mut at = start + 1;
    loop {
        match bytes.get(at) {
            None => return Err(SyntaxError { problem: "end of text inside a string", at }),
            Some(b'"') => return Ok(at + 1),
            Some(b'\\') => match bytes.get(at + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => at += 2,
                Some(b'u') if hex4(bytes, at + 2).is_some() => at += 6,
                _ => return Err(SyntaxError { problem: "invalid escape", at }),
            },
            Some(byte) if *byte < 0x20 => return Err(SyntaxError { problem: "control character in a string", at }),
            Some(_) => at += 1,
        }
    }
}

/// The four hex digits at `at` as a number.
fn hex4(bytes: &[u8], at: usize) -> Option<u16> {
    bytes.get(at..at + 4)?.iter().try_fold(0, |value: u16, byte| {
        let digit = char::from(*byte).to_digit(16)?;
        Some(value << 4 | u16::try_from(digit).ok()?)
    })
}

/// An object's members: each key decoded, and its value's raw text.
pub type Members<'a> = Vec<(Cow<'a, str>, &'a str)>;

/// The members of a checked object value (keys decoded, values as raw text without white
/// space), in order; `Ok(None)` when `value` is not an object. A key with a lone surrogate is an
/// error, as `serde_json` makes it one for the objects it reads into structs.
pub fn members(value: &str) -> Result<Option<Members<'_>>, SyntaxError> {
    let bytes = value.as_bytes();
    if bytes.first() != Some(&b'{') {
        return Ok(None);
    }
    let mut found = Vec::new();
    let mut at = skip_white_space(bytes, 1);
    while bytes.get(at) == Some(&b'"') {
        let key_end = string_end(bytes, at)?;
        let key = decode_string(value, at, key_end)?;
        let value_start = skip_white_space(bytes, skip_white_space(bytes, key_end) + 1);
        let value_end = value_end(bytes, value_start)?;
        found.push((key, &value[value_start..value_end]));
        at = skip_white_space(bytes, value_end);
        if bytes.get(at) == Some(&b',') {
            at = skip_white_space(bytes, at + 1);
        }
    }
    Ok(Some(found))
}

/// The items of a checked array value as raw text, in order; `None` when it is not an array.
pub fn items(value: &str) -> Option<Vec<&str>> {
    let bytes = value.as_bytes();
    if bytes.first() != Some(&b'[') {
        return None;
    }
    let mut found = Vec::new();
    let mut at = skip_white_space(bytes, 1);
    while bytes.get(at).is_some_and(|byte| *byte != b']') {
        let end = value_end(bytes, at).ok()?;
        found.push(&value[at..end]);
        at = skip_white_space(bytes, end);
        if bytes.get(at) == Some(&b',') {
            at = skip_white_space(bytes, at + 1);
        }
    }
    Some(found)
}

/// A checked string value decoded; `Ok(None)` when `value` is not a string.
pub fn string(value: &str) -> Result<Option<Cow<'_, str>>, SyntaxError> {
    if !value.starts_with('"') {
        return Ok(None);
    }
    decode_string(value, 0, value.len()).map(Some)
}

/// Decodes the checked string `text[start..end]` (quotes included).
fn decode_string(text: &str, start: usize, end: usize) -> Result<Cow<'_, str>, SyntaxError> {
    let inner = &text[start + 1..end - 1];
    if !inner.contains('\\') {
        return Ok(Cow::Borrowed(inner));
    }
    let bytes = inner.as_bytes();
    let mut decoded = String::with_capacity(inner.len());
    let mut at = 0;
    while let Some(offset) = inner[at..].find('\\') {
        decoded.push_str(&inner[at..at + offset]);
        at += offset;
        let lone = Err(SyntaxError { problem: "lone surrogate in a \\u escape", at: start + 1 + at });
        let escaped = match bytes[at + 1] {
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = u32::from(hex4(bytes, at + 2).unwrap_or_default());
                at += 4;
                let code = if (0xD800..0xDC00).contains(&first) {
                    let second = (bytes.get(at + 2..at + 4) == Some(b"\\u"))
                        .then(|| hex4(bytes, at + 4))
                        .flatten()
                        .map(u32::from)
                        .filter(|second| (0xDC00..0xE000).contains(second));
                    let Some(second) = second else { return lone };
                    at += 6;
                    0x1_0000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                } else {
                    first
                };
                match char::from_u32(code) {
                    Some(character) => character,
                    None => return lone,
                }
            }
            other => char::from(other),
        };
        decoded.push(escaped);
        at += 2;
    }
    decoded.push_str(&inner[at..]);
    Ok(Cow::Owned(decoded))
}

/// A checked `true` or `false`.
pub fn boolean(value: &str) -> Option<bool> {
    match value {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// A checked `null`.
pub fn is_null(value: &str) -> bool {
    value == "null"
}

/// A checked number that is a whole non-negative integer written without fraction or exponent
/// and fits a `u64` (what `serde_json` reads into an unsigned integer field).
pub fn unsigned(value: &str) -> Option<u64> {
    if value.is_empty() || !value.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// Appends `text` as a JSON string, escaped as `serde_json` escapes it.
pub fn write_string(out: &mut String, text: &str) {
    out.push('"');
    let mut copied = 0;
    for (at, byte) in text.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0c => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&text[copied..at]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        } else {
            out.push_str(escape);
        }
        copied = at + 1;
    }
    out.push_str(&text[copied..]);
    out.push('"');
}

/// `text` as a JSON string.
pub fn quoted_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    write_string(&mut out, text);
    out
}

#[cfg(test)]
mod tests;
