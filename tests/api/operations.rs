//! Health, readiness, metrics, request ids, API docs and compression.

use serde_json::{Value, json};

use crate::helpers::{assert_error, spawn_app, spawn_app_with};

#[tokio::test(flavor = "multi_thread")]
async fn healthz_answers_ok() {
    let app = spawn_app().await;
    let response = app.get("/healthz", None).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test(flavor = "multi_thread")]
async fn readyz_is_ready_with_database_and_storage() {
    let app = spawn_app().await;
    let response = app.get("/readyz", None).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"database": true, "storage": true}));
}

#[tokio::test(flavor = "multi_thread")]
async fn readyz_fails_when_storage_is_down() {
    let mut app = spawn_app().await;
    let Some(store) = app.embedded_store.take() else {
        // An external store is not ours to stop.
        return;
    };
    store.stop().await;
    let response = app.get("/readyz", None).await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"database": true, "storage": false})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_app_runs_its_own_embedded_store_when_none_is_configured() {
    let app = spawn_app_with(&[("XUNCHA_S3_ENDPOINT", "")]).await;
    let response = app.get("/readyz", None).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_response_carries_a_request_id_and_echoes_a_plain_one() {
    let app = spawn_app().await;
    for path in ["/healthz", "/nowhere", "/api/v1/me"] {
        let response = app.get(path, None).await;
        let id = response.headers()["x-request-id"].to_str().unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{path}: {id}");
    }
    let echoed = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "phone-42.retry-1")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "phone-42.retry-1");
    let forged = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "evil id with spaces")
        .send()
        .await
        .unwrap();
    assert_ne!(forged.headers()["x-request-id"], "evil id with spaces");
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_requests_by_route_pattern_and_status() {
    let app = spawn_app().await;
    app.get("/healthz", None).await;
    app.get(&format!("/api/v1/users/{}", uuid::Uuid::now_v7()), None)
        .await;
    let response = app.get("/metrics", None).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    assert!(
        text.contains(
            r#"xuncha_http_requests_total{method="GET",route="/healthz",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/api/v1/users/{id}",status="401""#),
        "{text}"
    );
    assert!(text.contains("xuncha_http_request_duration_seconds_bucket"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_describes_the_api() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/api/v1/me/password",
        "/api/v1/users",
        "/api/v1/users/{id}",
        "/api/v1/users/{id}/password",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} documented");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_docs_page_is_served_without_the_internet() {
    let app = spawn_app().await;
    let redirect = app.get("/docs", None).await;
    assert_eq!(redirect.status(), 308);
    let page = app.get("/docs/", None).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("swagger"));
    let asset = app.get("/docs/swagger-ui-bundle.js", None).await;
    assert_eq!(asset.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn responses_are_compressed_when_the_client_accepts_it() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-encoding"], "gzip");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_known_route_without_a_token_is_401_not_500() {
    let app = spawn_app().await;
    assert_error(app.get("/api/v1/users", None).await, 401, "unauthorized").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unchanged_json_list_answers_304_to_its_etag() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let token = &inspector.access_token;
    app.file_report(token, serde_json::json!({})).await;
    let url = app.url("/api/v1/reports");
    let first = app
        .client
        .get(&url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with("W/\""));
    let unchanged = app
        .client
        .get(&url)
        .bearer_auth(token)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), 304);
    assert!(unchanged.bytes().await.unwrap().is_empty());

    app.file_report(token, serde_json::json!({})).await;
    let changed = app
        .client
        .get(&url)
        .bearer_auth(token)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), etag);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_states_its_limits_and_the_oldest_client_it_serves() {
    let app = crate::helpers::spawn_app_with(&[
        ("XUNCHA_OLDEST_CLIENT_VERSION", "2.3.0"),
        ("XUNCHA_ACCOUNT_RATE_LIMIT_PER_SECOND", "7"),
    ])
    .await;
    let response = app.get("/api/v1/limits", None).await;
    assert_eq!(response.status(), 200);
    let limits: Value = response.json().await.unwrap();
    assert_eq!(limits["oldest_client_version"], "2.3.0");
    assert_eq!(limits["photos"]["max_file_bytes"], 20 * 1024 * 1024);
    assert_eq!(limits["photos"]["max_pixels"], 40_000_000);
    assert_eq!(limits["photos"]["max_files_per_request"], 9);
    assert_eq!(
        limits["photos"]["formats"],
        json!(["image/jpeg", "image/png", "image/webp"])
    );
    assert_eq!(limits["pages"]["max_limit"], 200);
    assert_eq!(limits["idempotency"]["retention_hours"], 24);
    assert_eq!(limits["requests"]["per_account"]["per_second"], 7);
    assert_eq!(limits["sessions"]["refresh_reuse_grace_seconds"], 60);
    assert_eq!(limits["direct_uploads"]["part_bytes"], 5 * 1024 * 1024);
    assert_eq!(limits["direct_uploads"]["max_pending"], 20);
    assert_eq!(limits["direct_uploads"]["lifetime_hours"], 24);
    // What it states is what it enforces: a page of 201 is refused.
    let token = app.login_as("inspector").await.access_token;
    let over = app.get("/api/v1/reports?limit=201", Some(&token)).await;
    assert_eq!(over.status(), 422);

    let bad = [("XUNCHA_OLDEST_CLIENT_VERSION", "one")];
    let err = xuncha::config::Settings::from_lookup(|name| {
        bad.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    })
    .unwrap_err();
    assert_eq!(err.variable, "XUNCHA_OLDEST_CLIENT_VERSION");
}
