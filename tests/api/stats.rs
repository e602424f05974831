//! `/api/v1/stats`: filed, closed, on-time closure rate (按期结案率), rework rate (返工率)
//! and mean time to close, on cases whose times are set by hand.

use chrono::{NaiveDate, TimeZone};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{assert_error, spawn_app};

/// A time on a day in October 2026, city time (Asia/Shanghai), in UTC.
fn at(day: u32, hour: u32) -> chrono::DateTime<chrono::Utc> {
    chrono_tz::Asia::Shanghai
        .from_local_datetime(
            &NaiveDate::from_ymd_opt(2026, 10, day)
                .unwrap()
                .and_hms_opt(hour, 0, 0)
                .unwrap(),
        )
        .unwrap()
        .with_timezone(&chrono::Utc)
}

struct Setting {
    status: &'static str,
    created: (u32, u32),
    deadline: (u32, u32),
    closed: Option<(u32, u32)>,
    rework: i32,
    suspended: bool,
}

#[tokio::test(flavor = "multi_thread")]
async fn the_period_figures_match_a_hand_count() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let department = app.create_department().await;
    let area: Value = app
        .post_json("/api/v1/areas", Some(&admin.access_token), &json!({"code": "D1", "name": "上城区", "level": "district",
            "local_authority_id": department,
            "boundary": {"type": "Polygon", "coordinates": [[[120.1, 30.2], [120.2, 30.2], [120.2, 30.3], [120.1, 30.3], [120.1, 30.2]]]}}))
        .await
        .json()
        .await
        .unwrap();
    let inspector = app.login_as("inspector").await;
    let supervisor = app.login_as("supervisor").await;
    // c1 closed on time (9 h), c2 closed late after a rework (51 h), c3 suspended, c4
    // overdue, c5 cancelled, c6 outside the period.
    let settings = [
        (
            "parking",
            Setting {
                status: "closed",
                created: (5, 9),
                deadline: (6, 9),
                closed: Some((5, 18)),
                rework: 0,
                suspended: false,
            },
        ),
        (
            "littering_dumping",
            Setting {
                status: "closed",
                created: (5, 9),
                deadline: (6, 10),
                closed: Some((7, 12)),
                rework: 1,
                suspended: false,
            },
        ),
        (
            "parking",
            Setting {
                status: "in_progress",
                created: (5, 9),
                deadline: (7, 9),
                closed: None,
                rework: 0,
                suspended: true,
            },
        ),
        (
            "parking",
            Setting {
                status: "assigned",
                created: (5, 9),
                deadline: (7, 9),
                closed: None,
                rework: 0,
                suspended: false,
            },
        ),
        (
            "parking",
            Setting {
                status: "cancelled",
                created: (5, 9),
                deadline: (7, 9),
                closed: None,
                rework: 0,
                suspended: false,
            },
        ),
        (
            "parking",
            Setting {
                status: "assigned",
                created: (8, 9),
                deadline: (9, 9),
                closed: None,
                rework: 0,
                suspended: false,
            },
        ),
    ];
    for (category, s) in settings {
        let case = app
            .file_report(&inspector.access_token, json!({"category": category}))
            .await;
        assert_eq!(case["assignee"]["id"], department.to_string());
        let mut row = entity::cases::Entity::find_by_id(
            case["id"]
                .as_str()
                .unwrap()
                .parse::<entity::ids::CaseId>()
                .unwrap(),
        )
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .into_active_model();
        row.status = Set(xuncha::domain::CaseStatus::parse(s.status).unwrap());
        row.created_at = Set(at(s.created.0, s.created.1));
        row.deadline_at = Set(Some(at(s.deadline.0, s.deadline.1)));
        row.closed_at = Set(s.closed.map(|(d, h)| at(d, h)));
        row.rework_count = Set(s.rework);
        row.suspended_at = Set(s.suspended.then(|| at(6, 12)));
        row.update(&app.db).await.unwrap();
    }
    let stats = |query: String| {
        let app = &app;
        let token = supervisor.access_token.clone();
        async move {
            let response = app
                .get(&format!("/api/v1/stats?{query}"), Some(&token))
                .await;
            assert_eq!(response.status(), 200, "{query}");
            response.json::<Value>().await.unwrap()
        }
    };

    let body = stats("from=2026-10-05&to=2026-10-07".into()).await;
    let total = &body["total"];
    let figures = |t: &Value| {
        [
            "filed",
            "closed",
            "due",
            "suspended",
            "closed_on_time",
            "on_time_rate",
            "reworked",
            "rework_rate",
            "mean_hours_to_close",
        ]
        .map(|k| t[k].clone())
    };
    // Due 4 (c5 cancelled), 1 suspended, 1 on time: 1 ÷ (4 − 1). Closed 2, 1 reworked.
    assert_eq!(
        figures(total),
        [
            json!(5),
            json!(2),
            json!(4),
            json!(1),
            json!(1),
            json!(33.33),
            json!(1),
            json!(50.0),
            json!(30.0)
        ]
    );
    let groups = body["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["key"], area["id"]);
    assert_eq!(groups[0]["name"], "上城区");

    let body = stats("from=2026-10-05&to=2026-10-07&group_by=category".into()).await;
    let by_code = |code: &str| {
        body["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["key"] == code)
            .unwrap()
            .clone()
    };
    assert_eq!(
        figures(&by_code("parking")),
        [
            json!(4),
            json!(1),
            json!(3),
            json!(1),
            json!(1),
            json!(50.0),
            json!(0),
            json!(0.0),
            json!(9.0)
        ]
    );
    assert_eq!(by_code("parking")["name"], "乱停乱放");
    assert_eq!(
        figures(&by_code("littering_dumping")),
        [
            json!(1),
            json!(1),
            json!(1),
            json!(0),
            json!(0),
            json!(0.0),
            json!(1),
            json!(100.0),
            json!(51.0)
        ]
    );

    // One day: c1 and c2 fall due; c1 closed (the day before) in time.
    let body = stats("from=2026-10-06&to=2026-10-06&group_by=department".into()).await;
    assert_eq!(
        figures(&body["total"]),
        [
            json!(0),
            json!(0),
            json!(2),
            json!(0),
            json!(1),
            json!(50.0),
            json!(0),
            Value::Null,
            Value::Null
        ]
    );
    assert_eq!(body["groups"][0]["key"], department.to_string());

    let body = stats(format!(
        "from=2026-10-01&to=2026-10-31&category=parking&department_id={department}&area_id={}",
        area["id"].as_str().unwrap()
    ))
    .await;
    assert_eq!(body["total"]["filed"], 5);
    let body = stats(format!(
        "from=2026-10-01&to=2026-10-31&department_id={}",
        Uuid::now_v7()
    ))
    .await;
    assert_eq!(body["total"]["filed"], 0);
    assert_eq!(body["groups"], json!([]));

    for bad in [
        "from=2026-10-07&to=2026-10-05",
        "from=2026-10-01&to=2026-10-31&group_by=month",
        "from=2020-01-01&to=2026-10-31",
        "from=2026-10-01&to=2026-10-31&area_level=city",
    ] {
        assert_error(
            app.get(
                &format!("/api/v1/stats?{bad}"),
                Some(&supervisor.access_token),
            )
            .await,
            422,
            "validation_failed",
        )
        .await;
    }
    assert_eq!(
        app.get(
            "/api/v1/stats?from=2026-10-01&to=2026-10-31",
            Some(&inspector.access_token)
        )
        .await
        .status(),
        403
    );
}
