//! Web Push, tested as a browser and a push service see it: the test makes a device's key
//! pair and auth secret, subscribes with an endpoint on a receiver of its own, and reads
//! what arrives there — the VAPID signature checked with the key it names, the body
//! decrypted by an RFC 8291 decryptor written here (itself checked on the RFC's example).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use aes_gcm::aead::{Aead, OsRng, rand_core::RngCore};
use aes_gcm::{Aes128Gcm, KeyInit, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, assert_error, spawn_app, spawn_app_with};
use crate::images;

// ---- The device's side: RFC 8291 decryption (RFC 8188 `aes128gcm`, one record) ----

/// What RFC 8291 derives on the way to the content key, for checking against its example.
struct Derived {
    shared: Vec<u8>,
    ikm: Vec<u8>,
    prk: Vec<u8>,
    cek: Vec<u8>,
    nonce: Vec<u8>,
}

/// The parts of an `aes128gcm` body: salt (16), record size (4), key id length (1), key
/// id (the sender's ephemeral public key), then the record.
struct Body<'a> {
    salt: &'a [u8],
    record_size: u32,
    keyid: &'a [u8],
    record: &'a [u8],
}

fn split(body: &[u8]) -> Body<'_> {
    assert!(body.len() > 21, "too short for an aes128gcm header");
    let idlen = body[20] as usize;
    Body {
        salt: &body[..16],
        record_size: u32::from_be_bytes(body[16..20].try_into().unwrap()),
        keyid: &body[21..21 + idlen],
        record: &body[21 + idlen..],
    }
}

fn derive(ua_secret: &p256::SecretKey, auth: &[u8], as_public: &[u8], salt: &[u8]) -> Derived {
    let sender = p256::PublicKey::from_sec1_bytes(as_public).expect("the key id is a P-256 key");
    let shared = p256::ecdh::diffie_hellman(ua_secret.to_nonzero_scalar(), sender.as_affine());
    let shared = shared.raw_secret_bytes().to_vec();
    // RFC 8291 §3.4: IKM = HKDF(salt = auth_secret, ikm = ECDH secret,
    //                           info = "WebPush: info" 0x00 ua_public as_public, L = 32).
    let ua_public = ua_secret.public_key().to_encoded_point(false);
    let key_info = [
        b"WebPush: info\0".as_slice(),
        ua_public.as_bytes(),
        as_public,
    ]
    .concat();
    let mut ikm = [0u8; 32];
    hkdf::Hkdf::<sha2::Sha256>::new(Some(auth), &shared)
        .expand(&key_info, &mut ikm)
        .unwrap();
    // RFC 8188 §2.2 and §2.3: PRK = HMAC-SHA-256(salt, IKM); CEK and NONCE expand it.
    let (prk, hkdf) = hkdf::Hkdf::<sha2::Sha256>::extract(Some(salt), &ikm);
    let mut cek = [0u8; 16];
    hkdf.expand(b"Content-Encoding: aes128gcm\0", &mut cek)
        .unwrap();
    let mut nonce = [0u8; 12];
    hkdf.expand(b"Content-Encoding: nonce\0", &mut nonce)
        .unwrap();
    Derived {
        shared,
        ikm: ikm.to_vec(),
        prk: prk.to_vec(),
        cek: cek.to_vec(),
        nonce: nonce.to_vec(),
    }
}

/// The plaintext of a Web Push body, as the device with `ua_secret` and `auth` reads it.
fn decrypt(body: &[u8], ua_secret: &p256::SecretKey, auth: &[u8]) -> Vec<u8> {
    let parts = split(body);
    assert_eq!(
        parts.keyid.len(),
        65,
        "the key id is the sender's uncompressed key"
    );
    assert!(
        parts.record.len() <= parts.record_size as usize,
        "one record: {} bytes in records of {}",
        parts.record.len(),
        parts.record_size
    );
    let keys = derive(ua_secret, auth, parts.keyid, parts.salt);
    // The first (and only) record: sequence number 0, so the nonce is NONCE itself.
    let padded = Aes128Gcm::new_from_slice(&keys.cek)
        .unwrap()
        .decrypt(Nonce::from_slice(&keys.nonce), parts.record)
        .expect("the record decrypts and its tag verifies");
    // The last record ends with the delimiter 0x02, then any zeros of padding.
    let end = padded
        .iter()
        .rposition(|b| *b != 0)
        .expect("a padding delimiter");
    assert_eq!(padded[end], 2, "the last record's delimiter");
    padded[..end].to_vec()
}

