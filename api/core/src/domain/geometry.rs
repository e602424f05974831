//! Boundary and frontage-zone polygons, from GeoJSON or WKT, checked before they are
//! stored: closed rings of at least four positions, coordinates in range, no
//! self-intersection. Stored as GeoJSON (WGS-84).

use geo::{BoundingRect, Coord, Intersects, LineString, MultiPolygon, Point, Polygon, Validation};
use serde_json::{Value, json};

use crate::error::Msg;

/// A valid polygonal area.
#[derive(Clone, Debug, PartialEq)]
pub struct Area(MultiPolygon<f64>);

impl Area {
    /// From a GeoJSON geometry object (`Polygon` or `MultiPolygon`).
    pub fn from_geojson(value: &Value) -> Result<Self, Msg> {
        let kind = value.get("type").and_then(Value::as_str);
        let coordinates = value.get("coordinates").ok_or_else(|| {
            Msg::fixed(
                "a GeoJSON geometry needs coordinates",
                "GeoJSON 几何缺少 coordinates",
            )
        })?;
        let polygons = match kind {
            Some("Polygon") => vec![polygon_from_json(coordinates)?],
            Some("MultiPolygon") => coordinates
                .as_array()
                .ok_or_else(|| {
                    Msg::fixed(
                        "MultiPolygon coordinates must be an array",
                        "MultiPolygon 坐标须为数组",
                    )
                })?
                .iter()
                .map(polygon_from_json)
                .collect::<Result<_, _>>()?,
            _ => {
                return Err(Msg::fixed(
                    "geometry must be a Polygon or MultiPolygon",
                    "几何类型须为 Polygon 或 MultiPolygon",
                ));
            }
        };
        Self::checked(MultiPolygon(polygons))
    }

    /// From WKT (`POLYGON((lon lat, …))` or `MULTIPOLYGON`).
    pub fn from_wkt(text: &str) -> Result<Self, Msg> {
        use std::str::FromStr;
        let parsed = wkt::Wkt::<f64>::from_str(text.trim())
            .map_err(|e| Msg::new(format!("not valid WKT: {e}"), format!("WKT 格式错误：{e}")))?;
        let rings_of = |polygon: &wkt::types::Polygon<f64>| -> Vec<Vec<(f64, f64)>> {
            polygon
                .rings()
                .iter()
                .map(|ring| ring.coords().iter().map(|c| (c.x, c.y)).collect())
                .collect()
        };
        let polygons = match parsed {
            wkt::Wkt::Polygon(p) => vec![polygon_from_rings(rings_of(&p))?],
            wkt::Wkt::MultiPolygon(mp) => mp
                .polygons()
                .iter()
                .map(|p| polygon_from_rings(rings_of(p)))
                .collect::<Result<_, _>>()?,
            _ => {
                return Err(Msg::fixed(
                    "WKT must be a POLYGON or MULTIPOLYGON",
                    "WKT 须为 POLYGON 或 MULTIPOLYGON",
                ));
            }
        };
        Self::checked(MultiPolygon(polygons))
    }

    fn checked(shape: MultiPolygon<f64>) -> Result<Self, Msg> {
        if shape.0.is_empty() {
            return Err(Msg::fixed("the geometry is empty", "几何为空"));
        }
        if let Err(problem) = shape.check_validation() {
            return Err(Msg::new(
                format!("invalid polygon: {problem}"),
                format!("多边形无效（自相交或环不合法）：{problem}"),
            ));
        }
        Ok(Self(shape))
    }

    pub fn shape(&self) -> &MultiPolygon<f64> {
        &self.0
    }

    /// Inside or on the boundary.
    pub fn covers(&self, lat: f64, lon: f64) -> bool {
        self.0.intersects(&Point::new(lon, lat))
    }

    /// (min_lat, min_lon, max_lat, max_lon)
    pub fn bbox(&self) -> (f64, f64, f64, f64) {
        match self.0.bounding_rect() {
            Some(r) => (r.min().y, r.min().x, r.max().y, r.max().x),
            None => (0.0, 0.0, 0.0, 0.0),
        }
    }

    pub fn to_geojson(&self) -> Value {
        let rings = |polygon: &Polygon<f64>| -> Vec<Vec<[f64; 2]>> {
            std::iter::once(polygon.exterior())
                .chain(polygon.interiors())
                .map(|ring| ring.coords().map(|c| [c.x, c.y]).collect())
                .collect()
        };
        if self.0.0.len() == 1 {
            json!({"type": "Polygon", "coordinates": rings(&self.0.0[0])})
        } else {
            json!({"type": "MultiPolygon", "coordinates": self.0.0.iter().map(rings).collect::<Vec<_>>()})
        }
    }
}

