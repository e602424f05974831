//! Who may see and do what, in one place. Single reads and list queries use the same SQL
//! condition, so a page never holds a case its reader may not see, and a case the reader
//! may not see answers 404.

use std::sync::Arc;

use entity::ids::{DepartmentId, ShopfrontId, UserId};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition};
use uuid::Uuid;

use entity::{campaigns, cases};

use crate::auth::CurrentUser;
use crate::domain::inspection::{CampaignMode, CampaignStatus};
use crate::domain::workflow::Actor;
use crate::domain::{Action, CaseStatus, PhotoKind, Role};
use crate::error::{Error, ErrorCode, Msg};

/// A decision made by role alone. Which roles hold each is [`Permission::roles`], the
/// table `docs/security.md`'s role matrix is checked against. Handlers declare the
/// permission an operation needs (`Allowed<needs::…>` in the HTTP crate), which asks
/// [`require`]; a use case asks it itself where the permission depends on its input
/// (inactive categories) or the account is read inside it (filing). A use case that
/// needs a permission says so in its documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Users, areas, departments, shopfronts, categories, assignment rules, the working
    /// calendar, webhooks and API keys: reading them all and changing them.
    Administer,
    /// Reading departments, shopfronts and assignment rules (the campaign office reads the
    /// registry it dispatches to).
    ReadRegistry,
    /// Filing a case: inspectors on patrol and the campaign office.
    FileReports,
    /// The campaign office's list of inspection sites.
    ManageSites,
    /// Writing checklists.
    ManageChecklists,
    /// Reading checklists: those who write them and the inspectors who score with them.
    ReadChecklists,
    /// Starting and closing an inspection campaign.
    RunCampaigns,
    /// A campaign's summary, rankings and exports.
    ReviewResults,
    /// Which other cases' and visits' photos a photo matches (the same bytes, a similar
    /// picture): the campaign office weighing evidence.
    ReviewEvidence,
}

impl Permission {
    pub const ALL: [Permission; 9] = [
        Permission::Administer,
        Permission::ReadRegistry,
        Permission::FileReports,
        Permission::ManageSites,
        Permission::ManageChecklists,
        Permission::ReadChecklists,
        Permission::RunCampaigns,
        Permission::ReviewResults,
        Permission::ReviewEvidence,
    ];

    /// The policy: who holds each permission.
    pub const fn roles(self) -> &'static [Role] {
        match self {
            Permission::Administer => &[Role::Admin],
            Permission::ReadRegistry
            | Permission::ManageSites
            | Permission::ManageChecklists
            | Permission::ReviewResults
            | Permission::ReviewEvidence => &[Role::Admin, Role::Supervisor],
            Permission::FileReports => &[Role::Supervisor, Role::Inspector],
            Permission::ReadChecklists => &[Role::Admin, Role::Supervisor, Role::Inspector],
            Permission::RunCampaigns => &[Role::Supervisor],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Administer => "administer",
            Permission::ReadRegistry => "read_registry",
            Permission::FileReports => "file_reports",
            Permission::ManageSites => "manage_sites",
            Permission::ManageChecklists => "manage_checklists",
            Permission::ReadChecklists => "read_checklists",
            Permission::RunCampaigns => "run_campaigns",
            Permission::ReviewResults => "review_results",
            Permission::ReviewEvidence => "review_evidence",
        }
    }

    pub fn allows(self, role: Role) -> bool {
        self.roles().contains(&role)
    }
}

/// 403 unless the user's role holds `permission`.
pub fn require(user: &CurrentUser, permission: Permission) -> Result<(), Error> {
    if permission.allows(user.role) {
        Ok(())
    } else {
        Err(Error::forbidden())
    }
}

/// The role matrix of `docs/security.md`, rendered from the table above.
pub fn role_matrix() -> String {
    let mut out = String::from("| permission |");
    for role in Role::ALL {
        out.push_str(&format!(" {} |", role.as_str()));
    }
    out.push_str("\n|---|");
    out.push_str(&":---:|".repeat(Role::ALL.len()));
    out.push('\n');
    for permission in Permission::ALL {
        out.push_str(&format!("| `{}` |", permission.as_str()));
        for role in Role::ALL {
            out.push_str(if permission.allows(*role) {
                " ✓ |"
            } else {
                " |"
            });
        }
        out.push('\n');
    }
    out
}

