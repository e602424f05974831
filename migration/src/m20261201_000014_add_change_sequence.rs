//! A change sequence on cases, for the phones' delta sync (`GET /sync`): every insert and
//! update of a case stamps it, and a case leaving a department's or a shop's hands leaves
//! a row in `case_exits`, so that the phone that kept it is told. Stamped by triggers, so
//! no write can forget it.
//!
//! PostgreSQL stamps the writing transaction's id (`pg_current_xact_id()`): every id
//! below the oldest transaction still running (`pg_snapshot_xmin`) is final, which is how
//! a sync never skips a change committed late. SQLite has one writer at a time, so a
//! counter taken in the write transaction is already in commit order.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES_UP: &str = r#"
ALTER TABLE cases ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX ix_cases_change_seq ON cases (change_seq, id);
CREATE TABLE case_exits (
    case_id UUID NOT NULL,
    department_id UUID NULL,
    shopfront_id UUID NULL,
    change_seq BIGINT NOT NULL
);
CREATE INDEX ix_case_exits_change_seq ON case_exits (change_seq);
CREATE FUNCTION xuncha_case_changed() RETURNS trigger AS $$
BEGIN
    NEW.change_seq := pg_current_xact_id()::text::bigint;
    IF TG_OP = 'UPDATE' THEN
        IF OLD.overseer_department_id IS NOT NULL
           AND OLD.overseer_department_id IS DISTINCT FROM NEW.overseer_department_id THEN
            INSERT INTO case_exits (case_id, department_id, shopfront_id, change_seq)
            VALUES (OLD.id, OLD.overseer_department_id, NULL, NEW.change_seq);
        END IF;
        IF OLD.assignee_shopfront_id IS NOT NULL
           AND OLD.assignee_shopfront_id IS DISTINCT FROM NEW.assignee_shopfront_id THEN
            INSERT INTO case_exits (case_id, department_id, shopfront_id, change_seq)
            VALUES (OLD.id, NULL, OLD.assignee_shopfront_id, NEW.change_seq);
        END IF;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER cases_changed BEFORE INSERT OR UPDATE ON cases
    FOR EACH ROW EXECUTE FUNCTION xuncha_case_changed();
-- Stamps every case already there.
UPDATE cases SET change_seq = change_seq;
"#;

const POSTGRES_DOWN: &str = r#"
DROP TRIGGER cases_changed ON cases;
DROP FUNCTION xuncha_case_changed();
DROP TABLE case_exits;
DROP INDEX ix_cases_change_seq;
ALTER TABLE cases DROP COLUMN change_seq;
"#;

const SQLITE_UP: [&str; 8] = [
    "ALTER TABLE cases ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX ix_cases_change_seq ON cases (change_seq, id)",
    "CREATE TABLE sync_counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)",
    "INSERT INTO sync_counter (id, value) VALUES (1, 0)",
    "CREATE TABLE case_exits (case_id BLOB NOT NULL, department_id BLOB NULL, shopfront_id BLOB NULL, change_seq INTEGER NOT NULL)",
    "CREATE INDEX ix_case_exits_change_seq ON case_exits (change_seq)",
    "CREATE TRIGGER cases_inserted AFTER INSERT ON cases BEGIN
        UPDATE sync_counter SET value = value + 1 WHERE id = 1;
        UPDATE cases SET change_seq = (SELECT value FROM sync_counter WHERE id = 1) WHERE id = NEW.id;
    END",
    "CREATE TRIGGER cases_updated AFTER UPDATE ON cases WHEN NEW.change_seq = OLD.change_seq BEGIN
        UPDATE sync_counter SET value = value + 1 WHERE id = 1;
        UPDATE cases SET change_seq = (SELECT value FROM sync_counter WHERE id = 1) WHERE id = NEW.id;
        INSERT INTO case_exits (case_id, department_id, shopfront_id, change_seq)
            SELECT OLD.id, OLD.overseer_department_id, NULL, value FROM sync_counter
            WHERE id = 1 AND OLD.overseer_department_id IS NOT NULL
              AND OLD.overseer_department_id IS NOT NEW.overseer_department_id;
        INSERT INTO case_exits (case_id, department_id, shopfront_id, change_seq)
            SELECT OLD.id, NULL, OLD.assignee_shopfront_id, value FROM sync_counter
            WHERE id = 1 AND OLD.assignee_shopfront_id IS NOT NULL
              AND OLD.assignee_shopfront_id IS NOT NEW.assignee_shopfront_id;
    END",
];

const SQLITE_DOWN: [&str; 6] = [
    "DROP TRIGGER cases_updated",
    "DROP TRIGGER cases_inserted",
    "DROP TABLE case_exits",
    "DROP TABLE sync_counter",
    "DROP INDEX ix_cases_change_seq",
    "ALTER TABLE cases DROP COLUMN change_seq",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(POSTGRES_UP).await?;
            }
            _ => {
                for statement in SQLITE_UP {
                    db.execute_unprepared(statement).await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(POSTGRES_DOWN).await?;
            }
            _ => {
                for statement in SQLITE_DOWN {
                    db.execute_unprepared(statement).await?;
                }
            }
        }
        Ok(())
    }
}
