//! The responsibility registry: departments get a kind and contact, areas a local
//! authority (属地兜底), shopfronts a location and frontage zone, plus assignment rules and a
//! registry version that every instance polls to know when to rebuild its spatial index.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for column in [
            string(Departments::Kind).default("other").to_owned(),
            string(Departments::Contact).default("").to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Departments::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in [
            uuid_null(Areas::LocalAuthorityId).to_owned(),
            double_null(Areas::MinLat).to_owned(),
            double_null(Areas::MinLon).to_owned(),
            double_null(Areas::MaxLat).to_owned(),
            double_null(Areas::MaxLon).to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Areas::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in [
            string(Shopfronts::Contact).default("").to_owned(),
            string(Shopfronts::Phone).default("").to_owned(),
            double_null(Shopfronts::Lat).to_owned(),
            double_null(Shopfronts::Lon).to_owned(),
            text_null(Shopfronts::Zone).to_owned(),
            double_null(Shopfronts::ZoneRadiusM).to_owned(),
            double_null(Shopfronts::MinLat).to_owned(),
            double_null(Shopfronts::MinLon).to_owned(),
            double_null(Shopfronts::MaxLat).to_owned(),
            double_null(Shopfronts::MaxLon).to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Shopfronts::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("ix_shopfronts_bbox")
                    .table(Shopfronts::Table)
                    .col(Shopfronts::MinLat)
                    .col(Shopfronts::MaxLat)
                    .col(Shopfronts::MinLon)
                    .col(Shopfronts::MaxLon)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_areas_bbox")
                    .table(Areas::Table)
                    .col(Areas::MinLat)
                    .col(Areas::MaxLat)
                    .col(Areas::MinLon)
                    .col(Areas::MaxLon)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AssignmentRules::Table)
                    .col(pk_uuid(AssignmentRules::Id))
                    .col(string(AssignmentRules::CategoryCode))
                    .col(uuid_null(AssignmentRules::AreaId))
                    .col(uuid(AssignmentRules::DepartmentId))
                    .col(timestamp_with_time_zone(AssignmentRules::CreatedAt))
                    .col(timestamp_with_time_zone(AssignmentRules::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(AssignmentRules::Table, AssignmentRules::CategoryCode)
                            .to(Categories::Table, Categories::Code),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(AssignmentRules::Table, AssignmentRules::AreaId)
                            .to(Areas::Table, Areas::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(AssignmentRules::Table, AssignmentRules::DepartmentId)
                            .to(Departments::Table, Departments::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RegistryVersions::Table)
                    .col(integer(RegistryVersions::Id).primary_key())
                    .col(big_integer(RegistryVersions::Version))
                    .to_owned(),
            )
            .await?;
        let seed = Query::insert()
            .into_table(RegistryVersions::Table)
            .columns([RegistryVersions::Id, RegistryVersions::Version])
            .values_panic([1.into(), 1i64.into()])
            .to_owned();
        manager.exec_stmt(seed).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RegistryVersions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AssignmentRules::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_shopfronts_bbox")
                    .table(Shopfronts::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_areas_bbox")
                    .table(Areas::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            Shopfronts::Contact,
            Shopfronts::Phone,
            Shopfronts::Lat,
            Shopfronts::Lon,
            Shopfronts::Zone,
            Shopfronts::ZoneRadiusM,
            Shopfronts::MinLat,
            Shopfronts::MinLon,
            Shopfronts::MaxLat,
            Shopfronts::MaxLon,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Shopfronts::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in [
            Areas::LocalAuthorityId,
            Areas::MinLat,
            Areas::MinLon,
            Areas::MaxLat,
            Areas::MaxLon,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Areas::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for column in [Departments::Kind, Departments::Contact] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Departments::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Departments {
    Table,
    Id,
    Kind,
    Contact,
}

#[derive(DeriveIden)]
enum Areas {
    Table,
    Id,
    LocalAuthorityId,
    MinLat,
    MinLon,
    MaxLat,
    MaxLon,
}

#[derive(DeriveIden)]
enum Shopfronts {
    Table,
    Contact,
    Phone,
    Lat,
    Lon,
    Zone,
    ZoneRadiusM,
    MinLat,
    MinLon,
    MaxLat,
    MaxLon,
}

#[derive(DeriveIden)]
enum AssignmentRules {
    Table,
    Id,
    CategoryCode,
    AreaId,
    DepartmentId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RegistryVersions {
    Table,
    Id,
    Version,
}

#[derive(DeriveIden)]
enum Categories {
    Table,
    Code,
}