fn b64(text: &str) -> Vec<u8> {
    B64URL.decode(text).unwrap()
}

#[test]
fn the_decryptor_reads_the_example_of_rfc_8291() {
    // RFC 8291 §5 (the example of Appendix A).
    let ua_secret =
        p256::SecretKey::from_slice(&b64("q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94")).unwrap();
    assert_eq!(
        B64URL.encode(ua_secret.public_key().to_encoded_point(false).as_bytes()),
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
    );
    let auth = b64("BTBZMqHH6r4Tts7J_aSIgg");
    let body = b64(
        "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN",
    );
    let parts = split(&body);
    assert_eq!(B64URL.encode(parts.salt), "DGv6ra1nlYgDCS1FRnbzlw");
    assert_eq!(parts.record_size, 4096);
    assert_eq!(
        B64URL.encode(parts.keyid),
        "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
    );
    let keys = derive(&ua_secret, &auth, parts.keyid, parts.salt);
    assert_eq!(
        B64URL.encode(&keys.shared),
        "kyrL1jIIOHEzg3sM2ZWRHDRB62YACZhhSlknJ672kSs"
    );
    assert_eq!(
        B64URL.encode(&keys.ikm),
        "S4lYMb_L0FxCeq0WhDx813KgSYqU26kOyzWUdsXYyrg"
    );
    assert_eq!(
        B64URL.encode(&keys.prk),
        "09_eUZGrsvxChDCGRCdkLiDXrReGOEVeSCdCcPBSJSc"
    );
    assert_eq!(B64URL.encode(&keys.cek), "oIhVW04MRdy2XN9CiKLxTg");
    assert_eq!(B64URL.encode(&keys.nonce), "4h_95klXJ5E_qnoN");
    assert_eq!(
        decrypt(&body, &ua_secret, &auth),
        b"When I grow up, I want to be a watermelon"
    );
}

/// A browser on a device: its P-256 key pair and 16-byte auth secret, and the endpoint
/// its push service gave it (a path on the test's receiver).
struct Device {
    secret: p256::SecretKey,
    auth: [u8; 16],
    endpoint: String,
}

impl Device {
    fn new(receiver: &Receiver, name: &str) -> Self {
        let mut auth = [0u8; 16];
        OsRng.fill_bytes(&mut auth);
        Self {
            secret: p256::SecretKey::random(&mut OsRng),
            auth,
            endpoint: format!("{}/push/{name}", receiver.origin),
        }
    }

    /// What `PushSubscription.toJSON()` gives.
    fn subscription(&self) -> Value {
        json!({
            "endpoint": self.endpoint,
            "expirationTime": null,
            "keys": {
                "p256dh": B64URL.encode(self.secret.public_key().to_encoded_point(false).as_bytes()),
                "auth": B64URL.encode(self.auth),
            },
        })
    }

    async fn subscribe(&self, app: &TestApp, user: &Session) -> Value {
        let response = app
            .post_json(
                "/api/v1/push/subscriptions",
                Some(&user.access_token),
                &self.subscription(),
            )
            .await;
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    }

    /// The messages this device received (those answered 2xx), decrypted.
    fn messages(&self, receiver: &Receiver) -> Vec<Value> {
        receiver
            .requests()
            .iter()
            .filter(|r| self.endpoint.ends_with(&r.path) && r.answered < 300)
            .map(|r| serde_json::from_slice(&decrypt(&r.body, &self.secret, &self.auth)).unwrap())
            .collect()
    }
}

// ---- The push service's side: a receiver that records what it is sent ----

#[derive(Clone, Debug)]
struct Request {
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    answered: u16,
}

impl Request {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
}

/// A push service on loopback: it answers each request with the next of `answers`, then
/// `201 Created` as push services do.
struct Receiver {
    origin: String,
    log: Arc<Mutex<Vec<Request>>>,
}

