//! `GET /media/{id}` and `/media/{id}/thumbnail`, authorised by the signed
//! URL alone (so `<img src>` works). A bad, expired or forged signature and
//! an unknown id all answer 404.

use std::collections::HashMap;

use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use tower::ServiceExt as _;
use tower_http::services::ServeFile;

use super::AppState;
use crate::media::MediaLocation;
use crate::media::signing::{URL_TTL_SECONDS, Variant};

pub async fn original(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    request: Request,
) -> Response {
    serve(state, id, Variant::Original, query, request).await
}

pub async fn thumbnail(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    request: Request,
) -> Response {
    serve(state, id, Variant::Thumbnail, query, request).await
}

async fn serve(
    state: AppState,
    id: String,
    variant: Variant,
    query: HashMap<String, String>,
    request: Request,
) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "not found").into_response();
    let (Some(expires), Some(signature)) = (
        query.get("exp").and_then(|value| value.parse::<i64>().ok()),
        query.get("sig"),
    ) else {
        return not_found();
    };
    let file = match state
        .services
        .media
        .open(&id, variant, expires, signature)
        .await
    {
        Ok(Some(file)) => file,
        Ok(None) => return not_found(),
        Err(error) => {
            tracing::error!(cause = ?error.source, "media lookup failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
        }
    };
    let etag = format!("\"{}\"", file.sha256);
    let path = match file.location {
        MediaLocation::File(path) => path,
        MediaLocation::Redirect(url) => return Redirect::temporary(&url).into_response(),
    };
    let matches_etag = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    let mut response = if matches_etag {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mime = file
            .content_type
            .parse()
            .unwrap_or(mime::APPLICATION_OCTET_STREAM);
        match ServeFile::new_with_mime(&path, &mime)
            .oneshot(request)
            .await
        {
            Ok(response) => response.into_response(),
            Err(error) => match error {},
        }
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_str(&format!("private, max-age={URL_TTL_SECONDS}"))
            .unwrap_or(HeaderValue::from_static("private")),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Media never runs as a page: no scripts, no plugins, even if opened directly.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; img-src 'self'; media-src 'self'; sandbox"),
    );
    let disposition = if file.is_image {
        "inline"
    } else {
        "attachment"
    };
    let encoded: String = file
        .file_name
        .bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-._".contains(&byte) {
                (byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect();
    if let Ok(value) = HeaderValue::from_str(&format!("{disposition}; filename*=UTF-8''{encoded}"))
    {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}
