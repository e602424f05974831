//! Delta sync: a phone keeps what changed in its hands, is told what left, and misses
//! nothing written while it pages.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, spawn_app};

/// A phone's copy: case id → version, and its token.
#[derive(Default)]
struct Phone {
    cases: HashMap<String, i64>,
    token: Option<String>,
}

impl Phone {
    /// Syncs until the phone holds `want`. On PostgreSQL a change shows once every older
    /// transaction of the cluster has ended (other tests' databases included), so it may
    /// take a moment.
    async fn sync_until(
        &mut self,
        app: &TestApp,
        token: &str,
        limit: u32,
        want: &HashMap<String, i64>,
    ) {
        for _ in 0..100 {
            self.sync(app, token, limit).await;
            if &self.cases == want {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(&self.cases, want, "the phone never caught up");
    }

    /// Syncs until done, `limit` cases a page; answers the pages it took.
    async fn sync(&mut self, app: &TestApp, token: &str, limit: u32) -> usize {
        let mut pages = 0;
        loop {
            let mut path = format!("/api/v1/sync?limit={limit}&fields=version");
            if let Some(t) = &self.token {
                path.push_str(&format!("&token={t}"));
            }
            let response = app.get(&path, Some(token)).await;
            assert_eq!(response.status(), 200);
            let page: Value = response.json().await.unwrap();
            pages += 1;
            if page["reset"] == true {
                self.cases.clear();
                self.token = None;
                continue;
            }
            for case in page["cases"].as_array().unwrap() {
                self.cases.insert(
                    case["id"].as_str().unwrap().to_owned(),
                    case["version"].as_i64().unwrap(),
                );
            }
            for id in page["removed"].as_array().unwrap() {
                self.cases.remove(id.as_str().unwrap());
            }
            self.token = Some(page["next_token"].as_str().unwrap().to_owned());
            if page["done"] == true {
                return pages;
            }
        }
    }
}

/// What the user's list shows: id → version.
async fn listed(app: &TestApp, token: &str, query: &str) -> HashMap<String, i64> {
    let list: Value = app
        .get(&format!("/api/v1/reports?limit=200{query}"), Some(token))
        .await
        .json()
        .await
        .unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_owned(),
                c["version"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// Acts on a case as it is now, retrying when another write got there first.
async fn act(app: &TestApp, token: &str, id: &str, action: &str, body: Value) -> u16 {
    for _ in 0..10 {
        let case: Value = app
            .get(&format!("/api/v1/reports/{id}"), Some(token))
            .await
            .json()
            .await
            .unwrap();
        let mut body = body.clone();
        body["version"] = case["version"].clone();
        let response = app
            .post_json(
                &format!("/api/v1/reports/{id}/{action}"),
                Some(token),
                &body,
            )
            .await;
        let status = response.status().as_u16();
        if status != 409 {
            return status;
        }
        let answer: Value = response.json().await.unwrap();
        if answer["error"]["code"] != "version_conflict" {
            return status;
        }
    }
    409
}

#[tokio::test(flavor = "multi_thread")]
async fn a_phone_gets_what_changed_in_its_hands_and_what_left_them() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await.access_token;
    let supervisor = app.login_as("supervisor").await.access_token;
    let (a, b) = (app.create_department().await, app.create_department().await);
    let worker_a = app
        .login_scoped("department", Some(a), None)
        .await
        .access_token;
    let mut filed = Vec::new();
    for _ in 0..5 {
        let case = app.file_report(&inspector, json!({})).await;
        filed.push(case["id"].as_str().unwrap().to_owned());
    }
    // The inspector's phone: its five filings, in pages of 3.
    let mut phone = Phone::default();
    let mine = listed(&app, &inspector, "").await;
    assert_eq!(mine.len(), 5);
    phone.sync_until(&app, &inspector, 3, &mine).await;
    // Nothing changed: one empty page.
    assert_eq!(phone.sync(&app, &inspector, 3).await, 1);
    assert_eq!(phone.cases, mine);

    // The department's phone receives what is assigned to it, and is told when it goes.
    let mut desk = Phone::default();
    desk.sync(&app, &worker_a, 50).await;
    assert!(desk.cases.is_empty());
    for id in &filed[..3] {
        let assigned = act(&app, &supervisor, id, "assign", json!({"department_id": a})).await;
        assert_eq!(assigned, 200);
    }
    let held = listed(&app, &worker_a, "").await;
    assert_eq!(held.len(), 3);
    desk.sync_until(&app, &worker_a, 50, &held).await;
    let moved = act(
        &app,
        &supervisor,
        &filed[0],
        "assign",
        json!({"department_id": b}),
    )
    .await;
    assert_eq!(moved, 200);
    let held = listed(&app, &worker_a, "").await;
    assert_eq!(held.len(), 2);
    assert!(!held.contains_key(&filed[0]));
    desk.sync_until(&app, &worker_a, 50, &held).await;
    // Back again: a case, not a removal.
    let back = act(
        &app,
        &supervisor,
        &filed[0],
        "assign",
        json!({"department_id": a}),
    )
    .await;
    assert_eq!(back, 200);
    let held = listed(&app, &worker_a, "").await;
    desk.sync_until(&app, &worker_a, 50, &held).await;
    // The inspector's phone saw each of those changes as new versions.
    let mine = listed(&app, &inspector, "").await;
    phone.sync_until(&app, &inspector, 3, &mine).await;

    assert_error(
        app.get("/api/v1/sync?token=s1.x..0", Some(&inspector))
            .await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn no_change_is_missed_while_a_phone_pages_under_concurrent_writes() {
    let app = Arc::new(spawn_app().await);
    let inspector = app.login_as("inspector").await.access_token;
    let supervisor = app.login_as("supervisor").await.access_token;
    let (a, b) = (app.create_department().await, app.create_department().await);
    let worker_a = app
        .login_scoped("department", Some(a), None)
        .await
        .access_token;
    let mut ids = Vec::new();
    for _ in 0..24 {
        let id = app.file_report(&inspector, json!({})).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        act(
            &app,
            &supervisor,
            &id,
            "assign",
            json!({"department_id": a}),
        )
        .await;
        ids.push(id);
    }
    let writing = Arc::new(AtomicBool::new(true));
    let mut writers = Vec::new();
    for w in 0..3usize {
        let (app, ids, writing) = (app.clone(), ids.clone(), writing.clone());
        let supervisor = supervisor.clone();
        let worker_a = worker_a.clone();
        writers.push(tokio::spawn(async move {
            let mut n = w;
            while writing.load(Ordering::SeqCst) {
                let id = &ids[(n * 7 + w) % ids.len()];
                match n % 3 {
                    0 => act(&app, &supervisor, id, "assign", json!({"department_id": b})).await,
                    1 => act(&app, &supervisor, id, "assign", json!({"department_id": a})).await,
                    _ => {
                        act(
                            &app,
                            &worker_a,
                            id,
                            "dispute",
                            json!({"note": "不属本部门"}),
                        )
                        .await
                    }
                };
                n += 1;
            }
        }));
    }
    let mut desk = Phone::default();
    let mut rounds = 0;
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(4) {
        desk.sync(&app, &worker_a, 3).await;
        rounds += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    writing.store(false, Ordering::SeqCst);
    for writer in writers {
        writer.await.unwrap();
    }
    assert!(rounds > 5);
    // The phone ends up holding exactly what the department has.
    let truth = listed(&app, &worker_a, "").await;
    desk.sync_until(&app, &worker_a, 3, &truth).await;
}

/// PostgreSQL commits transactions in any order: a write that began first may commit
/// last. The phone must not step past it while it runs. (SQLite has one writer at a time,
/// so there the order of writes is the order of commits.)
#[tokio::test(flavor = "multi_thread")]
async fn a_write_that_commits_after_a_later_one_is_not_skipped() {
    use sea_orm::sea_query::{Expr, ExprTrait};
    use sea_orm::{ColumnTrait, DatabaseBackend, EntityTrait, QueryFilter, TransactionTrait};
    let app = spawn_app().await;
    if app.db.get_database_backend() != DatabaseBackend::Postgres {
        eprintln!("PostgreSQL only: SQLite's writes commit in order");
        return;
    }
    let inspector = app.login_as("inspector").await.access_token;
    let first = app.file_report(&inspector, json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = app.file_report(&inspector, json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut phone = Phone::default();
    let mine = listed(&app, &inspector, "").await;
    phone.sync_until(&app, &inspector, 10, &mine).await;

    // A slow write to the first case begins (and takes its transaction id)…
    let slow = app.db.begin().await.unwrap();
    entity::cases::Entity::update_many()
        .col_expr(entity::cases::Column::Description, Expr::value("慢事务"))
        .col_expr(
            entity::cases::Column::Version,
            Expr::col(entity::cases::Column::Version).add(1),
        )
        .filter(entity::cases::Column::Id.eq(first.parse::<entity::ids::CaseId>().unwrap()))
        .exec(&slow)
        .await
        .unwrap();
    // …a later one to the second case commits first, and the phone syncs meanwhile.
    let supervisor = app.login_as("supervisor").await.access_token;
    let department = app.create_department().await;
    assert_eq!(
        act(
            &app,
            &supervisor,
            &second,
            "assign",
            json!({"department_id": department})
        )
        .await,
        200
    );
    phone.sync(&app, &inspector, 10).await;
    // Then the slow one commits: a later sync brings it.
    slow.commit().await.unwrap();
    let now = listed(&app, &inspector, "").await;
    assert_eq!(now[&first], 2);
    phone.sync_until(&app, &inspector, 10, &now).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_inspector_keeps_its_own_filings_and_a_moved_user_starts_again() {
    let app = spawn_app().await;
    let first = app.login_as("inspector").await.access_token;
    let second = app.login_as("inspector").await.access_token;
    let mut own = HashMap::new();
    for _ in 0..2 {
        let case = app.file_report(&first, json!({})).await;
        own.insert(case["id"].as_str().unwrap().to_owned(), 1);
        app.file_report(&second, json!({})).await;
    }
    // Only its own two (bound to no area, its lists show no more either).
    assert_eq!(listed(&app, &first, "").await.len(), 2);
    let mut phone = Phone::default();
    phone.sync_until(&app, &first, 10, &own).await;

    // A department's phone; then its user is moved to another department.
    let supervisor = app.login_as("supervisor").await.access_token;
    let admin = app.admin().await.access_token;
    let (a, b) = (app.create_department().await, app.create_department().await);
    for (i, id) in own.keys().enumerate() {
        let to = if i == 0 { a } else { b };
        act(
            &app,
            &supervisor,
            id,
            "assign",
            json!({"department_id": to}),
        )
        .await;
    }
    let worker = app.login_scoped("department", Some(a), None).await;
    let mut desk = Phone::default();
    let in_a = listed(&app, &worker.access_token, "").await;
    assert_eq!(in_a.len(), 1);
    desk.sync_until(&app, &worker.access_token, 10, &in_a).await;
    let moved = app
        .patch_json(
            &format!("/api/v1/users/{}", worker.user_id),
            &admin,
            &json!({"role": "department", "department_id": b}),
        )
        .await;
    assert_eq!(moved.status(), 200);
    // Its token is of department A's hands: the phone is told to start again, and then
    // holds department B's case.
    let in_b = listed(&app, &worker.access_token, "").await;
    assert_eq!(in_b.len(), 1);
    assert_ne!(in_a, in_b);
    desk.sync_until(&app, &worker.access_token, 10, &in_b).await;
}
