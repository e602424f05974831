//! `GET /api/v1/map`: the base tiles the web app's maps draw on (`XUNCHA_MAP_TILES` and
//! what goes with it), or none: then boundaries and cases are drawn on a plain background,
//! which works with no internet.
//!
//! Signed in only: the template often carries the city's key for the provider (天地图's
//! `tk`, 高德's `key`), whose quota the city pays for, and only signed-in screens draw maps.

use actix_web::{get, web};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Caller;
use crate::domain::Crs;
use crate::state::AppState;

/// Tiles past this zoom are not asked for: the Chinese providers stop at 18.
pub const MAX_ZOOM: u8 = 18;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(map_settings);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MapSettingsJson {
    /// `null`: no base tiles.
    pub tiles: Option<TilesJson>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TilesJson {
    /// A Leaflet URL template: `{z}`, `{x}`, `{y}` (or `{-y}`), `{s}`, `{r}`.
    pub url: String,
    /// The frame the tiles are drawn in: `wgs84` or `gcj02` (then the app shifts every
    /// WGS-84 point it draws, and shifts clicks back).
    pub crs: Crs,
    /// Plain text for the map's corner.
    pub attribution: String,
    /// What `{s}` takes, in turn.
    pub subdomains: Vec<String>,
    pub max_zoom: u8,
}

/// The base tiles for maps, or `null`.
#[utoipa::path(tag = "operations", responses((status = 200, body = MapSettingsJson)), security(("bearer" = [])))]
#[get("/map")]
async fn map_settings(state: web::Data<AppState>, _user: Caller) -> web::Json<MapSettingsJson> {
    web::Json(MapSettingsJson {
        tiles: state.settings.map_tiles.as_ref().map(|t| TilesJson {
            url: t.url.clone(),
            crs: t.crs,
            attribution: t.attribution.clone(),
            subdomains: t.subdomains.clone(),
            max_zoom: MAX_ZOOM,
        }),
    })
}
