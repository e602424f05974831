//! The responsibility registry and automatic assignment, end to end.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, spawn_app};

fn square(x0: f64, y0: f64, size: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]]})
}

fn feature(code: &str, name: &str, level: &str, parent: Option<&str>, geometry: Value) -> Value {
    json!({"type": "Feature", "properties": {"code": code, "name": name, "level": level, "parent_code": parent}, "geometry": geometry})
}

/// District 330100 (120.0–120.2, 30.0–30.2) with sub-districts 330100001 (west half) and
/// 330100002 (east half).
fn city() -> Value {
    json!({"type": "FeatureCollection", "features": [
        feature("330100001", "西街道", "subdistrict", Some("330100"), square(120.0, 30.0, 0.1)),
        feature("330100", "示范区", "district", None, json!({"type": "Polygon", "coordinates": [[[120.0, 30.0], [120.2, 30.0], [120.2, 30.2], [120.0, 30.2], [120.0, 30.0]]]})),
        feature("330100002", "东街道", "subdistrict", Some("330100"), square(120.1, 30.0, 0.1)),
    ]})
}

async fn post_raw(
    app: &TestApp,
    path: &str,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn department(app: &TestApp, token: &str, code: &str, name: &str) -> String {
    let response = app
        .post_json(
            "/api/v1/departments",
            Some(token),
            &json!({"code": code, "name": name, "kind": "urban_management", "contact": "0571-1"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

async fn area_id(app: &TestApp, token: &str, code: &str) -> String {
    let areas: Value = app
        .get("/api/v1/areas", Some(token))
        .await
        .json()
        .await
        .unwrap();
    areas["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == code)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_area_import_is_checked_whole_and_can_be_dry_run() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = &admin.access_token;
    let body = serde_json::to_vec(&city()).unwrap();
    let dry: Value = post_raw(
        &app,
        "/api/v1/areas/import?dry_run=true",
        token,
        "application/json",
        body.clone(),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        dry,
        json!({"dry_run": true, "created": 3, "updated": 0, "created_ids": [], "updated_ids": []})
    );
    let listed: Value = app
        .get("/api/v1/areas", Some(token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        0,
        "a dry run writes nothing"
    );

    let done: Value = post_raw(
        &app,
        "/api/v1/areas/import",
        token,
        "application/json",
        body.clone(),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(done["created"], 3);
    let created_ids = done["created_ids"].as_array().unwrap();
    assert_eq!(created_ids.len(), 3);
    for id in created_ids {
        let area = app
            .get(
                &format!("/api/v1/areas/{}", id.as_str().unwrap()),
                Some(token),
            )
            .await;
        assert_eq!(area.status(), 200, "the import answers the ids it created");
    }
    let district = area_id(&app, token, "330100").await;
    let children: Value = app
        .get(&format!("/api/v1/areas?parent_id={district}"), Some(token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(children["items"].as_array().unwrap().len(), 2);
    let again: Value = post_raw(
        &app,
        "/api/v1/areas/import",
        token,
        "application/json",
        body,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        (again["created"].as_u64(), again["updated"].as_u64()),
        (Some(0), Some(3))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn each_bad_feature_is_named_and_nothing_is_imported() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = &admin.access_token;
    let unclosed = json!({"type": "Polygon", "coordinates": [[[120.0, 30.0], [120.1, 30.0], [120.1, 30.1], [120.0, 30.1]]]});
    let bowtie = json!({"type": "Polygon", "coordinates": [[[120.0, 30.0], [120.1, 30.1], [120.1, 30.0], [120.0, 30.1], [120.0, 30.0]]]});
    let out_of_range = json!({"type": "Polygon", "coordinates": [[[190.0, 30.0], [191.0, 30.0], [191.0, 31.0], [190.0, 30.0]]]});
    let collection = json!({"type": "FeatureCollection", "features": [
        feature("GOOD", "好", "district", None, square(120.0, 30.0, 0.1)),
        feature("UNCLOSED", "未闭合", "grid", None, unclosed),
        feature("BOWTIE", "自相交", "grid", None, bowtie),
        feature("FAR", "越界", "grid", None, out_of_range),
        feature("NOLEVEL", "无级别", "planet", None, square(120.0, 30.0, 0.01)),
    ]});
    let response = post_raw(
        &app,
        "/api/v1/areas/import",
        token,
        "application/json",
        serde_json::to_vec(&collection).unwrap(),
    )
    .await;
    let body = assert_error(response, 422, "invalid_import").await;
    let rows = body["error"]["rows"].as_array().unwrap();
    for (row, name, words) in [
        (2, "UNCLOSED", "not closed"),
        (3, "BOWTIE", "invalid polygon"),
        (4, "FAR", "out of range"),
        (5, "NOLEVEL", "level"),
    ] {
        let found = rows
            .iter()
            .find(|r| r["row"] == row)
            .unwrap_or_else(|| panic!("row {row} in {body}"));
        let message = found["message"].as_str().unwrap();
        assert!(
            message.contains(name) && message.contains(words),
            "{message}"
        );
    }
    let listed: Value = app
        .get("/api/v1/areas", Some(token))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        listed["items"].as_array().unwrap().is_empty(),
        "all or nothing"
    );

    let orphan = json!({"type": "FeatureCollection", "features": [feature("CHILD", "子", "grid", Some("MISSING"), square(120.0, 30.0, 0.01))]});
    let body = assert_error(
        post_raw(
            &app,
            "/api/v1/areas/import",
            token,
            "application/json",
            serde_json::to_vec(&orphan).unwrap(),
        )
        .await,
        422,
        "invalid_import",
    )
    .await;
    assert_eq!(body["error"]["rows"][0]["field"], "parent_code");
    assert_error(
        post_raw(
            &app,
            "/api/v1/areas/import",
            token,
            "application/json",
            b"{not json".to_vec(),
        )
        .await,
        400,
        "invalid_json",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rules_local_authorities_and_the_check_endpoint_explain_assignment() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = &admin.access_token;
    post_raw(
        &app,
        "/api/v1/areas/import",
        token,
        "application/json",
        serde_json::to_vec(&city()).unwrap(),
    )
    .await;
    let traffic = department(&app, token, "JJ", "交警大队").await;
    let east_traffic = department(&app, token, "JJ-E", "东交警中队").await;
    let west_office = department(&app, token, "JD-W", "西街道办").await;
    let district_office = department(&app, token, "QU", "区城管局").await;
    let east = area_id(&app, token, "330100002").await;
    let west = area_id(&app, token, "330100001").await;
    let district = area_id(&app, token, "330100").await;
    for (category, area, department) in [
        ("parking", None, &traffic),
        ("parking", Some(&east), &east_traffic),
    ] {
        let response = app
            .post_json(
                "/api/v1/assignment-rules",
                Some(token),
                &json!({"category": category, "area_id": area, "department_id": department}),
            )
            .await;
        assert_eq!(response.status(), 201);
    }
    let duplicate = app
        .post_json(
            "/api/v1/assignment-rules",
            Some(token),
            &json!({"category": "parking", "area_id": east, "department_id": traffic}),
        )
        .await;
    assert_error(duplicate, 409, "conflict").await;
    for (area, authority, code, name, level, parent) in [
        (
            &west,
            &west_office,
            "330100001",
            "西街道",
            "subdistrict",
            Some(&district),
        ),
        (
            &district,
            &district_office,
            "330100",
            "示范区",
            "district",
            None,
        ),
    ] {
        let geometry = if level == "district" {
            square(120.0, 30.0, 0.2)
        } else {
            square(120.0, 30.0, 0.1)
        };
        let response = app
            .client
            .put(app.url(&format!("/api/v1/areas/{area}")))
            .bearer_auth(token)
            .json(&json!({"code": code, "name": name, "level": level, "parent_id": parent, "local_authority_id": authority, "boundary": geometry}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let app = &app;
    let check = |category: &str, lat: f64, lon: f64| {
        let path =
            format!("/api/v1/assignment-rules/check?category={category}&lat={lat}&lon={lon}");
        async move {
            let body: Value = app.get(&path, Some(token)).await.json().await.unwrap();
            body
        }
    };
    let east_parking = check("parking", 30.05, 120.15).await;
    assert_eq!(east_parking["id"], json!(east_traffic));
    assert!(
        east_parking["reason"].as_str().unwrap().contains("东街道"),
        "{east_parking}"
    );
    assert_eq!(
        check("parking", 30.05, 120.05).await["id"],
        json!(traffic),
        "city-wide rule"
    );
    let west_litter = check("littering_dumping", 30.05, 120.05).await;
    assert_eq!(west_litter["id"], json!(west_office));
    assert!(west_litter["reason"].as_str().unwrap().contains("属地兜底"));
    assert_eq!(
        check("littering_dumping", 30.05, 120.15).await["id"],
        json!(district_office),
        "inherited from the district"
    );
    let outside = check("littering_dumping", 31.0, 121.0).await;
    assert_eq!(
        (outside["target"].as_str(), outside["id"].as_str()),
        (Some("triage"), None)
    );
}

const SHOPS_CSV: &str = "名称,统一社会信用代码,地址,联系人,电话,纬度,经度,坐标系,门前三包范围,门前三包半径,监管部门编码\n\
老张面馆,91350100M000100Y43,解放路1号,张,13800000001,30.05,120.05,wgs84,,30,JD-W\n\
阿香水果,91110000600037341L,解放路3号,香,13800000002,30.0503,120.05,wgs84,\"POLYGON((120.0499 30.0502, 120.0501 30.0502, 120.0501 30.0504, 120.0499 30.0504, 120.0499 30.0502))\",,\n";

#[tokio::test(flavor = "multi_thread")]
async fn shopfronts_import_from_csv_and_xlsx_and_cases_inside_their_zones_go_to_them() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = &admin.access_token;
    department(&app, token, "JD-W", "西街道办").await;
    let dry: Value = post_raw(
        &app,
        "/api/v1/shopfronts/import?dry_run=true",
        token,
        "text/csv",
        SHOPS_CSV.as_bytes().to_vec(),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(dry["created"], 2);
    let none: Value = app
        .get("/api/v1/shopfronts", Some(token))
        .await
        .json()
        .await
        .unwrap();
    assert!(none["items"].as_array().unwrap().is_empty());
    let done: Value = post_raw(
        &app,
        "/api/v1/shopfronts/import",
        token,
        "text/csv",
        SHOPS_CSV.as_bytes().to_vec(),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(done["created"], 2);

    // The same rows as XLSX update the same shops (matched by credit code).
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (r, line) in SHOPS_CSV.lines().enumerate() {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(line.as_bytes());
        let record = reader.records().next().unwrap().unwrap();
        for (c, cell) in record.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, cell).unwrap();
        }
    }
    let xlsx = workbook.save_to_buffer().unwrap();
    let updated: Value = post_raw(
        &app,
        "/api/v1/shopfronts/import",
        token,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        xlsx,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        (updated["created"].as_u64(), updated["updated"].as_u64()),
        (Some(0), Some(2))
    );

    let inspector = app.login_as("inspector").await;
    // 10 m from 老张面馆 (radius 30 m), a frontage category: the shop.
    let case = app
        .file_report(
            &inspector.access_token,
            json!({"category": "stall_occupation", "location": {"lat": 30.05009, "lon": 120.05}}),
        )
        .await;
    assert_eq!(case["status"], "assigned");
    assert_eq!(case["assignee"]["kind"], "shopfront");
    assert_eq!(case["assignee"]["name"], "老张面馆");
    assert!(
        case["assignment_reason"]
            .as_str()
            .unwrap()
            .contains("老张面馆")
    );
    // Inside both zones: the nearer shop (阿香水果's polygon is around its own door).
    let both = app
        .file_report(
            &inspector.access_token,
            json!({"category": "stall_occupation", "location": {"lat": 30.0503, "lon": 120.05}}),
        )
        .await;
    assert_eq!(both["assignee"]["name"], "阿香水果");
    // Not a frontage category: no shop.
    let jaywalking = app
        .file_report(
            &inspector.access_token,
            json!({"category": "jaywalking", "location": {"lat": 30.05009, "lon": 120.05}}),
        )
        .await;
    assert_eq!(jaywalking["status"], "reported");
    assert!(jaywalking["assignee"].is_null());

    let detail: Value = app
        .get(
            &format!("/api/v1/reports/{}", case["id"].as_str().unwrap()),
            Some(&inspector.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["file", "assign"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn each_bad_shopfront_row_is_reported_and_nothing_is_imported() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = &admin.access_token;
    let csv = "name,credit_code,address,lat,lon,crs,frontage_zone,frontage_radius_m,overseeing_department_code\n\
               好店,91350100M000100Y43,路1号,30.0,120.0,,,,\n\
               ,91350100M000100Y44,路2号,30.0,120.0,,,,\n\
               坏坐标,91110000600037341L,路3号,north,120.0,,,,\n\
               坏范围,92330199MA00000012,路4号,30.0,120.0,utm,\"POLYGON((1 2, 3 4))\",,NOPE\n";
    let body = assert_error(
        post_raw(
            &app,
            "/api/v1/shopfronts/import",
            token,
            "text/csv",
            csv.as_bytes().to_vec(),
        )
        .await,
        422,
        "invalid_import",
    )
    .await;
    let found: Vec<(u64, &str)> = body["error"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["row"].as_u64().unwrap(), r["field"].as_str().unwrap()))
        .collect();
    for expected in [
        (3, "name"),
        (3, "credit_code"),
        (4, "lat"),
        (5, "crs"),
        (5, "frontage_zone"),
        (5, "overseeing_department_code"),
    ] {
        assert!(found.contains(&expected), "{expected:?} in {found:?}");
    }
    assert!(
        !found.iter().any(|(row, _)| *row == 2),
        "the good row has no problem"
    );
    let listed: Value = app
        .get("/api/v1/shopfronts", Some(token))
        .await
        .json()
        .await
        .unwrap();
    assert!(listed["items"].as_array().unwrap().is_empty());
    let missing_columns = "name,address\nx,y\n";
    assert_error(
        post_raw(
            &app,
            "/api/v1/shopfronts/import",
            token,
            "text/csv",
            missing_columns.as_bytes().to_vec(),
        )
        .await,
        422,
        "invalid_import",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn shopfronts_and_departments_are_managed_by_admins_with_their_users() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = &admin.access_token;
    let department_id = department(&app, token, "CG", "城管局").await;
    let create = json!({"name": "老张面馆", "credit_code": "91350100M000100Y43", "address": "解放路1号", "location": {"lat": 30.25, "lon": 120.16}, "frontage_zone_wkt": "POLYGON((120.1599 30.2499, 120.1601 30.2499, 120.1601 30.2501, 120.1599 30.2501, 120.1599 30.2499))", "overseeing_department_id": department_id});
    let inspector = app.login_as("inspector").await;
    assert_error(
        app.post_json("/api/v1/shopfronts", Some(&inspector.access_token), &create)
            .await,
        403,
        "forbidden",
    )
    .await;
    let created = app
        .post_json("/api/v1/shopfronts", Some(token), &create)
        .await;
    assert_eq!(created.status(), 201);
    let shop: Value = created.json().await.unwrap();
    assert_eq!(shop["frontage_zone"]["type"], "Polygon");
    assert_error(
        app.post_json("/api/v1/shopfronts", Some(token), &create)
            .await,
        409,
        "conflict",
    )
    .await;
    let mut bad = create.clone();
    bad["credit_code"] = json!("91350100M000100Y44");
    bad["frontage_radius_m"] = json!(10);
    let body = assert_error(
        app.post_json("/api/v1/shopfronts", Some(token), &bad).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(
        body["error"]["fields"]["credit_code"].is_string()
            && body["error"]["fields"]["frontage_zone"].is_string()
    );

    let shop_id: entity::ids::ShopfrontId = shop["id"].as_str().unwrap().parse().unwrap();
    let owner = app.login_scoped("shopfront", None, Some(shop_id)).await;
    let users: Value = app
        .get(&format!("/api/v1/shopfronts/{shop_id}/users"), Some(token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(users["items"][0]["id"], json!(owner.user_id));
    assert_eq!(
        app.get(
            &format!("/api/v1/shopfronts/{shop_id}"),
            Some(&owner.access_token)
        )
        .await
        .status(),
        200
    );
    let dept_user = app
        .login_scoped("department", Some(department_id.parse().unwrap()), None)
        .await;
    let dept_users: Value = app
        .get(
            &format!("/api/v1/departments/{department_id}/users"),
            Some(token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dept_users["items"][0]["id"], json!(dept_user.user_id));
    assert_error(
        app.client
            .delete(app.url(&format!("/api/v1/departments/{department_id}")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
        409,
        "conflict",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_supervisor_reassigns_by_hand_with_the_version_they_saw() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let target = department(&app, &admin.access_token, "HW", "环卫所").await;
    let inspector = app.login_as("inspector").await;
    let case = app.file_report(&inspector.access_token, json!({})).await;
    let path = format!("/api/v1/reports/{}/assign", case["id"].as_str().unwrap());
    let body = json!({"version": case["version"], "department_id": target, "note": "归环卫所处理"});
    assert_error(
        app.post_json(&path, Some(&inspector.access_token), &body)
            .await,
        403,
        "forbidden",
    )
    .await;
    let supervisor = app.login_as("supervisor").await;
    let assigned = app
        .post_json(&path, Some(&supervisor.access_token), &body)
        .await;
    assert_eq!(assigned.status(), 200);
    let assigned: Value = assigned.json().await.unwrap();
    assert_eq!(assigned["status"], "assigned");
    assert_eq!(assigned["assignee"]["name"], "环卫所");
    assert_eq!(assigned["version"], case["version"].as_i64().unwrap() + 1);
    assert_error(
        app.post_json(&path, Some(&supervisor.access_token), &body)
            .await,
        409,
        "version_conflict",
    )
    .await;
    let detail: Value = app
        .get(
            &format!("/api/v1/reports/{}", case["id"].as_str().unwrap()),
            Some(&supervisor.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    let last = detail["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "assign");
    assert!(last["note"].as_str().unwrap().contains("归环卫所处理"));
    assert_eq!(last["actor_id"], json!(supervisor.user_id));
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_edits_while_cases_are_filed_take_effect_at_once_on_every_instance() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let inspector = app.login_as("inspector").await;
    let second = app.second_instance().await;
    let at = json!({"category": "stall_occupation", "location": {"lat": 30.3, "lon": 120.3}});
    // Filing keeps going on the second instance while the first instance edits the registry.
    let filing = async {
        let mut statuses = Vec::new();
        for _ in 0..15 {
            let response = app
                .client
                .post(format!("{second}/api/v1/reports"))
                .bearer_auth(&inspector.access_token)
                .json(&crate::helpers::report_body(at.clone()))
                .send()
                .await
                .unwrap();
            statuses.push(response.status().as_u16());
        }
        statuses
    };
    let editing = async {
        for i in 0..5 {
            let code = format!("92330199MA{:07}", i);
            let code = xuncha::domain::CreditCode::with_check_digit(&code).unwrap();
            let response = app
                .post_json("/api/v1/shopfronts", Some(&admin.access_token), &json!({"name": format!("店{i}"), "credit_code": code.as_str(), "address": "x", "location": {"lat": 30.3 + f64::from(i) * 0.01, "lon": 120.3}, "frontage_radius_m": 20}))
                .await;
            assert_eq!(response.status(), 201);
        }
    };
    let (statuses, ()) = tokio::join!(filing, editing);
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    // After the edits, the second instance assigns by the new registry.
    let response = app
        .client
        .post(format!("{second}/api/v1/reports"))
        .bearer_auth(&inspector.access_token)
        .json(&crate::helpers::report_body(at))
        .send()
        .await
        .unwrap();
    let case: Value = response.json().await.unwrap();
    assert_eq!(case["assignee"]["name"], "店0", "{case}");
}

#[tokio::test(flavor = "multi_thread")]
async fn areas_come_a_page_at_a_time_by_code_or_level_and_with_boundaries_when_asked() {
    let app = spawn_app().await;
    let token = app.admin().await.access_token;
    let imported = post_raw(
        &app,
        "/api/v1/areas/import",
        &token,
        "application/geo+json",
        serde_json::to_vec(&city()).unwrap(),
    )
    .await;
    assert_eq!(imported.status(), 200);
    let page = |query: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            let response = app
                .get(&format!("/api/v1/areas{query}"), Some(&token))
                .await;
            assert_eq!(response.status(), 200, "{query}");
            response.json::<Value>().await.unwrap()
        }
    };
    let first = page("?limit=2").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    assert!(
        first["items"][0].get("boundary").is_none(),
        "no geometry unless asked"
    );
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let rest: Value = app
        .get(
            &format!("/api/v1/areas?limit=2&cursor={cursor}"),
            Some(&token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest["next_cursor"].is_null());
    let by_code = page("?code=330100002&geometry=true").await;
    assert_eq!(by_code["items"].as_array().unwrap().len(), 1);
    assert_eq!(by_code["items"][0]["name"], "东街道");
    assert_eq!(by_code["items"][0]["boundary"]["type"], "Polygon");
    let subdistricts = page("?level=subdistrict").await;
    assert_eq!(subdistricts["items"].as_array().unwrap().len(), 2);
    assert_error(
        app.get("/api/v1/areas?limit=0", Some(&token)).await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shop_answers_the_one_location_shape_and_reads_back_as_created() {
    let app = spawn_app().await;
    let token = app.admin().await.access_token;
    let created = app
        .post_json(
            "/api/v1/shopfronts",
            Some(&token),
            &json!({"name": "老王烧饼", "credit_code": "91350100M000100Y43", "address": "解放路 3 号",
                "location": {"lat": 30.2500, "lon": 120.1600, "crs": "gcj02"}}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let location = &created["location"];
    assert_eq!(location["crs"], "wgs84", "answers say their system");
    // GCJ-02 is shifted from WGS-84 by a few hundred metres around Hangzhou.
    assert!(
        (location["lon"].as_f64().unwrap() - 120.16).abs() > 0.003,
        "{location}"
    );
    let read: Value = app
        .get(
            &format!("/api/v1/shopfronts/{}", created["id"].as_str().unwrap()),
            Some(&token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read, created, "GET answers what POST answered");
    let flat = app
        .post_json(
            "/api/v1/shopfronts",
            Some(&token),
            &json!({"name": "x", "credit_code": "91350100M000100Y43", "address": "y",
                "lat": 30.25, "lon": 120.16}),
        )
        .await;
    assert_eq!(flat.status(), 422, "lat and lon go inside location");
}

/// Optional free text: `null`, `""` and leaving it out all mean empty, and the answer
/// gives `""` either way (never `null` for text, never `""` for a missing value).
#[tokio::test(flavor = "multi_thread")]
async fn optional_text_may_be_null_and_is_answered_as_an_empty_string() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for (code, contact) in [("T-NULL", json!(null)), ("T-EMPTY", json!(""))] {
        let response = app
            .post_json(
                "/api/v1/departments",
                Some(&admin.access_token),
                &json!({"code": code, "name": "测试部门", "kind": "other", "contact": contact}),
            )
            .await;
        assert_eq!(response.status(), 201, "contact {contact}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["contact"], json!(""));
    }
    let response = app
        .post_json(
            "/api/v1/departments",
            Some(&admin.access_token),
            &json!({"code": "T-NUMBER", "name": "测试部门", "kind": "other", "contact": 5}),
        )
        .await;
    let body = assert_error(response, 422, "validation_failed").await;
    assert!(body["error"]["fields"]["contact"].is_string(), "{body}");
}

/// The decision a phone makes from the offline registry alone: the rule of DESIGN.md,
/// written again here as a client would write it.
fn decide_offline(doc: &Value, category: &str, lat: f64, lon: f64) -> Option<String> {
    fn ring_contains(ring: &[Value], lat: f64, lon: f64) -> bool {
        let points: Vec<(f64, f64)> = ring
            .iter()
            .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
            .collect();
        let mut inside = false;
        let mut j = points.len() - 1;
        for i in 0..points.len() {
            let ((xi, yi), (xj, yj)) = (points[i], points[j]);
            if (yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi {
                inside = !inside;
            }
            j = i;
        }
        inside
    }
    fn covers(geometry: &Value, lat: f64, lon: f64) -> bool {
        let polygons: Vec<&Value> = match geometry["type"].as_str().unwrap() {
            "Polygon" => vec![&geometry["coordinates"]],
            _ => geometry["coordinates"].as_array().unwrap().iter().collect(),
        };
        polygons.iter().any(|rings| {
            let rings = rings.as_array().unwrap();
            ring_contains(rings[0].as_array().unwrap(), lat, lon)
                && !rings[1..]
                    .iter()
                    .any(|hole| ring_contains(hole.as_array().unwrap(), lat, lon))
        })
    }
    fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
        let (lat1, lon1, lat2, lon2) = (
            a.0.to_radians(),
            a.1.to_radians(),
            b.0.to_radians(),
            b.1.to_radians(),
        );
        let h = ((lat2 - lat1) / 2.0).sin().powi(2)
            + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
        2.0 * 6_371_008.8 * h.sqrt().asin()
    }
    let frontage = doc["categories"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["code"] == category && c["frontage"] == true);
    if frontage {
        let nearest = doc["zones"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|z| {
                let anchor = (z["anchor"][1].as_f64()?, z["anchor"][0].as_f64()?);
                let distance = metres(anchor, (lat, lon));
                let inside = match z["radius_m"].as_f64() {
                    Some(radius) => distance <= radius,
                    None => covers(&z["polygon"], lat, lon),
                };
                inside.then_some((distance, z["shopfront_id"].as_str()?.to_owned()))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((_, shop)) = nearest {
            return Some(shop);
        }
    }
    let areas = doc["areas"].as_array().unwrap();
    let by_id = |id: &Value| areas.iter().find(|a| a["id"] == *id);
    let depth = |area: &Value| {
        let mut depth = 0;
        let mut walk = by_id(&area["parent_id"]);
        while let Some(parent) = walk {
            depth += 1;
            walk = by_id(&parent["parent_id"]);
        }
        depth
    };
    let deepest = areas
        .iter()
        .filter(|a| covers(&a["boundary"], lat, lon))
        .max_by_key(|a| depth(a));
    let lineage: Vec<&Value> = std::iter::successors(deepest, |a| by_id(&a["parent_id"])).collect();
    let rules = doc["rules"].as_array().unwrap();
    for area in &lineage {
        if let Some(rule) = rules
            .iter()
            .find(|r| r["category"] == category && r["area_id"] == area["id"])
        {
            return rule["department_id"].as_str().map(str::to_owned);
        }
    }
    if let Some(rule) = rules
        .iter()
        .find(|r| r["category"] == category && r["area_id"].is_null())
    {
        return rule["department_id"].as_str().map(str::to_owned);
    }
    lineage
        .iter()
        .find_map(|a| a["local_authority_id"].as_str().map(str::to_owned))
}

/// A district of two sub-districts with rules at both levels, a local authority, and a
/// street of twelve shops crossing them (radius and polygon frontage zones, some
/// overlapping), around (30.05, 120.1). Answers the admin's token and the city traffic
/// department's id.
pub async fn street_across_two_subdistricts(app: &TestApp) -> (String, String) {
    let token = &app.admin().await.access_token;
    post_raw(
        app,
        "/api/v1/areas/import",
        token,
        "application/json",
        serde_json::to_vec(&city()).unwrap(),
    )
    .await;
    let traffic = department(app, token, "JJ", "交警大队").await;
    let east_traffic = department(app, token, "JJ-E", "东交警中队").await;
    let east_office = department(app, token, "JD-E", "东街道办").await;
    let east = area_id(app, token, "330100002").await;
    for (category, area, department) in [
        ("parking", None, &traffic),
        ("parking", Some(&east), &east_traffic),
    ] {
        let rule = app
            .post_json(
                "/api/v1/assignment-rules",
                Some(token),
                &json!({"category": category, "area_id": area, "department_id": department}),
            )
            .await;
        assert_eq!(rule.status(), 201);
    }
    let put = app
        .client
        .put(app.url(&format!("/api/v1/areas/{east}")))
        .bearer_auth(token)
        .json(&json!({"code": "330100002", "name": "东街道", "level": "subdistrict", "parent_id": area_id(app, token, "330100").await, "local_authority_id": east_office, "boundary": square(120.1, 30.0, 0.1)}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    // Shops along a street crossing both sub-districts: radius zones of 30 m and square
    // polygons, some overlapping.
    for i in 0..12u32 {
        let (lat, lon) = (30.05, 120.0985 + f64::from(i) * 0.0003);
        let code =
            xuncha::domain::CreditCode::with_check_digit(&format!("92330199MA{i:07}")).unwrap();
        let mut body = json!({"name": format!("店{i}"), "credit_code": code.as_str(), "address": "长街", "location": {"lat": lat, "lon": lon}});
        if i % 2 == 0 {
            body["frontage_radius_m"] = json!(30.0);
        } else {
            body["frontage_zone"] = square(lon - 0.0002, lat - 0.0002, 0.0004);
        }
        let created = app
            .post_json("/api/v1/shopfronts", Some(token), &body)
            .await;
        assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());
    }

    (token.clone(), traffic)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_phone_decides_offline_what_the_server_decides() {
    let app = spawn_app().await;
    let (token, traffic) = &street_across_two_subdistricts(&app).await;
    let inspector = app.login_as("inspector").await.access_token;
    let bbox = "120.09,30.04,120.11,30.06";
    let path = format!("/api/v1/registry/offline?bbox={bbox}");
    let response = app.get(&path, Some(&inspector)).await;
    assert_eq!(response.status(), 200);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let doc: Value = response.json().await.unwrap();
    assert_eq!(doc["zones"].as_array().unwrap().len(), 12);
    // The box touches both sub-districts, and the district above them comes along.
    assert_eq!(doc["areas"].as_array().unwrap().len(), 3);

    // 400 points in the box, for a frontage category and two that are not.
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % 1_000_000) as f64 / 1_000_000.0
    };
    let mut decided = std::collections::HashSet::new();
    for _ in 0..400 {
        let (lat, lon) = (30.049 + next() * 0.002, 120.098 + next() * 0.004);
        for category in ["posting_graffiti", "parking", "illegal_building"] {
            let server: Value = app
                .get(
                    &format!(
                        "/api/v1/assignment-rules/check?category={category}&lat={lat}&lon={lon}"
                    ),
                    Some(token),
                )
                .await
                .json()
                .await
                .unwrap();
            let phone = decide_offline(&doc, category, lat, lon);
            assert_eq!(
                phone.as_deref(),
                server["id"].as_str(),
                "{category} at {lat},{lon}: {server}"
            );
            decided.insert(server["id"].to_string());
        }
    }
    // Shops, both traffic departments and the local authority all came up.
    assert!(decided.len() >= 8, "{decided:?}");

    // The phone's copy is current until the registry changes.
    let again = app
        .client
        .get(app.url(&path))
        .bearer_auth(&inspector)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status(),
        304,
        "{etag} vs {:?}",
        again.headers().get("etag")
    );
    department(&app, token, "NEW", "新部门").await;
    let changed = app
        .client
        .get(app.url(&path))
        .bearer_auth(&inspector)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), etag);
    assert_error(
        app.get("/api/v1/registry/offline?bbox=1,2,3", Some(&inspector))
            .await,
        422,
        "validation_failed",
    )
    .await;
    let worker = app
        .login_scoped("department", Some(traffic.parse().unwrap()), None)
        .await
        .access_token;
    assert_error(
        app.get("/api/v1/registry/offline", Some(&worker)).await,
        403,
        "forbidden",
    )
    .await;
}
