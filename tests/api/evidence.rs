//! Evidence a rewrite cannot hide: every event of a case's history is signed with a key
//! the database does not hold, and each day's heads are sealed in a signed, chained
//! digest published to the object store. Someone who can write the database rewrites a
//! history with every hash recomputed, and the check still names the event; even with
//! the key, a rewrite disagrees with the digest published before it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::Days;
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

/// A case taken through assign and accept: four events (file, assign, assign, accept or
/// as the rules place it). Answers its id.
async fn a_case_with_history(app: &TestApp) -> (String, String) {
    let inspector = app.login_as("inspector").await.access_token;
    let supervisor = app.login_as("supervisor").await.access_token;
    let department = app.create_department().await;
    let worker = app
        .login_scoped("department", Some(department), None)
        .await
        .access_token;
    let case = app.file_report(&inspector, json!({})).await;
    let id = case["id"].as_str().unwrap().to_owned();
    let assigned = app
        .post_json(
            &format!("/api/v1/reports/{id}/assign"),
            Some(&supervisor),
            &json!({"version": case["version"], "department_id": department}),
        )
        .await;
    let assigned: Value = assigned.json().await.unwrap();
    let accepted = app
        .post_json(
            &format!("/api/v1/reports/{id}/accept"),
            Some(&worker),
            &json!({"version": assigned["version"]}),
        )
        .await;
    assert_eq!(accepted.status(), 200);
    (id, supervisor)
}

