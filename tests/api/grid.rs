//! Verification by the grid (核查): a rectification goes to the inspector responsible for
//! the case's grid (or its filer, when the grid has none) with a time limit, and a late
//! one is escalated to supervisors once.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, square};
use crate::images;

/// Files a case at (lat, lon) as `filer`, gives it to a new department, and has that
/// department accept and rectify it with an after photo. Answers the rectified case.
async fn rectified_at(app: &TestApp, filer: &str, lat: f64, lon: f64) -> Value {
    let case = app
        .file_report(filer, json!({"location": {"lat": lat, "lon": lon}}))
        .await;
    let id = case["id"].as_str().unwrap().to_owned();
    let department = app.create_department().await;
    app.force_case(&id, "assigned", Some(department), None)
        .await;
    let worker = app
        .login_scoped("department", Some(department), None)
        .await
        .access_token;
    let act = |action: &'static str, version: i64| {
        let (app, worker, id) = (app, worker.clone(), id.clone());
        async move {
            let response = app
                .post_json(
                    &format!("/api/v1/reports/{id}/{action}"),
                    Some(&worker),
                    &json!({"version": version}),
                )
                .await;
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            assert_eq!(status, 200, "{action}: {body}");
            body
        }
    };
    let accepted = act("accept", 1).await;
    let photo = app
        .upload_photos(&worker, &id, "after", vec![images::jpeg(320, 240, 91)])
        .await;
    assert_eq!(photo.status(), 201);
    act("rectify", accepted["version"].as_i64().unwrap()).await
}

async fn verify(app: &TestApp, token: &str, case: &Value) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/reports/{}/verify", case["id"].as_str().unwrap()),
        Some(token),
        &json!({"version": case["version"]}),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_grids_inspector_verifies_within_the_time_limit_and_late_ones_are_escalated_once() {
    let app = spawn_app().await;
    let district = app
        .create_area(json!({"code": "SC", "name": "上城区", "level": "district",
            "boundary": square(120.16, 30.25, 0.02)}))
        .await;
    let grid = app
        .create_area(json!({"code": "SC-01", "name": "第一网格", "level": "grid",
            "parent_id": district, "boundary": square(120.15, 30.24, 0.003)}))
        .await;
    let grid_inspector = app.login_bound("inspector", &[&grid]).await;
    let filer = app.login_as("inspector").await;
    let supervisor = app.login_as("supervisor").await.access_token;

    // In the grid: the grid's inspector verifies, not the filer.
    let before = chrono::Utc::now();
    let in_grid = rectified_at(&app, &filer.access_token, 30.24, 120.15).await;
    assert_eq!(in_grid["verifier_id"], json!(grid_inspector.user_id));
    let due: chrono::DateTime<chrono::Utc> =
        in_grid["verify_due_at"].as_str().unwrap().parse().unwrap();
    let limit = (due - before).num_minutes();
    assert!((24 * 60 - 1..=24 * 60 + 1).contains(&limit), "{limit} min");
    // The grid's inspector hears of it and finds it in their queue.
    let notices = entity::push_notices::Entity::find()
        .filter(
            entity::push_notices::Column::CaseId.eq(in_grid["id"]
                .as_str()
                .unwrap()
                .parse::<uuid::Uuid>()
                .unwrap()),
        )
        .filter(entity::push_notices::Column::Event.eq("rectified"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(notices.len(), 1);
    assert_eq!(
        notices[0].user_id.map(|u| u.0),
        Some(grid_inspector.user_id)
    );
    let queue: Value = app
        .get("/api/v1/queue", Some(&grid_inspector.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queue["counts"]["to_verify"], 1, "{queue}");
    let filers_queue: Value = app
        .get("/api/v1/queue", Some(&filer.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(filers_queue["counts"]["to_verify"], 0, "{filers_queue}");
    assert_eq!(
        verify(&app, &filer.access_token, &in_grid).await.status(),
        403
    );

    // Outside any grid with an inspector: the filer verifies.
    let elsewhere = rectified_at(&app, &filer.access_token, 30.26, 120.17).await;
    assert_eq!(elsewhere["verifier_id"], json!(filer.user_id));
    assert_eq!(
        verify(&app, &grid_inspector.access_token, &elsewhere)
            .await
            .status(),
        404,
        "not in the grid inspector's patrol"
    );
    assert_eq!(
        verify(&app, &filer.access_token, &elsewhere).await.status(),
        200
    );

    // Nothing is late yet; then the time limit passes and the sweep escalates it, once.
    assert_eq!(
        xuncha::services::notify::sweep_unverified(&app.state)
            .await
            .unwrap(),
        0
    );
    use sea_orm::sea_query::Expr;
    entity::cases::Entity::update_many()
        .col_expr(
            entity::cases::Column::VerifyDueAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::hours(1)),
        )
        .filter(
            entity::cases::Column::Id.eq(in_grid["id"]
                .as_str()
                .unwrap()
                .parse::<uuid::Uuid>()
                .unwrap()),
        )
        .exec(&app.db)
        .await
        .unwrap();
    assert_eq!(
        xuncha::services::notify::sweep_unverified(&app.state)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        xuncha::services::notify::sweep_unverified(&app.state)
            .await
            .unwrap(),
        0,
        "escalated once"
    );
    let triage: Value = app
        .get("/api/v1/queue", Some(&supervisor))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(triage["counts"]["verify_overdue"], 1, "{triage}");
    assert!(
        triage["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == in_grid["id"]),
        "{triage}"
    );
    // A supervisor may take it themselves: sent back, it is no one's to verify any more,
    // and it leaves the queue.
    let rejected = app
        .post_json(
            &format!("/api/v1/reports/{}/reject", in_grid["id"].as_str().unwrap()),
            Some(&supervisor),
            &json!({"version": in_grid["version"], "note": "未清理干净"}),
        )
        .await;
    let rejected: Value = rejected.json().await.unwrap();
    assert_eq!(rejected["status"], "assigned", "{rejected}");
    assert_eq!(rejected["verifier_id"], Value::Null);
    assert_eq!(rejected["verify_due_at"], Value::Null);
    let triage: Value = app
        .get("/api/v1/queue", Some(&supervisor))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(triage["counts"]["verify_overdue"], 0, "{triage}");
}
