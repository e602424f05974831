//! Request and response shapes of `/api/v1/reports` and photos.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use entity::ids::{CaseId, UserId};

use entity::{case_events, cases, photos};

use crate::domain::{AssigneeKind, Crs, GeoPoint};
use crate::services::reports::CaseDetails;

#[derive(Debug, Deserialize, ToSchema)]
pub struct LocationInput {
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// Horizontal accuracy the phone reports, in metres.
    pub accuracy_m: Option<f64>,
    /// The coordinate system of `lat`/`lon`: `wgs84` (raw GPS, default), `gcj02` (Amap,
    /// Tencent) or `bd09` (Baidu).
    pub crs: Option<String>,
}

/// A new report. Everything else about a case (status, assignee, reporter, number) is set
/// by the server; sending such a field is an error.
#[derive(Debug, Deserialize, ToSchema)]
pub struct FileReportRequest {
    /// A UUID the phone makes once per report and sends again on every retry.
    pub client_id: Option<String>,
    /// A category code, e.g. `parking`.
    pub category: Option<String>,
    pub description: Option<String>,
    pub location: Option<LocationInput>,
    pub address: Option<String>,
    /// When the inspector saw the problem (device time, RFC 3339).
    pub observed_at: Option<String>,
    /// `low`, `normal` (default), `high` or `urgent`.
    pub severity: Option<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unexpected: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LocationJson {
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
    /// The system of `lat`/`lon` in this response (`wgs84` unless `?crs=gcj02`).
    pub crs: Crs,
}

impl LocationJson {
    /// Where a case is, in `crs`.
    pub fn of_case(case: &cases::Model, crs: Crs) -> Self {
        let (lat, lon) = GeoPoint::new(case.lat, case.lon)
            .map(|p| p.in_crs(crs))
            .unwrap_or((case.lat, case.lon));
        Self {
            lat,
            lon,
            accuracy_m: case.accuracy_m,
            crs,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssigneeJson {
    pub kind: AssigneeKind,
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PhotoJson {
    pub id: entity::ids::PhotoId,
    pub kind: crate::domain::PhotoKind,
    pub sha256: String,
    pub content_type: String,
    /// The original's size in bytes.
    pub size_bytes: i64,
    pub width: i32,
    pub height: i32,
    /// EXIF capture time, when the photo has one.
    pub taken_at: Option<DateTime<Utc>>,
    /// `gps_far_from_case`, `taken_long_before_filing`, `same_photo_on_other_case`,
    /// `similar_photo_on_other_case`.
    pub flags: Vec<String>,
    pub original_url: String,
    pub preview_url: String,
    pub thumbnail_url: String,
    pub created_at: DateTime<Utc>,
}

impl From<photos::Model> for PhotoJson {
    fn from(p: photos::Model) -> Self {
        let url = |rendition: &str| format!("/api/v1/photos/{}/{rendition}", p.id);
        Self {
            original_url: url("original"),
            preview_url: url("preview"),
            thumbnail_url: url("thumbnail"),
            id: p.id,
            kind: p.kind,
            sha256: p.sha256,
            content_type: p.content_type,
            size_bytes: p.bytes,
            width: p.width,
            height: p.height,
            taken_at: p.taken_at,
            flags: serde_json::from_str(&p.flags).unwrap_or_default(),
            created_at: p.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventJson {
    pub id: Uuid,
    pub seq: i32,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor_id: Option<UserId>,
    pub actor_role: Option<String>,
    pub note: Option<String>,
    pub photo_ids: Vec<Uuid>,
    pub created_at: DateTime<Utc>,
    /// SHA-256 over this event and the previous event's hash.
    pub hash: String,
}

impl From<case_events::Model> for EventJson {
    fn from(e: case_events::Model) -> Self {
        Self {
            id: e.id,
            seq: e.seq,
            action: e.action,
            from_status: e.from_status,
            to_status: e.to_status,
            actor_id: e.actor_id,
            actor_role: e.actor_role,
            note: e.note,
            photo_ids: serde_json::from_str(&e.photo_ids).unwrap_or_default(),
            created_at: e.created_at,
            hash: e.hash,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseJson {
    pub id: CaseId,
    pub case_no: String,
    pub status: crate::domain::CaseStatus,
    /// The category code.
    pub category: String,
    pub description: String,
    pub location: LocationJson,
    pub address: String,
    pub severity: crate::domain::Severity,
    pub source: crate::domain::CaseSource,
    pub reporter_id: Option<UserId>,
    pub assignee: Option<AssigneeJson>,
    pub assignment_reason: Option<String>,
    pub area_id: Option<Uuid>,
    pub deadline_at: Option<DateTime<Utc>>,
    pub overdue: bool,
    /// Send it back with every action: a stale version is refused (409).
    pub version: i32,
    pub observed_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Rectifications rejected (返工).
    pub rework_count: i32,
    /// Times reopened after closing (反弹).
    pub recurrence_count: i32,
    /// When closed as a duplicate: the original case.
    pub duplicate_of: Option<CaseId>,
    /// A recently closed case nearby that this one recurs (反弹).
    pub recurrence_of: Option<CaseId>,
    /// On single-case reads: later cases that recur this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurrences: Option<Vec<CaseId>>,
    /// `extension` or `suspension` while a request waits for a supervisor.
    pub pending_request: Option<String>,
    /// The deadline a pending extension asks for.
    pub requested_until: Option<DateTime<Utc>>,
    /// Set while suspended (缓办): the deadline clock is paused.
    pub suspended_at: Option<DateTime<Utc>>,
    /// Filed without a photo: its assignee receives it when its first "before" photo
    /// arrives, or at this time. `null`: dispatched.
    pub held_until: Option<DateTime<Utc>>,
    /// Once rectified: the inspector who verifies it (the one responsible for its grid,
    /// else its filer; supervisors may too), and by when (核查时限).
    pub verifier_id: Option<UserId>,
    pub verify_due_at: Option<DateTime<Utc>>,
    /// For source `inspection`: the campaign, site and visit whose deduction filed it.
    pub campaign_id: Option<entity::ids::CampaignId>,
    pub site_id: Option<entity::ids::SiteId>,
    pub visit_id: Option<entity::ids::VisitId>,
    pub photos: Vec<PhotoJson>,
    /// The history, on single-case reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<EventJson>>,
}

impl CaseJson {
    pub fn new(case: cases::Model, details: CaseDetails, crs: Crs) -> Self {
        let now = Utc::now();
        let open = case.status.is_open();
        let location = LocationJson::of_case(&case, crs);
        let assignee = match (case.assignee_shopfront_id, case.assignee_department_id) {
            (Some(id), _) => Some((AssigneeKind::Shopfront, id.0)),
            (None, Some(id)) => Some((AssigneeKind::Department, id.0)),
            _ => None,
        }
        .map(|(kind, id)| AssigneeJson {
            kind,
            id,
            name: details.assignee_name.clone().unwrap_or_default(),
        });
        Self {
            id: case.id,
            case_no: case.case_no,
            overdue: open
                && case.suspended_at.is_none()
                && case.deadline_at.is_some_and(|d| d < now),
            status: case.status,
            category: case.category_code,
            description: case.description,
            location,
            address: case.address,
            severity: case.severity,
            source: case.source,
            reporter_id: case.reporter_id,
            assignee,
            assignment_reason: case.assignment_reason,
            area_id: case.area_id,
            deadline_at: case.deadline_at,
            held_until: case.held_until,
            verifier_id: case.verifier_id,
            verify_due_at: case.verify_due_at,
            version: case.version,
            observed_at: case.observed_at,
            created_at: case.created_at,
            updated_at: case.updated_at,
            closed_at: case.closed_at,
            rework_count: case.rework_count,
            recurrence_count: case.recurrence_count,
            duplicate_of: case.duplicate_of,
            recurrence_of: case.recurrence_of,
            recurrences: None,
            pending_request: case.pending_request,
            requested_until: case.requested_until,
            suspended_at: case.suspended_at,
            campaign_id: case.campaign_id,
            site_id: case.site_id,
            visit_id: case.visit_id,
            photos: details.photos.into_iter().map(PhotoJson::from).collect(),
            events: None,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
/// An open case near a point, as the duplicates check names it to any filer: where and
/// what it is, without its photos, reporter or assignee (those are for its readers).
pub struct NearbyCaseJson {
    pub id: CaseId,
    pub case_no: String,
    pub status: crate::domain::CaseStatus,
    pub category: String,
    pub location: LocationJson,
    pub address: String,
    pub created_at: DateTime<Utc>,
    /// Distance from the asked point, in metres.
    pub distance_m: f64,
}

impl NearbyCaseJson {
    pub fn new(case: cases::Model, distance_m: f64, crs: Crs) -> Self {
        Self {
            location: LocationJson::of_case(&case, crs),
            id: case.id,
            case_no: case.case_no,
            status: case.status,
            category: case.category_code,
            address: case.address,
            created_at: case.created_at,
            distance_m: (distance_m * 10.0).round() / 10.0,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NearbyQuery {
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// `wgs84` (default), `gcj02` or `bd09`; also the system of the answer.
    pub crs: Option<String>,
    pub category: Option<String>,
    /// Search radius in metres, 1–1000 (default 100).
    pub radius_m: Option<f64>,
}

/// Filters shared by the list and its GeoJSON form.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListReportsQuery {
    /// One status or several, comma-separated.
    pub status: Option<String>,
    pub category: Option<String>,
    pub area_id: Option<String>,
    /// A department or shopfront id.
    pub assignee_id: Option<String>,
    pub reporter_id: Option<String>,
    pub overdue: Option<String>,
    /// `min_lon,min_lat,max_lon,max_lat` in WGS-84 (or in `crs`).
    pub bbox: Option<String>,
    pub created_from: Option<String>,
    pub created_to: Option<String>,
    /// Only cases changed after this time (RFC 3339): a phone's delta sync.
    pub updated_since: Option<String>,
    /// `created` (newest first, default), `deadline` (soonest first) or `updated`
    /// (oldest change first, for sync).
    pub sort: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<String>,
    pub cursor: Option<String>,
    /// `wgs84` (default) or `gcj02` for the coordinates in the answer.
    pub crs: Option<String>,
    /// A compact list (the JSON one): only these fields of each case (comma-separated;
    /// `id` always).
    pub fields: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PhotoUploadQuery {
    /// `before`, `after` or `verification` (or send a `kind` form field).
    pub kind: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PhotoUploadResponse {
    pub items: Vec<PhotoJson>,
}
