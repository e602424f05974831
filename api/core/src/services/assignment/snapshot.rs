//! The registry as of one version, and the cache of it each instance keeps: rebuilt when
//! the version row moves, so that instances agree without talking to each other.

use crate::domain::calendar::{DayKind, WorkingCalendar, amount_for};
use crate::domain::geometry::Area;
use crate::domain::{GeoPoint, Severity};
use crate::error::Error;
use chrono::{DateTime, NaiveDate, Utc};
use entity::ids::{DepartmentId, ShopfrontId};
use entity::{
    areas, assignment_rules, calendar_days, categories, departments, registry_versions, shopfronts,
    webhooks,
};
use sea_orm::{ConnectionTrait, EntityTrait};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::*;

/// The registry as of one version: the spatial index, and what every filing and case view
/// reads (categories, the working calendar, webhooks, shop names), so that a request
/// checks one version row instead of reading each table.
pub struct Registry {
    pub index: RegistryIndex,
    categories: HashMap<String, categories::Model>,
    calendar: Vec<(NaiveDate, DayKind)>,
    webhooks: Vec<webhooks::Model>,
    shop_names: HashMap<ShopfrontId, String>,
    /// Every area's children (areas without a boundary included: they still have areas
    /// below them), and the areas each department is the local authority of (属地).
    children: HashMap<Uuid, Vec<Uuid>>,
    authority_of: HashMap<DepartmentId, Vec<Uuid>>,
}

impl Registry {
    fn empty() -> Self {
        Self {
            index: RegistryIndex::new(
                -1,
                Vec::new(),
                Vec::new(),
                HashMap::new(),
                HashMap::new(),
                HashMap::new(),
            ),
            categories: HashMap::new(),
            calendar: Vec::new(),
            webhooks: Vec::new(),
            shop_names: HashMap::new(),
            children: HashMap::new(),
            authority_of: HashMap::new(),
        }
    }

    /// `roots` and every area below them, each once.
    pub fn areas_under(&self, roots: impl IntoIterator<Item = Uuid>) -> Vec<Uuid> {
        let mut seen = std::collections::HashSet::new();
        let mut stack: Vec<Uuid> = roots.into_iter().collect();
        let mut found = Vec::new();
        // `seen` also stops a cycle in the tree (a data error) from spinning.
        while let Some(area) = stack.pop() {
            if seen.insert(area) {
                found.push(area);
                stack.extend(self.children.get(&area).into_iter().flatten().copied());
            }
        }
        found
    }

    /// The territory of a department (a sub-district office, 属地): the areas it is the
    /// local authority of and every area below them.
    pub fn territory(&self, department: DepartmentId) -> Vec<Uuid> {
        self.areas_under(
            self.authority_of
                .get(&department)
                .into_iter()
                .flatten()
                .copied(),
        )
    }

    /// The active categories, by code.
    pub fn categories(&self) -> impl Iterator<Item = &categories::Model> {
        let mut all: Vec<&categories::Model> =
            self.categories.values().filter(|c| c.active).collect();
        all.sort_unstable_by(|a, b| a.code.cmp(&b.code));
        all.into_iter()
    }

    pub fn version(&self) -> i64 {
        self.index.version
    }

    pub fn locate(&self, point: GeoPoint, category: &str) -> Decision {
        self.index.locate(point, category)
    }

    pub fn category(&self, code: &str) -> Option<&categories::Model> {
        self.categories.get(code)
    }

    /// The deadline of a case of `category` and `severity` dispatched at `at`: the
    /// category's limit (halved when urgent) on the working calendar of `city`.
    pub fn deadline(
        &self,
        category: &categories::Model,
        severity: Severity,
        at: DateTime<Utc>,
        city: chrono_tz::Tz,
    ) -> DateTime<Utc> {
        let today = at.with_timezone(&city).date_naive();
        // A deadline never looks back: days before today do not matter.
        let calendar =
            WorkingCalendar::new(self.calendar.iter().copied().filter(|(d, _)| *d >= today));
        let unit = category.deadline_unit;
        let amount = amount_for(severity, i64::from(category.deadline_hours));
        calendar.deadline(at, amount, unit, city)
    }

    /// The name of whoever a case is assigned to: its shop, else its department.
    pub fn assignee_name(&self, case: &entity::cases::Model) -> Option<String> {
        case.assignee_shopfront_id
            .and_then(|id| self.shop_names.get(&id).cloned())
            .or_else(|| {
                case.assignee_department_id
                    .and_then(|id| self.index.department_name(id).map(str::to_owned))
            })
    }

    /// Active webhooks for a case of `department` (city-wide ones included).
    pub fn webhooks_for(
        &self,
        department: Option<DepartmentId>,
    ) -> impl Iterator<Item = &webhooks::Model> {
        self.webhooks.iter().filter(move |h| {
            h.active && (h.department_id.is_none() || h.department_id == department)
        })
    }
}

