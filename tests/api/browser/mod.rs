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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

/// How long a test waits for the page to show something: a screen drawn a moment after
/// its data arrives, on a machine that runs the whole suite at once (2 cores), can take
/// seconds.
pub const PATIENCE: Duration = Duration::from_secs(20);

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A ChromeDriver process and one headless browser session in it.
pub struct Browser {
    driver: Child,
    http: reqwest::Client,
    session: String,
}

impl Browser {
    /// `None` (said plainly on stderr) when Chromium or ChromeDriver is not installed.
    pub async fn start(width: u32, height: u32) -> Option<Self> {
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
        // A command that hangs fails the test instead (page loads wait 300 s at most).
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
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
                        "touch": false,
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

    pub async fn command(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let request = self.http.request(method, format!("{}{path}", self.session));
        let request = if body.is_null() {
            request
        } else {
            request.json(&body)
        };
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        // An element not there yet, or replaced by a new render, is waited for; every other
        // error fails the test.
        if let Some(error) = answer["value"]["error"].as_str()
            && error != "no such element"
            && error != "stale element reference"
        {
            panic!("WebDriver {path}: {}", answer["value"]);
        }
        answer["value"].clone()
    }

    pub async fn open(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", json!({"url": url}))
            .await;
    }

    /// The element `css` selects, once it is there (within [`PATIENCE`]).
    pub async fn find(&self, css: &str) -> String {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while tokio::time::Instant::now() < deadline {
            if let Some(id) = self.element(css).await {
                return id;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no element {css}: {}", self.text("body").await);
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            json!({"text": text}),
        )
        .await;
    }

    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            json!({}),
        )
        .await;
    }

    /// The element `css` selects now, if any.
    async fn element(&self, css: &str) -> Option<String> {
        let found = self
            .command(
                reqwest::Method::POST,
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    pub async fn text(&self, css: &str) -> String {
        let Some(element) = self.element(css).await else {
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

    /// Waits ([`PATIENCE`] at most) until `css`'s text contains `expected`.
    pub async fn wait_for_text(&self, css: &str, expected: &str) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while tokio::time::Instant::now() < deadline {
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

    pub async fn run(&self, script: &str) -> Value {
        self.command(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
        .await
    }

    /// Runs `script`, which calls `arguments[0]` with its answer.
    pub async fn run_async(&self, script: &str) -> Value {
        self.command(
            reqwest::Method::POST,
            "/execute/async",
            json!({"script": script, "args": []}),
        )
        .await
    }

    /// A DevTools command (geolocation, permissions), through ChromeDriver.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.command(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            json!({"cmd": cmd, "params": params}),
        )
        .await
    }

    /// Lets the page know where the phone is (granting it the location first).
    pub async fn place_at(&self, latitude: f64, longitude: f64, accuracy: f64) {
        self.cdp(
            "Browser.grantPermissions",
            json!({"permissions": ["geolocation"]}),
        )
        .await;
        self.cdp(
            "Emulation.setGeolocationOverride",
            json!({"latitude": latitude, "longitude": longitude, "accuracy": accuracy}),
        )
        .await;
    }

    /// Signs in through the form and waits for the queue.
    pub async fn sign_in(&self, username: &str, password: &str) {
        self.wait_for_text("h1", "登录").await;
        self.type_into("input[name=username]", username).await;
        self.type_into("input[name=password]", password).await;
        self.click("button[type=submit]").await;
        self.wait_for_text("h1", "我的待办").await;
    }

    /// The element's own click (as a tap gives it): under mobile emulation, once the page
    /// has scrolled or a file has been chosen, ChromeDriver's pointer clicks can land
    /// beside their element.
    /// Found and clicked in one script, tried until it is there (within [`PATIENCE`]): a
    /// screen drawn again between a lookup and a click would leave nothing to click.
    pub async fn tap(&self, css: &str) {
        let quoted = serde_json::to_string(css).unwrap();
        let script = format!(
            "const element = document.querySelector({quoted}); \
             if (!element) return false; element.click(); return true"
        );
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while tokio::time::Instant::now() < deadline {
            if self.run(&script).await == Value::Bool(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("nothing to tap at {css}: {}", self.text("body").await);
    }

    /// What axe-core (4.10.3, vendored under `vendor/`) finds against WCAG 2.1 A and AA on
    /// the page as it stands: each violation's rule, impact and the first elements.
    pub async fn accessibility_violations(&self) -> Vec<String> {
        const AXE: &str = include_str!("vendor/axe-core-4.10.3/axe.min.js");
        if self.run("return typeof axe").await != "object" {
            self.run(&format!("{AXE}\nreturn true")).await;
        }
        let found = self
            .run_async(
                "axe.run(document, {runOnly: {type: 'tag', values: \
                   ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}) \
                 .then((r) => arguments[0](r.violations.map((v) => \
                   `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.html).join(' | ')}`)))",
            )
            .await;
        serde_json::from_value(found).unwrap()
    }

    /// Saves a screenshot as `docs/screens/{name}.png`.
    pub async fn screenshot(&self, name: &str) {
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
    /// Ends the session, which closes the browser, then ChromeDriver (killing the driver
    /// alone would leave the browser running).
    fn drop(&mut self) {
        let (http, session) = (self.http.clone(), self.session.clone());
        tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(async move {
                let _ = http.delete(session).send().await;
            })
        });
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The network between the browser and the server, with a switch: off, every connection
/// (kept-alive ones too) is cut and new ones are refused, as a phone in a dead zone sees.
pub struct Network {
    address: String,
    online: Arc<AtomicBool>,
    relays: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Network {
    pub async fn in_front_of(upstream: &str) -> Self {
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let online = Arc::new(AtomicBool::new(true));
        let relays: Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let (on, kept) = (online.clone(), relays.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !on.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is reset
                }
                let upstream = upstream.clone();
                let relay = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                kept.lock().unwrap().push(relay.abort_handle());
            }
        });
        Self {
            address,
            online,
            relays,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn set_online(&self, online: bool) {
        self.online.store(online, Ordering::SeqCst);
        if !online {
            for relay in self.relays.lock().unwrap().drain(..) {
                relay.abort();
            }
        }
    }
}

mod access;
mod admin;
mod campaigns;
mod case_page;
mod console;
mod filing;
mod shell;
mod territory;
