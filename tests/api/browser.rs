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

use crate::helpers::{ADMIN_PASSWORD, PASSWORD, spawn_app};
use crate::images;

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

    async fn command(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
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

    /// Runs `script`, which calls `arguments[0]` with its answer.
    async fn run_async(&self, script: &str) -> Value {
        self.command(
            reqwest::Method::POST,
            "/execute/async",
            json!({"script": script, "args": []}),
        )
        .await
    }

    /// A DevTools command (geolocation, permissions), through ChromeDriver.
    async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.command(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            json!({"cmd": cmd, "params": params}),
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

/// The network between the browser and the server, with a switch: off, every connection
/// (kept-alive ones too) is cut and new ones are refused, as a phone in a dead zone sees.
struct Network {
    address: String,
    online: Arc<AtomicBool>,
    relays: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Network {
    async fn in_front_of(upstream: &str) -> Self {
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

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    fn set_online(&self, online: bool) {
        self.online.store(online, Ordering::SeqCst);
        if !online {
            for relay in self.relays.lock().unwrap().drain(..) {
                relay.abort();
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_inspector_files_with_no_network_and_the_report_goes_once_it_is_back() {
    let app = spawn_app().await;
    let network = Network::in_front_of(&app.address).await;
    app.create_user("walker", "inspector").await;
    let Some(browser) = Browser::start(360, 780).await else {
        return;
    };
    browser
        .cdp(
            "Browser.grantPermissions",
            json!({"permissions": ["geolocation"]}),
        )
        .await;
    browser
        .cdp(
            "Emulation.setGeolocationOverride",
            json!({"latitude": 30.25, "longitude": 120.16, "accuracy": 8}),
        )
        .await;
    browser.open(&network.url("/")).await;
    browser.type_into("input[name=username]", "walker").await;
    browser.type_into("input[name=password]", PASSWORD).await;
    browser.click("button[type=submit]").await;
    browser.wait_for_text("h1", "我的待办").await;
    // The shell is kept on the phone once the service worker has it.
    let ready = browser
        .run_async("navigator.serviceWorker.ready.then(() => arguments[0](true))")
        .await;
    assert_eq!(ready, true);

    // The network drops. The app still opens, from the phone.
    network.set_online(false);
    browser.run("location.reload()").await;
    browser.wait_for_text("main", "无法连接服务器").await;
    browser.wait_for_text("h1", "我的待办").await;

    // A report with a photo, filed with no network, waits in the outbox.
    browser.click("a[href='#/file']").await;
    browser
        .wait_for_text("#gps", "位置 30.25000, 120.16000")
        .await;
    browser.type_into("select[name=category]", "乱停乱放").await;
    browser
        .type_into("textarea[name=description]", "三轮车占用人行道")
        .await;
    browser
        .type_into("input[name=address]", "解放路 100 号")
        .await;
    let photo = tempfile::Builder::new().suffix(".jpg").tempfile().unwrap();
    std::fs::write(photo.path(), images::jpeg(1280, 960, 5)).unwrap();
    browser
        .type_into("input[name=photos]", photo.path().to_str().unwrap())
        .await;
    let filled = browser
        .run(
            "const f = document.querySelector('main form'); \
             return [f.category.value, f.address.value, f.photos.files.length, f.checkValidity()]",
        )
        .await;
    assert_eq!(filled, json!(["parking", "解放路 100 号", 1, true]));
    browser.screenshot("file-report-phone").await;
    // From here, the elements' own clicks (form validation and the submit event, as a tap
    // gives them): once a file has been chosen and the page scrolled, ChromeDriver's
    // pointer clicks under mobile emulation land beside their element.
    browser
        .run("document.querySelector('main form button[type=submit]').click()")
        .await;
    browser.wait_for_text("main", "已保存在手机上").await;
    browser.wait_for_text("#outbox-count", "1").await;
    let filed = |app: &crate::helpers::TestApp| {
        use sea_orm::{EntityTrait, PaginatorTrait};
        let db = app.db.clone();
        async move { entity::cases::Entity::find().count(&db).await.unwrap() }
    };
    assert_eq!(filed(&app).await, 0);

    browser
        .run("document.querySelector(\"a[href='#/outbox']\").click()")
        .await;
    browser.wait_for_text("main", "待发送 1").await;
    browser.screenshot("outbox-phone").await;

    // Back online, it is sent, once, with its photo (the app also tries every 30 s).
    network.set_online(true);
    browser
        .run("document.querySelector('main > button')?.click()")
        .await;
    browser.wait_for_text("main", "所有上报均已发送").await;
    browser.wait_for_text("#outbox-count", "0").await;
    assert_eq!(filed(&app).await, 1);
    let walker = app.session("walker", PASSWORD).await;
    let mine: Value = app
        .get("/api/v1/reports", Some(&walker.access_token))
        .await
        .json()
        .await
        .unwrap();
    let case = &mine["items"][0];
    assert_eq!(case["category"], "parking");
    assert_eq!(case["address"], "解放路 100 号");
    let case: Value = app
        .get(
            &format!("/api/v1/reports/{}", case["id"].as_str().unwrap()),
            Some(&walker.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(case["photos"].as_array().unwrap().len(), 1, "{case}");
}
