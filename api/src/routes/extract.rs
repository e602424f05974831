//! The JSON body extractor of every route. A body that is not JSON answers 400
//! `invalid_json`; JSON of the wrong shape — a field of the wrong type, a field missing or
//! unknown — answers 422 `validation_failed` with `fields` naming the field by its path
//! (`location.lat`, `items[2].kind`), so a phone developer sees which field, not a parser's
//! line and column. Named `Json` so that the OpenAPI generator still reads the request body
//! from the handler's signature.

use std::ops::{Deref, DerefMut};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, Error, ErrorCode, FieldErrors, Msg, extractors::payload_error};

/// The largest JSON body accepted.
pub const JSON_LIMIT_BYTES: usize = 1024 * 1024;

/// A request body parsed from JSON.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Json<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json =
            req.mime_type().ok().flatten().is_some_and(|mime| {
                mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON)
            });
        let declared = req
            .headers()
            .get(actix_web::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        // Bodies sent gzip- or brotli-compressed are read as they were before compression.
        let mut payload = actix_web::dev::Decompress::from_headers(payload.take(), req.headers());
        let req = req.clone();
        Box::pin(async move {
            crate::auth::PermissionGate::wait(&req).await;
            if declared.is_some_and(|n| n > JSON_LIMIT_BYTES) {
                return Err(Error::new(ErrorCode::PayloadTooLarge).into());
            }
            if !is_json {
                return Err(Error::new(ErrorCode::UnsupportedMediaType)
                    .with_message(Msg::fixed(
                        "Send the body as application/json.",
                        "请求体须为 application/json。",
                    ))
                    .into());
            }
            let mut body = bytes::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| payload_error(&e))?;
                if body.len() + chunk.len() > JSON_LIMIT_BYTES {
                    return Err(Error::new(ErrorCode::PayloadTooLarge).into());
                }
                body.extend_from_slice(&chunk);
            }
            parse(&body).map(Json)
        })
    }
}

/// Parses `body` as a `T`, naming the field at fault when the JSON does not fit.
/// Optional free text (an address, a contact, notes, a description): `null`, `""` and
/// leaving it out all mean empty, and answers give `""`. Values that can be missing
/// (ids, codes, times, geometry) are `null` when missing, never `""`.
pub fn text_or_null<'de, D: serde::Deserializer<'de>>(value: D) -> Result<String, D::Error> {
    use serde::Deserialize;
    Ok(Option::<String>::deserialize(value)?.unwrap_or_default())
}

/// A query string, parsed as `web::Query` would and judged, like [`Json`], only once the
/// request's permission is decided (a 403 comes before a 400 about the query).
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = serde_urlencoded::from_str::<T>(req.query_string());
        let req = req.clone();
        Box::pin(async move {
            crate::auth::PermissionGate::wait(&req).await;
            parsed.map(Query).map_err(|err| {
                Error::bad_request(Msg::new(
                    format!("Bad query parameters: {err}"),
                    format!("查询参数错误：{err}"),
                ))
                .into()
            })
        })
    }
}

pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut reader = serde_json::Deserializer::from_slice(body);
    let err = match serde_path_to_error::deserialize(&mut reader) {
        Ok(value) => {
            reader.end().map_err(|cause| not_json(&cause))?;
            return Ok(value);
        }
        Err(err) => err,
    };
    let cause = err.inner();
    if !cause.is_data() {
        return Err(not_json(cause).into());
    }
    let text = cause.to_string();
    // serde_json ends its messages with the position, which says nothing the path does not.
    let problem = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(message, _)| message);
    let path = err.path().to_string();
    let parent = if path == "." { String::new() } else { path };
    // A missing or unknown field is named itself, not by the object around it.
    let named = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|lead| problem.strip_prefix(lead))
        .and_then(|rest| rest.split('`').next());
    let already_named = |name: &str| parent == name || parent.ends_with(&format!(".{name}"));
    let field = match named {
        Some(name) if parent.is_empty() => name.to_owned(),
        Some(name) if !already_named(name) => format!("{parent}.{name}"),
        _ if parent.is_empty() => "body".to_owned(),
        _ => parent,
    };
    let mut fields = FieldErrors::default();
    fields.add(
        &field,
        Msg::new(problem.to_owned(), format!("格式不符：{problem}")),
    );
    Err(Error::invalid(fields).into())
}

fn not_json(cause: &serde_json::Error) -> Error {
    Error::new(ErrorCode::InvalidJson).with_message(Msg::new(
        format!("The body is not valid JSON: {cause}"),
        format!("请求体不是有效的 JSON：{cause}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Filing {
        category: String,
        location: Location,
        photos: Option<Vec<u32>>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Location {
        lat: f64,
        lon: f64,
    }

    fn field_of(body: &str) -> (u16, Vec<String>) {
        let err = parse::<Filing>(body.as_bytes()).unwrap_err();
        (
            crate::error::status(err.0.code).as_u16(),
            err.0.fields.keys().cloned().collect(),
        )
    }

    #[test]
    fn a_field_of_the_wrong_type_is_named_by_its_path() {
        assert_eq!(
            field_of(r#"{"category":"parking","location":{"lat":"north","lon":1}}"#),
            (422, vec!["location.lat".to_owned()])
        );
        assert_eq!(
            field_of(r#"{"category":"parking","location":{"lat":1,"lon":1},"photos":[1,"x"]}"#),
            (422, vec!["photos[1]".to_owned()])
        );
        assert_eq!(
            field_of(r#"{"category":7,"location":{"lat":1,"lon":1}}"#),
            (422, vec!["category".to_owned()])
        );
    }

    #[test]
    fn missing_and_unknown_fields_are_named_themselves() {
        assert_eq!(
            field_of(r#"{"location":{"lat":1,"lon":1}}"#),
            (422, vec!["category".to_owned()])
        );
        assert_eq!(
            field_of(r#"{"category":"x","location":{"lat":1}}"#),
            (422, vec!["location.lon".to_owned()])
        );
        assert_eq!(
            field_of(r#"{"category":"x","location":{"lat":1,"lon":1},"colour":"red"}"#),
            (422, vec!["colour".to_owned()])
        );
        assert_eq!(
            field_of(r#"{"category":"x","location":{"lat":1,"lon":1,"n":2}}"#),
            (422, vec!["location.n".to_owned()])
        );
    }

    #[test]
    fn text_that_is_not_json_is_400() {
        let whole = r#"{"category":"x","location":{"lat":1,"lon":1}}"#;
        assert!(parse::<Filing>(whole.as_bytes()).is_ok());
        for body in ["{", "not json", &format!("{whole} trailing")] {
            let err = parse::<Filing>(body.as_bytes()).unwrap_err();
            assert_eq!(err.0.code, ErrorCode::InvalidJson, "{body}");
        }
    }
}
