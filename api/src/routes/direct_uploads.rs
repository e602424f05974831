//! Direct uploads (`xuncha_core::services::direct_uploads`, `docs/mobile.md`): presigned
//! URLs to send a photo straight to the object store, resumable part by part, then a
//! finalize that makes it a photo of the case. With the embedded store, which listens on
//! loopback only, this service's own address passes the presigned PUTs on (`forward`).

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use entity::ids::{CaseId, UploadId};

use crate::auth::Caller;
use crate::domain::PhotoKind;
use crate::error::{ApiError, Error, ErrorCode};
use crate::routes::extract::Json;
use crate::routes::reports::json::PhotoJson;
use crate::services::direct_uploads::{self, Declared, PART_BYTES, Upload};
use crate::state::AppState;
use crate::storage::PresignedPut;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(begin_upload)
        .service(upload_status)
        .service(finish_upload)
        .service(cancel_upload);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BeginUploadRequest {
    pub case_id: CaseId,
    pub kind: PhotoKind,
    /// The file's size in bytes (at most 20 MiB).
    pub size: i64,
    /// The file's SHA-256, 64 hexadecimal digits.
    pub sha256: String,
    /// When the photo was taken, for a file whose EXIF does not say.
    pub taken_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UploadPartJson {
    pub number: i32,
    pub size: i64,
    /// The store has this part (at its size).
    pub received: bool,
    /// Where to send it, when the store does not have it: the method, the URL and the
    /// headers to send exactly as given.
    pub put: Option<PresignedPut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UploadJson {
    pub id: UploadId,
    pub case_id: CaseId,
    pub kind: PhotoKind,
    pub size: i64,
    pub sha256: String,
    /// `pending` until finalized, then `finished`.
    pub status: &'static str,
    /// One part for a file of at most `part_bytes`; more, each sent on its own, for a
    /// larger one.
    pub parts: Vec<UploadPartJson>,
    pub part_bytes: i64,
    /// When the URLs in `parts` stop working: ask this upload again for fresh ones.
    pub urls_expire_at: Option<DateTime<Utc>>,
    /// An unfinished upload is removed after this.
    pub expires_at: DateTime<Utc>,
    /// The photo it became, once finished.
    pub photo: Option<PhotoJson>,
}

impl From<Upload> for UploadJson {
    fn from(upload: Upload) -> Self {
        let row = upload.row;
        Self {
            id: row.id,
            case_id: row.case_id,
            kind: row.kind,
            size: row.size,
            status: if row.finished_at.is_some() {
                "finished"
            } else {
                "pending"
            },
            sha256: row.sha256,
            parts: upload
                .parts
                .into_iter()
                .map(|part| UploadPartJson {
                    number: part.number,
                    size: part.size,
                    received: part.received,
                    put: part.put,
                })
                .collect(),
            part_bytes: PART_BYTES,
            urls_expire_at: upload.urls_expire_at,
            expires_at: row.expires_at,
            photo: upload.photo.map(PhotoJson::from),
        }
    }
}

/// Starts a direct upload of one photo to a case.
///
/// Answers where to send the file: one presigned PUT for a file of at most `part_bytes`
/// (5 MiB), one per part for a larger one. Send each part with its headers exactly as
/// given, then finalize. Who may add which photo is checked now and again at the finalize.
#[utoipa::path(tag = "reports", request_body = BeginUploadRequest,
    responses(
        (status = 201, body = UploadJson),
        (status = 404, description = "not_found: no such case, or not yours to see"),
        (status = 409, description = "conflict: the case's state takes no photo of this kind"),
        (status = 422, description = "validation_failed"),
        (status = 429, description = "too_many_requests: 20 unfinished uploads"),
    ),
    security(("bearer" = [])))]
#[post("/uploads")]
async fn begin_upload(
    state: web::Data<AppState>,
    user: Caller,
    req: HttpRequest,
    body: Json<BeginUploadRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let upload = direct_uploads::begin(
        &state,
        &user,
        Declared {
            case_id: body.case_id,
            kind: body.kind,
            size: body.size,
            sha256: body.sha256,
            taken_at: body.taken_at,
        },
        &crate::client::public_origin(&req),
    )
    .await?;
    let location = format!("/api/v1/uploads/{}", upload.row.id);
    Ok(HttpResponse::Created()
        .insert_header(("Location", location))
        .json(UploadJson::from(upload)))
}

/// Where a direct upload stands: the parts the store has, and fresh URLs for the others
/// (to resume after a cut link or when the URLs have expired); the photo once finished.
#[utoipa::path(tag = "reports", params(("id" = UploadId, Path)),
    responses(
        (status = 200, body = UploadJson),
        (status = 404, description = "not_found"),
        (status = 410, description = "upload_expired"),
    ),
    security(("bearer" = [])))]
#[get("/uploads/{id}")]
async fn upload_status(
    state: web::Data<AppState>,
    user: Caller,
    req: HttpRequest,
    id: web::Path<UploadId>,
) -> Result<HttpResponse, ApiError> {
    let upload =
        direct_uploads::status(&state, &user, *id, &crate::client::public_origin(&req)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(crate::routes::no_store())
        .json(UploadJson::from(upload)))
}

