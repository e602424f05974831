//! The area tree (minimal; the registry grows it) and the case categories, seeded with the
//! ten disorders (十乱) exactly as the campaign documents name them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (code, 名称, English name, falls to a shop inside its frontage zone, default deadline in hours)
const TEN_DISORDERS: [(&str, &str, &str, bool, i32); 10] = [
    (
        "posting_graffiti",
        "乱贴乱画",
        "Posters, small ads and graffiti",
        true,
        24,
    ),
    (
        "splashing_dumping",
        "乱泼乱倒",
        "Pouring waste water and dumping liquids",
        true,
        24,
    ),
    (
        "wires_banners",
        "乱拉乱挂",
        "Stringing wires, hanging banners or laundry",
        true,
        48,
    ),
    (
        "illegal_building",
        "乱搭乱建",
        "Unauthorised structures and sheds",
        false,
        168,
    ),
    (
        "parking",
        "乱停乱放",
        "Illegal parking of cars, e-bikes and shared bikes",
        true,
        4,
    ),
    (
        "stall_occupation",
        "乱摆乱占",
        "Street vending, goods and tables on the pavement",
        true,
        4,
    ),
    (
        "littering_dumping",
        "乱扔乱倒",
        "Litter, household or construction waste",
        true,
        12,
    ),
    (
        "spitting_littering",
        "乱吐乱扔",
        "Spitting and throwing things",
        false,
        24,
    ),
    (
        "jaywalking",
        "乱穿乱行",
        "Jaywalking and riding against traffic",
        false,
        24,
    ),
    (
        "animals_planting",
        "乱养乱种",
        "Keeping poultry or livestock, planting crops on public land",
        false,
        72,
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Areas::Table)
                    .col(pk_uuid(Areas::Id))
                    .col(string_uniq(Areas::Code))
                    .col(string(Areas::Name))
                    .col(string(Areas::Level))
                    .col(uuid_null(Areas::ParentId))
                    .col(text_null(Areas::Boundary))
                    .col(timestamp_with_time_zone(Areas::CreatedAt))
                    .col(timestamp_with_time_zone(Areas::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Areas::Table, Areas::ParentId)
                            .to(Areas::Table, Areas::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Categories::Table)
                    .col(string(Categories::Code).primary_key())
                    .col(string(Categories::NameZh))
                    .col(string(Categories::NameEn))
                    .col(boolean(Categories::Frontage))
                    .col(integer(Categories::DeadlineHours))
                    .col(boolean(Categories::Active).default(true))
                    .col(timestamp_with_time_zone(Categories::CreatedAt))
                    .col(timestamp_with_time_zone(Categories::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        let now = chrono::Utc::now();
        let mut seed = Query::insert();
        seed.into_table(Categories::Table).columns([
            Categories::Code,
            Categories::NameZh,
            Categories::NameEn,
            Categories::Frontage,
            Categories::DeadlineHours,
            Categories::Active,
            Categories::CreatedAt,
            Categories::UpdatedAt,
        ]);
        for (code, name_zh, name_en, frontage, hours) in TEN_DISORDERS {
            seed.values_panic([
                code.into(),
                name_zh.into(),
                name_en.into(),
                frontage.into(),
                hours.into(),
                true.into(),
                now.into(),
                now.into(),
            ]);
        }
        manager.exec_stmt(seed).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Categories::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Areas::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Areas {
    Table,
    Id,
    Code,
    Name,
    Level,
    ParentId,
    Boundary,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Categories {
    Table,
    Code,
    NameZh,
    NameEn,
    Frontage,
    DeadlineHours,
    Active,
    CreatedAt,
    UpdatedAt,
}
