use sea_orm::entity::prelude::*;

use crate::ids::{CampaignId, CaseId, DepartmentId, ShopfrontId, SiteId, UserId, VisitId};

use crate::vocabulary::{AssigneeKind, CaseSource, CaseStatus, Severity};

/// A violation report and where it stands in the closed loop. Location is WGS-84.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "cases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: CaseId,
    #[sea_orm(unique)]
    pub case_no: String,
    /// The phone's idempotency key.
    #[sea_orm(unique)]
    pub client_id: Option<Uuid>,
    /// SHA-256 of the filing request, to tell a retry from a different report.
    pub request_hash: Option<String>,
    pub category_code: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
    pub address: String,
    pub observed_at: DateTimeUtc,
    pub severity: Severity,
    pub source: CaseSource,
    pub status: CaseStatus,
    pub reporter_id: Option<UserId>,
    /// `department` or `shopfront`.
    pub assignee_kind: Option<AssigneeKind>,
    pub assignee_department_id: Option<DepartmentId>,
    pub assignee_shopfront_id: Option<ShopfrontId>,
    /// The department answerable: the department assignee, or the overseer of the
    /// assigned shop (kept in step when a shop changes department).
    pub overseer_department_id: Option<DepartmentId>,
    #[sea_orm(column_type = "Text", nullable)]
    pub assignment_reason: Option<String>,
    pub area_id: Option<Uuid>,
    pub deadline_at: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
    /// Times a rectification was rejected (返工).
    pub rework_count: i32,
    /// Times the case was reopened after closing (反弹).
    pub recurrence_count: i32,
    /// Who reported it rectified; they may not verify it.
    pub rectified_by: Option<UserId>,
    /// The case this one duplicates, when closed as a duplicate.
    pub duplicate_of: Option<CaseId>,
    /// A recently closed case of the same category close by, that this one recurs (反弹).
    pub recurrence_of: Option<CaseId>,
    /// `extension` or `suspension` while one waits for a supervisor.
    pub pending_request: Option<String>,
    /// The deadline an extension request asks for.
    pub requested_until: Option<DateTimeUtc>,
    /// Set while the case is suspended (缓办): the deadline clock is paused.
    pub suspended_at: Option<DateTimeUtc>,
    /// When the overdue notice was queued (once per deadline).
    pub overdue_notified_at: Option<DateTimeUtc>,
    /// The inspection campaign, site and visit whose deduction filed this case.
    pub campaign_id: Option<CampaignId>,
    pub site_id: Option<SiteId>,
    pub visit_id: Option<VisitId>,
    /// Filed without a photo: its assignee does not see it, and is not notified, until
    /// its first "before" photo arrives or this passes. `None`: dispatched.
    pub held_until: Option<DateTimeUtc>,
    /// While rectified: the inspector who verifies (the grid's, or the filer).
    pub verifier_id: Option<UserId>,
    pub verify_due_at: Option<DateTimeUtc>,
    /// When a late verification was escalated to supervisors (once).
    pub verify_escalated_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
