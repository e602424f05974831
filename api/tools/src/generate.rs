//! `xuncha generate-city`: fills a database with a realistic city for load tests — areas,
//! departments, shopfronts, cases in every status with their hash-chained events, photo
//! rows with real (small) objects in the store — and the users the load tool signs in as.
//! Rows go in by multi-row inserts in large transactions; it is meant for an empty
//! database (run it once, after `migrate`).

use std::collections::HashMap;

use bytes::Bytes;
use chrono::{DateTime, Datelike, Duration, Utc};
use futures_util::{StreamExt, TryStreamExt};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    TransactionTrait,
};
use uuid::Uuid;

use entity::ids::{DepartmentId, ShopfrontId};
use entity::{areas, case_events, cases, categories, departments, photos, shopfronts};

use crate::demo;
use xuncha_core::domain::{
    AreaLevel, AssigneeKind, CaseSource, CaseStatus, DepartmentKind, PhotoKind, Role, Severity,
};
use xuncha_core::services::assignment::bump_version;
use xuncha_core::services::users::RoleScope;
use xuncha_core::services::{events, now};
use xuncha_core::state::AppState;
use xuncha_core::storage::{ObjectKey, Rendition};

/// The city's bounding box (WGS-84): about 48 km × 44 km.
const SOUTH: f64 = 30.0;
const WEST: f64 = 120.0;
const HEIGHT: f64 = 0.4;
const WIDTH: f64 = 0.5;
/// Districts in a grid of 5 × 4, each split into sub-districts.
const DISTRICT_COLUMNS: usize = 5;
const DISTRICT_ROWS: usize = 4;
const DEPARTMENTS: usize = 20;

#[derive(Clone, Debug)]
pub struct Plan {
    pub areas: usize,
    pub shopfronts: usize,
    pub cases: usize,
    /// One case in this many gets a before photo (with its three objects).
    pub photo_every: usize,
    /// Load-test users: this many inspectors (`load.inspector.N`) and one department user
    /// per department (`load.dept.N`), all with `password`.
    pub inspectors: usize,
    pub password: String,
    pub seed: u64,
}

pub struct Generated {
    pub areas: usize,
    pub shopfronts: usize,
    pub cases: usize,
    pub events: usize,
    pub photos: usize,
}

/// How a district is cut: the number of sub-districts across and down.
fn split(areas: usize) -> (usize, usize) {
    let districts = DISTRICT_COLUMNS * DISTRICT_ROWS;
    let per_district = areas.saturating_sub(districts).div_ceil(districts).max(1);
    let across = (per_district as f64).sqrt().ceil() as usize;
    (across, per_district.div_ceil(across))
}

/// The sub-district cell a point falls in, as (district index, cell index).
struct Layout {
    across: usize,
    down: usize,
}

impl Layout {
    fn district_size() -> (f64, f64) {
        (
            HEIGHT / DISTRICT_ROWS as f64,
            WIDTH / DISTRICT_COLUMNS as f64,
        )
    }

    fn cell_of(&self, lat: f64, lon: f64) -> (usize, usize) {
        let (dh, dw) = Self::district_size();
        let row = (((lat - SOUTH) / dh) as usize).min(DISTRICT_ROWS - 1);
        let col = (((lon - WEST) / dw) as usize).min(DISTRICT_COLUMNS - 1);
        let (ch, cw) = (dh / self.down as f64, dw / self.across as f64);
        let cell_row = (((lat - SOUTH - row as f64 * dh) / ch) as usize).min(self.down - 1);
        let cell_col = (((lon - WEST - col as f64 * dw) / cw) as usize).min(self.across - 1);
        (
            row * DISTRICT_COLUMNS + col,
            cell_row * self.across + cell_col,
        )
    }
}

fn rectangle(south: f64, west: f64, height: f64, width: f64) -> String {
    let (n, e) = (south + height, west + width);
    serde_json::json!({"type": "Polygon", "coordinates": [[[west, south], [e, south], [e, n], [west, n], [west, south]]]})
        .to_string()
}

