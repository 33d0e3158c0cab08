//! The web app's files over plain HTTP: security headers on every answer, precompressed brotli
//! and gzip copies with `Vary` and the same caching, over-long names and paths answered 404 / 414
//! (not 500), symlinks out of the folder not followed, and refusals that never repeat the
//! request back.

mod common;

use common::TestServer;
use std::path::Path;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const INDEX_HTML: &str = r#"<!DOCTYPE html><html><head>
<meta name="duet-signaling-url" content="" />
<meta name="duet-allowed-signaling-origins" content="wss://signal.example wss://backup.example:8443" />
<title>Duet</title></head><body></body></html>"#;

/// A parsed HTTP/1.1 answer.
struct HttpAnswer {
    status: u16,
    /// `name: value` lines, names lowercased.
    headers: Vec<(String, String)>,
    body: String,
}

impl HttpAnswer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }
}

/// Sends `GET path` with extra header lines and reads the whole answer.
async fn get(server: &TestServer, path: &str, extra_headers: &str) -> HttpAnswer {
    let mut stream = tokio::net::TcpStream::connect(server.address).await.expect("connect");
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {}\r\n{extra_headers}Connection: close\r\n\r\n", server.address);
    stream.write_all(request.as_bytes()).await.expect("write request");
    let mut raw = Vec::new();
    tokio::time::timeout(common::RECEIVE_TIMEOUT, stream.read_to_end(&mut raw))
        .await
        .expect("answer within the timeout")
        .expect("read answer");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status_line = lines.next().unwrap_or_default();
    let status = status_line.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    HttpAnswer { status, headers, body: body.to_owned() }
}

fn write(path: &Path, contents: &str) {
    std::fs::write(path, contents).unwrap_or_else(|error| panic!("write {}: {error}", path.display()));
}

/// A temporary `dist/` with an index page and one asset, and a server serving it.
async fn serve_temporary_web_app() -> (TestServer, tempfile::TempDir) {
    let dist = tempfile::tempdir().expect("temporary folder");
    write(&dist.path().join("index.html"), INDEX_HTML);
    write(&dist.path().join("app-0123456789abcdef.js"), "console.log('app');\n");
    let config = backend::Config { static_dir: Some(dist.path().to_path_buf()), ..backend::Config::default() };
    (TestServer::start_with(config).await, dist)
}

fn assert_page_headers(answer: &HttpAnswer, server: &TestServer, what: &str) {
    let csp = answer.header("content-security-policy").unwrap_or_else(|| panic!("{what}: no CSP"));
    for directive in [
        "default-src 'none'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        &format!(
            "connect-src 'self' ws://{0} wss://{0} wss://signal.example wss://backup.example:8443",
            server.address
        ),
    ] {
        assert!(csp.split(';').any(|part| part.trim() == directive), "{what}: CSP lacks `{directive}`: {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert_eq!(answer.header("x-content-type-options"), Some("nosniff"), "{what}");
    assert_eq!(answer.header("referrer-policy"), Some("no-referrer"), "{what}");
    assert_eq!(
        answer.header("permissions-policy"),
        Some("camera=(self), microphone=(self), display-capture=(self)"),
        "{what}"
    );
}

#[tokio::test]
async fn static_files_carry_security_headers() {
    let (server, _dist) = serve_temporary_web_app().await;
    let page = get(&server, "/", "").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_page_headers(&page, &server, "GET /");
    let asset = get(&server, "/app-0123456789abcdef.js", "Accept-Encoding: gzip\r\n").await;
    assert_eq!(asset.status, 200, "{}", asset.body);
    assert_page_headers(&asset, &server, "GET /app-....js");
    let missing = get(&server, "/no-such-file.js", "").await;
    assert_eq!(missing.status, 404);
    assert_page_headers(&missing, &server, "a missing static file");
    server.shut_down().await;
}

#[tokio::test]
async fn answers_that_are_not_the_app_may_not_be_framed_or_sniffed() {
    let (server, _dist) = serve_temporary_web_app().await;
    for path in ["/healthz", "/metrics", "/ws"] {
        let answer = get(&server, path, "").await;
        assert_eq!(
            answer.header("content-security-policy"),
            Some("default-src 'none'; frame-ancestors 'none'"),
            "{path} ({})",
            answer.status
        );
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"), "{path}");
        assert_eq!(answer.header("referrer-policy"), Some("no-referrer"), "{path}");
    }
    server.shut_down().await;
}

/// Regression test for the upgrade answered outside the router (`websocket_route.rs`): its 101
/// must carry what the router's answer carried, the security headers of every answer included.
#[tokio::test]
async fn a_websocket_upgrade_answered_outside_the_router_carries_the_security_headers() {
    let (server, _dist) = serve_temporary_web_app().await;
    for path in ["/", "/ws", "/?from=link"] {
        let mut stream = tokio::net::TcpStream::connect(server.address).await.expect("connect");
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
            server.address
        );
        stream.write_all(request.as_bytes()).await.expect("write request");
        let mut raw = Vec::new();
        while !raw.windows(4).any(|window| window == b"\r\n\r\n") {
            let mut chunk = [0u8; 1024];
            let read = tokio::time::timeout(common::RECEIVE_TIMEOUT, stream.read(&mut chunk))
                .await
                .expect("answer within the timeout")
                .expect("read answer");
            assert!(read > 0, "{path}: the connection closed before the end of the head");
            raw.extend_from_slice(&chunk[..read]);
        }
        let text = String::from_utf8_lossy(&raw).into_owned();
        let head = text.split("\r\n\r\n").next().unwrap_or_default().to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 101 switching protocols\r\n"), "{path}: {head}");
        for line in [
            "sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=",
            "content-security-policy: default-src 'none'; frame-ancestors 'none'",
            "x-content-type-options: nosniff",
            "referrer-policy: no-referrer",
        ] {
            assert!(head.lines().any(|header| header == line), "{path}: no {line:?} in {head}");
        }
    }
    server.shut_down().await;
}

