//! The web app in a real browser: Debian's Chromium, driven headless by its ChromeDriver
//! over the W3C WebDriver protocol, against the real server. Without Chromium the tests
//! say so and pass (`.ci/run` installs it). Screenshots of each screen at phone and
//! desktop width go to `docs/screens/`.
//!
//! The WebDriver client is the eight commands these tests use, over reqwest: the crates
//! that wrap the protocol (fantoccini) bring the `webdriver` crate and its Unicode tables
//! for what is a few JSON posts.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, spawn_app};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A ChromeDriver process and one headless browser session in it.
struct Browser {
    driver: Child,
    http: reqwest::Client,
    session: String,
}

impl Browser {
    /// `None` (said plainly on stderr) when Chromium or ChromeDriver is not installed.
    async fn start(width: u32, height: u32) -> Option<Self> {
        if !std::path::Path::new(CHROMIUM).exists() || !std::path::Path::new(CHROMEDRIVER).exists()
        {
            eprintln!(
                "browser tests SKIPPED: {CHROMIUM} or {CHROMEDRIVER} is missing \
                 (apt-get install chromium chromium-driver)"
            );
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let mut answer = None;
        for _ in 0..100 {
            let capabilities = json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": CHROMIUM,
                    "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                             "--disable-dev-shm-usage", format!("--window-size={width},{height}"),
                             "--lang=zh-CN"],
                    // The page's own size (a headless window is at least 500 px wide).
                    "mobileEmulation": {"deviceMetrics": {
                        "width": width, "height": height, "pixelRatio": 1.0,
                        "touch": width < 600,
                    }},
                },
            }}});
            if let Ok(response) = http
                .post(format!("{base}/session"))
                .json(&capabilities)
                .send()
                .await
            {
                answer = Some(response.json::<Value>().await.unwrap());
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let answer = answer.expect("chromedriver answers");
        let session = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {answer}"))
            .to_owned();
        Some(Self {
            driver,
            http,
            session: format!("{base}/session/{session}"),
        })
    }

    async fn command(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let request = self.http.request(method, format!("{}{path}", self.session));
        let request = if body.is_null() {
            request
        } else {
            request.json(&body)
        };
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        answer["value"].clone()
    }

    async fn open(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", json!({"url": url}))
            .await;
    }

    /// The element `css` selects, once it is there (within 10 s).
    async fn find(&self, css: &str) -> String {
        for _ in 0..100 {
            let found = self
                .command(
                    reqwest::Method::POST,
                    "/element",
                    json!({"using": "css selector", "value": css}),
                )
                .await;
            if let Some(id) = found
                .as_object()
                .and_then(|o| o.values().next())
                .and_then(Value::as_str)
            {
                return id.to_owned();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no element {css}: {}", self.text("body").await);
    }

    async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            json!({"text": text}),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            json!({}),
        )
        .await;
    }

    async fn text(&self, css: &str) -> String {
        let found = self
            .command(
                reqwest::Method::POST,
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        let Some(element) = found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
        else {
            return String::new();
        };
        self.command(
            reqwest::Method::GET,
            &format!("/element/{element}/text"),
            Value::Null,
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Waits (10 s at most) until `css`'s text contains `expected`.
    async fn wait_for_text(&self, css: &str, expected: &str) {
        for _ in 0..100 {
            if self.text(css).await.contains(expected) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{css} never said {expected:?}; the page says {:?}",
            self.text("body").await
        );
    }

    async fn run(&self, script: &str) -> Value {
        self.command(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
        .await
    }

    /// Saves a screenshot as `docs/screens/{name}.png`.
    async fn screenshot(&self, name: &str) {
        let png = self
            .command(reqwest::Method::GET, "/screenshot", Value::Null)
            .await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screens");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), bytes).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_signs_in_in_chinese_sees_their_queue_and_switches_to_english() {
    let app = spawn_app().await;
    for (width, height, screen) in [(360, 780, "phone"), (1440, 900, "desktop")] {
        let Some(browser) = Browser::start(width, height).await else {
            return;
        };
        browser.open(&app.url("/")).await;
        browser.wait_for_text("h1", "登录").await;
        assert_eq!(
            browser.run("return document.documentElement.lang").await,
            "zh-CN"
        );
        browser.screenshot(&format!("sign-in-{screen}")).await;

        // A wrong password is said in Chinese, in place.
        browser.type_into("input[name=username]", "admin").await;
        browser
            .type_into("input[name=password]", "not the password")
            .await;
        browser.click("button[type=submit]").await;
        browser
            .wait_for_text("[role=alert]", "用户名或密码错误")
            .await;

        browser
            .run("document.querySelector('input[name=password]').value = ''")
            .await;
        browser
            .type_into("input[name=password]", ADMIN_PASSWORD)
            .await;
        browser.click("button[type=submit]").await;
        browser.wait_for_text("h1", "我的待办").await;
        browser.wait_for_text("main", "管理员").await;
        browser.screenshot(&format!("queue-{screen}")).await;

        // The language switch is kept on the device.
        browser.click("#lang").await;
        browser.wait_for_text("h1", "My queue").await;
        assert_eq!(
            browser.run("return document.documentElement.lang").await,
            "en"
        );
        browser.open(&app.url("/")).await;
        browser.wait_for_text("h1", "My queue").await;

        // Signed out, the sign-in form again.
        browser.click(".who button").await;
        browser.wait_for_text("h1", "Sign in").await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_app_is_served_by_the_binary_with_its_manifest_and_service_worker() {
    let app = spawn_app().await;
    let page = app.get("/", None).await;
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let etag = page.headers()["etag"].to_str().unwrap().to_owned();
    assert!(page.text().await.unwrap().contains("/app/app.js"));
    let again = app
        .client
        .get(app.url("/"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    let manifest: Value = app
        .get("/manifest.webmanifest", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(manifest["short_name"], "巡查");
    assert_eq!(manifest["start_url"], "/");
    let worker = app.get("/sw.js", None).await;
    assert_eq!(worker.status(), 200);
    assert!(
        worker.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    // What the worker keeps for offline starts is served.
    let listed = worker.text().await.unwrap();
    for path in [
        "/",
        "/app/app.js",
        "/app/i18n.js",
        "/app/style.css",
        "/app/icon.svg",
    ] {
        assert!(listed.contains(&format!("\"{path}\"")), "{path}");
        assert_eq!(app.get(path, None).await.status(), 200, "{path}");
    }
    assert_eq!(app.get("/app/nothing.js", None).await.status(), 404);
}
