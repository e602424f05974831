//! Open311 GeoReport v2: API keys that admins issue to client apps, what a public request
//! carried beyond the case (reporter contact, media link, attribute answers), and the
//! extra questions ("attributes") a category may ask.

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
                    .table(ApiKeys::Table)
                    .col(pk_uuid(ApiKeys::Id))
                    .col(string_len(ApiKeys::Name, 100))
                    .col(string_len_uniq(ApiKeys::KeyHash, 64))
                    .col(string_len(ApiKeys::Prefix, 16))
                    .col(uuid(ApiKeys::CreatedBy))
                    .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::LastUsedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApiKeys::Table, ApiKeys::CreatedBy)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PublicRequests::Table)
                    .col(uuid(PublicRequests::CaseId).primary_key())
                    .col(uuid(PublicRequests::ApiKeyId))
                    .col(string_len_null(PublicRequests::JurisdictionId, 100))
                    .col(string_len(PublicRequests::FirstName, 100))
                    .col(string_len(PublicRequests::LastName, 100))
                    .col(string_len(PublicRequests::Email, 200))
                    .col(string_len(PublicRequests::Phone, 40))
                    .col(string_len(PublicRequests::DeviceId, 100))
                    .col(string_len(PublicRequests::AccountId, 100))
                    .col(string_len(PublicRequests::AddressString, 300))
                    .col(string_len_null(PublicRequests::MediaUrl, 2000))
                    .col(text(PublicRequests::Attributes))
                    .col(timestamp_with_time_zone(PublicRequests::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PublicRequests::Table, PublicRequests::CaseId)
                            .to(Cases::Table, Cases::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(PublicRequests::Table, PublicRequests::ApiKeyId)
                            .to(ApiKeys::Table, ApiKeys::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Categories::Table)
                    .add_column(text(Categories::Attributes).default("[]"))
                    .to_owned(),
            )
            .await?;
        // The parking category asks what is parked, as city apps do.
        let vehicle = r#"[{"code":"vehicle_type","description":"停放的车辆类型 What is parked","datatype":"singlevaluelist","required":true,"datatype_description":"","order":1,"values":[{"key":"car","name":"机动车 Car"},{"key":"ebike","name":"电动自行车 E-bike"},{"key":"shared_bike","name":"共享单车 Shared bike"}]}]"#;
        manager
            .exec_stmt(
                Query::update()
                    .table(Categories::Table)
                    .value(Categories::Attributes, vehicle)
                    .and_where(Expr::col(Categories::Code).eq("parking"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Categories::Table)
                    .drop_column(Categories::Attributes)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(PublicRequests::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ApiKeys::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    Name,
    KeyHash,
    Prefix,
    CreatedBy,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum PublicRequests {
    Table,
    CaseId,
    ApiKeyId,
    JurisdictionId,
    FirstName,
    LastName,
    Email,
    Phone,
    DeviceId,
    AccountId,
    AddressString,
    MediaUrl,
    Attributes,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Categories {
    Table,
    Code,
    Attributes,
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
