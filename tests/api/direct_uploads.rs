//! Direct uploads: a photo sent straight to the object store through presigned URLs, in
//! one PUT or part by part, resumed after a cut link, checked and attached at the finalize;
//! on the embedded store (through this service's address) and on an independent S3 server.

use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{TestApp, assert_error, spawn_app, spawn_app_with};
use crate::images;

const PART: usize = 5 * 1024 * 1024;

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

async fn new_case(app: &TestApp, token: &str) -> String {
    let case = app.file_report(token, json!({})).await;
    case["id"].as_str().unwrap().to_owned()
}

async fn begin(app: &TestApp, token: &str, case_id: &str, bytes: &[u8]) -> reqwest::Response {
    app.post_json(
        "/api/v1/uploads",
        Some(token),
        &json!({
            "case_id": case_id,
            "kind": "before",
            "size": bytes.len(),
            "sha256": sha256_hex(bytes),
        }),
    )
    .await
}

/// Sends one part as the phone does: the method, URL and headers exactly as given.
async fn send_part(part: &Value, bytes: &[u8]) -> reqwest::Response {
    let put = &part["put"];
    assert_eq!(put["method"], "PUT");
    let mut request = reqwest::Client::new()
        .put(put["url"].as_str().unwrap())
        .body(bytes.to_vec());
    for (name, value) in put["headers"].as_object().unwrap() {
        request = request.header(name, value.as_str().unwrap());
    }
    request.send().await.unwrap()
}

fn slice_of(bytes: &[u8], number: usize) -> &[u8] {
    let start = (number - 1) * PART;
    &bytes[start..(start + PART).min(bytes.len())]
}

async fn finish(app: &TestApp, token: &str, upload_id: &str) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/uploads/{upload_id}/complete"),
        Some(token),
        &json!({}),
    )
    .await
}

