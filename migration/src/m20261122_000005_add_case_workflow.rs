//! What the rectification loop counts on a case: rework (返工), recurrence (反弹), who
//! rectified it (they may not verify it), the original of a duplicate, and the closed case a new one recurs (反弹).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            integer(Cases::ReworkCount).default(0).to_owned(),
            integer(Cases::RecurrenceCount).default(0).to_owned(),
            uuid_null(Cases::RectifiedBy).to_owned(),
            uuid_null(Cases::DuplicateOf).to_owned(),
            uuid_null(Cases::RecurrenceOf).to_owned(),
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
            Cases::ReworkCount,
            Cases::RecurrenceCount,
            Cases::RectifiedBy,
            Cases::DuplicateOf,
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
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    ReworkCount,
    RecurrenceCount,
    RectifiedBy,
    DuplicateOf,
    RecurrenceOf,
}