#[tokio::test]
async fn a_path_segment_over_255_bytes_is_404_not_500() {
    let (server, _dist) = serve_temporary_web_app().await;
    for length in [256, 300, 1000] {
        let segment = "n".repeat(length);
        let answer = get(&server, &format!("/{segment}"), "").await;
        assert_eq!(answer.status, 404, "a {length}-byte name: {}", answer.body);
        assert!(!answer.body.contains(&segment), "the name is echoed back");
        let nested = get(&server, &format!("/folder/{segment}/app.js"), "").await;
        assert_eq!(nested.status, 404, "a {length}-byte folder name: {}", nested.body);
    }
    // 254 bytes is a valid name, but not once the precompressed `.gz` is appended.
    let answer = get(&server, &format!("/{}", "n".repeat(254)), "Accept-Encoding: gzip\r\n").await;
    assert_eq!(answer.status, 404, "{}", answer.body);
    server.shut_down().await;
}

#[tokio::test]
async fn an_over_long_static_path_is_414_and_not_echoed() {
    let (server, _dist) = serve_temporary_web_app().await;
    let path = format!("/{}", "abcdefgh/".repeat(1000));
    let answer = get(&server, &path, "").await;
    assert_eq!(answer.status, 414, "{}", answer.body);
    assert!(answer.body.len() < 200, "the refusal is short: {}", answer.body);
    assert!(!answer.body.contains("abcdefgh"), "the path is echoed back: {}", answer.body);
    server.shut_down().await;
}