/// What bounds a user's view besides their role: the areas they are bound to and, for a
/// department, its territory (属地), each with every area below it (see
/// `services::scope`, which reads them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reach {
    /// None: not bound (a supervisor then sees the whole city, an inspector their own
    /// filings only).
    pub bound: Option<Arc<[Uuid]>>,
    pub territory: Arc<[Uuid]>,
}

/// The cases a user may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaseScope {
    /// Admins and unbound supervisors (the campaign office).
    All,
    /// A supervisor bound to areas: the cases located in them.
    Areas(Arc<[Uuid]>),
    /// An inspector: the cases they filed and those in their patrol areas, except those an
    /// open unannounced campaign filed (they would give the round away).
    Inspector { id: UserId, patrol: Arc<[Uuid]> },
    /// A department: cases assigned to it and to the shopfronts it oversees, and every
    /// case on its territory whoever is assigned (a sub-district office's 属地 view).
    Department {
        id: DepartmentId,
        territory: Arc<[Uuid]>,
    },
    /// A shopfront: its own cases only.
    Shopfront(ShopfrontId),
    /// A department or shopfront user whose account lacks its scope sees nothing.
    Nothing,
}

impl CaseScope {
    /// The cases in the user's own hands: a department's queue and the cases its phones
    /// keep are those assigned to it, not its whole territory.
    pub fn own_hands(self) -> CaseScope {
        match self {
            CaseScope::Department { id, .. } => CaseScope::Department {
                id,
                territory: Arc::from([]),
            },
            other => other,
        }
    }
}

pub fn case_scope(user: &CurrentUser, reach: &Reach) -> CaseScope {
    match user.role {
        Role::Admin => CaseScope::All,
        Role::Supervisor => match &reach.bound {
            None => CaseScope::All,
            Some(areas) => CaseScope::Areas(areas.clone()),
        },
        Role::Inspector => CaseScope::Inspector {
            id: user.id,
            patrol: reach.bound.clone().unwrap_or_else(|| Arc::from([])),
        },
        Role::Department => {
            user.department_id
                .map_or(CaseScope::Nothing, |id| CaseScope::Department {
                    id,
                    territory: reach.territory.clone(),
                })
        }
        Role::Shopfront => user
            .shopfront_id
            .map_or(CaseScope::Nothing, CaseScope::Shopfront),
    }
}

/// Cases no longer held for their evidence (a phone's photos still on the way).
fn dispatched() -> Condition {
    Condition::any()
        .add(cases::Column::HeldUntil.is_null())
        .add(cases::Column::HeldUntil.lte(chrono::Utc::now()))
}

/// Cases located in `areas` (none when it is empty).
fn located_in(areas: &[Uuid]) -> Condition {
    if areas.is_empty() {
        Condition::all().add(cases::Column::Id.is_null())
    } else {
        Condition::all().add(cases::Column::AreaId.is_in(areas.iter().copied()))
    }
}

/// The SQL condition on `cases` for a scope.
pub fn case_condition(scope: &CaseScope) -> Condition {
    match scope {
        CaseScope::All => Condition::all(),
        CaseScope::Areas(areas) => located_in(areas),
        CaseScope::Inspector { id, patrol } => {
            Condition::any().add(cases::Column::ReporterId.eq(*id)).add(
                Condition::all()
                    .add(located_in(patrol))
                    .add(outside_open_unannounced_campaigns()),
            )
        }
        // Its own cases and those of the shops it oversees, as stored on the case, and
        // those on its territory, once dispatched.
        CaseScope::Department { id, territory } => {
            let mut mine = Condition::any().add(cases::Column::OverseerDepartmentId.eq(*id));
            if !territory.is_empty() {
                mine = mine.add(located_in(territory));
            }
            Condition::all().add(mine).add(dispatched())
        }
        CaseScope::Shopfront(shopfront) => Condition::all()
            .add(cases::Column::AssigneeShopfrontId.eq(*shopfront))
            .add(dispatched()),
        CaseScope::Nothing => Condition::all().add(cases::Column::Id.is_null()),
    }
}

