//! The web app: its files, embedded in the binary, served at `/` (the API stays under
//! `/api/v1`). They are ES modules and CSS as written in `api/web/`, with no build step;
//! every answer is revalidated by its `ETag`, so a new binary's files reach the browser at
//! once, and the service worker keeps them for offline starts.

use std::sync::LazyLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, Error};

/// The app's files: the path they are served at, their type and their bytes.
const FILES: [(&str, &str, &[u8]); 8] = [
    (
        "/",
        "text/html; charset=utf-8",
        include_bytes!("../../web/index.html"),
    ),
    (
        "/app/app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/app.js"),
    ),
    (
        "/app/i18n.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/i18n.js"),
    ),
    (
        "/app/outbox.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/outbox.js"),
    ),
    (
        "/app/style.css",
        "text/css; charset=utf-8",
        include_bytes!("../../web/style.css"),
    ),
    (
        "/app/icon.svg",
        "image/svg+xml",
        include_bytes!("../../web/icon.svg"),
    ),
    (
        "/sw.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/sw.js"),
    ),
    (
        "/manifest.webmanifest",
        "application/manifest+json",
        include_bytes!("../../web/manifest.webmanifest"),
    ),
];

/// What the app's pages may load: their own files and API, photos as blobs, nothing from
/// elsewhere (no inline script, no frames around them).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data: blob:; \
    connect-src 'self'; script-src 'self'; style-src 'self'; worker-src 'self'; \
    manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

/// Each file's strong `ETag`: the start of its SHA-256.
static ETAGS: LazyLock<Vec<String>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|(_, _, bytes)| format!("\"{}\"", &hex::encode(Sha256::digest(bytes))[..32]))
        .collect()
});

pub fn routes(cfg: &mut web::ServiceConfig) {
    for (path, _, _) in FILES {
        cfg.route(path, web::get().to(file));
    }
}

async fn file(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let Some(index) = FILES.iter().position(|(path, _, _)| *path == req.path()) else {
        return Err(Error::not_found().into());
    };
    let (_, content_type, bytes) = FILES[index];
    let etag = &ETAGS[index];
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    let mut answer = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    answer
        .insert_header((header::ETAG, etag.as_str()))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .insert_header((header::REFERRER_POLICY, "same-origin"));
    if matches {
        return Ok(answer.finish());
    }
    Ok(answer.content_type(content_type).body(bytes))
}
