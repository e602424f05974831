//! The registry a phone keeps offline: categories, departments, the areas and shop
//! frontage zones of where the inspector patrols, and the rules, so that the phone shows
//! who will answer for a problem before filing, with no network (`docs/mobile.md`). It is
//! a document of the registry's version: the same version and box, the same document, so
//! its `ETag` is known before it is built and a phone that has it gets 304.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use entity::ids::{DepartmentId, ShopfrontId};

use crate::auth::{Allowed, needs};
use crate::domain::Crs;
use crate::error::{ApiError, FieldErrors};
use crate::routes::extract::Query;
use crate::services::assignment::ZoneShape;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(offline_registry);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OfflineQuery {
    /// `min_lon,min_lat,max_lon,max_lat` (WGS-84) of where the phone patrols; without it,
    /// the whole city.
    pub bbox: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfflineRegistryJson {
    /// The registry's version; the document changes only when it does.
    pub version: i64,
    pub categories: Vec<OfflineCategoryJson>,
    pub departments: Vec<OfflineDepartmentJson>,
    /// The areas in the box and every area above them, parents before children.
    pub areas: Vec<OfflineAreaJson>,
    pub rules: Vec<OfflineRuleJson>,
    pub zones: Vec<OfflineZoneJson>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfflineCategoryJson {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// Problems of a frontage category inside a shop's zone go to that shop (门前三包).
    pub frontage: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfflineDepartmentJson {
    pub id: DepartmentId,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfflineAreaJson {
    pub id: Uuid,
    pub name: String,
    pub parent_id: Option<Uuid>,
    /// The department that takes what nothing else matches here (属地兜底).
    pub local_authority_id: Option<DepartmentId>,
    /// GeoJSON MultiPolygon, WGS-84, to 6 decimals.
    #[schema(value_type = Object)]
    pub boundary: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfflineRuleJson {
    pub category: String,
    /// `null`: city-wide.
    pub area_id: Option<Uuid>,
    pub department_id: DepartmentId,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfflineZoneJson {
    pub shopfront_id: ShopfrontId,
    pub name: String,
    /// `[lon, lat]`: distances to the shop are measured from here (the nearest shop wins
    /// where zones overlap).
    pub anchor: [f64; 2],
    /// GeoJSON MultiPolygon, or `null` for a zone that is a radius around the anchor.
    #[schema(value_type = Object)]
    pub polygon: Option<Value>,
    pub radius_m: Option<f64>,
}

/// The registry for offline use: who answers for what, where.
///
/// The decision the phone makes from it is the server's (DESIGN.md): a frontage category
/// inside a shop's zone goes to that shop (the nearest anchor where zones overlap);
/// otherwise the rule of the deepest area containing the point, walking up; otherwise the
/// city-wide rule; otherwise the nearest local authority up the tree; otherwise triage.
#[utoipa::path(tag = "registry", params(OfflineQuery),
    responses((status = 200, body = OfflineRegistryJson), (status = 304, description = "the phone's copy is current"), (status = 422)),
    security(("bearer" = [])))]
#[get("/registry/offline")]
async fn offline_registry(
    state: web::Data<AppState>,
    _: Allowed<needs::FileReports>,
    query: Query<OfflineQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let mut errors = FieldErrors::default();
    let bbox = query
        .bbox
        .as_deref()
        .and_then(|raw| errors.check("bbox", crate::routes::location::parse_bbox(raw, Crs::Wgs84)));
    errors.finish()?;
    let registry = state.registry.current(&state.db).await?;
    // No commas: If-None-Match lists tags separated by them.
    let etag = format!(
        "W/\"registry-{}-{}\"",
        registry.version(),
        bbox.map_or_else(
            || "all".to_owned(),
            |(a, b, c, d)| format!("{a}_{b}_{c}_{d}")
        )
    );
    let current = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|values| values.split(',').any(|v| v.trim() == etag));
    let etag_value = HeaderValue::from_str(&etag).map_err(crate::error::Error::internal)?;
    if current {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag_value))
            .finish());
    }
    let index = registry.index.offline(
        bbox.map(|(min_lon, min_lat, max_lon, max_lat)| (min_lat, min_lon, max_lat, max_lon)),
    );
    let body = OfflineRegistryJson {
        version: registry.version(),
        categories: registry
            .categories()
            .map(|c| OfflineCategoryJson {
                code: c.code.clone(),
                name_zh: c.name_zh.clone(),
                name_en: c.name_en.clone(),
                frontage: c.frontage,
            })
            .collect(),
        departments: index
            .departments
            .iter()
            .map(|(id, name)| OfflineDepartmentJson {
                id: *id,
                name: (*name).to_owned(),
            })
            .collect(),
        areas: index
            .areas
            .iter()
            .map(|a| OfflineAreaJson {
                id: a.id,
                name: a.name.clone(),
                parent_id: a.parent,
                local_authority_id: a.local_authority,
                boundary: rounded(a.boundary.to_geojson()),
            })
            .collect(),
        rules: index
            .rules
            .iter()
            .map(|(category, area, department)| OfflineRuleJson {
                category: (*category).to_owned(),
                area_id: *area,
                department_id: *department,
            })
            .collect(),
        zones: index
            .zones
            .iter()
            .map(|z| {
                let (polygon, radius_m) = match &z.shape {
                    ZoneShape::Polygon(area) => (Some(rounded(area.to_geojson())), None),
                    ZoneShape::Circle { radius_m, .. } => (None, Some(*radius_m)),
                };
                OfflineZoneJson {
                    shopfront_id: z.shop_id,
                    name: z.name.clone(),
                    anchor: [round6(z.anchor.lon()), round6(z.anchor.lat())],
                    polygon,
                    radius_m,
                }
            })
            .collect(),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag_value))
        // Kept, but asked about again each time: a version may come any moment.
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .json(body))
}

/// Six decimals of a degree are 0.1 m: enough for a zone, and a third shorter.
fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn rounded(value: Value) -> Value {
    match value {
        Value::Number(n) => n
            .as_f64()
            .and_then(|x| serde_json::Number::from_f64(round6(x)))
            .map_or(Value::Number(n), Value::Number),
        Value::Array(items) => Value::Array(items.into_iter().map(rounded).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, rounded(v))).collect())
        }
        other => other,
    }
}