/// Cases no open unannounced campaign filed: those would give the round away to anyone
/// but the campaign office and their filer.
fn outside_open_unannounced_campaigns() -> Condition {
    Condition::any()
        .add(cases::Column::CampaignId.is_null())
        .add(
            cases::Column::CampaignId.not_in_subquery(
                Query::select()
                    .column(campaigns::Column::Id)
                    .from(campaigns::Entity)
                    .and_where(campaigns::Column::Status.eq(CampaignStatus::Open))
                    .and_where(campaigns::Column::Mode.eq(CampaignMode::Unannounced))
                    .to_owned(),
            ),
        )
}

/// The cases the nearby-duplicates check may name to a filer, wherever they are: every
/// case but those an open unannounced campaign filed and the filer did not. (The check
/// answers without photos or reporter.)
pub fn not_secret_to(user: &CurrentUser) -> Condition {
    match user.role {
        Role::Admin | Role::Supervisor => Condition::all(),
        _ => Condition::any()
            .add(cases::Column::ReporterId.eq(user.id))
            .add(outside_open_unannounced_campaigns()),
    }
}

/// Whether a supervisor bound to `bound` (None: the whole city) may work with all of
/// `areas` (a campaign's areas, an export's): each must lie inside the bound ones.
pub fn covers(bound: &Option<Arc<[Uuid]>>, areas: &[Uuid]) -> bool {
    match bound {
        None => true,
        Some(bound) => !areas.is_empty() && areas.iter().all(|a| bound.contains(a)),
    }
}

/// Whether `user` verifies `case`'s rectification (核查): a supervisor, or the inspector it
/// went to (the grid's inspector, else its filer), never whoever rectified it.
pub fn is_verifier(user: &CurrentUser, case: &cases::Model) -> bool {
    let named = case.verifier_id.or(case.reporter_id);
    let allowed =
        user.role == Role::Supervisor || (user.role == Role::Inspector && named == Some(user.id));
    allowed && case.rectified_by != Some(user.id)
}

/// When a photo that `user` may add can be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhotoTiming {
    /// Now, whenever it was taken.
    Now,
    /// Only if it was taken before the case's last change of state: a "before" photo the
    /// phone queued while the case moved on is still evidence of the problem.
    TakenBeforeLastChange,
}

/// Whether `user` (who can see `case`) may add a photo of `kind`, and when. Before photos
/// come from the filer or a supervisor: any time while the problem is open, later if they
/// were taken before the case moved on; after photos from the assignee while it works on
/// the case; verification photos from its verifier once the case is reported rectified.
pub fn may_add_photo(
    user: &CurrentUser,
    case: &cases::Model,
    kind: PhotoKind,
) -> Result<PhotoTiming, Error> {
    let status = case.status;
    let filer_or_supervisor = user.role == Role::Supervisor
        || (user.role == Role::Inspector && case.reporter_id == Some(user.id));
    let (allowed_role, allowed_status) = match kind {
        PhotoKind::Before => (
            filer_or_supervisor,
            status.is_open() && status != CaseStatus::Rectified,
        ),
        PhotoKind::After => (is_assignee(user, case), status == CaseStatus::InProgress),
        PhotoKind::Verification => (is_verifier(user, case), status == CaseStatus::Rectified),
    };
    if !allowed_role {
        return Err(Error::forbidden());
    }
    if !allowed_status && kind == PhotoKind::Before {
        return Ok(PhotoTiming::TakenBeforeLastChange);
    }
    if !allowed_status {
        return Err(Error::new(ErrorCode::Conflict).with_message(Msg::new(
            format!("A case that is {} takes no {} photos.", case.status, kind),
            format!("当前状态（{}）的案件不能添加 {} 照片。", case.status, kind),
        )));
    }
    Ok(PhotoTiming::Now)
}

