//! Open311 GeoReport v2 at `/open311/v2/`, in XML (the spec's required format) and JSON:
//! discovery, services, service definitions, requests (list, one, and filing with an
//! `api_key`). Errors are the spec's `errors` document with the spec's status codes, not
//! this API's usual JSON shape, so existing civic apps work unchanged. See
//! `docs/open311.md`.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Duration, SecondsFormat, Utc};

use crate::client;
use crate::domain::question::Datatype;
use crate::error::Error;
use crate::services::categories::{self as category_service, questions_of};
use crate::services::open311::{self as service, RequestFilter};
use crate::state::AppState;

mod filing;
use filing::post_request;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/open311/v2")
            .route("/discovery", web::get().to(discovery_json))
            .route("/discovery.{format:(json|xml)}", web::get().to(discovery))
            .route("/services.{format:(json|xml)}", web::get().to(services))
            .route(
                "/services/{code}.{format:(json|xml)}",
                web::get().to(service_definition),
            )
            .service(
                web::resource("/requests.{format:(json|xml)}")
                    .route(web::get().to(requests))
                    .route(web::post().to(post_request)),
            )
            .route("/requests/{id}.{format:(json|xml)}", web::get().to(request)),
    );
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

impl Format {
    fn of(raw: &str) -> Self {
        if raw == "xml" {
            Format::Xml
        } else {
            Format::Json
        }
    }
}

/// One response document, rendered as JSON or XML. Lists name their items for XML.
enum Node {
    Text(String),
    Number(f64),
    Bool(bool),
    Null,
    List(&'static str, Vec<Node>),
    Record(Vec<(&'static str, Node)>),
}

fn text(s: impl Into<String>) -> Node {
    Node::Text(s.into())
}

fn opt_text(s: Option<String>) -> Node {
    s.map_or(Node::Null, Node::Text)
}

impl Node {
    fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Node::Text(s) => Value::String(s.clone()),
            // Whole numbers (codes, order) as integers, as the spec's examples write them.
            Node::Number(n) if n.fract() == 0.0 && n.abs() < 9e15 => serde_json::json!(*n as i64),
            Node::Number(n) => serde_json::json!(n),
            Node::Bool(b) => Value::Bool(*b),
            Node::Null => Value::Null,
            Node::List(_, items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Node::Record(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.to_json()))
                    .collect(),
            ),
        }
    }

