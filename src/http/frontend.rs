//! The web app (`frontend/`): plain ES modules, HTML and CSS served at `/`.
//!
//! Every build embeds the files in the binary (rust-embed, `debug-embed`
//! too, so tests exercise exactly what ships and the binary is the whole
//! deployment; `build.rs` rebuilds when `frontend/` changes). While editing
//! the app, `FRONTEND_DIR` serves a directory from disk instead (tower-http's
//! `ServeDir`), so a reload shows the change. Either way it is the router's
//! fallback, so it never shadows `/graphql`, `/health`, `/status`,
//! `/metrics` or `/media`.
//!
//! Caching: file names carry no content hash, so a browser must revalidate
//! every file (`no-cache`) or it could mix modules of two versions after an
//! upgrade; the ETag (the file's SHA-256) makes that revalidation a cheap
//! 304.

use std::path::Path;

use axum::Router;
use axum::body::Body;
use axum::http::header::{self, HeaderValue};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rust_embed::RustEmbed;
use tower::ServiceBuilder;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use super::AppState;

#[derive(RustEmbed)]
#[folder = "frontend/"]
struct Embedded;

const NO_CACHE: HeaderValue = HeaderValue::from_static("no-cache");

/// Adds the web app as the fallback of `router`: from `dir` when given,
/// otherwise from the files embedded at build time.
pub fn serve(router: Router<AppState>, dir: Option<&Path>) -> Router<AppState> {
    match dir {
        Some(dir) => router.fallback_service(
            ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::overriding(
                    header::CACHE_CONTROL,
                    NO_CACHE,
                ))
                .service(ServeDir::new(dir)),
        ),
        None => router.fallback(embedded),
    }
}

/// One embedded file: `/` is `index.html`; anything unknown is a 404 (the
/// app routes with `#` fragments, so no path needs to fall back to index).
async fn embedded(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
        )
            .into_response();
    }
    let path = match uri.path().trim_start_matches('/') {
        "" => "index.html",
        path => path,
    };
    let Some(file) = Embedded::get(path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let etag = format!(
        "\"{}\"",
        URL_SAFE_NO_PAD.encode(file.metadata.sha256_hash())
    );
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|tag| tag.trim() == etag));
    let status = if matches {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::OK
    };
    let length = if matches { 0 } else { file.data.len() };
    let body = if matches || method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(file.data.into_owned())
    };
    let response = Response::builder()
        .status(status)
        .header(header::CONTENT_LENGTH, length)
        .header(header::CONTENT_TYPE, content_type(file.metadata.mimetype()))
        .header(header::CACHE_CONTROL, NO_CACHE)
        .header(header::ETAG, etag)
        .body(body);
    response.unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// Text types get an explicit charset so no browser guesses one.
fn content_type(mime: &str) -> String {
    if mime.starts_with("text/") || mime == "application/javascript" {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_owned()
    }
}
