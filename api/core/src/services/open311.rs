//! Open311 GeoReport v2 behind the routes: API keys for client apps, filing public
//! requests into the supervisors' triage queue, and reading them back. Only cases that
//! came in through Open311 (source `public`) are ever shown: patrol and inspection cases
//! stay internal (an unannounced campaign's cases would otherwise leak).

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use entity::{api_keys, areas, cases, categories, public_requests};

use crate::auth::CurrentUser;
use crate::domain::{CaseSource, CaseStatus, GeoPoint, Severity};
use crate::error::Error;
use crate::services::now;
use crate::services::reports::{self, CaseDraft, Placement};
use crate::state::AppState;

/// Keys look like `x311_` and 43 URL-safe characters (256 random bits).
const KEY_PREFIX: &str = "x311_";

fn digest(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Issues a key; the plain key is returned once and never stored.
pub async fn issue_key(
    state: &AppState,
    user: &CurrentUser,
    name: String,
) -> Result<(api_keys::Model, String), Error> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let key = format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let model = api_keys::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name),
        key_hash: Set(digest(&key)),
        prefix: Set(key.chars().take(12).collect()),
        created_by: Set(user.id),
        created_at: Set(now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(&state.db)
    .await?;
    Ok((model, key))
}

pub async fn list_keys(state: &AppState) -> Result<Vec<api_keys::Model>, Error> {
    Ok(api_keys::Entity::find()
        .order_by_asc(api_keys::Column::Id)
        .all(&state.db)
        .await?)
}

/// Revokes a key at once (requests with it get 403); revoking twice is harmless.
pub async fn revoke_key(state: &AppState, id: Uuid) -> Result<api_keys::Model, Error> {
    let key = api_keys::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(Error::not_found)?;
    if key.revoked_at.is_some() {
        return Ok(key);
    }
    let mut active: api_keys::ActiveModel = key.into();
    active.revoked_at = Set(Some(now()));
    Ok(active.update(&state.db).await?)
}

/// The live key a client presented, if any.
pub async fn authenticate(state: &AppState, key: &str) -> Result<Option<api_keys::Model>, Error> {
    if !key.starts_with(KEY_PREFIX) || key.len() > 100 {
        return Ok(None);
    }
    let found = api_keys::Entity::find()
        .filter(api_keys::Column::KeyHash.eq(digest(key)))
        .filter(api_keys::Column::RevokedAt.is_null())
        .one(&state.db)
        .await?;
    if let Some(key) = &found {
        api_keys::Entity::update_many()
            .col_expr(api_keys::Column::LastUsedAt, Expr::value(now()))
            .filter(api_keys::Column::Id.eq(key.id))
            .exec(&state.db)
            .await?;
    }
    Ok(found)
}

/// Where a request is: a point, or only an address the server cannot geocode.
pub enum Whereabouts {
    Point(GeoPoint),
    Address,
}

pub struct PublicRequest {
    pub category: categories::Model,
    pub whereabouts: Whereabouts,
    pub address_string: String,
    pub description: String,
    pub media_url: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub device_id: String,
    pub account_id: String,
    pub jurisdiction_id: Option<String>,
    pub answers: serde_json::Map<String, serde_json::Value>,
}

/// The middle of the registry's districts and how far it is to their corners: where an
/// address-only request is put, with that radius as its accuracy. `None` without areas.
async fn city_centre(state: &AppState) -> Result<Option<(GeoPoint, f64)>, Error> {
    let boxes: Vec<(f64, f64, f64, f64)> = areas::Entity::find()
        .filter(areas::Column::ParentId.is_null())
        .all(&state.db)
        .await?
        .into_iter()
        .filter_map(|a| Some((a.min_lat?, a.min_lon?, a.max_lat?, a.max_lon?)))
        .collect();
    if boxes.is_empty() {
        return Ok(None);
    }
    let min_lat = boxes.iter().map(|b| b.0).fold(f64::MAX, f64::min);
    let min_lon = boxes.iter().map(|b| b.1).fold(f64::MAX, f64::min);
    let max_lat = boxes.iter().map(|b| b.2).fold(f64::MIN, f64::max);
    let max_lon = boxes.iter().map(|b| b.3).fold(f64::MIN, f64::max);
    let centre = GeoPoint::new((min_lat + max_lat) / 2.0, (min_lon + max_lon) / 2.0)
        .map_err(|m| Error::internal(m.en))?;
    let corner = GeoPoint::new(max_lat, max_lon).map_err(|m| Error::internal(m.en))?;
    Ok(Some((centre, centre.distance_m(corner).ceil())))
}

