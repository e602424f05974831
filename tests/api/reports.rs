//! Filing reports: validation, idempotency, nearby, lists and GeoJSON.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{assert_error, report_body, spawn_app};

#[tokio::test(flavor = "multi_thread")]
async fn an_inspector_files_a_report_and_gets_a_case_number_and_first_event() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let response = app
        .post_json(
            "/api/v1/reports",
            Some(&inspector.access_token),
            &report_body(json!({})),
        )
        .await;
    assert_eq!(response.status(), 201);
    assert!(
        response.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/api/v1/reports/")
    );
    let case: Value = response.json().await.unwrap();
    assert!(case["case_no"].as_str().unwrap().starts_with("XC-20"));
    assert_eq!(case["status"], "reported");
    assert_eq!(case["source"], "patrol");
    assert_eq!(case["assignee"], Value::Null);
    assert_eq!(case["reporter_id"], json!(inspector.user_id));
    assert_eq!(case["version"], 1);
    assert!(case["deadline_at"].is_string());

    let detail: Value = app
        .get(
            &format!("/api/v1/reports/{}", case["id"].as_str().unwrap()),
            Some(&inspector.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    let events = detail["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["action"], "file");
    assert_eq!(events[0]["to_status"], "reported");
    assert_eq!(events[0]["hash"].as_str().unwrap().len(), 64);
}

#[tokio::test(flavor = "multi_thread")]
async fn case_numbers_count_up() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let a = app.file_report(&inspector.access_token, json!({})).await;
    let b = app.file_report(&inspector.access_token, json!({})).await;
    let number = |v: &Value| {
        v["case_no"]
            .as_str()
            .unwrap()
            .rsplit('-')
            .next()
            .unwrap()
            .parse::<u32>()
            .unwrap()
    };
    assert_eq!(number(&b), number(&a) + 1);
}

/// Numbers given before (a data load, an upgrade) are never given again: the next filing
/// continues after the year's counter row, on SQLite and on PostgreSQL's sequence alike,
/// and a later bulk load moves the numbering on past its own numbers.
#[tokio::test(flavor = "multi_thread")]
async fn case_numbers_continue_after_earlier_numbers() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let year = chrono::Utc::now()
        .with_timezone(&app.state.settings.timezone)
        .format("%Y")
        .to_string()
        .parse::<i32>()
        .unwrap();
    xuncha::services::case_numbers::continue_after(&app.db, year, 41)
        .await
        .unwrap();
    let first = app.file_report(&inspector.access_token, json!({})).await;
    assert_eq!(first["case_no"], format!("XC-{year}-000042"));
    xuncha::services::case_numbers::continue_after(&app.db, year, 500)
        .await
        .unwrap();
    let next = app.file_report(&inspector.access_token, json!({})).await;
    assert_eq!(next["case_no"], format!("XC-{year}-000501"));
}

