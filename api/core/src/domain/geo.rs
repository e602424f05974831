//! Points on the ground. Phones in China report WGS-84 (raw GPS), GCJ-02 (Amap, Tencent)
//! or BD-09 (Baidu); the store keeps WGS-84 and can answer in GCJ-02.

use std::f64::consts::PI;

use geo::{Distance, Haversine, Point};
use serde::{Deserialize, Serialize};

use crate::error::Msg;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Crs {
    #[default]
    Wgs84,
    Gcj02,
    Bd09,
}

/// A valid WGS-84 position.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GeoPoint {
    lat: f64,
    lon: f64,
}

impl GeoPoint {
    pub fn new(lat: f64, lon: f64) -> Result<Self, Msg> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(Msg::fixed(
                "latitude must be from -90 to 90",
                "纬度须在 -90 到 90 之间",
            ));
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(Msg::fixed(
                "longitude must be from -180 to 180",
                "经度须在 -180 到 180 之间",
            ));
        }
        Ok(Self { lat, lon })
    }

    /// Parses a point given in `crs` and converts it to WGS-84.
    pub fn from_crs(lat: f64, lon: f64, crs: Crs) -> Result<Self, Msg> {
        let given = Self::new(lat, lon)?;
        let (lat, lon) = match crs {
            Crs::Wgs84 => (lat, lon),
            Crs::Gcj02 => gcj02_to_wgs84(lat, lon),
            Crs::Bd09 => {
                let (lat, lon) = bd09_to_gcj02(lat, lon);
                gcj02_to_wgs84(lat, lon)
            }
        };
        Self::new(lat, lon).or(Ok(given))
    }

    pub fn lat(self) -> f64 {
        self.lat
    }

    pub fn lon(self) -> f64 {
        self.lon
    }

    /// This WGS-84 point expressed in `crs`, as (lat, lon).
    pub fn in_crs(self, crs: Crs) -> (f64, f64) {
        match crs {
            Crs::Wgs84 => (self.lat, self.lon),
            Crs::Gcj02 => wgs84_to_gcj02(self.lat, self.lon),
            Crs::Bd09 => {
                let (lat, lon) = wgs84_to_gcj02(self.lat, self.lon);
                gcj02_to_bd09(lat, lon)
            }
        }
    }

    /// Great-circle distance in metres.
    pub fn distance_m(self, other: GeoPoint) -> f64 {
        Haversine.distance(
            Point::new(self.lon, self.lat),
            Point::new(other.lon, other.lat),
        )
    }

    /// A box holding every point within `radius_m`, as (min_lat, min_lon, max_lat,
    /// max_lon): a cheap SQL prefilter before the exact distance. A degree is taken as a
    /// little less than the haversine's 111.195 km so the box never cuts the circle.
    pub fn bounding_box(self, radius_m: f64) -> (f64, f64, f64, f64) {
        const METRES_PER_DEGREE: f64 = 111_000.0;
        let dlat = radius_m / METRES_PER_DEGREE;
        let dlon = radius_m / (METRES_PER_DEGREE * self.lat.to_radians().cos().max(0.01));
        (
            self.lat - dlat,
            self.lon - dlon,
            self.lat + dlat,
            self.lon + dlon,
        )
    }
}

// GCJ-02 is WGS-84 plus a published polynomial offset inside China (the "eviltransform"
// formulas); BD-09 is a further rotation and shift of GCJ-02.
const AXIS: f64 = 6_378_245.0;
const ECCENTRICITY_SQ: f64 = 0.006_693_421_622_965_943;
const X_PI: f64 = PI * 3000.0 / 180.0;

fn outside_china(lat: f64, lon: f64) -> bool {
    !(72.004..=137.8347).contains(&lon) || !(0.8293..=55.8271).contains(&lat)
}

fn offset(lat: f64, lon: f64) -> (f64, f64) {
    let (x, y) = (lon - 105.0, lat - 35.0);
    let mut dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    dlat += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    dlat += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    dlat += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    let mut dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    dlon += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    dlon += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    dlon += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    let rad_lat = lat / 180.0 * PI;
    let magic = 1.0 - ECCENTRICITY_SQ * rad_lat.sin() * rad_lat.sin();
    let sqrt_magic = magic.sqrt();
    let dlat = (dlat * 180.0) / ((AXIS * (1.0 - ECCENTRICITY_SQ)) / (magic * sqrt_magic) * PI);
    let dlon = (dlon * 180.0) / (AXIS / sqrt_magic * rad_lat.cos() * PI);
    (dlat, dlon)
}

pub fn wgs84_to_gcj02(lat: f64, lon: f64) -> (f64, f64) {
    if outside_china(lat, lon) {
        return (lat, lon);
    }
    let (dlat, dlon) = offset(lat, lon);
    (lat + dlat, lon + dlon)
}

