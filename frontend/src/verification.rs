//! The call's verification code, as pure logic unit-tested natively (the reasoning is in
//! ARCHITECTURE.md, "Verification code").
//!
//! A hash commitment, as ZRTP does it: each side draws a fresh 32-byte [`Nonce`] for every call
//! (the glue, with `crypto.getRandomValues`), sends only its [`Commitment`] (SHA-256) inside its
//! offer or answer ([`with_commitment`], the app-level field [`COMMITMENT_FIELD`]), and reveals
//! the nonce on the call's data channel once DTLS is up. The peer's reveal must open the
//! commitment its offer or answer carried ([`Commitment::opens_with`]). The code is then derived
//! from both sides' DTLS certificate fingerprints, as their SDP states them ([`fingerprints`]:
//! every `a=fingerprint` line, every hash function, normalised, sorted, deduplicated), and both
//! nonces, sorted so both sides compute the same ([`verification_code`]), and read as a few words
//! of a fixed list (`words.rs`).

mod words;

use crate::sorted_pairs::SortedPairs;
use protocol::{json, SessionDescription};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::fmt;

/// The app-level field of the offer/answer object that carries the commitment (hex). The server
/// forwards the object byte for byte; browsers ignore fields they do not know.
pub const COMMITMENT_FIELD: &str = "duetCommitment";

/// How many bytes (each one word) the code shows: 32 bits, against which a server in between
/// gets one blind guess per call.
pub const CODE_WORDS: usize = 4;

/// Domain separation, so these hashes can never be confused with another use of SHA-256.
const COMMITMENT_DOMAIN: &[u8] = b"duet verification commitment v1\0";
const CODE_DOMAIN: &[u8] = b"duet verification code v1\0";

/// A side's secret for one call: 32 random bytes, kept until the data channel is up.
#[derive(Clone, PartialEq, Eq)]
pub struct Nonce(pub [u8; 32]);

impl fmt::Debug for Nonce {
    // A nonce is secret until revealed: never printed.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Nonce(..)")
    }
}

/// SHA-256 of a nonce (with the domain), sent before the nonce is revealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Commitment([u8; 32]);

/// 64 hex digits (either case) as 32 bytes; anything else is `None`.
fn bytes_from_hex(text: &str) -> Option<[u8; 32]> {
    let mut bytes = [0_u8; 32];
    hex::decode_to_slice(text, &mut bytes).ok()?;
    Some(bytes)
}

impl Nonce {
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(text: &str) -> Option<Nonce> {
        bytes_from_hex(text).map(Nonce)
    }
}

impl Commitment {
    /// The commitment to `nonce`.
    pub fn to(nonce: &Nonce) -> Commitment {
        let mut hasher = Sha256::new();
        hasher.update(COMMITMENT_DOMAIN);
        hasher.update(nonce.0);
        Commitment(hasher.finalize().into())
    }

    /// True when `nonce` is the one this commits to.
    pub fn opens_with(&self, nonce: &Nonce) -> bool {
        Commitment::to(nonce) == *self
    }

    pub fn to_hex(self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(text: &str) -> Option<Commitment> {
        bytes_from_hex(text).map(Commitment)
    }
}

/// The certificate fingerprints an SDP states, one `"hash-function HEX:HEX:..."` string per
/// distinct `a=fingerprint` line (session or media level, any hash function), the function in
/// lower case and the hex in upper case, sorted. Malformed lines are left out.
pub fn fingerprints(sdp: &str) -> Vec<String> {
    let lines = sdp.lines().filter_map(|line| line.trim().strip_prefix("a=fingerprint:")).filter_map(|value| {
        let mut parts = value.split_whitespace();
        let (function, digest) = (parts.next()?, parts.next()?);
        let well_formed = parts.next().is_none()
            && function.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !digest.is_empty()
            && digest.split(':').all(|byte| byte.len() == 2 && byte.chars().all(|c| c.is_ascii_hexdigit()));
        well_formed.then(|| format!("{} {}", function.to_ascii_lowercase(), digest.to_ascii_uppercase()))
    });
    // Sorted and deduplicated as they come (an SDP states one or a few): no slice sort in the
    // wasm (BENCHMARKS.md, "Web app size").
    let mut found: Vec<String> = Vec::new();
    for line in lines {
        if let Err(index) = found.binary_search(&line) {
            found.insert(index, line);
        }
    }
    found
}

/// The offer/answer object's fields (each key once, the last copy winning, in key order, as
/// `serde_json` reads an object into a map), each value as its raw JSON text; `None` when the
/// description is not an object.
fn description_object(description: &SessionDescription) -> Option<SortedPairs<Cow<'_, str>, &str>> {
    Some(json::members(description.as_json()).ok()??.into_iter().collect())
}

