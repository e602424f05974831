//! Assignment lookups with 100,000 shopfront zones and 2,000 areas: the in-memory R-tree
//! against the same question asked of the database (bounding-box prefilter in SQL, exact
//! test in Rust), plus the cost of rebuilding the index after a registry change.
//!
//! Run: `cargo bench -p xuncha --bench assignment` (SQLite in a temp folder; set
//! `XUNCHA_BENCH_DATABASE_URL=postgres://…/db` to use PostgreSQL instead).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::Instant;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use xuncha_core::config::Settings;
use xuncha_core::domain::geometry::Area;
use xuncha_core::domain::{AreaLevel, CreditCode, GeoPoint};
use xuncha_core::services::assignment::{self, AreaEntry, RegistryIndex, ZoneEntry, ZoneShape};
use xuncha_core::services::registry::{self, FrontageZone, ImportedArea, ShopfrontInput};

const SHOPS: usize = 100_000;
const WEST: f64 = 120.0;
const SOUTH: f64 = 30.0;
/// The city is a 0.4° × 0.4° square (about 40 km × 44 km).
const SIDE: f64 = 0.4;

struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % 1_000_000_007) as f64 / 1_000_000_007.0
    }
}

fn rectangle(west: f64, south: f64, width: f64, height: f64) -> Area {
    Area::from_geojson(&json!({"type": "Polygon", "coordinates": [[[west, south], [west + width, south], [west + width, south + height], [west, south + height], [west, south]]]})).unwrap()
}

/// 1 district, 20 sub-districts (4×5), 100 communities (5 each), 1,879 grids: 2,000 areas.
fn areas() -> Vec<ImportedArea> {
    let mut out = vec![ImportedArea {
        code: "D".into(),
        name: "区".into(),
        level: AreaLevel::District,
        parent_code: None,
        boundary: rectangle(WEST, SOUTH, SIDE, SIDE),
    }];
    let (sw, sh) = (SIDE / 4.0, SIDE / 5.0);
    let mut grids_left = 1879;
    for s in 0..20 {
        let (x, y) = (WEST + f64::from(s % 4) * sw, SOUTH + f64::from(s / 4) * sh);
        let sub = format!("S{s}");
        out.push(ImportedArea {
            code: sub.clone(),
            name: sub.clone(),
            level: AreaLevel::Subdistrict,
            parent_code: Some("D".into()),
            boundary: rectangle(x, y, sw, sh),
        });
        for c in 0..5 {
            let ch = sh / 5.0;
            let com = format!("{sub}C{c}");
            let cy = y + f64::from(c) * ch;
            out.push(ImportedArea {
                code: com.clone(),
                name: com.clone(),
                level: AreaLevel::Community,
                parent_code: Some(sub.clone()),
                boundary: rectangle(x, cy, sw, ch),
            });
            let grids = if grids_left > 19 {
                19.min(grids_left)
            } else {
                grids_left
            };
            let grids = if s == 19 && c == 4 { grids_left } else { grids };
            let gw = sw / grids as f64;
            for g in 0..grids {
                out.push(ImportedArea {
                    code: format!("{com}G{g}"),
                    name: format!("{com}G{g}"),
                    level: AreaLevel::Grid,
                    parent_code: Some(com.clone()),
                    boundary: rectangle(x + g as f64 * gw, cy, gw, ch),
                });
            }
            grids_left -= grids;
        }
    }
    out
}

