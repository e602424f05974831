//! The territory view (属地) on a phone: a sub-district office finds, under its own queue,
//! a case on its territory that another department was given, and chases it (催办).

use serde_json::{Value, json};

use super::Browser;
use crate::helpers::{PASSWORD, spawn_app, square};

#[tokio::test(flavor = "multi_thread")]
async fn a_sub_district_office_chases_a_case_on_its_territory_from_its_phone() {
    let app = spawn_app().await;
    let admin = app.admin().await.access_token;
    let mut departments = Vec::new();
    for (code, name, kind) in [
        ("HB-OFFICE", "湖滨街道办事处", "subdistrict_office"),
        ("SC-TRAFFIC", "上城交警中队", "traffic_police"),
    ] {
        let made = app
            .post_json(
                "/api/v1/departments",
                Some(&admin),
                &json!({"code": code, "name": name, "kind": kind}),
            )
            .await;
        let made: Value = made.json().await.unwrap();
        departments.push(made["id"].as_str().unwrap().to_owned());
    }
    let (office, traffic) = (&departments[0], &departments[1]);
    app.create_area(
        json!({"code": "SC-HB", "name": "湖滨街道", "level": "subdistrict",
        "local_authority_id": office, "boundary": square(120.16, 30.25, 0.01)}),
    )
    .await;
    let user = app
        .post_json(
            "/api/v1/users",
            Some(&admin),
            &json!({"username": "hubin.office", "password": PASSWORD, "display_name": "湖滨街道",
                "role": "department", "department_id": office}),
        )
        .await;
    assert_eq!(user.status(), 201);
    let inspector = app.login_as("inspector").await.access_token;
    let case = app.file_report(&inspector, json!({})).await;
    let id = case["id"].as_str().unwrap().to_owned();
    app.force_case(&id, "assigned", Some(traffic.parse().unwrap()), None)
        .await;

    let Some(browser) = Browser::start(360, 780).await else {
        return;
    };
    browser.open(&app.url("/")).await;
    browser.sign_in("hubin.office", PASSWORD).await;
    let territory = "section[aria-labelledby=territory]";
    browser
        .wait_for_text(territory, case["case_no"].as_str().unwrap())
        .await;
    browser
        .tap(&format!("{territory} a[href='#/case/{id}']"))
        .await;
    browser.tap("button[data-action=chase]").await;
    assert_eq!(
        browser
            .run("return document.querySelector('form[data-action=chase] textarea').required")
            .await,
        json!(true),
        "a chase says what is wanted"
    );
    browser
        .type_into(
            "form[data-action=chase] textarea[name=note]",
            "请今日内清理",
        )
        .await;
    browser
        .tap("form[data-action=chase] button[type=submit]")
        .await;
    browser.wait_for_text(".case-history", "催办").await;
    browser.wait_for_text(".case-history", "请今日内清理").await;
    let events: Value = app
        .get(&format!("/api/v1/reports/{id}/events"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let last = events["items"].as_array().unwrap().last().unwrap();
    assert_eq!(last["action"], "chase");
    assert_eq!(last["note"], "请今日内清理");
}