pub enum FileError {
    /// An address alone, and no registry to place it in.
    CannotLocate,
    Other(Error),
}

impl From<Error> for FileError {
    fn from(err: Error) -> Self {
        FileError::Other(err)
    }
}

impl From<sea_orm::DbErr> for FileError {
    fn from(err: sea_orm::DbErr) -> Self {
        FileError::Other(err.into())
    }
}

/// Files a public request as a case (source `public`) that waits in the supervisors'
/// triage queue, whatever the registry would say: the public is not trusted to route work.
pub async fn file(
    state: &AppState,
    key: &api_keys::Model,
    request: PublicRequest,
) -> Result<cases::Model, FileError> {
    let (point, accuracy_m, located) = match request.whereabouts {
        Whereabouts::Point(point) => (point, None, true),
        Whereabouts::Address => match city_centre(state).await? {
            Some((centre, radius)) => (centre, Some(radius), false),
            None => return Err(FileError::CannotLocate),
        },
    };
    let registry = state.registry.current(&state.db).await?;
    let area_id = if located {
        registry.locate(point, &request.category.code).area_id
    } else {
        None
    };
    let reason = if located {
        format!("public report from {}: awaiting triage", key.name)
    } else {
        format!(
            "public report from {} with an address only (located at the city centre, ±{} m): awaiting triage",
            key.name,
            accuracy_m.unwrap_or_default()
        )
    };
    let description = if request.description.trim().is_empty() {
        request.category.name_zh.clone()
    } else {
        request.description.trim().to_owned()
    };
    let draft = CaseDraft {
        held_until: None,
        client_id: None,
        request_hash: None,
        description,
        point,
        accuracy_m,
        address: request.address_string.chars().take(200).collect(),
        observed_at: now(),
        severity: Severity::Normal,
        source: CaseSource::Public,
        reporter: None,
        placement: Placement {
            department: None,
            shopfront: None,
            reason,
            area_id,
        },
        inspection: None,
    };
    let prepared = reports::prepare(state, registry, &request.category, &draft).await?;
    let txn = crate::services::begin_write(&state.db).await?;
    let case = reports::insert_case(&txn, state, &request.category, draft, prepared)
        .await?
        .ok_or_else(|| Error::internal("a public case without client_id collided"))?;
    public_requests::ActiveModel {
        case_id: Set(case.id),
        api_key_id: Set(key.id),
        jurisdiction_id: Set(request.jurisdiction_id),
        first_name: Set(request.first_name),
        last_name: Set(request.last_name),
        email: Set(request.email),
        phone: Set(request.phone),
        device_id: Set(request.device_id),
        account_id: Set(request.account_id),
        address_string: Set(request.address_string),
        media_url: Set(request.media_url),
        attributes: Set(serde_json::Value::Object(request.answers).to_string()),
        created_at: Set(case.created_at),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    tracing::info!(case_id = %case.id, case_no = %case.case_no, app = %key.name, "public request filed");
    Ok(case)
}

pub struct RequestFilter {
    /// When given, the other filters are ignored (as the spec says).
    pub case_nos: Option<Vec<String>>,
    /// Any of these categories.
    pub service_codes: Option<Vec<String>>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// `Some(true)`: open only; `Some(false)`: closed only.
    pub open: Option<bool>,
}

/// At most this many requests per answer, newest first (the spec's limit).
pub const MAX_REQUESTS: u64 = 1000;

/// A public case with what Open311 shows of it.
pub struct Shown {
    pub case: cases::Model,
    pub category_name: String,
    pub agency: Option<String>,
    pub media_url: Option<String>,
}

pub async fn list(state: &AppState, filter: RequestFilter) -> Result<Vec<Shown>, Error> {
    let mut query = cases::Entity::find()
        .filter(cases::Column::Source.eq(CaseSource::Public))
        .order_by_desc(cases::Column::CreatedAt)
        .limit(MAX_REQUESTS);
    match filter.case_nos {
        Some(numbers) => {
            query = query.filter(cases::Column::CaseNo.is_in(numbers));
        }
        None => {
            query = query
                .filter(cases::Column::CreatedAt.gte(filter.start))
                .filter(cases::Column::CreatedAt.lte(filter.end));
            if let Some(codes) = filter.service_codes {
                query = query.filter(cases::Column::CategoryCode.is_in(codes));
            }
            let closed = [CaseStatus::Closed.as_str(), CaseStatus::Cancelled.as_str()];
            match filter.open {
                Some(true) => query = query.filter(cases::Column::Status.is_not_in(closed)),
                Some(false) => query = query.filter(cases::Column::Status.is_in(closed)),
                None => {}
            }
        }
    }
    let rows = query.all(&state.db).await?;
    shown(state, rows).await
}

/// One public case by its number.
pub async fn get(state: &AppState, case_no: &str) -> Result<Option<Shown>, Error> {
    let row = cases::Entity::find()
        .filter(cases::Column::Source.eq(CaseSource::Public))
        .filter(cases::Column::CaseNo.eq(case_no))
        .one(&state.db)
        .await?;
    Ok(shown(state, row.into_iter().collect()).await?.pop())
}

async fn shown(state: &AppState, rows: Vec<cases::Model>) -> Result<Vec<Shown>, Error> {
    let names: HashMap<String, String> = categories::Entity::find()
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.code, c.name_zh))
        .collect();
    let department_names = super::inspections::department_names(&state.db).await?;
    let shops = super::inspections::shopfronts_by_id(
        &state.db,
        rows.iter().filter_map(|c| c.assignee_shopfront_id),
    )
    .await?;
    let ids: Vec<entity::ids::CaseId> = rows.iter().map(|c| c.id).collect();
    let mut media: HashMap<entity::ids::CaseId, Option<String>> = HashMap::new();
    for chunk in ids.chunks(500) {
        for request in public_requests::Entity::find()
            .filter(public_requests::Column::CaseId.is_in(chunk.to_vec()))
            .all(&state.db)
            .await?
        {
            media.insert(request.case_id, request.media_url);
        }
    }
    Ok(rows
        .into_iter()
        .map(|case| Shown {
            category_name: names.get(&case.category_code).cloned().unwrap_or_default(),
            agency: match (case.assignee_shopfront_id, case.assignee_department_id) {
                (Some(shop), _) => shops.get(&shop).map(|s| s.name.clone()),
                (None, Some(department)) => department_names.get(&department).cloned(),
                (None, None) => None,
            },
            media_url: media.get(&case.id).cloned().flatten(),
            case,
        })
        .collect())
}

/// What the spec's `status_notes` says of a status, in Chinese and English.
pub fn status_notes(status: CaseStatus) -> &'static str {
    match status {
        CaseStatus::Reported => "待分派 Awaiting triage",
        CaseStatus::Assigned => "已派遣 Assigned to the responsible unit",
        CaseStatus::InProgress => "整改中 Being fixed",
        CaseStatus::Disputed => "重新分派中 Being reassigned",
        CaseStatus::Rectified => "待核查 Fixed, awaiting verification",
        CaseStatus::Closed => "已办结 Verified fixed",
        CaseStatus::Cancelled => "已作废 Closed as invalid",
    }
}
