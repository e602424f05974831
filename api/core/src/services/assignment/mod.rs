//! Automatic assignment (DESIGN.md): a frontage category inside a shop's zone goes to that
//! shop (the nearest if several); otherwise the rule of the most specific area decides the
//! department, then a city-wide rule; otherwise the area's local authority (属地兜底,
//! inherited down the tree); otherwise the case waits in triage. Answered from an in-memory
//! R-tree, rebuilt when the registry version in the database moves.

use std::collections::HashMap;

use rstar::AABB;
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};
use uuid::Uuid;

use entity::ids::{DepartmentId, ShopfrontId};
use entity::shopfronts;

use crate::domain::GeoPoint;
use crate::domain::geometry::Area;

mod snapshot;
pub use snapshot::*;

/// Where a case goes, and why (stored with the case, shown to users).
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub target: Target,
    /// Which step of the decision matched (a code a client words in its language).
    pub basis: Basis,
    /// The shop's or department's name.
    pub target_name: Option<String>,
    pub reason: String,
    /// The most specific area containing the point.
    pub area_id: Option<Uuid>,
}

/// The steps of the decision, in order (DESIGN.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    Frontage,
    AreaRule,
    CityRule,
    LocalAuthority,
    Triage,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Frontage => "frontage",
            Basis::AreaRule => "area_rule",
            Basis::CityRule => "city_rule",
            Basis::LocalAuthority => "local_authority",
            Basis::Triage => "triage",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Shopfront(ShopfrontId),
    Department(DepartmentId),
    Triage,
}

#[derive(Clone, Debug)]
pub enum ZoneShape {
    Polygon(Area),
    Circle { center: GeoPoint, radius_m: f64 },
}

impl ZoneShape {
    fn covers(&self, point: GeoPoint) -> bool {
        match self {
            ZoneShape::Polygon(area) => area.covers(point.lat(), point.lon()),
            ZoneShape::Circle { center, radius_m } => center.distance_m(point) <= *radius_m,
        }
    }

    /// (min_lat, min_lon, max_lat, max_lon)
    fn bbox(&self) -> (f64, f64, f64, f64) {
        match self {
            ZoneShape::Polygon(area) => area.bbox(),
            ZoneShape::Circle { center, radius_m } => center.bounding_box(*radius_m),
        }
    }
}

#[derive(Clone, Debug)]
pub struct ZoneEntry {
    pub shop_id: ShopfrontId,
    pub name: String,
    /// Where distances to the shop are measured from.
    pub anchor: GeoPoint,
    pub shape: ZoneShape,
}

#[derive(Clone, Debug)]
pub struct AreaEntry {
    pub id: Uuid,
    pub name: String,
    pub parent: Option<Uuid>,
    pub local_authority: Option<DepartmentId>,
    pub boundary: Area,
}

type Boxed = GeomWithData<Rectangle<[f64; 2]>, usize>;

fn boxed(bbox: (f64, f64, f64, f64), index: usize) -> Boxed {
    let (min_lat, min_lon, max_lat, max_lon) = bbox;
    GeomWithData::new(
        Rectangle::from_corners([min_lon, min_lat], [max_lon, max_lat]),
        index,
    )
}

