//! Conditional GET for JSON: every 200 JSON answer to a GET carries a weak `ETag` (a hash
//! of the body), and a phone that sends it back in `If-None-Match` gets 304 with no body,
//! so polling a list that has not changed costs almost no bytes.

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse};
use sha2::{Digest, Sha256};

/// Far above any JSON page (page sizes are capped), so buffering is bounded.
const MAX_HASHED_BYTES: usize = 16 * 1024 * 1024;

pub async fn etag_json(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let is_get = req.method() == Method::GET;
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let response = next.call(req).await?;
    let eligible = is_get
        && response.status() == StatusCode::OK
        && !response.headers().contains_key(header::ETAG)
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.starts_with("application/json") || v.starts_with("application/geo+json")
            });
    if !eligible {
        return Ok(response.map_into_boxed_body());
    }
    let (request, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let bytes = match body::to_bytes_limited(body, MAX_HASHED_BYTES).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(err)) => {
            let cause: Box<dyn std::error::Error> = err.into();
            return Err(actix_web::error::ErrorInternalServerError(
                cause.to_string(),
            ));
        }
        Err(_) => {
            return Err(actix_web::error::ErrorInternalServerError(
                "JSON body over 16 MiB",
            ));
        }
    };
    let digest = Sha256::digest(&bytes);
    let etag = format!("W/\"{}\"", hex::encode(&digest[..12]));
    let matched = if_none_match.as_deref().is_some_and(|values| {
        values
            .split(',')
            .any(|v| v.trim() == etag || v.trim() == "*")
    });
    let mut response = if matched {
        let mut not_modified = HttpResponse::NotModified();
        for (name, value) in head.headers() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                not_modified.insert_header((name.clone(), value.clone()));
            }
        }
        not_modified.finish()
    } else {
        head.set_body(BoxBody::new(bytes))
    };
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    Ok(ServiceResponse::new(request, response))
}