#[tokio::test(flavor = "multi_thread")]
async fn gcj02_and_bd09_locations_are_stored_as_wgs84() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    // Beijing reference point: WGS-84 (39.911954, 116.377817) is GCJ-02 (39.913345, 116.384047).
    let case = app
        .file_report(&inspector.access_token, json!({"location": {"lat": 39.91334545536069, "lon": 116.38404722455657, "crs": "gcj02"}}))
        .await;
    assert!((case["location"]["lat"].as_f64().unwrap() - 39.911954).abs() < 1e-6);
    assert!((case["location"]["lon"].as_f64().unwrap() - 116.377817).abs() < 1e-6);
    let as_gcj: Value = app
        .get(
            &format!("/api/v1/reports/{}?crs=gcj02", case["id"].as_str().unwrap()),
            Some(&inspector.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!((as_gcj["location"]["lat"].as_f64().unwrap() - 39.91334545536069).abs() < 1e-6);
    assert_eq!(as_gcj["location"]["crs"], "gcj02");

    let bd = app
        .file_report(
            &inspector.access_token,
            json!({"location": {"lat": 39.9197, "lon": 116.3906, "crs": "bd09"}}),
        )
        .await;
    assert!(
        (bd["location"]["lat"].as_f64().unwrap() - 39.9197).abs() > 0.003,
        "BD-09 was converted"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn each_bad_field_gets_its_own_error() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({"client_id": "not-a-uuid"}), "client_id"),
        (json!({"category": "Not A Code"}), "category"),
        (json!({"category": "no_such_category"}), "category"),
        (json!({"description": "x".repeat(2001)}), "description"),
        (json!({"address": "x".repeat(501)}), "address"),
        (json!({"observed_at": "yesterday"}), "observed_at"),
        (
            json!({"observed_at": (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339()}),
            "observed_at",
        ),
        (
            json!({"observed_at": (chrono::Utc::now() - chrono::Duration::days(40)).to_rfc3339()}),
            "observed_at",
        ),
        (json!({"severity": "apocalyptic"}), "severity"),
        (json!({"location": {"lat": 95.0, "lon": 120.0}}), "location"),
        (json!({"location": {"lat": 30.0, "lon": 200.0}}), "location"),
        (json!({"location": {"lon": 120.0}}), "location.lat"),
        (
            json!({"location": {"lat": 30.0, "lon": 120.0, "crs": "utm"}}),
            "location.crs",
        ),
        (
            json!({"location": {"lat": 30.0, "lon": 120.0, "accuracy_m": -1}}),
            "location.accuracy_m",
        ),
        (json!({"status": "closed"}), "status"),
        (json!({"assignee": {"kind": "department"}}), "assignee"),
        (json!({"reporter_id": Uuid::now_v7()}), "reporter_id"),
        (json!({"case_no": "XC-2026-999999"}), "case_no"),
    ];
    for (change, field) in cases {
        let response = app
            .post_json(
                "/api/v1/reports",
                Some(&inspector.access_token),
                &report_body(change.clone()),
            )
            .await;
        let body = assert_error(response, 422, "validation_failed").await;
        assert!(
            body["error"]["fields"][field].is_string(),
            "{field} for {change}: {body}"
        );
    }
    let mut missing = report_body(json!({}));
    missing.as_object_mut().unwrap().remove("observed_at");
    let body = assert_error(
        app.post_json("/api/v1/reports", Some(&inspector.access_token), &missing)
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(body["error"]["fields"]["observed_at"].is_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn only_inspectors_and_supervisors_file() {
    let app = spawn_app().await;
    for role in ["department", "shopfront", "admin"] {
        let session = if role == "admin" {
            app.admin().await
        } else {
            app.login_as(role).await
        };
        let response = app
            .post_json(
                "/api/v1/reports",
                Some(&session.access_token),
                &report_body(json!({})),
            )
            .await;
        assert_error(response, 403, "forbidden").await;
    }
    let supervisor = app.login_as("supervisor").await;
    app.file_report(&supervisor.access_token, json!({})).await;
}

/// Filing reads the account in its own first statement rather than through the extractor
/// every other route uses: the same checks must hold there.
#[tokio::test(flavor = "multi_thread")]
async fn a_filing_is_refused_for_a_disabled_account_or_a_changed_password() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for change in ["disabled", "password reset"] {
        let inspector = app.login_as("inspector").await;
        let user = format!("/api/v1/users/{}", inspector.user_id);
        let response = if change == "disabled" {
            app.patch_json(&user, &admin.access_token, &json!({"disabled": true}))
                .await
        } else {
            let body = json!({"new_password": "another-password-42"});
            app.post_json(
                &format!("{user}/password"),
                Some(&admin.access_token),
                &body,
            )
            .await
        };
        assert!(response.status().is_success(), "{change}");
        let body = report_body(json!({}));
        let response = app
            .post_json("/api/v1/reports", Some(&inspector.access_token), &body)
            .await;
        assert_error(response, 401, "unauthorized").await;
        let filed: Value = app
            .get(
                &format!("/api/v1/reports?reporter_id={}", inspector.user_id),
                Some(&admin.access_token),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(filed["items"], json!([]), "{change}");
    }
    let missing = app
        .post_json("/api/v1/reports", None, &report_body(json!({})))
        .await;
    assert_error(missing, 401, "unauthorized").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retry_returns_the_same_case_and_a_changed_payload_conflicts() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let body = report_body(json!({}));
    let first = app
        .post_json("/api/v1/reports", Some(&inspector.access_token), &body)
        .await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = app
        .post_json("/api/v1/reports", Some(&inspector.access_token), &body)
        .await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["case_no"], first["case_no"]);

    let mut changed = body.clone();
    changed["description"] = json!("something else entirely");
    assert_error(
        app.post_json("/api/v1/reports", Some(&inspector.access_token), &changed)
            .await,
        409,
        "client_id_conflict",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_duplicate_filings_make_one_case() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let body = report_body(json!({}));
    let requests =
        (0..8).map(|_| app.post_json("/api/v1/reports", Some(&inspector.access_token), &body));
    let responses = futures_util::future::join_all(requests).await;
    let mut statuses = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for response in responses {
        statuses.push(response.status().as_u16());
        let case: Value = response.json().await.unwrap();
        ids.insert(case["id"].as_str().unwrap().to_owned());
    }
    statuses.sort();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 201),
        "{statuses:?}"
    );
    assert_eq!(ids.len(), 1);
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let client_id: Uuid = body["client_id"].as_str().unwrap().parse().unwrap();
    let rows = entity::cases::Entity::find()
        .filter(entity::cases::Column::ClientId.eq(client_id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(rows, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deactivated_category_takes_no_new_cases() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let inspector = app.login_as("inspector").await;
    let response = app
        .patch_json(
            "/api/v1/categories/jaywalking",
            &admin.access_token,
            &json!({"active": false}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let response = app
        .post_json(
            "/api/v1/reports",
            Some(&inspector.access_token),
            &report_body(json!({"category": "jaywalking"})),
        )
        .await;
    let body = assert_error(response, 422, "validation_failed").await;
    assert!(body["error"]["fields"]["category"].is_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn nearby_finds_open_cases_of_the_category_within_the_radius() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let token = &inspector.access_token;
    let at = |lat: f64, lon: f64| json!({"location": {"lat": lat, "lon": lon}});
    let close = app.file_report(token, at(30.25040, 120.16)).await; // ~45 m north
    let far = app.file_report(token, at(30.25200, 120.16)).await; // ~220 m
    let other_category = app
        .file_report(
            token,
            json!({"category": "littering_dumping", "location": {"lat": 30.2501, "lon": 120.16}}),
        )
        .await;
    let closed = app.file_report(token, at(30.25010, 120.16)).await;
    app.force_case(closed["id"].as_str().unwrap(), "closed", None, None)
        .await;

    let found: Value = app
        .get(
            "/api/v1/reports/nearby?lat=30.25&lon=120.16&category=parking",
            Some(token),
        )
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![close["id"].as_str().unwrap()]);
    let distance = found["items"][0]["distance_m"].as_f64().unwrap();
    assert!((40.0..50.0).contains(&distance), "{distance}");
    assert!(!ids.contains(&far["id"].as_str().unwrap()));
    assert!(!ids.contains(&other_category["id"].as_str().unwrap()));

    let wider: Value = app
        .get(
            "/api/v1/reports/nearby?lat=30.25&lon=120.16&category=parking&radius_m=300",
            Some(token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(wider["items"].as_array().unwrap().len(), 2);

    for bad in [
        "lat=30.25&lon=120.16",
        "lat=30.25&category=parking",
        "lat=30.25&lon=120.16&category=parking&radius_m=5000",
    ] {
        let response = app
            .get(&format!("/api/v1/reports/nearby?{bad}"), Some(token))
            .await;
        assert_error(response, 422, "validation_failed").await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_filter_and_page_with_a_cursor() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let token = &inspector.access_token;
    let mut filed = Vec::new();
    for i in 0..5 {
        let category = if i % 2 == 0 {
            "parking"
        } else {
            "littering_dumping"
        };
        filed.push(app.file_report(token, json!({"category": category, "location": {"lat": 30.25 + f64::from(i) * 0.01, "lon": 120.16}})).await);
    }
    // Newest first, two at a time.
    let mut seen = Vec::new();
    let mut path = "/api/v1/reports?limit=2".to_owned();
    loop {
        let page: Value = app.get(&path, Some(token)).await.json().await.unwrap();
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/reports?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    let expected: Vec<String> = filed
        .iter()
        .rev()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen, expected);

    let parking: Value = app
        .get("/api/v1/reports?category=parking", Some(token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(parking["items"].as_array().unwrap().len(), 3);
    let boxed: Value = app
        .get(
            "/api/v1/reports?bbox=120.15,30.245,120.17,30.265",
            Some(token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(boxed["items"].as_array().unwrap().len(), 2);
    let mine: Value = app
        .get(
            &format!(
                "/api/v1/reports?reporter_id={}&status=reported,assigned",
                inspector.user_id
            ),
            Some(token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"].as_array().unwrap().len(), 5);
    let not_overdue: Value = app
        .get("/api/v1/reports?overdue=false", Some(token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(not_overdue["items"].as_array().unwrap().len(), 5);
    let overdue: Value = app
        .get("/api/v1/reports?overdue=true", Some(token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(overdue["items"].as_array().unwrap().len(), 0);

    // Delta sync: only what changed after a point in time, oldest change first.
    let since = filed[2]["updated_at"].as_str().unwrap();
    let synced: Value = app
        .get(
            &format!(
                "/api/v1/reports?sort=updated&updated_since={}",
                urlencode(since)
            ),
            Some(token),
        )
        .await
        .json()
        .await
        .unwrap();
    let synced_ids: Vec<&str> = synced["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        synced_ids,
        vec![
            filed[3]["id"].as_str().unwrap(),
            filed[4]["id"].as_str().unwrap()
        ]
    );

    let by_deadline: Value = app
        .get("/api/v1/reports?sort=deadline&limit=1", Some(token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        by_deadline["items"][0]["category"], "parking",
        "parking has the 4 h deadline"
    );
    assert!(by_deadline["next_cursor"].is_string());

    for bad in [
        "status=lost",
        "bbox=1,2,3",
        "limit=0",
        "limit=abc",
        "cursor=nope",
        "sort=random",
        "overdue=maybe",
        "created_from=today",
        "crs=utm",
    ] {
        let response = app
            .get(&format!("/api/v1/reports?{bad}"), Some(token))
            .await;
        assert_error(response, 422, "validation_failed").await;
    }
    // Several statuses are asked a status at a time and merged: paging through them must
    // give what one query over all statuses gives, in the same order, each case once.
    let supervisor = app.login_as("supervisor").await;
    let department = app.create_department().await;
    for case in filed.iter().take(2) {
        let response = app
            .post_json(
                &format!("/api/v1/reports/{}/assign", case["id"].as_str().unwrap()),
                Some(&supervisor.access_token),
                &json!({"version": case["version"], "department_id": department}),
            )
            .await;
        assert_eq!(response.status(), 200);
    }
    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    for sort in ["deadline", "created"] {
        let all: Value = app
            .get(
                &format!("/api/v1/reports?sort={sort}&limit=200"),
                Some(token),
            )
            .await
            .json()
            .await
            .unwrap();
        let mut merged = Vec::new();
        let mut path = format!("/api/v1/reports?status=assigned,reported&sort={sort}&limit=2");
        loop {
            let page: Value = app.get(&path, Some(token)).await.json().await.unwrap();
            merged.extend(ids(&page));
            match page["next_cursor"].as_str() {
                Some(cursor) => {
                    path = format!(
                        "/api/v1/reports?status=assigned,reported&sort={sort}&limit=2&cursor={cursor}"
                    )
                }
                None => break,
            }
        }
        assert_eq!(merged, ids(&all), "sort={sort}");
    }
}

fn urlencode(raw: &str) -> String {
    raw.replace(':', "%3A").replace('+', "%2B")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_geojson_list_is_a_feature_collection_of_points() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let case = app.file_report(&inspector.access_token, json!({})).await;
    let response = app
        .get(
            "/api/v1/reports.geojson?crs=gcj02",
            Some(&inspector.access_token),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/geo+json")
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], "FeatureCollection");
    let feature = &body["features"][0];
    assert_eq!(feature["type"], "Feature");
    assert_eq!(feature["id"], case["id"]);
    assert_eq!(feature["geometry"]["type"], "Point");
    let lon = feature["geometry"]["coordinates"][0].as_f64().unwrap();
    assert!(lon > 120.16, "GCJ-02 is shifted east of WGS-84 here: {lon}");
    assert_eq!(feature["properties"]["case_no"], case["case_no"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn admins_manage_categories_and_others_only_read_them() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let inspector = app.login_as("inspector").await;
    let listed: Value = app
        .get("/api/v1/categories", Some(&inspector.access_token))
        .await
        .json()
        .await
        .unwrap();
    let codes: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes.len(), 10);
    let parking = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "parking")
        .unwrap();
    assert_eq!(parking["name_zh"], "乱停乱放");
    assert_eq!(parking["frontage"], true);
    assert_eq!(parking["deadline_hours"], 4);

    let new = json!({"code": "vector_control", "name_zh": "除四害", "name_en": "Vector control", "frontage": false, "deadline_hours": 72});
    assert_error(
        app.post_json("/api/v1/categories", Some(&inspector.access_token), &new)
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(
        app.post_json("/api/v1/categories", Some(&admin.access_token), &new)
            .await
            .status(),
        201
    );
    assert_error(
        app.post_json("/api/v1/categories", Some(&admin.access_token), &new)
            .await,
        409,
        "conflict",
    )
    .await;
    let bad = json!({"code": "X", "name_zh": "", "name_en": "ok", "deadline_hours": 0});
    let body = assert_error(
        app.post_json("/api/v1/categories", Some(&admin.access_token), &bad)
            .await,
        422,
        "validation_failed",
    )
    .await;
    for field in ["code", "name_zh", "deadline_hours"] {
        assert!(body["error"]["fields"][field].is_string(), "{field}");
    }
    let edited: Value = app
        .patch_json(
            "/api/v1/categories/vector_control",
            &admin.access_token,
            &json!({"deadline_hours": 48, "name_en": "Pest control"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(edited["deadline_hours"], 48);
    app.file_report(
        &inspector.access_token,
        json!({"category": "vector_control"}),
    )
    .await;
}

/// `POST /reports/with-photos`: the report's JSON, then its photos.
async fn file_with_photos(
    app: &crate::helpers::TestApp,
    token: &str,
    report: &Value,
    photos: Vec<Vec<u8>>,
) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new().text("report", report.to_string());
    for (i, bytes) in photos.into_iter().enumerate() {
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(bytes)
                .file_name(format!("p{i}.jpg"))
                .mime_str("image/jpeg")
                .unwrap(),
        );
    }
    app.client
        .post(app.url("/api/v1/reports/with-photos"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_report_filed_with_its_photos_reaches_its_department_at_once() {
    let app = crate::helpers::spawn_app_with(&[("XUNCHA_DISPATCH_WAIT_SECONDS", "600")]).await;
    let worker = app.parking_goes_to_a_department().await;
    let inspector = app.login_as("inspector").await.access_token;
    let report = report_body(json!({}));
    let photos = vec![
        crate::images::jpeg(640, 480, 51),
        crate::images::jpeg(640, 480, 52),
    ];
    let filed = file_with_photos(&app, &inspector, &report, photos.clone()).await;
    assert_eq!(filed.status(), 201);
    let location = filed.headers()["location"].to_str().unwrap().to_owned();
    let case: Value = filed.json().await.unwrap();
    assert_eq!(case["photos"].as_array().unwrap().len(), 2, "{case}");
    assert!(case["held_until"].is_null());
    assert_eq!(app.get(&location, Some(&worker)).await.status(), 200);

    // Sent again (its answer was lost): the same case, the photos stored once.
    let again = file_with_photos(&app, &inspector, &report, photos).await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], case["id"]);
    assert_eq!(again["photos"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_report_whose_photos_are_refused_stays_filed_and_takes_them_on_a_retry() {
    let app = crate::helpers::spawn_app_with(&[("XUNCHA_DISPATCH_WAIT_SECONDS", "600")]).await;
    let worker = app.parking_goes_to_a_department().await;
    let inspector = app.login_as("inspector").await.access_token;
    let report = report_body(json!({}));
    let mut truncated = crate::images::jpeg(640, 480, 53);
    truncated.truncate(truncated.len() / 3);
    assert_error(
        file_with_photos(&app, &inspector, &report, vec![truncated]).await,
        422,
        "invalid_image",
    )
    .await;
    // Filed and held: the department does not see a case without its evidence.
    let mine: Value = app
        .get("/api/v1/reports?limit=10", Some(&inspector))
        .await
        .json()
        .await
        .unwrap();
    let case = mine["items"][0].clone();
    assert_eq!(mine["items"].as_array().unwrap().len(), 1, "{mine}");
    assert!(case["held_until"].is_string() && case["photos"] == json!([]));
    let path = format!("/api/v1/reports/{}", case["id"].as_str().unwrap());
    assert_eq!(app.get(&path, Some(&worker)).await.status(), 404);

    let retried = file_with_photos(
        &app,
        &inspector,
        &report,
        vec![crate::images::jpeg(640, 480, 54)],
    )
    .await;
    assert_eq!(retried.status(), 200);
    assert_eq!(app.get(&path, Some(&worker)).await.status(), 200);

    // A form without its report is refused before any file is read.
    let no_report = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(crate::images::jpeg(64, 64, 1))
            .file_name("a.jpg")
            .mime_str("image/jpeg")
            .unwrap(),
    );
    let response = app
        .client
        .post(app.url("/api/v1/reports/with-photos"))
        .bearer_auth(&inspector)
        .multipart(no_report)
        .send()
        .await
        .unwrap();
    let body = assert_error(response, 422, "validation_failed").await;
    assert!(body["error"]["fields"]["report"].is_string());
    // Nor may a department file one.
    let refused = file_with_photos(&app, &worker, &report_body(json!({})), vec![]).await;
    assert_error(refused, 403, "forbidden").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_phone_asks_for_compact_lists_with_only_the_fields_it_shows() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await.access_token;
    for _ in 0..3 {
        app.file_report(&inspector, json!({})).await;
    }
    let full: Value = app
        .get("/api/v1/reports", Some(&inspector))
        .await
        .json()
        .await
        .unwrap();
    let compact: Value = app
        .get(
            "/api/v1/reports?fields=status,deadline_at,location",
            Some(&inspector),
        )
        .await
        .json()
        .await
        .unwrap();
    let items = compact["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    for item in items {
        let mut keys: Vec<&str> = item
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, ["deadline_at", "id", "location", "status"]);
    }
    assert!(compact.to_string().len() * 3 < full.to_string().len());

    let supervisor = app.login_as("supervisor").await.access_token;
    let queue: Value = app
        .get("/api/v1/queue?fields=status", Some(&supervisor))
        .await
        .json()
        .await
        .unwrap();
    assert!(queue["counts"].is_object());
    for item in queue["items"].as_array().unwrap() {
        assert_eq!(item.as_object().unwrap().len(), 2, "{item}");
    }
    let body = assert_error(
        app.get(
            "/api/v1/reports?fields=status,password_hash",
            Some(&inspector),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let problem = body["error"]["fields"]["fields"].as_str().unwrap();
    assert!(problem.contains("password_hash") && problem.contains("deadline_at"));
}
