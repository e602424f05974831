//! The closed loop: actions, who may take them from which status, versions, the history.

use entity::ids::DepartmentId;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Session, TestApp, assert_error, spawn_app};
use crate::images;

struct Loop {
    app: TestApp,
    inspector: Session,
    supervisor: Session,
    worker: Session,
    other_worker: Session,
    department: DepartmentId,
}

async fn setup() -> Loop {
    let app = spawn_app().await;
    let inspector = app.login_as("inspector").await;
    let supervisor = app.login_as("supervisor").await;
    let department = app.create_department().await;
    let other = app.create_department().await;
    let worker = app.login_scoped("department", Some(department), None).await;
    let other_worker = app.login_scoped("department", Some(other), None).await;
    Loop {
        app,
        inspector,
        supervisor,
        worker,
        other_worker,
        department,
    }
}

async fn act(
    app: &TestApp,
    token: &str,
    case: &Value,
    action: &str,
    extra: Value,
) -> reqwest::Response {
    let mut body = json!({"version": case["version"]});
    if let (Some(target), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        target.extend(extra.clone());
    }
    app.post_json(
        &format!("/api/v1/reports/{}/{action}", case["id"].as_str().unwrap()),
        Some(token),
        &body,
    )
    .await
}

async fn ok(response: reqwest::Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

async fn after_photo(l: &Loop, case: &Value) -> String {
    let response = l
        .app
        .upload_photos(
            &l.worker.access_token,
            case["id"].as_str().unwrap(),
            "after",
            vec![images::jpeg(320, 240, 77)],
        )
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    body["items"][0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_case_goes_round_the_loop_and_its_history_is_a_valid_chain() {
    let l = setup().await;
    let app = &l.app;
    let case = app.file_report(&l.inspector.access_token, json!({})).await;
    let case = ok(act(
        app,
        &l.supervisor.access_token,
        &case,
        "assign",
        json!({"department_id": l.department, "note": "城管处理"}),
    )
    .await)
    .await;
    assert_eq!(case["status"], "assigned");
    let case = ok(act(app, &l.worker.access_token, &case, "accept", json!({})).await).await;
    assert_eq!(case["status"], "in_progress");

    // Rectify needs an after photo.
    let body = assert_error(
        act(app, &l.worker.access_token, &case, "rectify", json!({})).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(body["error"]["fields"]["photo_ids"].is_string());
    let photo = after_photo(&l, &case).await;
    let case = ok(act(
        app,
        &l.worker.access_token,
        &case,
        "rectify",
        json!({"photo_ids": [photo]}),
    )
    .await)
    .await;
    assert_eq!(case["status"], "rectified");

    // The filer verifies with a verification photo; the case closes.
    let response = app
        .upload_photos(
            &l.inspector.access_token,
            case["id"].as_str().unwrap(),
            "verification",
            vec![images::jpeg(320, 240, 78)],
        )
        .await;
    let verification: Value = response.json().await.unwrap();
    let verification = verification["items"][0]["id"].as_str().unwrap().to_owned();
    let case = ok(act(
        app,
        &l.inspector.access_token,
        &case,
        "verify",
        json!({"photo_ids": [verification]}),
    )
    .await)
    .await;
    assert_eq!(case["status"], "closed");
    assert!(case["closed_at"].is_string());

    // Reopened as a recurrence (反弹).
    let case = ok(act(
        app,
        &l.supervisor.access_token,
        &case,
        "reopen",
        json!({"note": "问题反弹"}),
    )
    .await)
    .await;
    assert_eq!(
        (case["status"].as_str(), case["recurrence_count"].as_i64()),
        (Some("assigned"), Some(1))
    );

    let history: Value = app
        .get(
            &format!("/api/v1/reports/{}/events", case["id"].as_str().unwrap()),
            Some(&l.inspector.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec!["file", "assign", "accept", "rectify", "verify", "reopen"]
    );
    assert_eq!(history["chain_intact"], true);
    let rectify = &history["items"][3];
    assert_eq!(rectify["photo_ids"], json!([photo]));
    assert_eq!(rectify["actor_id"], json!(l.worker.user_id));
    assert_eq!(
        (
            rectify["from_status"].as_str(),
            rectify["to_status"].as_str()
        ),
        (Some("in_progress"), Some("rectified"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edited_event_breaks_the_chain() {
    let l = setup().await;
    let app = &l.app;
    let case = app.file_report(&l.inspector.access_token, json!({})).await;
    let case = ok(act(
        app,
        &l.supervisor.access_token,
        &case,
        "assign",
        json!({"department_id": l.department}),
    )
    .await)
    .await;
    ok(act(app, &l.worker.access_token, &case, "accept", json!({})).await).await;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    entity::case_events::Entity::update_many()
        .col_expr(
            entity::case_events::Column::Note,
            Expr::value("nothing to see here"),
        )
        .filter(
            entity::case_events::Column::CaseId.eq(case["id"]
                .as_str()
                .unwrap()
                .parse::<Uuid>()
                .unwrap()),
        )
        .filter(entity::case_events::Column::Seq.eq(2))
        .exec(&app.db)
        .await
        .unwrap();
    let history: Value = app
        .get(
            &format!("/api/v1/reports/{}/events", case["id"].as_str().unwrap()),
            Some(&l.supervisor.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history["chain_intact"], false);
    assert_eq!(history["broken_at_seq"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn rejecting_counts_rework_and_sends_the_case_back() {
    let l = setup().await;
    let app = &l.app;
    let case = app.file_report(&l.inspector.access_token, json!({})).await;
    let case = ok(act(
        app,
        &l.supervisor.access_token,
        &case,
        "assign",
        json!({"department_id": l.department}),
    )
    .await)
    .await;
    let case = ok(act(app, &l.worker.access_token, &case, "accept", json!({})).await).await;
    after_photo(&l, &case).await;
    let case = ok(act(app, &l.worker.access_token, &case, "rectify", json!({})).await).await;
    assert_error(
        act(app, &l.supervisor.access_token, &case, "reject", json!({})).await,
        422,
        "validation_failed",
    )
    .await;
    let case = ok(act(
        app,
        &l.supervisor.access_token,
        &case,
        "reject",
        json!({"note": "地面仍有垃圾"}),
    )
    .await)
    .await;
    assert_eq!(
        (case["status"].as_str(), case["rework_count"].as_i64()),
        (Some("assigned"), Some(1))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn actions_outside_the_life_cycle_or_the_role_are_refused() {
    let l = setup().await;
    let app = &l.app;
    let case = app.file_report(&l.inspector.access_token, json!({})).await;
    // Not from `reported`.
    for action in ["accept", "rectify", "verify", "reject", "reopen"] {
        let token = if matches!(action, "verify" | "reject" | "reopen") {
            &l.supervisor.access_token
        } else {
            &l.worker.access_token
        };
        let response = act(app, token, &case, action, json!({"note": "x"})).await;
        let status = response.status().as_u16();
        assert!(matches!(status, 404 | 409), "{action}: {status}");
    }
    assert_error(
        act(app, &l.supervisor.access_token, &case, "verify", json!({})).await,
        409,
        "invalid_transition",
    )
    .await;
    // Wrong roles.
    assert_error(
        act(
            app,
            &l.inspector.access_token,
            &case,
            "assign",
            json!({"department_id": l.department}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        act(
            app,
            &l.inspector.access_token,
            &case,
            "cancel",
            json!({"note": "x"}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let case = ok(act(
        app,
        &l.supervisor.access_token,
        &case,
        "assign",
        json!({"department_id": l.department}),
    )
    .await)
    .await;
    // Another department cannot even see it.
    assert_error(
        act(
            app,
            &l.other_worker.access_token,
            &case,
            "accept",
            json!({}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        act(app, &l.supervisor.access_token, &case, "accept", json!({})).await,
        403,
        "forbidden",
    )
    .await;
    // Unknown actions are unknown routes.
    assert_error(
        act(
            app,
            &l.supervisor.access_token,
            &case,
            "teleport",
            json!({}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    // Dispute and reassignment.
    let case = ok(act(
        app,
        &l.worker.access_token,
        &case,
        "dispute",
        json!({"note": "不属于本部门"}),
    )
    .await)
    .await;
    assert_eq!(case["status"], "disputed");
    let other = app.create_department().await;
    let case = ok(act(
        app,
        &l.supervisor.access_token,
        &case,
        "assign",
        json!({"department_id": other}),
    )
    .await)
    .await;
    assert_eq!(case["assignee"]["id"], json!(other));
    let case = ok(act(
        app,
        &l.supervisor.access_token,
        &case,
        "cancel",
        json!({"note": "误报"}),
    )
    .await)
    .await;
    assert_eq!(case["status"], "cancelled");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_version_is_refused_and_if_match_works() {
    let l = setup().await;
    let app = &l.app;
    let case = app.file_report(&l.inspector.access_token, json!({})).await;
    let assigned = ok(act(
        app,
        &l.supervisor.access_token,
        &case,
        "assign",
        json!({"department_id": l.department}),
    )
    .await)
    .await;
    // The old version again: someone else changed the case meanwhile.
    assert_error(
        act(
            app,
            &l.supervisor.access_token,
            &case,
            "assign",
            json!({"department_id": l.department}),
        )
        .await,
        409,
        "version_conflict",
    )
    .await;
    let path = format!("/api/v1/reports/{}/accept", case["id"].as_str().unwrap());
    let response = app
        .client
        .post(app.url(&path))
        .bearer_auth(&l.worker.access_token)
        .header("if-match", format!("\"{}\"", assigned["version"]))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let missing = app
        .client
        .post(app.url(&path))
        .bearer_auth(&l.worker.access_token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(missing, 422, "validation_failed").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_actions_on_one_version_let_one_win() {
    let l = setup().await;
    let app = &l.app;
    let case = app.file_report(&l.inspector.access_token, json!({})).await;
    let case = ok(act(
        app,
        &l.supervisor.access_token,
        &case,
        "assign",
        json!({"department_id": l.department}),
    )
    .await)
    .await;
    let (a, b) = tokio::join!(
        act(app, &l.worker.access_token, &case, "accept", json!({})),
        act(
            app,
            &l.worker.access_token,
            &case,
            "dispute",
            json!({"note": "x"})
        )
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    let history: Value = app
        .get(
            &format!("/api/v1/reports/{}/events", case["id"].as_str().unwrap()),
            Some(&l.supervisor.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        history["items"].as_array().unwrap().len(),
        3,
        "file, assign and exactly one more"
    );
    assert_eq!(history["chain_intact"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_supervisor_closes_a_duplicate_pointing_to_the_original() {
    let l = setup().await;
    let app = &l.app;
    let original = app.file_report(&l.inspector.access_token, json!({})).await;
    let copy = app.file_report(&l.inspector.access_token, json!({})).await;
    let closed = ok(act(
        app,
        &l.supervisor.access_token,
        &copy,
        "duplicate",
        json!({"duplicate_of": original["id"], "note": "同一问题"}),
    )
    .await)
    .await;
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["duplicate_of"], original["id"]);
    // The filer sees it.
    let seen: Value = app
        .get(
            &format!("/api/v1/reports/{}", copy["id"].as_str().unwrap()),
            Some(&l.inspector.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["duplicate_of"], original["id"]);
    let last = seen["events"].as_array().unwrap().last().unwrap().clone();
    assert!(
        last["note"]
            .as_str()
            .unwrap()
            .contains(original["case_no"].as_str().unwrap())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn each_role_has_its_own_queue_with_counts() {
    let l = setup().await;
    let app = &l.app;
    let triage = app
        .file_report(
            &l.inspector.access_token,
            json!({"category": "littering_dumping"}),
        )
        .await;
    let urgent = app
        .file_report(&l.inspector.access_token, json!({"category": "parking"}))
        .await; // 4 h deadline
    let later = app
        .file_report(
            &l.inspector.access_token,
            json!({"category": "illegal_building"}),
        )
        .await; // 168 h
    let later = ok(act(
        app,
        &l.supervisor.access_token,
        &later,
        "assign",
        json!({"department_id": l.department}),
    )
    .await)
    .await;
    let urgent = ok(act(
        app,
        &l.supervisor.access_token,
        &urgent,
        "assign",
        json!({"department_id": l.department}),
    )
    .await)
    .await;

    let queue: Value = app
        .get("/api/v1/queue", Some(&l.worker.access_token))
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![
            urgent["id"].as_str().unwrap(),
            later["id"].as_str().unwrap()
        ],
        "soonest deadline first"
    );
    assert_eq!(
        queue["counts"],
        json!({"to_accept": 2, "in_progress": 0, "overdue": 0})
    );
    let first: Value = app
        .get("/api/v1/queue?limit=1", Some(&l.worker.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["items"].as_array().unwrap().len(), 1);
    assert_eq!(first["items"][0]["id"], urgent["id"], "the soonest of them");
    assert_eq!(first["counts"], queue["counts"], "counts stay complete");
    for bad in ["limit=0", "limit=201", "limit=many"] {
        let response = app
            .get(
                &format!("/api/v1/queue?{bad}"),
                Some(&l.worker.access_token),
            )
            .await;
        assert!(matches!(response.status().as_u16(), 400 | 422), "{bad}");
    }

    let supervisor: Value = app
        .get("/api/v1/queue", Some(&l.supervisor.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(supervisor["counts"]["triage"], 1);
    assert_eq!(supervisor["items"][0]["id"], triage["id"]);

    let other: Value = app
        .get("/api/v1/queue", Some(&l.other_worker.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert!(other["items"].as_array().unwrap().is_empty());

    // Overdue cases are counted.
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    entity::cases::Entity::update_many()
        .col_expr(
            entity::cases::Column::DeadlineAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::hours(1)),
        )
        .filter(
            entity::cases::Column::Id.eq(later["id"].as_str().unwrap().parse::<Uuid>().unwrap()),
        )
        .exec(&app.db)
        .await
        .unwrap();
    let queue: Value = app
        .get("/api/v1/queue", Some(&l.worker.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queue["counts"]["overdue"], 1);
    assert_eq!(queue["items"][0]["id"], later["id"], "overdue first");
    assert_eq!(queue["items"][0]["overdue"], true);

    // The inspector's queue: rectified cases they filed.
    let case = ok(act(app, &l.worker.access_token, &urgent, "accept", json!({})).await).await;
    after_photo(&l, &case).await;
    ok(act(app, &l.worker.access_token, &case, "rectify", json!({})).await).await;
    let mine: Value = app
        .get("/api/v1/queue", Some(&l.inspector.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["counts"]["to_verify"], 1);
    assert_eq!(mine["items"][0]["id"], urgent["id"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_case_near_a_recently_closed_one_is_linked_as_a_recurrence() {
    let l = setup().await;
    let app = &l.app;
    let here = json!({"category": "parking", "location": {"lat": 30.25, "lon": 120.16}});
    let first = app
        .file_report(&l.inspector.access_token, here.clone())
        .await;
    let first = ok(act(
        app,
        &l.supervisor.access_token,
        &first,
        "assign",
        json!({"department_id": l.department}),
    )
    .await)
    .await;
    let first = ok(act(app, &l.worker.access_token, &first, "accept", json!({})).await).await;
    after_photo(&l, &first).await;
    let first = ok(act(app, &l.worker.access_token, &first, "rectify", json!({})).await).await;
    ok(act(app, &l.inspector.access_token, &first, "verify", json!({})).await).await;

    // 20 m away, same category: a recurrence. 60 m away or another category: not.
    let again = app
        .file_report(
            &l.inspector.access_token,
            json!({"category": "parking", "location": {"lat": 30.25018, "lon": 120.16}}),
        )
        .await;
    assert_eq!(again["recurrence_of"], first["id"]);
    let far = app
        .file_report(
            &l.inspector.access_token,
            json!({"category": "parking", "location": {"lat": 30.25055, "lon": 120.16}}),
        )
        .await;
    assert!(far["recurrence_of"].is_null());
    let other = app
        .file_report(
            &l.inspector.access_token,
            json!({"category": "littering_dumping", "location": {"lat": 30.25, "lon": 120.16}}),
        )
        .await;
    assert!(other["recurrence_of"].is_null());

    let original: Value = app
        .get(
            &format!("/api/v1/reports/{}", first["id"].as_str().unwrap()),
            Some(&l.supervisor.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(original["recurrences"], json!([again["id"]]));
}

#[tokio::test(flavor = "multi_thread")]
async fn extensions_move_the_deadline_and_suspension_pauses_the_clock() {
    let l = setup().await;
    let app = &l.app;
    let case = app.file_report(&l.inspector.access_token, json!({})).await;
    let case = ok(act(
        app,
        &l.supervisor.access_token,
        &case,
        "assign",
        json!({"department_id": l.department}),
    )
    .await)
    .await;
    let deadline: chrono::DateTime<chrono::Utc> =
        case["deadline_at"].as_str().unwrap().parse().unwrap();

    // An extension: asked by the assignee, granted by a supervisor.
    let until = (deadline + chrono::Duration::hours(48)).to_rfc3339();
    assert_error(
        act(
            app,
            &l.worker.access_token,
            &case,
            "request-extension",
            json!({"until": until}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let earlier = (deadline - chrono::Duration::hours(1)).to_rfc3339();
    assert_error(
        act(
            app,
            &l.worker.access_token,
            &case,
            "request-extension",
            json!({"until": earlier, "note": "x"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let case = ok(act(
        app,
        &l.worker.access_token,
        &case,
        "request-extension",
        json!({"until": until, "note": "需要采购材料"}),
    )
    .await)
    .await;
    assert_eq!(case["pending_request"], "extension");
    assert_error(
        act(
            app,
            &l.worker.access_token,
            &case,
            "request-suspension",
            json!({"note": "x"}),
        )
        .await,
        409,
        "invalid_transition",
    )
    .await;
    let queue: Value = app
        .get("/api/v1/queue", Some(&l.supervisor.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(queue["counts"]["extension_requests"], 1);
    assert_error(
        act(
            app,
            &l.worker.access_token,
            &case,
            "decide-extension",
            json!({"grant": true}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let case = ok(act(
        app,
        &l.supervisor.access_token,
        &case,
        "decide-extension",
        json!({"grant": true}),
    )
    .await)
    .await;
    let extended: chrono::DateTime<chrono::Utc> =
        case["deadline_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(extended, deadline + chrono::Duration::hours(48));
    assert!(case["pending_request"].is_null());

    // A suspension (缓办): while it lasts the case is never overdue; resuming moves the deadline by the pause.
    let case = ok(act(
        app,
        &l.worker.access_token,
        &case,
        "request-suspension",
        json!({"note": "等待产权认定"}),
    )
    .await)
    .await;
    let case = ok(act(
        app,
        &l.supervisor.access_token,
        &case,
        "decide-suspension",
        json!({"grant": true, "note": "同意缓办"}),
    )
    .await)
    .await;
    assert!(case["suspended_at"].is_string());
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    let id: Uuid = case["id"].as_str().unwrap().parse().unwrap();
    let two_hours_ago = chrono::Utc::now() - chrono::Duration::hours(2);
    entity::cases::Entity::update_many()
        .col_expr(
            entity::cases::Column::SuspendedAt,
            Expr::value(two_hours_ago),
        )
        .col_expr(
            entity::cases::Column::DeadlineAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::hours(1)),
        )
        .filter(entity::cases::Column::Id.eq(id))
        .exec(&app.db)
        .await
        .unwrap();
    let paused: Value = app
        .get(
            &format!("/api/v1/reports/{id}"),
            Some(&l.worker.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(paused["overdue"], false, "a suspended case is not overdue");
    let resumed = ok(act(app, &l.worker.access_token, &paused, "resume", json!({})).await).await;
    assert!(resumed["suspended_at"].is_null());
    let new_deadline: chrono::DateTime<chrono::Utc> =
        resumed["deadline_at"].as_str().unwrap().parse().unwrap();
    // Was 1 h ago, paused for 2 h: now about 1 h ahead.
    let ahead = new_deadline - chrono::Utc::now();
    assert!(
        ahead > chrono::Duration::minutes(55) && ahead < chrono::Duration::minutes(65),
        "{ahead}"
    );
    assert_eq!(resumed["overdue"], false);
    assert_error(
        act(app, &l.worker.access_token, &resumed, "resume", json!({})).await,
        409,
        "invalid_transition",
    )
    .await;

    let history: Value = app
        .get(
            &format!("/api/v1/reports/{id}/events"),
            Some(&l.supervisor.access_token),
        )
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec![
            "file",
            "assign",
            "request-extension",
            "decide-extension",
            "request-suspension",
            "decide-suspension",
            "resume"
        ]
    );
    assert_eq!(history["chain_intact"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_assignment_or_a_reopening_restarts_the_clock() {
    let l = setup().await;
    let app = &l.app;
    let case = app
        .file_report(&l.inspector.access_token, json!({"category": "parking"}))
        .await; // 4 calendar hours
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    let id: Uuid = case["id"].as_str().unwrap().parse().unwrap();
    entity::cases::Entity::update_many()
        .col_expr(
            entity::cases::Column::DeadlineAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::hours(3)),
        )
        .filter(entity::cases::Column::Id.eq(id))
        .exec(&app.db)
        .await
        .unwrap();
    let before = chrono::Utc::now();
    let assigned = ok(act(
        app,
        &l.supervisor.access_token,
        &case,
        "assign",
        json!({"department_id": l.department}),
    )
    .await)
    .await;
    let deadline: chrono::DateTime<chrono::Utc> =
        assigned["deadline_at"].as_str().unwrap().parse().unwrap();
    assert!(deadline >= before + chrono::Duration::hours(4) - chrono::Duration::seconds(1));
    assert!(deadline <= chrono::Utc::now() + chrono::Duration::hours(4));
    assert_eq!(assigned["overdue"], false);
}
