//! Resume tokens: stateless, signed, short-lived. A token says "whoever holds this may take the
//! name N until time T", signed with the server's secret, so any server process with the same
//! secret accepts it: one restarted from the same working directory (the secret file), or
//! another node of a cluster (the secret shared by option). Nothing is stored per token.
//!
//! Format: `v1.` + base64url(`EXPIRY:NONCE:NAME`) + `.` + base64url(HMAC-SHA256(secret, `v1.` +
//! payload)), no padding; EXPIRY in Unix seconds, NONCE 16 random hex digits (so every token
//! differs, even two for one name within a second; fetched from the OS 64 at a time), NAME the display form at sign-in. A token is
//! valid for every spelling with the same [`protocol::NameKey`] (and no other), checked with a
//! constant-time compare (`hmac`'s `verify_slice`) before anything in the payload is believed.
//!
//! Threat model: a leaked token lets its holder take the name (and resume the pairing of its
//! call, not its media, which is DTLS-SRTP between the browsers) until it expires. So tokens
//! live minutes (`--resume-token-ttl`), every sign-in gets a new one, and none is ever logged.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use protocol::{ResumeToken, UserName};
use sha2::Sha256;
use std::fmt;
use std::path::Path;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const VERSION_PREFIX: &str = "v1.";

/// Bytes of a generated secret.
pub const GENERATED_SECRET_BYTES: usize = 32;

/// Shortest secret accepted from an option or a file.
pub const MIN_SECRET_BYTES: usize = 16;

/// The key resume tokens are signed with. Its `Debug` never shows it.
#[derive(Clone)]
pub struct ResumeSecret {
    bytes: Vec<u8>,
    /// HMAC-SHA256 already keyed with `bytes` (its inner and outer pads hashed once, not for
    /// every token: two SHA-256 blocks fewer per sign-in); cloned for each token.
    keyed: Hmac<Sha256>,
}

impl fmt::Debug for ResumeSecret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "ResumeSecret(<{} bytes>)", self.bytes.len())
    }
}

/// Why a token was refused: the words go to the client in `resume_refused`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("The resume token is not one this server issued; sign in without it.")]
    Forged,
    #[error("The resume token has expired; sign in without it.")]
    Expired,
    #[error("The resume token belongs to another name; sign in without it.")]
    OtherName,
    #[error("The resume token is not in a format this server knows; sign in without it.")]
    Malformed,
}

/// Why a secret could not be read, parsed or created.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the resume secret must be hex or base64 of at least {MIN_SECRET_BYTES} bytes")]
    Unreadable,
    #[error("could not read or create the resume secret file {path}: {source}")]
    File { path: String, source: std::io::Error },
}

impl ResumeSecret {
    fn from_bytes(bytes: Vec<u8>) -> ResumeSecret {
        let keyed = <Hmac<Sha256> as Mac>::new_from_slice(&bytes)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        ResumeSecret { bytes, keyed }
    }

    /// A fresh random secret (the library's default: tokens then live as long as the process).
    pub fn random() -> ResumeSecret {
        let mut bytes = vec![0u8; GENERATED_SECRET_BYTES];
        // The OS random source does not fail on supported platforms.
        getrandom::fill(&mut bytes).unwrap_or_else(|error| panic!("no random source for the resume secret: {error}"));
        ResumeSecret::from_bytes(bytes)
    }