/// Finalizes a direct upload: checks the object (every part, the declared size and
/// SHA-256, the format from its bytes) and makes it a photo of the case. Sent again, it
/// answers the same photo (200).
#[utoipa::path(tag = "reports", params(("id" = UploadId, Path)),
    responses(
        (status = 201, body = UploadJson),
        (status = 200, body = UploadJson),
        (status = 404, description = "not_found"),
        (status = 409, description = "upload_incomplete: parts missing; conflict: the case moved on"),
        (status = 410, description = "upload_expired"),
        (status = 415, description = "unsupported_media_type"),
        (status = 422, description = "upload_mismatch (send the file again to the upload's fresh URLs), invalid_image, image_too_large, photo_limit_reached"),
        (status = 503, description = "storage_unavailable, server_busy"),
    ),
    security(("bearer" = [])))]
#[post("/uploads/{id}/complete")]
async fn finish_upload(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<UploadId>,
) -> Result<HttpResponse, ApiError> {
    let (upload, created) = direct_uploads::finish(&state, &user, *id).await?;
    let body = UploadJson::from(upload);
    Ok(if created {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    })
}

/// Drops a direct upload and what the store has of it (a finished one's photo stays).
#[utoipa::path(tag = "reports", params(("id" = UploadId, Path)),
    responses((status = 204), (status = 404, description = "not_found")),
    security(("bearer" = [])))]
#[delete("/uploads/{id}")]
async fn cancel_upload(
    state: web::Data<AppState>,
    user: Caller,
    id: web::Path<UploadId>,
) -> Result<HttpResponse, ApiError> {
    direct_uploads::cancel(&state, &user, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// With the embedded store: `PUT /<bucket>/uploads/…`, the presigned URLs' path, passed
/// to the store.
pub fn forward_routes(cfg: &mut web::ServiceConfig, state: &web::Data<AppState>) {
    if state.store_gateway.is_some() {
        let path = format!(
            "/{}/{}{{user}}/{{upload}}",
            state.settings.s3_bucket,
            crate::storage::keys::UPLOAD_PREFIX
        );
        cfg.route(&path, web::put().to(forward));
    }
}

/// Chunks of a forwarded body in flight at once, per request.
const FORWARD_CHUNKS: usize = 4;

/// Passes a presigned PUT to the embedded store (registered only with it, for keys under
/// `uploads/` of its bucket). Only the store's signature admits the request, and no body
/// larger than a part is taken.
pub async fn forward(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let Some(gateway) = state.store_gateway.clone() else {
        return Err(Error::new(ErrorCode::NotFound).into());
    };
    let signed = req
        .uri()
        .query()
        .is_some_and(|q| q.contains("X-Amz-Signature="));
    if !signed {
        return Err(Error::new(ErrorCode::Forbidden).into());
    }
    let length = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok())
        .ok_or_else(|| {
            Error::bad_request(crate::error::Msg::fixed(
                "Content-Length is required.",
                "须提供 Content-Length。",
            ))
        })?;
    if length > PART_BYTES {
        return Err(Error::new(ErrorCode::PayloadTooLarge).into());
    }
    // Only an upload's own key: two ids, nothing to resolve or escape.
    let (user, upload) = path.into_inner();
    let (Ok(user), Ok(upload)) = (user.parse::<uuid::Uuid>(), upload.parse::<UploadId>()) else {
        return Err(Error::new(ErrorCode::NotFound).into());
    };
    let path_and_query = format!(
        "/{}/{}{user}/{upload}?{}",
        state.settings.s3_bucket,
        crate::storage::keys::UPLOAD_PREFIX,
        req.uri().query().unwrap_or_default()
    );
    // The store checks the signature against the host the URL was made for: this
    // service's address as phones reach it, whatever a proxy in front wrote in `Host`.
    let origin = crate::client::public_origin(&req);
    let host = url::Url::parse(&origin)
        .ok()
        .and_then(|url| {
            let host = url.host_str()?.to_owned();
            Some(
                url.port()
                    .map_or(host.clone(), |port| format!("{host}:{port}")),
            )
        })
        .ok_or_else(|| Error::internal("the public origin has no host"))?;
    let headers = req
        .headers()
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    // The payload stays on this worker's thread; its chunks go to the store's request
    // through a small channel, so a slow phone holds a few chunks, not the file.
    let (sender, receiver) = tokio::sync::mpsc::channel(FORWARD_CHUNKS);
    let body = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    let pump = async move {
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|err| std::io::Error::other(err.to_string()));
            let failed = chunk.is_err();
            if sender.send(chunk).await.is_err() || failed {
                break;
            }
        }
    };
    let (_, forwarded) = tokio::join!(pump, gateway.put(&path_and_query, &host, headers, body));
    let forwarded = forwarded.map_err(Error::from)?;
    let mut response = HttpResponse::build(
        actix_web::http::StatusCode::from_u16(forwarded.status)
            .unwrap_or(actix_web::http::StatusCode::BAD_GATEWAY),
    );
    for (name, value) in forwarded.headers {
        response.insert_header((name, value));
    }
    Ok(response.body(forwarded.body))
}