/// Inverts the offset by fixed-point iteration (converges to under a millimetre).
pub fn gcj02_to_wgs84(lat: f64, lon: f64) -> (f64, f64) {
    if outside_china(lat, lon) {
        return (lat, lon);
    }
    let (mut wlat, mut wlon) = (lat, lon);
    for _ in 0..30 {
        let (glat, glon) = wgs84_to_gcj02(wlat, wlon);
        let (elat, elon) = (glat - lat, glon - lon);
        wlat -= elat;
        wlon -= elon;
        if elat.abs() < 1e-10 && elon.abs() < 1e-10 {
            break;
        }
    }
    (wlat, wlon)
}

pub fn gcj02_to_bd09(lat: f64, lon: f64) -> (f64, f64) {
    let z = (lon * lon + lat * lat).sqrt() + 0.00002 * (lat * X_PI).sin();
    let theta = lat.atan2(lon) + 0.000003 * (lon * X_PI).cos();
    (z * theta.sin() + 0.006, z * theta.cos() + 0.0065)
}

/// The published inverse formula, refined by a few fixed-point steps so a BD-09 → GCJ-02
/// → BD-09 round trip agrees to well under a millimetre.
pub fn bd09_to_gcj02(lat: f64, lon: f64) -> (f64, f64) {
    let (x, y) = (lon - 0.0065, lat - 0.006);
    let z = (x * x + y * y).sqrt() - 0.00002 * (y * X_PI).sin();
    let theta = y.atan2(x) - 0.000003 * (x * X_PI).cos();
    let (mut glat, mut glon) = (z * theta.sin(), z * theta.cos());
    for _ in 0..10 {
        let (blat, blon) = gcj02_to_bd09(glat, glon);
        let (elat, elon) = (blat - lat, blon - lon);
        glat -= elat;
        glon -= elon;
        if elat.abs() < 1e-11 && elon.abs() < 1e-11 {
            break;
        }
    }
    (glat, glon)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// WGS-84 → GCJ-02 reference pairs published with the eviltransform library.
    const REFERENCE: [(f64, f64, f64, f64); 3] = [
        (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
        (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
        (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
    ];

    #[test]
    fn wgs84_to_gcj02_matches_published_points() {
        for (wlat, wlon, glat, glon) in REFERENCE {
            let (lat, lon) = wgs84_to_gcj02(wlat, wlon);
            assert!(
                (lat - glat).abs() < 1e-7 && (lon - glon).abs() < 1e-7,
                "{lat},{lon}"
            );
        }
    }

    #[test]
    fn gcj02_back_to_wgs84_is_within_a_centimetre() {
        for (wlat, wlon, glat, glon) in REFERENCE {
            let back = GeoPoint::from_crs(glat, glon, Crs::Gcj02).unwrap();
            let truth = GeoPoint::new(wlat, wlon).unwrap();
            assert!(back.distance_m(truth) < 0.01);
        }
    }

    #[test]
    fn bd09_round_trips_and_is_offset_from_gcj02() {
        let (glat, glon) = (39.91334545536069, 116.38404722455657);
        let (blat, blon) = gcj02_to_bd09(glat, glon);
        assert!((blat - glat).abs() > 0.004 && (blon - glon).abs() > 0.005);
        let (lat, lon) = bd09_to_gcj02(blat, blon);
        assert!((lat - glat).abs() < 1e-9 && (lon - glon).abs() < 1e-9);
    }

    #[test]
    fn points_outside_china_are_not_shifted() {
        assert_eq!(wgs84_to_gcj02(48.8584, 2.2945), (48.8584, 2.2945));
    }

    #[test]
    fn out_of_range_coordinates_are_refused() {
        for (lat, lon) in [
            (91.0, 0.0),
            (0.0, 181.0),
            (f64::NAN, 0.0),
            (0.0, f64::INFINITY),
        ] {
            assert!(GeoPoint::new(lat, lon).is_err());
        }
    }

    #[test]
    fn distances_and_boxes_agree() {
        let a = GeoPoint::new(30.25, 120.16).unwrap();
        let b = GeoPoint::new(30.2509, 120.16).unwrap();
        assert!((a.distance_m(b) - 100.0).abs() < 1.0);
        // Every point on the circle of the radius lies inside the box.
        let (min_lat, min_lon, max_lat, max_lon) = a.bounding_box(100.0);
        for step in 0..360 {
            let angle = f64::from(step).to_radians();
            let edge = GeoPoint::new(
                30.25 + 0.000899 * angle.sin(),
                120.16 + 0.001040 * angle.cos(),
            )
            .unwrap();
            if a.distance_m(edge) <= 100.0 {
                assert!(
                    (min_lat..=max_lat).contains(&edge.lat())
                        && (min_lon..=max_lon).contains(&edge.lon())
                );
            }
        }
    }
}