    /// Parses a secret given as hex or base64 (standard or URL-safe, padded or not).
    pub fn parse(text: &str) -> Result<ResumeSecret, SecretError> {
        let text = text.trim();
        let hex = || hex::decode(text).ok();
        let base64 = || {
            use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE};
            [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD]
                .iter()
                .find_map(|engine| engine.decode(text).ok())
        };
        match hex().or_else(base64) {
            Some(bytes) if bytes.len() >= MIN_SECRET_BYTES => Ok(ResumeSecret::from_bytes(bytes)),
            _ => Err(SecretError::Unreadable),
        }
    }

    /// The secret in `path` (hex, as written here, or base64); when the file does not exist,
    /// a new random one is written there first, readable by this user only (0600).
    pub fn load_or_create(path: &Path) -> Result<ResumeSecret, SecretError> {
        let file_error = |source| SecretError::File { path: path.display().to_string(), source };
        match std::fs::read_to_string(path) {
            Ok(text) => ResumeSecret::parse(&text),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let secret = ResumeSecret::random();
                let hex = hex::encode(&secret.bytes);
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(path).map_err(file_error)?;
                std::io::Write::write_all(&mut file, format!("{hex}\n").as_bytes()).map_err(file_error)?;
                Ok(secret)
            }
            Err(error) => Err(file_error(error)),
        }
    }

    fn mac(&self) -> Hmac<Sha256> {
        self.keyed.clone()
    }

    /// A token for `name`, valid until `now + ttl` (whole seconds).
    pub fn issue(&self, name: &UserName, now: SystemTime, ttl: Duration) -> ResumeToken {
        let expiry = unix_seconds(now).saturating_add(ttl.as_secs().max(1));
        let plain = format!("{expiry}:{:016x}:{name}", random_nonce());
        // `v1.` + payload, then `.` + signature, built in one string.
        let mut token = String::with_capacity(VERSION_PREFIX.len() + plain.len().div_ceil(3) * 4 + 1 + 43);
        token.push_str(VERSION_PREFIX);
        URL_SAFE_NO_PAD.encode_string(&plain, &mut token);
        let mut mac = self.mac();
        mac.update(token.as_bytes());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(mac.finalize().into_bytes(), &mut token);
        ResumeToken::from_wire(token)
    }

    /// Checks `token` for a login as `name` at `now`; returns the name's display form as it was
    /// when the token was issued (same key as `name`).
    pub fn verify(&self, token: &ResumeToken, name: &UserName, now: SystemTime) -> Result<UserName, TokenError> {
        let text = token.as_str();
        let rest = text.strip_prefix(VERSION_PREFIX).ok_or(TokenError::Malformed)?;
        let (payload, signature) = rest.split_once('.').ok_or(TokenError::Malformed)?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| TokenError::Malformed)?;
        let mut mac = self.mac();
        mac.update(&text.as_bytes()[..VERSION_PREFIX.len() + payload.len()]);
        mac.verify_slice(&signature).map_err(|_| TokenError::Forged)?;
        // Signed by us: from here on the payload is ours.
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| TokenError::Malformed)?;
        let payload = String::from_utf8(payload).map_err(|_| TokenError::Malformed)?;
        let (expiry, rest) = payload.split_once(':').ok_or(TokenError::Malformed)?;
        let (_nonce, token_name) = rest.split_once(':').ok_or(TokenError::Malformed)?;
        let expiry: u64 = expiry.parse().map_err(|_| TokenError::Malformed)?;
        if unix_seconds(now) > expiry {
            return Err(TokenError::Expired);
        }
        let token_name = UserName::from_wire(token_name);
        if token_name.key() != name.key() {
            return Err(TokenError::OtherName);
        }
        Ok(token_name)
    }
}

/// Token nonces fetched from the OS random source this many at a time: one `getrandom` system
/// call per this many sign-ins instead of one each.
const NONCES_PER_FETCH: usize = 64;

/// The nonces fetched and not yet used (`used` of them are), shared by the whole process.
struct NonceBatch {
    nonces: [u64; NONCES_PER_FETCH],
    used: usize,
}

static NONCES: Mutex<NonceBatch> = Mutex::new(NonceBatch { nonces: [0; NONCES_PER_FETCH], used: NONCES_PER_FETCH });

/// A random nonce for a token, each one used once.
fn random_nonce() -> u64 {
    let mut batch = NONCES.lock().unwrap_or_else(PoisonError::into_inner);
    if batch.used == NONCES_PER_FETCH {
        let mut bytes = [0u8; NONCES_PER_FETCH * 8];
        // A failed random source only makes two tokens of one second equal, never invalid.
        let _ = getrandom::fill(&mut bytes);
        for (nonce, chunk) in batch.nonces.iter_mut().zip(bytes.chunks_exact(8)) {
            *nonce = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        }
        batch.used = 0;
    }
    let nonce = batch.nonces[batch.used];
    batch.used += 1;
    nonce
}

fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn secret(byte: u8) -> ResumeSecret {
        ResumeSecret::from_bytes(vec![byte; 32])
    }

    fn name(text: &str) -> UserName {
        UserName::from_wire(text)
    }

    #[test]
    fn a_token_is_accepted_by_any_holder_of_the_same_secret_for_the_same_name() {
        let now = SystemTime::now();
        let token = secret(7).issue(&name("Alice"), now, MINUTE);
        assert!(token.as_str().starts_with("v1."));
        assert_ne!(secret(7).issue(&name("Alice"), now, MINUTE), token, "a new token every time");
        assert_eq!(secret(7).verify(&token, &name("alice"), now + MINUTE / 2), Ok(name("Alice")));
        assert_eq!(secret(7).verify(&token, &name("ALICE"), now), Ok(name("Alice")), "another spelling, same key");
    }

    #[test]
    fn a_token_signed_with_another_secret_or_altered_is_forged() {
        let now = SystemTime::now();
        let token = secret(7).issue(&name("alice"), now, MINUTE);
        assert_eq!(secret(8).verify(&token, &name("alice"), now), Err(TokenError::Forged));
        let (_, signature) = token.as_str().rsplit_once('.').expect("signature");
        let forged_payload = URL_SAFE_NO_PAD.encode(format!("{}:0:mallory", unix_seconds(now) + 3600));
        let altered = ResumeToken::from_wire(format!("v1.{forged_payload}.{signature}"));
        assert_eq!(secret(7).verify(&altered, &name("mallory"), now), Err(TokenError::Forged));
        let mut mac = secret(9).mac();
        mac.update(format!("v1.{forged_payload}").as_bytes());
        let wrong_key = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        let altered = ResumeToken::from_wire(format!("v1.{forged_payload}.{wrong_key}"));
        assert_eq!(secret(7).verify(&altered, &name("mallory"), now), Err(TokenError::Forged));
    }

    #[test]
    fn a_token_is_the_documented_format_signed_with_a_freshly_keyed_hmac() {
        let now = SystemTime::now();
        let token = secret(7).issue(&name("Alice"), now, MINUTE);
        let (signed, signature) = token.as_str().rsplit_once('.').expect("signature");
        let payload = signed.strip_prefix(VERSION_PREFIX).expect("prefix");
        let plain = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("UTF-8");
        let mut parts = plain.splitn(3, ':');
        assert_eq!(parts.next(), Some((unix_seconds(now) + 60).to_string().as_str()));
        let nonce = parts.next().expect("nonce");
        assert!(nonce.len() == 16 && nonce.bytes().all(|byte| byte.is_ascii_hexdigit()), "{nonce:?}");
        assert_eq!(parts.next(), Some("Alice"));
        let mut fresh = <Hmac<Sha256> as Mac>::new_from_slice(&[7u8; 32]).expect("key");
        fresh.update(signed.as_bytes());
        assert_eq!(signature, URL_SAFE_NO_PAD.encode(fresh.finalize().into_bytes()));
    }

    #[test]
    fn nonces_differ_across_more_than_one_fetch_from_the_random_source() {
        let nonces: std::collections::HashSet<u64> = (0..NONCES_PER_FETCH * 3).map(|_| random_nonce()).collect();
        assert_eq!(nonces.len(), NONCES_PER_FETCH * 3);
    }

    #[test]
    fn a_token_past_its_expiry_is_expired() {
        let now = SystemTime::now();
        let token = secret(7).issue(&name("alice"), now, MINUTE);
        assert!(secret(7).verify(&token, &name("alice"), now + MINUTE).is_ok());
        assert_eq!(secret(7).verify(&token, &name("alice"), now + MINUTE * 2), Err(TokenError::Expired));
    }

    #[test]
    fn a_token_for_another_name_or_a_look_alike_of_another_is_refused() {
        let now = SystemTime::now();
        let token = secret(7).issue(&name("alice"), now, MINUTE);
        assert_eq!(secret(7).verify(&token, &name("bob"), now), Err(TokenError::OtherName));
        assert_eq!(secret(7).verify(&token, &name("alicia"), now), Err(TokenError::OtherName));
    }

    #[test]
    fn anything_not_shaped_like_a_token_is_malformed_and_old_random_tokens_too() {
        let now = SystemTime::now();
        for text in ["", "v1.", "v1.abc", "v2.abc.def", "0123456789abcdef0123456789abcdef", "v1.abc.%%%"] {
            assert_eq!(
                secret(7).verify(&ResumeToken::from_wire(text), &name("alice"), now),
                Err(TokenError::Malformed),
                "{text:?}"
            );
        }
    }

    #[test]
    fn secrets_parse_from_hex_or_base64_and_short_ones_are_refused() {
        let hex = "00112233445566778899aabbccddeeff";
        assert_eq!(ResumeSecret::parse(hex).expect("hex").bytes.len(), 16);
        assert_eq!(ResumeSecret::parse(&format!(" {hex}\n")).expect("trimmed").bytes.len(), 16);
        let base64 = base64::engine::general_purpose::STANDARD.encode([5u8; 24]);
        assert_eq!(ResumeSecret::parse(&base64).expect("base64").bytes, vec![5u8; 24]);
        assert!(ResumeSecret::parse("0011").is_err());
        assert!(ResumeSecret::parse("not a secret!").is_err());
        assert!(!format!("{:?}", secret(7)).contains("7, 7"), "Debug hides the key");
    }

    #[test]
    fn a_missing_secret_file_is_created_private_and_read_back_the_same() {
        let folder = tempfile::tempdir().expect("temporary folder");
        let path = folder.path().join("duet-resume-secret");
        let created = ResumeSecret::load_or_create(&path).expect("created");
        let read = ResumeSecret::load_or_create(&path).expect("read back");
        assert_eq!(created.bytes, read.bytes);
        assert_eq!(created.bytes.len(), GENERATED_SECRET_BYTES);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("metadata").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let now = SystemTime::now();
        let token = created.issue(&name("alice"), now, MINUTE);
        assert!(read.verify(&token, &name("alice"), now).is_ok());
    }
}
