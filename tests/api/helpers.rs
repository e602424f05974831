//! `spawn_app()` and typed helpers. Each test gets a fresh database (a temp SQLite file, or
//! a fresh PostgreSQL database when `XUNCHA_TEST_DATABASE_URL` is set) and a fresh S3
//! store reached over HTTP: the embedded s3s-fs server in a temp folder, or the external
//! server named by `XUNCHA_TEST_S3_ENDPOINT` with a bucket of its own.

use std::collections::HashMap;
use std::time::Duration;

use entity::ids::{DepartmentId, ShopfrontId};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, Database, DatabaseConnection};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use uuid::Uuid;
use xuncha::config::Settings;
use xuncha::startup::Application;
use xuncha::storage::embedded::EmbeddedS3;
use xuncha::storage::{ObjectStore, StoreEndpoint};
use xuncha::workers::Workers;

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
pub const JWT_SECRET: &str = "a-test-secret-that-is-long-enough-0123456789";
pub const PASSWORD: &str = "a fine password 123";

/// How long a test's background workers have to finish their round once told to stop:
/// a round is finished, never cut, and on a machine running the whole suite at once a
/// round can take seconds; a worker that hangs still fails the test.
const WORKERS_STOP_WITHIN: Duration = Duration::from_secs(30);

pub struct TestApp {
    pub address: String,
    pub state: actix_web::web::Data<xuncha::state::AppState>,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    pub store_endpoint: StoreEndpoint,
    /// The embedded store, when the test runs one (so it can be stopped).
    pub embedded_store: Option<EmbeddedS3>,
    settings_vars: HashMap<String, String>,
    /// The background workers of this app and of its second instances: stopped when the
    /// test ends, and the test fails if one does not end.
    workers: std::sync::Mutex<Vec<Workers>>,
    _data_dir: tempfile::TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let all: Vec<Workers> = self
            .workers
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default();
        // The suite runs on the multi-threaded runtime, so this thread may wait here.
        let left: Vec<&str> = tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(async {
                let mut left = Vec::new();
                for workers in all {
                    left.extend(workers.stop(WORKERS_STOP_WITHIN).await);
                }
                left
            })
        });
        if !std::thread::panicking() {
            assert!(
                left.is_empty(),
                "background workers still running at the end of the test: {left:?}"
            );
        }
    }
}

/// A signed-in user.
#[derive(Clone)]
pub struct Session {
    pub user_id: Uuid,
    pub access_token: String,
    pub refresh_token: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts an app; `overrides` replace the test defaults (e.g. a low rate limit).
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    let data_dir = tempfile::tempdir().unwrap();
    let database_url = match std::env::var("XUNCHA_TEST_DATABASE_URL") {
        Ok(base) if !base.is_empty() => fresh_postgres_database(&base).await,
        _ => format!(
            "sqlite://{}?mode=rwc",
            data_dir.path().join("test.db").display()
        ),
    };
    let bucket = format!("xuncha-test-{}", Uuid::now_v7().simple());
    let (store_endpoint, embedded_store) = match std::env::var("XUNCHA_TEST_S3_ENDPOINT") {
        Ok(url) if !url.is_empty() => (
            StoreEndpoint {
                url,
                region: "us-east-1".into(),
                access_key_id: std::env::var("XUNCHA_TEST_S3_ACCESS_KEY_ID")
                    .unwrap_or_else(|_| "testing".into())
                    .into(),
                secret_access_key: std::env::var("XUNCHA_TEST_S3_SECRET_ACCESS_KEY")
                    .unwrap_or_else(|_| "testing".into())
                    .into(),
                bucket,
            },
            None,
        ),
        _ => {
            let store = EmbeddedS3::start(
                &data_dir.path().join("s3"),
                "127.0.0.1:0".parse().unwrap(),
                &bucket,
            )
            .await
            .unwrap();
            (store.endpoint().clone(), Some(store))
        }
    };

