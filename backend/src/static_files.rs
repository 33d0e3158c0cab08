//! Serves the built web app (`dist/`): correct content types, gzip when the client accepts it,
//! `index.html` never cached, content-hashed assets cached for a year.

use crate::Config;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::path::{Path, PathBuf};
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// The folder to serve, if any: `--static-dir`, else `dist` when it exists. Resolved once, at
/// start-up ([`crate::AppState::new`]).
pub fn static_dir(config: &Config) -> Option<PathBuf> {
    config.static_dir.clone().or_else(|| {
        let default = PathBuf::from("dist");
        default.join("index.html").is_file().then_some(default)
    })
}

const NO_APP_PAGE: &str = "Duet signaling server.\n\nWebSocket clients: connect to ws://THIS-HOST/ (classic) or /ws.\n\
The web app is not built here; run ./scripts/run, or `trunk build --release` and restart.\n";

/// A service for every path that is not `/` or `/ws`.
pub fn service(dir: Option<&Path>) -> axum::routing::MethodRouter {
    let dir = dir.map(Path::to_path_buf);
    axum::routing::get(move |request: Request| {
        let dir = dir.clone();
        async move {
            match dir {
                Some(dir) => serve_from(dir, request).await,
                None => (StatusCode::NOT_FOUND, "Not found.\n").into_response(),
            }
        }
    })
}

/// `GET /` without a WebSocket upgrade: the app's `index.html`, or a plain explanation.
pub async fn index(dir: Option<&Path>, request: Request) -> Response {
    match dir {
        Some(dir) => serve_from(dir.to_path_buf(), request).await,
        None => ([(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))], NO_APP_PAGE).into_response(),
    }
}

async fn serve_from(dir: PathBuf, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let serve_dir = ServeDir::new(dir).precompressed_gzip().append_index_html_on_directories(true);
    let mut response = match serve_dir.oneshot(request).await {
        Ok(response) => response.map(axum::body::Body::new),
        Err(infallible) => match infallible {},
    };
    if response.status().is_success() {
        let cache = if is_content_hashed(&path) { "public, max-age=31536000, immutable" } else { "no-cache" };
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    }
    response
}

/// Trunk names built assets `name-<hash>.ext` (`frontend-3f2a9c0d1e4b5a67_bg.wasm`), the hash a
/// 64-bit number in hex without leading zeros: up to 16 digits, fewer now and then.
pub fn is_content_hashed(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    let Some((_name, tail)) = file.rsplit_once('-') else { return false };
    let hash = tail.split(['.', '_']).next().unwrap_or_default();
    (8..=16).contains(&hash.len()) && hash.chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::is_content_hashed;

    #[test]
    fn trunk_hashed_names_are_recognised() {
        assert!(is_content_hashed("/frontend-3f2a9c0d1e4b5a67_bg.wasm"));
        assert!(is_content_hashed("/frontend-3f2a9c0d1e4b5a67.js"));
        assert!(is_content_hashed("/style-0123456789abcdef.css"));
        // Regression: trunk drops leading zeros, so a hash can have fewer than 16 digits.
        assert!(is_content_hashed("/frontend-15eec10b5cb9a75_bg.wasm"));
        assert!(is_content_hashed("/frontend-15eec10b5cb9a75.js.gz"));
        assert!(!is_content_hashed("/my-notes.txt"));
        assert!(!is_content_hashed("/index.html"));
        assert!(!is_content_hashed("/"));
        assert!(!is_content_hashed("/favicon.ico"));
    }
}
