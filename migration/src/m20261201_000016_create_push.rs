//! Web Push: each device's subscription (its push service endpoint and keys, one user's at
//! a time) and a two-stage outbox. A notice (a case event for a department, a shop or a
//! person) is written in the statement or transaction that changes the case, with no read
//! of who is subscribed; a fan-out turns it into one delivery per device, and deliveries go
//! when their subscription goes.

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
                    .table(PushSubscriptions::Table)
                    .col(pk_uuid(PushSubscriptions::Id))
                    .col(uuid(PushSubscriptions::UserId))
                    .col(text(PushSubscriptions::Endpoint).unique_key())
                    .col(string_len(PushSubscriptions::P256dh, 100))
                    .col(string_len(PushSubscriptions::Auth, 32))
                    .col(timestamp_with_time_zone_null(PushSubscriptions::ExpiresAt))
                    .col(timestamp_with_time_zone(PushSubscriptions::CreatedAt))
                    .col(timestamp_with_time_zone_null(
                        PushSubscriptions::LastSuccessAt,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PushSubscriptions::Table, PushSubscriptions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_push_subscriptions_user")
                    .table(PushSubscriptions::Table)
                    .col(PushSubscriptions::UserId)
                    .col(PushSubscriptions::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PushDeliveries::Table)
                    .col(pk_uuid(PushDeliveries::Id))
                    .col(uuid(PushDeliveries::SubscriptionId))
                    .col(uuid(PushDeliveries::CaseId))
                    .col(string_len(PushDeliveries::Event, 20))
                    .col(text(PushDeliveries::Payload))
                    .col(integer(PushDeliveries::Attempts).default(0))
                    .col(timestamp_with_time_zone(PushDeliveries::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(PushDeliveries::LockedUntil))
                    .col(timestamp_with_time_zone_null(PushDeliveries::DeliveredAt))
                    .col(text_null(PushDeliveries::LastError))
                    .col(timestamp_with_time_zone(PushDeliveries::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PushDeliveries::Table, PushDeliveries::SubscriptionId)
                            .to(PushSubscriptions::Table, PushSubscriptions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            (
                "idx_push_deliveries_due",
                [PushDeliveries::DeliveredAt, PushDeliveries::NextAttemptAt].as_slice(),
            ),
            // A removed subscription's deliveries go with it (the cascade finds them here).
            (
                "idx_push_deliveries_subscription",
                [PushDeliveries::SubscriptionId].as_slice(),
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(PushDeliveries::Table);
            for column in columns {
                index.col(column.clone());
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(PushNotices::Table)
                    .col(pk_uuid(PushNotices::Id))
                    .col(uuid(PushNotices::CaseId))
                    .col(string_len(PushNotices::Event, 20))
                    // Exactly one of the three names who is told.
                    .col(uuid_null(PushNotices::DepartmentId))
                    .col(uuid_null(PushNotices::ShopfrontId))
                    .col(uuid_null(PushNotices::UserId))
                    // Whoever caused the event is not told of it.
                    .col(uuid_null(PushNotices::ActorId))
                    .col(timestamp_with_time_zone(PushNotices::NotBefore))
                    .col(timestamp_with_time_zone(PushNotices::CreatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_push_notices_due", PushNotices::NotBefore),
            // A held case's notices are moved forward when it is dispatched.
            ("idx_push_notices_case", PushNotices::CaseId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(PushNotices::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PushNotices::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(PushDeliveries::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(PushSubscriptions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone)]
enum PushSubscriptions {
    Table,
    Id,
    UserId,
    Endpoint,
    P256dh,
    Auth,
    ExpiresAt,
    CreatedAt,
    LastSuccessAt,
}

#[derive(DeriveIden, Clone)]
enum PushDeliveries {
    Table,
    Id,
    SubscriptionId,
    CaseId,
    Event,
    Payload,
    Attempts,
    NextAttemptAt,
    LockedUntil,
    DeliveredAt,
    LastError,
    CreatedAt,
}

#[derive(DeriveIden, Clone)]
enum PushNotices {
    Table,
    Id,
    CaseId,
    Event,
    DepartmentId,
    ShopfrontId,
    UserId,
    ActorId,
    NotBefore,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
