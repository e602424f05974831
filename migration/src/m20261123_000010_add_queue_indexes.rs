//! Indexes that the load test over a million cases asked for: lists filtered by status and
//! sorted by deadline; a department's or a shop's
//! queue (assignee, status, deadline; with `suspended_at` the overdue count reads the
//! index alone), the shops a department oversees, an inspector's cases by status, and the
//! recurrences of a case.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: [(&str, &str, &[&str]); 6] = [
    // Lists of some statuses by deadline, asked a status at a time.
    (
        "ix_cases_status_deadline",
        "cases",
        &["status", "deadline_at", "id"],
    ),
    (
        "ix_cases_department_status",
        "cases",
        &[
            "assignee_department_id",
            "status",
            "deadline_at",
            "suspended_at",
        ],
    ),
    (
        "ix_cases_shopfront_status",
        "cases",
        &[
            "assignee_shopfront_id",
            "status",
            "deadline_at",
            "suspended_at",
        ],
    ),
    (
        "ix_cases_reporter_status",
        "cases",
        &["reporter_id", "status"],
    ),
    ("ix_cases_recurrence_of", "cases", &["recurrence_of"]),
    ("ix_shopfronts_department", "shopfronts", &["department_id"]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, columns) in INDEXES {
            let mut index = Index::create();
            index.name(name).table(Alias::new(table));
            for column in columns {
                index.col(Alias::new(*column));
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in INDEXES {
            manager
                .drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