pub async fn generate(state: &AppState, plan: Plan) -> anyhow::Result<Generated> {
    let mut rng = StdRng::seed_from_u64(plan.seed);
    let at = now();
    let db = &state.db;

    // Departments: district offices first (local authorities), then the services.
    let department_ids: Vec<DepartmentId> =
        (0..DEPARTMENTS).map(|_| DepartmentId::now_v7()).collect();
    departments::Entity::insert_many(department_ids.iter().enumerate().map(|(i, id)| {
        departments::ActiveModel {
            id: Set(*id),
            code: Set(format!("GEN-D{i:02}")),
            name: Set(format!("第{}区综合执法队", i + 1)),
            kind: Set(if i < DISTRICT_COLUMNS * DISTRICT_ROWS {
                DepartmentKind::SubdistrictOffice
            } else {
                DepartmentKind::UrbanManagement
            }),
            contact: Set(String::new()),
            created_at: Set(at),
            updated_at: Set(at),
        }
    }))
    .exec(db)
    .await?;

    // Areas: districts and their sub-district cells, each district's office its authority.
    let (across, down) = split(plan.areas);
    let layout = Layout { across, down };
    let (dh, dw) = Layout::district_size();
    let (ch, cw) = (dh / down as f64, dw / across as f64);
    let mut area_rows = Vec::new();
    let mut cells: HashMap<(usize, usize), Uuid> = HashMap::new();
    let mut district_ids = Vec::new();
    for d in 0..DISTRICT_COLUMNS * DISTRICT_ROWS {
        let (row, col) = (d / DISTRICT_COLUMNS, d % DISTRICT_COLUMNS);
        let (south, west) = (SOUTH + row as f64 * dh, WEST + col as f64 * dw);
        let id = Uuid::now_v7();
        district_ids.push(id);
        area_rows.push(area_row(
            id,
            format!("GEN-{d:02}"),
            format!("第{}区", d + 1),
            AreaLevel::District,
            None,
            Some(department_ids[d % DEPARTMENTS]),
            south,
            west,
            dh,
            dw,
            at,
        ));
        let per_district = plan
            .areas
            .saturating_sub(DISTRICT_COLUMNS * DISTRICT_ROWS)
            .div_ceil(DISTRICT_COLUMNS * DISTRICT_ROWS);
        for c in 0..(across * down).min(per_district) {
            let (cr, cc) = (c / across, c % across);
            let cell_id = Uuid::now_v7();
            cells.insert((d, c), cell_id);
            area_rows.push(area_row(
                cell_id,
                format!("GEN-{d:02}-{c:03}"),
                format!("第{}区第{}街道", d + 1, c + 1),
                AreaLevel::Subdistrict,
                Some(id),
                None,
                south + cr as f64 * ch,
                west + cc as f64 * cw,
                ch,
                cw,
                at,
            ));
        }
    }
    let area_count = area_rows.len();
    insert_chunked(db, area_rows, 200, |chunk| {
        areas::Entity::insert_many(chunk)
    })
    .await?;

    // Shopfronts: random points, a 15 m frontage radius, overseen by their district office.
    let mut shop_rows = Vec::with_capacity(plan.shopfronts);
    for i in 0..plan.shopfronts {
        let (lat, lon) = (
            SOUTH + rng.random::<f64>() * HEIGHT,
            WEST + rng.random::<f64>() * WIDTH,
        );
        let (district, _) = layout.cell_of(lat, lon);
        let (dlat, dlon) = (
            15.0 / 111_320.0,
            15.0 / (111_320.0 * lat.to_radians().cos()),
        );
        shop_rows.push(shopfronts::ActiveModel {
            id: Set(ShopfrontId::now_v7()),
            name: Set(format!("门店{i:06}")),
            credit_code: Set(None),
            address: Set(format!("第{}区 {} 号", district + 1, i)),
            department_id: Set(Some(department_ids[district % DEPARTMENTS])),
            contact: Set(String::new()),
            phone: Set(String::new()),
            lat: Set(Some(lat)),
            lon: Set(Some(lon)),
            zone: Set(None),
            zone_radius_m: Set(Some(15.0)),
            min_lat: Set(Some(lat - dlat)),
            min_lon: Set(Some(lon - dlon)),
            max_lat: Set(Some(lat + dlat)),
            max_lon: Set(Some(lon + dlon)),
            created_at: Set(at),
            updated_at: Set(at),
        });
    }
    insert_chunked(db, shop_rows, 1000, |chunk| {
        shopfronts::Entity::insert_many(chunk)
    })
    .await?;
    bump_version(db).await.map_err(|e| anyhow::anyhow!("{e}"))?;

    // Users the load tool signs in as.
    for i in 0..plan.inspectors.max(1) {
        demo::ensure_user(
            state,
            &format!("load.inspector.{i}"),
            "压测巡查员",
            RoleScope {
                role: Role::Inspector,
                department_id: None,
                shopfront_id: None,
            },
            &plan.password,
        )
        .await?;
    }
    for (i, department) in department_ids.iter().enumerate() {
        demo::ensure_user(
            state,
            &format!("load.dept.{i}"),
            "压测部门",
            RoleScope {
                role: Role::Department,
                department_id: Some(*department),
                shopfront_id: None,
            },
            &plan.password,
        )
        .await?;
    }
    demo::ensure_user(
        state,
        "load.supervisor",
        "压测督查员",
        RoleScope {
            role: Role::Supervisor,
            department_id: None,
            shopfront_id: None,
        },
        &plan.password,
    )
    .await?;
    let reporter = entity::users::Entity::find()
        .filter(entity::users::Column::Username.eq("load.inspector.0"))
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the load inspector was not created"))?
        .id;

    let categories: Vec<categories::Model> = categories::Entity::find().all(db).await?;
    let pictures = sample_pictures()?;
    let mut counters: HashMap<i32, i32> = HashMap::new();
    let (mut case_count, mut event_count, mut photo_count) = (0, 0, 0);
    let batch = 5_000;
    let mut done = 0;
    while done < plan.cases {
        let n = batch.min(plan.cases - done);
        let mut case_rows = Vec::with_capacity(n);
        let mut event_rows = Vec::with_capacity(n * 3);
        let mut photo_rows = Vec::new();
        let mut uploads: Vec<(ObjectKey, Bytes, &'static str)> = Vec::new();
        for k in 0..n {
            let (lat, lon) = (
                SOUTH + rng.random::<f64>() * HEIGHT,
                WEST + rng.random::<f64>() * WIDTH,
            );
            let (district, cell) = layout.cell_of(lat, lon);
            let area_id = cells
                .get(&(district, cell))
                .copied()
                .unwrap_or(district_ids[district]);
            let department = department_ids[district % DEPARTMENTS];
            let category = &categories[rng.random_range(0..categories.len())];
            let created = at - Duration::seconds(rng.random_range(0..365 * 24 * 3600));
            let deadline = created + Duration::hours(i64::from(category.deadline_hours));
            // As in a city that keeps up: a month's cases are still moving, older ones
            // were closed or cancelled long ago.
            let recent = at - created < Duration::days(30);
            let status = match (recent, rng.random_range(0..100)) {
                (true, 0..10) => CaseStatus::Reported,
                (true, 10..30) => CaseStatus::Assigned,
                (true, 30..45) => CaseStatus::InProgress,
                (true, 45..55) => CaseStatus::Rectified,
                (true, 55..95) | (false, 0..92) => CaseStatus::Closed,
                _ => CaseStatus::Cancelled,
            };
            let year = created.year();
            let sequence = counters.entry(year).or_insert(0);
            *sequence += 1;
            let id = entity::ids::CaseId::now_v7();
            let assigned = !matches!(status, CaseStatus::Reported | CaseStatus::Cancelled);
            let closed_at = (status == CaseStatus::Closed).then(|| {
                created
                    + Duration::minutes(
                        rng.random_range(30..(i64::from(category.deadline_hours) * 90).max(31)),
                    )
            });
            let reporter_id = Some(reporter);
            let case = cases::ActiveModel {
                id: Set(id),
                case_no: Set(xuncha_core::domain::case::case_no(year, *sequence)),
                client_id: Set(Some(Uuid::now_v7())),
                request_hash: Set(None),
                category_code: Set(category.code.clone()),
                description: Set(format!("{}：生成的案件 {}", category.name_zh, done + k)),
                lat: Set(lat),
                lon: Set(lon),
                accuracy_m: Set(Some(10.0)),
                address: Set(format!("第{}区", district + 1)),
                observed_at: Set(created),
                severity: Set(Severity::Normal),
                source: Set(CaseSource::Patrol),
                status: Set(status),
                reporter_id: Set(reporter_id),
                assignee_kind: Set(assigned.then_some(AssigneeKind::Department)),
                assignee_department_id: Set(assigned.then_some(department)),
                assignee_shopfront_id: Set(None),
                overseer_department_id: Set(assigned.then_some(department)),
                assignment_reason: Set(Some("generated: local authority".into())),
                area_id: Set(Some(area_id)),
                deadline_at: Set(Some(deadline)),
                version: Set(1),
                created_at: Set(created),
                updated_at: Set(closed_at.unwrap_or(created)),
                closed_at: Set(closed_at),
                rework_count: Set(0),
                recurrence_count: Set(0),
                rectified_by: Set(None),
                duplicate_of: Set(None),
                recurrence_of: Set(None),
                pending_request: Set(None),
                requested_until: Set(None),
                suspended_at: Set(None),
                overdue_notified_at: Set(None),
                campaign_id: Set(None),
                site_id: Set(None),
                visit_id: Set(None),
                held_until: Set(None),
                verifier_id: Set(None),
                verify_due_at: Set(None),
                verify_escalated_at: Set(None),
            };
            case_rows.push(case);
            let steps: &[(&str, Option<CaseStatus>, CaseStatus)] = match status {
                CaseStatus::Reported => &[("file", None, CaseStatus::Reported)],
                CaseStatus::Cancelled => &[
                    ("file", None, CaseStatus::Reported),
                    ("cancel", Some(CaseStatus::Reported), CaseStatus::Cancelled),
                ],
                CaseStatus::Closed => &[
                    ("file", None, CaseStatus::Reported),
                    ("assign", Some(CaseStatus::Reported), CaseStatus::Assigned),
                    ("accept", Some(CaseStatus::Assigned), CaseStatus::InProgress),
                    (
                        "rectify",
                        Some(CaseStatus::InProgress),
                        CaseStatus::Rectified,
                    ),
                    ("verify", Some(CaseStatus::Rectified), CaseStatus::Closed),
                ],
                _ => &[
                    ("file", None, CaseStatus::Reported),
                    ("assign", Some(CaseStatus::Reported), CaseStatus::Assigned),
                ],
            };
            let mut previous: Option<String> = None;
            for (seq, (action, from, to)) in steps.iter().enumerate() {
                let mut event = case_events::Model {
                    id: Uuid::now_v7(),
                    case_id: id,
                    seq: seq as i32 + 1,
                    action: (*action).to_owned(),
                    from_status: from.map(|s| s.as_str().to_owned()),
                    to_status: to.as_str().to_owned(),
                    actor_id: None,
                    actor_role: None,
                    note: None,
                    photo_ids: "[]".into(),
                    created_at: created + Duration::minutes(seq as i64),
                    prev_hash: previous.clone(),
                    hash: String::new(),
                    signature: None,
                };
                event.hash = events::hash_of(&event);
                event.signature = Some(state.evidence.sign_event(&event));
                previous = Some(event.hash.clone());
                event_rows.push(case_events::ActiveModel::from(event).reset_all());
            }
            if plan.photo_every > 0 && (done + k) % plan.photo_every == 0 {
                let (original, preview, thumbnail) = &pictures[(done + k) % pictures.len()];
                let photo_id = entity::ids::PhotoId::now_v7();
                for (size, bytes) in [
                    (Rendition::Original, original),
                    (Rendition::Preview, preview),
                    (Rendition::Thumbnail, thumbnail),
                ] {
                    uploads.push((
                        ObjectKey::photo(id.0, photo_id, size),
                        bytes.clone(),
                        "image/jpeg",
                    ));
                }
                let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(original));
                photo_rows.push(photos::ActiveModel {
                    id: Set(photo_id),
                    case_id: Set(Some(id)),
                    visit_id: Set(None),
                    kind: Set(PhotoKind::Before),
                    sha256: Set(sha),
                    content_type: Set("image/jpeg".into()),
                    bytes: Set(original.len() as i64),
                    width: Set(64),
                    height: Set(48),
                    taken_at: Set(None),
                    exif_lat: Set(None),
                    exif_lon: Set(None),
                    flags: Set("[]".into()),
                    phash: Set(0),
                    phash_b0: Set(0),
                    phash_b1: Set(0),
                    phash_b2: Set(0),
                    phash_b3: Set(0),
                    uploaded_by: Set(reporter),
                    created_at: Set(created),
                });
            }
        }
        // Objects first, rows after: the rule the API keeps.
        futures_util::stream::iter(uploads)
            .map(|(key, bytes, content_type)| async move {
                state.store.put(&key, bytes, content_type).await
            })
            .buffer_unordered(16)
            .try_collect::<Vec<_>>()
            .await?;
        let txn = db.begin().await?;
        case_count += case_rows.len();
        event_count += event_rows.len();
        photo_count += photo_rows.len();
        insert_chunked(&txn, case_rows, 500, |chunk| {
            cases::Entity::insert_many(chunk)
        })
        .await?;
        insert_chunked(&txn, event_rows, 2000, |chunk| {
            case_events::Entity::insert_many(chunk)
        })
        .await?;
        insert_chunked(&txn, photo_rows, 1000, |chunk| {
            photos::Entity::insert_many(chunk)
        })
        .await?;
        txn.commit().await?;
        done += n;
        if done % 100_000 == 0 || done == plan.cases {
            tracing::info!(cases = done, "generated");
        }
    }
    // The API numbers new cases after the generated ones.
    for (year, last) in counters {
        xuncha_core::services::case_numbers::continue_after(db, year, last)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    // Fresh planner statistics (and, on PostgreSQL, the visibility map that index-only
    // counts need): without them the first hours of load would plan on empty tables.
    let refresh = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => "VACUUM ANALYZE",
        _ => "ANALYZE",
    };
    db.execute_unprepared(refresh).await?;
    tracing::info!("planner statistics refreshed");
    Ok(Generated {
        areas: area_count,
        shopfronts: plan.shopfronts,
        cases: case_count,
        events: event_count,
        photos: photo_count,
    })
}

