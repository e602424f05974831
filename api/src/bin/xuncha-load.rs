//! `xuncha-load`: drives a running Xuncha server with the phone mixes and prints
//! throughput and latency percentiles per operation.
//!
//! - inspector: file a case, add two photos, read the queue, open the case;
//! - department: read the queue (else the "to accept" list), accept an assigned case, add
//!   an after photo, rectify;
//! - filing: the inspector's filing alone, the figure set against the pgbench anchor.
//!
//! Users come from `xuncha generate-city` (`load.inspector.N`, `load.dept.N`). With
//! `--log`, every acknowledged filing is appended (client_id, case id, case_no) so a crash
//! test can check each one against the database.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use rand::Rng;
use serde_json::{Value, json};
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Mix {
    Inspector,
    Department,
    /// Half the workers of each.
    Both,
    /// Filings alone (the inspector's first step), to set against the pgbench anchor.
    Filing,
    /// List reads over a big database: a department's queue (half the workers); a
    /// supervisor's filtered page and a bbox GeoJSON page (the other half).
    Reads,
}

#[derive(Parser, Debug)]
#[command(about = "Load the Xuncha API with the phone mixes and report latencies.")]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    #[arg(long, value_enum, default_value_t = Mix::Both)]
    mix: Mix,
    /// Concurrent simulated phones.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Seconds to run.
    #[arg(long, default_value_t = 60)]
    duration: u64,
    /// Pace each phone to at most this many scenarios per second (0: as fast as it can).
    #[arg(long, default_value_t = 0.0)]
    rate_per_phone: f64,
    #[arg(long, default_value = "load-test-password-1")]
    password: String,
    /// How many `load.inspector.N` and `load.dept.N` users exist.
    #[arg(long, default_value_t = 50)]
    inspectors: usize,
    #[arg(long, default_value_t = 20)]
    departments: usize,
    /// Append every acknowledged filing here.
    #[arg(long)]
    log: Option<std::path::PathBuf>,
    /// Photo size sent (pixels across; 4:3). Phone apps commonly scale to 1280 before upload.
    #[arg(long, default_value_t = 1280)]
    photo_width: u32,
}

#[derive(Default)]
struct Record {
    latencies: BTreeMap<&'static str, Vec<Duration>>,
    errors: BTreeMap<String, u64>,
    scenarios: u64,
}

struct Shared {
    record: Mutex<Record>,
    log: Option<Mutex<std::fs::File>>,
    photos: Vec<Vec<u8>>,
}

impl Shared {
    fn time(&self, op: &'static str, took: Duration) {
        if let Ok(mut r) = self.record.lock() {
            r.latencies.entry(op).or_default().push(took);
        }
    }

    fn error(&self, op: &str, what: String) {
        if let Ok(mut r) = self.record.lock() {
            *r.errors.entry(format!("{op}: {what}")).or_default() += 1;
        }
    }
}

struct Phone {
    client: reqwest::Client,
    base: String,
    token: String,
    shared: Arc<Shared>,
}

impl Phone {
    /// Sends a request, times it, and returns the JSON body of a 2xx answer.
    async fn call(&self, op: &'static str, request: reqwest::RequestBuilder) -> Option<Value> {
        let started = Instant::now();
        let result = request.bearer_auth(&self.token).send().await;
        match result {
            Ok(response) => {
                let status = response.status();
                let body = response.bytes().await;
                self.shared.time(op, started.elapsed());
                if status.is_success() {
                    body.ok()
                        .and_then(|b| serde_json::from_slice(&b).ok())
                        .or(Some(Value::Null))
                } else {
                    self.shared.error(op, status.as_u16().to_string());
                    None
                }
            }
            Err(err) => {
                self.shared.error(
                    op,
                    if err.is_connect() {
                        "connect".into()
                    } else {
                        "transport".into()
                    },
                );
                None
            }
        }
    }

    fn photo_form(&self, kind: &str, count: usize) -> reqwest::multipart::Form {
        let mut form = reqwest::multipart::Form::new().text("kind", kind.to_owned());
        let mut rng = rand::rng();
        for i in 0..count {
            let bytes = self.shared.photos[rng.random_range(0..self.shared.photos.len())].clone();
            let part = reqwest::multipart::Part::bytes(bytes).file_name(format!("p{i}.jpg"));
            form = form.part("file", part);
        }
        form
    }

