//! Migrations on a database with data: the inspections migration rebuilds `photos`, so a
//! round trip down and up must keep every case photo.

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::helpers::spawn_app;
use crate::images;

async fn photo_rows(db: &sea_orm::DatabaseConnection) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM photos",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_photos_rebuild_keeps_every_case_photo_down_and_up() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let case = app.file_report(&inspector.access_token, json!({})).await;
    let case_id = case["id"].as_str().unwrap();
    let uploaded: Value = app
        .upload_photos(
            &inspector.access_token,
            case_id,
            "before",
            vec![images::jpeg(320, 240, 1), images::jpeg(320, 240, 2)],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(photo_rows(&app.db).await, 2);

    Migrator::down(&app.db, Some(3)).await.unwrap();
    assert_eq!(photo_rows(&app.db).await, 2, "down keeps case photos");
    Migrator::up(&app.db, None).await.unwrap();
    assert_eq!(photo_rows(&app.db).await, 2, "up keeps them too");

    let shown: Value = app
        .get(
            &format!("/api/v1/reports/{case_id}"),
            Some(&inspector.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["photos"].as_array().unwrap().len(), 2);
    let url = uploaded["items"][0]["thumbnail_url"].as_str().unwrap();
    assert_eq!(
        app.get(url, Some(&inspector.access_token)).await.status(),
        200
    );
    // The same bytes again are still recognised as the stored photo (the unique index is back).
    let again = app
        .upload_photos(
            &inspector.access_token,
            case_id,
            "before",
            vec![images::jpeg(320, 240, 1)],
        )
        .await;
    assert_eq!(again.status(), 200);
}
