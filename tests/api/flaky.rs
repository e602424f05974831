//! A phone on a bad network, proven: a proxy between the client and the server cuts
//! answers mid-way, cuts requests mid-body, stalls and resets, and a phone that retries
//! (the same `Idempotency-Key`, the same `client_id`, the same refresh token) lands every
//! filing, photo, action and refresh exactly once, stays signed in, and leaves nothing
//! half-written.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::{TestApp, report_body, spawn_app};
use crate::images;

/// What the proxy does to one connection.
#[derive(Clone, Copy, Debug)]
enum Fault {
    Pass,
    /// The request reaches the server whole; the answer is cut after this many bytes.
    LoseAnswer(usize),
    /// The request is cut after this many bytes; the server never sees the rest.
    CutRequest(usize),
    /// Nothing moves for a while, then the connection is reset.
    StallThenReset,
}

/// The proxy's plan: connection n gets `plan[n % plan.len()]`.
const PLAN: [Fault; 7] = [
    Fault::LoseAnswer(0),
    Fault::Pass,
    Fault::CutRequest(700),
    Fault::LoseAnswer(40),
    Fault::StallThenReset,
    Fault::CutRequest(90),
    Fault::Pass,
];

/// Starts the proxy in front of `upstream` (host:port); answers its address and a count
/// of the connections it faulted.
async fn bad_network(upstream: String) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let faulted = Arc::new(AtomicUsize::new(0));
    let counter = faulted.clone();
    tokio::spawn(async move {
        let mut n = 0usize;
        while let Ok((client, _)) = listener.accept().await {
            let fault = PLAN[n % PLAN.len()];
            n += 1;
            if !matches!(fault, Fault::Pass) {
                counter.fetch_add(1, Ordering::SeqCst);
            }
            let upstream = upstream.clone();
            tokio::spawn(async move {
                if let Ok(server) = TcpStream::connect(&upstream).await {
                    relay(client, server, fault).await;
                }
            });
        }
    });
    (address, faulted)
}

async fn relay(client: TcpStream, server: TcpStream, fault: Fault) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let (request_limit, answer_limit) = match fault {
        Fault::Pass => (usize::MAX, usize::MAX),
        Fault::LoseAnswer(bytes) => (usize::MAX, bytes),
        Fault::CutRequest(bytes) => (bytes, usize::MAX),
        Fault::StallThenReset => {
            tokio::time::sleep(Duration::from_millis(300)).await;
            return; // dropping both sides resets them
        }
    };
    let upstream = async move {
        let mut sent = 0usize;
        let mut buffer = vec![0u8; 16 * 1024];
        loop {
            let n = match client_read.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let allowed = n.min(request_limit - sent);
            if server_write.write_all(&buffer[..allowed]).await.is_err() {
                break;
            }
            sent += allowed;
            if sent >= request_limit {
                break;
            }
        }
        // A cut request: the server's read ends mid-body.
        let _ = server_write.shutdown().await;
    };
    let downstream = async move {
        let mut passed = 0usize;
        let mut buffer = vec![0u8; 16 * 1024];
        loop {
            let n = match server_read.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let allowed = n.min(answer_limit - passed);
            if client_write.write_all(&buffer[..allowed]).await.is_err() {
                break;
            }
            passed += allowed;
            if passed >= answer_limit {
                break; // the rest of the answer is lost; the phone sees a broken connection
            }
        }
    };
    // The connection ends when either side is done with it.
    tokio::select! {
        _ = upstream => {}
        _ = downstream => {}
    }
}

