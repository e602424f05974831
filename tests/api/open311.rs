//! Open311 GeoReport v2, field by field in JSON and XML, the errors in the spec's format,
//! and a public request followed from triage to closed.

use std::net::TcpListener;

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::images;

const SERVICE_FIELDS: [&str; 7] = [
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
];
const REQUEST_FIELDS: [&str; 17] = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
];

async fn get_doc(app: &TestApp, path: &str) -> (u16, String, String) {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (status, content_type, response.text().await.unwrap())
}

async fn json_doc(app: &TestApp, path: &str) -> (u16, Value) {
    let (status, content_type, body) = get_doc(app, path).await;
    assert!(
        content_type.starts_with("application/json"),
        "{path}: {content_type}"
    );
    (status, serde_json::from_str(&body).unwrap())
}

async fn xml_doc(app: &TestApp, path: &str) -> (u16, String) {
    let (status, content_type, body) = get_doc(app, path).await;
    assert!(
        content_type.starts_with("text/xml"),
        "{path}: {content_type}"
    );
    assert!(body.starts_with(r#"<?xml version="1.0" encoding="utf-8"?>"#));
    (status, body)
}

/// The child elements of `node` named `name`.
fn children<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Vec<roxmltree::Node<'a, 'i>> {
    node.children().filter(|c| c.has_tag_name(name)).collect()
}

fn child_text(node: roxmltree::Node<'_, '_>, name: &str) -> String {
    children(node, name)
        .first()
        .unwrap_or_else(|| panic!("<{name}> missing"))
        .text()
        .unwrap_or("")
        .to_owned()
}

fn element_names(node: roxmltree::Node<'_, '_>) -> Vec<String> {
    node.children()
        .filter(|c| c.is_element())
        .map(|c| c.tag_name().name().to_owned())
        .collect()
}

/// Asserts the spec's error document in both formats.
async fn assert_spec_error(
    app: &TestApp,
    response: reqwest::Response,
    status: u16,
    xml: bool,
) -> String {
    assert_eq!(response.status(), status);
    let body = response.text().await.unwrap();
    if xml {
        let doc = roxmltree::Document::parse(&body).unwrap();
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "errors");
        let error = children(root, "error")[0];
        assert_eq!(child_text(error, "code"), status.to_string());
        let description = child_text(error, "description");
        assert!(!description.is_empty());
        description
    } else {
        let doc: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(doc[0]["code"], status, "{doc}");
        let _ = app;
        doc[0]["description"].as_str().unwrap().to_owned()
    }
}

async fn post_form(app: &TestApp, format: &str, form: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/open311/v2/requests.{format}")))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn issue_key(app: &TestApp) -> (String, String) {
    let admin = app.admin().await;
    let response = app
        .post_json(
            "/api/v1/api-keys",
            Some(&admin.access_token),
            &json!({"name": "市民随手拍"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    let key = body["api_key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("x311_"));
    assert!(key.starts_with(body["prefix"].as_str().unwrap()));
    let listed: Value = app
        .get("/api/v1/api-keys", Some(&admin.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert!(listed[0]["api_key"].is_null(), "the key is shown once");
    assert!(!listed.to_string().contains(&key));
    (key, body["id"].as_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn discovery_services_and_service_definitions_match_the_spec_in_both_formats() {
    let app = spawn_app().await;

    let (status, discovery) = json_doc(&app, "/open311/v2/discovery.json").await;
    assert_eq!(status, 200);
    for field in ["changeset", "contact", "key_service"] {
        assert!(discovery[field].is_string(), "{field}");
    }
    let endpoint = &discovery["endpoints"][0];
    assert_eq!(
        endpoint["specification"],
        "http://wiki.open311.org/GeoReport_v2"
    );
    assert!(endpoint["url"].as_str().unwrap().ends_with("/open311/v2"));
    assert_eq!(endpoint["type"], "production");
    assert_eq!(endpoint["formats"], json!(["text/xml", "application/json"]));
    assert!(chrono::DateTime::parse_from_rfc3339(endpoint["changeset"].as_str().unwrap()).is_ok());
    let (status, xml) = xml_doc(&app, "/open311/v2/discovery.xml").await;
    assert_eq!(status, 200);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "discovery");
    let endpoint = children(children(root, "endpoints")[0], "endpoint")[0];
    assert_eq!(
        child_text(endpoint, "specification"),
        "http://wiki.open311.org/GeoReport_v2"
    );
    let formats: Vec<String> = children(children(endpoint, "formats")[0], "format")
        .iter()
        .map(|f| f.text().unwrap().to_owned())
        .collect();
    assert_eq!(formats, ["text/xml", "application/json"]);

    let (_, services) = json_doc(&app, "/open311/v2/services.json").await;
    let services = services.as_array().unwrap();
    assert_eq!(services.len(), 10, "the ten disorders");
    for service in services {
        let mut keys: Vec<&str> = service
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        let mut expected = SERVICE_FIELDS.to_vec();
        expected.sort_unstable();
        assert_eq!(keys, expected);
        assert_eq!(service["type"], "realtime");
    }
    let parking = services
        .iter()
        .find(|s| s["service_code"] == "parking")
        .unwrap();
    assert_eq!(
        (
            parking["service_name"].as_str(),
            parking["description"].as_str(),
            parking["metadata"].as_bool()
        ),
        (
            Some("乱停乱放"),
            Some("Illegal parking of cars, e-bikes and shared bikes"),
            Some(true)
        )
    );
    let graffiti = services
        .iter()
        .find(|s| s["service_code"] == "posting_graffiti")
        .unwrap();
    assert_eq!(graffiti["metadata"], false);
    let (_, xml) = xml_doc(&app, "/open311/v2/services.xml").await;
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "services");
    let items = children(doc.root_element(), "service");
    assert_eq!(items.len(), 10);
    let parking = items
        .iter()
        .find(|s| child_text(**s, "service_code") == "parking")
        .unwrap();
    assert_eq!(element_names(*parking), SERVICE_FIELDS);
    assert_eq!(child_text(*parking, "metadata"), "true");
    assert_eq!(child_text(*parking, "service_name"), "乱停乱放");

    let (status, definition) = json_doc(&app, "/open311/v2/services/parking.json").await;
    assert_eq!(status, 200);
    assert_eq!(definition["service_code"], "parking");
    let attribute = &definition["attributes"][0];
    assert_eq!(attribute["variable"], true);
    assert_eq!(attribute["code"], "vehicle_type");
    assert_eq!(attribute["datatype"], "singlevaluelist");
    assert_eq!(attribute["required"], true);
    assert_eq!(attribute["datatype_description"], "");
    assert_eq!(attribute["order"], 1.0);
    assert!(
        attribute["description"]
            .as_str()
            .unwrap()
            .contains("What is parked")
    );
    assert_eq!(attribute["values"].as_array().unwrap().len(), 3);
    assert_eq!(
        attribute["values"][0],
        json!({"key": "car", "name": "机动车 Car"})
    );
    let (_, xml) = xml_doc(&app, "/open311/v2/services/parking.xml").await;
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "service_definition");
    assert_eq!(element_names(root), ["service_code", "attributes"]);
    let attribute = children(children(root, "attributes")[0], "attribute")[0];
    assert_eq!(
        element_names(attribute),
        [
            "variable",
            "code",
            "datatype",
            "required",
            "datatype_description",
            "order",
            "description",
            "values"
        ]
    );
    assert_eq!(child_text(attribute, "required"), "true");
    let values = children(children(attribute, "values")[0], "value");
    assert_eq!(
        (child_text(values[1], "key"), child_text(values[1], "name")),
        ("ebike".to_owned(), "电动自行车 E-bike".to_owned())
    );
    let (_, empty) = json_doc(&app, "/open311/v2/services/posting_graffiti.json").await;
    assert_eq!(empty["attributes"], json!([]));

    for xml in [false, true] {
        let format = if xml { "xml" } else { "json" };
        let response = app
            .client
            .get(app.url(&format!("/open311/v2/services/nope.{format}")))
            .send()
            .await
            .unwrap();
        assert_spec_error(&app, response, 404, xml).await;
        let response = app
            .client
            .get(app.url(&format!("/open311/v2/requests/XC-1999-000001.{format}")))
            .send()
            .await
            .unwrap();
        assert_spec_error(&app, response, 404, xml).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_public_request_waits_for_triage_and_shows_closed_once_fixed() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let department = app.create_department().await;
    let response = app.post_json("/api/v1/areas", Some(&admin.access_token), &json!({"code": "D1", "name": "上城区", "level": "district",
        "local_authority_id": department,
        "boundary": {"type": "Polygon", "coordinates": [[[120.1, 30.2], [120.2, 30.2], [120.2, 30.3], [120.1, 30.3], [120.1, 30.2]]]}})).await;
    assert_eq!(response.status(), 201);
    let (key, _) = issue_key(&app).await;
    let inspector = app.login_as("inspector").await;
    let patrol = app.file_report(&inspector.access_token, json!({})).await;
    assert_eq!(
        patrol["status"], "assigned",
        "a patrol report at the same spot goes straight to the area"
    );

    // media_url points at a port that counts connections: the server must never fetch it.
    let bait = TcpListener::bind("127.0.0.1:0").unwrap();
    bait.set_nonblocking(true).unwrap();
    let media_url = format!("http://{}/photo.jpg", bait.local_addr().unwrap());
    let response = post_form(
        &app,
        "json",
        &[
            ("api_key", &key),
            ("jurisdiction_id", "hangzhou"),
            ("service_code", "parking"),
            ("lat", "30.25"),
            ("long", "120.16"),
            ("address_string", "解放路 100 号"),
            ("description", "电动车堵住盲道"),
            ("media_url", &media_url),
            ("email", "citizen@example.com"),
            ("first_name", "小明"),
            ("last_name", "王"),
            ("phone", "13800000000"),
            ("device_id", "device-1"),
            ("account_id", "acct-9"),
            ("attribute[vehicle_type]", "ebike"),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
    let posted: Value = response.json().await.unwrap();
    let id = posted[0]["service_request_id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("XC-"));
    assert!(posted[0]["service_notice"].is_string());
    assert_eq!(posted[0]["account_id"], "acct-9");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(bait.accept().is_err(), "the server never fetches media_url");

    // In the supervisors' triage queue, not with an assignee.
    let supervisor = app.login_as("supervisor").await;
    let queue: Value = app
        .get("/api/v1/queue", Some(&supervisor.access_token))
        .await
        .json()
        .await
        .unwrap();
    let case = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["case_no"] == id.as_str())
        .expect("in triage")
        .clone();
    assert_eq!(
        (case["status"].as_str(), case["source"].as_str()),
        (Some("reported"), Some("public"))
    );
    assert!(case["assignee"].is_null());
    assert!(case["reporter_id"].is_null());

    let (status, shown) = json_doc(&app, &format!("/open311/v2/requests/{id}.json")).await;
    assert_eq!(status, 200);
    let request = &shown[0];
    let mut keys: Vec<&str> = request
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    let mut expected = REQUEST_FIELDS.to_vec();
    expected.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(request["service_request_id"], id.as_str());
    assert_eq!(request["status"], "open");
    assert_eq!(request["status_notes"], "待分派 Awaiting triage");
    assert_eq!(
        (
            request["service_name"].as_str(),
            request["service_code"].as_str()
        ),
        (Some("乱停乱放"), Some("parking"))
    );
    assert_eq!(request["description"], "电动车堵住盲道");
    assert!(request["agency_responsible"].is_null());
    assert_eq!(
        (
            request["address"].as_str(),
            request["address_id"].as_str(),
            request["zipcode"].as_str()
        ),
        (Some("解放路 100 号"), Some(""), Some(""))
    );
    assert_eq!(
        (request["lat"].as_f64(), request["long"].as_f64()),
        (Some(30.25), Some(120.16))
    );
    assert_eq!(request["media_url"], media_url.as_str());
    for field in [
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
    ] {
        let raw = request[field].as_str().unwrap();
        assert!(raw.ends_with("+08:00"), "{field}: {raw}");
        assert!(chrono::DateTime::parse_from_rfc3339(raw).is_ok());
    }
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(request["expected_datetime"].as_str().unwrap())
            .unwrap(),
        chrono::DateTime::parse_from_rfc3339(case["deadline_at"].as_str().unwrap()).unwrap(),
        "expected_datetime is the deadline"
    );
    let (_, xml) = xml_doc(&app, &format!("/open311/v2/requests/{id}.xml")).await;
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "service_requests");
    let item = children(doc.root_element(), "request")[0];
    assert_eq!(element_names(item), REQUEST_FIELDS);
    assert_eq!(child_text(item, "status"), "open");
    assert_eq!(child_text(item, "lat"), "30.25");
    assert_eq!(child_text(item, "media_url"), media_url);
    // Reporter contact is stored, never shown publicly.
    for secret in ["citizen@example.com", "13800000000", "小明", "device-1"] {
        assert!(
            !xml.contains(secret) && !shown.to_string().contains(secret),
            "{secret}"
        );
    }
    let row = {
        use sea_orm::EntityTrait;
        entity::public_requests::Entity::find_by_id(
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
    };
    assert_eq!(
        (
            row.email.as_str(),
            row.phone.as_str(),
            row.first_name.as_str()
        ),
        ("citizen@example.com", "13800000000", "小明")
    );
    assert_eq!(
        serde_json::from_str::<Value>(&row.attributes).unwrap(),
        json!({"vehicle_type": "ebike"})
    );
    assert_eq!(row.jurisdiction_id.as_deref(), Some("hangzhou"));

    // Assigned, fixed and verified through the normal loop: closed through Open311.
    let act = |case: Value, token: String, action: &'static str, extra: Value| {
        let app = &app;
        async move {
            let mut body = json!({"version": case["version"]});
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            let response = app
                .post_json(
                    &format!("/api/v1/reports/{}/{action}", case["id"].as_str().unwrap()),
                    Some(&token),
                    &body,
                )
                .await;
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            assert_eq!(status, 200, "{action}: {body}");
            body
        }
    };
    let worker = app.login_scoped("department", Some(department), None).await;
    let case = act(
        case,
        supervisor.access_token.clone(),
        "assign",
        json!({"department_id": department}),
    )
    .await;
    let (_, shown) = json_doc(&app, &format!("/open311/v2/requests/{id}.json")).await;
    assert_eq!(shown[0]["agency_responsible"], "城管局");
    assert_eq!(shown[0]["status"], "open");
    let case = act(case, worker.access_token.clone(), "accept", json!({})).await;
    let photo: Value = app
        .upload_photos(
            &worker.access_token,
            case["id"].as_str().unwrap(),
            "after",
            vec![images::jpeg(320, 240, 5)],
        )
        .await
        .json()
        .await
        .unwrap();
    let case = act(
        case,
        worker.access_token.clone(),
        "rectify",
        json!({"photo_ids": [photo["items"][0]["id"]]}),
    )
    .await;
    act(case, supervisor.access_token.clone(), "verify", json!({})).await;
    let (_, xml) = xml_doc(&app, &format!("/open311/v2/requests/{id}.xml")).await;
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let item = children(doc.root_element(), "request")[0];
    assert_eq!(child_text(item, "status"), "closed");
    assert_eq!(child_text(item, "status_notes"), "已办结 Verified fixed");
    assert_eq!(child_text(item, "agency_responsible"), "城管局");

    // A second request, cancelled as invalid by a supervisor; an address-only third.
    let response = post_form(
        &app,
        "xml",
        &[
            ("api_key", &key),
            ("service_code", "littering_dumping"),
            ("lat", "30.26"),
            ("long", "120.17"),
            ("description", "测试"),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    let doc = roxmltree::Document::parse(&body).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "service_requests");
    let posted = children(doc.root_element(), "request")[0];
    assert_eq!(
        element_names(posted),
        ["service_request_id", "service_notice", "account_id"]
    );
    let invalid_id = child_text(posted, "service_request_id");
    let queue: Value = app
        .get("/api/v1/queue", Some(&supervisor.access_token))
        .await
        .json()
        .await
        .unwrap();
    let invalid = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["case_no"] == invalid_id.as_str())
        .unwrap()
        .clone();
    act(
        invalid,
        supervisor.access_token.clone(),
        "cancel",
        json!({"note": "无效举报"}),
    )
    .await;
    let response = post_form(
        &app,
        "json",
        &[
            ("api_key", &key),
            ("service_code", "littering_dumping"),
            ("address_string", "上城区某小区门口"),
            ("description", "垃圾"),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
    let address_only: Value = response.json().await.unwrap();
    let address_id = address_only[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, shown) = json_doc(&app, &format!("/open311/v2/requests/{address_id}.json")).await;
    assert_eq!(
        (shown[0]["lat"].as_f64(), shown[0]["long"].as_f64()),
        (Some(30.25), Some(120.15)),
        "the registry's centre"
    );
    assert_eq!(shown[0]["address"], "上城区某小区门口");

    // Lists and filters; patrol cases are never shown.
    let (_, all) = json_doc(&app, "/open311/v2/requests.json").await;
    let ids: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["service_request_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(!ids.contains(&patrol["case_no"].as_str().unwrap()));
    let (_, closed) = json_doc(&app, "/open311/v2/requests.json?status=closed").await;
    let mut closed_ids: Vec<&str> = closed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["service_request_id"].as_str().unwrap())
        .collect();
    closed_ids.sort_unstable();
    let mut expected = vec![id.as_str(), invalid_id.as_str()];
    expected.sort_unstable();
    assert_eq!(closed_ids, expected);
    let cancelled = closed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["service_request_id"] == invalid_id.as_str())
        .unwrap();
    assert_eq!(cancelled["status_notes"], "已作废 Closed as invalid");
    let (_, open) = json_doc(&app, "/open311/v2/requests.json?status=open").await;
    assert_eq!(open[0]["service_request_id"], address_id.as_str());
    let (_, by_code) = json_doc(&app, "/open311/v2/requests.json?service_code=parking").await;
    assert_eq!(by_code.as_array().unwrap().len(), 1);
    let (_, by_codes) = json_doc(
        &app,
        "/open311/v2/requests.json?service_code=parking,littering_dumping",
    )
    .await;
    assert_eq!(by_codes.as_array().unwrap().len(), 3);
    let (_, by_id) = json_doc(
        &app,
        &format!("/open311/v2/requests.json?service_request_id={id},{address_id}&status=open"),
    )
    .await;
    assert_eq!(
        by_id.as_array().unwrap().len(),
        2,
        "ids given: the other filters are ignored"
    );
    let (_, future) = json_doc(
        &app,
        "/open311/v2/requests.json?start_date=2099-01-01T00:00:00Z&end_date=2099-01-02T00:00:00Z",
    )
    .await;
    assert_eq!(future, json!([]));
    let (_, past) = json_doc(
        &app,
        "/open311/v2/requests.json?end_date=2020-01-01T00:00:00%2B08:00",
    )
    .await;
    assert_eq!(past, json!([]));
    let (_, xml) = xml_doc(&app, "/open311/v2/requests.xml?status=closed").await;
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(children(doc.root_element(), "request").len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_follow_the_spec_in_json_and_xml() {
    let app = spawn_app().await;
    let (key, key_id) = issue_key(&app).await;
    for xml in [false, true] {
        let format = if xml { "xml" } else { "json" };
        let good: Vec<(&str, &str)> = vec![
            ("api_key", &key),
            ("service_code", "littering_dumping"),
            ("lat", "30.25"),
            ("long", "120.16"),
        ];
        let without = |drop: &str| {
            good.iter()
                .filter(|(k, _)| *k != drop)
                .copied()
                .collect::<Vec<_>>()
        };
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut all = good.clone();
            all.extend_from_slice(extra);
            all
        };
        let text = assert_spec_error(
            &app,
            post_form(&app, format, &without("api_key")).await,
            403,
            xml,
        )
        .await;
        assert!(text.contains("api_key"));
        assert_spec_error(
            &app,
            post_form(
                &app,
                format,
                &[
                    ("api_key", "x311_not-a-key"),
                    ("service_code", "parking"),
                    ("lat", "30"),
                    ("long", "120"),
                ],
            )
            .await,
            403,
            xml,
        )
        .await;
        let text = assert_spec_error(
            &app,
            post_form(&app, format, &without("service_code")).await,
            400,
            xml,
        )
        .await;
        assert!(text.contains("service_code"));
        let mut unknown = without("service_code");
        unknown.push(("service_code", "potholes"));
        let text = assert_spec_error(&app, post_form(&app, format, &unknown).await, 404, xml).await;
        assert!(text.contains("service_code"));
        let no_location: Vec<(&str, &str)> = without("lat")
            .into_iter()
            .filter(|(k, _)| *k != "long")
            .collect();
        let text =
            assert_spec_error(&app, post_form(&app, format, &no_location).await, 400, xml).await;
        assert!(text.contains("location"));
        assert_spec_error(
            &app,
            post_form(&app, format, &without("long")).await,
            400,
            xml,
        )
        .await;
        let mut far = without("lat");
        far.push(("lat", "91"));
        assert_spec_error(&app, post_form(&app, format, &far).await, 400, xml).await;
        assert_spec_error(
            &app,
            post_form(&app, format, &with(&[("media_url", "file:///etc/passwd")])).await,
            400,
            xml,
        )
        .await;
        let mut parking: Vec<(&str, &str)> = without("service_code");
        parking.push(("service_code", "parking"));
        let text = assert_spec_error(&app, post_form(&app, format, &parking).await, 400, xml).await;
        assert!(text.contains("attribute[vehicle_type]"), "{text}");
        parking.push(("attribute[vehicle_type]", "tank"));
        assert_spec_error(&app, post_form(&app, format, &parking).await, 400, xml).await;
        let text = assert_spec_error(
            &app,
            post_form(
                &app,
                format,
                &[
                    ("api_key", &key),
                    ("service_code", "parking"),
                    ("address_string", "某路"),
                    ("attribute[vehicle_type]", "car"),
                ],
            )
            .await,
            400,
            xml,
        )
        .await;
        assert!(
            text.contains("lat and long"),
            "no registry to place an address in: {text}"
        );
        let json_body = app
            .client
            .post(app.url(&format!("/open311/v2/requests.{format}")))
            .json(&json!({"api_key": key}))
            .send()
            .await
            .unwrap();
        assert_spec_error(&app, json_body, 400, xml).await;
        for query in [
            "start_date=yesterday",
            "end_date=2026-13-01",
            "status=pending",
            "start_date=2026-11-02T00:00:00Z&end_date=2026-11-01T00:00:00Z",
            "start_date=2026-01-01T00:00:00Z&end_date=2026-11-01T00:00:00Z",
        ] {
            let response = app
                .client
                .get(app.url(&format!("/open311/v2/requests.{format}?{query}")))
                .send()
                .await
                .unwrap();
            assert_spec_error(&app, response, 400, xml).await;
        }
    }
    // A revoked key stops working at once.
    let good = [
        ("api_key", key.as_str()),
        ("service_code", "littering_dumping"),
        ("lat", "30.25"),
        ("long", "120.16"),
    ];
    assert_eq!(post_form(&app, "json", &good).await.status(), 200);
    let admin = app.admin().await;
    let revoked = app
        .client
        .delete(app.url(&format!("/api/v1/api-keys/{key_id}")))
        .bearer_auth(&admin.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    assert!(revoked.json::<Value>().await.unwrap()["revoked_at"].is_string());
    assert_spec_error(&app, post_form(&app, "xml", &good).await, 403, true).await;
    let inspector = app.login_as("inspector").await;
    assert_eq!(
        app.post_json(
            "/api/v1/api-keys",
            Some(&inspector.access_token),
            &json!({"name": "x"})
        )
        .await
        .status(),
        403
    );
}

/// The public endpoint takes whatever a client sends: random form posts and queries (valid
/// and broken keys, codes, coordinates, dates, NUL bytes, long and odd text, repeated and
/// unknown fields) get a 2xx or 4xx in the asked format, never a 5xx.
#[tokio::test(flavor = "multi_thread")]
async fn random_public_requests_never_get_a_server_error() {
    let app = spawn_app().await;
    let (key, _) = issue_key(&app).await;
    let long = "长".repeat(20_000);
    let values: Vec<&str> = vec![
        "",
        " ",
        "\0",
        "a\0b",
        "30.25",
        "120.16",
        "-91",
        "181",
        "1e308",
        "NaN",
        "inf",
        "0x1F",
        "parking",
        "stall_occupation",
        "no_such_service",
        "2026-11-23T08:00:00Z",
        "2026-11-23T08:00:00+08:00",
        "9999-99-99",
        "1970-01-01",
        "open",
        "closed,open",
        "XC-2026-000001",
        "XC-2026-000001,XC-2026-999999",
        "https://example.com/a.jpg",
        "javascript:alert(1)",
        "<x>]]>&amp;</x>",
        "' OR 1=1 --",
        "%00%ff",
        "\u{202e}\u{feff}🚧",
        long.as_str(),
    ];
    let keys = [
        "api_key",
        "service_code",
        "lat",
        "long",
        "address_string",
        "address_id",
        "description",
        "media_url",
        "email",
        "first_name",
        "last_name",
        "phone",
        "device_id",
        "account_id",
        "jurisdiction_id",
        "attribute[size]",
        "attribute[size][]",
        "attribute[",
        "attribute[]",
        "start_date",
        "end_date",
        "status",
        "service_request_id",
        "unknown",
    ];
    // xorshift64*: reproducible without a dependency.
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move |bound: usize| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) % bound as u64) as usize
    };
    for round in 0..240 {
        let mut form: Vec<(String, String)> = Vec::new();
        if next(4) > 0 {
            let api_key = if next(5) > 0 {
                key.as_str()
            } else {
                values[next(values.len())]
            };
            form.push(("api_key".into(), api_key.into()));
        }
        for _ in 0..next(9) {
            form.push((
                keys[next(keys.len())].into(),
                values[next(values.len())].into(),
            ));
        }
        let format = if round % 2 == 0 { "json" } else { "xml" };
        let response = if round % 3 == 0 {
            // The long text goes in bodies only: a URL of it is refused by the client.
            let query: Vec<&(String, String)> =
                form.iter().filter(|(_, v)| v.len() < 4_000).collect();
            app.client
                .get(app.url(&format!("/open311/v2/requests.{format}")))
                .query(&query)
                .send()
                .await
                .unwrap()
        } else if round % 5 == 0 || round % 7 == 0 {
            let id: String = values[next(values.len())]
                .bytes()
                .take(512)
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        char::from(b).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            let collection = if round % 5 == 0 {
                "services"
            } else {
                "requests"
            };
            app.client
                .get(app.url(&format!("/open311/v2/{collection}/{id}.{format}")))
                .send()
                .await
                .unwrap()
        } else {
            app.client
                .post(app.url(&format!("/open311/v2/requests.{format}")))
                .form(&form)
                .send()
                .await
                .unwrap()
        };
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        assert!(status < 500, "round {round}: {status} for {form:?}: {body}");
        if status != 404 || !body.is_empty() {
            match format {
                "json" => {
                    serde_json::from_str::<Value>(&body)
                        .unwrap_or_else(|e| panic!("round {round}: {e}: {body}"));
                }
                _ => {
                    roxmltree::Document::parse(&body)
                        .unwrap_or_else(|e| panic!("round {round}: {e}: {body}"));
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn control_characters_are_refused_as_the_internal_api_refuses_them() {
    let app = spawn_app().await;
    let (key, _) = issue_key(&app).await;
    let response = post_form(
        &app,
        "json",
        &[
            ("api_key", &key),
            ("service_code", "parking"),
            ("lat", "30.25"),
            ("long", "120.16"),
            ("attribute[vehicle_type]", "ebike"),
            ("description", "电动车\u{1b}[2J堵住盲道\u{7}"),
        ],
    )
    .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(
        body[0]["description"]
            .as_str()
            .unwrap()
            .contains("control characters"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_discovery_document_ignores_forwarded_hosts_from_untrusted_clients() {
    let app = spawn_app().await;
    let discovery: Value = app
        .client
        .get(app.url("/open311/v2/discovery.json"))
        .header("x-forwarded-host", "evil.example")
        .header("forwarded", "host=evil.example;proto=https")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = discovery["endpoints"][0]["url"].as_str().unwrap();
    assert!(!url.contains("evil"), "{url}");
    assert!(url.ends_with("/open311/v2"), "{url}");
    let configured =
        crate::helpers::spawn_app_with(&[("XUNCHA_PUBLIC_URL", "https://xuncha.example.gov.cn/")])
            .await;
    let discovery: Value = configured
        .client
        .get(configured.url("/open311/v2/discovery.json"))
        .header("x-forwarded-host", "evil.example")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        discovery["endpoints"][0]["url"],
        "https://xuncha.example.gov.cn/open311/v2"
    );
}
