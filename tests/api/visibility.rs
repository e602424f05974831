//! Who sees which case, for reads, lists, GeoJSON, photo downloads and statistics: each
//! role against each other role's cases, and supervisors, inspectors and sub-district
//! offices bound to their areas. A case one may not see is 404, never 403.

use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, spawn_app, square};
use crate::images;

#[tokio::test(flavor = "multi_thread")]
async fn each_role_sees_exactly_its_cases() {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let token = &inspector.access_token;
    let department_a = app.create_department().await;
    let department_b = app.create_department().await;
    let shop_of_a = app.create_shopfront_of(Some(department_a)).await;
    let shop_of_b = app.create_shopfront_of(Some(department_b)).await;

    let mut cases = std::collections::BTreeMap::new();
    for (name, department, shopfront) in [
        ("dept_a", Some(department_a), None),
        ("dept_b", Some(department_b), None),
        ("shop_a", None, Some(shop_of_a)),
        ("shop_b", None, Some(shop_of_b)),
        ("triage", None, None),
    ] {
        let case = app.file_report(token, json!({})).await;
        let id = case["id"].as_str().unwrap().to_owned();
        let photo = app
            .upload_photos(
                token,
                &id,
                "before",
                vec![images::jpeg(64, 48, name.len() as u32 * 13)],
            )
            .await;
        let photo: Value = photo.json().await.unwrap();
        if department.is_some() || shopfront.is_some() {
            app.force_case(&id, "assigned", department, shopfront).await;
        }
        cases.insert(
            name,
            (
                id,
                photo["items"][0]["thumbnail_url"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            ),
        );
    }

    let all = ["dept_a", "dept_b", "shop_a", "shop_b", "triage"];
    let viewers = vec![
        ("admin", app.admin().await, all.to_vec()),
        ("supervisor", app.login_as("supervisor").await, all.to_vec()),
        ("the filing inspector", inspector.clone(), all.to_vec()),
        // Another inspector, bound to no area, sees none of them.
        ("another inspector", app.login_as("inspector").await, vec![]),
        (
            "department a",
            app.login_scoped("department", Some(department_a), None)
                .await,
            vec!["dept_a", "shop_a"],
        ),
        (
            "department b",
            app.login_scoped("department", Some(department_b), None)
                .await,
            vec!["dept_b", "shop_b"],
        ),
        (
            "shop of a",
            app.login_scoped("shopfront", None, Some(shop_of_a)).await,
            vec!["shop_a"],
        ),
        (
            "shop of b",
            app.login_scoped("shopfront", None, Some(shop_of_b)).await,
            vec!["shop_b"],
        ),
    ];
    for (who, session, visible) in viewers {
        let token = &session.access_token;
        for (name, (id, thumbnail)) in &cases {
            let expected = if visible.contains(name) { 200 } else { 404 };
            let read = app.get(&format!("/api/v1/reports/{id}"), Some(token)).await;
            assert_eq!(read.status(), expected, "{who} reading {name}");
            let photo = app.get(thumbnail, Some(token)).await;
            assert_eq!(photo.status(), expected, "{who} downloading {name}'s photo");
        }
        let expected_ids: std::collections::BTreeSet<&str> =
            visible.iter().map(|n| cases[n].0.as_str()).collect();
        let listed: Value = app
            .get("/api/v1/reports?limit=200", Some(token))
            .await
            .json()
            .await
            .unwrap();
        let listed_ids: std::collections::BTreeSet<&str> = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap())
            .collect();
        assert_eq!(listed_ids, expected_ids, "{who} listing");
        let geo: Value = app
            .get("/api/v1/reports.geojson?limit=200", Some(token))
            .await
            .json()
            .await
            .unwrap();
        let geo_ids: std::collections::BTreeSet<&str> = geo["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap())
            .collect();
        assert_eq!(geo_ids, expected_ids, "{who} GeoJSON");
    }
}

/// A department answers for the cases of the shops it oversees: when a shop moves to
/// another department, its cases move with it (reads and queues).
#[tokio::test(flavor = "multi_thread")]
async fn a_shops_cases_follow_it_to_its_new_department() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let department_a = app.create_department().await;
    let department_b = app.create_department().await;
    let mut shop = json!({"name": "老张面馆", "credit_code": "91350100M000100Y43", "address": "解放路1号",
        "location": {"lat": 30.25, "lon": 120.16}, "overseeing_department_id": department_a,
        "frontage_zone_wkt": "POLYGON((120.1599 30.2499, 120.1601 30.2499, 120.1601 30.2501, 120.1599 30.2501, 120.1599 30.2499))"});
    let created = app
        .post_json("/api/v1/shopfronts", Some(&admin.access_token), &shop)
        .await;
    assert_eq!(created.status(), 201);
    let shop_id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let inspector = app.login_as("inspector").await;
    let case = app
        .file_report(
            &inspector.access_token,
            json!({"category": "stall_occupation", "location": {"lat": 30.25, "lon": 120.16}}),
        )
        .await;
    assert_eq!(case["assignee"]["kind"], "shopfront");
    let case_path = format!("/api/v1/reports/{}", case["id"].as_str().unwrap());
    let a = app
        .login_scoped("department", Some(department_a), None)
        .await;
    let b = app
        .login_scoped("department", Some(department_b), None)
        .await;
    let queue_ids = |queue: Value| -> Vec<String> {
        queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let queue_of = |token: String| {
        let app = &app;
        async move {
            let queue: Value = app
                .get("/api/v1/queue", Some(&token))
                .await
                .json()
                .await
                .unwrap();
            queue
        }
    };
    assert_eq!(
        app.get(&case_path, Some(&a.access_token)).await.status(),
        200
    );
    assert_eq!(
        app.get(&case_path, Some(&b.access_token)).await.status(),
        404
    );
    let queue_a = queue_of(a.access_token.clone()).await;
    assert_eq!(queue_ids(queue_a), vec![case["id"].as_str().unwrap()]);

    shop["overseeing_department_id"] = json!(department_b);
    let moved = app
        .client
        .put(app.url(&format!("/api/v1/shopfronts/{shop_id}")))
        .bearer_auth(&admin.access_token)
        .json(&shop)
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 200);
    assert_eq!(
        app.get(&case_path, Some(&a.access_token)).await.status(),
        404
    );
    assert_eq!(
        app.get(&case_path, Some(&b.access_token)).await.status(),
        200
    );
    assert!(queue_ids(queue_of(a.access_token.clone()).await).is_empty());
    assert_eq!(
        queue_ids(queue_of(b.access_token.clone()).await),
        vec![case["id"].as_str().unwrap()]
    );
}

