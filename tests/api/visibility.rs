//! Who sees which case, for reads, lists, GeoJSON and photo downloads: each role against
//! each other role's cases. A case one may not see is 404, never 403.

use serde_json::{Value, json};

use crate::helpers::spawn_app;
use crate::images;

#[tokio::test]
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
