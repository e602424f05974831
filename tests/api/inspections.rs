//! Unannounced inspections end to end: sites, checklists, the committed and replayable
//! draw, who may see an unannounced plan, visits that file cases, the review arithmetic
//! on a hand-computed example, and the exports read back cell by cell.

use std::collections::HashMap;

use entity::ids::{DepartmentId, ShopfrontId};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::helpers::{Session, TestApp, assert_error, spawn_app};
use crate::images;

fn square(x0: f64, y0: f64, size: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]]})
}

/// Two districts, 东区 (X, with a grid inside) and 西区 (Y), each with its own local
/// authority; four markets (X1 and X2 in X, Y1 and Y2 in Y, Y1 being a shopfront
/// overseen by Y's authority) and a school in X.
struct City {
    x: String,
    y: String,
    dx: DepartmentId,
    dy: DepartmentId,
    shop_y1: ShopfrontId,
    sites: HashMap<&'static str, String>,
    checklist: Value,
    supervisor: Session,
    inspector: Session,
}

impl City {
    fn site(&self, code: &str) -> &str {
        &self.sites[code]
    }

    fn item(&self, index: usize) -> &str {
        self.checklist["items"][index]["id"].as_str().unwrap()
    }
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

async fn city(app: &TestApp) -> City {
    let admin = app.admin().await;
    let token = admin.access_token.as_str();
    let dx = app.create_department().await;
    let dy = app.create_department().await;
    let x = post(
        app,
        "/api/v1/areas",
        token,
        &json!({"code": "X", "name": "东区", "level": "district",
        "local_authority_id": dx, "boundary": square(120.0, 30.0, 0.1)}),
    )
    .await;
    let x = x["id"].as_str().unwrap().to_owned();
    let grid = post(
        app,
        "/api/v1/areas",
        token,
        &json!({"code": "X-G1", "name": "东区一网格", "level": "grid",
        "parent_id": x, "boundary": square(120.0, 30.0, 0.05)}),
    )
    .await;
    let y = post(
        app,
        "/api/v1/areas",
        token,
        &json!({"code": "Y", "name": "西区", "level": "district",
        "local_authority_id": dy, "boundary": square(120.2, 30.0, 0.1)}),
    )
    .await;
    let y = y["id"].as_str().unwrap().to_owned();
    let shop_y1 = app.create_shopfront_of(Some(dy)).await;
    let supervisor = app.login_as("supervisor").await;
    let inspector = app.login_as("inspector").await;
    let mut sites = HashMap::new();
    for (code, area, lon, site_type, shop) in [
        ("X1", grid["id"].as_str().unwrap(), 120.02, "market", None),
        ("X2", x.as_str(), 120.07, "market", None),
        ("Y1", y.as_str(), 120.25, "market", Some(shop_y1)),
        ("Y2", y.as_str(), 120.27, "market", None),
        ("XS", x.as_str(), 120.08, "school", None),
    ] {
        let site = post(app, "/api/v1/sites", &supervisor.access_token, &json!({
            "code": code, "name": format!("{code} 农贸市场"), "site_type": site_type, "area_id": area,
            "location": {"lat": 30.03, "lon": lon}, "address": format!("{code} 路 1 号"), "shopfront_id": shop})).await;
        sites.insert(code, site["id"].as_str().unwrap().to_owned());
    }
    let checklist = post(
        app,
        "/api/v1/checklists",
        &supervisor.access_token,
        &json!({
        "name": "农贸市场考核表", "items": [
            {"title": "垃圾清运及时", "max_points": 10, "category": "littering_dumping"},
            {"title": "无乱贴乱画", "max_points": 5, "category": "posting_graffiti"},
            {"title": "台账齐全", "max_points": 5},
        ]}),
    )
    .await;
    City {
        x,
        y,
        dx,
        dy,
        shop_y1,
        sites,
        checklist,
        supervisor,
        inspector,
    }
}

async fn create_campaign(app: &TestApp, city: &City, mode: &str, count: u32) -> Value {
    post(app, "/api/v1/campaigns", &city.supervisor.access_token, &json!({
        "name": "2026年第四季度明察暗访", "mode": mode, "starts_on": "2026-11-01", "ends_on": "2026-11-30",
        "checklist_id": city.checklist["id"], "plan": {"area_ids": [city.x, city.y],
        "quotas": [{"site_type": "market", "count": count}]},
        "inspector_ids": [city.inspector.user_id]})).await
}

fn visit_body(city: &City, site: &str, scores: [f64; 3]) -> Value {
    json!({"client_id": Uuid::now_v7(), "site_id": city.site(site), "notes": "现场检查",
    "scores": [
        {"item_id": city.item(0), "score": scores[0], "note": "垃圾堆积"},
        {"item_id": city.item(1), "score": scores[1], "note": "墙面小广告"},
        {"item_id": city.item(2), "score": scores[2]},
    ]})
}

/// The draw as `docs/inspections.md` writes it, computed here independently.
fn draw_by_hand(seed_hex: &str, candidates: &[String], count: usize) -> Vec<String> {
    let seed = hex::decode(seed_hex).unwrap();
    let mut keyed: Vec<(Vec<u8>, String)> = candidates
        .iter()
        .map(|c| {
            let mut h = Sha256::new();
            h.update(&seed);
            h.update(c.as_bytes());
            (h.finalize().to_vec(), c.clone())
        })
        .collect();
    keyed.sort();
    keyed.into_iter().take(count).map(|(_, c)| c).collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_draw_is_committed_then_revealed_and_anyone_can_replay_it() {
    let app = spawn_app().await;
    let city = city(&app).await;
    let token = city.supervisor.access_token.as_str();
    // 30 more markets in X so that the draw has a real choice (5 of 32).
    for i in 0..30 {
        post(
            &app,
            "/api/v1/sites",
            token,
            &json!({"code": format!("M{i:02}"), "name": "市场",
            "site_type": "market", "area_id": city.x, "location": {"lat": 30.04, "lon": 120.03}}),
        )
        .await;
    }
    let created = create_campaign(&app, &city, "unannounced", 5).await;
    let id = created["id"].as_str().unwrap();
    let commitment = created["seed_sha256"].as_str().unwrap().to_owned();
    assert_eq!(commitment.len(), 64);
    assert!(
        created["seed"].is_null(),
        "the seed is secret while the campaign runs"
    );
    assert_eq!(
        created["sites"].as_array().unwrap().len(),
        5 + 2,
        "5 in X, both of Y's"
    );

    // What creation answered is what a read gives.
    let read = get_ok(&app, &format!("/api/v1/campaigns/{id}"), token).await;
    assert_eq!(read, created, "GET after POST returns the same resource");

    let draw = get_ok(&app, &format!("/api/v1/campaigns/{id}/draw"), token).await;
    assert!(draw["seed"].is_null());
    assert_eq!(draw["seed_sha256"], commitment.as_str());
    let strata = draw["strata"].as_array().unwrap().clone();
    assert_eq!(strata.len(), 2);
    assert_eq!(
        strata[0]["candidates"].as_array().unwrap().len(),
        32,
        "inactive and other types excluded"
    );
    assert!(!strings(&strata[0]["candidates"]).contains(&city.site("XS").to_owned()));

    let closed = post(
        &app,
        &format!("/api/v1/campaigns/{id}/close"),
        token,
        &json!({}),
    )
    .await;
    let seed = closed["seed"].as_str().unwrap().to_owned();
    assert_eq!(
        hex::encode(Sha256::digest(hex::decode(&seed).unwrap())),
        commitment,
        "the seed matches the published hash"
    );
    assert_error(
        app.post_json(
            &format!("/api/v1/campaigns/{id}/close"),
            Some(token),
            &json!({}),
        )
        .await,
        409,
        "conflict",
    )
    .await;

    // Anyone signed in may replay; the server's answer and a hand computation agree.
    let someone = app.login_as("shopfront").await;
    let frame: Vec<Value> = strata
        .iter()
        .map(|s| json!({"area_id": s["area_id"], "site_type": s["site_type"], "count": s["count"], "candidates": s["candidates"]}))
        .collect();
    let replay = post(
        &app,
        "/api/v1/draws/replay",
        &someone.access_token,
        &json!({"seed": seed, "strata": frame}),
    )
    .await;
    assert_eq!(replay["seed_sha256"], commitment.as_str());
    assert_eq!(replay["frame_sha256"], draw["frame_sha256"]);
    for (replayed, published) in replay["strata"].as_array().unwrap().iter().zip(&strata) {
        assert_eq!(replayed["drawn"], published["drawn"]);
        let by_hand = draw_by_hand(
            &seed,
            &strings(&published["candidates"]),
            published["count"].as_u64().unwrap() as usize,
        );
        assert_eq!(strings(&published["drawn"]), by_hand);
    }
    // The frame's order does not matter; another seed draws other sites.
    let mut reversed = frame.clone();
    let mut candidates = strings(&reversed[0]["candidates"]);
    candidates.reverse();
    reversed[0]["candidates"] = json!(candidates);
    let again = post(
        &app,
        "/api/v1/draws/replay",
        &someone.access_token,
        &json!({"seed": seed, "strata": reversed}),
    )
    .await;
    assert_eq!(again["strata"][0]["drawn"], replay["strata"][0]["drawn"]);
    let other_seed = if seed.starts_with('0') {
        "f".repeat(64)
    } else {
        "0".repeat(64)
    };
    let other = post(
        &app,
        "/api/v1/draws/replay",
        &someone.access_token,
        &json!({"seed": other_seed, "strata": frame}),
    )
    .await;
    assert_ne!(other["strata"][0]["drawn"], replay["strata"][0]["drawn"]);
    assert_ne!(other["seed_sha256"], commitment.as_str());
    assert_error(
        app.post_json(
            "/api/v1/draws/replay",
            Some(&someone.access_token),
            &json!({"seed": "xyz", "strata": []}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unannounced_plan_is_hidden_from_those_inspected_until_a_visit_or_the_close() {
    let app = spawn_app().await;
    let city = city(&app).await;
    let created = create_campaign(&app, &city, "unannounced", 2).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let admin = app.admin().await;
    // Patrols 西区, where the visit below files its case.
    let other_inspector = app.login_bound("inspector", &[&city.y]).await;
    let department = app.login_scoped("department", Some(city.dy), None).await;
    let shop = app
        .login_scoped("shopfront", None, Some(city.shop_y1))
        .await;
    let paths = [
        format!("/api/v1/campaigns/{id}"),
        format!("/api/v1/campaigns/{id}/draw"),
        format!("/api/v1/campaigns/{id}/visits"),
    ];
    for (who, session) in [
        ("admin", &admin),
        ("supervisor", &city.supervisor),
        ("campaign inspector", &city.inspector),
    ] {
        for path in &paths {
            assert_eq!(
                app.get(path, Some(&session.access_token)).await.status(),
                200,
                "{who} {path}"
            );
        }
        let list = get_ok(&app, "/api/v1/campaigns", &session.access_token).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 1, "{who}");
    }
    for (who, session) in [
        ("other inspector", &other_inspector),
        ("department", &department),
        ("shopfront", &shop),
    ] {
        for path in &paths {
            assert_error(
                app.get(path, Some(&session.access_token)).await,
                404,
                "not_found",
            )
            .await;
        }
        let list = get_ok(&app, "/api/v1/campaigns", &session.access_token).await;
        assert_eq!(
            list["items"],
            json!([]),
            "{who} does not learn the campaign exists"
        );
        // Summaries are the campaign office's: 403 whatever the id, so nothing leaks.
        assert_eq!(
            app.get(
                &format!("/api/v1/campaigns/{id}/summary"),
                Some(&session.access_token)
            )
            .await
            .status(),
            403
        );
        assert_eq!(
            app.get("/api/v1/sites", Some(&session.access_token))
                .await
                .status(),
            403,
            "{who} cannot list sites"
        );
    }

    // A visit at the shop's site: the shop and its department see that visit, nothing more.
    let visit = post(
        &app,
        &format!("/api/v1/campaigns/{id}/visits"),
        &city.inspector.access_token,
        &visit_body(&city, "Y1", [10.0, 2.5, 5.0]),
    )
    .await;
    for session in [&shop, &department] {
        let visits = get_ok(
            &app,
            &format!("/api/v1/campaigns/{id}/visits"),
            &session.access_token,
        )
        .await;
        assert_eq!(visits["items"].as_array().unwrap().len(), 1);
        assert_eq!(visits["items"][0]["id"], visit["id"]);
        assert_eq!(
            app.get(
                &format!(
                    "/api/v1/campaigns/{id}/visits/{}",
                    visit["id"].as_str().unwrap()
                ),
                Some(&session.access_token)
            )
            .await
            .status(),
            200
        );
        assert_eq!(
            app.get(&paths[0], Some(&session.access_token))
                .await
                .status(),
            404
        );
        assert_eq!(
            app.get(&paths[1], Some(&session.access_token))
                .await
                .status(),
            404
        );
    }
    // The case the visit filed: the shop works it; an inspector off the campaign does not
    // even see it, the campaign's own inspector does.
    let filed = visit["scores"][1]["case_id"].as_str().unwrap();
    let case_path = format!("/api/v1/reports/{filed}");
    assert_eq!(
        app.get(&case_path, Some(&shop.access_token)).await.status(),
        200
    );
    assert_eq!(
        app.get(&case_path, Some(&city.inspector.access_token))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get(&case_path, Some(&other_inspector.access_token))
            .await
            .status(),
        404
    );
    let listed = get_ok(
        &app,
        "/api/v1/reports?limit=200",
        &other_inspector.access_token,
    )
    .await;
    assert!(!listed.to_string().contains(filed), "nor in lists");
    let dx_user = app.login_scoped("department", Some(city.dx), None).await;
    assert_eq!(
        app.get(&paths[2], Some(&dx_user.access_token))
            .await
            .status(),
        404,
        "not X's visit"
    );

    // Closed: everyone may see the campaign and check the draw.
    post(
        &app,
        &format!("/api/v1/campaigns/{id}/close"),
        &city.supervisor.access_token,
        &json!({}),
    )
    .await;
    assert_eq!(
        app.get(&case_path, Some(&other_inspector.access_token))
            .await
            .status(),
        200,
        "no secret once closed"
    );
    for session in [&other_inspector, &department, &shop] {
        let draw = get_ok(&app, &paths[1], &session.access_token).await;
        assert_eq!(draw["seed"].as_str().unwrap().len(), 64);
    }
    // Review stays with the campaign office.
    assert_eq!(
        app.get(
            &format!("/api/v1/campaigns/{id}/summary"),
            Some(&department.access_token)
        )
        .await
        .status(),
        403
    );

    // An announced campaign is no secret.
    let announced = create_campaign(&app, &city, "announced", 1).await;
    let path = format!(
        "/api/v1/campaigns/{}/draw",
        announced["id"].as_str().unwrap()
    );
    assert_eq!(
        app.get(&path, Some(&department.access_token))
            .await
            .status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn visits_score_sites_file_cases_and_the_review_adds_up() {
    let app = spawn_app().await;
    let city = city(&app).await;
    let created = create_campaign(&app, &city, "unannounced", 2).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let visits_path = format!("/api/v1/campaigns/{id}/visits");
    let token = city.inspector.access_token.as_str();

    // X1 full marks (20/20 = 100%), X2 16/20 = 80% (A −3 files a case, C −1 files none),
    // Y1 17.5/20 = 87.5% (B −2.5 files a frontage case for the shop), Y2 not visited.
    let x1 = post(
        &app,
        &visits_path,
        token,
        &visit_body(&city, "X1", [10.0, 5.0, 5.0]),
    )
    .await;
    let x2_body = visit_body(&city, "X2", [7.0, 5.0, 4.0]);
    let x2 = app.post_json(&visits_path, Some(token), &x2_body).await;
    assert_eq!(x2.status(), 201);
    let x2: Value = x2.json().await.unwrap();
    let y1 = post(
        &app,
        &visits_path,
        token,
        &visit_body(&city, "Y1", [10.0, 2.5, 5.0]),
    )
    .await;
    assert_eq!(x1["score"], 20.0);
    assert_eq!(x2["score"], 16.0);
    assert_eq!(y1["max_score"], 20.0);

    // Retries and mistakes.
    let retry = app.post_json(&visits_path, Some(token), &x2_body).await;
    assert_eq!(
        retry.status(),
        200,
        "the same client_id and body is the same visit"
    );
    assert_eq!(retry.json::<Value>().await.unwrap()["id"], x2["id"]);
    let mut changed = x2_body.clone();
    changed["notes"] = json!("改了");
    assert_error(
        app.post_json(&visits_path, Some(token), &changed).await,
        409,
        "client_id_conflict",
    )
    .await;
    assert_error(
        app.post_json(
            &visits_path,
            Some(token),
            &visit_body(&city, "X2", [1.0, 1.0, 1.0]),
        )
        .await,
        409,
        "conflict",
    )
    .await;
    let body = assert_error(
        app.post_json(
            &visits_path,
            Some(token),
            &visit_body(&city, "XS", [1.0, 1.0, 1.0]),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(body["error"]["fields"]["site_id"].is_string());
    let mut missing = visit_body(&city, "Y2", [10.0, 5.0, 5.0]);
    missing["scores"].as_array_mut().unwrap().pop();
    let body = assert_error(
        app.post_json(&visits_path, Some(token), &missing).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(
        body["error"]["fields"]["scores"]
            .as_str()
            .unwrap()
            .contains("台账齐全")
    );
    let body = assert_error(
        app.post_json(
            &visits_path,
            Some(token),
            &visit_body(&city, "Y2", [10.5, 5.0, 1.2]),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(
        body["error"]["fields"]["scores[0].score"].is_string()
            && body["error"]["fields"]["scores[2].score"].is_string()
    );
    let outsider = app.login_as("inspector").await;
    assert_eq!(
        app.post_json(
            &visits_path,
            Some(&outsider.access_token),
            &visit_body(&city, "Y2", [1.0, 1.0, 1.0])
        )
        .await
        .status(),
        404
    );

    // Deductions with a category filed cases, assigned like any other.
    let a_case = x2["scores"][0]["case_id"].as_str().unwrap();
    assert!(
        x2["scores"][2]["case_id"].is_null(),
        "an item without a category files nothing"
    );
    assert!(
        x2["scores"][1]["case_id"].is_null(),
        "no deduction, no case"
    );
    let case = get_ok(
        &app,
        &format!("/api/v1/reports/{a_case}"),
        &city.supervisor.access_token,
    )
    .await;
    assert_eq!(case["source"], "inspection");
    assert_eq!(case["category"], "littering_dumping");
    assert_eq!(case["status"], "assigned");
    assert_eq!(
        case["assignee"]["id"],
        city.dx.to_string(),
        "X's local authority"
    );
    assert_eq!(case["campaign_id"], id.as_str());
    assert_eq!(case["site_id"], city.site("X2"));
    assert!(case["description"].as_str().unwrap().contains("扣 3 分"));
    let b_case = y1["scores"][1]["case_id"].as_str().unwrap();
    let case = get_ok(
        &app,
        &format!("/api/v1/reports/{b_case}"),
        &city.supervisor.access_token,
    )
    .await;
    assert_eq!(case["assignee"]["kind"], "shopfront");
    assert_eq!(case["assignee"]["id"], city.shop_y1.to_string());
    let shop = app
        .login_scoped("shopfront", None, Some(city.shop_y1))
        .await;
    assert_eq!(
        app.get(
            &format!("/api/v1/reports/{b_case}"),
            Some(&shop.access_token)
        )
        .await
        .status(),
        200,
        "the shop works its case"
    );

    // Visit photos follow the evidence rules and are served like case photos.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(images::jpeg(320, 240, 7))
            .file_name("a.jpg")
            .mime_str("image/jpeg")
            .unwrap(),
    );
    let uploaded = app
        .client
        .post(app.url(&format!(
            "{visits_path}/{}/photos",
            y1["id"].as_str().unwrap()
        )))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), 201);
    let uploaded: Value = uploaded.json().await.unwrap();
    let visit = get_ok(
        &app,
        &format!("{visits_path}/{}", y1["id"].as_str().unwrap()),
        &shop.access_token,
    )
    .await;
    assert_eq!(visit["photos"][0]["id"], uploaded["items"][0]["id"]);
    let thumb = app
        .get(
            visit["photos"][0]["thumbnail_url"].as_str().unwrap(),
            Some(&shop.access_token),
        )
        .await;
    assert_eq!(thumb.status(), 200);
    let reused = app
        .upload_photos(
            &city.supervisor.access_token,
            a_case,
            "before",
            vec![images::jpeg(320, 240, 7)],
        )
        .await;
    let reused: Value = reused.json().await.unwrap();
    assert_eq!(
        reused["items"][0]["flags"],
        json!(["same_photo_on_other_case"]),
        "a visit photo reused on a case is flagged"
    );

    // The review, by hand: sites X1 100 (1st), Y1 87.5 (2nd), X2 80 (3rd), Y2 not visited.
    let summary = get_ok(
        &app,
        &format!("/api/v1/campaigns/{id}/summary"),
        &city.supervisor.access_token,
    )
    .await;
    assert_eq!(summary["sites_drawn"], 4);
    assert_eq!(summary["sites_visited"], 3);
    assert_eq!(summary["mean_score_rate"], 89.17, "(100 + 80 + 87.5) / 3");
    assert_eq!(summary["problems"], 3);
    let sites: Vec<(&str, Value, Value)> = summary["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["code"].as_str().unwrap(),
                s["score_rate"].clone(),
                s["rank"].clone(),
            )
        })
        .collect();
    assert_eq!(
        sites,
        vec![
            ("X1", json!(100.0), json!(1)),
            ("Y1", json!(87.5), json!(2)),
            ("X2", json!(80.0), json!(3)),
            ("Y2", Value::Null, Value::Null),
        ]
    );
    let areas: Vec<(&str, Value, Value, Value)> = summary["areas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap(),
                a["mean_score_rate"].clone(),
                a["rank"].clone(),
                a["problems"].clone(),
            )
        })
        .collect();
    assert_eq!(
        areas,
        vec![
            ("东区", json!(90.0), json!(1), json!(2)),
            ("西区", json!(87.5), json!(2), json!(1))
        ]
    );
    let departments = summary["departments"].as_array().unwrap();
    assert_eq!(departments[0]["id"], city.dx.to_string());
    assert_eq!(
        (
            departments[0]["sites_drawn"].clone(),
            departments[0]["mean_score_rate"].clone()
        ),
        (json!(2), json!(90.0))
    );
    assert_eq!(
        departments[1]["id"],
        city.dy.to_string(),
        "Y1 through its shop, Y2 through the area"
    );
    assert_eq!(
        (
            departments[1]["sites_drawn"].clone(),
            departments[1]["sites_visited"].clone()
        ),
        (json!(2), json!(1))
    );
    let categories: Vec<(Value, Value, Value, Value)> = summary["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["category"].clone(),
                c["problems"].clone(),
                c["points_deducted"].clone(),
                c["cases_filed"].clone(),
            )
        })
        .collect();
    assert_eq!(
        categories,
        vec![
            (Value::Null, json!(1), json!(1.0), json!(0)),
            (json!("littering_dumping"), json!(1), json!(3.0), json!(1)),
            (json!("posting_graffiti"), json!(1), json!(2.5), json!(1)),
        ]
    );
    assert_eq!(summary["progress"]["cases_filed"], 2);
    assert_eq!(summary["progress"]["open"], 2);
    assert_eq!(summary["progress"]["overdue"], 0);

    // One case overdue and one closed on time.
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};
    let now = chrono::Utc::now();
    let mut a = entity::cases::Entity::find_by_id(a_case.parse::<entity::ids::CaseId>().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    a.deadline_at = Set(Some(now - chrono::Duration::hours(1)));
    a.update(&app.db).await.unwrap();
    let mut b = entity::cases::Entity::find_by_id(b_case.parse::<entity::ids::CaseId>().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
    b.status = Set(xuncha::domain::CaseStatus::Closed);
    b.closed_at = Set(Some(now));
    b.update(&app.db).await.unwrap();
    let summary = get_ok(
        &app,
        &format!("/api/v1/campaigns/{id}/summary"),
        &city.supervisor.access_token,
    )
    .await;
    let progress = &summary["progress"];
    assert_eq!(
        (
            progress["open"].clone(),
            progress["closed"].clone(),
            progress["closed_on_time"].clone(),
            progress["overdue"].clone()
        ),
        (json!(1), json!(1), json!(1), json!(1))
    );
    assert_eq!(progress["closure_rate"], 50.0);

    // A later round, compared: X at 100 now against 90 then; Y not visited this time.
    let later = create_campaign(&app, &city, "unannounced", 2).await;
    let later_id = later["id"].as_str().unwrap();
    for site in ["X1", "X2"] {
        post(
            &app,
            &format!("/api/v1/campaigns/{later_id}/visits"),
            token,
            &visit_body(&city, site, [10.0, 5.0, 5.0]),
        )
        .await;
    }
    let compared = get_ok(
        &app,
        &format!("/api/v1/campaigns/{later_id}/summary?compare_to={id}"),
        &city.supervisor.access_token,
    )
    .await;
    let comparison = &compared["comparison"];
    assert_eq!(comparison["mean_score_rate_then"], 89.17);
    assert_eq!(comparison["mean_score_rate_now"], 100.0);
    assert_eq!(comparison["change"], 10.83);
    assert_eq!(
        (
            comparison["problems_then"].clone(),
            comparison["problems_now"].clone()
        ),
        (json!(3), json!(0))
    );
    let x = comparison["areas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "东区")
        .unwrap();
    assert_eq!(
        (x["then"].clone(), x["now"].clone(), x["change"].clone()),
        (json!(90.0), json!(100.0), json!(10.0))
    );
    let y = comparison["areas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "西区")
        .unwrap();
    assert_eq!(
        (y["then"].clone(), y["now"].clone()),
        (json!(87.5), Value::Null)
    );

    // Closed: no more visits.
    post(
        &app,
        &format!("/api/v1/campaigns/{id}/close"),
        &city.supervisor.access_token,
        &json!({}),
    )
    .await;
    assert_error(
        app.post_json(
            &visits_path,
            Some(token),
            &visit_body(&city, "Y2", [1.0, 1.0, 1.0]),
        )
        .await,
        409,
        "conflict",
    )
    .await;
}

fn cell_text(cell: &calamine::Data) -> String {
    match cell {
        calamine::Data::Empty => String::new(),
        calamine::Data::Float(f) => f.to_string(),
        other => other.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bulletin_exports_read_back_cell_by_cell() {
    use calamine::{Reader, Xlsx};
    let app = spawn_app().await;
    let city = city(&app).await;
    let created = create_campaign(&app, &city, "unannounced", 2).await;
    let id = created["id"].as_str().unwrap();
    let visits_path = format!("/api/v1/campaigns/{id}/visits");
    let token = city.inspector.access_token.as_str();
    post(
        &app,
        &visits_path,
        token,
        &visit_body(&city, "X1", [10.0, 5.0, 5.0]),
    )
    .await;
    let x2 = post(
        &app,
        &visits_path,
        token,
        &visit_body(&city, "X2", [7.0, 5.0, 4.0]),
    )
    .await;
    post(
        &app,
        &visits_path,
        token,
        &visit_body(&city, "Y1", [10.0, 2.5, 5.0]),
    )
    .await;
    let a_case = get_ok(
        &app,
        &format!(
            "/api/v1/reports/{}",
            x2["scores"][0]["case_id"].as_str().unwrap()
        ),
        token,
    )
    .await;

    let response = app
        .get(
            &format!("/api/v1/campaigns/{id}/export.xlsx"),
            Some(&city.supervisor.access_token),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let bytes = response.bytes().await.unwrap();
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    assert_eq!(book.sheet_names(), vec!["排名通报", "点位得分", "案件清单"]);
    let sheet = |book: &mut Xlsx<_>, name: &str| -> Vec<Vec<String>> {
        book.worksheet_range(name)
            .unwrap()
            .rows()
            .map(|r| r.iter().map(cell_text).collect())
            .collect()
    };
    let bulletin = sheet(&mut book, "排名通报");
    assert_eq!(bulletin[0][0], "2026年第四季度明察暗访 明察暗访结果通报");
    assert_eq!(
        bulletin[1][0],
        "抽查点位 4 个，已检查 3 个，平均得分率 89.17%，发现问题 3 个，立案 2 件，已办结 0 件，超期 0 件。"
    );
    assert_eq!(bulletin[3][0], "区域排名");
    assert_eq!(
        bulletin[4][..6],
        [
            "排名",
            "区域",
            "抽查点位数",
            "已检查点位数",
            "平均得分率(%)",
            "问题数"
        ]
    );
    assert_eq!(bulletin[5][..6], ["1", "东区", "2", "2", "90", "2"]);
    assert_eq!(bulletin[6][..6], ["2", "西区", "2", "1", "87.5", "1"]);
    assert_eq!(bulletin[8][0], "责任单位排名");
    assert_eq!(bulletin[9][1], "责任单位");
    assert_eq!(bulletin[10][..6], ["1", "城管局", "2", "2", "90", "2"]);
    assert_eq!(bulletin[13][0], "问题分类统计");
    assert_eq!(bulletin[14][..4], ["问题类别", "问题数", "扣分", "立案数"]);
    assert_eq!(bulletin[15][..4], ["其他", "1", "1", "0"]);
    assert_eq!(bulletin[16][..4], ["乱扔乱倒", "1", "3", "1"]);
    assert_eq!(bulletin[17][..4], ["乱贴乱画", "1", "2.5", "1"]);

    let sites = sheet(&mut book, "点位得分");
    assert_eq!(
        sites[0],
        [
            "排名",
            "点位编码",
            "点位名称",
            "点位类型",
            "抽查区域",
            "所在区域",
            "责任单位",
            "是否检查",
            "得分",
            "满分",
            "得分率(%)",
            "问题数",
            "立案数"
        ]
    );
    assert_eq!(
        sites[1],
        [
            "1",
            "X1",
            "X1 农贸市场",
            "农贸市场",
            "东区",
            "东区一网格",
            "城管局",
            "是",
            "20",
            "20",
            "100",
            "0",
            "0"
        ]
    );
    assert_eq!(
        sites[2],
        [
            "2",
            "Y1",
            "Y1 农贸市场",
            "农贸市场",
            "西区",
            "西区",
            "城管局",
            "是",
            "17.5",
            "20",
            "87.5",
            "1",
            "1"
        ]
    );
    assert_eq!(
        sites[3],
        [
            "3",
            "X2",
            "X2 农贸市场",
            "农贸市场",
            "东区",
            "东区",
            "城管局",
            "是",
            "16",
            "20",
            "80",
            "2",
            "1"
        ]
    );
    assert_eq!(
        sites[4],
        [
            "",
            "Y2",
            "Y2 农贸市场",
            "农贸市场",
            "西区",
            "西区",
            "城管局",
            "否",
            "",
            "",
            "",
            "0",
            "0"
        ]
    );

    let cases = sheet(&mut book, "案件清单");
    assert_eq!(
        cases[0],
        [
            "案件编号",
            "问题类别",
            "点位编码",
            "点位名称",
            "问题描述",
            "地址",
            "责任单位",
            "状态",
            "立案时间",
            "办理期限",
            "办结时间",
            "是否超期"
        ]
    );
    assert_eq!(cases.len(), 3);
    let row = cases
        .iter()
        .find(|r| r[0] == a_case["case_no"].as_str().unwrap())
        .unwrap();
    assert_eq!(row[1..4], ["乱扔乱倒", "X2", "X2 农贸市场"]);
    assert_eq!(row[4], a_case["description"].as_str().unwrap());
    assert_eq!(row[5..8], ["X2 路 1 号", "城管局", "已派遣"]);
    let filed =
        chrono::DateTime::parse_from_rfc3339(a_case["created_at"].as_str().unwrap()).unwrap();
    assert_eq!(
        row[8],
        filed
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    );
    assert_eq!((row[10].as_str(), row[11].as_str()), ("", "否"));

    // CSV: a BOM, Chinese headers, the same figures.
    let response = app
        .get(
            &format!("/api/v1/campaigns/{id}/export.csv?table=areas"),
            Some(&city.supervisor.access_token),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "排名",
            "区域",
            "抽查点位数",
            "已检查点位数",
            "平均得分率(%)",
            "问题数"
        ]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(
        rows,
        vec![
            vec!["1", "东区", "2", "2", "90", "2"],
            vec!["2", "西区", "2", "1", "87.5", "1"]
        ]
    );
    let response = app
        .get(
            &format!("/api/v1/campaigns/{id}/export.csv?table=cases"),
            Some(&city.supervisor.access_token),
        )
        .await;
    let bytes = response.bytes().await.unwrap();
    assert_eq!(csv::Reader::from_reader(&bytes[3..]).records().count(), 2);
    assert_error(
        app.get(
            &format!("/api/v1/campaigns/{id}/export.csv?table=nope"),
            Some(&city.supervisor.access_token),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        app.get(&format!("/api/v1/campaigns/{id}/export.xlsx"), Some(token))
            .await
            .status(),
        403,
        "bulletins are the office's"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sites_are_kept_and_imported_all_or_nothing() {
    let app = spawn_app().await;
    let city = city(&app).await;
    let token = city.supervisor.access_token.as_str();
    assert_error(
        app.post_json(
            "/api/v1/sites",
            Some(token),
            &json!({"code": "X1", "name": "重复", "site_type": "market",
        "area_id": city.x, "location": {"lat": 30.03, "lon": 120.02}}),
        )
        .await,
        409,
        "conflict",
    )
    .await;
    let body = assert_error(
        app.post_json(
            "/api/v1/sites",
            Some(token),
            &json!({"code": "", "name": "坏", "site_type": "mall",
        "area_id": city.x, "location": {"lat": 95.0, "lon": 120.02}}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    for field in ["code", "site_type", "location"] {
        assert!(
            body["error"]["fields"][field].is_string(),
            "{field}: {body}"
        );
    }
    assert_error(
        app.post_json(
            "/api/v1/sites",
            Some(token),
            &json!({"code": "Z", "name": "无区域", "site_type": "market",
        "area_id": Uuid::now_v7(), "location": {"lat": 30.0, "lon": 120.0}}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;

    // The area filter takes the areas below: X holds X1 (in its grid), X2 and XS.
    let in_x = get_ok(&app, &format!("/api/v1/sites?area_id={}", city.x), token).await;
    assert_eq!(in_x["items"].as_array().unwrap().len(), 3);
    let markets = get_ok(
        &app,
        &format!("/api/v1/sites?area_id={}&site_type=market", city.x),
        token,
    )
    .await;
    assert_eq!(markets["items"].as_array().unwrap().len(), 2);
    let page = get_ok(&app, "/api/v1/sites?limit=2", token).await;
    let rest = get_ok(
        &app,
        &format!(
            "/api/v1/sites?limit=10&cursor={}",
            page["next_cursor"].as_str().unwrap()
        ),
        token,
    )
    .await;
    assert_eq!(
        page["items"].as_array().unwrap().len() + rest["items"].as_array().unwrap().len(),
        5
    );

    let csv = "编码,名称,类型,区域编码,纬度,经度,坐标系,地址\nXS,东区实验小学,学校,X,30.03,120.08,wgs84,学院路 2 号\nT1,东区公厕,public_toilet,X-G1,30.01,120.01,,\n";
    let import = |body: &'static str, dry: bool| {
        app.client
            .post(app.url(&format!("/api/v1/sites/import?dry_run={dry}")))
            .bearer_auth(token)
            .header("content-type", "text/csv")
            .body(body)
            .send()
    };
    let dry: Value = import(csv, true).await.unwrap().json().await.unwrap();
    assert_eq!(
        (dry["created"].clone(), dry["updated"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(
        get_ok(&app, "/api/v1/sites?limit=200", token).await["items"]
            .as_array()
            .unwrap()
            .len(),
        5,
        "a dry run writes nothing"
    );
    let done: Value = import(csv, false).await.unwrap().json().await.unwrap();
    assert_eq!(done["created"], 1);
    let school = get_ok(&app, &format!("/api/v1/sites/{}", city.site("XS")), token).await;
    assert_eq!(
        (school["name"].as_str(), school["address"].as_str()),
        (Some("东区实验小学"), Some("学院路 2 号"))
    );
    let bad = "code,name,site_type,area_code,lat,lon\nB1,好,market,X,30.0,120.0\nB2,,mall,NOPE,abc,120\nB1,重复,market,X,30,120\n";
    let response = import(bad, false).await.unwrap();
    let body = assert_error(response, 422, "invalid_import").await;
    let problems: Vec<(u64, &str)> = body["error"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["row"].as_u64().unwrap(), p["field"].as_str().unwrap()))
        .collect();
    for expected in [
        (3, "name"),
        (3, "site_type"),
        (3, "area_code"),
        (3, "lat"),
        (4, "code"),
    ] {
        assert!(problems.contains(&expected), "{expected:?} in {problems:?}");
    }
    assert_eq!(
        get_ok(&app, "/api/v1/sites?limit=200", token).await["items"]
            .as_array()
            .unwrap()
            .len(),
        6,
        "nothing from the bad file"
    );

    // A drawn site is evidence: it can be deactivated, not deleted.
    create_campaign(&app, &city, "unannounced", 1).await;
    let drawn_or_not = [city.site("X1"), city.site("X2")];
    let mut refused = 0;
    for site in drawn_or_not {
        let response = app
            .client
            .delete(app.url(&format!("/api/v1/sites/{site}")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        if response.status() == 409 {
            refused += 1;
        } else {
            assert_eq!(response.status(), 204);
        }
    }
    assert_eq!(refused, 1, "exactly one of X's two markets was drawn");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_checklist_in_use_is_frozen() {
    let app = spawn_app().await;
    let city = city(&app).await;
    let token = city.supervisor.access_token.as_str();
    let id = city.checklist["id"].as_str().unwrap();
    assert_eq!(city.checklist["total_points"], 20.0);
    let body = assert_error(
        app.post_json(
            "/api/v1/checklists",
            Some(token),
            &json!({"name": "坏", "items": [
        {"title": "a", "max_points": 0.3}, {"title": "", "max_points": 5}]}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(
        body["error"]["fields"]["items[0].max_points"].is_string()
            && body["error"]["fields"]["items[1].title"].is_string()
    );
    assert_error(
        app.post_json(
            "/api/v1/checklists",
            Some(token),
            &json!({"name": "坏", "items": [
        {"title": "a", "max_points": 5, "category": "no_such"}]}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_error(
        app.post_json(
            "/api/v1/checklists",
            Some(token),
            &json!({"name": "空", "items": []}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let replace = |body: Value| {
        app.client
            .put(app.url(&format!("/api/v1/checklists/{id}")))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let edited = replace(
        json!({"name": "农贸市场考核表（修订）", "items": [{"title": "整洁", "max_points": 100}]}),
    )
    .await
    .unwrap();
    assert_eq!(edited.status(), 200);
    assert_eq!(edited.json::<Value>().await.unwrap()["total_points"], 100.0);
    let listed = get_ok(&app, "/api/v1/checklists", &city.inspector.access_token).await;
    assert_eq!(
        listed["items"][0]["items"].as_array().unwrap().len(),
        1,
        "inspectors read checklists"
    );
    post(
        &app,
        "/api/v1/campaigns",
        token,
        &json!({"name": "r", "starts_on": "2026-11-01", "ends_on": "2026-11-30",
        "checklist_id": id, "plan": {"area_ids": [city.x], "quotas": [{"site_type": "market", "count": 1}]}}),
    )
    .await;
    assert_error(
        replace(json!({"name": "x", "items": [{"title": "y", "max_points": 1}]}))
            .await
            .unwrap(),
        409,
        "conflict",
    )
    .await;
    let deleted = app
        .client
        .delete(app.url(&format!("/api/v1/checklists/{id}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_error(deleted, 409, "conflict").await;
    assert_eq!(
        app.post_json(
            "/api/v1/checklists",
            Some(&city.inspector.access_token),
            &json!({"name": "n", "items": [{"title": "t", "max_points": 1}]})
        )
        .await
        .status(),
        403
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_campaign_plan_is_refused_field_by_field() {
    let app = spawn_app().await;
    let city = city(&app).await;
    let token = city.supervisor.access_token.as_str();
    let grid = get_ok(&app, "/api/v1/areas", token).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == "X-G1")
        .unwrap()["id"]
        .clone();
    let body = assert_error(
        app.post_json(
            "/api/v1/campaigns",
            Some(token),
            &json!({
        "name": "", "mode": "surprise", "starts_on": "2026-11-30", "ends_on": "2026-11-01",
        "checklist_id": Uuid::now_v7(), "plan": {"area_ids": [city.x, grid],
        "quotas": [{"site_type": "market", "count": 0}, {"site_type": "mall", "count": 1}]},
        "inspector_ids": [city.supervisor.user_id]}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    for field in [
        "name",
        "mode",
        "ends_on",
        "plan.quotas[0].count",
        "plan.quotas[1].site_type",
    ] {
        assert!(
            body["error"]["fields"][field].is_string(),
            "{field}: {body}"
        );
    }
    let body = assert_error(
        app.post_json(
            "/api/v1/campaigns",
            Some(token),
            &json!({
        "name": "n", "starts_on": "2026-11-01", "ends_on": "2026-11-30",
        "checklist_id": Uuid::now_v7(), "plan": {"area_ids": [city.x, grid, Uuid::now_v7()],
        "quotas": [{"site_type": "market", "count": 1}]},
        "inspector_ids": [city.supervisor.user_id]}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    for field in [
        "checklist_id",
        "plan.area_ids[1]",
        "plan.area_ids[2]",
        "inspector_ids",
    ] {
        assert!(
            body["error"]["fields"][field].is_string(),
            "{field}: {body}"
        );
    }
    let valid = json!({"name": "n", "starts_on": "2026-11-01", "ends_on": "2026-11-30",
        "checklist_id": city.checklist["id"], "plan": {"area_ids": [city.x], "quotas": [{"site_type": "market", "count": 1}]}});
    assert_eq!(
        app.post_json(
            "/api/v1/campaigns",
            Some(&city.inspector.access_token),
            &valid
        )
        .await
        .status(),
        403
    );
}

/// A supervisor bound to 东区 runs rounds inside it: a plan reaching into 西区 is refused
/// on that area, and rounds of the whole city are not theirs to see.
#[tokio::test(flavor = "multi_thread")]
async fn a_supervisor_bound_to_a_district_runs_rounds_inside_it() {
    let app = spawn_app().await;
    let city = city(&app).await;
    let bound = app.login_bound("supervisor", &[&city.x]).await;
    let plan = |areas: Value| {
        json!({"name": "东区自查", "mode": "announced", "starts_on": "2026-11-01",
            "ends_on": "2026-11-30", "checklist_id": city.checklist["id"],
            "plan": {"area_ids": areas, "quotas": [{"site_type": "market", "count": 1}]},
            "inspector_ids": [city.inspector.user_id]})
    };
    let body = assert_error(
        app.post_json(
            "/api/v1/campaigns",
            Some(&bound.access_token),
            &plan(json!([city.x, city.y])),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(
        body["error"]["fields"]["plan.area_ids[1]"].is_string(),
        "{body}"
    );
    assert!(
        body["error"]["fields"]["plan.area_ids[0]"].is_null(),
        "{body}"
    );
    let own = post(
        &app,
        "/api/v1/campaigns",
        &bound.access_token,
        &plan(json!([city.x])),
    )
    .await;
    let citywide = create_campaign(&app, &city, "announced", 1).await;

    let listed = get_ok(&app, "/api/v1/campaigns", &bound.access_token).await;
    let ids: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![own["id"].as_str().unwrap()]);
    for (path, expected) in [
        (
            format!("/api/v1/campaigns/{}", citywide["id"].as_str().unwrap()),
            404,
        ),
        (
            format!(
                "/api/v1/campaigns/{}/summary",
                citywide["id"].as_str().unwrap()
            ),
            404,
        ),
        (
            format!("/api/v1/campaigns/{}", own["id"].as_str().unwrap()),
            200,
        ),
    ] {
        let status = app.get(&path, Some(&bound.access_token)).await.status();
        assert_eq!(status, expected, "{path}");
    }
    // The city's supervisor sees both.
    let listed = get_ok(&app, "/api/v1/campaigns", &city.supervisor.access_token).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_campaign_answers_the_plan_it_was_sent() {
    let app = spawn_app().await;
    let city = city(&app).await;
    let campaign = create_campaign(&app, &city, "announced", 1).await;
    assert_eq!(
        campaign["plan"],
        json!({"area_ids": [city.x, city.y], "quotas": [{"site_type": "market", "count": 1}]}),
        "the answer's plan is the request's plan"
    );
    let read = get_ok(
        &app,
        &format!("/api/v1/campaigns/{}", campaign["id"].as_str().unwrap()),
        &city.supervisor.access_token,
    )
    .await;
    assert_eq!(read["plan"], campaign["plan"]);
}
