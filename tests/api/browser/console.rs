//! The supervisor's console: the triage queue, the case map (clusters, boundaries, filters
//! in the address) and the statistics' SVG bars against the API's numbers; and the map's
//! GCJ-02 conversion against the server's.

use std::time::Duration;

use chrono::{Duration as Days, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};
use serde_json::{Value, json};

use super::Browser;
use crate::helpers::{PASSWORD, TestApp, spawn_app};

fn square(lon: f64, lat: f64, half: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[
        [lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half],
        [lon - half, lat + half], [lon - half, lat - half],
    ]]})
}

fn at(lat: f64, lon: f64) -> Value {
    json!({"lat": lat, "lon": lon, "accuracy_m": 8.0, "crs": "wgs84"})
}

async fn get_json(app: &TestApp, path: &str, token: &str) -> Value {
    let response = app.get(path, Some(token)).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

/// Cases drawn on the map: single pins, plus the count each cluster shows. Waited for
/// (10 s) until it is `expected`, as clusters settle after their animation.
async fn wait_for_markers(browser: &Browser, expected: u64) {
    let mut seen = Value::Null;
    for _ in 0..100 {
        seen = browser
            .run(
                "const pins = document.querySelectorAll('#con-map .leaflet-marker-icon.con-pin').length; \
                 const grouped = [...document.querySelectorAll('#con-map .leaflet-marker-icon.marker-cluster')] \
                   .reduce((n, c) => n + Number(c.textContent), 0); \
                 return [pins, grouped];",
            )
            .await;
        let total = seen[0].as_u64().unwrap_or(0) + seen[1].as_u64().unwrap_or(0);
        if total == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the map never showed {expected} cases: [pins, in clusters] = {seen}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_supervisor_triages_maps_and_counts_the_cities_cases_at_a_desk() {
    let app = spawn_app().await;
    let admin = app.admin().await.access_token;
    let area = app
        .post_json(
            "/api/v1/areas",
            Some(&admin),
            &json!({"code": "SC", "name": "上城区", "level": "district",
                "boundary": square(120.16, 30.25, 0.02)}),
        )
        .await;
    assert_eq!(area.status(), 201);
    app.create_user("chief", "supervisor").await;
    let chief = app.session("chief", PASSWORD).await.access_token;
    let inspector = app.login_as("inspector").await.access_token;
    let department = app.create_department().await;

    // Three parking cases a few metres apart (a cluster), one more parking case, all
    // waiting for assignment; a disputed stall; an assigned dumping case whose department
    // asks for more time.
    let mut reported = Vec::new();
    for (lat, lon) in [
        (30.2500, 120.1600),
        (30.2501, 120.1601),
        (30.2499, 120.1602),
        (30.2440, 120.1530),
    ] {
        let case = app
            .file_report(&inspector, json!({"location": at(lat, lon)}))
            .await;
        assert_eq!(case["status"], "reported", "{case}");
        reported.push(case);
    }
    let disputed = app
        .file_report(
            &inspector,
            json!({"category": "stall_occupation", "location": at(30.2560, 120.1680),
                "address": "延安路 8 号"}),
        )
        .await;
    let disputed_id = disputed["id"].as_str().unwrap().to_owned();
    app.force_case(&disputed_id, "disputed", Some(department), None)
        .await;
    let asking = app
        .file_report(
            &inspector,
            json!({"category": "littering_dumping", "location": at(30.2460, 120.1700)}),
        )
        .await;
    let asking_id = asking["id"].as_str().unwrap().to_owned();
    app.force_case(&asking_id, "assigned", Some(department), None)
        .await;
    let case = entity::cases::Entity::find_by_id(asking_id.parse::<entity::ids::CaseId>().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut case = case.into_active_model();
    case.pending_request = Set(Some("extension".into()));
    case.requested_until = Set(Some(Utc::now() + Days::days(5)));
    case.update(&app.db).await.unwrap();

    let Some(browser) = Browser::start(1440, 900).await else {
        return;
    };
    browser.open(&app.url("/")).await;
    browser.sign_in("chief", PASSWORD).await;

    // Triage: the counts, then each part with its cases, linking to their pages.
    browser.click("a[href='#/triage']").await;
    browser.wait_for_text("h1", "分派审核").await;
    browser.wait_for_text(".counts", "待分派 4").await;
    browser.wait_for_text(".counts", "有异议 1").await;
    browser.wait_for_text(".counts", "延期申请 1").await;
    for case in &reported {
        browser
            .find(&format!(
                "#con-reported-section a[href='#/case/{}']",
                case["id"].as_str().unwrap()
            ))
            .await;
    }
    browser
        .wait_for_text(
            "#con-disputed-section",
            disputed["case_no"].as_str().unwrap(),
        )
        .await;
    browser
        .find(&format!(
            "#con-disputed-section a[href='#/case/{disputed_id}']"
        ))
        .await;
    browser
        .wait_for_text("#con-extension-section", "申请延期至")
        .await;
    browser
        .find(&format!(
            "#con-extension-section a[href='#/case/{asking_id}']"
        ))
        .await;
    assert_eq!(
        browser
            .run("return document.querySelectorAll('#con-suspension-section li').length")
            .await,
        0
    );
    browser.screenshot("triage-desktop").await;

    // The map: the six open cases, some in a cluster, and the district's boundary.
    browser.click("a[href='#/map']").await;
    browser.wait_for_text("h1", "案件地图").await;
    browser
        .wait_for_text("#con-map-summary", "地图上 6 件案件")
        .await;
    wait_for_markers(&browser, 6).await;
    let clusters = browser
        .run("return document.querySelectorAll('#con-map .marker-cluster').length")
        .await;
    assert!(clusters.as_u64().unwrap() >= 1, "no cluster: {clusters}");
    assert_eq!(
        browser
            .run("return document.querySelectorAll('#con-map path.con-area').length")
            .await,
        1
    );
    // A case's popup links to its page.
    browser
        .run("document.querySelector('#con-map .con-pin.status-disputed').click()")
        .await;
    browser
        .find(&format!(
            ".leaflet-popup-content a[href='#/case/{disputed_id}']"
        ))
        .await;
    browser
        .wait_for_text(".leaflet-popup-content", "有异议")
        .await;
    // The popup pans the map; the clusters settle again.
    tokio::time::sleep(Duration::from_millis(600)).await;
    wait_for_markers(&browser, 6).await;
    browser.screenshot("map-desktop").await;

    // Leaving out the cases waiting for assignment leaves two, and the address says so.
    browser.click("input[name=status][value=reported]").await;
    browser
        .wait_for_text("#con-map-summary", "地图上 2 件案件")
        .await;
    wait_for_markers(&browser, 2).await;
    let hash = browser.run("return location.hash").await;
    assert_eq!(
        hash,
        "#/map?status=assigned%2Cin_progress%2Cdisputed%2Crectified"
    );
    // The address is a view someone else can open: only the disputed ones, by category.
    browser
        .open(&app.url("/#/map?status=disputed&category=stall_occupation"))
        .await;
    browser
        .wait_for_text("#con-map-summary", "地图上 1 件案件")
        .await;
    wait_for_markers(&browser, 1).await;
    let checked = browser
        .run(
            "return [...document.querySelectorAll('input[name=status]:checked')].map(b => b.value) \
             .concat([document.querySelector('select[name=category]').value])",
        )
        .await;
    assert_eq!(checked, json!(["disputed", "stall_occupation"]));
    // The district (and every area below it): all six again once every status is back.
    let area_id = area_id(&app, &chief).await;
    browser
        .open(&app.url(&format!("/#/map?area_id={area_id}")))
        .await;
    browser
        .wait_for_text("#con-map-summary", "地图上 6 件案件")
        .await;

    // Statistics: the bars are the API's numbers.
    let today = Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let (from, to) = (today - Days::days(1), today + Days::days(1));
    browser.click("a[href='#/stats']").await;
    browser.wait_for_text("h1", "统计分析").await;
    browser
        .open(&app.url(&format!("/#/stats?from={from}&to={to}&metric=filed")))
        .await;
    browser.find("#con-stats-category rect.con-bar").await;
    let api = get_json(
        &app,
        &format!("/api/v1/stats?from={from}&to={to}&group_by=category"),
        &chief,
    )
    .await;
    let expected: Vec<Value> = api["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| json!([g["key"], g["name"], g["filed"]]))
        .collect();
    assert!(
        expected.contains(&json!(["parking", "乱停乱放", 4])),
        "{api}"
    );
    // The screen opened from the menu draws first with its default dates; wait for the
    // bars of the dates asked for.
    let mut drawn = Value::Null;
    for _ in 0..100 {
        drawn = browser
            .run(
                "return [...document.querySelectorAll('#con-stats-category .con-bar-row')].map(g => [ \
                   g.dataset.key, g.querySelector('.con-bar-label').textContent, \
                   Number(g.querySelector('rect').dataset.value)])",
            )
            .await;
        if drawn == json!(expected) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(drawn, json!(expected));
    // The longest bar is the largest number; the others in proportion.
    let widths = browser
        .run(
            "return [...document.querySelectorAll('#con-stats-category rect.con-bar')] \
             .map(r => parseFloat(r.getAttribute('width')))",
        )
        .await;
    let max = expected
        .iter()
        .map(|e| e[2].as_f64().unwrap())
        .fold(0.0, f64::max);
    for (width, row) in widths.as_array().unwrap().iter().zip(&expected) {
        let share = row[2].as_f64().unwrap() / max * 78.0;
        assert!(
            (width.as_f64().unwrap() - share.max(0.5)).abs() < 1e-6,
            "{widths}"
        );
    }
    // The table beside it says the same, with the total.
    let rows = browser
        .run("return document.querySelectorAll('#con-stats-category tbody tr').length")
        .await;
    assert_eq!(rows.as_u64().unwrap() as usize, expected.len());
    browser
        .wait_for_text("#con-stats-category tfoot", "6")
        .await;
    browser.wait_for_text("#con-stats-area", "上城区").await;
    browser.screenshot("stats-desktop").await;
    drop(browser);

    // On a phone, the map still fits.
    let Some(phone) = Browser::start(360, 780).await else {
        return;
    };
    phone.open(&app.url("/")).await;
    phone.sign_in("chief", PASSWORD).await;
    phone.open(&app.url("/#/map")).await;
    phone
        .wait_for_text("#con-map-summary", "地图上 6 件案件")
        .await;
    wait_for_markers(&phone, 6).await;
    let fits = phone
        .run("return document.documentElement.scrollWidth <= window.innerWidth")
        .await;
    assert_eq!(fits, true);
    // The filters fold away above the map on a phone.
    assert_eq!(
        phone
            .run("return document.querySelector('.con-fold').open")
            .await,
        false
    );
    phone
        .run("document.querySelector('#con-map-summary').scrollIntoView()")
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    phone.screenshot("map-phone").await;
}

async fn area_id(app: &TestApp, token: &str) -> String {
    let areas = get_json(app, "/api/v1/areas?code=SC", token).await;
    areas["items"][0]["id"].as_str().unwrap().to_owned()
}

/// `map.js` shifts points into GCJ-02 (and back) as the server does: cases filed at points
/// across China, read back with `?crs=gcj02`, and cases filed in GCJ-02, read in WGS-84.
#[tokio::test(flavor = "multi_thread")]
async fn the_maps_gcj02_shift_is_the_servers() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await.access_token;
    let points = [
        (39.9042, 116.4074), // 北京
        (31.2304, 121.4737), // 上海
        (30.2741, 120.1551), // 杭州
        (43.8256, 87.6168),  // 乌鲁木齐
        (45.8038, 126.5350), // 哈尔滨
        (18.2528, 109.5120), // 三亚
        (29.6520, 91.1721),  // 拉萨
        (22.5431, 114.0579), // 深圳
        (35.6762, 139.6503), // 东京: outside, not shifted
    ];
    let mut filed = Vec::new();
    for (lat, lon) in points {
        for crs in ["wgs84", "gcj02"] {
            let case = app
                .file_report(
                    &inspector,
                    json!({"location": {"lat": lat, "lon": lon, "accuracy_m": 5.0, "crs": crs}}),
                )
                .await;
            filed.push((case["id"].as_str().unwrap().to_owned(), crs, lat, lon));
        }
    }
    let in_crs = |crs: &'static str| {
        let app = &app;
        let token = inspector.clone();
        async move {
            let page = get_json(app, &format!("/api/v1/reports?crs={crs}&limit=200"), &token).await;
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    (
                        c["id"].as_str().unwrap().to_owned(),
                        (
                            c["location"]["lat"].as_f64().unwrap(),
                            c["location"]["lon"].as_f64().unwrap(),
                        ),
                    )
                })
                .collect::<std::collections::HashMap<_, _>>()
        }
    };
    let (gcj, wgs) = (in_crs("gcj02").await, in_crs("wgs84").await);

    let Some(browser) = Browser::start(1440, 900).await else {
        return;
    };
    browser.open(&app.url("/")).await;
    browser.wait_for_text("h1", "登录").await;
    // Each case: its stored WGS-84 point shifted by map.js (the server's answer in GCJ-02),
    // and, for those filed in GCJ-02, the given point shifted back (the stored point).
    let asks: Vec<Value> = filed
        .iter()
        .map(|(id, crs, lat, lon)| {
            let (wlat, wlon) = wgs[id];
            json!({"stored": [wlat, wlon], "given": [lat, lon], "crs": crs})
        })
        .collect();
    let answers = browser
        .run_async(&format!(
            "import('/app/map.js').then(m => arguments[0]({}.map(a => ({{ \
               gcj: m.wgs84ToGcj02(a.stored[0], a.stored[1]), \
               back: m.gcj02ToWgs84(a.given[0], a.given[1]) }}))))",
            Value::Array(asks)
        ))
        .await;
    let answers = answers.as_array().unwrap();
    assert_eq!(answers.len(), filed.len());
    let close = |a: &Value, (lat, lon): (f64, f64)| {
        (a[0].as_f64().unwrap() - lat).abs() < 1e-7 && (a[1].as_f64().unwrap() - lon).abs() < 1e-7
    };
    let mut shifted = 0;
    for ((id, crs, lat, lon), answer) in filed.iter().zip(answers) {
        assert!(
            close(&answer["gcj"], gcj[id]),
            "{crs} ({lat}, {lon}): map.js {} against the server's {:?}",
            answer["gcj"],
            gcj[id]
        );
        if *crs == "gcj02" {
            assert!(
                close(&answer["back"], wgs[id]),
                "GCJ-02 ({lat}, {lon}) back to WGS-84: map.js {} against the server's {:?}",
                answer["back"],
                wgs[id]
            );
        }
        if (gcj[id].0 - wgs[id].0).abs() > 1e-4 {
            shifted += 1;
        }
    }
    // Every point but Tokyo's (both ways) is shifted by tens to hundreds of metres.
    assert_eq!(shifted, filed.len() - 2);
}