    /// Files a case and, unless `filing_only`, goes on as a phone does: two photos, the
    /// queue, the case.
    async fn inspector(&self, filing_only: bool) {
        let client_id = Uuid::now_v7();
        let (lat, lon, category) = {
            let mut rng = rand::rng();
            const CATEGORIES: [&str; 10] = [
                "posting_graffiti",
                "splashing_dumping",
                "wires_banners",
                "illegal_building",
                "parking",
                "stall_occupation",
                "littering_dumping",
                "spitting_littering",
                "jaywalking",
                "animals_planting",
            ];
            (
                30.0 + rng.random::<f64>() * 0.4,
                120.0 + rng.random::<f64>() * 0.5,
                CATEGORIES[rng.random_range(0..10)],
            )
        };
        let body = json!({"client_id": client_id, "category": category, "description": "压测：人行道堆放杂物",
            "location": {"lat": lat, "lon": lon, "accuracy_m": 8.0}, "address": "压测路 1 号",
            "observed_at": chrono::Utc::now().to_rfc3339(), "severity": "normal"});
        let Some(case) = self
            .call(
                "file",
                self.client
                    .post(format!("{}/reports", self.base))
                    .json(&body),
            )
            .await
        else {
            return;
        };
        let id = case["id"].as_str().unwrap_or_default().to_owned();
        if let Some(log) = &self.shared.log
            && let Ok(mut file) = log.lock()
        {
            let _ = writeln!(
                file,
                "{client_id},{id},{}",
                case["case_no"].as_str().unwrap_or_default()
            );
        }
        if filing_only {
            return;
        }
        self.call(
            "photos x2",
            self.client
                .post(format!("{}/reports/{id}/photos", self.base))
                .multipart(self.photo_form("before", 2)),
        )
        .await;
        self.call(
            "queue",
            self.client.get(format!("{}/queue?limit=20", self.base)),
        )
        .await;
        self.call(
            "open case",
            self.client.get(format!("{}/reports/{id}", self.base)),
        )
        .await;
    }

    async fn reads(&self, department: bool) {
        if department {
            self.call(
                "dept queue",
                self.client.get(format!("{}/queue?limit=50", self.base)),
            )
            .await;
            return;
        }
        let (lat, lon) = {
            let mut rng = rand::rng();
            (
                30.0 + rng.random::<f64>() * 0.38,
                120.0 + rng.random::<f64>() * 0.48,
            )
        };
        self.call(
            "filtered page",
            self.client.get(format!(
                "{}/reports?status=assigned,in_progress&category=parking&sort=deadline&limit=50",
                self.base
            )),
        )
        .await;
        self.call(
            "bbox geojson",
            self.client.get(format!(
                "{}/reports.geojson?bbox={},{},{},{}&limit=200",
                self.base,
                lon,
                lat,
                lon + 0.02,
                lat + 0.02
            )),
        )
        .await;
    }

    async fn department(&self) {
        let Some(queue) = self
            .call(
                "queue",
                self.client.get(format!("{}/queue?limit=20", self.base)),
            )
            .await
        else {
            return;
        };
        let pick_assigned = |page: &Value| {
            page["items"].as_array().and_then(|items| {
                // A department sees its shops' cases too, but accepts only its own.
                let assigned: Vec<&Value> = items
                    .iter()
                    .filter(|c| c["status"] == "assigned" && c["assignee"]["kind"] == "department")
                    .collect();
                if assigned.is_empty() {
                    None
                } else {
                    Some(assigned[rand::rng().random_range(0..assigned.len())].clone())
                }
            })
        };
        // Overdue cases in progress come first in a queue; a phone with none to accept
        // among them opens its "to accept" list, as the department app does.
        let mut pick = pick_assigned(&queue);
        if pick.is_none() {
            let Some(to_accept) = self
                .call(
                    "to-accept list",
                    self.client.get(format!(
                        "{}/reports?status=assigned&sort=deadline&limit=20",
                        self.base
                    )),
                )
                .await
            else {
                return;
            };
            pick = pick_assigned(&to_accept);
        }
        let Some(case) = pick else { return };
        let id = case["id"].as_str().unwrap_or_default().to_owned();
        let Some(accepted) = self
            .call(
                "accept",
                self.client
                    .post(format!("{}/reports/{id}/accept", self.base))
                    .json(&json!({"version": case["version"]})),
            )
            .await
        else {
            return;
        };
        let Some(uploaded) = self
            .call(
                "photo x1",
                self.client
                    .post(format!("{}/reports/{id}/photos", self.base))
                    .multipart(self.photo_form("after", 1)),
            )
            .await
        else {
            return;
        };
        let photo = uploaded["items"][0]["id"].clone();
        self.call(
            "rectify",
            self.client
                .post(format!("{}/reports/{id}/rectify", self.base))
                .json(&json!({"version": accepted["version"], "photo_ids": [photo]})),
        )
        .await;
    }
}

