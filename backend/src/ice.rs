//! ICE servers handed to clients: STUN URLs as configured, and TURN with short-lived
//! credentials minted per login by the TURN REST scheme that coturn's `use-auth-secret`
//! checks: username `EXPIRY:NAME`, credential `base64(HMAC-SHA1(secret, username))`.
//! No static TURN password ever reaches a browser.

use base64::Engine;
use hmac::{Hmac, Mac};
use protocol::{IceServer, UserName};
use sha1::Sha1;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// TURN REST credentials for `name`, valid until `now + ttl`.
pub fn turn_credentials(secret: &str, name: &UserName, now: SystemTime, ttl: Duration) -> (String, String) {
    let expiry = now.duration_since(UNIX_EPOCH).unwrap_or_default().saturating_add(ttl).as_secs();
    let username = format!("{expiry}:{name}");
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(username.as_bytes());
    let credential = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    (username, credential)
}

/// STUN servers for everyone (sent in `hello`, before login).
pub fn stun_servers(stun_urls: &[String]) -> Vec<IceServer> {
    if stun_urls.is_empty() {
        return Vec::new();
    }
    vec![IceServer { urls: stun_urls.to_vec(), username: None, credential: None }]
}

/// STUN plus TURN with fresh credentials for `name` (sent with a successful login).
pub fn servers_for_user(
    stun_urls: &[String],
    turn_urls: &[String],
    turn_secret: Option<&str>,
    ttl: Duration,
    name: &UserName,
) -> Vec<IceServer> {
    let mut servers = stun_servers(stun_urls);
    if let (false, Some(secret)) = (turn_urls.is_empty(), turn_secret) {
        let (username, credential) = turn_credentials(secret, name, SystemTime::now(), ttl);
        servers.push(IceServer { urls: turn_urls.to_vec(), username: Some(username), credential: Some(credential) });
    }
    servers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turn_rest_credentials_match_an_independent_computation() {
        // Expected value from: printf '%s' '1700003600:alice' | openssl dgst -sha1 -hmac 'north' -binary | base64
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let (username, credential) =
            turn_credentials("north", &UserName::from_wire("alice"), now, Duration::from_secs(3600));
        assert_eq!(username, "1700003600:alice");
        assert_eq!(credential, "wjwSXO2ch1B6VaLTLMy2Avn5O9o=");
    }

    #[test]
    fn turn_is_only_offered_with_both_urls_and_a_secret() {
        let name = UserName::from_wire("bob");
        let stun = vec!["stun:127.0.0.1:3478".to_owned()];
        let turn = vec!["turn:127.0.0.1:3478?transport=udp".to_owned()];
        let ttl = Duration::from_secs(60);
        assert_eq!(servers_for_user(&stun, &turn, None, ttl, &name).len(), 1);
        assert_eq!(servers_for_user(&stun, &[], Some("s"), ttl, &name).len(), 1);
        let both = servers_for_user(&stun, &turn, Some("s"), ttl, &name);
        assert_eq!(both.len(), 2);
        assert!(both[1].username.as_deref().is_some_and(|user| user.ends_with(":bob")));
        assert!(servers_for_user(&[], &[], None, ttl, &name).is_empty());
    }
}
