//! Statistics for any period and scope, by area, department and category. Days are the
//! city's (`XUNCHA_TIMEZONE`). The definitions, as the assessment rules write them:
//!
//! - filed: created in the period; closed: closed in the period;
//! - on-time closure rate (按期结案率) = of the cases due in the period (not cancelled),
//!   those closed by their deadline ÷ (due − suspended now) × 100;
//! - rework rate (返工率) = of the cases closed in the period, those rejected at least
//!   once ÷ closed × 100;
//! - mean time to close: hours from filing to closing, over the cases closed in the period.
//!
//! Cases closed as duplicates are left out. "Suspended" is read as the case stands now.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use entity::ids::DepartmentId;
use entity::{cases, categories};

use crate::auth::policy::{self, CaseScope};
use crate::domain::CaseStatus;
use crate::error::Error;
use crate::services::inspections::summary::round2;
use crate::state::AppState;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupBy {
    Area,
    Department,
    Category,
}

pub struct StatsQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub area_id: Option<Uuid>,
    pub department_id: Option<DepartmentId>,
    pub category: Option<String>,
    pub group_by: GroupBy,
    /// For `GroupBy::Area`: the level cases roll up to.
    pub area_level: crate::domain::AreaLevel,
}

#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct Figures {
    pub filed: u32,
    pub closed: u32,
    pub due: u32,
    pub suspended: u32,
    pub closed_on_time: u32,
    /// Percent; `null` when nothing was due.
    pub on_time_rate: Option<f64>,
    pub reworked: u32,
    /// Percent; `null` when nothing closed.
    pub rework_rate: Option<f64>,
    pub mean_hours_to_close: Option<f64>,
    #[serde(skip)]
    hours_to_close: f64,
}

impl Figures {
    fn count(&mut self, case: &cases::Model, start: DateTime<Utc>, end: DateTime<Utc>) {
        // A duplicate was closed by pointing at another case, not by fixing anything.
        if case.duplicate_of.is_some() {
            return;
        }
        let within = |t: DateTime<Utc>| start <= t && t < end;
        if within(case.created_at) {
            self.filed += 1;
        }
        let closed_at = case.closed_at.filter(|_| case.status == CaseStatus::Closed);
        if let Some(closed) = closed_at.filter(|c| within(*c)) {
            self.closed += 1;
            self.hours_to_close += (closed - case.created_at).num_seconds() as f64 / 3600.0;
            if case.rework_count > 0 {
                self.reworked += 1;
            }
        }
        if let Some(deadline) = case.deadline_at.filter(|d| within(*d))
            && case.status != CaseStatus::Cancelled
        {
            self.due += 1;
            if case.suspended_at.is_some() {
                self.suspended += 1;
            } else if closed_at.is_some_and(|c| c <= deadline) {
                self.closed_on_time += 1;
            }
        }
    }

    fn finish(mut self) -> Self {
        let denominator = self.due - self.suspended;
        self.on_time_rate = (denominator > 0)
            .then(|| round2(f64::from(self.closed_on_time) / f64::from(denominator) * 100.0));
        self.rework_rate = (self.closed > 0)
            .then(|| round2(f64::from(self.reworked) / f64::from(self.closed) * 100.0));
        self.mean_hours_to_close =
            (self.closed > 0).then(|| round2(self.hours_to_close / f64::from(self.closed)));
        self
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Group {
    /// Area or department id, or category code; `null` for cases without one.
    pub key: Option<String>,
    pub name: String,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Stats {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub total: Figures,
    pub groups: Vec<Group>,
}

/// The figures of the cases in `scope` (the reader's: a supervisor bound to areas counts
/// theirs only).
pub async fn compute(
    state: &AppState,
    scope: &CaseScope,
    query: StatsQuery,
) -> Result<Stats, Error> {
    let city = state.settings.timezone;
    let start = start_of(query.from, city);
    let end = start_of(query.to.succ_opt().unwrap_or(query.to), city);
    let mut select = cases::Entity::find()
        .filter(policy::case_condition(scope))
        .filter(
            Condition::any()
                .add(
                    cases::Column::CreatedAt
                        .gte(start)
                        .and(cases::Column::CreatedAt.lt(end)),
                )
                .add(
                    cases::Column::ClosedAt
                        .gte(start)
                        .and(cases::Column::ClosedAt.lt(end)),
                )
                .add(
                    cases::Column::DeadlineAt
                        .gte(start)
                        .and(cases::Column::DeadlineAt.lt(end)),
                ),
        );
    if let Some(category) = &query.category {
        select = select.filter(cases::Column::CategoryCode.eq(category.as_str()));
    }
    let rows = select.all(&state.db).await?;

    let tree = super::AreaTree::load(&state.db).await?;
    let department_names = super::department_names(&state.db).await?;
    let category_names: HashMap<String, String> = categories::Entity::find()
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.code, c.name_zh))
        .collect();

    let mut total = Figures::default();
    let mut groups: BTreeMap<Option<String>, (String, Figures)> = BTreeMap::new();
    for case in &rows {
        if let Some(area) = query.area_id
            && !case.area_id.is_some_and(|a| tree.within(a, area))
        {
            continue;
        }
        let department = case.overseer_department_id;
        if query.department_id.is_some() && department != query.department_id {
            continue;
        }
        total.count(case, start, end);
        let (key, name) = match query.group_by {
            GroupBy::Area => match case
                .area_id
                .and_then(|a| tree.at_level(a, query.area_level))
            {
                Some(area) => (Some(area.id.to_string()), area.name.clone()),
                None => (None, "未划区域".to_owned()),
            },
            GroupBy::Department => match department {
                Some(id) => (
                    Some(id.to_string()),
                    department_names.get(&id).cloned().unwrap_or_default(),
                ),
                None => (None, "待分派".to_owned()),
            },
            GroupBy::Category => (
                Some(case.category_code.clone()),
                category_names
                    .get(&case.category_code)
                    .cloned()
                    .unwrap_or_default(),
            ),
        };
        groups
            .entry(key)
            .or_insert_with(|| (name, Figures::default()))
            .1
            .count(case, start, end);
    }
    Ok(Stats {
        from: query.from,
        to: query.to,
        total: total.finish(),
        groups: groups
            .into_iter()
            .map(|(key, (name, figures))| Group {
                key,
                name,
                figures: figures.finish(),
            })
            .collect(),
    })
}

/// Midnight of `day` in the city, in UTC.
pub fn start_of(day: NaiveDate, city: chrono_tz::Tz) -> DateTime<Utc> {
    use chrono::TimeZone;
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    city.from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| midnight.and_utc())
}