/// Reads the registry and builds the index. The version is read first, so data newer
/// than it only causes one extra rebuild, never a stale index under a new version.
pub async fn load(db: &impl ConnectionTrait) -> Result<Registry, Error> {
    let version = current_version(db).await?;
    let shop_rows = shopfronts::Entity::find().all(db).await?;
    let zones = shop_rows.iter().filter_map(zone_of).collect();
    let shop_names = shop_rows.into_iter().map(|s| (s.id, s.name)).collect();
    let area_rows = areas::Entity::find().all(db).await?;
    let mut children: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    let mut authority_of: HashMap<DepartmentId, Vec<Uuid>> = HashMap::new();
    for area in &area_rows {
        if let Some(parent) = area.parent_id {
            children.entry(parent).or_default().push(area.id);
        }
        if let Some(department) = area.local_authority_id {
            authority_of.entry(department).or_default().push(area.id);
        }
    }
    let areas = area_rows
        .into_iter()
        .filter_map(|a| {
            let boundary = a
                .boundary
                .as_deref()
                .and_then(|b| serde_json::from_str(b).ok())
                .and_then(|v| Area::from_geojson(&v).ok())?;
            Some(AreaEntry {
                id: a.id,
                name: a.name,
                parent: a.parent_id,
                local_authority: a.local_authority_id,
                boundary,
            })
        })
        .collect();
    let rules = assignment_rules::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| ((r.category_code, r.area_id), r.department_id))
        .collect();
    let categories: HashMap<String, categories::Model> = categories::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.code.clone(), c))
        .collect();
    let frontage = categories
        .values()
        .map(|c| (c.code.clone(), c.frontage))
        .collect();
    let department_names = departments::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d.name))
        .collect();
    let calendar = calendar_days::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.day, r.kind))
        .collect();
    let webhooks = webhooks::Entity::find().all(db).await?;
    Ok(Registry {
        index: RegistryIndex::new(version, zones, areas, rules, frontage, department_names),
        categories,
        calendar,
        webhooks,
        shop_names,
        children,
        authority_of,
    })
}

/// The registry version, 0 before the first change.
pub async fn current_version(db: &impl ConnectionTrait) -> Result<i64, Error> {
    Ok(db
        .query_one(&version_query())
        .await?
        .map(|row| row.try_get::<i64>("", "version"))
        .transpose()?
        .unwrap_or(0))
}

/// The query of the registry version: alone, or inside a statement that reads more (a
/// filing's first read).
pub fn version_query() -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::{Expr, ExprTrait, Query};
    Query::select()
        .column(registry_versions::Column::Version)
        .from(registry_versions::Entity)
        .and_where(Expr::col(registry_versions::Column::Id).eq(1))
        .to_owned()
}

/// Marks the registry changed: areas, departments, rules, shopfronts, categories, the
/// calendar or webhooks. Call it inside the transaction that changes them.
pub async fn bump_version(db: &impl ConnectionTrait) -> Result<(), Error> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    use sea_orm::{ColumnTrait, QueryFilter};
    registry_versions::Entity::update_many()
        .col_expr(
            registry_versions::Column::Version,
            Expr::col(registry_versions::Column::Version).add(1),
        )
        .filter(registry_versions::Column::Id.eq(1))
        .exec(db)
        .await?;
    Ok(())
}

/// The index of this instance, rebuilt when the database's registry version moves (by
/// this instance or any other). Checking costs one primary-key read.
pub struct RegistryCache {
    current: RwLock<Arc<Registry>>,
    rebuilding: tokio::sync::Mutex<()>,
}

impl Default for RegistryCache {
    fn default() -> Self {
        Self {
            current: RwLock::new(Arc::new(Registry::empty())),
            rebuilding: tokio::sync::Mutex::new(()),
        }
    }
}

impl RegistryCache {
    /// The snapshot as this instance last checked it, without asking the database: for
    /// what a request that has just called `current` goes on to show.
    pub fn latest(&self) -> Arc<Registry> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub async fn current(&self, db: &impl ConnectionTrait) -> Result<Arc<Registry>, Error> {
        self.at_version(db, current_version(db).await?).await
    }

    /// The snapshot of `version` (just read from the database) or newer, rebuilt if this
    /// instance's is older.
    pub async fn at_version(
        &self,
        db: &impl ConnectionTrait,
        version: i64,
    ) -> Result<Arc<Registry>, Error> {
        let registry = self.latest();
        if registry.version() == version {
            return Ok(registry);
        }
        let _one_rebuild_at_a_time = self.rebuilding.lock().await;
        let registry = self.latest();
        if registry.version() >= version {
            return Ok(registry);
        }
        let started = std::time::Instant::now();
        let fresh = Arc::new(load(db).await?);
        tracing::info!(
            version = fresh.version(),
            zones = fresh.index.zone_count(),
            ms = started.elapsed().as_millis() as u64,
            "registry index rebuilt"
        );
        match self.current.write() {
            Ok(mut guard) => *guard = fresh.clone(),
            Err(poisoned) => *poisoned.into_inner() = fresh.clone(),
        }
        Ok(fresh)
    }
}