/// A part of the index, as a phone keeps it offline (`RegistryIndex::offline`).
pub struct OfflineIndex<'a> {
    pub zones: Vec<&'a ZoneEntry>,
    pub areas: Vec<&'a AreaEntry>,
    /// (category, area or city-wide, department)
    pub rules: Vec<(&'a str, Option<Uuid>, DepartmentId)>,
    pub departments: Vec<(DepartmentId, &'a str)>,
}

/// Everything assignment needs, indexed.
pub struct RegistryIndex {
    pub version: i64,
    zones: Vec<ZoneEntry>,
    zone_tree: RTree<Boxed>,
    areas: Vec<AreaEntry>,
    area_tree: RTree<Boxed>,
    area_slot: HashMap<Uuid, usize>,
    depth: Vec<u32>,
    rules: HashMap<(String, Option<Uuid>), DepartmentId>,
    frontage: HashMap<String, bool>,
    department_names: HashMap<DepartmentId, String>,
}

impl RegistryIndex {
    pub fn new(
        version: i64,
        zones: Vec<ZoneEntry>,
        areas: Vec<AreaEntry>,
        rules: HashMap<(String, Option<Uuid>), DepartmentId>,
        frontage: HashMap<String, bool>,
        department_names: HashMap<DepartmentId, String>,
    ) -> Self {
        let zone_tree = RTree::bulk_load(
            zones
                .iter()
                .enumerate()
                .map(|(i, z)| boxed(z.shape.bbox(), i))
                .collect(),
        );
        let area_tree = RTree::bulk_load(
            areas
                .iter()
                .enumerate()
                .map(|(i, a)| boxed(a.boundary.bbox(), i))
                .collect(),
        );
        let area_slot: HashMap<Uuid, usize> =
            areas.iter().enumerate().map(|(i, a)| (a.id, i)).collect();
        let depth = areas
            .iter()
            .map(|area| {
                let mut depth = 0;
                let mut parent = area.parent;
                while let Some(id) = parent {
                    depth += 1;
                    parent = area_slot.get(&id).and_then(|&i| areas[i].parent);
                    if depth > 64 {
                        break; // a cycle would be a data error; stop rather than spin
                    }
                }
                depth
            })
            .collect();
        Self {
            version,
            zones,
            zone_tree,
            areas,
            area_tree,
            area_slot,
            depth,
            rules,
            frontage,
            department_names,
        }
    }

    /// What a phone needs to make the same decisions offline, within `bbox` (min_lat,
    /// min_lon, max_lat, max_lon) or everywhere: the shop zones there, the areas there and
    /// every area above them (rules and local authorities are inherited down the tree),
    /// all rules, the departments and which categories are frontage ones.
    pub fn offline(&self, bbox: Option<(f64, f64, f64, f64)>) -> OfflineIndex<'_> {
        let envelope = bbox.map(|(min_lat, min_lon, max_lat, max_lon)| {
            AABB::from_corners([min_lon, min_lat], [max_lon, max_lat])
        });
        let within = |tree: &RTree<Boxed>, all: usize| -> Vec<usize> {
            match &envelope {
                Some(envelope) => tree
                    .locate_in_envelope_intersecting(envelope)
                    .map(|g| g.data)
                    .collect(),
                None => (0..all).collect(),
            }
        };
        let mut zones = within(&self.zone_tree, self.zones.len());
        zones.sort_unstable();
        let mut areas = std::collections::BTreeSet::new();
        for start in within(&self.area_tree, self.areas.len()) {
            let mut walk = Some(start);
            while let Some(i) = walk {
                if !areas.insert(i) {
                    break;
                }
                walk = self.areas[i]
                    .parent
                    .and_then(|p| self.area_slot.get(&p).copied());
            }
        }
        let mut rules: Vec<(&str, Option<Uuid>, DepartmentId)> = self
            .rules
            .iter()
            .map(|((category, area), department)| (category.as_str(), *area, *department))
            .collect();
        rules.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        let mut departments: Vec<(DepartmentId, &str)> = self
            .department_names
            .iter()
            .map(|(id, name)| (*id, name.as_str()))
            .collect();
        departments.sort_unstable();
        OfflineIndex {
            zones: zones.into_iter().map(|i| &self.zones[i]).collect(),
            areas: areas.into_iter().map(|i| &self.areas[i]).collect(),
            rules,
            departments,
        }
    }

    pub fn zone_count(&self) -> usize {
        self.zones.len()
    }

    fn department(&self, id: DepartmentId) -> &str {
        self.department_name(id).unwrap_or("?")
    }

    pub fn department_name(&self, id: DepartmentId) -> Option<&str> {
        self.department_names.get(&id).map(String::as_str)
    }

    /// The deepest area containing the point (the smallest, between equals).
    fn area_at(&self, point: GeoPoint, candidates: impl Iterator<Item = usize>) -> Option<usize> {
        candidates
            .filter(|&i| self.areas[i].boundary.covers(point.lat(), point.lon()))
            .max_by(|&a, &b| {
                self.depth[a].cmp(&self.depth[b]).then_with(|| {
                    let size = |i: usize| {
                        let (y0, x0, y1, x1) = self.areas[i].boundary.bbox();
                        (y1 - y0) * (x1 - x0)
                    };
                    size(b).total_cmp(&size(a))
                })
            })
    }

    /// The nearest shop whose zone covers the point.
    fn shop_at(&self, point: GeoPoint, candidates: impl Iterator<Item = usize>) -> Option<usize> {
        candidates
            .filter(|&i| self.zones[i].shape.covers(point))
            .min_by(|&a, &b| {
                let d = |i: usize| self.zones[i].anchor.distance_m(point);
                d(a).total_cmp(&d(b))
                    .then_with(|| self.zones[a].shop_id.cmp(&self.zones[b].shop_id))
            })
    }

    fn at_point(&self, tree: &RTree<Boxed>, point: GeoPoint) -> Vec<usize> {
        tree.locate_all_at_point(&[point.lon(), point.lat()])
            .map(|b| b.data)
            .collect()
    }

    /// The decision for a case of `category` at `point`, from the R-trees.
    pub fn locate(&self, point: GeoPoint, category: &str) -> Decision {
        let area = self.area_at(point, self.at_point(&self.area_tree, point).into_iter());
        let shop = if self.frontage.get(category).copied().unwrap_or(false) {
            self.shop_at(point, self.at_point(&self.zone_tree, point).into_iter())
        } else {
            None
        };
        self.decide(category, area, shop)
    }

    /// The same decision by scanning everything: the reference the index must equal.
    pub fn locate_by_scan(&self, point: GeoPoint, category: &str) -> Decision {
        let area = self.area_at(point, 0..self.areas.len());
        let shop = if self.frontage.get(category).copied().unwrap_or(false) {
            self.shop_at(point, 0..self.zones.len())
        } else {
            None
        };
        self.decide(category, area, shop)
    }

    fn decide(&self, category: &str, area: Option<usize>, shop: Option<usize>) -> Decision {
        let area_id = area.map(|i| self.areas[i].id);
        if let Some(shop) = shop {
            let zone = &self.zones[shop];
            return Decision {
                target: Target::Shopfront(zone.shop_id),
                basis: Basis::Frontage,
                target_name: Some(zone.name.clone()),
                reason: format!("inside frontage zone of {} (门前三包)", zone.name),
                area_id,
            };
        }
        let mut walk = area;
        while let Some(i) = walk {
            let here = &self.areas[i];
            if let Some(&department) = self.rules.get(&(category.to_owned(), Some(here.id))) {
                return Decision {
                    target: Target::Department(department),
                    basis: Basis::AreaRule,
                    target_name: self.department_name(department).map(str::to_owned),
                    reason: format!(
                        "rule {category}@{} → {}",
                        here.name,
                        self.department(department)
                    ),
                    area_id,
                };
            }
            walk = here.parent.and_then(|p| self.area_slot.get(&p).copied());
        }
        if let Some(&department) = self.rules.get(&(category.to_owned(), None)) {
            return Decision {
                target: Target::Department(department),
                basis: Basis::CityRule,
                target_name: self.department_name(department).map(str::to_owned),
                reason: format!(
                    "rule {category}@city-wide → {}",
                    self.department(department)
                ),
                area_id,
            };
        }
        let mut walk = area;
        while let Some(i) = walk {
            let here = &self.areas[i];
            if let Some(department) = here.local_authority {
                return Decision {
                    target: Target::Department(department),
                    basis: Basis::LocalAuthority,
                    target_name: self.department_name(department).map(str::to_owned),
                    reason: format!(
                        "local authority of {} (属地兜底) → {}",
                        here.name,
                        self.department(department)
                    ),
                    area_id,
                };
            }
            walk = here.parent.and_then(|p| self.area_slot.get(&p).copied());
        }
        Decision {
            target: Target::Triage,
            basis: Basis::Triage,
            target_name: None,
            reason: "no frontage zone, rule or local authority matched: waiting for triage".into(),
            area_id,
        }
    }
}

