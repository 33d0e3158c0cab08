//! Works out which WebSocket URL to reach the signaling server at, so one built bundle runs from
//! any host or CDN. Pure string logic, unit-tested natively; the browser glue only reads the
//! inputs (page URL, `?signaling=` query parameter, `<meta name="duet-signaling-url">`).
//!
//! Precedence: the `signaling` query parameter, then the meta tag, then same-origin `/ws`.
//! Relative values (`/ws`, `//host/ws`) are resolved against the page; `http(s)://` becomes
//! `ws(s)://`; the scheme of a same-origin default follows the page (`https:` → `wss:`).

use crate::errors::SignalingUrlError;

/// The name of the query parameter that overrides the signaling URL.
pub const SIGNALING_QUERY_PARAMETER: &str = "signaling";
/// The `<meta name=...>` whose `content` sets the signaling URL for a deployment.
pub const SIGNALING_META_NAME: &str = "duet-signaling-url";
/// The path the server accepts the web app's WebSocket on.
pub const DEFAULT_SIGNALING_PATH: &str = "/ws";

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
}

/// Picks and normalises the signaling URL.
pub fn resolve_signaling_url(
    page: &PageLocation,
    query_value: Option<&str>,
    meta_value: Option<&str>,
) -> Result<String, SignalingUrlError> {
    let configured = [query_value, meta_value].into_iter().flatten().map(str::trim).find(|value| !value.is_empty());
    let Some(configured) = configured else {
        return Ok(format!("{}://{}{}", page.websocket_scheme(), page.host, DEFAULT_SIGNALING_PATH));
    };
    let lower = configured.to_ascii_lowercase();
    if lower.starts_with("ws://") || lower.starts_with("wss://") {
        return Ok(configured.to_owned());
    }
    if let Some(rest) = lower.strip_prefix("https://").map(|_| &configured["https://".len()..]) {
        return Ok(format!("wss://{rest}"));
    }
    if let Some(rest) = lower.strip_prefix("http://").map(|_| &configured["http://".len()..]) {
        return Ok(format!("ws://{rest}"));
    }
    if let Some(rest) = configured.strip_prefix("//") {
        return Ok(format!("{}://{rest}", page.websocket_scheme()));
    }
    if configured.starts_with('/') {
        return Ok(format!("{}://{}{configured}", page.websocket_scheme(), page.host));
    }
    Err(SignalingUrlError::UnsupportedAddress(configured.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(protocol: &str, host: &str) -> PageLocation {
        PageLocation { protocol: protocol.to_owned(), host: host.to_owned() }
    }

    #[test]
    fn default_is_same_origin_ws_path_with_scheme_matching_the_page() {
        assert_eq!(
            resolve_signaling_url(&page("http:", "127.0.0.1:8080"), None, None),
            Ok("ws://127.0.0.1:8080/ws".to_owned())
        );
        assert_eq!(
            resolve_signaling_url(&page("https:", "duet.example"), None, None),
            Ok("wss://duet.example/ws".to_owned())
        );
    }

    #[test]
    fn query_parameter_wins_over_meta_tag() {
        let resolved = resolve_signaling_url(
            &page("https:", "cdn.example"),
            Some("wss://signal.example/ws"),
            Some("wss://other.example/ws"),
        );
        assert_eq!(resolved, Ok("wss://signal.example/ws".to_owned()));
    }

    #[test]
    fn meta_tag_is_used_when_no_query_parameter_is_given() {
        let resolved = resolve_signaling_url(&page("https:", "cdn.example"), None, Some("wss://signal.example/ws"));
        assert_eq!(resolved, Ok("wss://signal.example/ws".to_owned()));
    }

    #[test]
    fn empty_configuration_values_fall_through_to_the_default() {
        let resolved = resolve_signaling_url(&page("http:", "localhost:9090"), Some("  "), Some(""));
        assert_eq!(resolved, Ok("ws://localhost:9090/ws".to_owned()));
    }

    #[test]
    fn http_urls_become_websocket_urls() {
        assert_eq!(
            resolve_signaling_url(&page("http:", "a"), Some("https://s.example/ws"), None),
            Ok("wss://s.example/ws".to_owned())
        );
        assert_eq!(
            resolve_signaling_url(&page("http:", "a"), Some("HTTP://s.example:9090/"), None),
            Ok("ws://s.example:9090/".to_owned())
        );
    }

    #[test]
    fn relative_paths_and_scheme_relative_urls_resolve_against_the_page() {
        assert_eq!(
            resolve_signaling_url(&page("https:", "app.example"), Some("/signal"), None),
            Ok("wss://app.example/signal".to_owned())
        );
        assert_eq!(
            resolve_signaling_url(&page("http:", "app.example"), Some("//s.example/ws"), None),
            Ok("ws://s.example/ws".to_owned())
        );
    }

    #[test]
    fn unusable_configuration_is_reported_in_words() {
        let error = resolve_signaling_url(&page("https:", "a"), Some("ftp://nope"), None)
            .expect_err("ftp is refused")
            .to_string();
        assert!(error.contains("ftp://nope"), "{error}");
    }
}