fn shops(rng: &mut Rng) -> Vec<ShopfrontInput> {
    (0..SHOPS)
        .map(|i| {
            let location =
                GeoPoint::new(SOUTH + rng.unit() * SIDE, WEST + rng.unit() * SIDE).unwrap();
            let zone = if i % 2 == 0 {
                let size = 0.0002 + rng.unit() * 0.0004;
                FrontageZone::Polygon(rectangle(
                    location.lon() - size / 2.0,
                    location.lat() - size / 2.0,
                    size,
                    size,
                ))
            } else {
                FrontageZone::Radius(10.0 + rng.unit() * 30.0)
            };
            ShopfrontInput {
                name: format!("店{i}"),
                credit_code: CreditCode::with_check_digit(&format!("9233{i:013}")).unwrap(),
                address: String::new(),
                contact: String::new(),
                phone: String::new(),
                location,
                zone,
                department_id: None,
            }
        })
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(label: &str, mut nanos: Vec<f64>) {
    nanos.sort_by(|a, b| a.total_cmp(b));
    let total: f64 = nanos.iter().sum();
    println!(
        "| {label} | {:.2} µs | {:.2} µs | {:.0} |",
        percentile(&nanos, 0.5) / 1000.0,
        percentile(&nanos, 0.99) / 1000.0,
        nanos.len() as f64 / (total / 1e9)
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let dir = tempfile_dir();
    let database = std::env::var("XUNCHA_BENCH_DATABASE_URL").ok();
    let vars: HashMap<&str, String> = [
        ("XUNCHA_DATA_DIR", dir.display().to_string()),
        (
            "XUNCHA_DATABASE_URL",
            database
                .clone()
                .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", dir.join("bench.db").display())),
        ),
    ]
    .into_iter()
    .collect();
    let settings = Settings::from_lookup(|name| vars.get(name).cloned()).unwrap();
    let prepared = xuncha_core::state::prepare(settings).await.unwrap();
    let state = prepared.state.clone();

    let mut rng = Rng(0x5EED);
    let started = Instant::now();
    let created = registry::import_areas(&state, areas(), false)
        .await
        .map_err(|p| p.len())
        .unwrap()
        .created
        .len();
    let shops_created = registry::import_shopfronts(&state, shops(&mut rng), false)
        .await
        .unwrap()
        .created
        .len();
    eprintln!(
        "loaded {created} areas and {shops_created} shopfronts in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // Rebuild: from the database (what an instance does after a registry change) and from
    // rows already in memory (the R-tree bulk load alone).
    let started = Instant::now();
    let index = assignment::load(&state.db).await.unwrap().index;
    let from_db = started.elapsed();
    let rows = entity::shopfronts::Entity::find()
        .all(&state.db)
        .await
        .unwrap();
    let zones: Vec<ZoneEntry> = rows.iter().filter_map(assignment::zone_of).collect();
    let area_rows = entity::areas::Entity::find().all(&state.db).await.unwrap();
    let area_entries: Vec<AreaEntry> = area_rows
        .iter()
        .map(|a| AreaEntry {
            id: a.id,
            name: a.name.clone(),
            parent: a.parent_id,
            local_authority: None,
            boundary: Area::from_geojson(
                &serde_json::from_str(a.boundary.as_deref().unwrap()).unwrap(),
            )
            .unwrap(),
        })
        .collect();
    let frontage = HashMap::from([("parking".to_owned(), true)]);
    let started = Instant::now();
    let rebuilt = RegistryIndex::new(
        1,
        zones,
        area_entries,
        HashMap::new(),
        frontage,
        HashMap::new(),
    );
    let in_memory = started.elapsed();
    assert_eq!(rebuilt.zone_count(), SHOPS);
    assert_eq!(index.zone_count(), SHOPS);

    let points: Vec<GeoPoint> = (0..200_000)
        .map(|_| GeoPoint::new(SOUTH + rng.unit() * SIDE, WEST + rng.unit() * SIDE).unwrap())
        .collect();
    let mut matched = 0usize;
    let mut nanos = Vec::with_capacity(points.len());
    for point in &points {
        let started = Instant::now();
        let decision = index.locate(*point, "parking");
        nanos.push(started.elapsed().as_nanos() as f64);
        matched += usize::from(matches!(decision.target, assignment::Target::Shopfront(_)));
    }

    // The database: bounding-box prefilter in SQL, then the exact test in Rust.
    let mut db_nanos = Vec::new();
    for point in points.iter().take(2_000) {
        let started = Instant::now();
        let (lat, lon) = (point.lat(), point.lon());
        let candidates = entity::shopfronts::Entity::find()
            .filter(entity::shopfronts::Column::MinLat.lte(lat))
            .filter(entity::shopfronts::Column::MaxLat.gte(lat))
            .filter(entity::shopfronts::Column::MinLon.lte(lon))
            .filter(entity::shopfronts::Column::MaxLon.gte(lon))
            .all(&state.db)
            .await
            .unwrap();
        let areas = entity::areas::Entity::find()
            .filter(entity::areas::Column::MinLat.lte(lat))
            .filter(entity::areas::Column::MaxLat.gte(lat))
            .filter(entity::areas::Column::MinLon.lte(lon))
            .filter(entity::areas::Column::MaxLon.gte(lon))
            .all(&state.db)
            .await
            .unwrap();
        let shop = candidates
            .iter()
            .filter_map(assignment::zone_of)
            .filter(|z| match &z.shape {
                ZoneShape::Polygon(area) => area.covers(lat, lon),
                ZoneShape::Circle { center, radius_m } => center.distance_m(*point) <= *radius_m,
            })
            .min_by(|a, b| {
                a.anchor
                    .distance_m(*point)
                    .total_cmp(&b.anchor.distance_m(*point))
            });
        let inside = areas
            .iter()
            .filter(|a| {
                a.boundary
                    .as_deref()
                    .and_then(|b| serde_json::from_str(b).ok())
                    .and_then(|v| Area::from_geojson(&v).ok())
                    .is_some_and(|g| g.covers(lat, lon))
            })
            .count();
        std::hint::black_box((shop, inside));
        db_nanos.push(started.elapsed().as_nanos() as f64);
    }

    let backend = if database.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!(
        "{} areas, {} shop zones; {:.1}% of random points fall in a zone",
        created,
        SHOPS,
        matched as f64 * 100.0 / points.len() as f64
    );
    println!();
    println!("| lookup | median | p99 | lookups/s (one core) |");
    println!("|---|---:|---:|---:|");
    report("in-memory R-tree (`RegistryIndex::locate`)", nanos);
    report(
        &format!("{backend}: bbox prefilter in SQL + exact test"),
        db_nanos,
    );
    println!();
    println!("| index rebuild | time |");
    println!("|---|---:|");
    println!(
        "| from {backend} (`assignment::load`: read + parse + bulk load) | {:.0} ms |",
        from_db.as_secs_f64() * 1000.0
    );
    println!(
        "| from rows in memory (R-tree bulk load only) | {:.0} ms |",
        in_memory.as_secs_f64() * 1000.0
    );
    drop(prepared);
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("xuncha-assignment-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
