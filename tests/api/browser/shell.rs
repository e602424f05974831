//! The shell: sign-in, the language switch, serving, the service worker and the outbox.

use serde_json::{Value, json};

use super::{Browser, Network};
use crate::helpers::{ADMIN_PASSWORD, PASSWORD, spawn_app};
use crate::images;

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
    // The worker keeps, for offline starts, every module and style of the phone app (not
    // the console's screens nor the map library, kept once loaded), and each is served.
    let desktop_only = ["console.js", "admin.js"];
    let listed = worker.text().await.unwrap();
    let web = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../api/web");
    for entry in std::fs::read_dir(web).unwrap() {
        let file = entry.unwrap().file_name().into_string().unwrap();
        if file.ends_with(".js") || file.ends_with(".css") {
            let path = if file == "sw.js" {
                "/sw.js".to_owned()
            } else {
                format!("/app/{file}")
            };
            let kept = listed.contains(&format!("\"{path}\""));
            assert!(
                kept != (file == "sw.js" || desktop_only.contains(&file.as_str())),
                "{path}"
            );
            assert_eq!(app.get(&path, None).await.status(), 200, "{path}");
        }
    }
    for path in [
        "/",
        "/manifest.webmanifest",
        "/app/vendor/leaflet/leaflet.js",
    ] {
        assert_eq!(app.get(path, None).await.status(), 200, "{path}");
    }
    // Served at the root only: a worker at /app/ would control only /app/.
    assert_eq!(app.get("/app/sw.js", None).await.status(), 404);
    assert_eq!(app.get("/app/nothing.js", None).await.status(), 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_inspector_files_with_no_network_and_the_report_goes_once_it_is_back() {
    let app = spawn_app().await;
    let network = Network::in_front_of(&app.address).await;
    app.create_user("walker", "inspector").await;
    let Some(browser) = Browser::start(360, 780).await else {
        return;
    };
    browser.place_at(30.25, 120.16, 8.0).await;
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

/// The phone app's first load, compressed as the server sends it, stays within its budget
/// (docs/benchmarks.md). A size, not a time: it does not depend on the machine.
#[tokio::test(flavor = "multi_thread")]
async fn the_phone_apps_first_load_stays_within_its_budget() {
    const BUDGET_BYTES: u64 = 90 * 1024;
    let app = spawn_app().await;
    app.create_user("first-day", "inspector").await;
    let Some(browser) = Browser::start(360, 780).await else {
        return;
    };
    browser.open(&app.url("/")).await;
    browser.sign_in("first-day", PASSWORD).await;
    // What the page loaded (the worker may have served some, so their sizes are read
    // again as the server sends them: gzip, as Chromium asks over plain http; browsers
    // get brotli, smaller, over https).
    let loaded = browser
        .run(
            "return [...new Set([...performance.getEntriesByType('navigation'), \
                     ...performance.getEntriesByType('resource')] \
               .map((e) => new URL(e.name).pathname) \
               .filter((p) => !p.startsWith('/api/')))]",
        )
        .await;
    let paths: Vec<String> = serde_json::from_value(loaded).unwrap();
    let size = |path: String, encoding: &'static str| {
        let request = app
            .client
            .get(app.url(&path))
            .header("accept-encoding", encoding);
        async move {
            let answer = request.send().await.unwrap();
            assert_eq!(answer.status(), 200, "{path}");
            answer.bytes().await.unwrap().len() as u64
        }
    };
    let (mut sent, mut brotli, mut whole) = (0, 0, 0);
    for path in &paths {
        sent += size(path.clone(), "gzip").await;
        brotli += size(path.clone(), "br").await;
        whole += size(path.clone(), "identity").await;
    }
    eprintln!(
        "first load: {sent} bytes gzip, {brotli} brotli, {whole} uncompressed, in {} files: {paths:?}",
        paths.len()
    );
    assert!(paths.len() >= 10, "{paths:?}");
    // Compressed on the way; the inspector's screens there, the console's and the map
    // library not.
    assert!(sent * 2 < whole, "{sent} of {whole}");
    assert!(paths.iter().any(|p| p == "/app/campaigns.js"), "{paths:?}");
    for absent in ["leaflet", "/app/admin.js", "/app/console.js"] {
        assert!(!paths.iter().any(|p| p.contains(absent)), "{paths:?}");
    }
    assert!(
        sent <= BUDGET_BYTES,
        "{sent} bytes > budget {BUDGET_BYTES}: {paths:?}"
    );
}
