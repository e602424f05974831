//! Direct uploads: a photo a phone sends straight to the object store through presigned
//! URLs (one, or one per part of a multipart upload so that a cut link resumes from its
//! last part), then finalizes. The row says what the phone declared it would send, so the
//! finalize can check the object, and when an unfinished one expires.

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
                    .table(DirectUploads::Table)
                    .col(uuid(DirectUploads::Id).primary_key())
                    .col(uuid(DirectUploads::UserId))
                    .col(uuid(DirectUploads::CaseId))
                    .col(string_len(DirectUploads::Kind, 20))
                    .col(big_integer(DirectUploads::Size))
                    .col(string_len(DirectUploads::Sha256, 64))
                    .col(timestamp_with_time_zone_null(DirectUploads::TakenAt))
                    .col(string_len(DirectUploads::ObjectKey, 200))
                    .col(string_len_null(DirectUploads::MultipartId, 1024))
                    .col(timestamp_with_time_zone_null(DirectUploads::JoinedAt))
                    .col(timestamp_with_time_zone_null(DirectUploads::FinishingUntil))
                    .col(uuid_null(DirectUploads::PhotoId))
                    .col(timestamp_with_time_zone(DirectUploads::CreatedAt))
                    .col(timestamp_with_time_zone(DirectUploads::ExpiresAt))
                    .col(timestamp_with_time_zone_null(DirectUploads::FinishedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(DirectUploads::Table, DirectUploads::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(DirectUploads::Table, DirectUploads::CaseId)
                            .to(Cases::Table, Cases::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_direct_uploads_user")
                    .table(DirectUploads::Table)
                    .col(DirectUploads::UserId)
                    .col(DirectUploads::FinishedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_direct_uploads_expires_at")
                    .table(DirectUploads::Table)
                    .col(DirectUploads::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DirectUploads::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum DirectUploads {
    Table,
    Id,
    UserId,
    CaseId,
    Kind,
    Size,
    Sha256,
    TakenAt,
    ObjectKey,
    MultipartId,
    JoinedAt,
    FinishingUntil,
    PhotoId,
    CreatedAt,
    ExpiresAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
}