async fn events(app: &TestApp, id: &str, token: &str) -> Value {
    let response = app
        .get(&format!("/api/v1/reports/{id}/events"), Some(token))
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// What someone who can write the database does: change an event, then recompute its
/// hash and every later hash and link so that the chain holds again. With `resign`, they
/// also hold the signing key and sign every rewritten event.
async fn rewrite_history(app: &TestApp, id: &str, seq: i32, resign: bool) {
    let case_id: entity::ids::CaseId = id.parse().unwrap();
    let mut history = entity::case_events::Entity::find()
        .filter(entity::case_events::Column::CaseId.eq(case_id))
        .order_by_asc(entity::case_events::Column::Seq)
        .all(&app.db)
        .await
        .unwrap();
    let mut previous: Option<String> = None;
    for event in &mut history {
        if event.seq == seq {
            event.note = Some("无异常".into());
        }
        event.prev_hash = previous.clone();
        event.hash = xuncha::services::events::hash_of(event);
        if resign {
            event.signature = Some(app.state.evidence.sign_event(event));
        }
        previous = Some(event.hash.clone());
        let mut active = event.clone().into_active_model();
        active.note = sea_orm::ActiveValue::Set(event.note.clone());
        active.prev_hash = sea_orm::ActiveValue::Set(event.prev_hash.clone());
        active.hash = sea_orm::ActiveValue::Set(event.hash.clone());
        active.signature = sea_orm::ActiveValue::Set(event.signature.clone());
        entity::case_events::Entity::update(active)
            .exec(&app.db)
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_history_rewritten_with_recomputed_hashes_is_caught_by_its_signatures() {
    let app = spawn_app().await;
    let (id, supervisor) = a_case_with_history(&app).await;
    let before = events(&app, &id, &supervisor).await;
    assert_eq!(before["chain_intact"], true, "{before}");
    assert_eq!(before["sealed_through_seq"], Value::Null);
    // Every event is signed, and the signature is the key's over the event's hash.
    let key: Value = app
        .get("/api/v1/evidence/key", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(key["algorithm"], "Ed25519");
    let public = BASE64.decode(key["public_key"].as_str().unwrap()).unwrap();
    let verifier =
        ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, public.as_slice());
    let rows = entity::case_events::Entity::find()
        .filter(entity::case_events::Column::CaseId.eq(id.parse::<uuid::Uuid>().unwrap()))
        .all(&app.db)
        .await
        .unwrap();
    assert!(rows.len() >= 3);
    for row in &rows {
        let message = format!(
            "xuncha-case-event/1\n{}\n{}\n{}",
            row.case_id, row.seq, row.hash
        );
        let signature = BASE64.decode(row.signature.as_deref().unwrap()).unwrap();
        verifier
            .verify(message.as_bytes(), &signature)
            .expect("the event's signature verifies with the published key");
    }

    rewrite_history(&app, &id, 2, false).await;
    let after = events(&app, &id, &supervisor).await;
    assert_eq!(after["chain_intact"], false, "{after}");
    assert_eq!(after["broken_at_seq"], 2);
    // The hashes alone would not have told.
    let rows = entity::case_events::Entity::find()
        .filter(entity::case_events::Column::CaseId.eq(id.parse::<uuid::Uuid>().unwrap()))
        .order_by_asc(entity::case_events::Column::Seq)
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(xuncha::services::events::first_broken_link(&rows), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_day_is_sealed_in_a_signed_chained_digest_that_a_later_rewrite_cannot_match() {
    let app = spawn_app().await;
    let (id, supervisor) = a_case_with_history(&app).await;
    let city = app.state.settings.timezone;
    let today = chrono::Utc::now().with_timezone(&city).date_naive();

    let sealed = xuncha::services::evidence::seal_day(&app.state, today)
        .await
        .unwrap()
        .expect("today was not sealed yet");
    assert!(
        xuncha::services::evidence::seal_day(&app.state, today)
            .await
            .unwrap()
            .is_none(),
        "a day is sealed once"
    );
    let history = events(&app, &id, &supervisor).await;
    let last = history["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(history["chain_intact"], true, "{history}");
    assert_eq!(history["sealed_through_seq"], last["seq"]);

    // The digest as an auditor fetches it: the body verifies with the public key and
    // names this case's head.
    let digest: Value = app
        .get(
            &format!("/api/v1/evidence/digests/{today}"),
            Some(&supervisor),
        )
        .await
        .json()
        .await
        .unwrap();
    let public = BASE64
        .decode(digest["public_key"].as_str().unwrap())
        .unwrap();
    let body = digest["body"].as_str().unwrap();
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, public.as_slice())
        .verify(
            body.as_bytes(),
            &BASE64
                .decode(digest["signature"].as_str().unwrap())
                .unwrap(),
        )
        .expect("the digest verifies");
    let parsed: Value = serde_json::from_str(body).unwrap();
    assert_eq!(parsed["format"], "xuncha-evidence-digest/1");
    assert_eq!(parsed["day"], today.to_string());
    assert_eq!(parsed["previous_sha256"], Value::Null);
    assert!(
        parsed["heads"]
            .as_array()
            .unwrap()
            .contains(&json!([id, last["seq"], last["hash"]])),
        "{parsed}"
    );
    use sha2::Digest;
    assert_eq!(
        digest["body_sha256"],
        hex::encode(sha2::Sha256::digest(body.as_bytes()))
    );
    // Inspectors do not read digests, nor does a supervisor bound to areas (a digest
    // names every case of the city that moved); anyone reads the key.
    let inspector = app.login_as("inspector").await.access_token;
    let refused = app.get("/api/v1/evidence/digests", Some(&inspector)).await;
    assert_eq!(refused.status(), 403);
    let area = app
        .create_area(json!({"code": "SC", "name": "上城区", "level": "district",
            "boundary": crate::helpers::square(120.16, 30.25, 0.02)}))
        .await;
    let bound = app.login_bound("supervisor", &[&area]).await.access_token;
    for path in [
        "/api/v1/evidence/digests".to_owned(),
        format!("/api/v1/evidence/digests/{today}"),
    ] {
        assert_eq!(app.get(&path, Some(&bound)).await.status(), 403, "{path}");
    }

    // The next day chains to this one; sealing what is due publishes both.
    let tomorrow = xuncha::services::evidence::seal_day(&app.state, today + Days::new(1))
        .await
        .unwrap()
        .unwrap();
    let next: Value = serde_json::from_str(&tomorrow.body).unwrap();
    assert_eq!(next["previous_sha256"], sealed.body_sha256);
    assert_eq!(next["heads"], json!([]));
    xuncha::services::evidence::seal_due(&app.state)
        .await
        .unwrap();
    let stored = app
        .store()
        .get(&xuncha::storage::ObjectKey::evidence_digest(today))
        .await
        .unwrap();
    let stored: Value = serde_json::from_slice(&stored.bytes).unwrap();
    assert_eq!(stored["body"], digest["body"]);
    assert_eq!(stored["signature"], digest["signature"]);
    let listed: Value = app
        .get("/api/v1/evidence/digests", Some(&supervisor))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed["items"][0]["day"],
        (today + Days::new(1)).to_string()
    );
    assert!(listed["items"][1]["published_at"].is_string(), "{listed}");

    // Even someone holding the key, who rewrites and signs again, cannot match what the
    // digest published: the check names the sealed head.
    rewrite_history(&app, &id, 2, true).await;
    let after = events(&app, &id, &supervisor).await;
    assert_eq!(after["chain_intact"], false, "{after}");
    assert_eq!(after["broken_at_seq"], last["seq"]);
    assert_eq!(after["sealed_through_seq"], Value::Null);
}
