//! The department answerable for each case, stored on the case (`overseer_department_id`):
//! its department assignee, or the department that oversees its assigned shop. A
//! department's cases are then one indexed equality, where "its own cases or those of its
//! 5,000 shops" was a join that took 10–500 ms per queue over a million cases.
//!
//! Also: the (lat, lon) index gains `id`, so a bounding-box page finds its ids from the
//! index alone before reading rows.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Cases {
    Table,
    OverseerDepartmentId,
    Status,
    DeadlineAt,
    SuspendedAt,
    Lat,
    Lon,
    Id,
    AssigneeDepartmentId,
    AssigneeShopfrontId,
}

#[derive(DeriveIden)]
enum Shopfronts {
    Table,
    Id,
    DepartmentId,
}

const OVERSEER_INDEX: &str = "ix_cases_overseer_status";
const BOX_INDEX: &str = "ix_cases_lat_lon_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Cases::Table)
                    .add_column(ColumnDef::new(Cases::OverseerDepartmentId).uuid().null())
                    .to_owned(),
            )
            .await?;
        let shop_department = Query::select()
            .column((Shopfronts::Table, Shopfronts::DepartmentId))
            .from(Shopfronts::Table)
            .and_where(
                Expr::col((Shopfronts::Table, Shopfronts::Id))
                    .equals((Cases::Table, Cases::AssigneeShopfrontId)),
            )
            .to_owned();
        manager
            .exec_stmt(
                Query::update()
                    .table(Cases::Table)
                    .value(
                        Cases::OverseerDepartmentId,
                        Func::coalesce([
                            Expr::col((Cases::Table, Cases::AssigneeDepartmentId)),
                            SimpleExpr::SubQuery(
                                None,
                                Box::new(shop_department.into_sub_query_statement()),
                            ),
                        ]),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(OVERSEER_INDEX)
                    .table(Cases::Table)
                    .col(Cases::OverseerDepartmentId)
                    .col(Cases::Status)
                    .col(Cases::DeadlineAt)
                    .col(Cases::SuspendedAt)
                    .to_owned(),
            )
            .await?;
        // Replaced by the overseer index: a department's queue no longer reads it.
        manager
            .drop_index(
                Index::drop()
                    .name("ix_cases_department_status")
                    .table(Cases::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(BOX_INDEX)
                    .table(Cases::Table)
                    .col(Cases::Lat)
                    .col(Cases::Lon)
                    .col(Cases::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_cases_lat_lon")
                    .table(Cases::Table)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("ix_cases_lat_lon")
                    .table(Cases::Table)
                    .col(Cases::Lat)
                    .col(Cases::Lon)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(Index::drop().name(BOX_INDEX).table(Cases::Table).to_owned())
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_cases_department_status")
                    .table(Cases::Table)
                    .col(Cases::AssigneeDepartmentId)
                    .col(Cases::Status)
                    .col(Cases::DeadlineAt)
                    .col(Cases::SuspendedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(OVERSEER_INDEX)
                    .table(Cases::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Cases::Table)
                    .drop_column(Cases::OverseerDepartmentId)
                    .to_owned(),
            )
            .await
    }
}
