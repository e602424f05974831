//! Scoped roles: a supervisor or inspector bound to areas (a district, a sub-district, a
//! set of grids) sees and acts inside those areas and every area below them. A user with
//! no row here keeps the scope of their role (a supervisor, the whole city).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UserAreas::Table)
                    .col(uuid(UserAreas::UserId))
                    .col(uuid(UserAreas::AreaId))
                    .primary_key(
                        Index::create()
                            .col(UserAreas::UserId)
                            .col(UserAreas::AreaId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserAreas::Table, UserAreas::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    // An area someone is bound to is not deleted from under them. (NO ACTION,
                    // not RESTRICT: SQLite reports a RESTRICT as a trigger error, which
                    // does not read as the foreign-key conflict it is.)
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserAreas::Table, UserAreas::AreaId)
                            .to(Areas::Table, Areas::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_user_areas_area")
                    .table(UserAreas::Table)
                    .col(UserAreas::AreaId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UserAreas::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum UserAreas {
    Table,
    UserId,
    AreaId,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Areas {
    Table,
    Id,
}