/// The ids a list or GeoJSON answer holds.
async fn listed(app: &TestApp, path: &str, token: &str) -> std::collections::BTreeSet<String> {
    let body: Value = app.get(path, Some(token)).await.json().await.unwrap();
    let items = body["items"]
        .as_array()
        .or_else(|| body["features"].as_array())
        .unwrap();
    items
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A district 上城区 with a sub-district 湖滨街道 (whose office is its local authority) and
/// a grid inside that; a second district 西湖区; cases in each and one outside every area.
/// Bound supervisors and inspectors see the cases in their areas and every area below; a
/// sub-district office sees every case on its territory whoever is assigned, while its
/// queue keeps its own; statistics count what the reader sees.
#[tokio::test(flavor = "multi_thread")]
async fn bound_users_and_sub_district_offices_see_their_territory() {
    let app = spawn_app().await;
    let office = app.create_department().await;
    let elsewhere = app.create_department().await;
    let district = app
        .create_area(json!({"code": "SC", "name": "上城区", "level": "district",
            "boundary": square(120.16, 30.25, 0.02)}))
        .await;
    let subdistrict = app
        .create_area(
            json!({"code": "SC-HB", "name": "湖滨街道", "level": "subdistrict",
            "parent_id": district, "local_authority_id": office,
            "boundary": square(120.15, 30.24, 0.009)}),
        )
        .await;
    let grid = app
        .create_area(
            json!({"code": "SC-HB-01", "name": "湖滨第一网格", "level": "grid",
            "parent_id": subdistrict, "boundary": square(120.145, 30.235, 0.003)}),
        )
        .await;
    let other_district = app
        .create_area(json!({"code": "XH", "name": "西湖区", "level": "district",
            "boundary": square(120.26, 30.25, 0.02)}))
        .await;

    let filer = app.login_as("inspector").await;
    let mut cases = std::collections::BTreeMap::new();
    for (name, lat, lon) in [
        ("grid", 30.235, 120.145),
        ("subdistrict", 30.245, 120.155),
        ("district", 30.26, 120.17),
        ("other district", 30.25, 120.26),
        ("nowhere", 30.40, 120.40),
    ] {
        let case = app
            .file_report(
                &filer.access_token,
                json!({"location": {"lat": lat, "lon": lon}}),
            )
            .await;
        let id = case["id"].as_str().unwrap().to_owned();
        let photo: Value = app
            .upload_photos(
                &filer.access_token,
                &id,
                "before",
                vec![images::jpeg(64, 48, name.len() as u32 * 7)],
            )
            .await
            .json()
            .await
            .unwrap();
        let thumbnail = photo["items"][0]["thumbnail_url"]
            .as_str()
            .unwrap()
            .to_owned();
        cases.insert(name, (id, thumbnail));
    }
    // The sub-district's case is another department's to fix.
    app.force_case(&cases["subdistrict"].0, "assigned", Some(elsewhere), None)
        .await;

    let all = [
        "grid",
        "subdistrict",
        "district",
        "other district",
        "nowhere",
    ];
    let viewers: Vec<(&str, Session, Vec<&str>)> = vec![
        (
            "an unbound supervisor",
            app.login_as("supervisor").await,
            all.to_vec(),
        ),
        (
            "a supervisor of 上城区",
            app.login_bound("supervisor", &[&district]).await,
            vec!["grid", "subdistrict", "district"],
        ),
        (
            "a supervisor of the grid and 西湖区",
            app.login_bound("supervisor", &[&grid, &other_district])
                .await,
            vec!["grid", "other district"],
        ),
        ("the filer", filer.clone(), all.to_vec()),
        (
            "an inspector patrolling 湖滨街道",
            app.login_bound("inspector", &[&subdistrict]).await,
            vec!["grid", "subdistrict"],
        ),
        (
            "an unbound inspector",
            app.login_as("inspector").await,
            vec![],
        ),
        (
            "湖滨街道's office",
            app.login_scoped("department", Some(office), None).await,
            vec!["grid", "subdistrict"],
        ),
        (
            "the assigned department",
            app.login_scoped("department", Some(elsewhere), None).await,
            vec!["subdistrict"],
        ),
    ];
    for (who, session, visible) in &viewers {
        let token = session.access_token.as_str();
        for (name, (id, thumbnail)) in &cases {
            let expected = if visible.contains(name) { 200 } else { 404 };
            let read = app.get(&format!("/api/v1/reports/{id}"), Some(token)).await;
            assert_eq!(read.status(), expected, "{who} reading {name}");
            let photo = app.get(thumbnail, Some(token)).await;
            assert_eq!(photo.status(), expected, "{who} downloading {name}'s photo");
        }
        let expected: std::collections::BTreeSet<String> =
            visible.iter().map(|n| cases[n].0.clone()).collect();
        assert_eq!(
            listed(&app, "/api/v1/reports?limit=200", token).await,
            expected,
            "{who} listing"
        );
        assert_eq!(
            listed(&app, "/api/v1/reports.geojson?limit=200", token).await,
            expected,
            "{who} GeoJSON"
        );
    }

    // Statistics count the reader's cases only.
    let today = chrono::Utc::now().date_naive();
    let stats_path = format!(
        "/api/v1/stats?from={}&to={}&group_by=area",
        today - chrono::Days::new(1),
        today + chrono::Days::new(1)
    );
    for (who, session, visible) in &viewers {
        if !who.contains("supervisor") {
            continue;
        }
        let stats: Value = app
            .get(&stats_path, Some(&session.access_token))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            stats["total"]["filed"],
            visible.len(),
            "{who}'s statistics: {stats}"
        );
    }

    // The office sees its territory, but its queue holds only what is in its hands: the
    // grid's case, which came to it as the local authority (属地兜底), and not the
    // sub-district's case that another department was given.
    let office_session = &viewers[6].1;
    let queue: Value = app
        .get("/api/v1/queue", Some(&office_session.access_token))
        .await
        .json()
        .await
        .unwrap();
    let queued: Vec<&str> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(queued, vec![cases["grid"].0.as_str()], "{queue}");

    // The office steps in on its territory: it chases the assigned department (催办),
    // which the history keeps; the assignee cannot chase itself.
    let subdistrict_case = format!("/api/v1/reports/{}", cases["subdistrict"].0);
    let assigned = &viewers[7].1;
    let refused = app
        .post_json(
            &format!("{subdistrict_case}/chase"),
            Some(&assigned.access_token),
            &json!({"version": 1, "note": "自己催自己"}),
        )
        .await;
    assert_eq!(refused.status(), 403);
    let chased = app
        .post_json(
            &format!("{subdistrict_case}/chase"),
            Some(&office_session.access_token),
            &json!({"version": 1, "note": "请于今日内清理"}),
        )
        .await;
    let status = chased.status();
    let chased: Value = chased.json().await.unwrap();
    assert_eq!(status, 200, "{chased}");
    assert_eq!(chased["status"], "assigned");
    let history: Value = app
        .get(
            &format!("{subdistrict_case}/events"),
            Some(&assigned.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    let last = history["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "chase", "{history}");
    assert_eq!(last["note"], "请于今日内清理");

    // A supervisor acting outside their areas finds no such case.
    let bound = &viewers[1].1;
    let outside = app
        .post_json(
            &format!("/api/v1/reports/{}/cancel", cases["other district"].0),
            Some(&bound.access_token),
            &json!({"version": 1, "note": "不属本区"}),
        )
        .await;
    assert_eq!(outside.status(), 404);

    // The duplicates check names open cases anywhere, but only where and what they are.
    let stranger = &viewers[5].1;
    let near: Value = app
        .get(
            "/api/v1/reports/nearby?lat=30.235&lon=120.145&category=parking",
            Some(&stranger.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    let first = &near["items"][0];
    assert_eq!(
        first["id"].as_str(),
        Some(cases["grid"].0.as_str()),
        "{near}"
    );
    for hidden in ["photos", "reporter_id", "assignee", "description"] {
        assert!(
            first.get(hidden).is_none(),
            "nearby shows {hidden}: {first}"
        );
    }
}

/// Admins bind supervisors and inspectors to areas; other roles, unknown areas and too
/// many areas are refused field by field, and an area someone is bound to stays.
#[tokio::test(flavor = "multi_thread")]
async fn areas_bind_supervisors_and_inspectors_only() {
    let app = spawn_app().await;
    let admin = app.admin().await.access_token;
    let area = app
        .create_area(json!({"code": "SC", "name": "上城区", "level": "district",
            "boundary": square(120.16, 30.25, 0.02)}))
        .await;
    let user = |role: &str, areas: Value| {
        json!({"username": format!("u{}", &uuid::Uuid::now_v7().simple().to_string()[20..]),
            "password": crate::helpers::PASSWORD, "display_name": "某某", "role": role,
            "area_ids": areas})
    };
    let department = app.create_department().await;
    let mut refused = user("department", json!([area]));
    refused["department_id"] = json!(department);
    let response = app.post_json("/api/v1/users", Some(&admin), &refused).await;
    let body = crate::helpers::assert_error(response, 422, "validation_failed").await;
    assert!(body["error"]["fields"]["area_ids"].is_string(), "{body}");
    let response = app
        .post_json(
            "/api/v1/users",
            Some(&admin),
            &user("inspector", json!([uuid::Uuid::now_v7()])),
        )
        .await;
    crate::helpers::assert_error(response, 422, "validation_failed").await;
    let many: Vec<uuid::Uuid> = (0..101).map(|_| uuid::Uuid::now_v7()).collect();
    let response = app
        .post_json(
            "/api/v1/users",
            Some(&admin),
            &user("supervisor", json!(many)),
        )
        .await;
    let body = crate::helpers::assert_error(response, 422, "validation_failed").await;
    assert!(body["error"]["fields"]["area_ids"].is_string(), "{body}");

    let created = app
        .post_json(
            "/api/v1/users",
            Some(&admin),
            &user("supervisor", json!([area, area])),
        )
        .await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["area_ids"], json!([area]));
    let id = created["id"].as_str().unwrap();

    // The bound area cannot be deleted from under its supervisor.
    let deleted = app
        .client
        .delete(app.url(&format!("/api/v1/areas/{area}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    crate::helpers::assert_error(deleted, 409, "conflict").await;

    // Made a department user, the supervisor loses the areas; made a supervisor again,
    // they are bound anew.
    let changed: Value = app
        .patch_json(
            &format!("/api/v1/users/{id}"),
            &admin,
            &json!({"role": "department", "department_id": department}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(changed["area_ids"], json!([]), "{changed}");
    let changed: Value = app
        .patch_json(
            &format!("/api/v1/users/{id}"),
            &admin,
            &json!({"role": "supervisor", "area_ids": [area]}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(changed["area_ids"], json!([area]), "{changed}");
    let listed: Value = app
        .get("/api/v1/users?role=supervisor", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let mine = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == id)
        .unwrap();
    assert_eq!(mine["area_ids"], json!([area]));
}
