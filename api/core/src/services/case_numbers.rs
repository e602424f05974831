//! Case numbers (`XC-2026-000123`): per year, in the order filings take them.
//!
//! PostgreSQL takes them from a sequence per year (`case_no_2026`). `nextval` holds no lock
//! until commit, so concurrent filings do not queue behind one counter row — under load
//! that row lock was where half the filings waited. A number taken by a filing that then
//! fails is not given again, so numbers may skip one; they never repeat.
//!
//! SQLite has one writer at a time anyway: it bumps the year's row of `case_counters`
//! inside the filing's transaction, and numbers do not skip.

use std::collections::HashSet;
use std::sync::Mutex;

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DatabaseBackend, EntityTrait};

use entity::case_counters;

use crate::error::Error;

#[derive(Default)]
pub struct CaseNumbers {
    /// Years whose PostgreSQL sequence this instance knows to exist.
    sequences: Mutex<HashSet<i32>>,
}

fn sequence_name(year: i32) -> String {
    format!("case_no_{year}")
}

impl CaseNumbers {
    /// Makes sure `year` can be numbered. Call it before the filing's write transaction: on
    /// PostgreSQL the first filing of a year creates the year's sequence, continuing from
    /// the year's `case_counters` row (numbers given before the sequence existed), and a
    /// failed statement inside the filing's transaction would abort it.
    pub async fn prepare_year(&self, db: &impl ConnectionTrait, year: i32) -> Result<(), Error> {
        if db.get_database_backend() != DatabaseBackend::Postgres || self.knows(year) {
            return Ok(());
        }
        let last = case_counters::Entity::find_by_id(year)
            .one(db)
            .await?
            .map_or(0, |c| c.last);
        // `year` and `last` are integers: nothing from outside is spliced into the DDL.
        let create = format!(
            "CREATE SEQUENCE IF NOT EXISTS {} AS integer START WITH {}",
            sequence_name(year),
            last + 1
        );
        if let Err(first) = db.execute_unprepared(&create).await {
            // Two instances creating it at once: one loses on the catalogue's unique
            // index, and by then the sequence exists.
            tracing::debug!(error = %first, "creating the case number sequence again");
            db.execute_unprepared(&create).await?;
        }
        if let Ok(mut known) = self.sequences.lock() {
            known.insert(year);
        }
        Ok(())
    }

    fn knows(&self, year: i32) -> bool {
        self.sequences
            .lock()
            .map(|known| known.contains(&year))
            .unwrap_or(false)
    }

    /// The next number of `year`, inside the filing's write transaction (after
    /// `prepare_year`).
    pub async fn next(&self, txn: &impl ConnectionTrait, year: i32) -> Result<i32, Error> {
        let row = if txn.get_database_backend() == DatabaseBackend::Postgres {
            txn.query_one(&Query::select().expr_as(take(year), "last").to_owned())
                .await?
        } else {
            let statement = Query::insert()
                .into_table(case_counters::Entity)
                .columns([case_counters::Column::Year, case_counters::Column::Last])
                .values_panic([year.into(), 1.into()])
                .on_conflict(
                    OnConflict::column(case_counters::Column::Year)
                        .value(
                            case_counters::Column::Last,
                            Expr::col((case_counters::Entity, case_counters::Column::Last)).add(1),
                        )
                        .to_owned(),
                )
                .returning_col(case_counters::Column::Last)
                .to_owned();
            txn.query_one(&statement).await?
        };
        let row = row.ok_or_else(|| Error::internal("case number: no row"))?;
        Ok(row.try_get::<i32>("", "last")?)
    }
}

/// PostgreSQL: the expression that takes the next number of `year` (after
/// `prepare_year`), for a statement that does more than number a case.
pub fn take(year: i32) -> Expr {
    Expr::cust_with_values("nextval($1::regclass)::integer", [sequence_name(year)])
}

/// After a bulk load (the data generator) has numbered `year` up to `last`: the next
/// filing continues after it, on either database.
pub async fn continue_after(db: &impl ConnectionTrait, year: i32, last: i32) -> Result<(), Error> {
    case_counters::Entity::insert(case_counters::ActiveModel {
        year: sea_orm::ActiveValue::Set(year),
        last: sea_orm::ActiveValue::Set(last),
    })
    .on_conflict(
        OnConflict::column(case_counters::Column::Year)
            .update_column(case_counters::Column::Last)
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    if db.get_database_backend() == DatabaseBackend::Postgres {
        // `to_regclass` is NULL when the year has no sequence yet, and `setval` of NULL
        // does nothing: the sequence made later starts from the counter row.
        db.execute_unprepared(&format!(
            "SELECT setval(to_regclass('{}'), {last})",
            sequence_name(year)
        ))
        .await?;
    }
    Ok(())
}