#[cfg(unix)]
#[tokio::test]
async fn symlinks_out_of_the_web_app_folder_are_not_followed() {
    use std::os::unix::fs::symlink;
    let (server, dist) = serve_temporary_web_app().await;
    let outside = tempfile::tempdir().expect("temporary folder");
    write(&outside.path().join("secret.txt"), "outside secret\n");
    write(&outside.path().join("secret.txt.gz"), "outside secret, compressed\n");
    let dist = dist.path();
    symlink(outside.path().join("secret.txt"), dist.join("leak.txt")).expect("file symlink");
    symlink(outside.path(), dist.join("outside")).expect("folder symlink");
    // Only the precompressed variant points outside: clients accepting gzip would get it.
    write(&dist.join("secret.txt"), "inside\n");
    symlink(outside.path().join("secret.txt.gz"), dist.join("secret.txt.gz")).expect("gz symlink");
    // The same with brotli.
    write(&dist.join("other.txt"), "inside\n");
    symlink(outside.path().join("secret.txt.gz"), dist.join("other.txt.br")).expect("br symlink");
    // A link that stays inside the folder is still followed.
    symlink(dist.join("index.html"), dist.join("alias.html")).expect("inside symlink");

    for (path, extra_headers) in [
        ("/leak.txt", ""),
        ("/outside/secret.txt", ""),
        ("/outside/", ""),
        ("/secret.txt", "Accept-Encoding: gzip\r\n"),
        ("/other.txt", "Accept-Encoding: br\r\n"),
    ] {
        let answer = get(&server, path, extra_headers).await;
        assert_eq!(answer.status, 404, "{path}: {}", answer.body);
        assert!(!answer.body.contains("outside secret"), "{path} leaked: {}", answer.body);
    }
    let inside = get(&server, "/alias.html", "").await;
    assert_eq!(inside.status, 200, "{}", inside.body);
    assert!(inside.body.contains("duet-allowed-signaling-origins"), "{}", inside.body);
    server.shut_down().await;
}

/// A `dist/` whose asset and index page have brotli and gzip copies (their bodies are marked, not
/// really compressed: the server sends the bytes as they are).
async fn serve_precompressed_web_app() -> (TestServer, tempfile::TempDir) {
    let (server, dist) = serve_temporary_web_app().await;
    write(&dist.path().join("app-0123456789abcdef.js.br"), "BROTLI BYTES");
    write(&dist.path().join("app-0123456789abcdef.js.gz"), "GZIP BYTES");
    write(&dist.path().join("index.html.br"), "BROTLI INDEX");
    write(&dist.path().join("index.html.gz"), "GZIP INDEX");
    (server, dist)
}

#[tokio::test]
async fn hashed_assets_are_served_brotli_first_then_gzip_then_identity_all_cached_and_varying() {
    let (server, _dist) = serve_precompressed_web_app().await;
    for (accept, encoding, body) in [
        ("Accept-Encoding: gzip, deflate, br\r\n", Some("br"), "BROTLI BYTES"),
        ("Accept-Encoding: br\r\n", Some("br"), "BROTLI BYTES"),
        ("Accept-Encoding: gzip\r\n", Some("gzip"), "GZIP BYTES"),
        // The client's preference wins over ours.
        ("Accept-Encoding: br;q=0.5, gzip\r\n", Some("gzip"), "GZIP BYTES"),
        ("", None, "console.log('app');\n"),
        ("Accept-Encoding: identity\r\n", None, "console.log('app');\n"),
    ] {
        let answer = get(&server, "/app-0123456789abcdef.js", accept).await;
        assert_eq!(answer.status, 200, "{accept:?}: {}", answer.body);
        assert_eq!(answer.header("content-encoding"), encoding, "{accept:?}");
        assert_eq!(answer.body, body, "{accept:?}");
        assert_eq!(answer.header("vary"), Some("accept-encoding"), "{accept:?}");
        assert_eq!(answer.header("cache-control"), Some("public, max-age=31536000, immutable"), "{accept:?}");
        assert!(answer.header("content-type").is_some_and(|kind| kind.contains("javascript")), "{accept:?}");
    }
    server.shut_down().await;
}

#[tokio::test]
async fn the_index_page_is_precompressed_too_and_never_cached() {
    let (server, _dist) = serve_precompressed_web_app().await;
    for (accept, encoding, body) in [
        ("Accept-Encoding: gzip, br\r\n", Some("br"), "BROTLI INDEX"),
        ("Accept-Encoding: gzip\r\n", Some("gzip"), "GZIP INDEX"),
        ("", None, INDEX_HTML),
    ] {
        let answer = get(&server, "/", accept).await;
        assert_eq!(answer.status, 200, "{accept:?}: {}", answer.body);
        assert_eq!(answer.header("content-encoding"), encoding, "{accept:?}");
        assert_eq!(answer.body, body, "{accept:?}");
        assert_eq!(answer.header("vary"), Some("accept-encoding"), "{accept:?}");
        assert_eq!(answer.header("cache-control"), Some("no-cache"), "{accept:?}");
        assert!(answer.header("content-type").is_some_and(|kind| kind.starts_with("text/html")), "{accept:?}");
    }
    server.shut_down().await;
}