    let mut vars: HashMap<String, String> = [
        ("XUNCHA_BIND", "127.0.0.1:0".to_owned()),
        ("XUNCHA_DATA_DIR", data_dir.path().display().to_string()),
        ("XUNCHA_DATABASE_URL", database_url.clone()),
        ("XUNCHA_DATABASE_MAX_CONNECTIONS", "5".to_owned()),
        ("XUNCHA_S3_ENDPOINT", store_endpoint.url.clone()),
        ("XUNCHA_S3_REGION", store_endpoint.region.clone()),
        ("XUNCHA_S3_BUCKET", store_endpoint.bucket.clone()),
        (
            "XUNCHA_S3_ACCESS_KEY_ID",
            store_endpoint.access_key_id.expose_secret().to_owned(),
        ),
        (
            "XUNCHA_S3_SECRET_ACCESS_KEY",
            store_endpoint.secret_access_key.expose_secret().to_owned(),
        ),
        ("XUNCHA_JWT_SECRET", JWT_SECRET.to_owned()),
        ("XUNCHA_ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned()),
        ("XUNCHA_RATE_LIMIT_PER_SECOND", "10000".to_owned()),
        ("XUNCHA_RATE_LIMIT_BURST", "10000".to_owned()),
        ("XUNCHA_ACCOUNT_RATE_LIMIT_PER_SECOND", "10000".to_owned()),
        ("XUNCHA_ACCOUNT_RATE_LIMIT_BURST", "10000".to_owned()),
        // The tests' webhook and push receivers listen on loopback.
        ("XUNCHA_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8".to_owned()),
        ("XUNCHA_PUSH_ALLOWED_NETWORKS", "127.0.0.0/8".to_owned()),
        // Most tests file reports without photos and go on at once as the assignee; the
        // hold for evidence has tests of its own (`reports::…held…`).
        ("XUNCHA_DISPATCH_WAIT_SECONDS", "0".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (k, v) in overrides {
        vars.insert((*k).to_owned(), (*v).to_owned());
    }
    let settings = Settings::from_lookup(|name| vars.get(name).cloned()).unwrap();
    let app = Application::build(settings).await.unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    let workers = std::sync::Mutex::new(vec![app.workers()]);
    tokio::spawn(app.run_until_stopped());

    let db = Database::connect(&database_url).await.unwrap();
    let settings_vars = vars;
    TestApp {
        address,
        state,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        db,
        store_endpoint,
        embedded_store,
        settings_vars,
        workers,
        _data_dir: data_dir,
    }
}

/// Creates a database with a unique name on the server of `base` and returns its URL.
async fn fresh_postgres_database(base: &str) -> String {
    let name = format!("xuncha_test_{}", Uuid::now_v7().simple());
    let admin = Database::connect(base).await.unwrap();
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let (server, _) = base.rsplit_once('/').unwrap();
    format!("{server}/{name}")
}

impl TestApp {
    /// Another API instance on the same database and store, as behind a load balancer.
    pub async fn second_instance(&self) -> String {
        let vars = self.settings_vars.clone();
        let settings = Settings::from_lookup(|name| vars.get(name).cloned()).unwrap();
        let app = Application::build(settings).await.unwrap();
        let address = format!("http://127.0.0.1:{}", app.port());
        self.workers.lock().unwrap().push(app.workers());
        tokio::spawn(app.run_until_stopped());
        address
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Stops this app's background workers, for a test that drives their rounds itself.
    pub async fn stop_workers(&self) {
        let all: Vec<Workers> = std::mem::take(&mut *self.workers.lock().unwrap());
        for workers in all {
            let left = workers.stop(WORKERS_STOP_WITHIN).await;
            assert!(left.is_empty(), "workers still running: {left:?}");
        }
    }

    pub fn store(&self) -> ObjectStore {
        ObjectStore::new(&self.store_endpoint)
    }

    pub async fn post_json(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> reqwest::Response {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    pub async fn patch_json(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.client
            .patch(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        self.post_json(
            "/api/v1/auth/login",
            None,
            &json!({"username": username, "password": password}),
        )
        .await
    }

    pub async fn session(&self, username: &str, password: &str) -> Session {
        let response = self.login(username, password).await;
        assert_eq!(response.status(), 200, "login {username}");
        let body: Value = response.json().await.unwrap();
        Session {
            user_id: body["user"]["id"].as_str().unwrap().parse().unwrap(),
            access_token: body["access_token"].as_str().unwrap().to_owned(),
            refresh_token: body["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn admin(&self) -> Session {
        self.session("admin", ADMIN_PASSWORD).await
    }

    /// Creates a user of `role` through the API (with a department or shopfront made in the
    /// database when the role needs one) and signs them in.
    pub async fn login_as(&self, role: &str) -> Session {
        let username = format!("{role}-{}", &Uuid::now_v7().simple().to_string()[20..]);
        self.create_user(&username, role).await;
        self.session(&username, PASSWORD).await
    }

    pub async fn create_user(&self, username: &str, role: &str) -> Value {
        let admin = self.admin().await;
        let mut body = json!({
            "username": username,
            "password": PASSWORD,
            "display_name": format!("Test {role}"),
            "role": role,
        });
        match role {
            "department" => body["department_id"] = json!(self.create_department().await),
            "shopfront" => body["shopfront_id"] = json!(self.create_shopfront().await),
            _ => {}
        }
        let response = self
            .post_json("/api/v1/users", Some(&admin.access_token), &body)
            .await;
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    }

    pub async fn create_department(&self) -> DepartmentId {
        let now = chrono::Utc::now();
        let id = DepartmentId::now_v7();
        entity::departments::ActiveModel {
            id: Set(id),
            code: Set(format!("D-{}", id.0.simple())),
            name: Set("城管局".into()),
            kind: Set(xuncha::domain::DepartmentKind::UrbanManagement),
            contact: Set(String::new()),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&self.db)
        .await
        .unwrap();
        self.registry_changed().await;
        id
    }

    /// What the API does after every registry change it makes: instances reload their
    /// registry snapshot (names, shops' departments) on their next request.
    pub async fn registry_changed(&self) {
        xuncha::services::assignment::bump_version(&self.db)
            .await
            .unwrap();
    }

    pub async fn create_shopfront(&self) -> ShopfrontId {
        let now = chrono::Utc::now();
        let id = ShopfrontId::now_v7();
        entity::shopfronts::ActiveModel {
            id: Set(id),
            name: Set("老张面馆".into()),
            credit_code: Set(None),
            address: Set("解放路 1 号".into()),
            department_id: Set(None),
            contact: Set(String::new()),
            phone: Set(String::new()),
            lat: Set(None),
            lon: Set(None),
            zone: Set(None),
            zone_radius_m: Set(None),
            min_lat: Set(None),
            min_lon: Set(None),
            max_lat: Set(None),
            max_lon: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&self.db)
        .await
        .unwrap();
        self.registry_changed().await;
        id
    }
}

/// Asserts the API's error shape and returns the body.
pub async fn assert_error(response: reqwest::Response, status: u16, code: &str) -> Value {
    let actual = response.status();
    let json = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let text = response.text().await.unwrap();
    assert_eq!(actual, status, "status for {code}: {text}");
    assert!(json, "error responses are JSON: {text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    body
}

/// A filing body with sensible defaults; `changes` replace top-level fields.
pub fn report_body(changes: Value) -> Value {
    let mut body = json!({
        "client_id": Uuid::now_v7(),
        "category": "parking",
        "description": "三轮车占用人行道",
        "location": {"lat": 30.2500, "lon": 120.1600, "accuracy_m": 8.0, "crs": "wgs84"},
        "address": "解放路 100 号",
        "observed_at": chrono::Utc::now().to_rfc3339(),
        "severity": "normal",
    });
    if let (Some(target), Some(changes)) = (body.as_object_mut(), changes.as_object()) {
        for (k, v) in changes {
            target.insert(k.clone(), v.clone());
        }
    }
    body
}

impl TestApp {
    pub async fn file_report(&self, token: &str, changes: Value) -> Value {
        let response = self
            .post_json("/api/v1/reports", Some(token), &report_body(changes))
            .await;
        assert_eq!(response.status(), 201, "filing");
        response.json().await.unwrap()
    }

    pub async fn upload_photos(
        &self,
        token: &str,
        case_id: &str,
        kind: &str,
        files: Vec<Vec<u8>>,
    ) -> reqwest::Response {
        let mut form = reqwest::multipart::Form::new().text("kind", kind.to_owned());
        for (i, bytes) in files.into_iter().enumerate() {
            let part = reqwest::multipart::Part::bytes(bytes)
                .file_name(format!("photo-{i}.jpg"))
                .mime_str("image/jpeg")
                .unwrap();
            form = form.part("file", part);
        }
        self.client
            .post(self.url(&format!("/api/v1/reports/{case_id}/photos")))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// Sets a case's status and assignee in the database (the workflow that does this
    /// through the API lands with its own issue).
    pub async fn force_case(
        &self,
        case_id: &str,
        status: &str,
        department: Option<DepartmentId>,
        shopfront: Option<ShopfrontId>,
    ) {
        use sea_orm::{ActiveValue::Set, EntityTrait, IntoActiveModel};
        let case =
            entity::cases::Entity::find_by_id(case_id.parse::<entity::ids::CaseId>().unwrap())
                .one(&self.db)
                .await
                .unwrap()
                .unwrap();
        let overseer = match (department, shopfront) {
            (Some(d), _) => Some(d),
            (None, Some(shop)) => entity::shopfronts::Entity::find_by_id(shop)
                .one(&self.db)
                .await
                .unwrap()
                .and_then(|s| s.department_id),
            (None, None) => None,
        };
        let mut active = case.into_active_model();
        active.status = Set(xuncha::domain::CaseStatus::parse(status).unwrap());
        active.overseer_department_id = Set(overseer);
        active.assignee_department_id = Set(department);
        active.assignee_shopfront_id = Set(shopfront);
        active.assignee_kind = Set(match (department, shopfront) {
            (_, Some(_)) => Some(xuncha::domain::AssigneeKind::Shopfront),
            (Some(_), None) => Some(xuncha::domain::AssigneeKind::Department),
            _ => None,
        });
        active.update(&self.db).await.unwrap();
    }

    /// A city-wide rule sends parking to a new department; answers its worker's token.
    pub async fn parking_goes_to_a_department(&self) -> String {
        let admin = self.admin().await.access_token;
        let department = self.create_department().await;
        let rule = self
            .post_json(
                "/api/v1/assignment-rules",
                Some(&admin),
                &json!({"category": "parking", "area_id": null, "department_id": department}),
            )
            .await;
        assert_eq!(rule.status(), 201);
        self.login_scoped("department", Some(department), None)
            .await
            .access_token
    }

    pub async fn create_shopfront_of(&self, department: Option<DepartmentId>) -> ShopfrontId {
        use sea_orm::{ActiveValue::Set, EntityTrait, IntoActiveModel};
        let id = self.create_shopfront().await;
        let shop = entity::shopfronts::Entity::find_by_id(id)
            .one(&self.db)
            .await
            .unwrap()
            .unwrap();
        let mut active = shop.into_active_model();
        active.department_id = Set(department);
        active.update(&self.db).await.unwrap();
        self.registry_changed().await;
        id
    }

    /// Signs in a new supervisor or inspector bound to `areas`.
    pub async fn login_bound(&self, role: &str, areas: &[&str]) -> Session {
        self.login_new(json!({"role": role, "area_ids": areas}))
            .await
    }

    /// Makes a user through the API with what `scope` says (role, department, shop,
    /// areas) and signs them in.
    async fn login_new(&self, mut scope: Value) -> Session {
        let admin = self.admin().await;
        let role = scope["role"].as_str().unwrap_or("inspector").to_owned();
        let username = format!("{role}-{}", &Uuid::now_v7().simple().to_string()[20..]);
        scope["username"] = json!(username);
        scope["password"] = json!(PASSWORD);
        scope["display_name"] = json!("Scoped");
        let response = self
            .post_json("/api/v1/users", Some(&admin.access_token), &scope)
            .await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 201, "{body}");
        self.session(&username, PASSWORD).await
    }

    /// Makes an area through the API; answers its id.
    pub async fn create_area(&self, area: Value) -> String {
        let admin = self.admin().await;
        let response = self
            .post_json("/api/v1/areas", Some(&admin.access_token), &area)
            .await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// Signs in a new user of `role` scoped to the given department or shopfront.
    pub async fn login_scoped(
        &self,
        role: &str,
        department: Option<DepartmentId>,
        shopfront: Option<ShopfrontId>,
    ) -> Session {
        self.login_new(
            json!({"role": role, "department_id": department, "shopfront_id": shopfront}),
        )
        .await
    }
}

/// A GeoJSON square of `half` degrees either side of (lon, lat).
pub fn square(lon: f64, lat: f64, half: f64) -> Value {
    let (w, e, s, n) = (lon - half, lon + half, lat - half, lat + half);
    json!({"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]})
}
