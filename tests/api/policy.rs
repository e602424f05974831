//! The policy, held to its word: every operation of the OpenAPI document is called as every
//! role, and each answer is compared with what `docs/security.md` says the operation needs
//! and what `auth::policy` says each permission allows. The ids in the paths name nothing,
//! so an operation open to a role answers anything but 401 and 403 (404, 422 …), and one
//! closed to it answers 403 before reading anything.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use uuid::Uuid;
use xuncha::auth::policy::{self, Permission};
use xuncha::domain::Role;

use crate::helpers::{report_body, spawn_app};

const SECURITY_DOC: &str = include_str!("../../docs/security.md");

/// What an operation needs, as `docs/security.md` lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Needs {
    Public,
    SignedIn,
    Permission(Permission),
}

/// The "Operations" table of `docs/security.md`: `| METHOD | /path | needs |`.
fn documented_operations() -> BTreeMap<(String, String), Needs> {
    let section = SECURITY_DOC
        .split("### Operations")
        .nth(1)
        .expect("docs/security.md has an Operations section");
    let mut operations = BTreeMap::new();
    for line in section.lines().skip_while(|l| !l.starts_with('|')) {
        if !line.starts_with('|') {
            break;
        }
        let cells: Vec<&str> = line
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().trim_matches('`'))
            .collect();
        let [method, path, needs] = cells[..] else {
            panic!("bad row: {line}");
        };
        if method == "method" || method.starts_with("---") {
            continue;
        }
        let needs = match needs {
            "public" => Needs::Public,
            "signed in" => Needs::SignedIn,
            other => Needs::Permission(
                Permission::ALL
                    .into_iter()
                    .find(|p| p.as_str() == other)
                    .unwrap_or_else(|| panic!("unknown permission {other}")),
            ),
        };
        let previous = operations.insert((method.to_owned(), path.to_owned()), needs);
        assert!(previous.is_none(), "{method} {path} listed twice");
    }
    operations
}

#[test]
fn the_role_matrix_in_the_docs_is_the_policy() {
    let matrix = policy::role_matrix();
    assert!(
        SECURITY_DOC.contains(&matrix),
        "docs/security.md's permission matrix differs from auth::policy; it should read:\n{matrix}"
    );
}

/// A value for a path parameter that parses and names nothing.
fn placeholder(name: &str) -> String {
    match name {
        "day" => "2031-01-01".to_owned(),
        "rendition" => "preview".to_owned(),
        "table" => "sites".to_owned(),
        n if n == "id" || n.ends_with("id") => Uuid::now_v7().to_string(),
        _ => "nothing-here".to_owned(),
    }
}

/// The path with its parameters filled. Query strings are left out: a role without the
/// permission must get 403 before its query is judged, and one with it a 400 at most.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(
            |part| match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) => placeholder(name),
                None => part.to_owned(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test(flavor = "multi_thread")]
async fn every_operation_answers_every_role_as_the_policy_says() {
    let app = spawn_app().await;
    let documented = documented_operations();
    let doc: Value = app
        .get("/api/v1/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    let mut served = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                served.insert((method.to_uppercase(), path.clone()), ());
            }
        }
    }
    let listed: Vec<_> = documented.keys().cloned().collect();
    let published: Vec<_> = served.keys().cloned().collect();
    assert_eq!(
        listed, published,
        "docs/security.md's Operations table must list exactly the OpenAPI operations"
    );

    let mut sessions = Vec::new();
    for role in Role::ALL.iter().copied() {
        let session = if role == Role::Admin {
            app.admin().await
        } else {
            app.login_as(role.as_str()).await
        };
        sessions.push((role, session));
    }
    let client = reqwest::Client::new();
    let mut wrong = Vec::new();
    for ((method, path), needs) in &documented {
        if *needs == Needs::Public {
            continue;
        }
        for (role, session) in &sessions {
            let url = app.url(&concrete(path));
            let request = client
                .request(method.parse().unwrap(), &url)
                .bearer_auth(&session.access_token);
            let request = match method.as_str() {
                // Filing checks its role in the statement that reads the account, after
                // the body is read: send one that parses.
                "POST" if path == "/api/v1/reports" => request.json(&report_body(json!({}))),
                "POST" | "PUT" | "PATCH" => request.json(&json!({})),
                _ => request,
            };
            let status = request.send().await.unwrap().status().as_u16();
            let allowed = match needs {
                Needs::Permission(permission) => permission.allows(*role),
                _ => true,
            };
            let as_expected = if allowed {
                status != 401 && status != 403
            } else {
                status == 403
            };
            if !as_expected {
                wrong.push(format!(
                    "{method} {path} as {}: {status} ({})",
                    role.as_str(),
                    if allowed { "allowed" } else { "not allowed" }
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "answers that differ from the policy:\n{}",
        wrong.join("\n")
    );
}

/// The OpenAPI document publishes each stored word as the API sends it (a schema that named
/// the Rust variants made every answer "violate" it for a client generated from it).
#[tokio::test(flavor = "multi_thread")]
async fn the_document_lists_the_words_as_they_are_sent() {
    let app = spawn_app().await;
    let doc: Value = app
        .get("/api/v1/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    let schemas = &doc["components"]["schemas"];
    for (schema, word) in [
        ("CaseStatus", "in_progress"),
        ("Role", "admin"),
        ("DeadlineUnit", "calendar_hours"),
        ("DepartmentKind", "urban_management"),
        ("AreaLevel", "district"),
        ("Datatype", "singlevaluelist"),
    ] {
        let values = schemas[schema]["enum"].as_array().unwrap_or_else(|| {
            panic!(
                "{schema} is not an enum in the document: {}",
                schemas[schema]
            )
        });
        assert!(values.contains(&json!(word)), "{schema}: {values:?}");
    }
}
