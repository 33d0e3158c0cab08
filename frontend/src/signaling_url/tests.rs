//! Native unit tests of the signaling URL: precedence, normalisation, and the allow-list that
//! keeps a link from routing someone's signaling through a server the deployment does not allow.

use super::*;

fn page(protocol: &str, host: &str) -> PageLocation {
    PageLocation { protocol: protocol.to_owned(), host: host.to_owned() }
}

/// Resolves a `?signaling=` value on https://app.example whose meta tag names
/// wss://signal.example/ws and whose allow-list names two more origins.
fn override_on_configured_site(query_value: &str) -> Result<String, SignalingUrlError> {
    resolve_signaling_url(
        &page("https:", "app.example"),
        Some(query_value),
        Some("wss://signal.example/ws"),
        Some("wss://a.example  https://b.example:8443/ignored-path,bogus"),
    )
}

fn assert_not_allowed(query_value: &str, expected_origin: &str) {
    match override_on_configured_site(query_value) {
        Err(SignalingUrlError::OriginNotAllowed { origin }) => assert_eq!(origin, expected_origin, "{query_value}"),
        other => panic!("{query_value:?} should be refused as not allowed, got {other:?}"),
    }
}

#[test]
fn default_is_same_origin_ws_path_with_scheme_matching_the_page() {
    assert_eq!(
        resolve_signaling_url(&page("http:", "127.0.0.1:8080"), None, None, None),
        Ok("ws://127.0.0.1:8080/ws".to_owned())
    );
    assert_eq!(
        resolve_signaling_url(&page("https:", "duet.example"), None, None, None),
        Ok("wss://duet.example/ws".to_owned())
    );
}

#[test]
fn meta_tag_is_used_when_no_query_parameter_is_given() {
    let resolved = resolve_signaling_url(&page("https:", "cdn.example"), None, Some("wss://signal.example/ws"), None);
    assert_eq!(resolved, Ok("wss://signal.example/ws".to_owned()));
}

#[test]
fn empty_configuration_values_fall_through_to_the_default() {
    let resolved = resolve_signaling_url(&page("http:", "localhost:9090"), Some("  "), Some(""), Some(" "));
    assert_eq!(resolved, Ok("ws://localhost:9090/ws".to_owned()));
}

#[test]
fn the_pages_own_origin_is_allowed() {
    assert_eq!(override_on_configured_site("wss://app.example/other"), Ok("wss://app.example/other".to_owned()));
    assert_eq!(override_on_configured_site("https://APP.example:443/ws"), Ok("wss://app.example:443/ws".to_owned()));
    assert_eq!(
        resolve_signaling_url(&page("http:", "127.0.0.1:9090"), Some("ws://127.0.0.1:9090/ws"), None, None),
        Ok("ws://127.0.0.1:9090/ws".to_owned())
    );
}

#[test]
fn the_meta_tags_origin_is_allowed() {
    assert_eq!(override_on_configured_site("wss://signal.example/v2"), Ok("wss://signal.example/v2".to_owned()));
    assert_eq!(override_on_configured_site("HTTPS://Signal.Example/ws"), Ok("wss://signal.example/ws".to_owned()));
}

#[test]
fn origins_on_the_configured_list_are_allowed() {
    assert_eq!(override_on_configured_site("wss://a.example/ws"), Ok("wss://a.example/ws".to_owned()));
    assert_eq!(override_on_configured_site("wss://b.example:8443/ws"), Ok("wss://b.example:8443/ws".to_owned()));
    assert_eq!(override_on_configured_site("//a.example/ws"), Ok("wss://a.example/ws".to_owned()));
}