impl Receiver {
    async fn start(answers: &[u16]) -> Self {
        let log: Arc<Mutex<Vec<Request>>> = Arc::default();
        let answers = Arc::new(Mutex::new(answers.iter().copied().collect::<VecDeque<_>>()));
        let kept = log.clone();
        let server = HttpServer::new(move || {
            let (log, answers) = (kept.clone(), answers.clone());
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let (log, answers) = (log.clone(), answers.clone());
                async move {
                    let answered = answers.lock().unwrap().pop_front().unwrap_or(201);
                    log.lock().unwrap().push(Request {
                        path: req.path().to_owned(),
                        headers: req
                            .headers()
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
                            .collect(),
                        body: body.to_vec(),
                        answered,
                    });
                    HttpResponse::build(actix_web::http::StatusCode::from_u16(answered).unwrap())
                        .finish()
                }
            }))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let origin = format!("http://{}", server.addrs()[0]);
        tokio::spawn(server.run());
        Self { origin, log }
    }

    fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }
}

/// A worker of the department that parking cases go to, signed in.
async fn parking_worker(app: &TestApp) -> Session {
    Session {
        user_id: uuid::Uuid::nil(),
        access_token: app.parking_goes_to_a_department().await,
        refresh_token: String::new(),
    }
}

/// One round of this instance's push work, as its workers do it every 2 s.
async fn push_round(app: &TestApp) {
    let client = xuncha::services::outbound::OutboundPolicy::for_push(&app.state.settings)
        .client(Duration::from_secs(10))
        .unwrap();
    xuncha::services::push::fan_out_due(&app.state)
        .await
        .unwrap();
    xuncha::services::push::send_due(&app.state, &client)
        .await
        .unwrap();
}

/// Drives rounds until the receiver has `count` requests (or 15 s pass), then lets any
/// request beyond them arrive (a duplicate would).
async fn requests_after_rounds(app: &TestApp, receiver: &Receiver, count: usize) -> Vec<Request> {
    for _ in 0..60 {
        if receiver.requests().len() >= count {
            break;
        }
        push_round(app).await;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    push_round(app).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    receiver.requests()
}

async fn act(app: &TestApp, token: &str, case: &Value, action: &str, extra: Value) -> Value {
    let mut body = json!({"version": case["version"]});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let response = app
        .post_json(
            &format!("/api/v1/reports/{}/{action}", case["id"].as_str().unwrap()),
            Some(token),
            &body,
        )
        .await;
    let status = response.status();
    let answer: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{action}: {answer}");
    answer
}

/// The JWT's claims, after checking the `vapid t=…, k=…` header (RFC 8292) against the key
/// it names and the key the server publishes.
async fn vapid_claims(app: &TestApp, request: &Request, audience: &str) -> Value {
    let header = request.header("authorization");
    let params = header.strip_prefix("vapid ").expect("the vapid scheme");
    let mut token = "";
    let mut key = "";
    for param in params.split(',') {
        match param.trim().split_once('=') {
            Some(("t", value)) => token = value,
            Some(("k", value)) => key = value,
            _ => panic!("unexpected parameter in {header}"),
        }
    }
    let published: Value = app
        .get("/api/v1/push/key", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        published["public_key"], key,
        "k is the key phones subscribe with"
    );
    let point = b64(key);
    assert_eq!((point.len(), point[0]), (65, 4));
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "aud", "sub"]);
    jsonwebtoken::decode::<Value>(
        token,
        &jsonwebtoken::DecodingKey::from_ec_der(&point),
        &validation,
    )
    .expect("an ES256 token signed by k, for this push service")
    .claims
}

