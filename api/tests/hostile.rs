//! Attacks on the real binary, judged by what they cost it: each test starts `xuncha` with
//! its embedded defaults in a folder of its own, resets the process's peak resident memory
//! (`/proc/<pid>/clear_refs`), attacks, and reads the new peak (`VmHWM`). Memory is a
//! property of the whole process, so these run against a process of their own rather
//! than the in-process test app of `tests/`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed step should fail the test loudly

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const ADMIN_PASSWORD: &str = "hostile-admin-password";

struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_xuncha"))
            .current_dir(dir.path())
            .env("XUNCHA_BIND", format!("127.0.0.1:{port}"))
            .env("XUNCHA_DATA_DIR", dir.path().join("data"))
            .env("XUNCHA_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("XUNCHA_RATE_LIMIT_PER_SECOND", "100000")
            .env("XUNCHA_RATE_LIMIT_BURST", "100000")
            .env("XUNCHA_ACCOUNT_RATE_LIMIT_PER_SECOND", "100000")
            .env("XUNCHA_ACCOUNT_RATE_LIMIT_BURST", "100000")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        let client = reqwest::Client::new();
        // Generous: CI builds beside it on two cores.
        for _ in 0..1200 {
            if let Ok(r) = client.get(format!("{}/readyz", server.base)).send().await
                && r.status().is_success()
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("xuncha did not become ready");
    }

    fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    /// Sets the peak to the present resident memory, and returns the present, in MiB.
    fn reset_peak(&self) -> u64 {
        let mut refs =
            std::fs::File::create(format!("/proc/{}/clear_refs", self.child.id())).unwrap();
        refs.write_all(b"5").unwrap();
        self.status_kib("VmRSS:") / 1024
    }

    /// How far the peak rose above `from` (MiB).
    fn peak_above(&self, from: u64) -> u64 {
        (self.status_kib("VmHWM:") / 1024).saturating_sub(from)
    }

    async fn login(&self, username: &str, password: &str) -> String {
        let answer: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["access_token"].as_str().unwrap().to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn two_imports_of_64_mib_of_tiny_rows_cost_their_limits_not_their_rows() {
    let server = Server::start().await;
    let token = server.login("admin", ADMIN_PASSWORD).await;
    // A right header, then rows of one character: every row is wrong in every column.
    let mut body = b"name,credit_code,address,lat,lon\n".to_vec();
    body.resize(64 * 1024 * 1024 - 1, 0);
    for pair in body[33..].chunks_mut(2) {
        pair[0] = b'a';
        if pair.len() == 2 {
            pair[1] = b'\n';
        }
    }
    let before = server.reset_peak();
    let client = reqwest::Client::new();
    let import = |path: &'static str| {
        client
            .post(format!("{}/api/v1/{path}", server.base))
            .bearer_auth(&token)
            .header("content-type", "text/csv")
            .body(body.clone())
            .send()
    };
    let (shops, sites) = tokio::join!(import("shopfronts/import"), import("sites/import"));
    for answer in [shops.unwrap(), sites.unwrap()] {
        assert_eq!(answer.status(), 422);
        let json: serde_json::Value = answer.json().await.unwrap();
        assert!(json["error"]["rows"].as_array().unwrap().len() <= 1001);
    }
    // Two bodies of 64 MiB are held while they are read; the rows cost next to nothing.
    let rise = server.peak_above(before);
    eprintln!("peak rose {rise} MiB");
    assert!(rise < 400, "peak rose {rise} MiB");
}

#[tokio::test]
async fn a_csv_line_of_64_mib_of_commas_costs_its_64_columns() {
    let server = Server::start().await;
    let token = server.login("admin", ADMIN_PASSWORD).await;
    let mut body = b"code,name,site_type,area_code,lat,lon\nS1".to_vec();
    body.resize(64 * 1024 * 1024 - 1, b',');
    let before = server.reset_peak();
    let answer = reqwest::Client::new()
        .post(format!("{}/api/v1/sites/import", server.base))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 422);
    // The body itself (64 MiB); a field slot per comma would be 512 MiB more.
    let rise = server.peak_above(before);
    eprintln!("peak rose {rise} MiB");
    assert!(rise < 160, "peak rose {rise} MiB");
}

#[tokio::test]
async fn a_burst_of_wrong_passwords_is_judged_like_a_sequence_and_costs_bounded_memory() {
    let server = Server::start().await;
    let before = server.reset_peak();
    let client = reqwest::Client::new();
    let guesses = (0..60).map(|n| {
        client
            .post(format!("{}/api/v1/auth/login", server.base))
            .json(
                &serde_json::json!({"username": "admin", "password": format!("guess number {n}")}),
            )
            .send()
    });
    let answers = futures_util::future::join_all(guesses).await;
    let statuses: Vec<u16> = answers
        .into_iter()
        .map(|a| a.unwrap().status().as_u16())
        .collect();
    let judged = statuses.iter().filter(|s| **s == 401).count();
    assert!(judged <= 5, "{judged} guesses judged: {statuses:?}");
    assert!(
        statuses.iter().all(|s| [401, 429, 503].contains(s)),
        "{statuses:?}"
    );
    let rise = server.peak_above(before);
    let cores = std::thread::available_parallelism().map_or(2, usize::from) as u64;
    eprintln!("peak rose {rise} MiB on {cores} cores");
    // One 19 MiB Argon2 block per hashing thread, and room for 60 connections and the
    // database's pages; unbounded, 60 hashes at once took over a GiB.
    assert!(rise < 19 * cores + 80, "peak rose {rise} MiB");
    // The account is locked now, even for its right password.
    let right = client
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&serde_json::json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 429);
}