fn polygon_from_json(value: &Value) -> Result<Polygon<f64>, Msg> {
    let bad = || {
        Msg::fixed(
            "polygon coordinates must be arrays of [lon, lat] rings",
            "多边形坐标须为 [经度, 纬度] 环的数组",
        )
    };
    let rings = value
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|ring| {
            ring.as_array()
                .ok_or_else(bad)?
                .iter()
                .map(|position| {
                    let pair = position
                        .as_array()
                        .filter(|p| p.len() >= 2)
                        .ok_or_else(bad)?;
                    match (pair[0].as_f64(), pair[1].as_f64()) {
                        (Some(lon), Some(lat)) => Ok((lon, lat)),
                        _ => Err(bad()),
                    }
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<Vec<_>, _>>()?;
    polygon_from_rings(rings)
}

/// Rings of (lon, lat): the first is the outer ring, the others holes.
fn polygon_from_rings(rings: Vec<Vec<(f64, f64)>>) -> Result<Polygon<f64>, Msg> {
    if rings.is_empty() {
        return Err(Msg::fixed(
            "a polygon needs an outer ring",
            "多边形缺少外环",
        ));
    }
    let mut lines = Vec::with_capacity(rings.len());
    for ring in rings {
        if ring.len() < 4 {
            return Err(Msg::fixed(
                "a ring needs at least 4 positions",
                "每个环至少需要 4 个点",
            ));
        }
        if ring.first() != ring.last() {
            return Err(Msg::fixed(
                "a ring is not closed (first and last positions differ)",
                "环未闭合（首末点不同）",
            ));
        }
        for &(lon, lat) in &ring {
            if !lon.is_finite()
                || !lat.is_finite()
                || !(-180.0..=180.0).contains(&lon)
                || !(-90.0..=90.0).contains(&lat)
            {
                return Err(Msg::new(
                    format!(
                        "coordinate [{lon}, {lat}] is out of range (expected [lon, lat] in WGS-84)"
                    ),
                    format!("坐标 [{lon}, {lat}] 超出范围（须为 WGS-84 的 [经度, 纬度]）"),
                ));
            }
        }
        lines.push(LineString(
            ring.into_iter().map(|(x, y)| Coord { x, y }).collect(),
        ));
    }
    let exterior = lines.remove(0);
    Ok(Polygon::new(exterior, lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x0: f64, y0: f64, size: f64) -> Value {
        json!({"type": "Polygon", "coordinates": [[[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]]})
    }

    #[test]
    fn a_square_covers_its_inside_and_edge_but_not_outside() {
        let area = Area::from_geojson(&square(120.0, 30.0, 0.01)).unwrap();
        assert!(area.covers(30.005, 120.005));
        assert!(area.covers(30.0, 120.005), "a point on the edge counts");
        assert!(!area.covers(30.02, 120.005));
        assert_eq!(area.bbox(), (30.0, 120.0, 30.01, 120.01));
    }

    #[test]
    fn a_hole_is_outside() {
        let with_hole = json!({"type": "Polygon", "coordinates": [
            [[120.0, 30.0], [120.1, 30.0], [120.1, 30.1], [120.0, 30.1], [120.0, 30.0]],
            [[120.04, 30.04], [120.06, 30.04], [120.06, 30.06], [120.04, 30.06], [120.04, 30.04]]
        ]});
        let area = Area::from_geojson(&with_hole).unwrap();
        assert!(!area.covers(30.05, 120.05));
        assert!(area.covers(30.02, 120.02));
    }

    #[test]
    fn bad_geometries_are_refused_with_a_reason() {
        let unclosed = json!({"type": "Polygon", "coordinates": [[[120.0, 30.0], [120.1, 30.0], [120.1, 30.1], [120.0, 30.1]]]});
        let bowtie = json!({"type": "Polygon", "coordinates": [[[120.0, 30.0], [120.1, 30.1], [120.1, 30.0], [120.0, 30.1], [120.0, 30.0]]]});
        let out_of_range = json!({"type": "Polygon", "coordinates": [[[200.0, 30.0], [201.0, 30.0], [201.0, 31.0], [200.0, 30.0]]]});
        let point = json!({"type": "Point", "coordinates": [120.0, 30.0]});
        for (geometry, expected) in [
            (unclosed, "not closed"),
            (bowtie, "invalid polygon"),
            (out_of_range, "out of range"),
            (point, "Polygon or MultiPolygon"),
        ] {
            let err = Area::from_geojson(&geometry).unwrap_err();
            assert!(err.en.contains(expected), "{}", err.en);
        }
    }

    #[test]
    fn wkt_polygons_parse_and_round_trip_to_geojson() {
        let area = Area::from_wkt("POLYGON((120 30, 120.01 30, 120.01 30.01, 120 30.01, 120 30))")
            .unwrap();
        assert!(area.covers(30.005, 120.005));
        let again = Area::from_geojson(&area.to_geojson()).unwrap();
        assert_eq!(again, area);
        assert!(Area::from_wkt("POINT(1 2)").is_err());
        assert!(Area::from_wkt("POLYGON((120 30, 121 30, 121 31, 120 31))").is_err());
    }
}
