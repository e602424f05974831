//! `Idempotency-Key`: a retried write whose first answer was lost gets that answer again,
//! once, from any instance; another request under the same key is refused.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, spawn_app};
use crate::images;

async fn post_keyed(
    app: &TestApp,
    address: &str,
    path: &str,
    token: &str,
    key: &str,
    body: &Value,
) -> reqwest::Response {
    app.client
        .post(format!("{address}{path}"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

struct Assigned {
    app: TestApp,
    supervisor: String,
    case: Value,
    path: String,
    body: Value,
}

/// A filed case, and the body that assigns it to a department.
async fn a_case_to_assign() -> Assigned {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let supervisor = app.login_as("supervisor").await.access_token;
    let department = app.create_department().await;
    let case = app.file_report(&inspector.access_token, json!({})).await;
    let path = format!("/api/v1/reports/{}/assign", case["id"].as_str().unwrap());
    let body = json!({"version": case["version"], "department_id": department, "note": "城管处理"});
    Assigned {
        app,
        supervisor,
        case,
        path,
        body,
    }
}

async fn events(app: &TestApp, token: &str, case: &Value) -> usize {
    let response = app
        .get(
            &format!("/api/v1/reports/{}/events", case["id"].as_str().unwrap()),
            Some(token),
        )
        .await;
    let body: Value = response.json().await.unwrap();
    body["items"].as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retried_action_gets_its_first_answer_again_and_acts_once() {
    let a = a_case_to_assign().await;
    let app = &a.app;
    let key = "6f1c2a9e-0b7d-4c2e-9a51-3d8e7f60a001";
    let first = post_keyed(app, &app.address, &a.path, &a.supervisor, key, &a.body).await;
    assert_eq!(first.status(), 200);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["status"], "assigned");
    let history = events(app, &a.supervisor, &a.case).await;

    // The answer was lost; the phone sends the same request with the same key, here to
    // another instance of the service.
    let second_instance = app.second_instance().await;
    let again = post_keyed(app, &second_instance, &a.path, &a.supervisor, key, &a.body).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(events(app, &a.supervisor, &a.case).await, history);

    // The key is quoted as the draft sends it: the same key.
    let quoted = post_keyed(
        app,
        &app.address,
        &a.path,
        &a.supervisor,
        &format!("\"{key}\""),
        &a.body,
    )
    .await;
    assert_eq!(quoted.status(), 200);
    assert_eq!(quoted.headers()["idempotent-replayed"], "true");

    // Without the key, the same request meets the case as it is now.
    assert_error(
        app.post_json(&a.path, Some(&a.supervisor), &a.body).await,
        409,
        "version_conflict",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_key_on_another_request_is_refused() {
    let a = a_case_to_assign().await;
    let app = &a.app;
    let key = "one-key";
    assert_eq!(
        post_keyed(app, &app.address, &a.path, &a.supervisor, key, &a.body)
            .await
            .status(),
        200
    );
    let mut other_body = a.body.clone();
    other_body["note"] = json!("另一条说明");
    let body = assert_error(
        post_keyed(app, &app.address, &a.path, &a.supervisor, key, &other_body).await,
        422,
        "idempotency_key_reused",
    )
    .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Idempotency-Key")
    );
    let other_path = a.path.replace("/assign", "/cancel");
    assert_error(
        post_keyed(app, &app.address, &other_path, &a.supervisor, key, &a.body).await,
        422,
        "idempotency_key_reused",
    )
    .await;

    // Keys are each user's own: another supervisor's request with the same key runs.
    let other = app.login_as("supervisor").await.access_token;
    let fresh = app
        .file_report(&app.login_as("inspector").await.access_token, json!({}))
        .await;
    let cancel = format!("/api/v1/reports/{}/cancel", fresh["id"].as_str().unwrap());
    let cancelled = post_keyed(
        app,
        &app.address,
        &cancel,
        &other,
        key,
        &json!({"version": fresh["version"], "note": "重复上报"}),
    )
    .await;
    assert_eq!(cancelled.status(), 200);
    assert!(cancelled.headers().get("idempotent-replayed").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_request_gives_its_key_back() {
    let a = a_case_to_assign().await;
    let app = &a.app;
    let key = "k-refused-first";
    let mut wrong = a.body.clone();
    wrong["department_id"] = json!("not-a-uuid");
    assert_error(
        post_keyed(app, &app.address, &a.path, &a.supervisor, key, &wrong).await,
        422,
        "validation_failed",
    )
    .await;
    // Refused, it changed nothing: corrected, the same key runs.
    let fixed = post_keyed(app, &app.address, &a.path, &a.supervisor, key, &a.body).await;
    assert_eq!(fixed.status(), 200);
    assert!(fixed.headers().get("idempotent-replayed").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retried_photo_upload_stores_its_photos_once() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await.access_token;
    let case = app.file_report(&inspector, json!({})).await;
    let case_id = case["id"].as_str().unwrap();
    let upload = || {
        let form = reqwest::multipart::Form::new().text("kind", "before").part(
            "file",
            reqwest::multipart::Part::bytes(images::jpeg(640, 480, 5))
                .file_name("a.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        );
        app.client
            .post(app.url(&format!("/api/v1/reports/{case_id}/photos")))
            .bearer_auth(&inspector)
            .header("Idempotency-Key", "photo-batch-1")
            .multipart(form)
            .send()
    };
    let first = upload().await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = upload().await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let shown: Value = app
        .get(&format!("/api/v1/reports/{case_id}"), Some(&inspector))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["photos"].as_array().unwrap().len(), 1, "{shown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_still_running_answers_409_and_one_whose_lease_ran_out_is_taken_over() {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let a = a_case_to_assign().await;
    let app = &a.app;
    let supervisor_id = {
        let me: Value = app
            .get("/api/v1/me", Some(&a.supervisor))
            .await
            .json()
            .await
            .unwrap();
        me["id"]
            .as_str()
            .unwrap()
            .parse::<entity::ids::UserId>()
            .unwrap()
    };
    let hold =
        |key: &str, until: chrono::DateTime<chrono::Utc>| entity::idempotency_keys::ActiveModel {
            user_id: Set(supervisor_id),
            key: Set(key.to_owned()),
            method: Set("POST".into()),
            path: Set(a.path.clone()),
            fingerprint: Set(None),
            response_status: Set(None),
            response_content_type: Set(None),
            response_location: Set(None),
            response_body: Set(None),
            locked_until: Set(Some(until)),
            created_at: Set(chrono::Utc::now()),
        };
    let now = chrono::Utc::now();
    hold("running", now + chrono::Duration::minutes(5))
        .insert(&app.db)
        .await
        .unwrap();
    let busy = post_keyed(
        app,
        &app.address,
        &a.path,
        &a.supervisor,
        "running",
        &a.body,
    )
    .await;
    assert_eq!(busy.headers()["retry-after"], "1");
    assert_error(busy, 409, "idempotency_key_in_use").await;

    hold("orphaned", now - chrono::Duration::seconds(1))
        .insert(&app.db)
        .await
        .unwrap();
    let taken = post_keyed(
        app,
        &app.address,
        &a.path,
        &a.supervisor,
        "orphaned",
        &a.body,
    )
    .await;
    assert_eq!(taken.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn answers_are_kept_a_day_and_bad_keys_are_400() {
    let a = a_case_to_assign().await;
    let app = &a.app;
    for bad in ["", "with space", &"x".repeat(256)] {
        assert_error(
            post_keyed(app, &app.address, &a.path, &a.supervisor, bad, &a.body).await,
            400,
            "invalid_idempotency_key",
        )
        .await;
    }
    let key = "kept-a-day";
    assert_eq!(
        post_keyed(app, &app.address, &a.path, &a.supervisor, key, &a.body)
            .await
            .status(),
        200
    );
    let at = xuncha::services::now();
    assert_eq!(
        xuncha::services::idempotency::sweep(&app.db, at + chrono::Duration::hours(23))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        xuncha::services::idempotency::sweep(&app.db, at + chrono::Duration::hours(25))
            .await
            .unwrap(),
        1
    );
    // Gone, the key is new again: the request meets the case as it is now.
    assert_error(
        post_keyed(app, &app.address, &a.path, &a.supervisor, key, &a.body).await,
        409,
        "version_conflict",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retried_delete_is_answered_again_though_its_handler_reads_no_body() {
    let app = spawn_app().await;
    let admin = app.admin().await.access_token;
    let created = app
        .post_json(
            "/api/v1/webhooks",
            Some(&admin),
            &json!({"url": "http://127.0.0.1:9/hook", "events": ["assigned"], "format": "json"}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let delete = || {
        app.client
            .delete(app.url(&format!("/api/v1/webhooks/{id}")))
            .bearer_auth(&admin)
            .header("Idempotency-Key", "drop-hook")
            .header("content-type", "application/json")
            .body("{}")
            .send()
    };
    assert_eq!(delete().await.unwrap().status(), 204);
    let again = delete().await.unwrap();
    assert_eq!(again.status(), 204, "replayed, not 404");
    assert_eq!(again.headers()["idempotent-replayed"], "true");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answer_carrying_a_secret_is_replayed_but_kept_sealed_and_long_boundaries_are_refused() {
    let app = spawn_app().await;
    let admin = app.admin().await.access_token;
    let body = json!({"name": "市民随手拍"});
    let issue = || {
        post_keyed(
            &app,
            &app.address,
            "/api/v1/api-keys",
            &admin,
            "issue-key",
            &body,
        )
    };
    let first = issue().await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let secret = first["api_key"].as_str().unwrap().to_owned();
    // Replayed whole: one key issued, and the phone that lost the answer gets its secret.
    let again = issue().await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["cache-control"], "no-store");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let keys: Value = app
        .get("/api/v1/api-keys", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(keys["items"].as_array().unwrap().len(), 1);
    // At rest, the answer is sealed: the table does not hold the secret.
    use sea_orm::EntityTrait;
    let rows = entity::idempotency_keys::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    let kept = rows[0].response_body.clone().unwrap();
    assert!(!kept.windows(secret.len()).any(|w| w == secret.as_bytes()));
    assert!(!String::from_utf8_lossy(&kept).contains("api_key"));

    let long = "b".repeat(71);
    let refused = app
        .client
        .post(app.url("/api/v1/reports/with-photos"))
        .bearer_auth(&app.login_as("inspector").await.access_token)
        .header("Idempotency-Key", "long-boundary")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={long}"),
        )
        .body(format!("--{long}--\r\n"))
        .send()
        .await
        .unwrap();
    assert_error(refused, 400, "bad_request").await;
}
