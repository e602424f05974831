//! User administration by admins.

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, assert_error, spawn_app};

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_creates_users_of_every_role_with_their_scope() {
    let app = spawn_app().await;
    for role in [
        "admin",
        "supervisor",
        "inspector",
        "department",
        "shopfront",
    ] {
        let user = app.create_user(&format!("new.{role}"), role).await;
        assert_eq!(user["role"], role);
        assert_eq!(user["disabled"], false);
        assert_eq!(user["department_id"].is_string(), role == "department");
        assert_eq!(user["shopfront_id"].is_string(), role == "shopfront");
        assert_eq!(
            app.login(&format!("new.{role}"), PASSWORD).await.status(),
            200
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn creating_a_user_validates_every_field() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let response = app
        .post_json(
            "/api/v1/users",
            Some(&admin.access_token),
            &json!({"username": "x", "password": "short", "display_name": " ", "role": "department"}),
        )
        .await;
    let body = assert_error(response, 422, "validation_failed").await;
    let fields = body["error"]["fields"].as_object().unwrap();
    for field in ["username", "password", "display_name", "department_id"] {
        assert!(fields.contains_key(field), "{field} in {body}");
    }

    let unknown_department = app
        .post_json(
            "/api/v1/users",
            Some(&admin.access_token),
            &json!({"username": "dept.user", "password": PASSWORD, "display_name": "D",
                "role": "department", "department_id": uuid::Uuid::now_v7()}),
        )
        .await;
    let body = assert_error(unknown_department, 422, "validation_failed").await;
    assert!(body["error"]["fields"]["department_id"].is_string());

    let bad_role = app
        .post_json(
            "/api/v1/users",
            Some(&admin.access_token),
            &json!({"username": "who", "password": PASSWORD, "display_name": "W", "role": "root"}),
        )
        .await;
    assert_eq!(bad_role.status(), 422);
    let body: Value = bad_role.json().await.unwrap();
    assert!(body["error"]["fields"]["role"].is_string(), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_taken_username_is_a_conflict() {
    let app = spawn_app().await;
    app.create_user("li.si", "inspector").await;
    let admin = app.admin().await;
    let again = app
        .post_json(
            "/api/v1/users",
            Some(&admin.access_token),
            &json!({"username": "Li.Si", "password": PASSWORD, "display_name": "L", "role": "inspector"}),
        )
        .await;
    assert_error(again, 409, "username_taken").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn users_list_in_pages_with_a_cursor_and_filters() {
    let app = spawn_app().await;
    for i in 0..5 {
        app.create_user(&format!("inspector.{i}"), "inspector")
            .await;
    }
    let admin = app.admin().await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/users?role=inspector&limit=2&cursor={c}"),
            None => "/api/v1/users?role=inspector&limit=2".to_owned(),
        };
        let page: Value = app
            .get(&path, Some(&admin.access_token))
            .await
            .json()
            .await
            .unwrap();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(
            items
                .iter()
                .map(|u| u["username"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        seen,
        (0..5).map(|i| format!("inspector.{i}")).collect::<Vec<_>>()
    );

    for bad in [
        "limit=0",
        "limit=201",
        "cursor=zzz",
        "role=root",
        "limit=-1",
    ] {
        let response = app
            .get(&format!("/api/v1/users?{bad}"), Some(&admin.access_token))
            .await;
        assert!(matches!(response.status().as_u16(), 400 | 422), "{bad}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_changes_a_role_with_its_scope() {
    let app = spawn_app().await;
    let user = app.create_user("wang.wu", "inspector").await;
    let admin = app.admin().await;
    let path = format!("/api/v1/users/{}", user["id"].as_str().unwrap());

    let missing_scope = app
        .patch_json(&path, &admin.access_token, &json!({"role": "department"}))
        .await;
    assert_error(missing_scope, 422, "validation_failed").await;

    let department = app.create_department().await;
    let changed = app
        .patch_json(
            &path,
            &admin.access_token,
            &json!({"role": "department", "department_id": department, "display_name": "王五"}),
        )
        .await;
    assert_eq!(changed.status(), 200);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(changed["role"], "department");
    assert_eq!(changed["department_id"], json!(department));
    assert_eq!(changed["display_name"], "王五");

    // The change holds for tokens issued before it: roles are read per request.
    let session = app.session("wang.wu", PASSWORD).await;
    let me: Value = app
        .get("/api/v1/me", Some(&session.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "department");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_cannot_disable_or_demote_themselves() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let path = format!("/api/v1/users/{}", admin.user_id);
    assert_error(
        app.patch_json(&path, &admin.access_token, &json!({"disabled": true}))
            .await,
        409,
        "conflict",
    )
    .await;
    assert_error(
        app.patch_json(&path, &admin.access_token, &json!({"role": "inspector"}))
            .await,
        409,
        "conflict",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_reset_ends_the_users_sessions() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let admin = app.admin().await;
    let path = format!("/api/v1/users/{}/password", inspector.user_id);

    let weak = app
        .post_json(
            &path,
            Some(&admin.access_token),
            &json!({"new_password": "123"}),
        )
        .await;
    assert_error(weak, 422, "validation_failed").await;

    let reset = app
        .post_json(
            &path,
            Some(&admin.access_token),
            &json!({"new_password": "reset by the admin"}),
        )
        .await;
    assert_eq!(reset.status(), 204);
    assert_error(
        app.get("/api/v1/me", Some(&inspector.access_token)).await,
        401,
        "unauthorized",
    )
    .await;
    let me: Value = app
        .get(
            &format!("/api/v1/users/{}", inspector.user_id),
            Some(&admin.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        app.login(me["username"].as_str().unwrap(), "reset by the admin")
            .await
            .status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_users_are_404() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let path = format!("/api/v1/users/{}", uuid::Uuid::now_v7());
    assert_error(
        app.get(&path, Some(&admin.access_token)).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.get("/api/v1/users/not-a-uuid", Some(&admin.access_token))
            .await,
        404,
        "not_found",
    )
    .await;
}
