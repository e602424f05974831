//! Unannounced inspections (明察暗访) in the browser: a supervisor creates a campaign and
//! sees the draw's commitment, an inspector on a phone scores a drawn site with a photo
//! and where the phone stood, the supervisor reads the rankings (the inspector's score in
//! them), compares with another round, downloads the workbook, closes the campaign and
//! has the revealed seed replayed. Each step is checked against the server's state.

use std::time::Duration;

use serde_json::{Value, json};

use super::Browser;
use crate::helpers::{PASSWORD, TestApp, assert_error, spawn_app};
use crate::images;

fn square(x0: f64, y0: f64, size: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]]})
}

async fn post(app: &TestApp, path: &str, token: &str, body: &Value) -> Value {
    let response = app.post_json(path, Some(token), body).await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert!(status == 200 || status == 201, "{path}: {status} {body}");
    body
}

async fn get_ok(app: &TestApp, path: &str, token: &str) -> Value {
    let response = app.get(path, Some(token)).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

/// 东区 (with its local authority, 城管局), four markets in it, a checklist of 20 points
/// (two items that file cases when points are lost, one that does not), the supervisor
/// 陈 and the inspector 李.
struct City {
    area: String,
    checklist: Value,
    supervisor: String,
    inspector_id: String,
}

async fn city(app: &TestApp) -> City {
    let admin = app.admin().await;
    let authority = app.create_department().await;
    let area = post(
        app,
        "/api/v1/areas",
        &admin.access_token,
        &json!({"code": "E", "name": "东区", "level": "district",
        "local_authority_id": authority, "boundary": square(120.0, 30.0, 0.1)}),
    )
    .await;
    let area = area["id"].as_str().unwrap().to_owned();
    app.create_user("chenhua", "supervisor").await;
    let inspector = app.create_user("liming", "inspector").await;
    let supervisor = app.session("chenhua", PASSWORD).await.access_token;
    for (i, lon) in [120.02, 120.03, 120.04, 120.05].into_iter().enumerate() {
        post(app, "/api/v1/sites", &supervisor, &json!({
            "code": format!("M{}", i + 1), "name": format!("第{}农贸市场", i + 1), "site_type": "market",
            "area_id": area, "location": {"lat": 30.03, "lon": lon},
            "address": format!("解放路 {} 号", (i + 1) * 10)})).await;
    }
    let checklist = post(
        app,
        "/api/v1/checklists",
        &supervisor,
        &json!({"name": "农贸市场考核表", "items": [
            {"title": "垃圾清运及时", "max_points": 10, "category": "littering_dumping"},
            {"title": "无乱贴乱画", "max_points": 5, "category": "posting_graffiti"},
            {"title": "台账齐全", "max_points": 5},
        ]}),
    )
    .await;
    City {
        area,
        checklist,
        supervisor,
        inspector_id: inspector["id"].as_str().unwrap().to_owned(),
    }
}

/// Empties an input, then types into it as a person would (input events fire).
async fn retype(browser: &Browser, css: &str, text: &str) {
    let quoted = serde_json::to_string(css).unwrap();
    browser
        .run(&format!("document.querySelector({quoted}).value = ''"))
        .await;
    browser.type_into(css, text).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_campaign_is_drawn_visited_on_a_phone_reviewed_and_its_draw_verified() {
    let app = spawn_app().await;
    let city = city(&app).await;
    // An earlier round to compare with, made through the API.
    let earlier = post(
        &app,
        "/api/v1/campaigns",
        &city.supervisor,
        &json!({
        "name": "2025年第四季度明察暗访", "starts_on": "2025-10-01", "ends_on": "2025-12-31",
        "checklist_id": city.checklist["id"], "plan": {"area_ids": [city.area],
        "quotas": [{"site_type": "market", "count": 1}]}, "inspector_ids": []}),
    )
    .await;

    let Some(desk) = Browser::start(1440, 900).await else {
        return;
    };
    // Downloads land in a directory of the test's own.
    let downloads = tempfile::tempdir().unwrap();
    desk.cdp(
        "Browser.setDownloadBehavior",
        json!({"behavior": "allow", "downloadPath": downloads.path().to_str().unwrap()}),
    )
    .await;
    desk.open(&app.url("/")).await;
    desk.sign_in("chenhua", PASSWORD).await;
    desk.click("nav a[href='#/campaigns']").await;
    desk.wait_for_text("h1", "明察暗访检查活动").await;
    desk.wait_for_text("main", "2025年第四季度明察暗访").await;
    desk.click("a[href='#/campaigns/new']").await;
    desk.wait_for_text("h1", "新建检查活动").await;
    desk.type_into("input[name=name]", "2026年第一季度明察暗访")
        .await;
    desk.find("select[name=checklist_id] option:nth-child(2)")
        .await;
    desk.type_into("select[name=checklist_id]", "农贸市场考核表")
        .await;
    desk.click(&format!("input[name=area_id][value='{}']", city.area))
        .await;
    retype(&desk, "input[name=quota_market]", "2").await;
    desk.click(&format!(
        "input[name=inspector_id][value='{}']",
        city.inspector_id
    ))
    .await;
    desk.wait_for_text("main form", "公布种子的 SHA-256").await;
    desk.click("main form button[type=submit]").await;
    desk.wait_for_text("main", "检查活动已创建，点位已抽取")
        .await;

    // What the page shows is what the server committed to; the seed stays secret.
    let all = get_ok(&app, "/api/v1/campaigns", &city.supervisor).await;
    let campaign = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "2026年第一季度明察暗访")
        .unwrap()
        .clone();
    let id = campaign["id"].as_str().unwrap().to_owned();
    assert_eq!(
        campaign["plan"]["quotas"],
        json!([{"site_type": "market", "count": 2}])
    );
    assert_eq!(campaign["plan"]["area_ids"], json!([city.area]));
    assert_eq!(campaign["inspector_ids"], json!([city.inspector_id]));
    assert_eq!(campaign["mode"], "unannounced");
    assert_eq!(campaign["checklist_id"], city.checklist["id"]);
    assert!(campaign["seed"].is_null());
    let commitment = campaign["seed_sha256"].as_str().unwrap();
    assert_eq!(desk.text("#seed-sha256").await, commitment);
    desk.wait_for_text("#commitment", campaign["frame_sha256"].as_str().unwrap())
        .await;
    desk.wait_for_text("#seed", "保密").await;
    desk.wait_for_text("#commitment", "无法事后更改").await;
    let detail = get_ok(&app, &format!("/api/v1/campaigns/{id}"), &city.supervisor).await;
    let drawn = detail["sites"].as_array().unwrap().clone();
    assert_eq!(drawn.len(), 2);
    for site in &drawn {
        desk.wait_for_text("main", site["name"].as_str().unwrap())
            .await;
    }
    desk.screenshot("campaign-new-desktop").await;

    // The inspector, on a phone at the first drawn site.
    let site = &drawn[0];
    let site_id = site["site_id"].as_str().unwrap();
    let Some(phone) = Browser::start(360, 780).await else {
        return;
    };
    phone
        .place_at(
            site["location"]["lat"].as_f64().unwrap() + 0.0001,
            site["location"]["lon"].as_f64().unwrap(),
            6.0,
        )
        .await;
    phone.open(&app.url("/")).await;
    phone.sign_in("liming", PASSWORD).await;
    phone.tap("nav a[href='#/campaigns']").await;
    phone.wait_for_text("main", "2026年第一季度明察暗访").await;
    phone.tap(&format!("a[href='#/campaigns/{id}']")).await;
    phone.wait_for_text("h1", "2026年第一季度明察暗访").await;
    // Before the close there is nothing to verify.
    phone
        .wait_for_text("#verify-result", "种子公开后即可验证")
        .await;
    assert_eq!(
        phone
            .run("return document.querySelector('#verify').disabled")
            .await,
        true
    );
    phone
        .tap(&format!("a[href='#/campaigns/{id}/visit?site={site_id}']"))
        .await;
    phone.wait_for_text("h1", "记录检查").await;
    phone.wait_for_text("#gps", "距点位 11 米").await;
    assert_eq!(
        phone
            .run("return document.querySelector('select[name=site_id]').value")
            .await,
        site_id
    );
    let item = |i: usize| {
        city.checklist["items"][i]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    retype(&phone, &format!("input[name='score_{}']", item(0)), "7").await;
    phone
        .type_into(
            &format!("input[name='note_{}']", item(0)),
            "垃圾桶满溢未清运",
        )
        .await;
    phone.wait_for_text("main form", "扣 3 分").await;
    phone.wait_for_text("#total", "合计 17 / 20 分").await;
    phone
        .type_into("textarea[name=notes]", "市场管理员在场")
        .await;
    let photo = tempfile::Builder::new().suffix(".jpg").tempfile().unwrap();
    std::fs::write(photo.path(), images::jpeg(1280, 960, 17)).unwrap();
    phone
        .type_into("input[name=photos]", photo.path().to_str().unwrap())
        .await;
    phone
        .run("document.querySelector('select[name=site_id]').closest('label').scrollIntoView()")
        .await;
    phone.screenshot("visit-phone").await;
    // The form fits the phone: nothing wider than its 360 px.
    let widths = phone
        .run("return [innerWidth, document.documentElement.scrollWidth]")
        .await;
    assert_eq!(widths, json!([360, 360]));
    phone.tap("main form button[type=submit]").await;
    phone.wait_for_text("main", "检查记录已提交").await;
    phone.wait_for_text("#visits", "得分 17 / 20").await;
    phone.wait_for_text("#visits", "垃圾桶满溢未清运").await;

    // The server has the visit, its scores, its photo, where the phone stood, and the
    // case the deduction filed.
    let visits = get_ok(
        &app,
        &format!("/api/v1/campaigns/{id}/visits"),
        &city.supervisor,
    )
    .await;
    let visit = &visits["items"][0];
    assert_eq!(visits["items"].as_array().unwrap().len(), 1);
    assert_eq!(visit["site_id"], site_id);
    assert_eq!(visit["inspector_id"], city.inspector_id);
    assert_eq!(visit["score"], 17.0);
    assert_eq!(visit["max_score"], 20.0);
    let notes = visit["notes"].as_str().unwrap();
    assert!(
        notes.starts_with("市场管理员在场\n定位 30.03010, "),
        "{notes}"
    );
    assert!(notes.ends_with("距点位 11 米"), "{notes}");
    assert_eq!(visit["photos"].as_array().unwrap().len(), 1, "{visit}");
    assert_eq!(visit["scores"][0]["score"], 7.0);
    assert_eq!(visit["scores"][0]["note"], "垃圾桶满溢未清运");
    assert!(visit["scores"][0]["case_id"].is_string(), "{visit}");
    assert!(visit["scores"][1]["case_id"].is_null());
    phone.find("#visits img[src^='blob:']").await;

    // The supervisor's review: the inspector's score is in the ranking.
    desk.open(&app.url(&format!("/#/campaigns/{id}"))).await;
    desk.wait_for_text("#visits", "得分 17 / 20").await;
    desk.click(&format!("a[href='#/campaigns/{id}/summary']"))
        .await;
    desk.wait_for_text("#headline", "已检查 1 个").await;
    desk.wait_for_text("#headline", "平均得分率 85%").await;
    let ranking = desk.text("#site-ranking tbody tr:first-child").await;
    for part in [
        "1",
        site["name"].as_str().unwrap(),
        "17 / 20",
        "85%",
        "城管局",
    ] {
        assert!(ranking.contains(part), "{part} not in {ranking:?}");
    }
    desk.wait_for_text("main", "区域排名").await;
    desk.wait_for_text("main", "乱扔乱倒").await;

    // Compared with the earlier round.
    desk.type_into("#compare-to", "2025年第四季度明察暗访")
        .await;
    desk.wait_for_text("main", "与其他检查活动对比：2025年第四季度明察暗访")
        .await;
    assert_eq!(
        desk.run("return location.hash").await,
        format!(
            "#/campaigns/{id}/summary?compare_to={}",
            earlier["id"].as_str().unwrap()
        )
    );
    desk.screenshot("campaign-summary-desktop").await;

    // The workbook: the app's download, and the export as the page's session fetches it.
    desk.click("#xlsx").await;
    desk.wait_for_text("#download-status", "已下载").await;
    let mut saved = None;
    for _ in 0..100 {
        saved = std::fs::read_dir(downloads.path())
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "xlsx"));
        if saved.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let saved = saved.expect("the workbook is saved");
    assert!(std::fs::read(&saved).unwrap().starts_with(b"PK"));
    let fetched = desk
        .run_async(&format!(
            "const done = arguments[0]; \
             const token = JSON.parse(localStorage.getItem('xuncha.session')).access_token; \
             fetch('/api/v1/campaigns/{id}/export.xlsx', {{headers: {{Authorization: 'Bearer ' + token}}}}) \
               .then((r) => r.arrayBuffer().then((b) => done([r.status, r.headers.get('content-type'), b.byteLength]))) \
               .catch((e) => done(String(e)))"
        ))
        .await;
    assert_eq!(fetched[0], 200, "{fetched}");
    assert_eq!(
        fetched[1],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(fetched[2].as_u64().unwrap() > 1000, "{fetched}");

    // Closed, the seed is revealed, and the replay gives the same sites.
    desk.click(&format!("main a[href='#/campaigns/{id}']"))
        .await;
    desk.wait_for_text("#seed", "保密").await;
    desk.click("#close").await;
    desk.click("#close-confirm").await;
    desk.wait_for_text("main", "活动已结束，种子已公开").await;
    let closed = get_ok(&app, &format!("/api/v1/campaigns/{id}"), &city.supervisor).await;
    assert_eq!(closed["status"], "closed");
    let seed = closed["seed"].as_str().unwrap();
    desk.wait_for_text("#seed", seed).await;
    desk.click("#verify").await;
    desk.wait_for_text("#verify-result", "验证通过").await;
    desk.run("document.querySelector('#draw-title').scrollIntoView()")
        .await;
    desk.screenshot("campaign-desktop").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn supervisors_list_the_inspectors_a_campaign_can_name() {
    let app = spawn_app().await;
    let city = city(&app).await;
    let admin = app.admin().await;
    let gone = app.create_user("gone-away", "inspector").await;
    let response = app
        .patch_json(
            &format!("/api/v1/users/{}", gone["id"].as_str().unwrap()),
            &admin.access_token,
            &json!({"disabled": true}),
        )
        .await;
    assert_eq!(response.status(), 200);
    // Routed before `/campaigns/{id}`, for supervisors and admins; enabled inspectors only.
    for token in [&city.supervisor, &admin.access_token] {
        let listed = get_ok(&app, "/api/v1/campaigns/inspectors", token).await;
        assert_eq!(
            listed,
            json!({"items": [{"id": city.inspector_id, "username": "liming",
                "display_name": "Test inspector"}], "next_cursor": null})
        );
    }
    let inspector = app.session("liming", PASSWORD).await;
    assert_error(
        app.get(
            "/api/v1/campaigns/inspectors",
            Some(&inspector.access_token),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
}
