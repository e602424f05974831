//! Every error, from our handlers or from the framework, has the API's JSON shape.

use serde_json::{Value, json};

use crate::helpers::{assert_error, spawn_app};

#[tokio::test(flavor = "multi_thread")]
async fn malformed_json_is_400_invalid_json() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .unwrap();
    assert_error(response, 400, "invalid_json").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_unknown_and_mistyped_fields_are_422_naming_the_field() {
    let app = spawn_app().await;
    for (body, field) in [
        (json!({"username": "admin"}), "password"),
        (
            json!({"username": "a", "password": "b", "role": "admin"}),
            "role",
        ),
        (json!({"username": 7, "password": "b"}), "username"),
    ] {
        let response = app.post_json("/api/v1/auth/login", None, &body).await;
        assert_eq!(response.status(), 422, "{body}");
        let answer: serde_json::Value = response.json().await.unwrap();
        assert_eq!(answer["error"]["code"], "validation_failed");
        let message = answer["error"]["fields"][field]
            .as_str()
            .unwrap_or_default();
        assert!(!message.is_empty(), "{field} in {answer}");
        assert!(!message.contains("line 1"), "{message}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_content_type_is_415() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "text/plain")
        .body("username=admin")
        .send()
        .await
        .unwrap();
    assert_error(response, 415, "unsupported_media_type").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_body_is_413() {
    let app = spawn_app().await;
    let huge = json!({"username": "a".repeat(2 * 1024 * 1024), "password": "x"});
    let response = app.post_json("/api/v1/auth/login", None, &huge).await;
    assert_error(response, 413, "payload_too_large").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_route_is_a_json_404() {
    let app = spawn_app().await;
    assert_error(
        app.get("/api/v1/no-such-thing", None).await,
        404,
        "not_found",
    )
    .await;
    assert_error(app.get("/nowhere", None).await, 404, "not_found").await;
    let wrong_method = app
        .client
        .delete(app.url("/api/v1/auth/login"))
        .send()
        .await
        .unwrap();
    let status = wrong_method.status().as_u16();
    assert!(matches!(status, 404 | 405));
    let body: Value = wrong_method.json().await.unwrap();
    assert!(body["error"]["code"].is_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_speak_chinese_when_asked_and_keep_their_code() {
    let app = spawn_app().await;
    let english = app.login("admin", "wrong password!").await;
    let english: Value = english.json().await.unwrap();
    let chinese = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("accept-language", "zh-CN,zh;q=0.9,en;q=0.8")
        .json(&json!({"username": "admin", "password": "wrong password!"}))
        .send()
        .await
        .unwrap();
    let chinese = assert_error(chinese, 401, "invalid_credentials").await;
    assert_ne!(english["error"]["message"], chinese["error"]["message"]);
    assert!(
        chinese["error"]["message"]
            .as_str()
            .unwrap()
            .contains("密码")
    );

    let not_found = app
        .client
        .get(app.url("/nowhere"))
        .header("accept-language", "zh")
        .send()
        .await
        .unwrap();
    let body = assert_error(not_found, 404, "not_found").await;
    assert_eq!(body["error"]["message"], "未找到。");
}

#[tokio::test(flavor = "multi_thread")]
async fn field_errors_are_translated_too() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let response = app
        .client
        .post(app.url("/api/v1/users"))
        .bearer_auth(&admin.access_token)
        .header("accept-language", "zh")
        .json(&json!({"username": "ok.name", "password": "short", "display_name": "x", "role": "inspector"}))
        .send()
        .await
        .unwrap();
    let body = assert_error(response, 422, "validation_failed").await;
    assert_eq!(body["error"]["fields"]["password"], "至少 10 个字符");
}

#[tokio::test(flavor = "multi_thread")]
async fn too_many_requests_from_one_address_get_a_json_429() {
    let app = crate::helpers::spawn_app_with(&[
        ("XUNCHA_RATE_LIMIT_PER_SECOND", "1"),
        ("XUNCHA_RATE_LIMIT_BURST", "3"),
    ])
    .await;
    let mut limited = None;
    for _ in 0..10 {
        let response = app.get("/healthz", None).await;
        if response.status() == 429 {
            limited = Some(response);
            break;
        }
    }
    let response = limited.expect("the limit was reached");
    assert!(response.headers().contains_key("retry-after"));
    assert_error(response, 429, "too_many_requests").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gzip_compressed_json_body_is_read_and_an_oversized_one_refused_unread() {
    use std::io::Write;
    let app = spawn_app().await;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(br#"{"username":"admin","password":"not the password"}"#)
        .unwrap();
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(gzip.finish().unwrap())
        .send()
        .await
        .unwrap();
    assert_error(response, 401, "invalid_credentials").await;
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(vec![b' '; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_error(response, 413, "payload_too_large").await;
}