async fn status_of(app: &TestApp, token: &str, upload_id: &str) -> Value {
    let response = app
        .get(&format!("/api/v1/uploads/{upload_id}"), Some(token))
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn case_photos(app: &TestApp, token: &str, case_id: &str) -> Vec<Value> {
    let case: Value = app
        .get(&format!("/api/v1/reports/{case_id}"), Some(token))
        .await
        .json()
        .await
        .unwrap();
    case["photos"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_small_photo_goes_in_one_put_and_becomes_the_cases_photo() {
    let app = spawn_app().await;
    let token = app.login_as("inspector").await.access_token;
    let case_id = new_case(&app, &token).await;
    let jpeg = images::jpeg(1600, 1200, 3);

    let response = begin(&app, &token, &case_id, &jpeg).await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let upload: Value = response.json().await.unwrap();
    let upload_id = upload["id"].as_str().unwrap();
    assert_eq!(location, format!("/api/v1/uploads/{upload_id}"));
    assert_eq!(upload["status"], "pending");
    assert_eq!(upload["parts"].as_array().unwrap().len(), 1);
    assert_eq!(upload["parts"][0]["received"], false);

    // Finalizing before the bytes arrive says what is missing.
    assert_error(
        finish(&app, &token, upload_id).await,
        409,
        "upload_incomplete",
    )
    .await;

    let put = send_part(&upload["parts"][0], &jpeg).await;
    assert!(put.status().is_success(), "{}", put.text().await.unwrap());
    assert_eq!(
        status_of(&app, &token, upload_id).await["parts"][0]["received"],
        true
    );

    let done = finish(&app, &token, upload_id).await;
    assert_eq!(done.status(), 201);
    let done: Value = done.json().await.unwrap();
    assert_eq!(done["status"], "finished");
    let photo_id = done["photo"]["id"].as_str().unwrap().to_owned();
    assert_eq!(done["photo"]["kind"], "before");

    // Sent again (its answer lost), the finalize answers the same photo.
    let again = finish(&app, &token, upload_id).await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["photo"]["id"], photo_id.as_str());
    let photos = case_photos(&app, &token, &case_id).await;
    assert_eq!(photos.len(), 1);
    assert_eq!(photos[0]["id"], photo_id.as_str());

    // The original is kept whole: the very bytes sent.
    let original = app
        .client
        .get(app.url(&format!("/api/v1/photos/{photo_id}/original")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(original.status(), 200);
    assert_eq!(
        sha256_hex(&original.bytes().await.unwrap()),
        sha256_hex(&jpeg)
    );
    // The upload's own object is gone once it became a photo.
    assert!(
        app.store()
            .list(xuncha::storage::keys::UPLOAD_PREFIX)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_photo_goes_in_parts_and_resumes_from_the_last_part_received() {
    let app = spawn_app().await;
    let token = app.login_as("inspector").await.access_token;
    let case_id = new_case(&app, &token).await;
    let png = images::noise_png(1600, 1200, 7);
    assert!(png.len() > PART && png.len() < 2 * PART, "{}", png.len());

    let upload: Value = begin(&app, &token, &case_id, &png)
        .await
        .json()
        .await
        .unwrap();
    let upload_id = upload["id"].as_str().unwrap().to_owned();
    let parts = upload["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0]["size"], PART);
    assert_eq!(parts[1]["size"], png.len() - PART);

    // Part 1 arrives, then the link drops.
    let put = send_part(&parts[0], slice_of(&png, 1)).await;
    assert!(put.status().is_success(), "{}", put.text().await.unwrap());
    assert_error(
        finish(&app, &token, &upload_id).await,
        409,
        "upload_incomplete",
    )
    .await;

    // Back online, the phone asks where it stands: part 1 is there, part 2 has a fresh URL.
    let resumed = status_of(&app, &token, &upload_id).await;
    assert_eq!(resumed["parts"][0]["received"], true);
    assert!(resumed["parts"][0]["put"].is_null());
    assert_eq!(resumed["parts"][1]["received"], false);
    assert!(resumed["urls_expire_at"].is_string());
    let put = send_part(&resumed["parts"][1], slice_of(&png, 2)).await;
    assert!(put.status().is_success(), "{}", put.text().await.unwrap());

    let done = finish(&app, &token, &upload_id).await;
    assert_eq!(done.status(), 201);
    let done: Value = done.json().await.unwrap();
    assert_eq!(done["photo"]["content_type"], "image/png");
    let photos = case_photos(&app, &token, &case_id).await;
    assert_eq!(photos.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn bytes_other_than_declared_are_refused_and_can_be_sent_again() {
    let app = spawn_app().await;
    let token = app.login_as("inspector").await.access_token;
    let case_id = new_case(&app, &token).await;
    let jpeg = images::jpeg(800, 600, 11);
    let upload: Value = begin(&app, &token, &case_id, &jpeg)
        .await
        .json()
        .await
        .unwrap();
    let upload_id = upload["id"].as_str().unwrap().to_owned();

    // The same length, other bytes: the SHA-256 tells.
    let mut damaged = jpeg.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0xff;
    assert!(
        send_part(&upload["parts"][0], &damaged)
            .await
            .status()
            .is_success()
    );
    assert_error(
        finish(&app, &token, &upload_id).await,
        422,
        "upload_mismatch",
    )
    .await;
    assert!(case_photos(&app, &token, &case_id).await.is_empty());

    // The upload starts over: the phone sends the file again and it lands.
    let fresh = status_of(&app, &token, &upload_id).await;
    assert_eq!(fresh["parts"][0]["received"], false);
    assert!(
        send_part(&fresh["parts"][0], &jpeg)
            .await
            .status()
            .is_success()
    );
    assert_eq!(finish(&app, &token, &upload_id).await.status(), 201);
    assert_eq!(case_photos(&app, &token, &case_id).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_that_is_not_an_image_is_refused_at_the_finalize() {
    let app = spawn_app().await;
    let token = app.login_as("inspector").await.access_token;
    let case_id = new_case(&app, &token).await;
    let text = b"%PDF-1.4 not a photo at all".repeat(40);
    let upload: Value = begin(&app, &token, &case_id, &text)
        .await
        .json()
        .await
        .unwrap();
    let upload_id = upload["id"].as_str().unwrap().to_owned();
    assert!(
        send_part(&upload["parts"][0], &text)
            .await
            .status()
            .is_success()
    );
    let refused = finish(&app, &token, &upload_id).await;
    assert_eq!(refused.status(), 415, "{}", refused.text().await.unwrap());
    assert!(case_photos(&app, &token, &case_id).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_are_checked_owned_and_expire() {
    let app = spawn_app().await;
    let token = app.login_as("inspector").await.access_token;
    let case_id = new_case(&app, &token).await;
    let jpeg = images::jpeg(640, 480, 5);

    for (body, field) in [
        (
            json!({"case_id": case_id, "kind": "before", "size": 0, "sha256": sha256_hex(&jpeg)}),
            "size",
        ),
        (
            json!({"case_id": case_id, "kind": "before", "size": 21 * 1024 * 1024, "sha256": sha256_hex(&jpeg)}),
            "size",
        ),
        (
            json!({"case_id": case_id, "kind": "before", "size": 10, "sha256": "abc"}),
            "sha256",
        ),
    ] {
        let refused = app.post_json("/api/v1/uploads", Some(&token), &body).await;
        let error = assert_error(refused, 422, "validation_failed").await;
        assert!(error.to_string().contains(field), "{error}");
    }
    let unknown = json!({"case_id": uuid::Uuid::now_v7(), "kind": "before", "size": 10, "sha256": sha256_hex(b"x")});
    assert_error(
        app.post_json("/api/v1/uploads", Some(&token), &unknown)
            .await,
        404,
        "not_found",
    )
    .await;

    let upload: Value = begin(&app, &token, &case_id, &jpeg)
        .await
        .json()
        .await
        .unwrap();
    let upload_id = upload["id"].as_str().unwrap().to_owned();
    // Someone else's upload is not theirs to see, finish or cancel.
    let other = app.login_as("inspector").await.access_token;
    let path = format!("/api/v1/uploads/{upload_id}");
    assert_error(app.get(&path, Some(&other)).await, 404, "not_found").await;
    assert_error(finish(&app, &other, &upload_id).await, 404, "not_found").await;
    // Without the store's signature, nothing reaches the embedded store through this
    // service (an external store judges its own requests).
    if app.embedded_store.is_some() {
        let url = upload["parts"][0]["put"]["url"].as_str().unwrap();
        let unsigned = url.split('?').next().unwrap();
        let forged = reqwest::Client::new()
            .put(unsigned)
            .body(jpeg.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 403);
        let mut tampered = url.replace("X-Amz-Expires=900", "X-Amz-Expires=901");
        assert_ne!(tampered, url);
        tampered.push_str("&x=1");
        let forged = reqwest::Client::new()
            .put(&tampered)
            .body(jpeg.clone())
            .send()
            .await
            .unwrap();
        assert!(forged.status().is_client_error(), "{}", forged.status());
    }

    // An upload left past its lifetime is refused, then swept with what the store has.
    assert!(
        send_part(&upload["parts"][0], &jpeg)
            .await
            .status()
            .is_success()
    );
    let row = entity::direct_uploads::Entity::find_by_id(
        upload_id.parse::<entity::ids::UploadId>().unwrap(),
    )
    .one(&app.db)
    .await
    .unwrap()
    .unwrap();
    let mut expired = row.into_active_model();
    expired.expires_at = Set(chrono::Utc::now() - chrono::Duration::minutes(1));
    expired.update(&app.db).await.unwrap();
    assert_error(
        finish(&app, &token, &upload_id).await,
        410,
        "upload_expired",
    )
    .await;
    let removed = xuncha::services::direct_uploads::sweep(&app.state)
        .await
        .unwrap();
    assert_eq!(removed, 1);
    assert_error(app.get(&path, Some(&token)).await, 404, "not_found").await;
    assert!(
        app.store()
            .list(xuncha::storage::keys::UPLOAD_PREFIX)
            .await
            .unwrap()
            .is_empty()
    );

    // A cancelled multipart upload leaves nothing behind.
    let png = images::noise_png(1600, 1200, 9);
    let upload: Value = begin(&app, &token, &case_id, &png)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        send_part(&upload["parts"][0], slice_of(&png, 1))
            .await
            .status()
            .is_success()
    );
    let cancel = app
        .client
        .delete(app.url(&format!(
            "/api/v1/uploads/{}",
            upload["id"].as_str().unwrap()
        )))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), 204);
    let finished = finish(&app, &token, upload["id"].as_str().unwrap()).await;
    assert_error(finished, 404, "not_found").await;
}

async fn upload_row(app: &TestApp, upload_id: &str) -> entity::direct_uploads::Model {
    entity::direct_uploads::Entity::find_by_id(upload_id.parse::<entity::ids::UploadId>().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_finalize_that_died_after_joining_the_parts_is_finished_by_the_next() {
    let app = spawn_app().await;
    let token = app.login_as("inspector").await.access_token;
    let case_id = new_case(&app, &token).await;
    let png = images::noise_png(1600, 1200, 13);
    let upload: Value = begin(&app, &token, &case_id, &png)
        .await
        .json()
        .await
        .unwrap();
    let upload_id = upload["id"].as_str().unwrap().to_owned();
    for (index, part) in upload["parts"].as_array().unwrap().iter().enumerate() {
        let put = send_part(part, slice_of(&png, index + 1)).await;
        assert!(put.status().is_success());
    }
    // A finalize joined the parts, then its process died before it wrote so: the store
    // has one object and has forgotten the parts.
    let row = upload_row(&app, &upload_id).await;
    let key = xuncha::storage::ObjectKey::named(&row.object_key);
    let multipart_id = row.multipart_id.clone().unwrap();
    let parts = app
        .state
        .store
        .received_parts(&key, &multipart_id)
        .await
        .unwrap();
    app.state
        .store
        .complete_multipart(&key, &multipart_id, &parts)
        .await
        .unwrap();

    // The phone sees the upload whole, and the next finalize makes the photo.
    let status = status_of(&app, &token, &upload_id).await;
    assert!(
        status["parts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["received"] == true)
    );
    let done = finish(&app, &token, &upload_id).await;
    assert_eq!(done.status(), 201, "{}", done.text().await.unwrap());
    assert_eq!(case_photos(&app, &token, &case_id).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn one_finalize_at_a_time_holds_an_upload() {
    let app = spawn_app().await;
    let token = app.login_as("inspector").await.access_token;
    let case_id = new_case(&app, &token).await;
    let jpeg = images::jpeg(800, 600, 17);
    let upload: Value = begin(&app, &token, &case_id, &jpeg)
        .await
        .json()
        .await
        .unwrap();
    let upload_id = upload["id"].as_str().unwrap().to_owned();
    assert!(
        send_part(&upload["parts"][0], &jpeg)
            .await
            .status()
            .is_success()
    );

    let hold = |until: chrono::DateTime<chrono::Utc>| {
        let app = &app;
        let upload_id = upload_id.clone();
        async move {
            let mut row = upload_row(app, &upload_id).await.into_active_model();
            row.finishing_until = Set(Some(until));
            row.update(&app.db).await.unwrap();
        }
    };
    // Another finalize holds it (the phone's first try, still running).
    hold(chrono::Utc::now() + chrono::Duration::minutes(1)).await;
    let busy = finish(&app, &token, &upload_id).await;
    assert!(busy.headers().contains_key("retry-after"));
    assert_error(busy, 409, "upload_in_progress").await;
    let path = format!("/api/v1/uploads/{upload_id}");
    let cancel = app
        .client
        .delete(app.url(&path))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_error(cancel, 409, "upload_in_progress").await;
    assert!(case_photos(&app, &token, &case_id).await.is_empty());

    // A finalize that died lets go when its claim runs out.
    hold(chrono::Utc::now() - chrono::Duration::seconds(1)).await;
    assert_eq!(finish(&app, &token, &upload_id).await.status(), 201);
    assert_eq!(finish(&app, &token, &upload_id).await.status(), 200);
    assert_eq!(case_photos(&app, &token, &case_id).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_built_in_store_takes_signed_puts_of_upload_keys_for_the_public_address() {
    // The README's first command, behind a proxy that names the service
    // phones.example.test and writes its own `Host` upstream.
    let app = spawn_app_with(&[
        ("XUNCHA_S3_ENDPOINT", ""),
        ("XUNCHA_PUBLIC_URL", "http://phones.example.test"),
    ])
    .await;
    let token = app.login_as("inspector").await.access_token;
    let case_id = new_case(&app, &token).await;
    let jpeg = images::jpeg(800, 600, 19);
    let upload: Value = begin(&app, &token, &case_id, &jpeg)
        .await
        .json()
        .await
        .unwrap();
    let upload_id = upload["id"].as_str().unwrap().to_owned();
    let url = upload["parts"][0]["put"]["url"].as_str().unwrap();
    let path_and_query = url
        .strip_prefix("http://phones.example.test")
        .unwrap_or_else(|| panic!("{url}"));
    let bucket = app.state.settings.s3_bucket.clone();

    // Not an upload's key: nothing is passed on, signed or not.
    for forged in [
        format!("/{bucket}/uploads/%2e%2e/photos?X-Amz-Signature=0"),
        format!("/{bucket}/uploads/{case_id}/..%2fphotos?X-Amz-Signature=0"),
        format!("/{bucket}/photos/{case_id}?X-Amz-Signature=0"),
    ] {
        let refused = reqwest::Client::new()
            .put(app.url(&forged))
            .body(jpeg.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 404, "{forged}");
    }
    // A signature that does not match is the store's to refuse, in its own words.
    let tampered = path_and_query.replace("X-Amz-Expires=900", "X-Amz-Expires=901");
    assert_ne!(tampered, path_and_query);
    let refused = reqwest::Client::new()
        .put(app.url(&tampered))
        .header("content-length", jpeg.len())
        .body(jpeg.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("<Code>"));

    // The PUT reaches this instance under another `Host`; the signature, made for the
    // public address, still holds.
    let mut put = reqwest::Client::new()
        .put(app.url(path_and_query))
        .body(jpeg.clone());
    for (name, value) in upload["parts"][0]["put"]["headers"].as_object().unwrap() {
        put = put.header(name, value.as_str().unwrap());
    }
    let put = put.send().await.unwrap();
    assert!(put.status().is_success(), "{}", put.text().await.unwrap());
    assert_eq!(finish(&app, &token, &upload_id).await.status(), 201);
}
