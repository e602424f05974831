//! How a failed use case is answered over HTTP, in one place: every failure a client sees
//! is `{"error": {"code", "message", "fields"?, "rows"?}}` with a stable code, the status
//! that code stands for, and the message in the caller's language.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;

pub use xuncha_core::error::{Error, ErrorCode, FieldErrors, Lang, Msg, RowProblem};

/// The language to answer in: Chinese when the first language the client names is
/// Chinese, English otherwise.
pub fn lang_of(req: &HttpRequest) -> Lang {
    let wanted = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|first| first.trim().to_ascii_lowercase());
    match wanted {
        Some(tag) if tag == "zh" || tag.starts_with("zh-") || tag.starts_with("zh;") => Lang::Zh,
        _ => Lang::En,
    }
}

/// The status each code is answered with.
pub fn status(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::BadRequest | ErrorCode::InvalidJson | ErrorCode::InvalidIdempotencyKey => {
            StatusCode::BAD_REQUEST
        }
        ErrorCode::ValidationFailed
        | ErrorCode::IdempotencyKeyReused
        | ErrorCode::InvalidImport
        | ErrorCode::PhotoLimitReached
        | ErrorCode::UploadMismatch
        | ErrorCode::InvalidImage
        | ErrorCode::ImageTooLarge => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::Unauthorized | ErrorCode::InvalidCredentials => StatusCode::UNAUTHORIZED,
        ErrorCode::AccountDisabled | ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::Conflict
        | ErrorCode::UsernameTaken
        | ErrorCode::ClientIdConflict
        | ErrorCode::IdempotencyKeyInUse
        | ErrorCode::VersionConflict
        | ErrorCode::InvalidTransition
        | ErrorCode::UploadIncomplete
        | ErrorCode::UploadInProgress => StatusCode::CONFLICT,
        ErrorCode::UploadExpired => StatusCode::GONE,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::TooManyRequests | ErrorCode::TooManyLoginAttempts => {
            StatusCode::TOO_MANY_REQUESTS
        }
        ErrorCode::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
        ErrorCode::ServerBusy | ErrorCode::DatabaseUnavailable | ErrorCode::StorageUnavailable => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A use case's error on its way to the client: the one type handlers return.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        Self(err)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ApiError {
    pub fn render(&self, lang: Lang) -> HttpResponse {
        #[derive(Serialize)]
        struct Body<'a> {
            error: Inner<'a>,
        }
        #[derive(Serialize)]
        struct Inner<'a> {
            code: &'static str,
            message: &'a str,
            #[serde(skip_serializing_if = "BTreeMap::is_empty")]
            fields: BTreeMap<&'a str, &'a str>,
            #[serde(skip_serializing_if = "Vec::is_empty")]
            rows: Vec<Row<'a>>,
        }
        #[derive(Serialize)]
        struct Row<'a> {
            row: usize,
            field: &'a str,
            message: &'a str,
        }
        let body = Body {
            error: Inner {
                code: self.0.code.as_str(),
                message: self.0.message.get(lang),
                fields: self
                    .0
                    .fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.get(lang)))
                    .collect(),
                rows: self
                    .0
                    .rows
                    .iter()
                    .map(|r| Row {
                        row: r.row,
                        field: &r.field,
                        message: r.problem.get(lang),
                    })
                    .collect(),
            },
        };
        let mut response = HttpResponse::build(status(self.0.code));
        if let Some(secs) = self.0.retry_after_secs {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from(secs)));
        }
        if self.0.code == ErrorCode::Unauthorized {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        response.json(body)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        status(self.0.code)
    }

    /// English here; the language middleware re-renders for `Accept-Language: zh`,
    /// because this method cannot see the request.
    fn error_response(&self) -> HttpResponse {
        self.render(Lang::En)
    }
}

/// Turns the errors of actix's path extractor and of body reads into the API's shape; JSON
/// bodies and query strings have extractors of their own (`routes::extract`).
pub mod extractors {
    use super::*;
    use actix_web::error::PathError;

    pub fn path_config() -> actix_web::web::PathConfig {
        actix_web::web::PathConfig::default().error_handler(|err, _req| path_error(err).into())
    }

