//! The bytes of one inspector's day on the wire, as a phone's browser would make it:
//! `Accept-Encoding: br, gzip`, conditional polls, compact lists. Run it with
//!
//! ```sh
//! cargo test -p xuncha-tests --test api -- --ignored phone_day --nocapture
//! ```
//!
//! and the table it prints goes in `docs/benchmarks.md`. A measurement, not a check: it
//! is ignored in the suite.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::{report_body, spawn_app};
use crate::images;

/// Bytes up (phone to server) and down, as counted by a relay between them.
#[derive(Clone, Default)]
struct Wire {
    up: Arc<AtomicU64>,
    down: Arc<AtomicU64>,
}

impl Wire {
    fn read(&self) -> (u64, u64) {
        (
            self.up.load(Ordering::SeqCst),
            self.down.load(Ordering::SeqCst),
        )
    }
}

async fn counting_relay(upstream: String) -> (String, Wire) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let wire = Wire::default();
    let counters = wire.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let upstream = upstream.clone();
            let counters = counters.clone();
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    return;
                };
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let up = counters.up.clone();
                let down = counters.down.clone();
                let a = async move {
                    let mut buffer = vec![0u8; 64 * 1024];
                    while let Ok(n) = cr.read(&mut buffer).await {
                        if n == 0 || sw.write_all(&buffer[..n]).await.is_err() {
                            break;
                        }
                        up.fetch_add(n as u64, Ordering::SeqCst);
                    }
                    let _ = sw.shutdown().await;
                };
                let b = async move {
                    let mut buffer = vec![0u8; 64 * 1024];
                    while let Ok(n) = sr.read(&mut buffer).await {
                        if n == 0 || cw.write_all(&buffer[..n]).await.is_err() {
                            break;
                        }
                        down.fetch_add(n as u64, Ordering::SeqCst);
                    }
                    let _ = cw.shutdown().await;
                };
                tokio::join!(a, b);
            });
        }
    });
    (address, wire)
}

