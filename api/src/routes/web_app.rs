//! The web app: its files, served at `/` (the API stays under `/api/v1`). They are ES
//! modules and CSS as written in `api/web/`, with no build step: a release binary carries
//! them; a debug build reads them from `api/web/` at each request, so an edit shows on
//! reload. Every answer is revalidated by its `ETag`, so new files reach the browser at
//! once, and the service worker keeps them for offline starts.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use sha2::{Digest, Sha256};

use crate::config::{MapTiles, Settings};
use crate::error::{ApiError, Error};

/// Release builds: every file under `api/web/`, at the path it is served at (`/app/…`),
/// listed by `build.rs`. Debug builds: none, the files are read from `api/web/`.
const FILES: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/web_files.rs"));

/// Files served at the root instead of under `/app/`: the page, and the two a browser only
/// takes from there (a service worker controls the pages under its own path).
const AT_ROOT: [(&str, &str); 3] = [
    ("/", "/app/index.html"),
    ("/sw.js", "/app/sw.js"),
    ("/manifest.webmanifest", "/app/manifest.webmanifest"),
];

/// What the app's pages may load: their own files and API, photos as blobs, the base map
/// tiles' images when tiles are set, nothing else (no inline script, no frames around
/// them). `img-src` comes last: `ContentSecurityPolicy::new` adds the tiles' origins to it.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; connect-src 'self'; \
    script-src 'self'; style-src 'self'; worker-src 'self'; manifest-src 'self'; \
    object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; \
    img-src 'self' data: blob:";

/// The pages' Content-Security-Policy header for this configuration, made once at start.
pub struct ContentSecurityPolicy(HeaderValue);

impl ContentSecurityPolicy {
    pub fn new(settings: &Settings) -> Self {
        let mut text = CONTENT_SECURITY_POLICY.to_owned();
        for origin in settings.map_tiles.iter().flat_map(MapTiles::origins) {
            text.push(' ');
            text.push_str(&origin);
        }
        // The origins are ASCII serializations of parsed URLs, so this holds; were it not
        // to, the maps would still work, on a plain background.
        Self(
            HeaderValue::from_str(&text)
                .unwrap_or(HeaderValue::from_static(CONTENT_SECURITY_POLICY)),
        )
    }
}

/// The file a request path names, as it is listed (`/app/…`); root-only files are not
/// served under `/app/`.
fn listed_as(path: &str) -> Option<&str> {
    if let Some((_, file)) = AT_ROOT.iter().find(|(at, _)| *at == path) {
        return Some(file);
    }
    let root_only = AT_ROOT.iter().any(|(_, file)| *file == path);
    (path.starts_with("/app/") && !root_only).then_some(path)
}

/// Release builds: each file by its listed path, with its strong `ETag` (the start of its
/// SHA-256).
static EMBEDDED: LazyLock<HashMap<&'static str, (&'static [u8], String)>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|(path, bytes)| (*path, (*bytes, etag_of(bytes))))
        .collect()
});

fn etag_of(bytes: &[u8]) -> String {
    format!("\"{}\"", &hex::encode(Sha256::digest(bytes))[..32])
}

/// The bytes and `ETag` of the file listed as `file`.
fn read(file: &str) -> Option<(Cow<'static, [u8]>, String)> {
    if cfg!(debug_assertions) {
        // Only plain names: no parent, hidden or empty parts, no source maps.
        let relative = file.strip_prefix("/app/")?;
        if relative.ends_with(".map")
            || relative
                .split('/')
                .any(|part| part.is_empty() || part.starts_with('.') || part.contains('\\'))
        {
            return None;
        }
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("web")
            .join(relative);
        let bytes = std::fs::read(path).ok()?;
        let etag = etag_of(&bytes);
        return Some((Cow::Owned(bytes), etag));
    }
    let (bytes, etag) = EMBEDDED.get(file)?;
    Some((Cow::Borrowed(*bytes), etag.clone()))
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, extension)| extension) {
        None if path == "/" => "text/html; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("webmanifest") => "application/manifest+json",
        Some("json") => "application/json",
        Some("txt" | "md") | None => "text/plain; charset=utf-8",
        Some(_) => "application/octet-stream",
    }
}

/// The app's files, each answered with `policy`.
pub fn routes(cfg: &mut web::ServiceConfig, policy: web::Data<ContentSecurityPolicy>) {
    cfg.app_data(policy);
    for (path, _) in AT_ROOT {
        cfg.route(path, web::get().to(file));
    }
    cfg.route("/app/{file:.*}", web::get().to(file));
}

async fn file(
    req: HttpRequest,
    policy: web::Data<ContentSecurityPolicy>,
) -> Result<HttpResponse, ApiError> {
    let Some((bytes, etag)) = listed_as(req.path()).and_then(read) else {
        return Err(Error::not_found().into());
    };
    let etag = &etag;
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
        .insert_header((header::CONTENT_SECURITY_POLICY, policy.0.clone()))
        .insert_header((header::REFERRER_POLICY, "same-origin"));
    if matches {
        return Ok(answer.finish());
    }
    Ok(answer.content_type(content_type(req.path())).body(bytes))
}
