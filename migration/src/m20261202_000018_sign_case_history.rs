//! Evidence a rewrite cannot hide: every case event carries an Ed25519 signature of its
//! hash made with a key kept outside the database, and a daily digest of the heads of the
//! chains that moved that day is signed and published for auditors to keep elsewhere.
//! `evidence_digest_heads` indexes the digests by case, for the chain check.

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
            .alter_table(
                Table::alter()
                    .table(CaseEvents::Table)
                    .add_column(ColumnDef::new(CaseEvents::Signature).text().null())
                    .to_owned(),
            )
            .await?;
        // The daily seal reads one day's events.
        manager
            .create_index(
                Index::create()
                    .name("idx_case_events_created_at")
                    .table(CaseEvents::Table)
                    .col(CaseEvents::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EvidenceDigests::Table)
                    .col(date(EvidenceDigests::Day).primary_key())
                    .col(text(EvidenceDigests::Body))
                    .col(string_len(EvidenceDigests::BodySha256, 64))
                    .col(text(EvidenceDigests::Signature))
                    .col(integer(EvidenceDigests::Heads))
                    .col(timestamp_with_time_zone(EvidenceDigests::CreatedAt))
                    .col(timestamp_with_time_zone_null(EvidenceDigests::PublishedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EvidenceDigestHeads::Table)
                    .col(uuid(EvidenceDigestHeads::CaseId))
                    .col(date(EvidenceDigestHeads::Day))
                    .col(integer(EvidenceDigestHeads::Seq))
                    .col(string_len(EvidenceDigestHeads::Hash, 64))
                    .primary_key(
                        Index::create()
                            .col(EvidenceDigestHeads::CaseId)
                            .col(EvidenceDigestHeads::Day),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(EvidenceDigestHeads::Table, EvidenceDigestHeads::Day)
                            .to(EvidenceDigests::Table, EvidenceDigests::Day)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(EvidenceDigestHeads::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(EvidenceDigests::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_case_events_created_at")
                    .table(CaseEvents::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(CaseEvents::Table)
                    .drop_column(CaseEvents::Signature)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum CaseEvents {
    Table,
    Signature,
    CreatedAt,
}

#[derive(DeriveIden)]
enum EvidenceDigests {
    Table,
    Day,
    Body,
    BodySha256,
    Signature,
    Heads,
    CreatedAt,
    PublishedAt,
}

#[derive(DeriveIden)]
enum EvidenceDigestHeads {
    Table,
    CaseId,
    Day,
    Seq,
    Hash,
}
