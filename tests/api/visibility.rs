//! Who sees which case, for reads, lists, GeoJSON and photo downloads: each role against
//! each other role's cases. A case one may not see is 404, never 403.

use serde_json::{Value, json};

use crate::helpers::spawn_app;
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
        ("inspector", app.login_as("inspector").await, all.to_vec()),
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
