//! The case page: a department works its case from the queue on a phone (accepts, shoots
//! the fix, reports it fixed), the inspector who filed it verifies with a photo of their
//! own, and a supervisor reads the evidence (a photo also on another case, linked) and the
//! history, and sends a disputed case elsewhere, after a change made meanwhile.

use std::time::Duration;

use serde_json::{Value, json};

use super::Browser;
use crate::helpers::{PASSWORD, TestApp, spawn_app};
use crate::images;

/// A department made through the API, named so a person picks it by its name.
async fn department(app: &TestApp, admin: &str, code: &str, name: &str) -> String {
    let response = app
        .post_json(
            "/api/v1/departments",
            Some(admin),
            &json!({"code": code, "name": name, "kind": "urban_management"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

/// Parking goes to `department` city-wide, and `username` works for it.
async fn parking_goes_to(app: &TestApp, admin: &str, department: &str, username: &str) {
    let rule = app
        .post_json(
            "/api/v1/assignment-rules",
            Some(admin),
            &json!({"category": "parking", "area_id": null, "department_id": department}),
        )
        .await;
    assert_eq!(rule.status(), 201);
    let user = app
        .post_json(
            "/api/v1/users",
            Some(admin),
            &json!({"username": username, "password": PASSWORD, "display_name": "王队长",
                "role": "department", "department_id": department}),
        )
        .await;
    assert_eq!(user.status(), 201);
}

/// A parking case filed by `token` with its before photo (so it is dispatched at once).
async fn filed_with_photo(app: &TestApp, token: &str, address: &str, photo: Vec<u8>) -> Value {
    let case = app.file_report(token, json!({"address": address})).await;
    let id = case["id"].as_str().unwrap();
    let uploaded = app.upload_photos(token, id, "before", vec![photo]).await;
    assert_eq!(uploaded.status(), 201);
    read_case(app, token, id).await
}

async fn read_case(app: &TestApp, token: &str, id: &str) -> Value {
    let response = app.get(&format!("/api/v1/reports/{id}"), Some(token)).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn photos_of_kind<'a>(case: &'a Value, kind: &str) -> Vec<&'a Value> {
    case["photos"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == kind)
        .collect()
}

/// A photo file on disk, for a file input.
fn photo_file(seed: u32) -> tempfile::NamedTempFile {
    let file = tempfile::Builder::new().suffix(".jpg").tempfile().unwrap();
    std::fs::write(file.path(), images::jpeg(1280, 960, seed)).unwrap();
    file
}

/// Waits until every photo on the page is drawn (they are read with the session).
async fn photos_drawn(browser: &Browser, count: usize) {
    for _ in 0..100 {
        let drawn = browser
            .run(
                "const imgs = [...document.querySelectorAll('.case-photo img')]; \
                 return imgs.filter(i => i.complete && i.naturalWidth > 0).length",
            )
            .await;
        if drawn.as_u64() == Some(count as u64) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the {count} photos were never drawn: {}",
        browser.text("main").await
    );
}

/// Signs out from the queue (so the next sign-in lands on it, not on the last case).
async fn sign_out(browser: &Browser, app: &TestApp) {
    browser.open(&app.url("/#/")).await;
    browser.wait_for_text("h1", "我的待办").await;
    browser.tap(".who button").await;
    browser.wait_for_text("h1", "登录").await;
}

/// Opens a case from the queue as a person does, by its link. The queue's list may be
/// drawn again meanwhile: the link is then followed as it is now.
async fn open_from_queue(browser: &Browser, id: &str, case_no: &str) {
    let css = format!("a[href='#/case/{id}']");
    browser.find(&css).await;
    for _ in 0..50 {
        let clicked = browser
            .run(&format!(
                "const a = document.querySelector(\"{css}\"); if (!a) return false; \
                 a.click(); return true"
            ))
            .await;
        if clicked == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser.wait_for_text("h1", case_no).await;
}

/// What axe-core finds on the page as it stands (WCAG 2.1 A and AA): nothing.
async fn accessible(browser: &Browser, what: &str) {
    let violations = browser.accessibility_violations().await;
    assert!(violations.is_empty(), "{what}: {violations:#?}");
}

/// The user opens an action's form, then sends it.
async fn act(browser: &Browser, action: &str) {
    browser.tap(&format!("button[data-action={action}]")).await;
    browser
        .tap(&format!("form[data-action={action}] button[type=submit]"))
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_department_fixes_its_case_on_a_phone_and_the_inspector_verifies_it() {
    let app = spawn_app().await;
    let admin = app.admin().await.access_token;
    let squad = department(&app, &admin, "CG-01", "城管执法中队").await;
    parking_goes_to(&app, &admin, &squad, "chengguan").await;
    app.create_user("walker", "inspector").await;
    app.create_user("duban", "supervisor").await;
    let walker = app.session("walker", PASSWORD).await.access_token;
    let case = filed_with_photo(&app, &walker, "解放路 100 号", images::jpeg(1280, 960, 21)).await;
    let id = case["id"].as_str().unwrap().to_owned();
    let case_no = case["case_no"].as_str().unwrap().to_owned();
    assert_eq!(case["status"], "assigned");
    assert_eq!(case["assignee"]["id"], squad.as_str());

    let Some(browser) = Browser::start(360, 780).await else {
        return;
    };
    browser.open(&app.url("/")).await;
    browser.sign_in("chengguan", PASSWORD).await;
    // From the queue to the case: who answers for it and why, the time left.
    open_from_queue(&browser, &id, &case_no).await;
    browser.wait_for_text(".case-facts", "城管执法中队").await;
    browser.wait_for_text(".case-facts", "剩余").await;
    browser.wait_for_text("#case-chain", "记录链完整").await;
    photos_drawn(&browser, 1).await;
    // Only what the assignee may do now.
    let offered = browser
        .run(
            "return [...document.querySelectorAll('.case-action-buttons button')] \
             .map(b => b.dataset.action)",
        )
        .await;
    assert_eq!(
        offered,
        json!([
            "accept",
            "dispute",
            "request-extension",
            "request-suspension"
        ])
    );

    act(&browser, "accept").await;
    browser.wait_for_text("#case-said", "签收").await;
    browser.wait_for_text("#case-said", "整改中").await;
    assert_eq!(read_case(&app, &walker, &id).await["status"], "in_progress");

    // The fix, shot with the phone's camera, then reported.
    browser.tap("button[data-action=rectify]").await;
    let camera = browser
        .run(
            "const i = document.querySelector('form[data-action=rectify] input[name=file]'); \
             return [i.accept, i.getAttribute('capture'), i.multiple, i.required]",
        )
        .await;
    assert_eq!(camera, json!(["image/*", "environment", true, true]));
    let after = photo_file(22);
    browser
        .type_into(
            "form[data-action=rectify] input[name=file]",
            after.path().to_str().unwrap(),
        )
        .await;
    browser
        .tap("form[data-action=rectify] button[type=submit]")
        .await;
    browser.wait_for_text("#case-said", "待核查").await;
    let rectified = read_case(&app, &walker, &id).await;
    assert_eq!(rectified["status"], "rectified");
    assert_eq!(photos_of_kind(&rectified, "after").len(), 1);
    photos_drawn(&browser, 2).await;
    assert_eq!(
        browser
            .run("return document.querySelectorAll('.case-action-buttons button').length")
            .await,
        0,
        "nothing left for the department to do"
    );
    browser
        .run("document.getElementById('case-photos-h').scrollIntoView()")
        .await;
    assert!(!browser.text("main").await.contains("null"));
    accessible(&browser, "the rectified case on a phone").await;
    browser.screenshot("case-phone").await;

    // The inspector who filed it checks the fix with a photo of their own.
    sign_out(&browser, &app).await;
    browser.sign_in("walker", PASSWORD).await;
    open_from_queue(&browser, &id, &case_no).await;
    browser.tap("button[data-action=verify]").await;
    let check = photo_file(23);
    browser
        .type_into(
            "form[data-action=verify] input[name=file]",
            check.path().to_str().unwrap(),
        )
        .await;
    browser
        .type_into("form[data-action=verify] textarea[name=note]", "已清理完毕")
        .await;
    browser
        .tap("form[data-action=verify] button[type=submit]")
        .await;
    browser.wait_for_text("#case-said", "已办结").await;
    let closed = read_case(&app, &walker, &id).await;
    assert_eq!(closed["status"], "closed");
    let verification = photos_of_kind(&closed, "verification");
    assert_eq!(verification.len(), 1);
    let events = closed["events"].as_array().unwrap();
    let verify = events.last().unwrap();
    assert_eq!(verify["action"], "verify");
    assert_eq!(verify["note"], "已清理完毕");
    assert_eq!(verify["photo_ids"], json!([verification[0]["id"]]));
    for photo in closed["photos"].as_array().unwrap() {
        let stored = app
            .get(photo["original_url"].as_str().unwrap(), Some(&walker))
            .await;
        assert_eq!(stored.status(), 200);
    }
    browser.wait_for_text(".case-history", "核查通过").await;
    drop(browser);

    // On a desktop: before, after and verification side by side, the map, the history.
    let Some(desk) = Browser::start(1440, 900).await else {
        return;
    };
    desk.open(&app.url("/")).await;
    desk.sign_in("duban", PASSWORD).await;
    desk.open(&app.url(&format!("/#/case/{id}"))).await;
    desk.wait_for_text("h1", &case_no).await;
    photos_drawn(&desk, 3).await;
    desk.find(".case-map.leaflet-container .leaflet-interactive")
        .await;
    desk.wait_for_text("#case-chain", "记录链完整").await;
    let columns = desk
        .run(
            "return [...document.querySelectorAll('.case-kind')] \
             .map(k => Math.round(k.getBoundingClientRect().top))",
        )
        .await;
    let tops: Vec<i64> = columns
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(tops.len(), 3);
    assert!(
        tops.iter().all(|top| *top == tops[0]),
        "side by side: {tops:?}"
    );
    // Closed: a supervisor may reopen it.
    desk.find("button[data-action=reopen]").await;
    accessible(&desk, "the closed case on a desktop").await;
    desk.screenshot("case-desktop").await;
    desk.click("button[data-action=reopen]").await;
    accessible(&desk, "the reopen form").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_supervisor_sees_a_reused_photo_and_sends_a_disputed_case_elsewhere() {
    let app = spawn_app().await;
    let admin = app.admin().await.access_token;
    let squad = department(&app, &admin, "CG-01", "城管执法中队").await;
    let sanitation = department(&app, &admin, "HW-02", "市容环卫所").await;
    parking_goes_to(&app, &admin, &squad, "chengguan").await;
    app.create_user("walker", "inspector").await;
    app.create_user("duban", "supervisor").await;
    let walker = app.session("walker", PASSWORD).await.access_token;
    let supervisor = app.session("duban", PASSWORD).await.access_token;
    let reused = images::jpeg(1280, 960, 31);
    let first = filed_with_photo(&app, &walker, "延安路 8 号", reused.clone()).await;
    let second = filed_with_photo(&app, &walker, "延安路 10 号", reused).await;
    assert_eq!(
        second["photos"][0]["flags"],
        json!(["same_photo_on_other_case"])
    );
    let disputed =
        filed_with_photo(&app, &walker, "庆春路 3 号", images::jpeg(1280, 960, 32)).await;
    let disputed_id = disputed["id"].as_str().unwrap().to_owned();

    let Some(browser) = Browser::start(1440, 900).await else {
        return;
    };
    // The department says the case is not theirs.
    browser.open(&app.url("/")).await;
    browser.sign_in("chengguan", PASSWORD).await;
    open_from_queue(
        &browser,
        &disputed_id,
        disputed["case_no"].as_str().unwrap(),
    )
    .await;
    browser.click("button[data-action=dispute]").await;
    // A dispute needs its reason: the form asks for it before anything is sent.
    assert_eq!(
        browser
            .run("return document.querySelector('form[data-action=dispute] textarea').required")
            .await,
        true
    );
    browser
        .type_into(
            "form[data-action=dispute] textarea[name=note]",
            "该路段属环卫所管理",
        )
        .await;
    browser
        .click("form[data-action=dispute] button[type=submit]")
        .await;
    browser.wait_for_text("#case-said", "有异议").await;
    assert_eq!(
        read_case(&app, &walker, &disputed_id).await["status"],
        "disputed"
    );

    // The supervisor opens it; meanwhile someone else assigns it back to the squad.
    sign_out(&browser, &app).await;
    browser.sign_in("duban", PASSWORD).await;
    browser
        .open(&app.url(&format!("/#/case/{disputed_id}")))
        .await;
    browser
        .wait_for_text(".case-history", "该路段属环卫所管理")
        .await;
    let seen = read_case(&app, &supervisor, &disputed_id).await;
    let meanwhile = app
        .post_json(
            &format!("/api/v1/reports/{disputed_id}/assign"),
            Some(&supervisor),
            &json!({"version": seen["version"], "department_id": squad}),
        )
        .await;
    assert_eq!(meanwhile.status(), 200);
    let option = format!("form[data-action=assign] option[value='department:{sanitation}']");
    browser.click("button[data-action=assign]").await;
    browser.find(&option).await;
    accessible(&browser, "the assign form").await;
    browser
        .type_into(
            "form[data-action=assign] select[name=assignee]",
            "市容环卫所",
        )
        .await;
    browser
        .click("form[data-action=assign] button[type=submit]")
        .await;
    browser.wait_for_text("#case-said", "已被他人更新").await;
    browser.wait_for_text(".case-facts", "已派遣").await;
    // Read again, it is sent where it belongs.
    browser.click("button[data-action=assign]").await;
    browser.find(&option).await;
    browser
        .type_into(
            "form[data-action=assign] select[name=assignee]",
            "市容环卫所",
        )
        .await;
    browser
        .type_into("form[data-action=assign] textarea[name=note]", "按异议改派")
        .await;
    browser
        .click("form[data-action=assign] button[type=submit]")
        .await;
    browser.wait_for_text("#case-said", "已完成").await;
    browser.wait_for_text(".case-facts", "市容环卫所").await;
    let reassigned = read_case(&app, &supervisor, &disputed_id).await;
    assert_eq!(reassigned["status"], "assigned");
    assert_eq!(reassigned["assignee"]["id"], sanitation.as_str());

    // The reused photo: flagged in plain Chinese, with the case it was also filed on.
    let second_id = second["id"].as_str().unwrap();
    let first_id = first["id"].as_str().unwrap();
    browser
        .open(&app.url(&format!("/#/case/{second_id}")))
        .await;
    browser
        .wait_for_text("h1", second["case_no"].as_str().unwrap())
        .await;
    browser
        .wait_for_text(
            "li[data-flag=same_photo_on_other_case]",
            "同一张照片也出现在其他案件中",
        )
        .await;
    let link = format!(".case-flags a[href='#/case/{first_id}']");
    browser.find(&link).await;
    assert_eq!(
        browser.text(&link).await,
        first["case_no"].as_str().unwrap()
    );
    browser.wait_for_text("#case-chain", "记录链完整").await;
    photos_drawn(&browser, 1).await;
    browser
        .run("document.getElementById('case-photos-h').scrollIntoView()")
        .await;
    let flagged = browser.text("li[data-flag=same_photo_on_other_case]").await;
    assert!(
        flagged.ends_with(&format!("对应：{}", first["case_no"].as_str().unwrap())),
        "{flagged}"
    );
    assert!(!browser.text("main").await.contains("null"));
    accessible(&browser, "a flagged case").await;
    browser.screenshot("case-flags-desktop").await;

    // The link leads to the other case.
    browser.click(&link).await;
    browser
        .wait_for_text("h1", first["case_no"].as_str().unwrap())
        .await;
}
