//! The security headers of every HTTP answer: the web app's files get its Content-Security-Policy,
//! Permissions-Policy, `nosniff` and Referrer-Policy; every other answer (health, metrics, errors,
//! refusals) gets a policy that lets it load and frame nothing.
//!
//! The page policy allows exactly what the built app needs (README, "Security headers"): its
//! scripts, wasm, stylesheet and data: favicon from its own origin, and connections to its own
//! origin plus the signaling origins the deployment named in `index.html`
//! (`duet-signaling-url`, `duet-allowed-signaling-origins`, read once at start-up).

use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;

/// Camera, microphone and screen sharing for the app's own pages only, never for a frame.
pub const PERMISSIONS_POLICY: &str = "camera=(self), microphone=(self), display-capture=(self)";

/// Links out of the app carry no address (a page URL may hold a `?signaling=` override).
pub const REFERRER_POLICY: &str = "no-referrer";

/// For answers that are not the web app: nothing in them may load, and nobody may frame them.
pub const NON_PAGE_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// The page policy before `connect-src`: nothing by default; scripts and wasm compilation only
/// from the app's own files; its stylesheet; images from itself and the inline `data:,` favicon.
const PAGE_POLICY_HEAD: &str =
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:";

/// The page policy after `connect-src`: no `<base>`, no form posts. A meta tag can carry all of
/// it (scripts/build-frontend writes it into `dist/index.html` too).
const PAGE_POLICY_TAIL: &str = "base-uri 'none'; form-action 'none'";

/// Nobody may frame the app (clickjacking of Accept or Share screen); headers only.
const FRAME_ANCESTORS: &str = "frame-ancestors 'none'";

/// The `<meta name>` whose content is the deployment's signaling URL (also read by the app).
pub const SIGNALING_URL_META_NAME: &str = "duet-signaling-url";

/// The `<meta name>` listing further signaling origins the app may be pointed at with
/// `?signaling=` (space- or comma-separated).
pub const ALLOWED_SIGNALING_ORIGINS_META_NAME: &str = "duet-allowed-signaling-origins";

/// The longest `Host` header echoed into `connect-src` (a DNS name is at most 253 bytes).
const MAX_HOST_BYTES: usize = 261;

/// The web app's Content-Security-Policy, built per request from the `Host` it was asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PagePolicy {
    /// WebSocket origins (`wss://signal.example`) the deployment configured besides its own.
    pub signaling_origins: Vec<String>,
}

impl PagePolicy {
    /// The policy for a deployment whose `index.html` is `html`.
    pub fn from_index_html(html: &str) -> PagePolicy {
        PagePolicy { signaling_origins: signaling_origins_in_index_html(html) }
    }

    /// The Content-Security-Policy value: `connect-src` is `'self'`, the `ws://` and `wss://`
    /// forms of `host` (older browsers do not count WebSockets as `'self'`), and the configured
    /// signaling origins. A `Host` that is not a plain host name or address is left out.
    pub fn content_security_policy(&self, host: Option<&str>) -> String {
        let mut connect_sources = vec!["'self'".to_owned()];
        if let Some(host) = host.filter(|host| is_plain_host(host)) {
            let host = host.to_ascii_lowercase();
            connect_sources.push(format!("ws://{host}"));
            connect_sources.push(format!("wss://{host}"));
        }
        for origin in &self.signaling_origins {
            if !connect_sources.contains(origin) {
                connect_sources.push(origin.clone());
            }
        }
        format!("{PAGE_POLICY_HEAD}; connect-src {}; {PAGE_POLICY_TAIL}; {FRAME_ANCESTORS}", connect_sources.join(" "))
    }

    /// Sets every security header of a web app file on `headers`.
    pub fn insert_headers(&self, headers: &mut HeaderMap, host: Option<&str>) {
        if let Ok(policy) = HeaderValue::from_str(&self.content_security_policy(host)) {
            headers.insert(header::CONTENT_SECURITY_POLICY, policy);
        }
        headers.insert(HeaderName::from_static("permissions-policy"), HeaderValue::from_static(PERMISSIONS_POLICY));
        insert_common_headers(headers);
    }
}

/// `nosniff` and the Referrer-Policy, on every answer.
fn insert_common_headers(headers: &mut HeaderMap) {
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static(REFERRER_POLICY));
}

/// Middleware for every answer: the strict non-page policy where no page policy was set.
pub async fn add_to_every_response(mut response: Response) -> Response {
    add_to(&mut response);
    response
}

/// What [`add_to_every_response`] does, for an answer made outside the router.
pub fn add_to(response: &mut Response) {
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(NON_PAGE_CONTENT_SECURITY_POLICY));
        insert_common_headers(headers);
    }
}

/// A host name, IPv4 address or bracketed IPv6 address with an optional port: nothing that
/// could end a CSP source or directive.
fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= MAX_HOST_BYTES
        && host.bytes().all(|byte| byte.is_ascii_alphanumeric() || b".-:[]".contains(&byte))
}

