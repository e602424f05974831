//! The city's working calendar: days that differ from their weekday.

use chrono::NaiveDate;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use entity::calendar_days;

use crate::domain::calendar::DayKind;
use crate::error::Error;
use crate::services::assignment::bump_version;
use crate::state::AppState;

pub async fn set_day(
    state: &AppState,
    day: NaiveDate,
    kind: DayKind,
    name: String,
) -> Result<calendar_days::Model, Error> {
    let row = calendar_days::ActiveModel {
        day: Set(day),
        kind: Set(kind),
        name: Set(name),
    };
    // Deadlines are computed from the registry snapshot, so a change bumps its version.
    let txn = crate::services::begin_write(&state.db).await?;
    calendar_days::Entity::insert(row)
        .on_conflict(
            OnConflict::column(calendar_days::Column::Day)
                .update_columns([calendar_days::Column::Kind, calendar_days::Column::Name])
                .to_owned(),
        )
        .exec(&txn)
        .await?;
    bump_version(&txn).await?;
    txn.commit().await?;
    calendar_days::Entity::find_by_id(day)
        .one(&state.db)
        .await?
        .ok_or_else(Error::not_found)
}

pub async fn clear_day(state: &AppState, day: NaiveDate) -> Result<(), Error> {
    let txn = crate::services::begin_write(&state.db).await?;
    let deleted = calendar_days::Entity::delete_by_id(day).exec(&txn).await?;
    if deleted.rows_affected == 0 {
        return Err(Error::not_found());
    }
    bump_version(&txn).await?;
    txn.commit().await?;
    Ok(())
}

pub async fn days_between(
    state: &AppState,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<calendar_days::Model>, Error> {
    Ok(calendar_days::Entity::find()
        .filter(calendar_days::Column::Day.between(from, to))
        .order_by_asc(calendar_days::Column::Day)
        .all(&state.db)
        .await?)
}
