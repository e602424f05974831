//! Sign-in, tokens, refresh rotation and the failed-login limit.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, JWT_SECRET, PASSWORD, assert_error, spawn_app};

#[tokio::test(flavor = "multi_thread")]
async fn login_with_the_right_password_returns_tokens_and_the_user() {
    let app = spawn_app().await;
    let response = app.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_u64().unwrap() > 0);
    assert!(body["refresh_token"].as_str().unwrap().len() >= 40);
    assert_eq!(body["user"]["username"], "admin");
    assert_eq!(body["user"]["role"], "admin");
    assert!(body["user"].get("password_hash").is_none());

    let me = app.get("/api/v1/me", body["access_token"].as_str()).await;
    assert_eq!(me.status(), 200);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["username"], "admin");
}

#[tokio::test(flavor = "multi_thread")]
async fn usernames_are_case_insensitive_at_login() {
    let app = spawn_app().await;
    assert_eq!(app.login(" ADMIN ", ADMIN_PASSWORD).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_or_unknown_user_gets_the_same_401() {
    let app = spawn_app().await;
    let wrong = assert_error(
        app.login("admin", "not the password").await,
        401,
        "invalid_credentials",
    )
    .await;
    let unknown = assert_error(
        app.login("nobody", "not the password").await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(wrong, unknown);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_disabled_user_cannot_sign_in_and_loses_open_sessions() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let admin = app.admin().await;
    let response = app
        .patch_json(
            &format!("/api/v1/users/{}", inspector.user_id),
            &admin.access_token,
            &json!({"disabled": true}),
        )
        .await;
    assert_eq!(response.status(), 200);

    let me: Value = app
        .get(
            &format!("/api/v1/users/{}", inspector.user_id),
            Some(&admin.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    let username = me["username"].as_str().unwrap();
    assert_error(app.login(username, PASSWORD).await, 403, "account_disabled").await;
    assert_error(
        app.get("/api/v1/me", Some(&inspector.access_token)).await,
        401,
        "unauthorized",
    )
    .await;
    let refreshed = app
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": inspector.refresh_token}),
        )
        .await;
    assert_error(refreshed, 401, "unauthorized").await;
}

fn forge(claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_foreign_unsigned_and_tampered_tokens_are_refused() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let now = chrono::Utc::now().timestamp();
    let valid: Value = {
        let payload = admin.access_token.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
    };
    // The forged-but-correct token proves the forging itself is right.
    let mut fresh = valid.clone();
    fresh["iat"] = json!(now);
    assert_eq!(
        app.get("/api/v1/me", Some(&forge(&fresh, JWT_SECRET.as_bytes())))
            .await
            .status(),
        200
    );

    let mut expired = valid.clone();
    expired["exp"] = json!(now - 120);
    let mut wrong_audience = valid.clone();
    wrong_audience["aud"] = json!("someone-else");
    let mut wrong_issuer = valid.clone();
    wrong_issuer["iss"] = json!("someone-else");
    let mut no_expiry = valid.clone();
    no_expiry.as_object_mut().unwrap().remove("exp");

    let header_none = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(valid.to_string());
    let alg_none = format!("{header_none}.{payload}.");

    let mut parts: Vec<String> = admin.access_token.split('.').map(str::to_owned).collect();
    let mut tampered_claims = valid.clone();
    tampered_claims["exp"] = json!(now + 86_400 * 365);
    parts[1] = URL_SAFE_NO_PAD.encode(tampered_claims.to_string());
    let tampered = parts.join(".");

    let tokens = [
        ("expired", forge(&expired, JWT_SECRET.as_bytes())),
        (
            "wrong key",
            forge(&valid, b"another-secret-that-is-long-enough-000000"),
        ),
        (
            "wrong audience",
            forge(&wrong_audience, JWT_SECRET.as_bytes()),
        ),
        ("wrong issuer", forge(&wrong_issuer, JWT_SECRET.as_bytes())),
        ("no expiry", forge(&no_expiry, JWT_SECRET.as_bytes())),
        ("alg none", alg_none),
        ("tampered", tampered),
        ("garbage", "not.a.token".to_owned()),
    ];
    for (what, token) in tokens {
        let response = app.get("/api/v1/me", Some(&token)).await;
        assert_eq!(response.status(), 401, "{what}");
        assert_eq!(
            response.headers().get("www-authenticate").unwrap(),
            "Bearer",
            "{what}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized", "{what}");
    }
    assert_error(app.get("/api/v1/me", None).await, 401, "unauthorized").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn roles_without_the_right_get_403() {
    let app = spawn_app().await;
    for role in ["supervisor", "inspector", "department", "shopfront"] {
        let session = app.login_as(role).await;
        assert_error(
            app.get("/api/v1/users", Some(&session.access_token)).await,
            403,
            "forbidden",
        )
        .await;
        let create = app
            .post_json(
                "/api/v1/users",
                Some(&session.access_token),
                &json!({"username": "sneaky", "password": PASSWORD, "display_name": "x", "role": "admin"}),
            )
            .await;
        assert_error(create, 403, "forbidden").await;
        // Everyone may read themselves.
        assert_eq!(
            app.get("/api/v1/me", Some(&session.access_token))
                .await
                .status(),
            200
        );
    }
}

async fn refresh(app: &crate::helpers::TestApp, token: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": token}),
    )
    .await
}

async fn pair(response: reqwest::Response) -> (String, String) {
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

/// Moves every spent refresh token's spending back by `seconds`, as if that long had passed.
async fn age_spent_tokens(app: &crate::helpers::TestApp, seconds: i64) {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    entity::refresh_tokens::Entity::update_many()
        .col_expr(
            entity::refresh_tokens::Column::UsedAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::seconds(seconds)),
        )
        .filter(entity::refresh_tokens::Column::UsedAt.is_not_null())
        .exec(&app.db)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_rotates_the_token_and_a_reuse_after_the_grace_window_revokes_the_family() {
    let app = spawn_app().await;
    let first = app.admin().await;

    let (access, second_refresh) = pair(refresh(&app, &first.refresh_token).await).await;
    assert_ne!(second_refresh, first.refresh_token);
    assert_eq!(app.get("/api/v1/me", Some(&access)).await.status(), 200);

    // The spent token again, 61 s after it was spent (the grace window is 60 s): theft.
    // It fails, and so does its successor.
    age_spent_tokens(&app, 61).await;
    assert_error(
        refresh(&app, &first.refresh_token).await,
        401,
        "unauthorized",
    )
    .await;
    assert_error(refresh(&app, &second_refresh).await, 401, "unauthorized").await;

    // Another sign-in of the same user is a different family and still works.
    let other = app.admin().await;
    assert_eq!(refresh(&app, &other.refresh_token).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refresh_whose_answer_was_lost_is_answered_again_within_the_grace_window() {
    let app = spawn_app().await;
    let first = app.admin().await;
    // The answer to this refresh is lost on the way to the phone…
    let (_, lost_refresh) = pair(refresh(&app, &first.refresh_token).await).await;
    // …so the phone retries with the token it holds, 50 s later, and is still signed in.
    age_spent_tokens(&app, 50).await;
    let (access, kept_refresh) = pair(refresh(&app, &first.refresh_token).await).await;
    assert_ne!(kept_refresh, lost_refresh);
    assert_eq!(app.get("/api/v1/me", Some(&access)).await.status(), 200);
    // The sign-in goes on from the pair the phone kept; the lost one was never revoked.
    pair(refresh(&app, &kept_refresh).await).await;
    pair(refresh(&app, &lost_refresh).await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_refreshes_with_one_token_both_get_a_pair_of_the_same_sign_in() {
    let app = spawn_app().await;
    let session = app.admin().await;
    let (a, b) = tokio::join!(
        refresh(&app, &session.refresh_token),
        refresh(&app, &session.refresh_token)
    );
    let (a, b) = (pair(a).await, pair(b).await);
    assert_ne!(a.1, b.1);
    // Whichever answer the phone kept goes on working.
    pair(refresh(&app, &a.1).await).await;
    let (_, b_next) = pair(refresh(&app, &b.1).await).await;
    // A token spent long ago still revokes the whole family, both branches included.
    age_spent_tokens(&app, 3_600).await;
    assert_error(refresh(&app, &a.1).await, 401, "unauthorized").await;
    assert_error(refresh(&app, &b_next).await, 401, "unauthorized").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_revokes_the_refresh_token_and_is_idempotent() {
    let app = spawn_app().await;
    let session = app.admin().await;
    let body = json!({"refresh_token": session.refresh_token});
    assert_eq!(
        app.post_json("/api/v1/auth/logout", None, &body)
            .await
            .status(),
        204
    );
    assert_eq!(
        app.post_json("/api/v1/auth/logout", None, &body)
            .await
            .status(),
        204
    );
    assert_error(
        app.post_json("/api/v1/auth/refresh", None, &body).await,
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn changing_your_password_ends_other_sessions_and_starts_a_new_one() {
    let app = spawn_app().await;
    let old = app.login_as("inspector").await;
    let me: Value = app
        .get("/api/v1/me", Some(&old.access_token))
        .await
        .json()
        .await
        .unwrap();
    let username = me["username"].as_str().unwrap().to_owned();

    let wrong = app
        .post_json(
            "/api/v1/me/password",
            Some(&old.access_token),
            &json!({"current_password": "not it at all", "new_password": "a brand new secret"}),
        )
        .await;
    let body = assert_error(wrong, 422, "validation_failed").await;
    assert!(body["error"]["fields"]["current_password"].is_string());

    let weak = app
        .post_json(
            "/api/v1/me/password",
            Some(&old.access_token),
            &json!({"current_password": PASSWORD, "new_password": "short"}),
        )
        .await;
    let body = assert_error(weak, 422, "validation_failed").await;
    assert!(body["error"]["fields"]["new_password"].is_string());

    let changed = app
        .post_json(
            "/api/v1/me/password",
            Some(&old.access_token),
            &json!({"current_password": PASSWORD, "new_password": "a brand new secret"}),
        )
        .await;
    assert_eq!(changed.status(), 200);
    let new: Value = changed.json().await.unwrap();

    assert_error(
        app.get("/api/v1/me", Some(&old.access_token)).await,
        401,
        "unauthorized",
    )
    .await;
    let old_refresh = app
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": old.refresh_token}),
        )
        .await;
    assert_error(old_refresh, 401, "unauthorized").await;
    assert_eq!(
        app.get("/api/v1/me", new["access_token"].as_str())
            .await
            .status(),
        200
    );
    assert_error(
        app.login(&username, PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(
        app.login(&username, "a brand new secret").await.status(),
        200
    );
}

async fn login_on(
    app: &crate::helpers::TestApp,
    device: &str,
    password: &str,
) -> reqwest::Response {
    app.post_json(
        "/api/v1/auth/login",
        None,
        &json!({"username": "admin", "password": password, "device_id": device}),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn five_wrong_passwords_lock_the_account_on_that_device_only() {
    let app = spawn_app().await;
    for _ in 0..5 {
        assert_error(
            app.login("admin", "wrong password!").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    // Without a device id, the device is the address: locked, even the right password.
    let locked = app.login("admin", ADMIN_PASSWORD).await;
    let retry_after: u64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    assert_error(locked, 429, "too_many_login_attempts").await;
    // The owner's phone, behind the same address, signs in.
    assert_eq!(
        login_on(&app, "phone-b", ADMIN_PASSWORD).await.status(),
        200
    );

    for _ in 0..5 {
        assert_eq!(
            login_on(&app, "phone-a", "wrong password!").await.status(),
            401
        );
    }
    assert_error(
        login_on(&app, "phone-a", ADMIN_PASSWORD).await,
        429,
        "too_many_login_attempts",
    )
    .await;
    assert_eq!(
        login_on(&app, "phone-b", ADMIN_PASSWORD).await.status(),
        200
    );
    assert_error(
        login_on(&app, &"x".repeat(101), ADMIN_PASSWORD).await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_failures_on_one_account_from_many_devices_lock_the_account() {
    let app = spawn_app().await;
    for i in 0..20 {
        let device = format!("guesser-{i}");
        assert_eq!(
            login_on(&app, &device, "wrong password!").await.status(),
            401
        );
    }
    assert_error(
        login_on(&app, "owner", ADMIN_PASSWORD).await,
        429,
        "too_many_login_attempts",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_successful_sign_in_resets_the_account_count() {
    let app = spawn_app().await;
    for _ in 0..4 {
        app.login("admin", "wrong password!").await;
    }
    assert_eq!(app.login("admin", ADMIN_PASSWORD).await.status(), 200);
    for _ in 0..4 {
        app.login("admin", "wrong password!").await;
    }
    assert_eq!(app.login("admin", ADMIN_PASSWORD).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_from_one_address_past_its_limit_lock_the_address() {
    // 200 by default (a district signs in from behind one address); 20 here.
    let app = crate::helpers::spawn_app_with(&[("XUNCHA_SIGNIN_FAILURES_PER_ADDRESS", "20")]).await;
    for i in 0..20 {
        let response = app.login(&format!("sprayed-{i}"), "password1234").await;
        assert_eq!(response.status(), 401);
    }
    let locked = app.login("admin", ADMIN_PASSWORD).await;
    assert!(locked.headers().contains_key("retry-after"));
    assert_error(locked, 429, "too_many_login_attempts").await;
}