fn photo(width: u32, seed: u32) -> Vec<u8> {
    let height = width * 3 / 4;
    let mut pixels = Vec::with_capacity((width * height * 3) as usize);
    for y in 0..height {
        for x in 0..width {
            pixels.extend([
                ((x / 7 + seed * 13) % 256) as u8,
                ((y / 5 + x / 31) % 256) as u8,
                ((x * y / 97 + seed) % 256) as u8,
            ]);
        }
    }
    let mut out = Vec::new();
    let _ = jpeg_encoder::Encoder::new(&mut out, 85).encode(
        &pixels,
        width as u16,
        height as u16,
        jpeg_encoder::ColorType::Rgb,
    );
    out
}

async fn sign_in(
    client: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
) -> anyhow::Result<String> {
    // A burst of sign-ins meets the server's bounded hashing queue (503 with Retry-After):
    // come back when told, as a phone does.
    let mut attempts = 0;
    let response = loop {
        let response = client
            .post(format!("{base}/auth/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await?;
        attempts += 1;
        if response.status() != reqwest::StatusCode::SERVICE_UNAVAILABLE || attempts == 10 {
            break response;
        }
        let wait = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(1);
        tokio::time::sleep(Duration::from_secs(wait)).await;
    };
    let status = response.status();
    let body: Value = response.json().await?;
    body["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("sign-in of {username} failed: {status} {body}"))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let base = format!("{}/api/v1", args.url.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(60))
        .build()?;
    let photos = (0..64).map(|seed| photo(args.photo_width, seed)).collect();
    let log = match &args.log {
        Some(path) => Some(Mutex::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?,
        )),
        None => None,
    };
    let shared = Arc::new(Shared {
        record: Mutex::new(Record::default()),
        log,
        photos,
    });
    let deadline = Instant::now() + Duration::from_secs(args.duration);
    let mut workers = Vec::new();
    for worker in 0..args.concurrency {
        let inspector = match args.mix {
            Mix::Inspector | Mix::Filing => true,
            Mix::Department => false,
            Mix::Both | Mix::Reads => worker % 2 == 0,
        };
        let reads = args.mix == Mix::Reads;
        let filing_only = args.mix == Mix::Filing;
        let username = match (reads, inspector) {
            (true, true) => "load.supervisor".to_owned(),
            (false, true) => format!("load.inspector.{}", worker % args.inspectors.max(1)),
            (_, false) => format!("load.dept.{}", worker % args.departments.max(1)),
        };
        let token = sign_in(&client, &base, &username, &args.password).await?;
        let phone = Phone {
            client: client.clone(),
            base: base.clone(),
            token,
            shared: shared.clone(),
        };
        let pace =
            (args.rate_per_phone > 0.0).then(|| Duration::from_secs_f64(1.0 / args.rate_per_phone));
        workers.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let started = Instant::now();
                if reads {
                    phone.reads(!inspector).await;
                } else if inspector {
                    phone.inspector(filing_only).await;
                } else {
                    phone.department().await;
                }
                if let Ok(mut r) = phone.shared.record.lock() {
                    r.scenarios += 1;
                }
                if let Some(pace) = pace {
                    tokio::time::sleep(pace.saturating_sub(started.elapsed())).await;
                }
            }
        }));
    }
    let started = Instant::now();
    for worker in workers {
        let _ = worker.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let record = shared
        .record
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?;
    println!(
        "{} phones, mix {:?}, {:.0} s, {} scenarios ({:.1}/s)",
        args.concurrency,
        args.mix,
        elapsed,
        record.scenarios,
        record.scenarios as f64 / elapsed
    );
    println!(
        "{:<16} {:>8} {:>9} {:>9} {:>9} {:>9}",
        "operation", "count", "per s", "p50 ms", "p95 ms", "p99 ms"
    );
    let mut total = 0;
    for (op, latencies) in &record.latencies {
        let mut sorted = latencies.clone();
        sorted.sort();
        total += sorted.len();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{:<16} {:>8} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
            op,
            sorted.len(),
            sorted.len() as f64 / elapsed,
            ms(percentile(&sorted, 0.5)),
            ms(percentile(&sorted, 0.95)),
            ms(percentile(&sorted, 0.99))
        );
    }
    let errors: u64 = record.errors.values().sum();
    println!(
        "requests {total} ({:.1}/s), errors {errors}",
        total as f64 / elapsed
    );
    for (what, count) in &record.errors {
        println!("  error {what}: {count}");
    }
    Ok(())
}
