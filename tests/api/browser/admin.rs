//! The admin screens: areas imported from GeoJSON after a preview on the map, a
//! department and a rule made in the forms, where a case would go from a click on the
//! map, shops imported from XLSX and CSV with each wrong row's problem beside it (fixed in
//! place, or skipped), users made with their department; the API confirms each.

use serde_json::{Value, json};
use xuncha::domain::CreditCode;

use super::Browser;
use crate::helpers::{ADMIN_PASSWORD, PASSWORD, spawn_app};

/// A square of `side` degrees with its south-west corner at (lon, lat), as GeoJSON.
fn square(lon: f64, lat: f64, side: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[
        [lon, lat], [lon + side, lat], [lon + side, lat + side], [lon, lat + side], [lon, lat]
    ]]})
}

/// A real click at a point of the page (viewport pixels), as a mouse gives it.
async fn click_at(browser: &Browser, x: f64, y: f64) {
    browser
        .command(
            reqwest::Method::POST,
            "/actions",
            json!({"actions": [{"type": "pointer", "id": "mouse",
            "parameters": {"pointerType": "mouse"},
            "actions": [
                {"type": "pointerMove", "duration": 0, "origin": "viewport",
                 "x": x.round() as i64, "y": y.round() as i64},
                {"type": "pointerDown", "button": 0},
                {"type": "pointerUp", "button": 0},
            ]}]}),
        )
        .await;
}

/// Picks the option of the `<select>` at `css` whose text starts with `text`, as a person
/// choosing from the list does (typing to a select is timing-dependent on a busy machine).
async fn choose(browser: &Browser, css: &str, text: &str) {
    // Tried until the select and its option are there: a section may draw again (its
    // lists loaded) between finding the select and choosing in it.
    let script = format!(
        "const select = document.querySelector({css}); \
         if (!select) return false; \
         const option = [...select.options].find((o) => o.textContent.startsWith({text})); \
         if (!option) return false; \
         select.value = option.value; \
         select.dispatchEvent(new Event('change', {{bubbles: true}})); \
         return true",
        css = serde_json::to_string(css).unwrap(),
        text = serde_json::to_string(text).unwrap(),
    );
    wait_for_value(browser, &script, json!(true)).await;
}

