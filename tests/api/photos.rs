//! Photo evidence: formats, limits, derived images, EXIF checks, reuse flags, storage.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, assert_error, spawn_app, square};
use crate::images::{self, Exif};

async fn case_by(app: &TestApp, token: &str) -> String {
    let case = app.file_report(token, json!({})).await;
    case["id"].as_str().unwrap().to_owned()
}

async fn upload_one(app: &TestApp, token: &str, case_id: &str, bytes: Vec<u8>) -> Value {
    let response = app
        .upload_photos(token, case_id, "before", vec![bytes])
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    body["items"][0].clone()
}

fn flags(photo: &Value) -> Vec<&str> {
    photo["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_jpeg_is_stored_whole_with_a_preview_and_a_thumbnail() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let token = &inspector.access_token;
    let case_id = case_by(&app, token).await;
    let original = images::jpeg(2000, 1500, 1);
    let photo = upload_one(&app, token, &case_id, original.clone()).await;
    assert_eq!(photo["kind"], "before");
    assert_eq!(photo["content_type"], "image/jpeg");
    assert_eq!(
        (photo["width"].as_i64(), photo["height"].as_i64()),
        (Some(2000), Some(1500))
    );
    assert_eq!(photo["sha256"], hex::encode(Sha256::digest(&original)));
    assert!(flags(&photo).is_empty(), "{photo}");

    let stored = app
        .get(photo["original_url"].as_str().unwrap(), Some(token))
        .await;
    assert_eq!(stored.status(), 200);
    assert_eq!(stored.headers()["content-type"], "image/jpeg");
    assert!(
        stored.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert_eq!(
        stored.bytes().await.unwrap().as_ref(),
        original.as_slice(),
        "the original is untouched"
    );

    for (url, side) in [("preview_url", 1280), ("thumbnail_url", 320)] {
        let response = app.get(photo[url].as_str().unwrap(), Some(token)).await;
        assert_eq!(response.headers()["content-type"], "image/jpeg");
        let image = image::load_from_memory(&response.bytes().await.unwrap()).unwrap();
        assert_eq!(image.width(), side, "{url}");
    }

    let detail: Value = app
        .get(&format!("/api/v1/reports/{case_id}"), Some(token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["photos"][0]["id"], photo["id"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn photos_answer_304_to_their_etag() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let token = &inspector.access_token;
    let case_id = case_by(&app, token).await;
    let photo = upload_one(&app, token, &case_id, images::jpeg(400, 300, 2)).await;
    let url = app.url(photo["thumbnail_url"].as_str().unwrap());
    let first = app
        .client
        .get(&url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let second = app
        .client
        .get(&url)
        .bearer_auth(token)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 304);
    assert!(second.bytes().await.unwrap().is_empty());
    let other = app
        .client
        .get(&url)
        .bearer_auth(token)
        .header("if-none-match", "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn png_and_webp_are_accepted_from_their_bytes() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let token = &inspector.access_token;
    let case_id = case_by(&app, token).await;
    let response = app
        .upload_photos(
            token,
            &case_id,
            "before",
            vec![images::png(300, 200, 3), images::webp(300, 200, 4)],
        )
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    let types: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["content_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, vec!["image/png", "image/webp"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn heic_text_and_gif_are_refused_with_415() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let token = &inspector.access_token;
    let case_id = case_by(&app, token).await;
    let mut heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
    heic.extend(vec![0u8; 1000]);
    let body = assert_error(
        app.upload_photos(token, &case_id, "before", vec![heic])
            .await,
        415,
        "unsupported_media_type",
    )
    .await;
    assert!(body["error"]["message"].as_str().unwrap().contains("HEIC"));
    let text = b"this is not a photo, whatever its name says".to_vec();
    assert_error(
        app.upload_photos(token, &case_id, "before", vec![text])
            .await,
        415,
        "unsupported_media_type",
    )
    .await;
    assert_error(
        app.upload_photos(
            token,
            &case_id,
            "before",
            vec![b"GIF89a\x01\0\x01\0".to_vec()],
        )
        .await,
        415,
        "unsupported_media_type",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn truncated_bombs_and_oversized_uploads_get_clean_4xx() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let token = &inspector.access_token;
    let case_id = case_by(&app, token).await;
    let whole = images::jpeg(800, 600, 5);
    let truncated = whole[..whole.len() / 2].to_vec();
    assert_error(
        app.upload_photos(token, &case_id, "before", vec![truncated])
            .await,
        422,
        "invalid_image",
    )
    .await;
    let body = assert_error(
        app.upload_photos(
            token,
            &case_id,
            "before",
            vec![images::png_claiming(100_000, 100_000)],
        )
        .await,
        422,
        "image_too_large",
    )
    .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("100000x100000")
    );
    let huge = vec![0xFFu8; 25 * 1024 * 1024];
    assert_error(
        app.upload_photos(token, &case_id, "before", vec![huge])
            .await,
        413,
        "payload_too_large",
    )
    .await;
    // Nothing was stored by any of them.
    let detail: Value = app
        .get(&format!("/api/v1/reports/{case_id}"), Some(token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["photos"].as_array().unwrap().len(), 0);
    assert!(app.store().list("photos/").await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_orientation_6_photo_gets_an_upright_thumbnail() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let token = &inspector.access_token;
    let case_id = case_by(&app, token).await;
    // Stored landscape, left half red, right half blue; orientation 6 means "rotate 90° clockwise to view".
    let sideways = image::RgbImage::from_fn(640, 320, |x, _| {
        if x < 320 {
            image::Rgb([230, 20, 20])
        } else {
            image::Rgb([20, 20, 230])
        }
    });
    let bytes = images::with_exif(
        &images::jpeg_of(&sideways, 90),
        &Exif {
            orientation: Some(6),
            ..Default::default()
        },
    );
    let photo = upload_one(&app, token, &case_id, bytes).await;
    assert_eq!(
        (photo["width"].as_i64(), photo["height"].as_i64()),
        (Some(320), Some(640))
    );
    let thumb = app
        .get(photo["thumbnail_url"].as_str().unwrap(), Some(token))
        .await
        .bytes()
        .await
        .unwrap();
    let thumb = image::load_from_memory(&thumb).unwrap().to_rgb8();
    assert_eq!(thumb.dimensions(), (160, 320), "portrait after rotation");
    let top = thumb.get_pixel(80, 20);
    let bottom = thumb.get_pixel(80, 300);
    assert!(top[0] > 180 && top[2] < 80, "top is red: {top:?}");
    assert!(
        bottom[2] > 180 && bottom[0] < 80,
        "bottom is blue: {bottom:?}"
    );
    // Metadata is stripped from what is derived.
    let preview = app
        .get(photo["preview_url"].as_str().unwrap(), Some(token))
        .await
        .bytes()
        .await
        .unwrap();
    assert!(!preview.windows(4).any(|w| w == b"Exif"));
}

#[tokio::test(flavor = "multi_thread")]
async fn far_away_and_old_photos_are_flagged_not_refused() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let token = &inspector.access_token;
    let case_id = case_by(&app, token).await; // at 30.25, 120.16
    let city_now = (chrono::Utc::now() + chrono::Duration::hours(8))
        .format("%Y:%m:%d %H:%M:%S")
        .to_string();
    let three_days_ago = (chrono::Utc::now() - chrono::Duration::days(3))
        .format("%Y:%m:%d %H:%M:%S")
        .to_string();

    let near_and_fresh = images::with_exif(
        &images::jpeg(400, 300, 10),
        &Exif {
            gps: Some((30.2501, 120.1601)),
            taken_at: Some(city_now),
            ..Default::default()
        },
    );
    assert!(flags(&upload_one(&app, token, &case_id, near_and_fresh).await).is_empty());

    let far = images::with_exif(
        &images::jpeg(400, 300, 11),
        &Exif {
            gps: Some((30.2600, 120.1600)),
            ..Default::default()
        },
    );
    assert_eq!(
        flags(&upload_one(&app, token, &case_id, far).await),
        vec!["gps_far_from_case"]
    );

    let old = images::with_exif(
        &images::jpeg(400, 300, 12),
        &Exif {
            taken_at: Some(three_days_ago),
            offset: Some("+00:00".into()),
            ..Default::default()
        },
    );
    let photo = upload_one(&app, token, &case_id, old).await;
    assert_eq!(flags(&photo), vec!["taken_long_before_filing"]);
    assert!(photo["taken_at"].is_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_or_a_near_identical_photo_on_another_case_is_flagged() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let token = &inspector.access_token;
    let first_case = case_by(&app, token).await;
    let second_case = case_by(&app, token).await;
    let picture = images::picture(800, 600, 7);
    let bytes = images::jpeg_of(&picture, 90);
    assert!(flags(&upload_one(&app, token, &first_case, bytes.clone()).await).is_empty());
    assert_eq!(
        flags(&upload_one(&app, token, &second_case, bytes).await),
        vec!["same_photo_on_other_case"]
    );

    // Re-encoded smaller at another quality: other bytes, the same picture.
    let resized =
        image::imageops::resize(&picture, 600, 450, image::imageops::FilterType::Triangle);
    let third_case = case_by(&app, token).await;
    assert_eq!(
        flags(&upload_one(&app, token, &third_case, images::jpeg_of(&resized, 70)).await),
        vec!["similar_photo_on_other_case"]
    );

    // A different picture is not similar.
    let fourth_case = case_by(&app, token).await;
    assert!(
        flags(&upload_one(&app, token, &fourth_case, images::jpeg(800, 600, 8)).await).is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_photo_posted_twice_to_a_case_is_stored_once() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let token = &inspector.access_token;
    let case_id = case_by(&app, token).await;
    let bytes = images::jpeg(500, 400, 9);
    let first = upload_one(&app, token, &case_id, bytes.clone()).await;
    let again = app
        .upload_photos(token, &case_id, "before", vec![bytes.clone(), bytes])
        .await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["items"][0]["id"], first["id"]);
    assert_eq!(again["items"][1]["id"], first["id"]);
    assert_eq!(
        app.store().list("photos/").await.unwrap().len(),
        3,
        "one original, one preview, one thumbnail"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_case_takes_nine_photos_of_a_kind() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let token = &inspector.access_token;
    let case_id = case_by(&app, token).await;
    let nine: Vec<Vec<u8>> = (0..9).map(|i| images::jpeg(64 + i, 48, i)).collect();
    let response = app.upload_photos(token, &case_id, "before", nine).await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    let ids: std::collections::HashSet<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 9);
    let tenth = app
        .upload_photos(token, &case_id, "before", vec![images::jpeg(80, 48, 0)])
        .await;
    assert_error(tenth, 422, "photo_limit_reached").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn who_adds_which_kind_follows_the_life_cycle() {
    let app = spawn_app().await;
    let district = app
        .create_area(json!({"code": "SC", "name": "上城区", "level": "district",
            "boundary": square(120.16, 30.25, 0.05)}))
        .await;
    let inspector = app.login_as("inspector").await;
    let patrolling = app.login_bound("inspector", &[&district]).await;
    let stranger = app.login_as("inspector").await;
    let department = app.create_department().await;
    let worker = app.login_scoped("department", Some(department), None).await;
    let case_id = case_by(&app, &inspector.access_token).await;
    let photo = || vec![images::jpeg(64 + next_size(), 48, 0)];

    // Another inspector patrolling the district sees the case but adds no before photo
    // to it; one who patrols elsewhere does not even see it.
    assert_error(
        app.upload_photos(&patrolling.access_token, &case_id, "before", photo())
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        app.upload_photos(&stranger.access_token, &case_id, "before", photo())
            .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.upload_photos(&inspector.access_token, &case_id, "after", photo())
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        app.upload_photos(&inspector.access_token, &case_id, "verification", photo())
            .await,
        409,
        "conflict",
    )
    .await;
    // The department cannot see an unassigned case at all.
    assert_error(
        app.upload_photos(&worker.access_token, &case_id, "after", photo())
            .await,
        404,
        "not_found",
    )
    .await;

    app.force_case(&case_id, "in_progress", Some(department), None)
        .await;
    assert_eq!(
        app.upload_photos(&worker.access_token, &case_id, "after", photo())
            .await
            .status(),
        201
    );
    app.force_case(&case_id, "rectified", Some(department), None)
        .await;
    assert_eq!(
        app.upload_photos(&inspector.access_token, &case_id, "verification", photo())
            .await
            .status(),
        201
    );
    app.force_case(&case_id, "closed", Some(department), None)
        .await;
    assert_error(
        app.upload_photos(&inspector.access_token, &case_id, "before", photo())
            .await,
        409,
        "conflict",
    )
    .await;

    let missing_kind = app
        .upload_photos(&inspector.access_token, &case_id, "sideways", photo())
        .await;
    assert_error(missing_kind, 422, "validation_failed").await;
}

/// A new width per call, so every photo's bytes differ.
fn next_size() -> u32 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

#[tokio::test(flavor = "multi_thread")]
async fn storage_down_during_an_upload_is_503_and_leaves_nothing() {
    let mut app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let token = &inspector.access_token;
    let case_id = case_by(&app, token).await;
    let before: Value = app
        .get(&format!("/api/v1/reports/{case_id}"), Some(token))
        .await
        .json()
        .await
        .unwrap();
    let Some(store) = app.embedded_store.take() else {
        return; // an external store is not ours to stop
    };
    store.stop().await;
    let response = app
        .upload_photos(token, &case_id, "before", vec![images::jpeg(300, 200, 20)])
        .await;
    assert_error(response, 503, "storage_unavailable").await;
    use sea_orm::{EntityTrait, PaginatorTrait};
    assert_eq!(
        entity::photos::Entity::find().count(&app.db).await.unwrap(),
        0
    );
    let after: Value = app
        .get(&format!("/api/v1/reports/{case_id}"), Some(token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["updated_at"], before["updated_at"]);
    assert_eq!(after["version"], before["version"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sweep_removes_objects_no_row_points_to() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let token = &inspector.access_token;
    let case_id = case_by(&app, token).await;
    let kept = upload_one(&app, token, &case_id, images::jpeg(300, 200, 30)).await;
    let orphan = xuncha::storage::ObjectKey::photo(
        case_id.parse().unwrap(),
        entity::ids::PhotoId::now_v7(),
        xuncha::storage::Rendition::Original,
    );
    app.store()
        .put(&orphan, vec![1, 2, 3].into(), "image/jpeg")
        .await
        .unwrap();

    // Young orphans may be uploads in flight: left alone.
    let deleted = xuncha::services::photos::sweep_orphans(&app.state, chrono::Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(deleted, 0);
    let deleted =
        xuncha::services::photos::sweep_orphans(&app.state, chrono::Duration::seconds(-5))
            .await
            .unwrap();
    assert_eq!(deleted, 1);
    let keys = app.store().list("photos/").await.unwrap();
    assert_eq!(keys.len(), 3);
    assert!(
        keys.iter()
            .all(|k| k.contains(kept["id"].as_str().unwrap()))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_that_are_not_multipart_are_415() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let case_id = case_by(&app, &inspector.access_token).await;
    let response = app
        .post_json(
            &format!("/api/v1/reports/{case_id}/photos"),
            Some(&inspector.access_token),
            &json!({"kind": "before"}),
        )
        .await;
    assert_error(response, 415, "unsupported_media_type").await;
}

/// A refused file is named by its place in the request, whatever files before it were
/// already on the case.
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_file_is_named_by_its_place_in_the_request() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let token = &inspector.access_token;
    let case_id = case_by(&app, token).await;
    let stored = images::jpeg(320, 240, 11);
    let response = app
        .upload_photos(token, &case_id, "before", vec![stored.clone()])
        .await;
    assert_eq!(response.status(), 201);
    let damaged = images::jpeg(320, 240, 12);
    let damaged = damaged[..damaged.len() / 2].to_vec();
    let body = assert_error(
        app.upload_photos(token, &case_id, "before", vec![stored, damaged])
            .await,
        422,
        "invalid_image",
    )
    .await;
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("File 2:"), "{message}");
}

fn exif_time(at: chrono::DateTime<chrono::Utc>) -> Exif {
    Exif {
        taken_at: Some(at.format("%Y:%m:%d %H:%M:%S").to_string()),
        offset: Some("+00:00".into()),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_case_synced_the_next_day_does_not_flag_its_honest_photos() {
    let app = spawn_app().await;
    let token = &app.login_as("inspector").await.access_token;
    // Seen and photographed yesterday, filed today when the phone found a network.
    let seen = chrono::Utc::now() - chrono::Duration::hours(26);
    let case = app
        .file_report(token, json!({"observed_at": seen.to_rfc3339()}))
        .await;
    let case_id = case["id"].as_str().unwrap();
    let honest = images::with_exif(&images::jpeg(400, 300, 21), &exif_time(seen));
    assert!(flags(&upload_one(&app, token, case_id, honest).await).is_empty());
    // Three days before the problem was seen is still an old photo.
    let old = images::with_exif(
        &images::jpeg(400, 300, 22),
        &exif_time(seen - chrono::Duration::days(3)),
    );
    assert_eq!(
        flags(&upload_one(&app, token, case_id, old).await),
        vec!["taken_long_before_filing"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_before_photo_queued_while_the_case_moved_on_is_still_taken() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await.access_token;
    let supervisor = app.login_as("supervisor").await.access_token;
    let department = app.create_department().await;
    let worker = app
        .login_scoped("department", Some(department), None)
        .await
        .access_token;
    let taken = chrono::Utc::now() - chrono::Duration::minutes(5);
    let case = app.file_report(&inspector, json!({})).await;
    let case_id = case["id"].as_str().unwrap().to_owned();
    // While the inspector's phone is offline, the case is assigned, accepted and rectified.
    let act = |token: String, action: &'static str, body: Value| {
        let app = &app;
        let case_id = case_id.clone();
        async move {
            let case: Value = app
                .get(&format!("/api/v1/reports/{case_id}"), Some(&token))
                .await
                .json()
                .await
                .unwrap();
            let mut body = body;
            body["version"] = case["version"].clone();
            let response = app
                .post_json(
                    &format!("/api/v1/reports/{case_id}/{action}"),
                    Some(&token),
                    &body,
                )
                .await;
            assert_eq!(response.status(), 200, "{action}");
        }
    };
    act(
        supervisor.clone(),
        "assign",
        json!({"department_id": department}),
    )
    .await;
    act(worker.clone(), "accept", json!({})).await;
    let after = app
        .upload_photos(&worker, &case_id, "after", vec![images::jpeg(320, 240, 31)])
        .await;
    assert_eq!(after.status(), 201);
    let after: Value = after.json().await.unwrap();
    act(
        worker.clone(),
        "rectify",
        json!({"photo_ids": [after["items"][0]["id"]]}),
    )
    .await;

    // The phone comes back: its before photo, taken before any of that, is taken.
    let queued = images::with_exif(&images::jpeg(400, 300, 32), &exif_time(taken));
    assert_eq!(
        upload_one(&app, &inspector, &case_id, queued).await["kind"],
        "before"
    );

    // One taken after the case moved on is not before-evidence; nor one that does not say.
    let later = images::with_exif(
        &images::jpeg(400, 300, 33),
        &exif_time(chrono::Utc::now() + chrono::Duration::minutes(1)),
    );
    let refused = app
        .upload_photos(&inspector, &case_id, "before", vec![later])
        .await;
    let body = assert_error(refused, 409, "conflict").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("before")
    );
    let silent = app
        .upload_photos(
            &inspector,
            &case_id,
            "before",
            vec![images::jpeg(400, 300, 34)],
        )
        .await;
    assert_error(silent, 409, "conflict").await;

    // The phone may say when it took a photo whose EXIF does not.
    let form = reqwest::multipart::Form::new()
        .text("kind", "before")
        .text("taken_at", taken.to_rfc3339())
        .part(
            "file",
            reqwest::multipart::Part::bytes(images::jpeg(400, 300, 35))
                .file_name("p.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        );
    let stated = app
        .client
        .post(app.url(&format!("/api/v1/reports/{case_id}/photos")))
        .bearer_auth(&inspector)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(stated.status(), 201);
    let form = reqwest::multipart::Form::new()
        .text("kind", "before")
        .text("taken_at", "yesterday")
        .part(
            "file",
            reqwest::multipart::Part::bytes(images::jpeg(400, 300, 36))
                .file_name("p.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        );
    let bad = app
        .client
        .post(app.url(&format!("/api/v1/reports/{case_id}/photos")))
        .bearer_auth(&inspector)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let body = assert_error(bad, 422, "validation_failed").await;
    assert!(body["error"]["fields"]["taken_at"].is_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_photo_names_the_other_cases_that_hold_it_or_a_picture_like_it() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let token = &inspector.access_token;
    let supervisor = app.login_as("supervisor").await;
    let admin = app.admin().await;
    let picture = images::picture(800, 600, 11);
    let bytes = images::jpeg_of(&picture, 90);
    let first_case = app.file_report(token, json!({})).await;
    let second_case = app.file_report(token, json!({})).await;
    let third_case = app.file_report(token, json!({})).await;
    let unrelated_case = case_by(&app, token).await;
    let first_id = first_case["id"].as_str().unwrap();
    let original = upload_one(&app, token, first_id, bytes.clone()).await;
    let copy = upload_one(&app, token, second_case["id"].as_str().unwrap(), bytes).await;
    let resized =
        image::imageops::resize(&picture, 600, 450, image::imageops::FilterType::Triangle);
    let lookalike = upload_one(
        &app,
        token,
        third_case["id"].as_str().unwrap(),
        images::jpeg_of(&resized, 70),
    )
    .await;
    upload_one(&app, token, &unrelated_case, images::jpeg(800, 600, 12)).await;

    let matches = |photo: &Value, session_token: &str| {
        let path = format!("/api/v1/photos/{}/matches", photo["id"].as_str().unwrap());
        let token = session_token.to_owned();
        let app = &app;
        async move { app.get(&path, Some(&token)).await }
    };
    // The original, uploaded first, names both later photos, newest first.
    let answer = matches(&original, &supervisor.access_token).await;
    assert_eq!(answer.status(), 200);
    let body: Value = answer.json().await.unwrap();
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{body}");
    assert_eq!(items[0]["photo_id"], lookalike["id"]);
    assert_eq!(items[0]["kind"], "similar");
    assert_eq!(items[0]["case_id"], third_case["id"]);
    assert_eq!(items[0]["case_no"], third_case["case_no"]);
    assert!(items[0]["distance"].as_u64().unwrap() <= 3);
    assert_eq!(items[1]["photo_id"], copy["id"]);
    assert_eq!(items[1]["kind"], "same");
    assert_eq!(items[1]["case_id"], second_case["id"]);
    assert_eq!(items[1]["case_no"], second_case["case_no"]);
    assert_eq!(items[1]["distance"], 0);
    assert!(items[1]["visit_id"].is_null());

    // The copy, flagged at upload, names the case it was copied from.
    assert_eq!(flags(&copy), vec!["same_photo_on_other_case"]);
    let body: Value = matches(&copy, &admin.access_token)
        .await
        .json()
        .await
        .unwrap();
    let same: Vec<&Value> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "same")
        .collect();
    assert_eq!(same.len(), 1, "{body}");
    assert_eq!(same[0]["case_id"], first_case["id"]);
    assert_eq!(same[0]["case_no"], first_case["case_no"]);

    // The rest may not ask; a photo that is not there is 404.
    assert_error(matches(&original, token).await, 403, "forbidden").await;
    let worker = app.login_as("department").await;
    assert_error(
        matches(&original, &worker.access_token).await,
        403,
        "forbidden",
    )
    .await;
    let unknown = json!({"id": uuid::Uuid::now_v7()});
    assert_error(
        matches(&unknown, &supervisor.access_token).await,
        404,
        "not_found",
    )
    .await;
}
