//! Outbound webhooks: signed, retried, sent once even with two instances; the overdue
//! sweep notifies once.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

#[derive(Clone, Debug)]
struct Received {
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
}

/// A webhook receiver on loopback that fails the first `failures` requests with 500.
async fn receiver(failures: usize) -> (String, Arc<Mutex<Vec<Received>>>) {
    let received: Arc<Mutex<Vec<Received>>> = Arc::default();
    let failed = Arc::new(Mutex::new(0usize));
    let log = received.clone();
    let server = HttpServer::new(move || {
        let log = log.clone();
        let failed = failed.clone();
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let log = log.clone();
            let failed = failed.clone();
            async move {
                let mut count = failed.lock().unwrap();
                if *count < failures {
                    *count += 1;
                    return HttpResponse::InternalServerError().finish();
                }
                log.lock().unwrap().push(Received {
                    headers: req
                        .headers()
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
                        .collect(),
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
                HttpResponse::Ok().finish()
            }
        }))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let address = format!("http://{}/hook", server.addrs()[0]);
    tokio::spawn(server.run());
    (address, received)
}

async fn wait_for(
    received: &Arc<Mutex<Vec<Received>>>,
    count: usize,
    seconds: u64,
) -> Vec<Received> {
    for _ in 0..seconds * 10 {
        if received.lock().unwrap().len() >= count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    received.lock().unwrap().clone()
}

async fn webhook(app: &TestApp, url: &str, format: &str, events: Value) -> String {
    let admin = app.admin().await;
    let response = app
        .post_json("/api/v1/webhooks", Some(&admin.access_token), &json!({"url": url, "events": events, "format": format, "secret": "a-shared-webhook-secret"}))
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    body["secret"].as_str().unwrap().to_owned()
}

async fn assigned_case(app: &TestApp) -> Value {
    let inspector = app.login_as("inspector").await;
    let supervisor = app.login_as("supervisor").await;
    let department = app.create_department().await;
    let case = app.file_report(&inspector.access_token, json!({})).await;
    let response = app
        .post_json(
            &format!("/api/v1/reports/{}/assign", case["id"].as_str().unwrap()),
            Some(&supervisor.access_token),
            &json!({"version": case["version"], "department_id": department}),
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_assignment_is_announced_with_a_valid_signature() {
    let app = spawn_app().await;
    let (url, received) = receiver(0).await;
    let secret = webhook(&app, &url, "json", json!(["assigned"])).await;
    let case = assigned_case(&app).await;
    let got = wait_for(&received, 1, 15).await;
    assert_eq!(got.len(), 1, "one notice");
    let notice = &got[0];
    assert_eq!(notice.header("x-xuncha-event"), "assigned");
    let body: Value = serde_json::from_str(&notice.body).unwrap();
    assert_eq!(body["event"], "assigned");
    assert_eq!(body["case"]["case_no"], case["case_no"]);
    let timestamp = notice.header("x-xuncha-timestamp");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{}", notice.body).as_bytes());
    assert_eq!(
        notice.header("x-xuncha-signature"),
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dingtalk_robot_gets_a_markdown_message_and_failures_are_retried() {
    let app = spawn_app().await;
    let (url, received) = receiver(1).await;
    webhook(&app, &url, "dingtalk", json!(["assigned"])).await;
    let case = assigned_case(&app).await;
    // The first attempt fails; the retry comes after the 10 s backoff.
    let got = wait_for(&received, 1, 30).await;
    assert_eq!(got.len(), 1);
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body["msgtype"], "markdown");
    assert!(
        body["markdown"]["text"]
            .as_str()
            .unwrap()
            .contains(case["case_no"].as_str().unwrap())
    );
    use sea_orm::{EntityTrait, PaginatorTrait};
    let deliveries = entity::webhook_deliveries::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].attempts, 2);
    assert!(deliveries[0].delivered_at.is_some());
    assert_eq!(
        entity::webhooks::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_instances_send_each_notice_once() {
    let app = spawn_app().await;
    let _second = app.second_instance().await;
    let (url, received) = receiver(0).await;
    webhook(&app, &url, "json", json!(["assigned"])).await;
    for _ in 0..4 {
        assigned_case(&app).await;
    }
    wait_for(&received, 4, 15).await;
    tokio::time::sleep(Duration::from_secs(5)).await; // time for any duplicate to arrive
    let got = received.lock().unwrap().clone();
    let mut ids: Vec<&str> = got.iter().map(|r| r.header("x-xuncha-delivery")).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((got.len(), ids.len()), (4, 4));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_overdue_sweep_notifies_once() {
    let app = spawn_app().await;
    let (url, _received) = receiver(0).await;
    webhook(&app, &url, "wecom", json!(["overdue"])).await;
    let case = assigned_case(&app).await;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    entity::cases::Entity::update_many()
        .col_expr(
            entity::cases::Column::DeadlineAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::minutes(5)),
        )
        .filter(
            entity::cases::Column::Id.eq(case["id"]
                .as_str()
                .unwrap()
                .parse::<uuid::Uuid>()
                .unwrap()),
        )
        .exec(&app.db)
        .await
        .unwrap();
    let first = xuncha::services::notify::sweep_overdue(&app.state)
        .await
        .unwrap();
    let second = xuncha::services::notify::sweep_overdue(&app.state)
        .await
        .unwrap();
    assert_eq!((first, second), (1, 0));
    let overdue = entity::webhook_deliveries::Entity::find()
        .filter(entity::webhook_deliveries::Column::Event.eq("overdue"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(overdue.len(), 1);
    let body: Value = serde_json::from_str(&overdue[0].payload).unwrap();
    assert!(
        body["markdown"]["content"]
            .as_str()
            .unwrap()
            .contains("超期")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_filings_sent_to_two_instances_at_once_make_one_case_and_one_notice_each() {
    let app = spawn_app().await;
    let second = app.second_instance().await;
    let admin = app.admin().await;
    let department = app.create_department().await;
    // An area whose local authority takes every filing, so each is assigned at once.
    let area = app
        .post_json("/api/v1/areas", Some(&admin.access_token), &json!({"code": "D1", "name": "上城区", "level": "district",
            "local_authority_id": department,
            "boundary": {"type": "Polygon", "coordinates": [[[120.1, 30.2], [120.2, 30.2], [120.2, 30.3], [120.1, 30.3], [120.1, 30.2]]]}}))
        .await;
    assert_eq!(area.status(), 201);
    let (url, received) = receiver(0).await;
    webhook(&app, &url, "json", json!(["assigned"])).await;
    let inspector = app.login_as("inspector").await;
    let bodies: Vec<Value> = (0..12)
        .map(|_| crate::helpers::report_body(json!({})))
        .collect();
    let mut sends = Vec::new();
    for body in &bodies {
        for base in [app.address.clone(), second.clone()] {
            let request = app
                .client
                .post(format!("{base}/api/v1/reports"))
                .bearer_auth(&inspector.access_token)
                .json(body)
                .send();
            sends.push(request);
        }
    }
    let answers = futures_util::future::join_all(sends).await;
    let mut case_ids = std::collections::HashMap::new();
    for (i, answer) in answers.into_iter().enumerate() {
        let answer = answer.unwrap();
        assert!(
            answer.status() == 201 || answer.status() == 200,
            "{}",
            answer.status()
        );
        let case: Value = answer.json().await.unwrap();
        let client_id = bodies[i / 2]["client_id"].as_str().unwrap().to_owned();
        let previous = case_ids.insert(client_id, case["id"].clone());
        if let Some(previous) = previous {
            assert_eq!(
                previous, case["id"],
                "both instances answer with the same case"
            );
        }
    }
    use sea_orm::{EntityTrait, PaginatorTrait};
    let cases = entity::cases::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(cases.len(), 12, "one case per client_id");
    let mut numbers: Vec<&str> = cases.iter().map(|c| c.case_no.as_str()).collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len(), 12, "no case number twice");
    assert_eq!(
        entity::webhook_deliveries::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        12
    );
    wait_for(&received, 12, 20).await;
    tokio::time::sleep(Duration::from_secs(4)).await; // time for any duplicate to arrive
    let got = received.lock().unwrap().clone();
    let mut ids: Vec<&str> = got.iter().map(|r| r.header("x-xuncha-delivery")).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!((got.len(), ids.len()), (12, 12), "each notice sent once");
}

#[tokio::test(flavor = "multi_thread")]
async fn addresses_inside_are_refused_at_registration_in_every_spelling() {
    let app = crate::helpers::spawn_app_with(&[("XUNCHA_WEBHOOK_ALLOWED_NETWORKS", " ")]).await;
    let admin = app.admin().await;
    for url in [
        "http://127.0.0.1:5432/",
        "http://2130706433/",
        "http://0x7f.0.0.1/",
        "http://[::1]:8080/",
        "http://[::ffff:127.0.0.1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/hook",
        "http://0.0.0.0/",
        "http://localhost:8080/hook",
        "http://user:secret@8.8.8.8/hook",
        "http:///hook",
    ] {
        let response = app
            .post_json(
                "/api/v1/webhooks",
                Some(&admin.access_token),
                &json!({"url": url, "events": ["assigned"]}),
            )
            .await;
        assert_eq!(response.status(), 422, "{url}");
        let body: Value = response.json().await.unwrap();
        assert!(body["error"]["fields"]["url"].is_string(), "{url}: {body}");
    }
}

async fn delivery_errors(app: &TestApp, seconds: u64) -> Vec<String> {
    use sea_orm::EntityTrait;
    for _ in 0..seconds * 10 {
        let rows = entity::webhook_deliveries::Entity::find()
            .all(&app.db)
            .await
            .unwrap();
        if !rows.is_empty() && rows.iter().all(|r| r.attempts > 0) {
            return rows.into_iter().filter_map(|r| r.last_error).collect();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no delivery was attempted");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_webhook_that_now_points_inside_is_refused_at_send_time() {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
    let app = crate::helpers::spawn_app_with(&[("XUNCHA_WEBHOOK_ALLOWED_NETWORKS", " ")]).await;
    let (inside, received) = receiver(0).await;
    // Registered while public; then the name (or the row) changes to point inside.
    webhook(&app, "http://8.8.8.8:9/one", "json", json!(["assigned"])).await;
    webhook(&app, "http://8.8.8.8:9/two", "json", json!(["assigned"])).await;
    let hooks = entity::webhooks::Entity::find().all(&app.db).await.unwrap();
    let targets = [inside.replace("127.0.0.1", "localhost"), inside.clone()];
    for (hook, target) in hooks.into_iter().zip(targets) {
        let mut active: entity::webhooks::ActiveModel = hook.into();
        active.url = Set(target);
        active.update(&app.db).await.unwrap();
    }
    assigned_case(&app).await;
    let errors = delivery_errors(&app, 15).await;
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors.iter().all(|e| e.contains("not a permitted address")),
        "{errors:?}"
    );
    assert!(
        received.lock().unwrap().is_empty(),
        "nothing reached inside"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_from_a_receiver_is_not_followed() {
    let app = spawn_app().await;
    let (elsewhere, received) = receiver(0).await;
    let redirecting = HttpServer::new(move || {
        let elsewhere = elsewhere.clone();
        App::new().default_service(web::to(move || {
            let elsewhere = elsewhere.clone();
            async move {
                HttpResponse::TemporaryRedirect()
                    .insert_header(("location", elsewhere))
                    .finish()
            }
        }))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let url = format!("http://{}/hook", redirecting.addrs()[0]);
    tokio::spawn(redirecting.run());
    webhook(&app, &url, "json", json!(["assigned"])).await;
    assigned_case(&app).await;
    let errors = delivery_errors(&app, 15).await;
    assert!(
        errors
            .iter()
            .any(|e| e.contains("redirects are not followed")),
        "{errors:?}"
    );
    assert!(
        received.lock().unwrap().is_empty(),
        "the redirect was not followed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_case_filed_without_a_photo_reaches_its_department_with_its_first_photo() {
    let app = crate::helpers::spawn_app_with(&[("XUNCHA_DISPATCH_WAIT_SECONDS", "600")]).await;
    let (url, received) = receiver(0).await;
    webhook(&app, &url, "json", json!(["assigned"])).await;
    let worker = app.parking_goes_to_a_department().await;
    let inspector = app.login_as("inspector").await.access_token;
    let case = app.file_report(&inspector, json!({})).await;
    assert_eq!(case["status"], "assigned");
    assert!(case["held_until"].is_string(), "{case}");
    let path = format!("/api/v1/reports/{}", case["id"].as_str().unwrap());

    // Held: the department neither sees it nor is told of it.
    assert_eq!(app.get(&path, Some(&worker)).await.status(), 404);
    let queue: Value = app
        .get("/api/v1/queue", Some(&worker))
        .await
        .json()
        .await
        .unwrap();
    assert!(!queue.to_string().contains(case["id"].as_str().unwrap()));
    assert!(wait_for(&received, 1, 2).await.is_empty());

    // The photo arrives: the case is dispatched, seen and announced.
    let photo = app
        .upload_photos(
            &inspector,
            case["id"].as_str().unwrap(),
            "before",
            vec![crate::images::jpeg(320, 240, 41)],
        )
        .await;
    assert_eq!(photo.status(), 201);
    let seen = app.get(&path, Some(&worker)).await;
    assert_eq!(seen.status(), 200);
    let seen: Value = seen.json().await.unwrap();
    assert!(seen["held_until"].is_null());
    let got = wait_for(&received, 1, 15).await;
    assert_eq!(got.len(), 1, "announced once, on dispatch");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_held_case_reaches_its_department_when_its_wait_ends() {
    let app = crate::helpers::spawn_app_with(&[("XUNCHA_DISPATCH_WAIT_SECONDS", "2")]).await;
    let (url, received) = receiver(0).await;
    webhook(&app, &url, "json", json!(["assigned"])).await;
    let worker = app.parking_goes_to_a_department().await;
    let inspector = app.login_as("inspector").await.access_token;
    let case = app.file_report(&inspector, json!({})).await;
    let path = format!("/api/v1/reports/{}", case["id"].as_str().unwrap());
    assert_eq!(app.get(&path, Some(&worker)).await.status(), 404);
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    assert_eq!(app.get(&path, Some(&worker)).await.status(), 200);
    assert_eq!(wait_for(&received, 1, 15).await.len(), 1);
}