/// Waits (10 s at most) until `script` returns `expected`.
async fn wait_for_value(browser: &Browser, script: &str, expected: Value) {
    let mut last = Value::Null;
    for _ in 0..100 {
        last = browser.run(script).await;
        if last == expected {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "{script} gave {last}, not {expected}; the page says {:?}",
        browser.text("main").await
    );
}

fn credit(first17: &str) -> String {
    CreditCode::with_check_digit(first17)
        .unwrap()
        .as_str()
        .to_owned()
}

/// The same code with another check digit.
fn wrong_check_digit(code: &str) -> String {
    let (body, last) = code.split_at(17);
    format!("{body}{}", if last == "0" { "1" } else { "0" })
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_imports_areas_and_shops_sets_a_rule_and_sees_where_a_case_goes() {
    let app = spawn_app().await;
    let admin = app.admin().await.access_token;
    let files = tempfile::tempdir().unwrap();
    let Some(browser) = Browser::start(1440, 900).await else {
        return;
    };
    browser.open(&app.url("/")).await;
    browser.sign_in("admin", ADMIN_PASSWORD).await;
    browser.click("a[href='#/admin']").await;
    browser.wait_for_text("h1", "系统管理").await;

    // Areas: a GeoJSON file of two sub-districts, drawn on the map before it is imported.
    browser.click("a[href='#/admin/areas']").await;
    browser.wait_for_text("h1", "区域").await;
    browser.find(".adm-map.leaflet-container").await;
    let geojson = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "330106001", "name": "西湖街道", "level": "subdistrict"},
         "geometry": square(120.10, 30.24, 0.04)},
        {"type": "Feature", "properties": {"code": "330106002", "name": "北山街道", "level": "subdistrict"},
         "geometry": square(120.14, 30.24, 0.04)},
    ]});
    let path = files.path().join("街道.geojson");
    std::fs::write(&path, serde_json::to_vec(&geojson).unwrap()).unwrap();
    browser
        .type_into(".adm-import input[type=file]", path.to_str().unwrap())
        .await;
    browser
        .wait_for_text(".adm-import-said", "检查通过，尚未导入：将新建 2")
        .await;
    // Leaflet draws each polygon as an SVG path.
    wait_for_value(
        &browser,
        "return document.querySelectorAll('.adm-map svg path.adm-preview').length",
        json!(2),
    )
    .await;
    browser.wait_for_text("#adm-area-import", "北山街道").await;
    let before: Value = app
        .get("/api/v1/areas", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(before["items"], json!([]), "a preview writes nothing");
    browser
        .run("document.getElementById('adm-import-areas').scrollIntoView()")
        .await;
    browser.screenshot("admin-areas-desktop").await;
    browser.tap(".adm-import .adm-go").await;
    browser
        .wait_for_text(".adm-import-said", "导入完成：新建 2")
        .await;
    browser
        .wait_for_text(".adm-tree", "西湖街道（330106001")
        .await;
    let mut areas = std::collections::HashMap::new();
    for code in ["330106001", "330106002"] {
        let found: Value = app
            .get(&format!("/api/v1/areas?code={code}"), Some(&admin))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(found["items"].as_array().unwrap().len(), 1, "{code}");
        assert_eq!(found["items"][0]["level"], "subdistrict");
        areas.insert(code, found["items"][0]["id"].as_str().unwrap().to_owned());
    }

    // A department, through its form.
    browser.click("a[href='#/admin/departments']").await;
    browser.wait_for_text("h1", "部门").await;
    let form = "form[aria-labelledby=adm-department-form]";
    browser
        .type_into(&format!("{form} input[name=code]"), "JJ-XH")
        .await;
    browser
        .type_into(&format!("{form} input[name=name]"), "西湖交警中队")
        .await;
    choose(&browser, &format!("{form} select[name=kind]"), "公安交警").await;
    browser.click(&format!("{form} button[type=submit]")).await;
    browser
        .wait_for_text("#adm-departments", "西湖交警中队")
        .await;
    let departments: Value = app
        .get("/api/v1/departments", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let department = departments["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "JJ-XH")
        .expect("the department was made");
    assert_eq!(department["kind"], "traffic_police");
    let department_id = department["id"].as_str().unwrap().to_owned();

    // A rule: parking in 西湖街道 goes to that department.
    browser.click("a[href='#/admin/rules']").await;
    browser.wait_for_text("h1", "派遣规则").await;
    let form = "form[aria-labelledby=adm-new-rule]";
    choose(
        &browser,
        &format!("{form} select[name=category]"),
        "乱停乱放",
    )
    .await;
    choose(
        &browser,
        &format!("{form} select[name=area_id]"),
        "西湖街道",
    )
    .await;
    choose(
        &browser,
        &format!("{form} select[name=department_id]"),
        "西湖交警中队",
    )
    .await;
    browser.click(&format!("{form} button[type=submit]")).await;
    browser.wait_for_text("#adm-rules", "西湖交警中队").await;
    let rules: Value = app
        .get("/api/v1/assignment-rules", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        rules["items"],
        json!([{"id": rules["items"][0]["id"], "category": "parking",
                "area_id": areas["330106001"], "department_id": department_id}])
    );

    // Where would a parking case go: a click inside 西湖街道 on the map.
    choose(&browser, ".adm-check select[name=category]", "乱停乱放").await;
    browser
        .find(".adm-map svg path.adm-existing[data-code='330106001']")
        .await;
    let centre = browser
        .run(
            "const path = document.querySelector(\"path.adm-existing[data-code='330106001']\"); \
             path.closest('.adm-map').scrollIntoView({block: 'center'}); \
             const box = path.getBoundingClientRect(); \
             return [box.left + box.width / 2, box.top + box.height / 2]",
        )
        .await;
    click_at(
        &browser,
        centre[0].as_f64().unwrap(),
        centre[1].as_f64().unwrap(),
    )
    .await;
    browser
        .wait_for_text("#adm-check-result", "派往：西湖交警中队")
        .await;
    browser.wait_for_text("#adm-check-result", "依据").await;
    wait_for_value(
        &browser,
        "return document.querySelectorAll('path.adm-check-marker').length",
        json!(1),
    )
    .await;
    // The point clicked is the one the API was asked about, and the API agrees.
    let point = browser
        .run(
            "return [Number(document.querySelector('.adm-check input[name=lat]').value), \
                     Number(document.querySelector('.adm-check input[name=lon]').value)]",
        )
        .await;
    let (lat, lon) = (point[0].as_f64().unwrap(), point[1].as_f64().unwrap());
    assert!(
        (30.24..30.28).contains(&lat) && (120.10..120.14).contains(&lon),
        "{lat}, {lon}"
    );
    let check: Value = app
        .get(
            &format!("/api/v1/assignment-rules/check?category=parking&lat={lat}&lon={lon}"),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(check["id"], json!(department_id));
    browser.screenshot("admin-rules-desktop").await;

    // Shops from XLSX: the sheet's rows shown, the wrong code marked in its row and fixed
    // there, then checked clean.
    browser.click("a[href='#/admin/shopfronts']").await;
    browser.wait_for_text("h1", "沿街商户").await;
    let first = credit("91330106MA27Y0001");
    let second = credit("91330106MA27Y0002");
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (c, head) in ["名称", "统一社会信用代码", "地址", "纬度", "经度"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *head).unwrap();
    }
    for (r, (shop, code)) in [
        ("表格面馆", wrong_check_digit(&first)),
        ("表格茶社", second),
    ]
    .iter()
    .enumerate()
    {
        let r = r as u32 + 1;
        sheet.write_string(r, 0, *shop).unwrap();
        sheet.write_string(r, 1, code).unwrap();
        sheet.write_string(r, 2, "北山路 8 号").unwrap();
        sheet.write_number(r, 3, 30.26).unwrap();
        sheet.write_number(r, 4, 120.15).unwrap();
    }
    let path = files.path().join("商户.xlsx");
    std::fs::write(&path, workbook.save_to_buffer().unwrap()).unwrap();
    browser
        .type_into(".adm-import input[type=file]", path.to_str().unwrap())
        .await;
    browser.wait_for_text(".adm-import-said", "发现问题").await;
    let bad = "#adm-shop-import tr.adm-bad[data-row='2']";
    browser.wait_for_text(bad, "校验码错误").await;
    browser.wait_for_text("#adm-shop-import", "表格茶社").await;
    assert_eq!(
        browser
            .run("return document.querySelectorAll('#adm-shop-import tr.adm-bad').length")
            .await,
        json!(1)
    );
    let cell = browser.find(&format!("{bad} td.adm-bad-cell input")).await;
    browser
        .command(
            reqwest::Method::POST,
            &format!("/element/{cell}/clear"),
            json!({}),
        )
        .await;
    browser
        .type_into(&format!("{bad} td.adm-bad-cell input"), &first)
        .await;
    browser.wait_for_text(".adm-import-said", "已修改").await;
    browser.click(".adm-import .adm-recheck").await;
    browser
        .wait_for_text(".adm-import-said", "检查通过，尚未导入：将新建 2")
        .await;

    // Shops from CSV: one wrong row, said beside it; skipped, the other two imported.
    let good = [credit("92330106MA0000011"), credit("92330106MA0000022")];
    let csv = format!(
        "名称,统一社会信用代码,地址,纬度,经度,门前三包半径,监管部门编码\n\
         老张面馆,{},解放路 1 号,30.25,120.12,20,\n\
         坏码商店,{},解放路 2 号,30.251,120.121,,\n\
         李记粮油,{},\"解放路 3 号, 东侧\",30.252,120.122,,JJ-XH\n",
        good[0],
        wrong_check_digit(&credit("92330106MA0000033")),
        good[1],
    );
    let path = files.path().join("商户.csv");
    std::fs::write(&path, csv).unwrap();
    browser
        .type_into(".adm-import input[type=file]", path.to_str().unwrap())
        .await;
    browser.wait_for_text("#adm-shop-import", "李记粮油").await;
    let bad = "#adm-shop-import tr.adm-bad[data-row='3']";
    // The wrong row's cells are there to be fixed.
    assert_eq!(
        browser
            .run(&format!(
                "return document.querySelector(\"{bad} input[aria-label='行 3 名称']\").value"
            ))
            .await,
        json!("坏码商店")
    );
    browser
        .wait_for_text(bad, "统一社会信用代码：校验码错误")
        .await;
    browser
        .wait_for_text(".adm-import-said", "未导入任何数据：1 行有误")
        .await;
    assert_eq!(
        browser
            .run("return document.querySelectorAll('#adm-shop-import tr.adm-bad').length")
            .await,
        json!(1)
    );
    browser
        .run("document.getElementById('adm-import-shops').scrollIntoView()")
        .await;
    browser.screenshot("admin-shopfronts-desktop").await;
    // The element's own clicks: once the page has scrolled, ChromeDriver's pointer clicks
    // under device emulation can land beside their element.
    browser.tap(&format!("{bad} .adm-skip input")).await;
    browser.wait_for_text(".adm-import-said", "已修改").await;
    browser.tap(".adm-import .adm-recheck").await;
    browser
        .wait_for_text(".adm-import-said", "检查通过，尚未导入：将新建 2")
        .await;
    browser.tap(".adm-import .adm-go").await;
    browser
        .wait_for_text(".adm-import-said", "导入完成：新建 2")
        .await;
    browser.wait_for_text("#adm-shopfronts", "李记粮油").await;
    let shops: Value = app
        .get("/api/v1/shopfronts", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let shops = shops["items"].as_array().unwrap();
    let mut codes: Vec<&str> = shops
        .iter()
        .map(|s| s["credit_code"].as_str().unwrap())
        .collect();
    codes.sort_unstable();
    let mut expected = vec![good[0].as_str(), good[1].as_str()];
    expected.sort_unstable();
    assert_eq!(codes, expected, "the good rows, and only they");
    let li = shops.iter().find(|s| s["name"] == "李记粮油").unwrap();
    assert_eq!(li["address"], "解放路 3 号, 东侧");
    assert_eq!(li["overseeing_department_id"], json!(department_id));

    // A user of the department, made in the form that asks for the department.
    browser.click("a[href='#/admin/users']").await;
    browser.wait_for_text("h1", "用户").await;
    // The section is drawn once its lists are in: type into that form, not an earlier one.
    browser.wait_for_text("#adm-users", "Administrator").await;
    browser
        .type_into("input[name=username]", "xihu.jiaojing")
        .await;
    browser
        .type_into("input[name=display_name]", "西湖交警")
        .await;
    browser.type_into("input[name=password]", PASSWORD).await;
    assert_eq!(
        browser
            .run("return document.querySelector('select[name=department_id]').closest('label').hidden")
            .await,
        json!(true)
    );
    choose(&browser, "select[name=role]", "责任部门").await;
    choose(&browser, "select[name=department_id]", "西湖交警中队").await;
    browser
        .click("form[aria-labelledby=adm-new-user] button[type=submit]")
        .await;
    browser.wait_for_text("#adm-users", "xihu.jiaojing").await;
    let users: Value = app
        .get("/api/v1/users?role=department", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let user = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "xihu.jiaojing")
        .expect("the user was made");
    assert_eq!(user["department_id"], json!(department_id));
    assert_eq!(user["display_name"], "西湖交警");
    assert_eq!(app.login("xihu.jiaojing", PASSWORD).await.status(), 200);

    // Disabled from the list, the account is refused.
    browser
        .click("#adm-users tr[data-username='xihu.jiaojing'] .adm-actions > button")
        .await;
    browser
        .wait_for_text("#adm-users tr[data-username='xihu.jiaojing']", "已停用")
        .await;
    assert_eq!(app.login("xihu.jiaojing", PASSWORD).await.status(), 403);

    // An inspector who patrols 北山街道, bound in the same form; then moved to 西湖街道
    // from the list.
    let area_id = |name: &'static str| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let areas: Value = app
                .get("/api/v1/areas", Some(&admin))
                .await
                .json()
                .await
                .unwrap();
            areas["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["name"] == name)
                .unwrap()["id"]
                .clone()
        }
    };
    let (beishan, xihu) = (area_id("北山街道").await, area_id("西湖街道").await);
    browser.type_into("input[name=username]", "bei.shan").await;
    browser
        .type_into("input[name=display_name]", "北山巡查")
        .await;
    browser.type_into("input[name=password]", PASSWORD).await;
    choose(&browser, "select[name=role]", "巡查员").await;
    choose(
        &browser,
        "form[aria-labelledby=adm-new-user] select[name=area_ids]",
        "北山街道",
    )
    .await;
    browser
        .click("form[aria-labelledby=adm-new-user] button[type=submit]")
        .await;
    browser
        .wait_for_text("#adm-users tr[data-username='bei.shan']", "北山街道")
        .await;
    let bound = |username: &'static str| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let users: Value = app
                .get("/api/v1/users?role=inspector", Some(&admin))
                .await
                .json()
                .await
                .unwrap();
            users["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|u| u["username"] == username)
                .unwrap()["area_ids"]
                .clone()
        }
    };
    assert_eq!(bound("bei.shan").await, json!([beishan]));
    let row = "#adm-users tr[data-username='bei.shan']";
    browser
        .click(&format!("{row} details:last-of-type summary"))
        .await;
    choose(
        &browser,
        &format!("{row} details:last-of-type select[name=area_ids]"),
        "西湖街道",
    )
    .await;
    browser
        .click(&format!("{row} details:last-of-type button[type=submit]"))
        .await;
    browser
        .wait_for_text("#adm-users tr[data-username='bei.shan']", "负责区域已保存")
        .await;
    assert_eq!(bound("bei.shan").await, json!([xihu]));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_users_screen_fits_a_phone() {
    let app = spawn_app().await;
    app.create_user("li.si", "inspector").await;
    let Some(browser) = Browser::start(360, 780).await else {
        return;
    };
    browser.open(&app.url("/")).await;
    browser.sign_in("admin", ADMIN_PASSWORD).await;
    browser.open(&app.url("/#/admin/users")).await;
    browser.wait_for_text("#adm-users", "li.si").await;
    // The table scrolls in its own box; the page itself does not scroll sideways.
    assert_eq!(
        browser
            .run("return document.documentElement.scrollWidth <= window.innerWidth")
            .await,
        json!(true)
    );
    browser.screenshot("admin-users-phone").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_supervisor_reads_the_registry_and_checks_where_a_case_goes_but_changes_nothing() {
    let app = spawn_app().await;
    app.create_user("zhao.liu", "supervisor").await;
    let Some(browser) = Browser::start(1440, 900).await else {
        return;
    };
    browser.open(&app.url("/")).await;
    browser.sign_in("zhao.liu", PASSWORD).await;
    browser.click("a[href='#/admin']").await;
    // Users, webhooks and API keys are the admins' own; the first section a supervisor
    // reads is the departments, with no form.
    browser.wait_for_text("h1", "系统管理 · 部门").await;
    let sections = browser.text(".adm-sections").await;
    assert!(sections.contains("派遣规则"), "{sections}");
    for admins_only in ["用户", "Webhook", "API 密钥"] {
        assert!(!sections.contains(admins_only), "{sections}");
    }
    browser.wait_for_text("#adm-departments", "暂无记录").await;
    assert_eq!(
        browser
            .run("return document.querySelectorAll('.adm-body form').length")
            .await,
        json!(0)
    );
    // The rules: read, and the check on the map, with no rule form.
    browser.click("a[href='#/admin/rules']").await;
    browser.wait_for_text("h1", "派遣规则").await;
    browser.find(".adm-check select[name=category]").await;
    assert_eq!(
        browser
            .run("return document.querySelectorAll('form[aria-labelledby=adm-new-rule]').length")
            .await,
        json!(0)
    );
    choose(&browser, ".adm-check select[name=category]", "乱停乱放").await;
    browser
        .type_into(".adm-check input[name=lat]", "30.25")
        .await;
    browser
        .type_into(".adm-check input[name=lon]", "120.16")
        .await;
    browser.click(".adm-check button[type=submit]").await;
    browser
        .wait_for_text("#adm-check-result", "无匹配规则：由督查员分派")
        .await;
    // An admin's address typed by hand shows the first section allowed instead.
    browser.open(&app.url("/#/admin/users")).await;
    browser.wait_for_text("h1", "系统管理 · 部门").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_keeps_categories_the_calendar_webhooks_and_api_keys() {
    let app = spawn_app().await;
    let admin = app.admin().await.access_token;
    let Some(browser) = Browser::start(1440, 900).await else {
        return;
    };
    browser.open(&app.url("/")).await;
    browser.sign_in("admin", ADMIN_PASSWORD).await;

    // A category counted in working hours, falling to the shop in its frontage zone.
    browser.open(&app.url("/#/admin/categories")).await;
    browser.wait_for_text("#adm-categories", "乱停乱放").await;
    let form = "form[aria-labelledby=adm-category-form]";
    browser
        .type_into(&format!("{form} input[name=code]"), "shop_sign")
        .await;
    browser
        .type_into(&format!("{form} input[name=name_zh]"), "违规招牌")
        .await;
    browser
        .type_into(&format!("{form} input[name=name_en]"), "Illegal shop signs")
        .await;
    browser
        .run("document.querySelector('input[name=deadline_hours]').value = ''")
        .await;
    browser
        .type_into(&format!("{form} input[name=deadline_hours]"), "16")
        .await;
    choose(
        &browser,
        &format!("{form} select[name=deadline_unit]"),
        "工作小时",
    )
    .await;
    browser.click(&format!("{form} input[name=frontage]")).await;
    browser.click(&format!("{form} button[type=submit]")).await;
    browser.wait_for_text("#adm-categories", "违规招牌").await;
    let category: Value = app
        .get("/api/v1/categories/shop_sign", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            &category["deadline_hours"],
            &category["deadline_unit"],
            &category["frontage"],
            &category["active"]
        ),
        (
            &json!(16),
            &json!("working_hours"),
            &json!(true),
            &json!(true)
        )
    );
    // Edited: deactivated.
    browser
        .run(
            "[...document.querySelectorAll('#adm-categories tbody tr')] \
             .find((tr) => tr.querySelector('th').textContent === 'shop_sign') \
             .querySelector('button').click()",
        )
        .await;
    browser.wait_for_text(form, "编辑类别 shop_sign").await;
    // The form has scrolled into view: the element's own clicks (see `tap`).
    browser.tap(&format!("{form} input[name=active]")).await;
    browser.tap(&format!("{form} button[type=submit]")).await;
    browser.wait_for_text(form, "新增类别").await;
    browser.wait_for_text(form, "已保存").await;
    let category: Value = app
        .get("/api/v1/categories/shop_sign", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(category["active"], false);
    assert_eq!(category["name_zh"], "违规招牌");

    // The calendar: National Day marked a holiday, then unmarked.
    browser.open(&app.url("/#/admin/calendar")).await;
    browser.wait_for_text("h1", "工作日历").await;
    let form = "form[aria-labelledby=adm-mark-day]";
    browser
        .run("document.querySelector('input[name=day]').value = '2027-10-01'")
        .await;
    browser
        .type_into(&format!("{form} input[name=name]"), "国庆节")
        .await;
    browser.click(&format!("{form} button[type=submit]")).await;
    browser.wait_for_text("#adm-calendar", "2027-10-01").await;
    browser.wait_for_text("#adm-calendar", "国庆节").await;
    let days: Value = app
        .get(
            "/api/v1/calendar?from=2027-10-01&to=2027-10-01",
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        days["items"],
        json!([{"day": "2027-10-01", "kind": "holiday", "name": "国庆节"}])
    );
    browser.click("#adm-calendar .adm-confirm button").await;
    browser
        .click("#adm-calendar .adm-confirm button.adm-danger")
        .await;
    browser.wait_for_text("#adm-calendar", "暂无记录").await;
    let days: Value = app
        .get(
            "/api/v1/calendar?from=2027-10-01&to=2027-10-01",
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(days["items"], json!([]));

    // A webhook: a private address is refused and said beside its field; then one the
    // server may reach, its secret shown once.
    browser.open(&app.url("/#/admin/webhooks")).await;
    browser.wait_for_text("h1", "Webhook").await;
    let form = "form[aria-labelledby=adm-new-webhook]";
    browser
        .type_into(&format!("{form} input[name=url]"), "http://10.1.2.3/hook")
        .await;
    choose(
        &browser,
        &format!("{form} select[name=format]"),
        "钉钉机器人",
    )
    .await;
    browser.click(&format!("{form} button[type=submit]")).await;
    browser
        .wait_for_text(&format!("{form} [role=alert]"), "接收地址（URL）：")
        .await;
    assert_eq!(
        browser
            .run("return document.querySelector('input[name=url]').getAttribute('aria-invalid')")
            .await,
        json!("true")
    );
    browser
        .run("document.querySelector('input[name=url]').value = ''")
        .await;
    browser
        .type_into(
            &format!("{form} input[name=url]"),
            "http://127.0.0.1:9/hook",
        )
        .await;
    browser.click(&format!("{form} button[type=submit]")).await;
    browser.wait_for_text(".adm-once", "只显示这一次").await;
    let secret = browser
        .run("return document.querySelector('.adm-once input').value")
        .await;
    assert!(secret.as_str().is_some_and(|s| s.len() >= 16), "{secret}");
    browser.wait_for_text("#adm-webhooks", "127.0.0.1").await;
    let hooks: Value = app
        .get("/api/v1/webhooks", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hooks["items"][0]["format"], "dingtalk");
    assert_eq!(
        hooks["items"][0]["events"],
        json!(["assigned", "overdue", "rectified", "reopened", "chased"])
    );

    // An API key, shown once, then revoked.
    browser.open(&app.url("/#/admin/api-keys")).await;
    browser.wait_for_text("h1", "API 密钥").await;
    browser.type_into("input[name=name]", "市民随手拍").await;
    browser
        .click("form[aria-labelledby=adm-new-key] button[type=submit]")
        .await;
    browser.wait_for_text(".adm-once", "只显示这一次").await;
    let key = browser
        .run("return document.querySelector('.adm-once input').value")
        .await;
    let key = key.as_str().unwrap().to_owned();
    browser.wait_for_text("#adm-api-keys", "市民随手拍").await;
    let keys: Value = app
        .get("/api/v1/api-keys", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let prefix = keys["items"][0]["prefix"].as_str().unwrap();
    assert!(key.starts_with(prefix), "{key} {prefix}");
    browser.click("#adm-api-keys .adm-confirm button").await;
    browser
        .click("#adm-api-keys .adm-confirm button.adm-danger")
        .await;
    browser.wait_for_text("#adm-api-keys", "已吊销").await;
    let keys: Value = app
        .get("/api/v1/api-keys", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert!(keys["items"][0]["revoked_at"].is_string());
}
