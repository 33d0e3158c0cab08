//! Serves the built web app (`dist/`): correct content types, the precompressed brotli (`.br`)
//! or gzip (`.gz`) copy that `scripts/build-frontend` writes when the client accepts it (brotli
//! first), `Vary: Accept-Encoding`, `index.html` never cached, content-hashed assets (and their
//! compressed copies) cached for a year, the security headers of [`crate::security_headers`] on
//! every answer.
//!
//! Paths are checked before a file is opened: a name longer than a file system allows is 404
//! (not an I/O error), an over-long path is 414, and a file whose real location (after symlinks)
//! is outside the web app's folder is not served. Refusals are fixed words, never the path.

use crate::security_headers::PagePolicy;
use crate::Config;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// Longest URL path looked up, in bytes; longer ones get 414 (no file the build writes comes close).
pub const MAX_STATIC_PATH_BYTES: usize = 2048;

/// Longest path segment looked up, in bytes: a file system's 255-byte name limit, less the `.gz`
/// or `.br` a precompressed variant adds. Longer segments cannot name a file here: 404.
pub const MAX_STATIC_SEGMENT_BYTES: usize = 255 - ".gz".len();

/// The built web app: its folder and the security policy its pages are served with.
#[derive(Debug)]
pub struct WebApp {
    /// As configured; resolved (symlinks followed) on each request, so a rebuilt or re-pointed
    /// `dist` is picked up without a restart.
    pub folder: PathBuf,
    pub policy: PagePolicy,
}

/// The web app to serve, if any: `--static-dir`, else `dist` when it holds an `index.html`.
/// Resolved once, at start-up ([`crate::AppState::new`]), reading `index.html`'s signaling
/// meta tags for the Content-Security-Policy.
pub fn web_app(config: &Config) -> Option<WebApp> {
    let folder = config.static_dir.clone().or_else(|| {
        let default = PathBuf::from("dist");
        default.join("index.html").is_file().then_some(default)
    })?;
    let index = std::fs::read_to_string(folder.join("index.html")).unwrap_or_default();
    Some(WebApp { policy: PagePolicy::from_index_html(&index), folder })
}

const NO_APP_PAGE: &str = "Duet signaling server.\n\nWebSocket clients: connect to ws://THIS-HOST/ (classic) or /ws.\n\
The web app is not built here; run ./scripts/run, or `trunk build --release` and restart.\n";

/// A service for every path that is not `/` or `/ws`.
pub fn service(web_app: Option<Arc<WebApp>>) -> axum::routing::MethodRouter {
    axum::routing::get(move |request: Request| {
        let web_app = web_app.clone();
        async move {
            match web_app {
                Some(web_app) => serve_from(&web_app, request).await,
                None => (StatusCode::NOT_FOUND, "Not found.\n").into_response(),
            }
        }
    })
}

/// `GET /` without a WebSocket upgrade: the app's `index.html`, or a plain explanation.
pub async fn index(web_app: Option<&WebApp>, request: Request) -> Response {
    match web_app {
        Some(web_app) => serve_from(web_app, request).await,
        None => ([(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))], NO_APP_PAGE).into_response(),
    }
}

async fn serve_from(web_app: &WebApp, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let host = request.headers().get(header::HOST).and_then(|value| value.to_str().ok()).map(str::to_owned);
    let mut response = match checked_relative_path(&path) {
        Err(refusal) => refusal.into_response(),
        Ok(relative) if !stays_inside_folder(&web_app.folder, &relative).await => {
            StaticRefusal::NotFound.into_response()
        }
        Ok(_) => {
            // Brotli and gzip copies; with equal q-values tower-http prefers brotli.
            let serve_dir = ServeDir::new(&web_app.folder)
                .precompressed_br()
                .precompressed_gzip()
                .append_index_html_on_directories(true);
            let mut response = match serve_dir.oneshot(request).await {
                Ok(response) => response.map(axum::body::Body::new),
                Err(infallible) => match infallible {},
            };
            if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
                // The body depends on Accept-Encoding: caches must keep one copy per encoding.
                response.headers_mut().insert(header::VARY, HeaderValue::from_static("accept-encoding"));
            }
            if response.status().is_success() {
                let cache = if is_content_hashed(&path) { "public, max-age=31536000, immutable" } else { "no-cache" };
                response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            }
            response
        }
    };
    web_app.policy.insert_headers(response.headers_mut(), host.as_deref());
    response
}