#[allow(clippy::too_many_arguments)]
fn area_row(
    id: Uuid,
    code: String,
    name: String,
    level: AreaLevel,
    parent: Option<Uuid>,
    authority: Option<DepartmentId>,
    south: f64,
    west: f64,
    height: f64,
    width: f64,
    at: DateTime<Utc>,
) -> areas::ActiveModel {
    areas::ActiveModel {
        id: Set(id),
        code: Set(code),
        name: Set(name),
        level: Set(level),
        parent_id: Set(parent),
        boundary: Set(Some(rectangle(south, west, height, width))),
        local_authority_id: Set(authority),
        min_lat: Set(Some(south)),
        min_lon: Set(Some(west)),
        max_lat: Set(Some(south + height)),
        max_lon: Set(Some(west + width)),
        created_at: Set(at),
        updated_at: Set(at),
    }
}

async fn insert_chunked<A, C, F>(db: &C, rows: Vec<A>, size: usize, insert: F) -> anyhow::Result<()>
where
    A: sea_orm::ActiveModelTrait + Clone,
    C: sea_orm::ConnectionTrait,
    F: Fn(Vec<A>) -> sea_orm::InsertMany<A>,
{
    for chunk in rows.chunks(size) {
        insert(chunk.to_vec()).exec_without_returning(db).await?;
    }
    Ok(())
}

/// A few small real JPEGs (original, preview, thumbnail) to store for generated photos.
fn sample_pictures() -> anyhow::Result<Vec<(Bytes, Bytes, Bytes)>> {
    (0..8u32)
        .map(|seed| {
            let jpeg = |w: u16, h: u16| -> anyhow::Result<Bytes> {
                let mut pixels = Vec::with_capacity(usize::from(w) * usize::from(h) * 3);
                for y in 0..u32::from(h) {
                    for x in 0..u32::from(w) {
                        pixels.extend([
                            ((x * 4 + seed * 30) % 256) as u8,
                            ((y * 5) % 256) as u8,
                            (seed * 31 % 256) as u8,
                        ]);
                    }
                }
                let mut out = Vec::new();
                jpeg_encoder::Encoder::new(&mut out, 75).encode(
                    &pixels,
                    w,
                    h,
                    jpeg_encoder::ColorType::Rgb,
                )?;
                Ok(Bytes::from(out))
            };
            Ok((jpeg(64, 48)?, jpeg(64, 48)?, jpeg(32, 24)?))
        })
        .collect()
}