/// A PNG whose iCCP chunk inflates to 256 MiB of zeros (about 260 KB as sent).
fn png_with_inflating_profile() -> Vec<u8> {
    let image = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8, y as u8, 9]));
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let mut data = b"bomb\0\0".to_vec();
    data.extend(miniz_oxide::deflate::compress_to_vec_zlib(
        &vec![0u8; 256 * 1024 * 1024],
        6,
    ));
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(b"iCCP");
    chunk.extend_from_slice(&data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(b"iCCP");
    crc.update(&data);
    chunk.extend_from_slice(&crc.finalize().to_be_bytes());
    // After the signature and IHDR.
    png.splice(33..33, chunk);
    png
}

#[tokio::test]
async fn a_png_with_an_inflating_profile_costs_what_its_pixels_cost() {
    let server = Server::start().await;
    let admin = server.login("admin", ADMIN_PASSWORD).await;
    let client = reqwest::Client::new();
    let created = client
        .post(format!("{}/api/v1/users", server.base))
        .bearer_auth(&admin)
        .json(
            &serde_json::json!({"username": "li.xuncha", "password": "a long password 1",
            "display_name": "李巡查", "role": "inspector"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let inspector = server.login("li.xuncha", "a long password 1").await;
    let case: serde_json::Value = client
        .post(format!("{}/api/v1/reports", server.base))
        .bearer_auth(&inspector)
        .json(
            &serde_json::json!({"client_id": "0193a1b2-0000-7000-8000-000000000001",
            "category": "parking", "description": "电动车占用盲道", "address": "解放路 100 号",
            "location": {"lat": 30.2741, "lon": 120.1551, "accuracy_m": 8, "crs": "gcj02"},
            "observed_at": chrono::Utc::now().to_rfc3339()}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let case_id = case["id"].as_str().unwrap_or_else(|| panic!("{case}"));
    let png = png_with_inflating_profile();
    let before = server.reset_peak();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(png).file_name("bomb.png"),
    );
    let answer = client
        .post(format!(
            "{}/api/v1/reports/{case_id}/photos?kind=before",
            server.base
        ))
        .bearer_auth(&inspector)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201, "{:?}", answer.text().await);
    let rise = server.peak_above(before);
    eprintln!("peak rose {rise} MiB");
    assert!(rise < 64, "peak rose {rise} MiB");
}

/// A small JPEG padded with comment segments to `size` bytes: a file as large as the cap
/// allows whose decode costs next to nothing, so that what it costs is what holding it
/// costs. `seed` makes each file different.
fn padded_jpeg(seed: u8, size: usize) -> Vec<u8> {
    let image = image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([seed, (x * 3) as u8, (y * 5) as u8])
    });
    let mut jpeg = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_to(
            &mut std::io::Cursor::new(&mut jpeg),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    let mut padded = jpeg[..2].to_vec();
    let mut filler: u32 = u32::from(seed) + 1;
    while padded.len() + jpeg.len() < size {
        let length = (size - padded.len() - jpeg.len()).clamp(16, 65_535);
        padded.extend_from_slice(&[0xFF, 0xFE]);
        padded.extend_from_slice(&(length as u16).to_be_bytes());
        for _ in 0..length - 2 {
            // Bytes that change, so no layer can store them as a run.
            filler = filler.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            padded.push((filler >> 24) as u8);
        }
    }
    padded.extend_from_slice(&jpeg[2..]);
    padded
}

#[tokio::test]
async fn nine_files_near_the_cap_are_spooled_not_held() {
    let server = Server::start().await;
    let admin = server.login("admin", ADMIN_PASSWORD).await;
    let client = reqwest::Client::new();
    let created = client
        .post(format!("{}/api/v1/users", server.base))
        .bearer_auth(&admin)
        .json(
            &serde_json::json!({"username": "wang.xuncha", "password": "a long password 1",
            "display_name": "王巡查", "role": "inspector"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let inspector = server.login("wang.xuncha", "a long password 1").await;
    let case: serde_json::Value = client
        .post(format!("{}/api/v1/reports", server.base))
        .bearer_auth(&inspector)
        .json(
            &serde_json::json!({"client_id": "0193a1b2-0000-7000-8000-000000000002",
            "category": "parking", "description": "共享单车堆放", "address": "解放路 200 号",
            "location": {"lat": 30.2741, "lon": 120.1551, "accuracy_m": 8, "crs": "gcj02"},
            "observed_at": chrono::Utc::now().to_rfc3339()}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let case_id = case["id"].as_str().unwrap_or_else(|| panic!("{case}"));
    let mut form = reqwest::multipart::Form::new();
    for seed in 0..9 {
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(padded_jpeg(seed, 19 * 1024 * 1024))
                .file_name(format!("photo-{seed}.jpg"))
                .mime_str("image/jpeg")
                .unwrap(),
        );
    }
    let before = server.reset_peak();
    let answer = client
        .post(format!(
            "{}/api/v1/reports/{case_id}/photos?kind=before",
            server.base
        ))
        .bearer_auth(&inspector)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201, "{:?}", answer.text().await);
    let rise = server.peak_above(before);
    eprintln!("nine files of 19 MiB: peak rose {rise} MiB");
    // Holding the files would cost their 171 MiB before anything else.
    assert!(rise < 120, "peak rose {rise} MiB");
}