/// A string field of the description's object.
fn description_text(description: &SessionDescription, field: &str) -> Option<String> {
    let fields = description_object(description)?;
    json::string(fields.get(field)?).ok()?.map(Cow::into_owned)
}

/// The fingerprints of an offer's or answer's `sdp` (none when it has no SDP text).
pub fn description_fingerprints(description: &SessionDescription) -> Vec<String> {
    description_text(description, "sdp").map(|sdp| fingerprints(&sdp)).unwrap_or_default()
}

/// The commitment an offer or answer carries; `None` when it has none or an unreadable one.
pub fn description_commitment(description: &SessionDescription) -> Option<Commitment> {
    description_text(description, COMMITMENT_FIELD).and_then(|hex| Commitment::from_hex(&hex))
}

/// `description` with `commitment` in its [`COMMITMENT_FIELD`] (replacing any there), its
/// fields written in key order (as `serde_json` wrote them from a map, which the tests check).
/// A description that is not a JSON object is returned as it is.
pub fn with_commitment(description: &SessionDescription, commitment: &Commitment) -> SessionDescription {
    let Some(mut fields) = description_object(description) else { return description.clone() };
    let commitment_json = json::quoted_string(&commitment.to_hex());
    fields.insert(Cow::Borrowed(COMMITMENT_FIELD), &commitment_json);
    let mut text = String::with_capacity(description.as_json().len() + commitment_json.len() + 20);
    text.push('{');
    for (index, (key, value)) in fields.iter().enumerate() {
        if index > 0 {
            text.push(',');
        }
        json::write_string(&mut text, key);
        text.push(':');
        text.push_str(value);
    }
    text.push('}');
    SessionDescription::from_json(text).unwrap_or_else(|_| description.clone())
}

/// What one side of the call contributes to the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Side<'a> {
    pub fingerprints: &'a [String],
    pub nonce: &'a Nonce,
}

impl Side<'_> {
    /// This side's bytes for the hash: every fingerprint line, then the nonce, each with its
    /// length, so no two different sides encode alike.
    fn encoded(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        for line in self.fingerprints {
            bytes.extend_from_slice(&(line.len() as u64).to_be_bytes());
            bytes.extend_from_slice(line.as_bytes());
        }
        bytes.extend_from_slice(&u64::MAX.to_be_bytes());
        bytes.extend_from_slice(&self.nonce.0);
        bytes
    }
}

/// The words both screens show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerificationCode([u8; CODE_WORDS]);

impl fmt::Display for VerificationCode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words: Vec<&str> = self.0.iter().map(|byte| words::word(*byte)).collect();
        formatter.write_str(&words.join(" "))
    }
}

/// The code from both sides' fingerprints and nonces; the two sides are sorted first, so ours
/// and theirs give the same code on both screens.
pub fn verification_code(ours: &Side<'_>, theirs: &Side<'_>) -> VerificationCode {
    let mut sides = [ours.encoded(), theirs.encoded()];
    // Sorted (two of them: one comparison, no slice sort in the wasm).
    if sides[1] < sides[0] {
        sides.swap(0, 1);
    }
    let mut hasher = Sha256::new();
    hasher.update(CODE_DOMAIN);
    for side in &sides {
        hasher.update((side.len() as u64).to_be_bytes());
        hasher.update(side);
    }
    let digest = hasher.finalize();
    let mut code = [0_u8; CODE_WORDS];
    code.copy_from_slice(&digest[..CODE_WORDS]);
    VerificationCode(code)
}

#[cfg(test)]
mod tests;
