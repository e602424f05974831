//! A phone's delta sync: the cases it keeps that changed since its token, and the ids of
//! those that left its hands, a page at a time. Changes are found by the cases' change
//! sequence (`change_seq`, stamped by the database on every write; migration 14), read
//! only below the horizon under which no write can still commit: so a page never misses a
//! change, even one made while the phone pages (it comes in a later page or the next
//! sync). Not timestamps: two writes in one millisecond, or a transaction that commits
//! after a later one, would slip past them.

use sea_orm::sea_query::{Alias, Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};
use uuid::Uuid;

use entity::cases;
use entity::ids::CaseId;

use crate::auth::CurrentUser;
use crate::auth::policy::{self, CaseScope};
use crate::domain::Role;
use crate::error::{Error, Msg};
use crate::services::scope;
use crate::state::AppState;

/// More ids left a phone's hands in one sync window than this: it should start again.
pub const MAX_REMOVED: u64 = 5_000;

/// Where a phone's sync stands: every change of sequence below or at `floor` (and at
/// `floor` up to the case `after`) has been sent; `window` is where this sync's window
/// began (its exits are told when the window is done); `scope` tags whose hands the
/// phone holds, so that a user moved to another department starts again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncToken {
    pub floor: i64,
    pub after: Option<Uuid>,
    pub window: i64,
    pub scope: u32,
}

impl SyncToken {
    /// A phone with nothing: everything in its hands comes.
    pub const START: SyncToken = SyncToken {
        floor: -1,
        after: None,
        window: 0,
        scope: 0,
    };

    fn is_start(self) -> bool {
        self.floor == -1 && self.after.is_none()
    }

    pub fn encode(self) -> String {
        let after = self
            .after
            .map_or_else(String::new, |id| id.simple().to_string());
        format!(
            "s1.{}.{}.{}.{:08x}",
            self.floor, after, self.window, self.scope
        )
    }

    pub fn decode(raw: &str) -> Result<Self, Msg> {
        let bad = || Msg::fixed("not a sync token this API gave out", "无效的同步令牌");
        let mut parts = raw.split('.');
        if parts.next() != Some("s1") {
            return Err(bad());
        }
        let floor: i64 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let after = match parts.next().ok_or_else(bad)? {
            "" => None,
            id => Some(Uuid::parse_str(id).map_err(|_| bad())?),
        };
        let window: i64 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let scope = parts
            .next()
            .and_then(|p| u32::from_str_radix(p, 16).ok())
            .ok_or_else(bad)?;
        if parts.next().is_some() || floor < -1 || window < 0 {
            return Err(bad());
        }
        Ok(Self {
            floor,
            after,
            window,
            scope,
        })
    }
}

pub struct SyncPage {
    /// Cases in the phone's hands changed since its token, in change order.
    pub cases: Vec<cases::Model>,
    /// Cases that left its hands (reassigned elsewhere) since the window began: only on
    /// the window's last page.
    pub removed: Vec<CaseId>,
    /// Too much left its hands at once: drop what it keeps and sync from the start.
    pub reset: bool,
    /// No more pages for now; keep `next` for the next sync.
    pub done: bool,
    pub next: SyncToken,
}

fn change_seq() -> Expr {
    Expr::col((cases::Entity, Alias::new("change_seq")))
}

/// The lowest sequence a write still running, or any later write, can have: everything
/// below it is final.
async fn horizon(db: &impl ConnectionTrait) -> Result<i64, Error> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DatabaseBackend::Postgres => {
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS horizon"
        }
        _ => "SELECT value + 1 AS horizon FROM sync_counter WHERE id = 1",
    };
    let row = db
        .query_one_raw(Statement::from_string(backend, sql))
        .await?
        .ok_or_else(|| Error::internal("no sync horizon"))?;
    Ok(row.try_get::<i64>("", "horizon")?)
}

/// The cases a user's phone keeps: an inspector's own filings (always in its scope);
/// everyone else's cases as their lists show them.
fn kept_by(user: &CurrentUser, hands: &CaseScope) -> Condition {
    match user.role {
        Role::Inspector => Condition::all().add(cases::Column::ReporterId.eq(user.id)),
        _ => policy::case_condition(hands),
    }
}

