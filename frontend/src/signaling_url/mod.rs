//! Works out which WebSocket URL to reach the signaling server at, so one built bundle runs from
//! any host or CDN, and refuses a link that would route a person's signaling (names, SDP)
//! through a server the deployment does not allow. Pure string logic, unit-tested natively; the
//! browser glue only reads the inputs (page URL, `?signaling=` query parameter, the
//! `<meta name="duet-signaling-url">` and `<meta name="duet-allowed-signaling-origins">` tags).
//!
//! Precedence: the `signaling` query parameter, then the meta tag, then same-origin `/ws`.
//! Relative values (`/ws`, `//host/ws`) are resolved against the page; `http(s)://` becomes
//! `ws(s)://`; the scheme of a same-origin default follows the page (`https:` → `wss:`).
//!
//! Allowed origins: the page's own (in its WebSocket form), the meta tag's, and those the
//! allow-list meta tag names. The meta tag itself is the deployment's choice and always used; a
//! query parameter naming any other origin is refused with [`SignalingUrlError::OriginNotAllowed`].
//! Addresses with user info (`wss://good@evil`), white space or control characters inside, or
//! backslashes are refused outright: browsers read those differently from how people do.

use crate::errors::SignalingUrlError;
use crate::text_search::contains_text;

/// The name of the query parameter that overrides the signaling URL.
pub const SIGNALING_QUERY_PARAMETER: &str = "signaling";
/// The `<meta name=...>` whose `content` sets the signaling URL for a deployment.
pub const SIGNALING_META_NAME: &str = "duet-signaling-url";
/// The `<meta name=...>` whose `content` lists further origins (space- or comma-separated,
/// `wss://a.example wss://b.example`) that `?signaling=` may choose.
pub const ALLOWED_SIGNALING_ORIGINS_META_NAME: &str = "duet-allowed-signaling-origins";
/// The path the server accepts the web app's WebSocket on.
pub const DEFAULT_SIGNALING_PATH: &str = "/ws";

/// The most characters of an unusable address repeated in an explanation.
const MAX_SHOWN_CHARS: usize = 80;

/// Where the page was loaded from: `location.protocol` (`"https:"`) and `location.host`
/// (`"example.com:8443"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageLocation {
    pub protocol: String,
    pub host: String,
}

impl PageLocation {
    fn websocket_scheme(&self) -> &'static str {
        if self.protocol.eq_ignore_ascii_case("https:") {
            "wss"
        } else {
            "ws"
        }
    }

    fn websocket_origin(&self) -> String {
        normalised_origin(self.websocket_scheme(), &self.host.to_ascii_lowercase())
    }
}

/// The trimmed value, unless it is absent or blank (which means "not configured").
fn non_empty(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|value| !value.is_empty())
}

/// A signaling address, resolved against the page and normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SignalingAddress {
    /// `wss://host[:port]`, lowercased, without a default port.
    origin: String,
    url: String,
}

/// Picks, normalises and checks the signaling URL. `allowed_origins_value` is the content of
/// the allow-list meta tag (absent or empty: only the page's and the meta tag's origins).
pub fn resolve_signaling_url(
    page: &PageLocation,
    query_value: Option<&str>,
    meta_value: Option<&str>,
    allowed_origins_value: Option<&str>,
) -> Result<String, SignalingUrlError> {
    let meta_address = non_empty(meta_value).map(|value| parse_signaling_address(page, value));
    let Some(query_value) = non_empty(query_value) else {
        return match meta_address {
            Some(address) => address.map(|address| address.url),
            None => Ok(format!("{}://{}{}", page.websocket_scheme(), page.host, DEFAULT_SIGNALING_PATH)),
        };
    };
    let address = parse_signaling_address(page, query_value)?;
    let allowed = address.origin == page.websocket_origin()
        || meta_address.is_some_and(|meta_address| meta_address.is_ok_and(|meta| meta.origin == address.origin))
        || allowed_origins(page, allowed_origins_value).contains(&address.origin);
    if allowed {
        Ok(address.url)
    } else {
        Err(SignalingUrlError::OriginNotAllowed { origin: shown(&address.origin) })
    }
}

/// The origins the allow-list names; entries that are not absolute addresses are skipped.
fn allowed_origins(page: &PageLocation, allowed_origins_value: Option<&str>) -> Vec<String> {
    let entries = allowed_origins_value.unwrap_or_default().split(|c: char| c.is_whitespace() || c == ',');
    entries
        .filter(|entry| contains_text(entry, "://"))
        .filter_map(|entry| parse_signaling_address(page, entry).ok())
        .map(|address| address.origin)
        .collect()
}

/// Resolves one address against the page: `ws(s)://` and `http(s)://` (any case), `//host/...`
/// and `/path`. Everything else, and anything a browser might read differently, is refused.
fn parse_signaling_address(page: &PageLocation, value: &str) -> Result<SignalingAddress, SignalingUrlError> {
    let unusable = || SignalingUrlError::Unusable { shown: shown(value) };
    if value.chars().any(|c| c.is_whitespace() || c.is_control() || c == '\\') {
        return Err(unusable());
    }
    let lower = value.to_ascii_lowercase();
    let scheme_and_rest = [("wss://", "wss"), ("ws://", "ws"), ("https://", "wss"), ("http://", "ws")]
        .into_iter()
        .find(|(prefix, _)| lower.starts_with(prefix))
        .map(|(prefix, scheme)| (scheme, &value[prefix.len()..]));
    let (scheme, rest) = match scheme_and_rest {
        Some(found) => found,
        None if value.starts_with("//") => (page.websocket_scheme(), &value[2..]),
        None if value.starts_with('/') => {
            let origin = page.websocket_origin();
            return Ok(SignalingAddress { url: format!("{}://{}{value}", page.websocket_scheme(), page.host), origin });
        }
        None => return Err(unusable()),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    if authority.contains('@') {
        return Err(SignalingUrlError::HasUserInfo { shown: shown(value) });
    }
    let plain_host = |byte: u8| byte.is_ascii_alphanumeric() || b".-:[]".contains(&byte);
    if authority.is_empty() || !authority.bytes().all(plain_host) {
        return Err(unusable());
    }
    let authority = authority.to_ascii_lowercase();
    Ok(SignalingAddress { origin: normalised_origin(scheme, &authority), url: format!("{scheme}://{authority}{path}") })
}

/// `scheme://authority` without the scheme's default port (`wss://a:443` is `wss://a`).
fn normalised_origin(scheme: &str, authority: &str) -> String {
    let default_port = if scheme == "wss" { ":443" } else { ":80" };
    format!("{scheme}://{}", authority.strip_suffix(default_port).unwrap_or(authority))
}

/// A value as it may appear in an explanation: at most [`MAX_SHOWN_CHARS`] characters.
fn shown(value: &str) -> String {
    let mut shown: String = value.chars().filter(|c| !c.is_control()).take(MAX_SHOWN_CHARS).collect();
    if value.chars().count() > MAX_SHOWN_CHARS {
        shown.push('…');
    }
    shown
}

#[cfg(test)]
mod tests;