#[tokio::test(flavor = "multi_thread")]
async fn a_department_worker_hears_of_a_case_assigned_to_them_in_a_message_only_their_device_reads()
{
    let app = spawn_app().await;
    let receiver = Receiver::start(&[]).await;
    let worker = parking_worker(&app).await;
    let phone = Device::new(&receiver, "worker-phone");
    let subscribed = phone.subscribe(&app, &worker).await;
    assert_eq!(subscribed["endpoint"], phone.endpoint);

    let inspector = app.login_as("inspector").await;
    let case = app.file_report(&inspector.access_token, json!({})).await;
    assert_eq!(case["status"], "assigned");

    let got = requests_after_rounds(&app, &receiver, 1).await;
    assert_eq!(got.len(), 1, "one message, sent once");
    let request = &got[0];
    assert_eq!(request.header("content-encoding"), "aes128gcm");
    assert_eq!(request.header("content-type"), "application/octet-stream");
    assert_eq!(request.header("ttl"), "86400");
    assert_eq!(request.header("urgency"), "high");

    let claims = vapid_claims(&app, request, &receiver.origin).await;
    let now = chrono::Utc::now().timestamp();
    let exp = claims["exp"].as_i64().unwrap();
    assert!(
        exp > now && exp <= now + 24 * 3600,
        "exp within a day: {claims}"
    );
    assert_eq!(claims["sub"], xuncha::config::DEFAULT_VAPID_SUBJECT);

    // Only the device's keys open it.
    let other = Device::new(&receiver, "someone-else");
    let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        decrypt(&request.body, &other.secret, &other.auth)
    }));
    assert!(refused.is_err(), "another device cannot read it");
    let messages = phone.messages(&receiver);
    let message = &messages[0];
    assert_eq!(message["event"], "assigned");
    assert_eq!(message["case_id"], case["id"]);
    assert_eq!(message["case_no"], case["case_no"]);
    assert_eq!(message["title"], "新案件已派遣");
    let body = message["body"].as_str().unwrap();
    assert!(
        body.contains(case["case_no"].as_str().unwrap()) && body.contains("乱停乱放"),
        "{body}"
    );
    assert!(serde_json::to_vec(message).unwrap().len() < 3072);

    // The subscription shows its success.
    let listed: Value = app
        .get("/api/v1/push/subscriptions", Some(&worker.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert!(
        listed["items"][0]["last_success_at"].is_string(),
        "{listed}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_enabled_people_of_the_assignee_hear_of_an_assignment() {
    let app = spawn_app().await;
    let receiver = Receiver::start(&[]).await;
    let admin = app.admin().await;
    let supervisor = app.login_as("supervisor").await;
    let inspector = app.login_as("inspector").await;
    let department = app.create_department().await;
    let elsewhere = app.create_department().await;
    let worker = app.login_scoped("department", Some(department), None).await;
    let colleague = app.login_scoped("department", Some(department), None).await;
    let leaver = app.login_scoped("department", Some(department), None).await;
    let stranger = app.login_scoped("department", Some(elsewhere), None).await;
    let devices = [
        (Device::new(&receiver, "worker"), &worker),
        (Device::new(&receiver, "colleague"), &colleague),
        (Device::new(&receiver, "leaver"), &leaver),
        (Device::new(&receiver, "stranger"), &stranger),
        (Device::new(&receiver, "supervisor"), &supervisor),
    ];
    for (device, user) in &devices {
        device.subscribe(&app, user).await;
    }
    let disabled = app
        .patch_json(
            &format!("/api/v1/users/{}", leaver.user_id),
            &admin.access_token,
            &json!({"disabled": true}),
        )
        .await;
    assert_eq!(disabled.status(), 200);

    let case = app.file_report(&inspector.access_token, json!({})).await;
    act(
        &app,
        &supervisor.access_token,
        &case,
        "assign",
        json!({"department_id": department}),
    )
    .await;

    requests_after_rounds(&app, &receiver, 2).await;
    let heard: Vec<usize> = devices
        .iter()
        .map(|(device, _)| device.messages(&receiver).len())
        .collect();
    // The department's two enabled workers; not the disabled one, another department's,
    // or the supervisor who assigned it.
    assert_eq!(heard, [1, 1, 0, 0, 0]);
    assert_eq!(devices[0].0.messages(&receiver)[0]["event"], "assigned");
}

#[tokio::test(flavor = "multi_thread")]
async fn someone_disabled_after_the_fan_out_hears_nothing_more() {
    let app = spawn_app().await;
    // This test's rounds only: a worker's send between the fan-out and the disabling
    // would deliver first.
    app.stop_workers().await;
    let receiver = Receiver::start(&[]).await;
    let admin = app.admin().await;
    let supervisor = app.login_as("supervisor").await;
    let inspector = app.login_as("inspector").await;
    let department = app.create_department().await;
    let worker = app.login_scoped("department", Some(department), None).await;
    let phone = Device::new(&receiver, "worker");
    phone.subscribe(&app, &worker).await;
    let case = app.file_report(&inspector.access_token, json!({})).await;
    act(
        &app,
        &supervisor.access_token,
        &case,
        "assign",
        json!({"department_id": department}),
    )
    .await;
    // The message is waiting for the worker's device when the worker is disabled.
    xuncha::services::push::fan_out_due(&app.state)
        .await
        .unwrap();
    let disabled = app
        .patch_json(
            &format!("/api/v1/users/{}", worker.user_id),
            &admin.access_token,
            &json!({"disabled": true}),
        )
        .await;
    assert_eq!(disabled.status(), 200);
    push_round(&app).await;
    assert!(receiver.requests().is_empty());
    use sea_orm::EntityTrait;
    let deliveries = entity::push_deliveries::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(
        deliveries[0].last_error.as_deref(),
        Some("the user is disabled")
    );
    assert!(deliveries[0].delivered_at.is_none());
}

/// A case filed by `inspector`, assigned to `worker`'s department by `supervisor`,
/// accepted and rectified by `worker`; both devices subscribed.
struct Rectified {
    app: TestApp,
    receiver: Receiver,
    inspector: Session,
    inspector_phone: Device,
    worker_phone: Device,
    case: Value,
}

async fn rectified_case() -> Rectified {
    let app = spawn_app().await;
    let receiver = Receiver::start(&[]).await;
    let inspector = app.login_as("inspector").await;
    let supervisor = app.login_as("supervisor").await;
    let department = app.create_department().await;
    let worker = app.login_scoped("department", Some(department), None).await;
    let inspector_phone = Device::new(&receiver, "inspector");
    let worker_phone = Device::new(&receiver, "worker");
    inspector_phone.subscribe(&app, &inspector).await;
    worker_phone.subscribe(&app, &worker).await;

    let case = app.file_report(&inspector.access_token, json!({})).await;
    let case = act(
        &app,
        &supervisor.access_token,
        &case,
        "assign",
        json!({"department_id": department}),
    )
    .await;
    let case = act(&app, &worker.access_token, &case, "accept", json!({})).await;
    let photo = app
        .upload_photos(
            &worker.access_token,
            case["id"].as_str().unwrap(),
            "after",
            vec![images::jpeg(320, 240, 31)],
        )
        .await;
    assert_eq!(photo.status(), 201);
    let photo: Value = photo.json().await.unwrap();
    let case = act(
        &app,
        &worker.access_token,
        &case,
        "rectify",
        json!({"photo_ids": [photo["items"][0]["id"]]}),
    )
    .await;
    assert_eq!(case["status"], "rectified");
    requests_after_rounds(&app, &receiver, 2).await;
    Rectified {
        app,
        receiver,
        inspector,
        inspector_phone,
        worker_phone,
        case,
    }
}

fn events(device: &Device, receiver: &Receiver) -> Vec<String> {
    device
        .messages(receiver)
        .iter()
        .map(|m| m["event"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rectification_waiting_for_verification_is_told_to_the_filing_inspector_only() {
    let r = rectified_case().await;
    assert_eq!(events(&r.worker_phone, &r.receiver), ["assigned"]);
    assert_eq!(events(&r.inspector_phone, &r.receiver), ["rectified"]);
    let message = &r.inspector_phone.messages(&r.receiver)[0];
    assert_eq!(message["case_id"], r.case["id"]);
    assert_eq!(message["title"], "案件已整改，待您核查");
    let rectified = r
        .receiver
        .requests()
        .into_iter()
        .find(|q| r.inspector_phone.endpoint.ends_with(&q.path))
        .unwrap();
    assert_eq!(rectified.header("urgency"), "normal");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_rectification_is_told_to_the_assignee_and_not_to_the_rejecter() {
    let r = rectified_case().await;
    act(
        &r.app,
        &r.inspector.access_token,
        &r.case,
        "reject",
        json!({"note": "路面仍有积水"}),
    )
    .await;
    requests_after_rounds(&r.app, &r.receiver, 3).await;
    assert_eq!(
        events(&r.worker_phone, &r.receiver),
        ["assigned", "rejected"]
    );
    assert_eq!(events(&r.inspector_phone, &r.receiver), ["rectified"]);
    let rejected = &r.worker_phone.messages(&r.receiver)[1];
    assert_eq!(rejected["title"], "整改未通过，请返工");
    assert_eq!(rejected["status"], "assigned");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_overdue_case_is_told_to_its_assignee_once() {
    let app = spawn_app().await;
    let receiver = Receiver::start(&[]).await;
    let worker = parking_worker(&app).await;
    let phone = Device::new(&receiver, "worker");
    phone.subscribe(&app, &worker).await;
    let inspector = app.login_as("inspector").await;
    let case = app.file_report(&inspector.access_token, json!({})).await;
    requests_after_rounds(&app, &receiver, 1).await;

    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    let id: entity::ids::CaseId = case["id"].as_str().unwrap().parse().unwrap();
    entity::cases::Entity::update_many()
        .col_expr(
            entity::cases::Column::DeadlineAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::minutes(5)),
        )
        .filter(entity::cases::Column::Id.eq(id))
        .exec(&app.db)
        .await
        .unwrap();
    let swept = xuncha::services::notify::sweep_overdue(&app.state)
        .await
        .unwrap();
    let again = xuncha::services::notify::sweep_overdue(&app.state)
        .await
        .unwrap();
    assert_eq!((swept, again), (1, 0));
    requests_after_rounds(&app, &receiver, 2).await;
    assert_eq!(events(&phone, &receiver), ["assigned", "overdue"]);
    let overdue = &phone.messages(&receiver)[1];
    assert_eq!(overdue["case_id"], case["id"]);
    assert_eq!(overdue["title"], "案件已超期");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_instances_fan_out_and_send_each_message_once() {
    let app = spawn_app().await;
    let second = app.second_instance().await;
    let receiver = Receiver::start(&[]).await;
    let worker = parking_worker(&app).await;
    let phone = Device::new(&receiver, "worker");
    let tablet = Device::new(&receiver, "worker-tablet");
    phone.subscribe(&app, &worker).await;
    tablet.subscribe(&app, &worker).await;
    let inspector = app.login_as("inspector").await;
    let mut filed = Vec::new();
    for (i, base) in [&app.address, &second, &app.address, &second]
        .into_iter()
        .enumerate()
    {
        let response = app
            .client
            .post(format!("{base}/api/v1/reports"))
            .bearer_auth(&inspector.access_token)
            .json(&crate::helpers::report_body(
                json!({"description": format!("第 {i} 件")}),
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        filed.push(response.json::<Value>().await.unwrap()["id"].clone());
    }
    // Both instances' workers run; this one races them with rounds of its own.
    let rounds = (0..4).map(|_| push_round(&app));
    futures_util::future::join_all(rounds).await;
    let got = requests_after_rounds(&app, &receiver, 8).await;
    tokio::time::sleep(Duration::from_secs(5)).await; // time for a duplicate to arrive
    assert_eq!(receiver.requests().len(), got.len());
    assert_eq!(got.len(), 8, "four cases, two devices, each message once");
    for device in [&phone, &tablet] {
        let mut heard: Vec<Value> = device
            .messages(&receiver)
            .iter()
            .map(|m| m["case_id"].clone())
            .collect();
        heard.sort_by_key(|id| id.to_string());
        let mut expected = filed.clone();
        expected.sort_by_key(|id| id.to_string());
        assert_eq!(heard, expected);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_subscription_its_push_service_says_is_gone_is_removed() {
    let app = spawn_app().await;
    let receiver = Receiver::start(&[410]).await;
    let worker = parking_worker(&app).await;
    let phone = Device::new(&receiver, "old-phone");
    phone.subscribe(&app, &worker).await;
    let inspector = app.login_as("inspector").await;
    app.file_report(&inspector.access_token, json!({})).await;
    let got = requests_after_rounds(&app, &receiver, 1).await;
    assert_eq!(got.iter().map(|r| r.answered).collect::<Vec<_>>(), [410]);

    let listed: Value = app
        .get("/api/v1/push/subscriptions", Some(&worker.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"], json!([]));
    use sea_orm::{EntityTrait, PaginatorTrait};
    assert_eq!(
        entity::push_deliveries::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0,
        "its deliveries went with it"
    );
    // A later case finds nobody to send to.
    app.file_report(&inspector.access_token, json!({})).await;
    assert_eq!(requests_after_rounds(&app, &receiver, 2).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_send_is_retried_and_delivered_once() {
    let app = spawn_app().await;
    let receiver = Receiver::start(&[500]).await;
    let worker = parking_worker(&app).await;
    let phone = Device::new(&receiver, "phone");
    phone.subscribe(&app, &worker).await;
    let inspector = app.login_as("inspector").await;
    let case = app.file_report(&inspector.access_token, json!({})).await;
    requests_after_rounds(&app, &receiver, 1).await;

    use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};
    let failed = entity::push_deliveries::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].attempts, 1);
    assert!(failed[0].delivered_at.is_none());
    assert!(
        failed[0].last_error.as_deref().unwrap().contains("500"),
        "{:?}",
        failed[0].last_error
    );
    assert!(failed[0].next_attempt_at > chrono::Utc::now(), "a backoff");
    // The backoff is over.
    let mut due = failed[0].clone().into_active_model();
    due.next_attempt_at = Set(chrono::Utc::now());
    due.update(&app.db).await.unwrap();

    let got = requests_after_rounds(&app, &receiver, 2).await;
    assert_eq!(
        got.iter().map(|r| r.answered).collect::<Vec<_>>(),
        [500, 201]
    );
    let messages = phone.messages(&receiver);
    assert_eq!(messages.len(), 1, "delivered once");
    assert_eq!(messages[0]["case_id"], case["id"]);
    let delivered = entity::push_deliveries::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(delivered[0].attempts, 2);
    assert!(delivered[0].delivered_at.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_case_held_for_its_photo_is_told_of_when_the_photo_arrives() {
    let app = spawn_app_with(&[("XUNCHA_DISPATCH_WAIT_SECONDS", "600")]).await;
    let receiver = Receiver::start(&[]).await;
    let worker = parking_worker(&app).await;
    let phone = Device::new(&receiver, "phone");
    phone.subscribe(&app, &worker).await;
    let inspector = app.login_as("inspector").await;
    let case = app.file_report(&inspector.access_token, json!({})).await;
    assert!(case["held_until"].is_string());
    assert!(
        requests_after_rounds(&app, &receiver, 1).await.is_empty(),
        "not while held"
    );
    let photo = app
        .upload_photos(
            &inspector.access_token,
            case["id"].as_str().unwrap(),
            "before",
            vec![images::jpeg(320, 240, 5)],
        )
        .await;
    assert_eq!(photo.status(), 201);
    requests_after_rounds(&app, &receiver, 1).await;
    assert_eq!(events(&phone, &receiver), ["assigned"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_key_to_subscribe_with_is_public() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/push/key", None).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let key = b64(body["public_key"].as_str().unwrap());
    assert!(p256::PublicKey::from_sec1_bytes(&key).is_ok() && key.len() == 65);
    // A second instance sharing the signing secret signs with the same key.
    let second = app.second_instance().await;
    let there: Value = app
        .client
        .get(format!("{second}/api/v1/push/key"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(there, body);
}

#[tokio::test(flavor = "multi_thread")]
async fn subscribing_refuses_bad_endpoints_and_keys_field_by_field() {
    let app = spawn_app().await;
    let user = app.login_as("inspector").await;
    let receiver = Receiver::start(&[]).await;
    let good = Device::new(&receiver, "phone").subscription();
    let with = |path: &[&str], value: Value| {
        let mut body = good.clone();
        let mut slot = &mut body;
        for part in path {
            slot = &mut slot[*part];
        }
        *slot = value;
        body
    };
    let off_curve = {
        let mut point = vec![4u8];
        point.extend([7u8; 64]);
        B64URL.encode(point)
    };
    for (body, field) in [
        (with(&["endpoint"], json!("not a url")), "endpoint"),
        (
            with(&["endpoint"], json!("ftp://push.example.com/x")),
            "endpoint",
        ),
        (
            with(&["endpoint"], json!("http://10.0.0.5/push/x")),
            "endpoint",
        ),
        (
            with(&["endpoint"], json!("https://169.254.169.254/x")),
            "endpoint",
        ),
        (
            with(&["endpoint"], json!("http://8.8.8.8/push/x")),
            "endpoint",
        ),
        (
            with(
                &["endpoint"],
                json!(format!("https://8.8.8.8/{}", "a".repeat(1000))),
            ),
            "endpoint",
        ),
        (with(&["keys", "p256dh"], json!("short")), "keys.p256dh"),
        (with(&["keys", "p256dh"], json!(off_curve)), "keys.p256dh"),
        (
            with(&["keys", "p256dh"], json!("not base64 at all!")),
            "keys.p256dh",
        ),
        (
            with(&["keys", "auth"], json!(B64URL.encode([1u8; 15]))),
            "keys.auth",
        ),
        (with(&["expirationTime"], json!(1_000)), "expirationTime"),
        (with(&["keys", "auth"], json!(5)), "keys.auth"),
        (with(&["extra"], json!(1)), "extra"),
    ] {
        let response = app
            .post_json(
                "/api/v1/push/subscriptions",
                Some(&user.access_token),
                &body,
            )
            .await;
        let error = assert_error(response, 422, "validation_failed").await;
        assert!(
            error["error"]["fields"][field].is_string(),
            "{field}: {error}"
        );
    }
    let mut no_keys = good.clone();
    no_keys.as_object_mut().unwrap().remove("keys");
    let response = app
        .post_json(
            "/api/v1/push/subscriptions",
            Some(&user.access_token),
            &no_keys,
        )
        .await;
    assert_error(response, 422, "validation_failed").await;
    let anonymous = app
        .post_json("/api/v1/push/subscriptions", None, &good)
        .await;
    assert_error(anonymous, 401, "unauthorized").await;
    // None of them was kept.
    let listed: Value = app
        .get("/api/v1/push/subscriptions", Some(&user.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_device_subscribed_again_by_whoever_signed_in_there_moves_to_them() {
    let app = spawn_app().await;
    let receiver = Receiver::start(&[]).await;
    let first = app.login_as("inspector").await;
    let second = app.login_as("inspector").await;
    let phone = Device::new(&receiver, "shared-phone");
    let made = phone.subscribe(&app, &first).await;
    let again = app
        .post_json(
            "/api/v1/push/subscriptions",
            Some(&second.access_token),
            &phone.subscription(),
        )
        .await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], made["id"]);
    for (user, count) in [(&first, 0), (&second, 1)] {
        let listed: Value = app
            .get("/api/v1/push/subscriptions", Some(&user.access_token))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(listed["items"].as_array().unwrap().len(), count);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_keeps_ten_devices_and_the_oldest_is_replaced() {
    let app = spawn_app().await;
    let receiver = Receiver::start(&[]).await;
    let user = app.login_as("inspector").await;
    let mut ids = Vec::new();
    for i in 0..11 {
        let made = Device::new(&receiver, &format!("device-{i}"))
            .subscribe(&app, &user)
            .await;
        ids.push(made["id"].clone());
    }
    let listed: Value = app
        .get("/api/v1/push/subscriptions", Some(&user.access_token))
        .await
        .json()
        .await
        .unwrap();
    let kept: Vec<Value> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].clone())
        .collect();
    assert_eq!(kept, ids[1..]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_removes_their_own_subscription_and_nobody_elses() {
    let app = spawn_app().await;
    let receiver = Receiver::start(&[]).await;
    let owner = app.login_as("department").await;
    let other = app.login_as("inspector").await;
    let made = Device::new(&receiver, "phone")
        .subscribe(&app, &owner)
        .await;
    let path = app.url(&format!(
        "/api/v1/push/subscriptions/{}",
        made["id"].as_str().unwrap()
    ));
    let delete = |token: &str| app.client.delete(&path).bearer_auth(token).send();
    assert_error(delete(&other.access_token).await.unwrap(), 404, "not_found").await;
    assert_eq!(delete(&owner.access_token).await.unwrap().status(), 204);
    assert_error(delete(&owner.access_token).await.unwrap(), 404, "not_found").await;
    let listed: Value = app
        .get("/api/v1/push/subscriptions", Some(&owner.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"], json!([]));
}