    /// A body that could not be read: too slow (408), or cut off or malformed (400).
    pub fn payload_error(err: &actix_web::error::PayloadError) -> Error {
        if crate::body_deadline::is_timeout(err) {
            return Error::new(ErrorCode::RequestTimeout);
        }
        Error::bad_request(Msg::new(
            format!("Unreadable body: {err}"),
            format!("请求体无法读取：{err}"),
        ))
    }

    fn path_error(err: PathError) -> ApiError {
        let PathError::Deserialize(cause) = err else {
            return Error::not_found().into();
        };
        tracing::debug!(error = %cause, "unparseable path");
        Error::not_found().into()
    }
}

/// Makes every error response carry the API's JSON shape in the caller's language: errors
/// of our own are re-rendered for `Accept-Language: zh`; anything else (an unknown route,
/// a framework error) is replaced by the error its status stands for.
pub async fn shape_errors(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<
    actix_web::dev::ServiceResponse<
        actix_web::body::EitherBody<impl actix_web::body::MessageBody + 'static>,
    >,
    actix_web::Error,
> {
    let lang = lang_of(req.request());
    // Routing and handler errors arrive as responses; an `Err` here can only come from
    // deeper middleware, and actix renders it through `ResponseError`, still in our shape.
    let response = next.call(req).await?;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return Ok(response.map_into_left_body());
    }
    let ours = response
        .response()
        .error()
        .and_then(|err| err.as_error::<ApiError>());
    let replacement = match ours {
        Some(_) if lang == Lang::En => return Ok(response.map_into_left_body()),
        Some(api) => api.render(lang),
        // A handler's own document (Open311 answers its errors in the spec's JSON or XML).
        None if is_json(&response) || is_xml(&response) => {
            return Ok(response.map_into_left_body());
        }
        None => ApiError::for_status(status).render(lang),
    };
    Ok(response.into_response(replacement).map_into_right_body())
}

fn is_xml<B>(response: &actix_web::dev::ServiceResponse<B>) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/xml") || v.starts_with("application/xml"))
}

fn is_json<B>(response: &actix_web::dev::ServiceResponse<B>) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

impl ApiError {
    /// The error a bare status stands for, for responses made outside our handlers.
    pub fn for_status(status: StatusCode) -> Self {
        let code = match status.as_u16() {
            401 => ErrorCode::Unauthorized,
            403 => ErrorCode::Forbidden,
            404 => ErrorCode::NotFound,
            405 => ErrorCode::MethodNotAllowed,
            409 => ErrorCode::Conflict,
            408 => ErrorCode::RequestTimeout,
            413 => ErrorCode::PayloadTooLarge,
            415 => ErrorCode::UnsupportedMediaType,
            429 => ErrorCode::TooManyRequests,
            503 => ErrorCode::ServerBusy,
            400..=499 => ErrorCode::BadRequest,
            _ => ErrorCode::Internal,
        };
        Self(Error::new(code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_stable_status() {
        let table = [
            ("bad_request", 400),
            ("invalid_json", 400),
            ("validation_failed", 422),
            ("unauthorized", 401),
            ("invalid_credentials", 401),
            ("account_disabled", 403),
            ("forbidden", 403),
            ("not_found", 404),
            ("method_not_allowed", 405),
            ("conflict", 409),
            ("username_taken", 409),
            ("client_id_conflict", 409),
            ("idempotency_key_in_use", 409),
            ("idempotency_key_reused", 422),
            ("invalid_idempotency_key", 400),
            ("version_conflict", 409),
            ("invalid_transition", 409),
            ("invalid_import", 422),
            ("photo_limit_reached", 422),
            ("upload_incomplete", 409),
            ("upload_in_progress", 409),
            ("upload_mismatch", 422),
            ("upload_expired", 410),
            ("invalid_image", 422),
            ("image_too_large", 422),
            ("payload_too_large", 413),
            ("unsupported_media_type", 415),
            ("too_many_requests", 429),
            ("too_many_login_attempts", 429),
            ("request_timeout", 408),
            ("server_busy", 503),
            ("database_unavailable", 503),
            ("storage_unavailable", 503),
            ("internal_error", 500),
        ];
        assert_eq!(table.len(), ErrorCode::ALL.len());
        for (code, (name, expected)) in ErrorCode::ALL.iter().zip(table) {
            assert_eq!(code.as_str(), name);
            assert_eq!(status(*code).as_u16(), expected, "{name}");
        }
    }
}