/// Why a static path is not looked up. The words never include the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StaticRefusal {
    #[error("Not found.")]
    NotFound,
    #[error("The address is too long.")]
    PathTooLong,
}

impl IntoResponse for StaticRefusal {
    fn into_response(self) -> Response {
        let status = match self {
            StaticRefusal::NotFound => StatusCode::NOT_FOUND,
            StaticRefusal::PathTooLong => StatusCode::URI_TOO_LONG,
        };
        (status, format!("{self}\n")).into_response()
    }
}

/// The file path a URL path names, relative to the web app's folder, decoded the way
/// [`ServeDir`] decodes it; refused when it is too long, has an over-long segment, or leaves
/// the folder (`..`, an absolute or drive-prefixed segment).
pub fn checked_relative_path(url_path: &str) -> Result<PathBuf, StaticRefusal> {
    if url_path.len() > MAX_STATIC_PATH_BYTES {
        return Err(StaticRefusal::PathTooLong);
    }
    let decoded = percent_encoding::percent_decode_str(url_path.trim_start_matches('/'))
        .decode_utf8()
        .map_err(|_| StaticRefusal::NotFound)?;
    let mut relative = PathBuf::new();
    for component in Path::new(&*decoded).components() {
        match component {
            Component::Normal(segment) if segment.len() > MAX_STATIC_SEGMENT_BYTES => {
                return Err(StaticRefusal::NotFound)
            }
            Component::Normal(segment) => relative.push(segment),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return Err(StaticRefusal::NotFound),
        }
    }
    Ok(relative)
}

/// Whether every file [`ServeDir`] may open for `relative` (the file, its `.br` and `.gz`, and
/// for a folder its `index.html` and that file's `.br` and `.gz`) is really inside `folder` once symlinks are
/// followed. A candidate that does not exist is fine (it will be 404); a broken link is not.
async fn stays_inside_folder(folder: &Path, relative: &Path) -> bool {
    let Ok(real_folder) = tokio::fs::canonicalize(folder).await else { return false };
    let requested = folder.join(relative);
    let index = requested.join("index.html");
    let candidates = [
        with_suffix(&requested, ".br"),
        with_suffix(&requested, ".gz"),
        requested,
        with_suffix(&index, ".br"),
        with_suffix(&index, ".gz"),
        index,
    ];
    for candidate in candidates {
        if tokio::fs::symlink_metadata(&candidate).await.is_err() {
            continue;
        }
        match tokio::fs::canonicalize(&candidate).await {
            Ok(real) if real.starts_with(&real_folder) => {}
            _ => return false,
        }
    }
    true
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
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
    use super::*;

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

    #[test]
    fn url_paths_map_to_relative_file_paths_or_are_refused() {
        assert_eq!(checked_relative_path("/"), Ok(PathBuf::new()));
        assert_eq!(checked_relative_path("/a/./b%20c.js"), Ok(PathBuf::from("a/b c.js")));
        assert_eq!(checked_relative_path("/a/../b"), Err(StaticRefusal::NotFound));
        assert_eq!(checked_relative_path("/a/%2e%2e/b"), Err(StaticRefusal::NotFound));
        assert_eq!(checked_relative_path("//etc/passwd"), Ok(PathBuf::from("etc/passwd")));
        assert_eq!(checked_relative_path("/%ff"), Err(StaticRefusal::NotFound));
        let longest = format!("/{}", "n".repeat(MAX_STATIC_SEGMENT_BYTES));
        assert!(checked_relative_path(&longest).is_ok());
        assert_eq!(checked_relative_path(&format!("{longest}n")), Err(StaticRefusal::NotFound));
        let too_long = format!("/{}", "a/".repeat(MAX_STATIC_PATH_BYTES / 2));
        assert_eq!(checked_relative_path(&too_long), Err(StaticRefusal::PathTooLong));
    }
}