#[test]
fn another_origin_is_refused_with_an_explanation() {
    assert_not_allowed("wss://anywhere.example/ws", "wss://anywhere.example");
    // The same host on another port or scheme is another origin.
    assert_not_allowed("wss://a.example:444/ws", "wss://a.example:444");
    assert_not_allowed("ws://a.example/ws", "ws://a.example");
    assert_not_allowed("wss://b.example/ws", "wss://b.example");
    // With no meta tag and no list, only the page's own origin may be chosen.
    let refused = resolve_signaling_url(&page("http:", "127.0.0.1:8080"), Some("ws://127.0.0.1:9/ws"), None, None);
    let explanation = refused.expect_err("another port is refused").to_string();
    assert!(explanation.contains("ws://127.0.0.1:9") && explanation.contains("does not allow"), "{explanation}");
}

#[test]
fn relative_paths_are_allowed_and_resolve_against_the_page() {
    assert_eq!(override_on_configured_site("/signal"), Ok("wss://app.example/signal".to_owned()));
    assert_eq!(
        resolve_signaling_url(&page("http:", "localhost:8080"), Some("/ws?room=1"), None, None),
        Ok("ws://localhost:8080/ws?room=1".to_owned())
    );
}

#[test]
fn scheme_tricks_are_refused() {
    for unusable in ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/plain,x", "evil.example/ws", "ftp://a"] {
        assert!(
            matches!(override_on_configured_site(unusable), Err(SignalingUrlError::Unusable { .. })),
            "{unusable:?} should be unusable"
        );
    }
    // Scheme-relative: the host is whatever follows the two slashes.
    assert_not_allowed("//evil.example/ws", "wss://evil.example");
    assert_not_allowed("WSS://EVIL.EXAMPLE/ws", "wss://evil.example");
    assert_not_allowed("  wss://evil.example/ws  ", "wss://evil.example");
    // User info makes a trusted name lead elsewhere.
    for hidden in
        ["wss://app.example@evil.example/ws", "wss://signal.example:443@evil.example", "//a.example@evil.example"]
    {
        assert!(
            matches!(override_on_configured_site(hidden), Err(SignalingUrlError::HasUserInfo { .. })),
            "{hidden:?} should be refused for its user info"
        );
    }
    // White space, control characters and backslashes are read differently by browsers.
    for odd in [
        "wss://app.example\n@evil.example",
        "wss://a.example\t.evil.example/ws",
        "wss://app.example evil.example",
        "wss://evil.example\\@app.example/ws",
        "/\\evil.example/ws",
        "wss://app.example%2f@evil.example",
    ] {
        assert!(override_on_configured_site(odd).is_err(), "{odd:?} should be refused");
    }
}

#[test]
fn http_urls_become_websocket_urls() {
    let http_page = page("http:", "s.example:9090");
    assert_eq!(
        resolve_signaling_url(&http_page, Some("HTTP://s.example:9090/"), None, None),
        Ok("ws://s.example:9090/".to_owned())
    );
    assert_eq!(
        resolve_signaling_url(&page("http:", "a"), None, Some("https://s.example/ws"), None),
        Ok("wss://s.example/ws".to_owned())
    );
}

#[test]
fn an_unusable_meta_tag_is_reported_but_does_not_block_an_allowed_override() {
    let error =
        resolve_signaling_url(&page("https:", "a"), None, Some("ftp://nope"), None).expect_err("ftp is refused");
    assert!(error.to_string().contains("ftp://nope"), "{error}");
    assert_eq!(
        resolve_signaling_url(&page("https:", "a"), Some("/ws"), Some("ftp://nope"), None),
        Ok("wss://a/ws".to_owned())
    );
}

#[test]
fn explanations_do_not_repeat_an_unbounded_address() {
    let long = format!("javascript:{}", "x".repeat(10_000));
    let explanation = override_on_configured_site(&long).expect_err("refused").to_string();
    assert!(explanation.len() < 300, "{} characters", explanation.len());
    let long_host = format!("wss://{}.example/ws", "h".repeat(10_000));
    let explanation = override_on_configured_site(&long_host).expect_err("refused").to_string();
    assert!(explanation.len() < 600, "{} characters", explanation.len());
}
