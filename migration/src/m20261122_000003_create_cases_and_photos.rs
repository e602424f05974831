//! Cases (violation reports), their append-only event chain, their photos, and the
//! per-year counter behind human case numbers.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CaseCounters::Table)
                    .col(integer(CaseCounters::Year).primary_key())
                    .col(integer(CaseCounters::Last))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Cases::Table)
                    .col(pk_uuid(Cases::Id))
                    .col(string_uniq(Cases::CaseNo))
                    .col(uuid_null(Cases::ClientId).unique_key())
                    .col(string_null(Cases::RequestHash))
                    .col(string(Cases::CategoryCode))
                    .col(text(Cases::Description))
                    .col(double(Cases::Lat))
                    .col(double(Cases::Lon))
                    .col(double_null(Cases::AccuracyM))
                    .col(string(Cases::Address))
                    .col(timestamp_with_time_zone(Cases::ObservedAt))
                    .col(string(Cases::Severity))
                    .col(string(Cases::Source))
                    .col(string(Cases::Status))
                    .col(uuid_null(Cases::ReporterId))
                    .col(string_null(Cases::AssigneeKind))
                    .col(uuid_null(Cases::AssigneeDepartmentId))
                    .col(uuid_null(Cases::AssigneeShopfrontId))
                    .col(text_null(Cases::AssignmentReason))
                    .col(uuid_null(Cases::AreaId))
                    .col(timestamp_with_time_zone_null(Cases::DeadlineAt))
                    .col(integer(Cases::Version))
                    .col(timestamp_with_time_zone(Cases::CreatedAt))
                    .col(timestamp_with_time_zone(Cases::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Cases::ClosedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Cases::Table, Cases::CategoryCode)
                            .to(Categories::Table, Categories::Code),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Cases::Table, Cases::ReporterId)
                            .to(Users::Table, Users::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Cases::Table, Cases::AssigneeDepartmentId)
                            .to(Departments::Table, Departments::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Cases::Table, Cases::AssigneeShopfrontId)
                            .to(Shopfronts::Table, Shopfronts::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Cases::Table, Cases::AreaId)
                            .to(Areas::Table, Areas::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "ix_cases_status_category",
                vec![Cases::Status, Cases::CategoryCode],
            ),
            ("ix_cases_lat_lon", vec![Cases::Lat, Cases::Lon]),
            ("ix_cases_updated", vec![Cases::UpdatedAt, Cases::Id]),
            ("ix_cases_deadline", vec![Cases::DeadlineAt, Cases::Id]),
            (
                "ix_cases_department",
                vec![Cases::AssigneeDepartmentId, Cases::Id],
            ),
            (
                "ix_cases_shopfront",
                vec![Cases::AssigneeShopfrontId, Cases::Id],
            ),
            ("ix_cases_reporter", vec![Cases::ReporterId, Cases::Id]),
            ("ix_cases_area", vec![Cases::AreaId, Cases::Id]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Cases::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(CaseEvents::Table)
                    .col(pk_uuid(CaseEvents::Id))
                    .col(uuid(CaseEvents::CaseId))
                    .col(integer(CaseEvents::Seq))
                    .col(string(CaseEvents::Action))
                    .col(string_null(CaseEvents::FromStatus))
                    .col(string(CaseEvents::ToStatus))
                    .col(uuid_null(CaseEvents::ActorId))
                    .col(string_null(CaseEvents::ActorRole))
                    .col(text_null(CaseEvents::Note))
                    .col(text(CaseEvents::PhotoIds))
                    .col(timestamp_with_time_zone(CaseEvents::CreatedAt))
                    .col(string_null(CaseEvents::PrevHash))
                    .col(string(CaseEvents::Hash))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CaseEvents::Table, CaseEvents::CaseId)
                            .to(Cases::Table, Cases::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_case_events_case_seq")
                    .table(CaseEvents::Table)
                    .col(CaseEvents::CaseId)
                    .col(CaseEvents::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Photos::Table)
                    .col(pk_uuid(Photos::Id))
                    .col(uuid(Photos::CaseId))
                    .col(string(Photos::Kind))
                    .col(string(Photos::Sha256))
                    .col(string(Photos::ContentType))
                    .col(big_integer(Photos::Bytes))
                    .col(integer(Photos::Width))
                    .col(integer(Photos::Height))
                    .col(timestamp_with_time_zone_null(Photos::TakenAt))
                    .col(double_null(Photos::ExifLat))
                    .col(double_null(Photos::ExifLon))
                    .col(text(Photos::Flags))
                    .col(big_integer(Photos::Phash))
                    .col(integer(Photos::PhashB0))
                    .col(integer(Photos::PhashB1))
                    .col(integer(Photos::PhashB2))
                    .col(integer(Photos::PhashB3))
                    .col(uuid(Photos::UploadedBy))
                    .col(timestamp_with_time_zone(Photos::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Photos::Table, Photos::CaseId)
                            .to(Cases::Table, Cases::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Photos::Table, Photos::UploadedBy)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_photos_case_sha256")
                    .table(Photos::Table)
                    .col(Photos::CaseId)
                    .col(Photos::Sha256)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("ix_photos_sha256", Photos::Sha256),
            ("ix_photos_phash_b0", Photos::PhashB0),
            ("ix_photos_phash_b1", Photos::PhashB1),
            ("ix_photos_phash_b2", Photos::PhashB2),
            ("ix_photos_phash_b3", Photos::PhashB3),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Photos::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Photos::Table.into_iden(),
            CaseEvents::Table.into_iden(),
            Cases::Table.into_iden(),
            CaseCounters::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum CaseCounters {
    Table,
    Year,
    Last,
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
    CaseNo,
    ClientId,
    RequestHash,
    CategoryCode,
    Description,
    Lat,
    Lon,
    AccuracyM,
    Address,
    ObservedAt,
    Severity,
    Source,
    Status,
    ReporterId,
    AssigneeKind,
    AssigneeDepartmentId,
    AssigneeShopfrontId,
    AssignmentReason,
    AreaId,
    DeadlineAt,
    Version,
    CreatedAt,
    UpdatedAt,
    ClosedAt,
}

#[derive(DeriveIden)]
enum CaseEvents {
    Table,
    Id,
    CaseId,
    Seq,
    Action,
    FromStatus,
    ToStatus,
    ActorId,
    ActorRole,
    Note,
    PhotoIds,
    CreatedAt,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum Photos {
    Table,
    Id,
    CaseId,
    Kind,
    Sha256,
    ContentType,
    Bytes,
    Width,
    Height,
    TakenAt,
    ExifLat,
    ExifLon,
    Flags,
    Phash,
    PhashB0,
    PhashB1,
    PhashB2,
    PhashB3,
    UploadedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Categories {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Departments {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Shopfronts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Areas {
    Table,
    Id,
}
