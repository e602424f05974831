//! Filing: who will answer for a report is shown before it is filed, decided on the phone
//! from the kept registry as the server decides it.

use serde_json::Value;

use super::Browser;
use crate::helpers::{PASSWORD, spawn_app};
use crate::registry::street_across_two_subdistricts;

#[tokio::test(flavor = "multi_thread")]
async fn the_phone_names_who_will_answer_as_the_server_would() {
    let app = spawn_app().await;
    let (admin, _) = street_across_two_subdistricts(&app).await;
    app.create_user("patrol", "inspector").await;
    let Some(browser) = Browser::start(360, 780).await else {
        return;
    };
    // In the east sub-district, away from the shops: its own traffic squad, by its rule.
    browser.place_at(30.02, 120.15, 5.0).await;
    browser.open(&app.url("/")).await;
    browser.sign_in("patrol", PASSWORD).await;
    browser.click("a[href='#/file']").await;
    browser.wait_for_text("#gps", "位置 30.02000").await;
    browser.type_into("select[name=category]", "乱停乱放").await;
    browser.wait_for_text("#answers", "东交警中队").await;
    browser.wait_for_text("#answers", "区域规则").await;

    // In front of a shop with a 30 m zone, a frontage problem is the shop's.
    browser.place_at(30.05, 120.0985, 5.0).await;
    browser.open(&app.url("/#/outbox")).await;
    browser.open(&app.url("/#/file")).await;
    browser.wait_for_text("#gps", "位置 30.05000").await;
    browser.type_into("select[name=category]", "乱贴乱画").await;
    browser.wait_for_text("#answers", "店0").await;
    browser.wait_for_text("#answers", "门前三包责任区").await;
    browser.screenshot("file-answers-phone").await;

    // The same decision as the server's, on 300 points and three categories, from the
    // copy the phone keeps.
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % 1_000_000) as f64 / 1_000_000.0
    };
    // Across the district, then along the street of shops.
    let mut points: Vec<(f64, f64)> = (0..300)
        .map(|_| (30.0 + next() * 0.1, 120.0 + next() * 0.2))
        .collect();
    points.extend((0..100).map(|_| (30.049 + next() * 0.002, 120.098 + next() * 0.004)));
    let categories = ["posting_graffiti", "parking", "illegal_building"];
    let script = format!(
        "import('/app/registry.js').then(async (m) => {{ \
           const doc = await m.registry(); \
           const out = []; \
           for (const [lat, lon] of {points}) for (const c of {categories}) \
             {{ const d = m.decide(doc, c, lat, lon); out.push([d.id ?? null, d.why]); }} \
           arguments[0](out); }})",
        points = serde_json::to_string(&points).unwrap(),
        categories = serde_json::to_string(&categories).unwrap(),
    );
    let phone = browser.run_async(&script).await;
    let phone = phone.as_array().unwrap();
    let mut seen = std::collections::HashSet::new();
    for (i, (lat, lon)) in points.iter().enumerate() {
        for (j, category) in categories.iter().enumerate() {
            let server: Value = app
                .get(
                    &format!(
                        "/api/v1/assignment-rules/check?category={category}&lat={lat}&lon={lon}"
                    ),
                    Some(&admin),
                )
                .await
                .json()
                .await
                .unwrap();
            let decided = &phone[i * categories.len() + j];
            assert_eq!(
                (decided[0].as_str(), decided[1].as_str()),
                (server["id"].as_str(), server["basis"].as_str()),
                "{category} at {lat},{lon}: {server}"
            );
            seen.insert(server["id"].to_string());
        }
    }
    assert!(seen.len() >= 8, "{seen:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_map_draws_the_shops_frontage_zones() {
    let app = spawn_app().await;
    street_across_two_subdistricts(&app).await;
    app.create_user("chief", "supervisor").await;
    let Some(browser) = Browser::start(1440, 900).await else {
        return;
    };
    browser.open(&app.url("/")).await;
    browser.sign_in("chief", PASSWORD).await;
    browser.open(&app.url("/#/map")).await;
    // Six radius zones and six polygons, on the plain background.
    for _ in 0..100 {
        if browser
            .run("return document.querySelectorAll('path.con-zone').length")
            .await
            == 12
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "zones drawn: {}",
        browser
            .run("return document.querySelectorAll('path.con-zone').length")
            .await
    );
}

/// What a reporter typed is shown as text on the case page and its map.
#[tokio::test(flavor = "multi_thread")]
async fn an_address_with_markup_stays_text_on_the_case_page() {
    let app = spawn_app().await;
    app.create_user("writer", "inspector").await;
    let writer = app.session("writer", PASSWORD).await.access_token;
    let markup = "<img src=x id=pwned onerror=\"window.pwned=1\">解放路";
    let case = app
        .file_report(&writer, serde_json::json!({"address": markup}))
        .await;
    let Some(browser) = Browser::start(1440, 900).await else {
        return;
    };
    browser.open(&app.url("/")).await;
    browser.sign_in("writer", PASSWORD).await;
    browser
        .open(&app.url(&format!("/#/case/{}", case["id"].as_str().unwrap())))
        .await;
    browser.wait_for_text("main", markup).await;
    browser.find(".leaflet-overlay-pane path").await;
    assert_eq!(
        browser
            .run("return [document.getElementById('pwned'), window.pwned ?? null]")
            .await,
        serde_json::json!([null, null])
    );
}