/// The answer's JSON, decoded as the browser would.
async fn decoded(response: reqwest::Response) -> Value {
    let encoding = response
        .headers()
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = response.bytes().await.unwrap();
    let mut text = Vec::new();
    match encoding.as_str() {
        "br" => {
            brotli::Decompressor::new(&bytes[..], 4096)
                .read_to_end(&mut text)
                .unwrap();
        }
        "gzip" => {
            flate2::read::GzDecoder::new(&bytes[..])
                .read_to_end(&mut text)
                .unwrap();
        }
        _ => text = bytes.to_vec(),
    }
    serde_json::from_slice(&text).unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement: run it by name (docs/benchmarks.md)"]
async fn phone_day() {
    const CASES: usize = 40;
    const SHOPS: u32 = 300;
    let app = spawn_app().await;
    let admin = app.admin().await.access_token;
    // A patrol beat: a sub-district of 300 shops with frontage zones.
    for i in 0..SHOPS {
        let code =
            xuncha::domain::CreditCode::with_check_digit(&format!("92330199MB{i:07}")).unwrap();
        let (lat, lon) = (
            30.25 + f64::from(i / 20) * 0.0005,
            120.16 + f64::from(i % 20) * 0.0005,
        );
        let created = app
            .post_json(
                "/api/v1/shopfronts",
                Some(&admin),
                &json!({"name": format!("门店{i}"), "credit_code": code.as_str(), "address": format!("解放路 {i} 号"), "location": {"lat": lat, "lon": lon}, "frontage_radius_m": 15.0}),
            )
            .await;
        assert_eq!(created.status(), 201);
    }
    let user = app.create_user("phone.day", "inspector").await;
    assert!(user["id"].is_string());
    let (relay, wire) = counting_relay(app.address.trim_start_matches("http://").to_owned()).await;
    let phone = reqwest::Client::new();
    let get = |path: &str, token: &str| {
        phone
            .get(format!("{relay}{path}"))
            .bearer_auth(token)
            .header("accept-encoding", "br, gzip")
    };
    let mut rows: Vec<(String, u64, u64)> = Vec::new();
    let mut mark = wire.read();
    let mut step = |name: &str, rows: &mut Vec<(String, u64, u64)>| {
        let now = wire.read();
        rows.push((name.to_owned(), now.0 - mark.0, now.1 - mark.1));
        mark = now;
    };

    let session = decoded(
        phone
            .post(format!("{relay}/api/v1/auth/login"))
            .header("accept-encoding", "br, gzip")
            .json(&json!({"username": "phone.day", "password": crate::helpers::PASSWORD, "device_id": "phone-1"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let mut access = session["access_token"].as_str().unwrap().to_owned();
    let mut refresh = session["refresh_token"].as_str().unwrap().to_owned();
    step("sign-in", &mut rows);

    let registry = get(
        "/api/v1/registry/offline?bbox=120.15,30.24,120.18,30.27",
        &access,
    )
    .send()
    .await
    .unwrap();
    let registry_etag = registry.headers()["etag"].to_str().unwrap().to_owned();
    let registry = decoded(registry).await;
    assert_eq!(registry["zones"].as_array().unwrap().len(), SHOPS as usize);
    step("registry download (300 shop zones)", &mut rows);

    let mut photo_bytes = 0u64;
    let mut queue_etag = String::new();
    let mut polls = 0;
    for i in 0..CASES {
        if i % 5 == 0 {
            // Every 5 filings (about hourly): a token refresh, the registry's revalidation
            // and a compact queue poll.
            let renewed = decoded(
                phone
                    .post(format!("{relay}/api/v1/auth/refresh"))
                    .header("accept-encoding", "br, gzip")
                    .json(&json!({"refresh_token": refresh}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            access = renewed["access_token"].as_str().unwrap().to_owned();
            refresh = renewed["refresh_token"].as_str().unwrap().to_owned();
            let revalidated = get(
                "/api/v1/registry/offline?bbox=120.15,30.24,120.18,30.27",
                &access,
            )
            .header("if-none-match", &registry_etag)
            .send()
            .await
            .unwrap();
            assert_eq!(revalidated.status(), 304);
            let queue = get(
                "/api/v1/queue?fields=status,category,deadline_at,location",
                &access,
            )
            .header("if-none-match", &queue_etag)
            .send()
            .await
            .unwrap();
            if let Some(etag) = queue.headers().get("etag") {
                queue_etag = etag.to_str().unwrap().to_owned();
            }
            let _ = queue.bytes().await;
            polls += 1;
        }
        let photos = [
            images::jpeg(1600, 1200, 100 + i as u32),
            images::jpeg(1600, 1200, 500 + i as u32),
        ];
        photo_bytes += photos.iter().map(|p| p.len() as u64).sum::<u64>();
        let mut form = reqwest::multipart::Form::new().text(
            "report",
            report_body(json!({"location": {"lat": 30.2512, "lon": 120.1611}})).to_string(),
        );
        for (n, photo) in photos.into_iter().enumerate() {
            form = form.part(
                "file",
                reqwest::multipart::Part::bytes(photo)
                    .file_name(format!("{n}.jpg"))
                    .mime_str("image/jpeg")
                    .unwrap(),
            );
        }
        let filed = phone
            .post(format!("{relay}/api/v1/reports/with-photos"))
            .bearer_auth(&access)
            .header("accept-encoding", "br, gzip")
            .header("idempotency-key", uuid::Uuid::now_v7().to_string())
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(filed.status(), 201);
        let _ = filed.bytes().await;
    }
    step(
        &format!(
            "{CASES} filings with 2 photos each, {polls} refreshes, registry checks, queue polls"
        ),
        &mut rows,
    );

    let full = get("/api/v1/reports?limit=50", &access)
        .send()
        .await
        .unwrap();
    let _ = full.bytes().await;
    step("my 40 cases, full list", &mut rows);
    let compact = get(
        "/api/v1/reports?limit=50&fields=status,category,deadline_at,location",
        &access,
    )
    .send()
    .await
    .unwrap();
    let _ = compact.bytes().await;
    step("my 40 cases, compact list", &mut rows);

    println!("\n| step | up (bytes) | down (bytes) |\n|---|---:|---:|");
    for (name, up, down) in &rows {
        println!("| {name} | {up} | {down} |");
    }
    let (up, down) = wire.read();
    println!(
        "| **the day** | **{up}** | **{down}** |\n\nof which photo files: {photo_bytes} bytes up ({} photos of 1600×1200); everything else: {} up, {down} down",
        CASES * 2,
        up - photo_bytes
    );
}
