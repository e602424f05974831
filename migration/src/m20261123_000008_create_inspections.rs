//! Unannounced inspections (明察暗访): sites, checklist templates, campaigns with their
//! committed draw, visits with item scores. Cases remember the campaign, site and visit
//! that filed them; photos may belong to a visit instead of a case, so `photos` is rebuilt
//! with `case_id` nullable (SQLite cannot relax a NOT NULL in place).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction on every backend: the `photos` rebuild must happen on one
    /// connection, and all of it or none.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(InspectionSites::Table)
                    .col(pk_uuid(InspectionSites::Id))
                    .col(string_len_uniq(InspectionSites::Code, 40))
                    .col(string_len(InspectionSites::Name, 100))
                    .col(string_len(InspectionSites::SiteType, 30))
                    .col(uuid(InspectionSites::AreaId))
                    .col(double(InspectionSites::Lat))
                    .col(double(InspectionSites::Lon))
                    .col(string_len(InspectionSites::Address, 200))
                    .col(uuid_null(InspectionSites::ShopfrontId))
                    .col(boolean(InspectionSites::Active).default(true))
                    .col(timestamp_with_time_zone(InspectionSites::CreatedAt))
                    .col(timestamp_with_time_zone(InspectionSites::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(InspectionSites::Table, InspectionSites::AreaId)
                            .to(Areas::Table, Areas::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(InspectionSites::Table, InspectionSites::ShopfrontId)
                            .to(Shopfronts::Table, Shopfronts::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_inspection_sites_area_type")
                    .table(InspectionSites::Table)
                    .col(InspectionSites::AreaId)
                    .col(InspectionSites::SiteType)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Checklists::Table)
                    .col(pk_uuid(Checklists::Id))
                    .col(string_len(Checklists::Name, 100))
                    .col(text(Checklists::Description))
                    .col(timestamp_with_time_zone(Checklists::CreatedAt))
                    .col(timestamp_with_time_zone(Checklists::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ChecklistItems::Table)
                    .col(pk_uuid(ChecklistItems::Id))
                    .col(uuid(ChecklistItems::ChecklistId))
                    .col(integer(ChecklistItems::Position))
                    .col(string_len(ChecklistItems::Title, 200))
                    .col(double(ChecklistItems::MaxPoints))
                    .col(string_null(ChecklistItems::CategoryCode))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ChecklistItems::Table, ChecklistItems::ChecklistId)
                            .to(Checklists::Table, Checklists::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ChecklistItems::Table, ChecklistItems::CategoryCode)
                            .to(Categories::Table, Categories::Code),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_checklist_items_checklist")
                    .table(ChecklistItems::Table)
                    .col(ChecklistItems::ChecklistId)
                    .col(ChecklistItems::Position)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Campaigns::Table)
                    .col(pk_uuid(Campaigns::Id))
                    .col(string_len(Campaigns::Name, 100))
                    .col(string_len(Campaigns::Mode, 20))
                    .col(string_len(Campaigns::Status, 20))
                    .col(date(Campaigns::StartsOn))
                    .col(date(Campaigns::EndsOn))
                    .col(uuid(Campaigns::ChecklistId))
                    .col(text(Campaigns::Plan))
                    .col(text(Campaigns::Inspectors))
                    .col(text(Campaigns::Frame))
                    .col(string_len(Campaigns::FrameSha256, 64))
                    .col(string_len(Campaigns::Seed, 64))
                    .col(string_len(Campaigns::SeedSha256, 64))
                    .col(uuid(Campaigns::CreatedBy))
                    .col(timestamp_with_time_zone(Campaigns::CreatedAt))
                    .col(timestamp_with_time_zone_null(Campaigns::ClosedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Campaigns::Table, Campaigns::ChecklistId)
                            .to(Checklists::Table, Checklists::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Campaigns::Table, Campaigns::CreatedBy)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CampaignSites::Table)
                    .col(uuid(CampaignSites::CampaignId))
                    .col(uuid(CampaignSites::SiteId))
                    .col(uuid(CampaignSites::ScopeAreaId))
                    .col(integer(CampaignSites::DrawOrder))
                    .primary_key(
                        Index::create()
                            .col(CampaignSites::CampaignId)
                            .col(CampaignSites::SiteId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CampaignSites::Table, CampaignSites::CampaignId)
                            .to(Campaigns::Table, Campaigns::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CampaignSites::Table, CampaignSites::SiteId)
                            .to(InspectionSites::Table, InspectionSites::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_campaign_sites_site")
                    .table(CampaignSites::Table)
                    .col(CampaignSites::SiteId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Visits::Table)
                    .col(pk_uuid(Visits::Id))
                    .col(uuid_uniq(Visits::ClientId))
                    .col(string_len(Visits::RequestHash, 64))
                    .col(uuid(Visits::CampaignId))
                    .col(uuid(Visits::SiteId))
                    .col(uuid(Visits::InspectorId))
                    .col(timestamp_with_time_zone(Visits::VisitedAt))
                    .col(text(Visits::Notes))
                    .col(double(Visits::Score))
                    .col(double(Visits::MaxScore))
                    .col(timestamp_with_time_zone(Visits::CreatedAt))
                    .col(timestamp_with_time_zone(Visits::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Visits::Table, Visits::CampaignId)
                            .to(Campaigns::Table, Campaigns::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Visits::Table, Visits::SiteId)
                            .to(InspectionSites::Table, InspectionSites::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Visits::Table, Visits::InspectorId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_visits_campaign_site")
                    .table(Visits::Table)
                    .col(Visits::CampaignId)
                    .col(Visits::SiteId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(VisitScores::Table)
                    .col(uuid(VisitScores::VisitId))
                    .col(uuid(VisitScores::ItemId))
                    .col(double(VisitScores::Score))
                    .col(double(VisitScores::MaxPoints))
                    .col(text(VisitScores::Note))
                    .col(uuid_null(VisitScores::CaseId))
                    .primary_key(
                        Index::create()
                            .col(VisitScores::VisitId)
                            .col(VisitScores::ItemId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(VisitScores::Table, VisitScores::VisitId)
                            .to(Visits::Table, Visits::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(VisitScores::Table, VisitScores::ItemId)
                            .to(ChecklistItems::Table, ChecklistItems::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(Cases::Table)
                    .add_column(uuid_null(Cases::CampaignId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Cases::Table)
                    .add_column(uuid_null(Cases::SiteId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Cases::Table)
                    .add_column(uuid_null(Cases::VisitId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_cases_campaign")
                    .table(Cases::Table)
                    .col(Cases::CampaignId)
                    .to_owned(),
            )
            .await?;

        rebuild_photos(manager, true).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Photos first: visit photos have no case to go back to, and `photos` must stop
        // referring to `visits` before that table goes.
        rebuild_photos(manager, false).await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_cases_campaign")
                    .table(Cases::Table)
                    .to_owned(),
            )
            .await?;
        for column in [Cases::CampaignId, Cases::SiteId, Cases::VisitId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Cases::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for table in [
            VisitScores::Table.into_iden(),
            Visits::Table.into_iden(),
            CampaignSites::Table.into_iden(),
            Campaigns::Table.into_iden(),
            ChecklistItems::Table.into_iden(),
            Checklists::Table.into_iden(),
            InspectionSites::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Copies `photos` into a table where a photo belongs to a case or to a visit
/// (`with_visits`), or back into the case-only table of before (dropping visit photos).
async fn rebuild_photos(manager: &SchemaManager<'_>, with_visits: bool) -> Result<(), DbErr> {
    let mut table = Table::create();
    table.table(PhotosNext::Table).col(pk_uuid(Photos::Id));
    if with_visits {
        table
            .col(uuid_null(Photos::CaseId))
            .col(uuid_null(Photos::VisitId))
            .foreign_key(
                ForeignKey::create()
                    .from(PhotosNext::Table, Photos::VisitId)
                    .to(Visits::Table, Visits::Id),
            );
    } else {
        table.col(uuid(Photos::CaseId));
    }
    manager
        .create_table(
            table
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
                        .from(PhotosNext::Table, Photos::CaseId)
                        .to(Cases::Table, Cases::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(PhotosNext::Table, Photos::UploadedBy)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
    let columns = "id, case_id, kind, sha256, content_type, bytes, width, height, taken_at, \
                   exif_lat, exif_lon, flags, phash, phash_b0, phash_b1, phash_b2, phash_b3, \
                   uploaded_by, created_at";
    manager
        .get_connection()
        .execute_unprepared(&format!(
            "INSERT INTO photos_next ({columns}) SELECT {columns} FROM photos WHERE case_id IS NOT NULL"
        ))
        .await?;
    manager
        .drop_table(Table::drop().table(Photos::Table).to_owned())
        .await?;
    manager
        .rename_table(
            Table::rename()
                .table(PhotosNext::Table, Photos::Table)
                .to_owned(),
        )
        .await?;
    let mut unique = vec![("ux_photos_case_sha256", Photos::CaseId, Photos::Sha256)];
    if with_visits {
        unique.push(("ux_photos_visit_sha256", Photos::VisitId, Photos::Sha256));
    }
    for (name, first, second) in unique {
        manager
            .create_index(
                Index::create()
                    .name(name)
                    .table(Photos::Table)
                    .col(first)
                    .col(second)
                    .unique()
                    .to_owned(),
            )
            .await?;
    }
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

#[derive(DeriveIden)]
enum InspectionSites {
    Table,
    Id,
    Code,
    Name,
    SiteType,
    AreaId,
    Lat,
    Lon,
    Address,
    ShopfrontId,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Checklists {
    Table,
    Id,
    Name,
    Description,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ChecklistItems {
    Table,
    Id,
    ChecklistId,
    Position,
    Title,
    MaxPoints,
    CategoryCode,
}

#[derive(DeriveIden)]
enum Campaigns {
    Table,
    Id,
    Name,
    Mode,
    Status,
    StartsOn,
    EndsOn,
    ChecklistId,
    Plan,
    Inspectors,
    Frame,
    FrameSha256,
    Seed,
    SeedSha256,
    CreatedBy,
    CreatedAt,
    ClosedAt,
}

#[derive(DeriveIden)]
enum CampaignSites {
    Table,
    CampaignId,
    SiteId,
    ScopeAreaId,
    DrawOrder,
}

#[derive(DeriveIden)]
enum Visits {
    Table,
    Id,
    ClientId,
    RequestHash,
    CampaignId,
    SiteId,
    InspectorId,
    VisitedAt,
    Notes,
    Score,
    MaxScore,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum VisitScores {
    Table,
    VisitId,
    ItemId,
    Score,
    MaxPoints,
    Note,
    CaseId,
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
    CampaignId,
    SiteId,
    VisitId,
}

#[derive(DeriveIden)]
enum Photos {
    Table,
    Id,
    CaseId,
    VisitId,
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
enum PhotosNext {
    Table,
}

#[derive(DeriveIden)]
enum Areas {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Shopfronts {
    Table,
    Id,
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