/// Builds the zone of a shopfront row: its polygon, or a radius around its location.
pub fn zone_of(shop: &shopfronts::Model) -> Option<ZoneEntry> {
    let location = shop
        .lat
        .zip(shop.lon)
        .and_then(|(lat, lon)| GeoPoint::new(lat, lon).ok());
    let polygon = shop
        .zone
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok())
        .and_then(|value| Area::from_geojson(&value).ok());
    let shape = match (polygon, location, shop.zone_radius_m) {
        (Some(area), _, _) => ZoneShape::Polygon(area),
        (None, Some(center), Some(radius_m)) => ZoneShape::Circle { center, radius_m },
        _ => return None,
    };
    let anchor = location.or_else(|| {
        let (y0, x0, y1, x1) = shape.bbox();
        GeoPoint::new(f64::midpoint(y0, y1), f64::midpoint(x0, x1)).ok()
    })?;
    Some(ZoneEntry {
        shop_id: shop.id,
        name: shop.name.clone(),
        anchor,
        shape,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn square(x0: f64, y0: f64, size: f64) -> Area {
        Area::from_geojson(&json!({"type": "Polygon", "coordinates": [[[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]]})).unwrap()
    }

    /// A district split into 4 sub-districts, with a sprinkle of shop zones (squares and
    /// circles, some overlapping), rules on two levels and local authorities.
    fn city(zones: usize, seed: u64) -> (RegistryIndex, Vec<ShopfrontId>) {
        let mut rng = seed;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % 1_000_000) as f64 / 1_000_000.0
        };
        let district = Uuid::from_u128(1);
        let mut areas = vec![AreaEntry {
            id: district,
            name: "区".into(),
            parent: None,
            local_authority: Some(DepartmentId(Uuid::from_u128(100))),
            boundary: square(120.0, 30.0, 0.2),
        }];
        for i in 0..4u128 {
            let (x, y) = ((i % 2) as f64 * 0.1, (i / 2) as f64 * 0.1);
            areas.push(AreaEntry {
                id: Uuid::from_u128(10 + i),
                name: format!("街道{i}"),
                parent: Some(district),
                local_authority: (i % 2 == 0).then(|| DepartmentId(Uuid::from_u128(200 + i))),
                boundary: square(120.0 + x, 30.0 + y, 0.1),
            });
        }
        let mut entries = Vec::new();
        let mut shop_ids = Vec::new();
        for i in 0..zones {
            let id = ShopfrontId(Uuid::from_u128(1000 + i as u128));
            shop_ids.push(id);
            let (lat, lon) = (30.0 + next() * 0.2, 120.0 + next() * 0.2);
            let anchor = GeoPoint::new(lat, lon).unwrap();
            let shape = if i % 2 == 0 {
                ZoneShape::Polygon(square(lon - 0.0003, lat - 0.0003, 0.0006))
            } else {
                ZoneShape::Circle {
                    center: anchor,
                    radius_m: 20.0 + next() * 40.0,
                }
            };
            entries.push(ZoneEntry {
                shop_id: id,
                name: format!("店{i}"),
                anchor,
                shape,
            });
        }
        let mut rules = HashMap::new();
        rules.insert(
            ("parking".to_owned(), Some(Uuid::from_u128(11))),
            DepartmentId(Uuid::from_u128(300)),
        );
        rules.insert(
            ("parking".to_owned(), None),
            DepartmentId(Uuid::from_u128(301)),
        );
        rules.insert(
            ("jaywalking".to_owned(), Some(district)),
            DepartmentId(Uuid::from_u128(302)),
        );
        let frontage = HashMap::from([
            ("parking".to_owned(), true),
            ("jaywalking".to_owned(), false),
            ("littering_dumping".to_owned(), true),
        ]);
        (
            RegistryIndex::new(1, entries, areas, rules, frontage, HashMap::new()),
            shop_ids,
        )
    }

    #[test]
    fn the_most_specific_rule_wins_then_city_wide_then_local_authority() {
        let (index, _) = city(0, 1);
        let in_11 = GeoPoint::new(30.05, 120.15).unwrap();
        let in_10 = GeoPoint::new(30.05, 120.05).unwrap();
        assert_eq!(
            index.locate(in_11, "parking").target,
            Target::Department(DepartmentId(Uuid::from_u128(300)))
        );
        assert_eq!(
            index.locate(in_10, "parking").target,
            Target::Department(DepartmentId(Uuid::from_u128(301)))
        );
        assert_eq!(
            index.locate(in_10, "jaywalking").target,
            Target::Department(DepartmentId(Uuid::from_u128(302)))
        );
        // No rule: sub-district 10 has its own authority, 11 inherits the district's.
        assert_eq!(
            index.locate(in_10, "littering_dumping").target,
            Target::Department(DepartmentId(Uuid::from_u128(200)))
        );
        assert_eq!(
            index.locate(in_11, "littering_dumping").target,
            Target::Department(DepartmentId(Uuid::from_u128(100)))
        );
        assert_eq!(
            index.locate(in_11, "littering_dumping").area_id,
            Some(Uuid::from_u128(11))
        );
        let outside = GeoPoint::new(31.0, 121.0).unwrap();
        let decision = index.locate(outside, "littering_dumping");
        assert_eq!((decision.target, decision.area_id), (Target::Triage, None));
    }

    #[test]
    fn overlapping_zones_go_to_the_nearest_shop_and_edges_count() {
        let near = ZoneEntry {
            shop_id: ShopfrontId(Uuid::from_u128(1)),
            name: "近".into(),
            anchor: GeoPoint::new(30.0001, 120.0001).unwrap(),
            shape: ZoneShape::Polygon(square(120.0, 30.0, 0.001)),
        };
        let far = ZoneEntry {
            shop_id: ShopfrontId(Uuid::from_u128(2)),
            name: "远".into(),
            anchor: GeoPoint::new(30.0009, 120.0009).unwrap(),
            shape: ZoneShape::Polygon(square(120.0, 30.0, 0.001)),
        };
        let index = RegistryIndex::new(
            1,
            vec![far, near],
            Vec::new(),
            HashMap::new(),
            HashMap::from([("parking".to_owned(), true)]),
            HashMap::new(),
        );
        let point = GeoPoint::new(30.0002, 120.0002).unwrap();
        let decision = index.locate(point, "parking");
        assert_eq!(
            decision.target,
            Target::Shopfront(ShopfrontId(Uuid::from_u128(1)))
        );
        assert!(decision.reason.contains("近"));
        let on_edge = GeoPoint::new(30.0, 120.0005).unwrap();
        assert_ne!(index.locate(on_edge, "parking").target, Target::Triage);
        assert_eq!(
            index.locate(on_edge, "jaywalking").target,
            Target::Triage,
            "not a frontage category"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn the_index_decides_like_a_full_scan(lat in 29.99f64..30.21, lon in 119.99f64..120.21, category in prop::sample::select(vec!["parking", "jaywalking", "littering_dumping"])) {
            use std::sync::OnceLock;
            static CITY: OnceLock<RegistryIndex> = OnceLock::new();
            let index = CITY.get_or_init(|| city(3000, 42).0);
            let point = GeoPoint::new(lat, lon).unwrap();
            prop_assert_eq!(index.locate(point, category), index.locate_by_scan(point, category));
        }
    }
}