/// The WebSocket origin of an absolute `ws(s)://` or `http(s)://` URL (`https://a.example/x` →
/// `wss://a.example`), lowercased; `None` for relative, other-scheme or odd-looking values.
pub fn websocket_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "ws" | "http" => "ws",
        "wss" | "https" => "wss",
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    is_plain_host(authority).then(|| format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

/// The signaling origins `index.html` configures: the origin of `duet-signaling-url` when it is
/// absolute, and every origin in `duet-allowed-signaling-origins`. Comments are skipped.
pub fn signaling_origins_in_index_html(html: &str) -> Vec<String> {
    let mut origins = Vec::new();
    for tag in meta_tags(&without_comments(html)) {
        let Some(name) = attribute(&tag, "name") else { continue };
        let content = attribute(&tag, "content").unwrap_or_default();
        let values: Vec<&str> = if name.eq_ignore_ascii_case(SIGNALING_URL_META_NAME) {
            vec![content.as_str()]
        } else if name.eq_ignore_ascii_case(ALLOWED_SIGNALING_ORIGINS_META_NAME) {
            content.split(|c: char| c.is_whitespace() || c == ',').collect()
        } else {
            continue;
        };
        for origin in values.into_iter().filter_map(websocket_origin) {
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
    }
    origins
}

fn without_comments(html: &str) -> String {
    let mut kept = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<!--") {
        kept.push_str(&rest[..start]);
        rest = rest[start..].find("-->").map_or("", |end| &rest[start + end + 3..]);
    }
    kept.push_str(rest);
    kept
}

/// The inside of every `<meta ...>` tag.
fn meta_tags(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut tags = Vec::new();
    let mut from = 0;
    while let Some(start) = lower[from..].find("<meta").map(|offset| from + offset + "<meta".len()) {
        let end = lower[start..].find('>').map_or(html.len(), |offset| start + offset);
        tags.push(html[start..end].to_owned());
        from = end;
    }
    tags
}

/// The value of attribute `name` in a tag's inside (quoted with `"` or `'`, or bare).
fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(offset) = lower[from..].find(name) {
        let start = from + offset;
        from = start + name.len();
        let preceded_by_space = lower[..start].ends_with(|c: char| c.is_ascii_whitespace());
        let after = lower[from..].trim_start();
        if !preceded_by_space || !after.starts_with('=') {
            continue;
        }
        let value = tag[tag.len() - after.len() + 1..].trim_start();
        return Some(match value.chars().next() {
            Some(quote @ ('"' | '\'')) => value[1..].split(quote).next().unwrap_or_default().to_owned(),
            _ => value.split(|c: char| c.is_ascii_whitespace() || c == '/').next().unwrap_or_default().to_owned(),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_src_is_self_the_host_in_both_websocket_forms_and_the_configured_origins() {
        let policy = PagePolicy { signaling_origins: vec!["wss://signal.example".to_owned()] };
        let csp = policy.content_security_policy(Some("Duet.Example:8443"));
        assert!(
            csp.contains("connect-src 'self' ws://duet.example:8443 wss://duet.example:8443 wss://signal.example;"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval';"), "{csp}");
    }

    #[test]
    fn a_host_header_that_could_inject_a_directive_is_left_out() {
        let policy = PagePolicy::default();
        for host in ["evil; script-src *", "a b", "", "x\"y", &"a".repeat(300)] {
            let csp = policy.content_security_policy(Some(host));
            assert!(csp.contains("connect-src 'self'; base-uri"), "{host:?}: {csp}");
        }
    }

    #[test]
    fn build_frontend_writes_the_same_policy_for_static_hosts() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/build-frontend");
        let script = std::fs::read_to_string(path).expect("scripts/build-frontend is readable");
        let page_policy =
            format!("page_policy=\"{PAGE_POLICY_HEAD}; connect-src $connect_sources; {PAGE_POLICY_TAIL}\"");
        assert!(script.contains(&page_policy), "scripts/build-frontend should set {page_policy}");
        for header_line in [
            format!("Content-Security-Policy: $page_policy; {FRAME_ANCESTORS}"),
            "X-Content-Type-Options: nosniff".to_owned(),
            format!("Referrer-Policy: {REFERRER_POLICY}"),
            format!("Permissions-Policy: {PERMISSIONS_POLICY}"),
        ] {
            assert!(script.contains(&header_line), "dist/_headers should say {header_line}");
        }
    }

    #[test]
    fn websocket_origins_are_normalised_and_odd_urls_refused() {
        assert_eq!(websocket_origin("https://A.example/ws?x"), Some("wss://a.example".to_owned()));
        assert_eq!(websocket_origin(" ws://127.0.0.1:9090 "), Some("ws://127.0.0.1:9090".to_owned()));
        assert_eq!(websocket_origin("wss://[::1]:9090/ws"), Some("wss://[::1]:9090".to_owned()));
        for refused in ["/ws", "//a.example/ws", "javascript:alert(1)", "wss://a@b.example", "ftp://a", ""] {
            assert_eq!(websocket_origin(refused), None, "{refused}");
        }
    }

    #[test]
    fn index_html_signaling_metas_are_read_and_comments_skipped() {
        let html = r#"<head>
            <!-- <meta name="duet-signaling-url" content="wss://commented.example/ws"> -->
            <meta name="duet-signaling-url" content="https://signal.example/ws" />
            <META content='wss://a.example wss://b.example:444,wss://a.example' NAME="duet-allowed-signaling-origins">
            <meta name="description" content="wss://not-this.example">
            <meta name="duet-signaling-url-other" content="wss://nor-this.example">
        </head>"#;
        assert_eq!(
            signaling_origins_in_index_html(html),
            ["wss://signal.example", "wss://a.example", "wss://b.example:444"]
        );
        assert_eq!(signaling_origins_in_index_html(r#"<meta name="duet-signaling-url" content="">"#), [] as [&str; 0]);
    }
}
