//! The working calendar that deadlines are counted on (public holidays and the make-up
//! working days of China's holiday schedule, 调休), and how each category counts its limit.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CalendarDays::Table)
                    .col(date(CalendarDays::Day).primary_key())
                    .col(string(CalendarDays::Kind))
                    .col(string(CalendarDays::Name))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Categories::Table)
                    .add_column(string(Categories::DeadlineUnit).default("calendar_hours"))
                    .to_owned(),
            )
            .await?;
        // A pending extension or suspension request on a case, and the suspension clock.
        for column in [
            string_null(Cases::PendingRequest).to_owned(),
            timestamp_with_time_zone_null(Cases::RequestedUntil).to_owned(),
            timestamp_with_time_zone_null(Cases::SuspendedAt).to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Cases::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Cases::PendingRequest,
            Cases::RequestedUntil,
            Cases::SuspendedAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Cases::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Categories::Table)
                    .drop_column(Categories::DeadlineUnit)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(CalendarDays::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum CalendarDays {
    Table,
    Day,
    Kind,
    Name,
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    PendingRequest,
    RequestedUntil,
    SuspendedAt,
}

#[derive(DeriveIden)]
enum Categories {
    Table,
    DeadlineUnit,
}