/// Whether `user` (seeing cases as `scope` says) may take `action` on a case they can
/// see, by the action's `by` in the life cycle's table (`domain::workflow::ACTIONS`).
pub fn may_act(
    user: &CurrentUser,
    scope: &CaseScope,
    case: &cases::Model,
    action: Action,
) -> Result<(), Error> {
    let supervisor = user.role == Role::Supervisor;
    let allowed = match action.rule().by {
        Actor::Supervisor => supervisor,
        Actor::Assignee => is_assignee(user, case),
        Actor::SupervisorOrAssignee => supervisor || is_assignee(user, case),
        Actor::Verifier => is_verifier(user, case),
        Actor::Overseer => {
            let oversees = match scope {
                CaseScope::Department { id, territory } => {
                    case.overseer_department_id == Some(*id)
                        || case.area_id.is_some_and(|area| territory.contains(&area))
                }
                _ => false,
            };
            supervisor || (oversees && !is_assignee(user, case))
        }
    };
    if allowed {
        Ok(())
    } else {
        Err(Error::forbidden())
    }
}

/// A campaign as its readers are decided on.
pub struct CampaignFacts<'a> {
    pub area_ids: &'a [Uuid],
    pub inspector_ids: &'a [UserId],
    pub closed: bool,
    pub announced: bool,
}

/// Whether `user` (bound as `reach` says) sees a campaign's plan (its sites and
/// inspectors). Those inspected learn of an unannounced round only when it is over; a
/// supervisor bound to areas runs and reads the rounds inside them.
pub fn sees_campaign_plan(user: &CurrentUser, reach: &Reach, campaign: &CampaignFacts) -> bool {
    let public = campaign.closed || campaign.announced;
    match user.role {
        Role::Admin => true,
        Role::Supervisor => covers(&reach.bound, campaign.area_ids),
        Role::Inspector => campaign.inspector_ids.contains(&user.id) || public,
        Role::Department | Role::Shopfront => public,
    }
}

/// Visits of a campaign are recorded by its inspectors and by supervisors.
pub fn may_record_visit(user: &CurrentUser, inspector_ids: &[UserId]) -> Result<(), Error> {
    let allowed = user.role == Role::Supervisor
        || (user.role == Role::Inspector && inspector_ids.contains(&user.id));
    if allowed {
        Ok(())
    } else {
        Err(Error::forbidden())
    }
}

/// A visit's photos are added by the inspector who made it or a supervisor.
pub fn may_add_visit_photo(user: &CurrentUser, visit: &entity::visits::Model) -> Result<(), Error> {
    if user.role == Role::Supervisor || visit.inspector_id == user.id {
        Ok(())
    } else {
        Err(Error::forbidden())
    }
}

/// Whether a department or shop user sees a visit of a site: the shop the site is, or the
/// department responsible for it. (The campaign's readers see every visit.)
pub fn sees_visit_as_inspected(
    user: &CurrentUser,
    site_shopfront_id: Option<ShopfrontId>,
    responsible_department_id: Option<DepartmentId>,
) -> bool {
    match user.role {
        Role::Shopfront => user.shopfront_id.is_some() && user.shopfront_id == site_shopfront_id,
        Role::Department => {
            user.department_id.is_some() && user.department_id == responsible_department_id
        }
        _ => false,
    }
}

/// Whether `user` sees a shopfront: the registry's readers, its overseeing department and
/// its own users.
pub fn sees_shopfront(user: &CurrentUser, shop: &entity::shopfronts::Model) -> bool {
    match user.role {
        role if Permission::ReadRegistry.allows(role) => true,
        Role::Department => {
            user.department_id.is_some() && user.department_id == shop.department_id
        }
        Role::Shopfront => user.shopfront_id == Some(shop.id),
        _ => false,
    }
}

/// The department or shopfront user that the case is assigned to.
pub fn is_assignee(user: &CurrentUser, case: &cases::Model) -> bool {
    match user.role {
        Role::Department => {
            user.department_id.is_some() && user.department_id == case.assignee_department_id
        }
        Role::Shopfront => {
            user.shopfront_id.is_some() && user.shopfront_id == case.assignee_shopfront_id
        }
        _ => false,
    }
}