/// A phone's HTTP client: no kept-alive connections (each try meets the network anew) and
/// short timeouts.
fn phone() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Sends until an answer arrives that is not a transport failure or a "try again";
/// answers it, and whether it was a kept first answer given again.
async fn until_answered(
    send: impl Fn() -> reqwest::RequestBuilder,
) -> (reqwest::StatusCode, Value, bool) {
    for _ in 0..40 {
        let Ok(response) = send().send().await else {
            continue;
        };
        let status = response.status();
        let replayed = response.headers().contains_key("idempotent-replayed");
        let retry = status.as_u16() == 408
            || status.as_u16() == 409 && {
                // Only "the first is still running" is worth waiting for.
                response.headers().get("retry-after").is_some()
            }
            || status.is_server_error();
        let Ok(bytes) = response.bytes().await else {
            continue; // the answer was cut mid-way
        };
        if retry {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        return (status, body, replayed);
    }
    panic!("no answer after 40 tries");
}

fn with_photos_form(report: &Value, seed: u32) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("report", report.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(images::jpeg(640, 480, seed))
                .file_name("a.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes(images::jpeg(640, 480, seed + 1000))
                .file_name("b.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        )
}

async fn count_objects(app: &TestApp) -> usize {
    app.store()
        .list(xuncha::storage::keys::PHOTO_PREFIX)
        .await
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread")]
async fn on_a_network_that_cuts_stalls_and_resets_everything_lands_exactly_once() {
    let app = spawn_app().await;
    let upstream = app.address.trim_start_matches("http://").to_owned();
    let (proxy, faulted) = bad_network(upstream).await;
    let client = phone();
    let department = app.create_department().await;
    let supervisor = app.login_as("supervisor").await.access_token;
    let inspector = app.login_as("inspector").await;
    let mut refresh_token = inspector.refresh_token.clone();
    let mut access = inspector.access_token.clone();
    const CASES: usize = 8;

    let mut filed = Vec::new();
    let mut replays = 0;
    for i in 0..CASES {
        // Before each filing, the access token is renewed over the same network: a lost
        // refresh answer is retried with the token the phone still holds.
        let token = refresh_token.clone();
        let (status, body, _) = until_answered(|| {
            client
                .post(format!("{proxy}/api/v1/auth/refresh"))
                .json(&json!({"refresh_token": token}))
        })
        .await;
        assert_eq!(status, 200, "refresh {i}: {body}");
        refresh_token = body["refresh_token"].as_str().unwrap().to_owned();
        access = body["access_token"].as_str().unwrap().to_owned();

        let report = report_body(json!({}));
        let key = uuid::Uuid::now_v7().to_string();
        let (status, case, replayed) = until_answered(|| {
            client
                .post(format!("{proxy}/api/v1/reports/with-photos"))
                .bearer_auth(&access)
                .header("Idempotency-Key", &key)
                .multipart(with_photos_form(&report, i as u32 * 10))
        })
        .await;
        assert!(
            status == 201 || status == 200,
            "filing {i}: {status} {case}"
        );
        assert_eq!(case["photos"].as_array().unwrap().len(), 2, "{case}");
        replays += usize::from(replayed);
        filed.push(case);
    }

    for case in &filed {
        let key = uuid::Uuid::now_v7().to_string();
        let path = format!(
            "{proxy}/api/v1/reports/{}/assign",
            case["id"].as_str().unwrap()
        );
        let body = json!({"version": case["version"], "department_id": department});
        let (status, answer, replayed) = until_answered(|| {
            client
                .post(&path)
                .bearer_auth(&supervisor)
                .header("Idempotency-Key", &key)
                .json(&body)
        })
        .await;
        assert_eq!(status, 200, "assign: {answer}");
        assert_eq!(answer["status"], "assigned");
        replays += usize::from(replayed);
    }
    assert!(
        faulted.load(Ordering::SeqCst) >= 10,
        "the network did misbehave"
    );
    // Some answers were lost after the server acted, and were given again.
    assert!(replays >= 2, "{replays} replays");

    // Exactly once: the inspector's cases, their photos, one assignment each.
    let mine: Value = app
        .get("/api/v1/reports?limit=50", Some(&access))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"].as_array().unwrap().len(), CASES, "{mine}");
    for case in &filed {
        let events: Value = app
            .get(
                &format!("/api/v1/reports/{}/events", case["id"].as_str().unwrap()),
                Some(&supervisor),
            )
            .await
            .json()
            .await
            .unwrap();
        let actions: Vec<&str> = events["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["file", "assign"], "{events}");
        assert_eq!(events["chain_intact"], true);
    }
    // Still signed in, on the token the phone holds.
    let (status, _, _) = until_answered(|| {
        client
            .post(format!("{proxy}/api/v1/auth/refresh"))
            .json(&json!({"refresh_token": refresh_token}))
    })
    .await;
    assert_eq!(status, 200);
    // Nothing half-written: every stored object belongs to a photo (three each), and no
    // key is left running.
    let mut objects = 0;
    for _ in 0..50 {
        objects = count_objects(&app).await;
        if objects == CASES * 2 * 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(objects, CASES * 2 * 3);
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let running = entity::idempotency_keys::Entity::find()
        .filter(entity::idempotency_keys::Column::Fingerprint.is_null())
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(running, 0);
}
