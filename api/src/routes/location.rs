//! The one shape of a point in requests and answers of the registry and inspections:
//! `location: {lat, lon, crs}`. Requests say their coordinate system (WGS-84 by default);
//! answers say the one they are in. Reports add the phone's `accuracy_m` to the same shape.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{Crs, GeoPoint};
use crate::error::Msg;

/// A point as a request sends it.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PointRequest {
    pub lat: f64,
    pub lon: f64,
    /// `wgs84` (raw GPS, default), `gcj02` (Amap, Tencent) or `bd09` (Baidu).
    #[serde(default)]
    pub crs: Crs,
}

impl PointRequest {
    /// The point in WGS-84, as the store keeps it.
    pub fn parse(&self) -> Result<GeoPoint, Msg> {
        GeoPoint::from_crs(self.lat, self.lon, self.crs)
    }
}

/// A point as an answer gives it.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct PointJson {
    pub lat: f64,
    pub lon: f64,
    /// The system of `lat`/`lon` in this answer.
    pub crs: Crs,
}

impl PointJson {
    /// A stored (WGS-84) point, as it is.
    pub fn wgs84(lat: f64, lon: f64) -> Self {
        Self {
            lat,
            lon,
            crs: Crs::Wgs84,
        }
    }
}

/// A box `min_lon,min_lat,max_lon,max_lat` in `crs`, as WGS-84 (min_lon, min_lat, max_lon,
/// max_lat).
pub fn parse_bbox(raw: &str, crs: Crs) -> Result<(f64, f64, f64, f64), Msg> {
    let numbers: Vec<f64> = raw
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    match numbers[..] {
        [min_lon, min_lat, max_lon, max_lat] if min_lon <= max_lon && min_lat <= max_lat => {
            GeoPoint::from_crs(min_lat, min_lon, crs)
                .and_then(|sw| GeoPoint::from_crs(max_lat, max_lon, crs).map(|ne| (sw, ne)))
                .map(|(sw, ne)| (sw.lon(), sw.lat(), ne.lon(), ne.lat()))
        }
        _ => Err(Msg::fixed(
            "min_lon,min_lat,max_lon,max_lat",
            "格式：最小经度,最小纬度,最大经度,最大纬度",
        )),
    }
}