    fn write_xml(&self, name: &str, out: &mut String) {
        match self {
            Node::Null => {
                out.push_str(&format!("<{name}/>"));
            }
            Node::Text(s) => out.push_str(&format!("<{name}>{}</{name}>", escape(s))),
            Node::Number(n) => out.push_str(&format!("<{name}>{n}</{name}>")),
            Node::Bool(b) => out.push_str(&format!("<{name}>{b}</{name}>")),
            Node::List(item, items) => {
                out.push_str(&format!("<{name}>"));
                for node in items {
                    node.write_xml(item, out);
                }
                out.push_str(&format!("</{name}>"));
            }
            Node::Record(fields) => {
                out.push_str(&format!("<{name}>"));
                for (key, node) in fields {
                    node.write_xml(key, out);
                }
                out.push_str(&format!("</{name}>"));
            }
        }
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

fn respond(format: Format, status: StatusCode, root: &str, node: &Node) -> HttpResponse {
    match format {
        Format::Json => HttpResponse::build(status)
            .content_type("application/json; charset=utf-8")
            .body(node.to_json().to_string()),
        Format::Xml => {
            let mut body = String::from(r#"<?xml version="1.0" encoding="utf-8"?>"#);
            node.write_xml(root, &mut body);
            HttpResponse::build(status)
                .content_type("text/xml; charset=utf-8")
                .body(body)
        }
    }
}

/// The spec's error document: `[{code, description}]` / `<errors><error>…`.
fn error(format: Format, status: StatusCode, description: &str) -> HttpResponse {
    let node = Node::List(
        "error",
        vec![Node::Record(vec![
            ("code", Node::Number(f64::from(status.as_u16()))),
            ("description", text(description)),
        ])],
    );
    respond(format, status, "errors", &node)
}

/// A failure of ours (database, storage) in the spec's error format, with its status.
fn failure(format: Format, err: Error) -> HttpResponse {
    error(format, crate::error::status(err.code), &err.message.en)
}

fn bad(format: Format, description: &str) -> HttpResponse {
    error(format, StatusCode::BAD_REQUEST, description)
}

/// The parameters of a query string or form body, in order, repeated keys kept.
fn pairs(raw: &[u8]) -> Result<Vec<(String, String)>, String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(raw).map_err(|e| format!("unreadable parameters: {e}"))?;
    // No text field means a NUL, and PostgreSQL cannot store or compare one.
    if pairs
        .iter()
        .any(|(k, v)| k.contains('\0') || v.contains('\0'))
    {
        return Err("parameters may not contain NUL characters".to_owned());
    }
    Ok(pairs)
}

struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// `attribute[code]=v` and `attribute[code][]=v` (multi-value lists).
    fn attributes(&self) -> HashMap<String, Vec<String>> {
        let mut answers: HashMap<String, Vec<String>> = HashMap::new();
        for (key, value) in &self.0 {
            if let Some(rest) = key.strip_prefix("attribute[")
                && let Some(code) = rest.strip_suffix("][]").or_else(|| rest.strip_suffix(']'))
            {
                answers
                    .entry(code.to_owned())
                    .or_default()
                    .push(value.clone());
            }
        }
        answers
    }
}

fn w3c(t: DateTime<Utc>, state: &AppState) -> String {
    t.with_timezone(&state.settings.timezone)
        .to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// Where clients reach the endpoint (`client::public_origin`).
fn base_url(req: &HttpRequest) -> String {
    format!("{}/open311/v2", client::public_origin(req))
}

async fn discovery_json(req: HttpRequest) -> HttpResponse {
    discovery_document(&req, Format::Json)
}

async fn discovery(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    discovery_document(&req, Format::of(&path))
}

/// When this endpoint last changed in a way clients should notice.
const CHANGESET: &str = "2026-11-23T00:00:00Z";

fn discovery_document(req: &HttpRequest, format: Format) -> HttpResponse {
    let node = Node::Record(vec![
        ("changeset", text(CHANGESET)),
        (
            "contact",
            text(
                "The city's campaign office (创卫办) runs this service; ask its system administrator.",
            ),
        ),
        (
            "key_service",
            text("API keys are issued by the system administrator (POST /api/v1/api-keys)."),
        ),
        (
            "endpoints",
            Node::List(
                "endpoint",
                vec![Node::Record(vec![
                    (
                        "specification",
                        text("http://wiki.open311.org/GeoReport_v2"),
                    ),
                    ("url", text(base_url(req))),
                    ("changeset", text(CHANGESET)),
                    ("type", text("production")),
                    (
                        "formats",
                        Node::List("format", vec![text("text/xml"), text("application/json")]),
                    ),
                ])],
            ),
        ),
    ]);
    respond(format, StatusCode::OK, "discovery", &node)
}

async fn services(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let format = Format::of(&path);
    let categories = match category_service::list_active(&state).await {
        Ok(c) => c,
        Err(err) => return failure(format, err),
    };
    let items = categories
        .into_iter()
        .map(|c| {
            let metadata = !questions_of(&c).is_empty();
            Node::Record(vec![
                ("service_code", text(c.code)),
                ("service_name", text(c.name_zh)),
                ("description", text(c.name_en)),
                ("metadata", Node::Bool(metadata)),
                ("type", text("realtime")),
                ("keywords", text("")),
                (
                    "group",
                    text(if c.frontage {
                        "门前三包 frontage"
                    } else {
                        ""
                    }),
                ),
            ])
        })
        .collect();
    respond(
        format,
        StatusCode::OK,
        "services",
        &Node::List("service", items),
    )
}

async fn service_definition(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (code, format) = path.into_inner();
    let format = Format::of(&format);
    let category = match category_service::get(&state, &code).await {
        Ok(c) if c.active => c,
        Ok(_)
        | Err(Error {
            code: crate::error::ErrorCode::NotFound,
            ..
        }) => {
            return error(format, StatusCode::NOT_FOUND, "service_code was not found");
        }
        Err(err) => return failure(format, err),
    };
    let mut questions = questions_of(&category);
    questions.sort_by_key(|q| q.order);
    let attributes = questions
        .into_iter()
        .map(|q| {
            let is_list = matches!(
                q.datatype,
                Datatype::Singlevaluelist | Datatype::Multivaluelist
            );
            Node::Record(vec![
                ("variable", Node::Bool(true)),
                ("code", text(q.code)),
                ("datatype", text(q.datatype.as_str())),
                ("required", Node::Bool(q.required)),
                ("datatype_description", text(q.datatype_description)),
                ("order", Node::Number(f64::from(q.order))),
                ("description", text(q.description)),
                (
                    "values",
                    Node::List(
                        "value",
                        if is_list {
                            q.values
                                .into_iter()
                                .map(|v| {
                                    Node::Record(vec![("key", text(v.key)), ("name", text(v.name))])
                                })
                                .collect()
                        } else {
                            Vec::new()
                        },
                    ),
                ),
            ])
        })
        .collect();
    let node = Node::Record(vec![
        ("service_code", text(category.code)),
        ("attributes", Node::List("attribute", attributes)),
    ]);
    respond(format, StatusCode::OK, "service_definition", &node)
}

fn request_node(shown: service::Shown, state: &AppState) -> Node {
    let c = shown.case;
    let open = c.status.is_open();
    Node::Record(vec![
        ("service_request_id", text(c.case_no)),
        ("status", text(if open { "open" } else { "closed" })),
        ("status_notes", text(service::status_notes(c.status))),
        ("service_name", text(shown.category_name)),
        ("service_code", text(c.category_code)),
        ("description", text(c.description)),
        ("agency_responsible", opt_text(shown.agency)),
        ("service_notice", text("")),
        ("requested_datetime", text(w3c(c.created_at, state))),
        ("updated_datetime", text(w3c(c.updated_at, state))),
        (
            "expected_datetime",
            opt_text(c.deadline_at.map(|d| w3c(d, state))),
        ),
        ("address", text(c.address)),
        ("address_id", text("")),
        ("zipcode", text("")),
        ("lat", Node::Number(c.lat)),
        ("long", Node::Number(c.lon)),
        ("media_url", opt_text(shown.media_url)),
    ])
}

fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

async fn requests(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let format = Format::of(&path);
    let params = match pairs(req.query_string().as_bytes()) {
        Ok(p) => Params(p),
        Err(e) => return bad(format, &e),
    };
    let mut times = [None, None];
    for (slot, name) in times.iter_mut().zip(["start_date", "end_date"]) {
        if let Some(raw) = params.get(name) {
            match parse_time(raw) {
                Some(t) => *slot = Some(t),
                None => {
                    return bad(
                        format,
                        &format!("{name} must be a date-time like 2026-11-01T00:00:00+08:00"),
                    );
                }
            }
        }
    }
    let end = times[1].unwrap_or_else(Utc::now);
    let start = times[0].unwrap_or(end - Duration::days(90));
    if start > end {
        return bad(format, "start_date is after end_date");
    }
    if end - start > Duration::days(90) {
        return bad(
            format,
            "start_date and end_date may not span more than 90 days",
        );
    }
    let open = match params.get("status") {
        None => None,
        Some(raw) => {
            let wanted: Vec<&str> = raw.split(',').map(str::trim).collect();
            if wanted.iter().any(|s| *s != "open" && *s != "closed") {
                return bad(format, "status must be open, closed or both");
            }
            match (wanted.contains(&"open"), wanted.contains(&"closed")) {
                (true, false) => Some(true),
                (false, true) => Some(false),
                _ => None,
            }
        }
    };
    let case_nos = params.get("service_request_id").map(|raw| {
        raw.split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .take(1000)
            .collect::<Vec<_>>()
    });
    let filter = RequestFilter {
        case_nos,
        service_codes: params.get("service_code").map(|raw| {
            raw.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        }),
        start,
        end,
        open,
    };
    match service::list(&state, filter).await {
        Ok(rows) => {
            let items = rows.into_iter().map(|s| request_node(s, &state)).collect();
            respond(
                format,
                StatusCode::OK,
                "service_requests",
                &Node::List("request", items),
            )
        }
        Err(err) => failure(format, err),
    }
}

async fn request(state: web::Data<AppState>, path: web::Path<(String, String)>) -> HttpResponse {
    let (id, format) = path.into_inner();
    let format = Format::of(&format);
    if id.contains('\0') {
        // Not a case number, and PostgreSQL cannot compare text holding a NUL.
        return error(
            format,
            StatusCode::NOT_FOUND,
            "service_request_id was not found",
        );
    }
    match service::get(&state, &id).await {
        Ok(Some(shown)) => respond(
            format,
            StatusCode::OK,
            "service_requests",
            &Node::List("request", vec![request_node(shown, &state)]),
        ),
        Ok(None) => error(
            format,
            StatusCode::NOT_FOUND,
            "service_request_id was not found",
        ),
        Err(err) => failure(format, err),
    }
}
