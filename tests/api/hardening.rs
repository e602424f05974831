//! Defences found missing by hostile testing: each test here failed before its fix.

use std::time::Duration;

use sea_orm::EntityTrait;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{JWT_SECRET, spawn_app, spawn_app_with};

/// Writes `head` and then `body` at `bytes_per_tick` every `tick`, and returns what the
/// server answered (its first bytes), or `None` if it had not answered within `limit`.
async fn answer_while_sending(
    address: &str,
    head: String,
    body: Vec<u8>,
    bytes_per_tick: usize,
    tick: Duration,
    limit: Duration,
) -> Option<String> {
    let mut stream = TcpStream::connect(address.trim_start_matches("http://"))
        .await
        .unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let sender = tokio::spawn(async move {
        for chunk in body.chunks(bytes_per_tick.max(1)) {
            if writer.write_all(chunk).await.is_err() {
                break;
            }
            tokio::time::sleep(tick).await;
        }
        // Hold the connection open without sending the rest.
        tokio::time::sleep(Duration::from_secs(60)).await;
    });
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(limit, reader.read(&mut answer)).await;
    sender.abort();
    match read {
        Ok(Ok(n)) if n > 0 => Some(String::from_utf8_lossy(&answer[..n]).into_owned()),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_sent_a_byte_at_a_time_is_cut_off_with_408() {
    let app = spawn_app_with(&[
        ("XUNCHA_BODY_TIMEOUT_SECONDS", "1"),
        ("XUNCHA_BODY_MIN_BYTES_PER_SECOND", "1000"),
    ])
    .await;
    let body = br#"{"username":"admin","password":"a password that never ends"}"#.to_vec();
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let answer = answer_while_sending(
        &app.address,
        head,
        body,
        1,
        Duration::from_millis(250),
        Duration::from_secs(8),
    )
    .await
    .expect("the server answered before the body was whole");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_at_a_phones_pace_is_not_cut_off() {
    let app = spawn_app_with(&[
        ("XUNCHA_BODY_TIMEOUT_SECONDS", "1"),
        ("XUNCHA_BODY_MIN_BYTES_PER_SECOND", "1000"),
    ])
    .await;
    // 3 KiB at 2 KiB/s: slower than the grace alone allows, faster than the minimum rate.
    let password = "x".repeat(3000);
    let body = serde_json::to_vec(&json!({"username": "nobody", "password": password})).unwrap();
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let answer = answer_while_sending(
        &app.address,
        head,
        body,
        200,
        Duration::from_millis(100),
        Duration::from_secs(10),
    )
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
}

/// Headers and the start of a 171 MiB upload that never finishes.
fn endless_upload(path: &str, token: &str, kind_in_form: bool) -> (String, Vec<u8>) {
    endless_upload_of(path, token, kind_in_form, 9 * 19 * 1024 * 1024)
}

fn endless_upload_of(
    path: &str,
    token: &str,
    kind_in_form: bool,
    declared: usize,
) -> (String, Vec<u8>) {
    let boundary = "xunchaboundary";
    let mut start = Vec::new();
    if kind_in_form {
        start.extend_from_slice(
            format!(
                "--{boundary}\r\ncontent-disposition: form-data; name=\"kind\"\r\n\r\nbefore\r\n"
            )
            .as_bytes(),
        );
    }
    start.extend_from_slice(
        format!("--{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\ncontent-type: image/jpeg\r\n\r\n")
            .as_bytes(),
    );
    start.extend(std::iter::repeat_n(0xAB, 256 * 1024));
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {token}\r\ncontent-type: multipart/form-data; boundary={boundary}\r\ncontent-length: {declared}\r\n\r\n"
    );
    (head, start)
}

/// Sends an upload at a steady 6 MiB/s without ever finishing it, and returns what the
/// server answered within `limit`.
async fn upload_answer(
    address: &str,
    (head, start): (String, Vec<u8>),
    limit: Duration,
) -> Option<String> {
    answer_while_sending(
        address,
        head,
        start,
        64 * 1024,
        Duration::from_millis(10),
        limit,
    )
    .await
}

/// An upload kept arriving in the background (for 30 s), holding what it reserved.
fn hold_upload(address: &str, upload: (String, Vec<u8>)) -> tokio::task::JoinHandle<()> {
    let address = address.to_owned();
    tokio::spawn(async move {
        let _ = upload_answer(&address, upload, Duration::from_secs(30)).await;
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_to_a_case_the_caller_cannot_see_is_refused_before_its_body_is_read() {
    let app = spawn_app().await;
    let filer = app.login_as("inspector").await;
    let stranger = app.login_as("shopfront").await;
    let case = app.file_report(&filer.access_token, json!({})).await;
    let case_id = case["id"].as_str().unwrap();
    for (path, token, kind_in_form, expected) in [
        // A case another's: 404, as if it did not exist.
        (
            format!("/api/v1/reports/{case_id}/photos?kind=before"),
            &stranger.access_token,
            false,
            "HTTP/1.1 404",
        ),
        (
            format!("/api/v1/reports/{case_id}/photos"),
            &stranger.access_token,
            true,
            "HTTP/1.1 404",
        ),
        // Seen, but not the filer's kind of photo: refused as well.
        (
            format!("/api/v1/reports/{case_id}/photos?kind=after"),
            &filer.access_token,
            false,
            "HTTP/1.1 403",
        ),
    ] {
        let answer = upload_answer(
            &app.address,
            endless_upload(&path, token, kind_in_form),
            Duration::from_secs(5),
        )
        .await
        .expect("answered without waiting for the body");
        assert!(answer.starts_with(expected), "{path}: {answer}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kind_after_the_files_is_refused() {
    let app = spawn_app().await;
    let filer = app.login_as("inspector").await;
    let case = app.file_report(&filer.access_token, json!({})).await;
    let jpeg = crate::images::jpeg(64, 48, 1);
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(jpeg).file_name("a.jpg"),
        )
        .text("kind", "before");
    let response = app
        .client
        .post(app.url(&format!(
            "/api/v1/reports/{}/photos",
            case["id"].as_str().unwrap()
        )))
        .bearer_auth(&filer.access_token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["fields"]["kind"].is_string(), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_wrong_passwords_are_held_to_the_limit_like_a_sequence() {
    let app = spawn_app().await;
    app.create_user("target.user", "inspector").await;
    let wrong: Vec<String> = (0..16).map(|n| format!("wrong guess {n}")).collect();
    let guesses = wrong
        .iter()
        .map(|password| app.login("target.user", password));
    let statuses: Vec<u16> = futures_util::future::join_all(guesses)
        .await
        .into_iter()
        .map(|r| r.status().as_u16())
        .collect();
    let judged = statuses.iter().filter(|s| **s == 401).count();
    assert!(judged <= 5, "{judged} judged: {statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
    let right = app.login("target.user", crate::helpers::PASSWORD).await;
    assert_eq!(right.status(), 429);
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_ins_that_succeed_do_not_lock_a_shared_address() {
    let app = spawn_app().await;
    // More right sign-ins from one address than the per-address failure limit.
    for n in 0..25 {
        let username = format!("office.{n}");
        app.create_user(&username, "inspector").await;
        let response = app.login(&username, crate::helpers::PASSWORD).await;
        assert_eq!(response.status(), 200, "sign-in {n}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_answer_forbids_sniffing_and_token_answers_are_not_stored() {
    let app = spawn_app().await;
    for path in ["/readyz", "/api/v1/nothing-here", "/api/v1/categories"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
    }
    let session = app.admin().await;
    for response in [
        app.login("admin", crate::helpers::ADMIN_PASSWORD).await,
        app.post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": session.refresh_token}),
        )
        .await,
    ] {
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
    }
    for (path, body) in [
        ("/api/v1/api-keys", json!({"name": "随手拍"})),
        (
            "/api/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/hook", "events": ["assigned"]}),
        ),
    ] {
        let response = app
            .post_json(path, Some(&session.access_token), &body)
            .await;
        assert_eq!(response.status(), 201, "{path}");
        assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_not_valid_yet_is_refused() {
    use base64::Engine;
    use jsonwebtoken::{EncodingKey, Header, encode};
    let app = spawn_app().await;
    let admin = app.admin().await;
    // The server's own claims, signed again with and without a `nbf` an hour ahead.
    let payload = admin.access_token.split('.').nth(1).unwrap();
    let mut claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    let sign = |claims: &Value| {
        encode(
            &Header::default(),
            claims,
            &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
        )
        .unwrap()
    };
    let me = |token: String| {
        app.client
            .get(app.url("/api/v1/me"))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(me(sign(&claims)).await.unwrap().status(), 200);
    claims["nbf"] = json!(chrono::Utc::now().timestamp() + 3600);
    assert_eq!(me(sign(&claims)).await.unwrap().status(), 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn one_user_holds_at_most_two_uploads_in_flight() {
    let app = spawn_app().await;
    let filer = app.login_as("inspector").await;
    let case = app.file_report(&filer.access_token, json!({})).await;
    let path = format!(
        "/api/v1/reports/{}/photos?kind=before",
        case["id"].as_str().unwrap()
    );
    let held: Vec<_> = (0..2)
        .map(|_| {
            hold_upload(
                &app.address,
                endless_upload(&path, &filer.access_token, false),
            )
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let third = upload_answer(
        &app.address,
        endless_upload(&path, &filer.access_token, false),
        Duration::from_secs(5),
    )
    .await
    .expect("the third upload is answered at once");
    assert!(third.starts_with("HTTP/1.1 429"), "{third}");
    for upload in held {
        upload.abort();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_past_the_memory_budget_are_told_to_come_back() {
    let app = spawn_app_with(&[("XUNCHA_UPLOAD_BUFFER_MIB", "192")]).await;
    let first = app.login_as("inspector").await;
    let second = app.login_as("inspector").await;
    let path_of = |case: &Value| {
        format!(
            "/api/v1/reports/{}/photos?kind=before",
            case["id"].as_str().unwrap()
        )
    };
    let first_case = app.file_report(&first.access_token, json!({})).await;
    let second_case = app.file_report(&second.access_token, json!({})).await;
    // 171 MiB of the 192 are taken by an upload still arriving.
    let held = hold_upload(
        &app.address,
        endless_upload(&path_of(&first_case), &first.access_token, false),
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let answer = upload_answer(
        &app.address,
        endless_upload_of(
            &path_of(&second_case),
            &second.access_token,
            false,
            30 * 1024 * 1024,
        ),
        Duration::from_secs(15),
    )
    .await
    .expect("answered once the wait for the budget ran out");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("server_busy"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after"),
        "{answer}"
    );
    held.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_case_that_moves_on_while_its_photo_arrives_is_judged_as_it_is_now() {
    let app = spawn_app().await;
    let filer = app.login_as("inspector").await;
    let supervisor = app.login_as("supervisor").await;
    let case = app.file_report(&filer.access_token, json!({})).await;
    let jpeg = crate::images::jpeg(640, 480, 7);
    let boundary = "xunchaboundary";
    let mut body = format!(
        "--{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\ncontent-type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&jpeg);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let head = format!(
        "POST /api/v1/reports/{}/photos?kind=before HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\ncontent-type: multipart/form-data; boundary={boundary}\r\ncontent-length: {}\r\n\r\n",
        case["id"].as_str().unwrap(),
        filer.access_token,
        body.len()
    );
    let mut stream = TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap();
    // The allowed photo starts arriving; the case is cancelled before the rest comes.
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..body.len() / 2]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let cancelled = app
        .post_json(
            &format!("/api/v1/reports/{}/cancel", case["id"].as_str().unwrap()),
            Some(&supervisor.access_token),
            &json!({"version": case["version"], "note": "误报"}),
        )
        .await;
    assert_eq!(cancelled.status(), 200);
    stream.write_all(&body[body.len() / 2..]).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 409"), "{answer}");
    let photos = entity::photos::Entity::find().all(&app.db).await.unwrap();
    assert!(photos.is_empty(), "no photo was kept");
}
