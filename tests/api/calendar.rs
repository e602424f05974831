//! The working calendar and deadlines counted on it.

use chrono::{Duration, TimeZone};
use serde_json::{Value, json};

use crate::helpers::{assert_error, spawn_app};

#[tokio::test(flavor = "multi_thread")]
async fn deadlines_in_working_days_skip_the_holidays_admins_set() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let token = &admin.access_token;
    let city = chrono_tz::Asia::Shanghai;
    let today = chrono::Utc::now().with_timezone(&city).date_naive();
    // The next five days off, the sixth worked whatever its weekday (调休).
    for offset in 1..=5 {
        let day = today + Duration::days(offset);
        let response = app
            .client
            .put(app.url(&format!("/api/v1/calendar/{day}")))
            .bearer_auth(token)
            .json(&json!({"kind": "holiday", "name": "春节"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let make_up = today + Duration::days(6);
    let response = app
        .client
        .put(app.url(&format!("/api/v1/calendar/{make_up}")))
        .bearer_auth(token)
        .json(&json!({"kind": "workday", "name": "春节调休"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let listed: Value = app
        .get(
            &format!(
                "/api/v1/calendar?from={today}&to={}",
                today + Duration::days(10)
            ),
            Some(token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 6);

    let category = app
        .patch_json(
            "/api/v1/categories/illegal_building",
            token,
            &json!({"deadline_hours": 1, "deadline_unit": "working_days"}),
        )
        .await;
    assert_eq!(category.status(), 200);
    let inspector = app.login_as("inspector").await;
    let case = app
        .file_report(
            &inspector.access_token,
            json!({"category": "illegal_building"}),
        )
        .await;
    let expected = city
        .from_local_datetime(&make_up.and_hms_opt(17, 30, 0).unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    let deadline: chrono::DateTime<chrono::Utc> =
        case["deadline_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(deadline, expected);

    // Urgent cases get half the limit (24 h → 12 h for posting_graffiti).
    // The server keeps times to the millisecond.
    let before = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 3);
    let urgent = app
        .file_report(
            &inspector.access_token,
            json!({"category": "posting_graffiti", "severity": "urgent"}),
        )
        .await;
    let deadline: chrono::DateTime<chrono::Utc> =
        urgent["deadline_at"].as_str().unwrap().parse().unwrap();
    assert!(
        deadline >= before + Duration::hours(12)
            && deadline <= chrono::Utc::now() + Duration::hours(12)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn only_admins_keep_the_calendar_and_bad_input_is_refused() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let supervisor = app.login_as("supervisor").await;
    let put = |token: String, day: &str, body: Value| {
        let request = app
            .client
            .put(app.url(&format!("/api/v1/calendar/{day}")))
            .bearer_auth(token)
            .json(&body);
        async move { request.send().await.unwrap() }
    };
    assert_error(
        put(
            supervisor.access_token.clone(),
            "2026-10-01",
            json!({"kind": "holiday", "name": "国庆节"}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        put(
            admin.access_token.clone(),
            "2026-13-45",
            json!({"kind": "holiday", "name": "x"}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        put(
            admin.access_token.clone(),
            "2026-10-01",
            json!({"kind": "feast", "name": "x"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        put(
            admin.access_token.clone(),
            "2026-10-01",
            json!({"kind": "holiday", "name": "国庆节"})
        )
        .await
        .status(),
        200
    );
    let delete = app
        .client
        .delete(app.url("/api/v1/calendar/2026-10-01"))
        .bearer_auth(&admin.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), 204);
    let again = app
        .client
        .delete(app.url("/api/v1/calendar/2026-10-01"))
        .bearer_auth(&admin.access_token)
        .send()
        .await
        .unwrap();
    assert_error(again, 404, "not_found").await;
    assert_error(
        app.get(
            "/api/v1/calendar?from=2026-01-01&to=2030-01-01",
            Some(&admin.access_token),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
}
