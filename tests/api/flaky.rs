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

use crate::helpers::{TestApp, report_body, spawn_app, spawn_app_with};
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

/// The phone's loop for a direct upload: ask where the upload stands, send every part the
/// store lacks (an answer lost or a body cut does not matter: the next status tells), until
/// the store has them all. Answers how many part sends were tried.
async fn send_until_stored(
    client: &reqwest::Client,
    status_url: &str,
    token: &str,
    file: &[u8],
) -> usize {
    const PART: usize = 5 * 1024 * 1024;
    let mut sends = 0;
    for _ in 0..40 {
        let (status, upload, _) =
            until_answered(|| client.get(status_url).bearer_auth(token)).await;
        assert_eq!(status, 200, "{upload}");
        let missing: Vec<Value> = upload["parts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|part| part["received"] == false)
            .cloned()
            .collect();
        if missing.is_empty() {
            return sends;
        }
        for part in missing {
            let start = (part["number"].as_u64().unwrap() as usize - 1) * PART;
            let bytes = file[start..(start + PART).min(file.len())].to_vec();
            let put = &part["put"];
            let mut request = client.put(put["url"].as_str().unwrap()).body(bytes);
            for (name, value) in put["headers"].as_object().unwrap() {
                request = request.header(name, value.as_str().unwrap());
            }
            sends += 1;
            let _ = request.send().await;
        }
    }
    panic!("the store never had every part");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_photo_sent_straight_to_the_store_over_the_same_network_lands_once() {
    use sha2::{Digest, Sha256};

    // The store the README's first command runs: phones reach it through this service's
    // own address, so the parts cross the same bad network as the API calls. (An external
    // store signs its own host, which no proxy of the test's may stand in for; the
    // direct-upload tests cover it.)
    let app = spawn_app_with(&[("XUNCHA_S3_ENDPOINT", "")]).await;
    let upstream = app.address.trim_start_matches("http://").to_owned();
    let (proxy, faulted) = bad_network(upstream).await;
    let client = phone();
    let token = app.login_as("inspector").await.access_token;
    let case = app.file_report(&token, json!({})).await;
    let case_id = case["id"].as_str().unwrap();
    // Two parts: one of 5 MiB, and the rest.
    let png = images::noise_png(1600, 1200, 21);
    let sha256 = hex::encode(Sha256::digest(&png));

    let begin_key = uuid::Uuid::now_v7().to_string();
    let declared =
        json!({"case_id": case_id, "kind": "before", "size": png.len(), "sha256": sha256});
    let (status, upload, _) = until_answered(|| {
        client
            .post(format!("{proxy}/api/v1/uploads"))
            .bearer_auth(&token)
            .header("Idempotency-Key", &begin_key)
            .json(&declared)
    })
    .await;
    assert_eq!(status, 201, "{upload}");
    let upload_id = upload["id"].as_str().unwrap();
    assert_eq!(upload["parts"].as_array().unwrap().len(), 2);
    // The parts go to the address the phone used: through the same bad network.
    for part in upload["parts"].as_array().unwrap() {
        let url = part["put"]["url"].as_str().unwrap();
        assert!(url.starts_with(&proxy), "{url}");
    }

    let status_url = format!("{proxy}/api/v1/uploads/{upload_id}");
    let sends = send_until_stored(&client, &status_url, &token, &png).await;
    // Two parts, and at least one of them cut on the way and sent again.
    assert!(sends >= 3, "{sends} sends");

    let finish_key = uuid::Uuid::now_v7().to_string();
    let (status, done, _) = until_answered(|| {
        client
            .post(format!("{status_url}/complete"))
            .bearer_auth(&token)
            .header("Idempotency-Key", &finish_key)
            .json(&json!({}))
    })
    .await;
    assert_eq!(status, 201, "{done}");
    assert!(
        faulted.load(Ordering::SeqCst) >= 3,
        "the network did misbehave"
    );

    // One upload, one photo, the very bytes sent, and nothing left of the upload.
    let uploads = {
        use sea_orm::{EntityTrait, PaginatorTrait};
        entity::direct_uploads::Entity::find()
            .count(&app.db)
            .await
            .unwrap()
    };
    assert_eq!(uploads, 1);
    let photos = app
        .get(&format!("/api/v1/reports/{case_id}"), Some(&token))
        .await
        .json::<Value>()
        .await
        .unwrap()["photos"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(photos.len(), 1);
    assert_eq!(photos[0]["id"], done["photo"]["id"]);
    let original = app
        .get(
            &format!(
                "/api/v1/photos/{}/original",
                photos[0]["id"].as_str().unwrap()
            ),
            Some(&token),
        )
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(hex::encode(Sha256::digest(&original)), sha256);
    assert!(
        app.state
            .store
            .list(xuncha::storage::keys::UPLOAD_PREFIX)
            .await
            .unwrap()
            .is_empty()
    );
}