/// A tag of whose hands a phone holds: a user given another department or shop gets
/// another tag, and their phone starts again.
fn scope_tag(user: &CurrentUser, hands: &CaseScope) -> u32 {
    use sha2::{Digest, Sha256};
    let described = match user.role {
        // An inspector's phone keeps their filings, whatever their patrol.
        Role::Inspector => format!("{}:{}", user.role, user.id),
        _ => format!("{}:{:?}", user.role, hands),
    };
    let digest = Sha256::digest(described.as_bytes());
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

pub async fn changes(
    state: &AppState,
    user: &CurrentUser,
    token: SyncToken,
    limit: u64,
) -> Result<SyncPage, Error> {
    let db = &state.db;
    // A phone keeps the cases in its user's own hands (a department's queue, not its
    // territory).
    let hands = scope::case_scope(state, user).await?.own_hands();
    let scope = scope_tag(user, &hands);
    if !token.is_start() && token.scope != scope {
        return Ok(SyncPage {
            cases: Vec::new(),
            removed: Vec::new(),
            reset: true,
            done: true,
            next: SyncToken {
                scope,
                ..SyncToken::START
            },
        });
    }
    let horizon = horizon(db).await?;
    // A phone with nothing needs no removals from before its first sync: its window
    // begins now.
    let window = if token.is_start() {
        horizon
    } else {
        token.window
    };
    let past_token = match token.after {
        Some(after) => Condition::any().add(change_seq().gt(token.floor)).add(
            Condition::all()
                .add(change_seq().eq(token.floor))
                .add(cases::Column::Id.gt(after)),
        ),
        None => Condition::all().add(change_seq().gt(token.floor)),
    };
    let found: Vec<(CaseId, i64)> = cases::Entity::find()
        .select_only()
        .column(cases::Column::Id)
        .column_as(change_seq(), "change_seq")
        .filter(kept_by(user, &hands))
        .filter(past_token)
        .filter(change_seq().lt(horizon))
        .order_by(change_seq(), sea_orm::Order::Asc)
        .order_by_asc(cases::Column::Id)
        .limit(limit + 1)
        .into_tuple()
        .all(db)
        .await?;
    let done = found.len() as u64 <= limit;
    let page: Vec<(CaseId, i64)> = found.into_iter().take(limit as usize).collect();
    let mut by_id: std::collections::HashMap<CaseId, cases::Model> = cases::Entity::find()
        .filter(cases::Column::Id.is_in(page.iter().map(|(id, _)| *id)))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let cases: Vec<cases::Model> = page.iter().filter_map(|(id, _)| by_id.remove(id)).collect();
    if !done {
        let (last_id, last_seq) = *page.last().ok_or_else(|| Error::internal("empty page"))?;
        return Ok(SyncPage {
            cases,
            removed: Vec::new(),
            reset: false,
            done,
            next: SyncToken {
                floor: last_seq,
                after: Some(last_id.0),
                window,
                scope,
            },
        });
    }
    let (removed, reset) = exits(state, user, &hands, window, horizon).await?;
    Ok(SyncPage {
        cases,
        removed,
        reset,
        done,
        next: SyncToken {
            floor: horizon - 1,
            after: None,
            window: horizon,
            scope,
        },
    })
}

/// The cases that left the user's hands in `[from, to)` and are not back in them.
async fn exits(
    state: &AppState,
    user: &CurrentUser,
    hands: &CaseScope,
    from: i64,
    to: i64,
) -> Result<(Vec<CaseId>, bool), Error> {
    let column = match hands {
        CaseScope::Department { id, .. } => Some(("department_id", id.0)),
        CaseScope::Shopfront(id) => Some(("shopfront_id", id.0)),
        _ => None,
    };
    let Some((column, owner)) = column else {
        return Ok((Vec::new(), false));
    };
    let exits = Alias::new("case_exits");
    let query = sea_orm::sea_query::Query::select()
        .distinct()
        .column((exits.clone(), Alias::new("case_id")))
        .from(exits.clone())
        .and_where(Expr::col((exits.clone(), Alias::new(column))).eq(owner))
        .and_where(Expr::col((exits.clone(), Alias::new("change_seq"))).gte(from))
        .and_where(Expr::col((exits.clone(), Alias::new("change_seq"))).lt(to))
        .limit(4 * MAX_REMOVED + 1)
        .to_owned();
    let rows = state.db.query_all(&query).await?;
    if rows.len() as u64 > 4 * MAX_REMOVED {
        return Ok((Vec::new(), true));
    }
    let left: Vec<CaseId> = rows
        .iter()
        .map(|row| row.try_get::<CaseId>("", "case_id"))
        .collect::<Result<_, _>>()?;
    if left.is_empty() {
        return Ok((left, false));
    }
    // Those back in the user's hands come as cases, not as removals.
    let back: std::collections::HashSet<CaseId> = cases::Entity::find()
        .select_only()
        .column(cases::Column::Id)
        .filter(cases::Column::Id.is_in(left.clone()))
        .filter(kept_by(user, hands))
        .into_tuple::<CaseId>()
        .all(&state.db)
        .await?
        .into_iter()
        .collect();
    let gone: Vec<CaseId> = left.into_iter().filter(|id| !back.contains(id)).collect();
    if gone.len() as u64 > MAX_REMOVED {
        return Ok((Vec::new(), true));
    }
    Ok((gone, false))
}

/// Ends the holds whose wait is over, so that the change reaches the assignee's sync (its
/// lists show such a case already).
pub async fn release_expired_holds(state: &AppState) -> Result<u64, Error> {
    let released = cases::Entity::update_many()
        .col_expr(
            cases::Column::HeldUntil,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .filter(cases::Column::HeldUntil.lte(crate::services::now()))
        .exec(&state.db)
        .await?;
    Ok(released.rows_affected)
}

/// A token the API gave out, or a 422 naming `token`.
pub fn parse_token(raw: Option<&str>) -> Result<SyncToken, Error> {
    match raw {
        None | Some("") => Ok(SyncToken::START),
        Some(raw) => SyncToken::decode(raw).map_err(|msg| {
            let mut fields = crate::error::FieldErrors::default();
            fields.add("token", msg);
            Error::invalid(fields)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_foreign_ones_are_refused() {
        for token in [
            SyncToken::START,
            SyncToken {
                floor: 42,
                after: Some(Uuid::now_v7()),
                window: 7,
                scope: 0xdead_beef,
            },
        ] {
            assert_eq!(SyncToken::decode(&token.encode()).unwrap(), token);
        }
        for bad in [
            "",
            "s2.1..0.0",
            "s1.x..0.0",
            "s1.1.nope.0.0",
            "s1.1..0.0.9",
            "s1.-5..0.0",
            "s1.1..0",
            "s1.1..0.zz",
        ] {
            assert!(SyncToken::decode(bad).is_err(), "{bad}");
        }
    }
}
