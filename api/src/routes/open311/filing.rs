//! Filing a public request (POST /requests): the form read within its limits, the API key,
//! the category and every field checked, each refusal in the spec's format.

use crate::domain::GeoPoint;
use crate::domain::question::check_answers;
use crate::error::Error;
use crate::services::categories::{self as category_service, questions_of};
use crate::services::open311::{self as service, FileError, PublicRequest, Whereabouts};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::*;

/// A text parameter under the rule the internal API applies to the same text, at most
/// `max` characters.
fn clipped(params: &Params, key: &str, max: usize) -> Result<String, String> {
    crate::domain::text::free_text(params.get(key).unwrap_or(""), max)
        .map_err(|problem| format!("{key}: {}", problem.en))
}

/// Most bytes a request body may have: every field at its cap, percent-encoded, fits.
const FORM_LIMIT_BYTES: usize = 64 * 1024;

pub(super) async fn post_request(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    let format = Format::of(&path);
    match post(&state, &req, format, payload).await {
        Ok(answer) | Err(answer) => answer,
    }
}

/// The steps of a public filing; each refusal is already the answer, in the spec's format.
async fn post(
    state: &AppState,
    req: &HttpRequest,
    format: Format,
    payload: web::Payload,
) -> Result<HttpResponse, HttpResponse> {
    let params = read_form(req, format, payload).await?;
    let key = authorize(state, &params, format).await?;
    let category = requested_category(state, &params, format).await?;
    let request = public_request(&params, category).map_err(|e| bad(format, &e))?;
    let account = (!request.account_id.is_empty()).then(|| request.account_id.clone());
    match service::file(state, &key, request).await {
        Ok(case) => {
            let node = Node::List(
                "request",
                vec![Node::Record(vec![
                    ("service_request_id", text(case.case_no)),
                    (
                        "service_notice",
                        text("已受理，等待分派 Received; the campaign office will triage it."),
                    ),
                    ("account_id", opt_text(account)),
                ])],
            );
            Ok(respond(format, StatusCode::OK, "service_requests", &node))
        }
        Err(FileError::CannotLocate) => Err(bad(
            format,
            "address_string alone cannot be placed here; send lat and long",
        )),
        Err(FileError::Other(err)) => Err(failure(format, err)),
    }
}

/// The form's parameters, from the body and the query string (some clients put `api_key`
/// there). Read here, not by an extractor, so that a body too large is answered in the
/// spec's error format like every other refusal.
async fn read_form(
    req: &HttpRequest,
    format: Format,
    payload: web::Payload,
) -> Result<Params, HttpResponse> {
    let body = match payload.to_bytes_limited(FORM_LIMIT_BYTES).await {
        Ok(Ok(body)) => body,
        Ok(Err(e))
            if e.as_error::<actix_web::error::PayloadError>()
                .is_some_and(crate::body_deadline::is_timeout) =>
        {
            return Err(error(
                format,
                StatusCode::REQUEST_TIMEOUT,
                "the request body arrived too slowly",
            ));
        }
        Ok(Err(_)) => return Err(bad(format, "the request body could not be read")),
        Err(_) => {
            return Err(error(
                format,
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is larger than 64 KiB",
            ));
        }
    };
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !body.is_empty() && !content_type.starts_with("application/x-www-form-urlencoded") {
        return Err(bad(
            format,
            "send the request as application/x-www-form-urlencoded",
        ));
    }
    let mut all = pairs(&body).map_err(|e| bad(format, &e))?;
    all.extend(pairs(req.query_string().as_bytes()).map_err(|e| bad(format, &e))?);
    Ok(Params(all))
}

/// The API key the request names, if it is valid (403 otherwise).
async fn authorize(
    state: &AppState,
    params: &Params,
    format: Format,
) -> Result<entity::api_keys::Model, HttpResponse> {
    let Some(raw) = params.get("api_key") else {
        return Err(error(
            format,
            StatusCode::FORBIDDEN,
            "api_key was not provided",
        ));
    };
    match service::authenticate(state, raw).await {
        Ok(Some(key)) => Ok(key),
        Ok(None) => Err(error(format, StatusCode::FORBIDDEN, "api_key is not valid")),
        Err(err) => Err(failure(format, err)),
    }
}

/// The active category the request's `service_code` names (404 otherwise).
async fn requested_category(
    state: &AppState,
    params: &Params,
    format: Format,
) -> Result<entity::categories::Model, HttpResponse> {
    let Some(code) = params.get("service_code") else {
        return Err(bad(format, "service_code was not provided"));
    };
    match category_service::get(state, code).await {
        Ok(c) if c.active => Ok(c),
        Ok(_)
        | Err(Error {
            code: crate::error::ErrorCode::NotFound,
            ..
        }) => Err(error(
            format,
            StatusCode::NOT_FOUND,
            "service_code was not found",
        )),
        Err(err) => Err(failure(format, err)),
    }
}

/// Where the request says the problem is: a point, or an address alone.
fn whereabouts(params: &Params) -> Result<Whereabouts, String> {
    match (
        params.get("lat"),
        params.get("long"),
        params.get("address_string"),
    ) {
        (Some(lat), Some(lon), _) => match (lat.parse::<f64>(), lon.parse::<f64>()) {
            (Ok(lat), Ok(lon)) => GeoPoint::new(lat, lon)
                .map(Whereabouts::Point)
                .map_err(|_| "lat and long are out of range".to_owned()),
            _ => Err("lat and long must be numbers".to_owned()),
        },
        (None, None, Some(_)) => Ok(Whereabouts::Address),
        (Some(_), None, _) | (None, Some(_), _) => Err("lat and long go together".to_owned()),
        (None, None, None) => {
            Err("a location is required: lat and long, or address_string".to_owned())
        }
    }
}

/// An http(s) URL of at most 2000 characters, when given.
fn media_url(params: &Params) -> Result<Option<String>, String> {
    match params.get("media_url") {
        None => Ok(None),
        Some(url)
            if (url.starts_with("https://") || url.starts_with("http://"))
                && url.len() <= 2000
                && !url.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            Ok(Some(url.to_owned()))
        }
        Some(_) => Err("media_url must be an http(s) URL of at most 2000 characters".to_owned()),
    }
}

/// The request's fields, each checked, for the filing.
fn public_request(
    params: &Params,
    category: entity::categories::Model,
) -> Result<PublicRequest, String> {
    let whereabouts = whereabouts(params)?;
    let answers = check_answers(&questions_of(&category), &params.attributes())
        .map_err(|(code, why)| format!("attribute[{code}] {}", why.en))?;
    let media_url = media_url(params)?;
    // Checked in this order, so that the first problem named is the same on every retry.
    let description = clipped(params, "description", 4000)?;
    let address_string = clipped(params, "address_string", 300)?;
    let first_name = clipped(params, "first_name", 100)?;
    let last_name = clipped(params, "last_name", 100)?;
    let email = clipped(params, "email", 200)?;
    let phone = clipped(params, "phone", 40)?;
    let device_id = clipped(params, "device_id", 100)?;
    let account_id = clipped(params, "account_id", 100)?;
    let jurisdiction_id = clipped(params, "jurisdiction_id", 100)?;
    Ok(PublicRequest {
        category,
        whereabouts,
        address_string,
        description,
        media_url,
        first_name,
        last_name,
        email,
        phone,
        device_id,
        account_id,
        jurisdiction_id: (!jurisdiction_id.is_empty()).then_some(jurisdiction_id),
        answers,
    })
}
