//! Every main screen of every role, checked by axe-core against WCAG 2.1 A and AA
//! (labelled controls, contrast, roles, names), at the width its users have.

use serde_json::json;

use super::Browser;
use crate::helpers::{ADMIN_PASSWORD, PASSWORD, spawn_app};

/// Opens each screen, waits for it to settle, and collects what axe finds.
async fn check(browser: &Browser, base: &str, screens: &[&str], found: &mut Vec<String>) {
    for screen in screens {
        browser.open(&format!("{base}{screen}")).await;
        browser.find("h1").await;
        // Settled: nothing says it is still loading.
        for _ in 0..50 {
            if !browser.text("main").await.contains("正在加载") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let violations = browser.accessibility_violations().await;
        eprintln!("{screen}: {} violations", violations.len());
        for violation in violations {
            found.push(format!("{screen}: {violation}"));
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_main_screen_meets_wcag_a_and_aa() {
    let app = spawn_app().await;
    let worker = app.parking_goes_to_a_department().await;
    let inspector = app.login_as("inspector").await.access_token;
    let case = app.file_report(&inspector, json!({})).await;
    let case = format!("#/case/{}", case["id"].as_str().unwrap());
    let worker_name = {
        let me: serde_json::Value = app
            .get("/api/v1/me", Some(&worker))
            .await
            .json()
            .await
            .unwrap();
        me["username"].as_str().unwrap().to_owned()
    };
    app.create_user("checker", "inspector").await;
    app.create_user("overseer", "supervisor").await;
    let mut found = Vec::new();

    let Some(phone) = Browser::start(360, 780).await else {
        return;
    };
    phone.open(&app.url("/")).await;
    phone.wait_for_text("h1", "登录").await;
    for violation in phone.accessibility_violations().await {
        found.push(format!("sign-in: {violation}"));
    }
    // The check can fail: an input with no label and grey-on-white text are found.
    phone
        .run(
            "const i = document.createElement('input'); i.id = 'bare'; document.body.append(i); \
             const p = document.createElement('p'); p.id = 'faint'; p.textContent = '看不清'; \
             p.style.color = '#ccc'; document.body.append(p);",
        )
        .await;
    let planted = phone.accessibility_violations().await.join("\n");
    assert!(
        planted.contains("label") && planted.contains("color-contrast"),
        "{planted}"
    );
    phone
        .run("document.getElementById('bare').remove(); document.getElementById('faint').remove()")
        .await;
    phone.sign_in("checker", PASSWORD).await;
    check(
        &phone,
        &app.url("/"),
        &["#/", "#/file", "#/outbox", "#/campaigns"],
        &mut found,
    )
    .await;
    phone.open(&app.url("/#/")).await;
    phone.click(".who button").await;
    phone.sign_in(&worker_name, PASSWORD).await;
    check(&phone, &app.url("/"), &["#/", &case], &mut found).await;
    drop(phone);

    let Some(desk) = Browser::start(1440, 900).await else {
        return;
    };
    desk.open(&app.url("/")).await;
    desk.sign_in("overseer", PASSWORD).await;
    check(
        &desk,
        &app.url("/"),
        &[
            "#/triage",
            "#/map",
            "#/stats",
            "#/campaigns",
            "#/campaigns/new",
            &case,
        ],
        &mut found,
    )
    .await;
    desk.open(&app.url("/#/")).await;
    desk.click(".who button").await;
    // Signed in from the keyboard alone: name, Tab, password, Enter.
    desk.wait_for_text("h1", "登录").await;
    desk.type_into(
        "input[name=username]",
        &format!("admin\u{E004}{ADMIN_PASSWORD}\u{E007}"),
    )
    .await;
    desk.wait_for_text("h1", "我的待办").await;
    let admin: Vec<String> = [
        "users",
        "departments",
        "areas",
        "rules",
        "shopfronts",
        "categories",
        "calendar",
        "webhooks",
        "api-keys",
    ]
    .iter()
    .map(|section| format!("#/admin/{section}"))
    .collect();
    let admin: Vec<&str> = admin.iter().map(String::as_str).collect();
    check(&desk, &app.url("/"), &admin, &mut found).await;

    assert!(found.is_empty(), "WCAG violations:\n{}", found.join("\n"));
}
