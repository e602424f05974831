//! What every use case can reach, and how an instance gets it: a migrated database, a
//! reachable store, the first admin and the signing key.

use std::sync::Arc;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

use crate::auth::jwt::JwtKeys;
use crate::auth::password::Passwords;
use crate::config::{S3Settings, Settings, SqliteDurability};
use crate::services::bootstrap;
use crate::storage::embedded::EmbeddedS3;
use crate::storage::{ObjectStore, StoreEndpoint};

pub struct AppState {
    pub db: DatabaseConnection,
    /// Photos decoded at once: decoding is CPU and memory heavy, so it is bounded.
    pub photo_slots: Arc<tokio::sync::Semaphore>,
    pub store: ObjectStore,
    /// Password hashing, on threads of its own behind a bounded queue.
    pub passwords: crate::auth::password::Passwords,
    /// Upload bytes being received at once across all requests, spooled to temporary
    /// files (permits are KiB).
    pub upload_budget: Arc<tokio::sync::Semaphore>,
    /// Uploads in flight per user, so that one account cannot hold the whole budget.
    pub uploads_in_flight: crate::services::uploads::InFlight,
    pub jwt: JwtKeys,
    pub settings: Arc<Settings>,
    /// The spatial index behind automatic assignment.
    pub registry: crate::services::assignment::RegistryCache,
    pub case_numbers: crate::services::case_numbers::CaseNumbers,
    /// Request rates per address and per account, shared through Redis when configured.
    pub limiter: crate::limits::RateLimiter,
    /// Seals the answers kept for idempotency keys.
    pub answers: crate::services::idempotency::Sealer,
    /// Signs Web Push requests (VAPID); its public key is what phones subscribe with.
    pub vapid: crate::services::push::vapid::Vapid,
    /// Signs case histories and their daily digests (`services::evidence`).
    pub evidence: crate::services::evidence::EvidenceKey,
    /// With the embedded store (on loopback only): what passes the phones' presigned PUTs
    /// to it, through this service's own address.
    pub store_gateway: Option<crate::storage::embedded::Gateway>,
}

pub async fn connect_database(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    if settings.is_sqlite() {
        std::fs::create_dir_all(&settings.data_dir)?;
    }
    let synchronous = match settings.sqlite_synchronous {
        SqliteDurability::Full => SqliteSynchronous::Full,
        SqliteDurability::Normal => SqliteSynchronous::Normal,
    };
    let mut options = ConnectOptions::new(settings.database_url.clone());
    options
        .max_connections(settings.database_max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(5))
        .sqlx_logging(false)
        // WAL lets readers run beside the writer; the busy timeout makes concurrent
        // writers wait their turn instead of failing. `synchronous=FULL` (the default
        // setting) flushes the WAL at every commit, so an acknowledged write survives a
        // power cut.
        .map_sqlx_sqlite_opts(move |sqlite| {
            sqlite
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(synchronous)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    Database::connect(options)
        .await
        .map_err(|err| anyhow::anyhow!("XUNCHA_DATABASE_URL: cannot connect: {err}"))
}

pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None).await?;
    Ok(())
}

/// The configured S3 store, or the embedded one over `data_dir/objects`.
pub async fn open_store(settings: &Settings) -> anyhow::Result<(ObjectStore, Option<EmbeddedS3>)> {
    let (endpoint, embedded) = match &settings.s3 {
        Some(S3Settings {
            endpoint,
            region,
            access_key_id,
            secret_access_key,
            ..
        }) => (
            StoreEndpoint {
                url: endpoint.clone(),
                region: region.clone(),
                access_key_id: access_key_id.clone(),
                secret_access_key: secret_access_key.clone(),
                bucket: settings.s3_bucket.clone(),
            },
            None,
        ),
        None => {
            let root = settings.data_dir.join("objects");
            let embedded =
                EmbeddedS3::start(&root, "127.0.0.1:0".parse()?, &settings.s3_bucket).await?;
            tracing::info!(endpoint = %embedded.endpoint().url, root = %root.display(),
                "embedded S3-protocol store started");
            (embedded.endpoint().clone(), Some(embedded))
        }
    };
    let store = ObjectStore::new(&endpoint);
    store
        .ensure_bucket()
        .await
        .map_err(|err| anyhow::anyhow!("XUNCHA_S3_ENDPOINT: bucket {}: {err}", store.bucket()))?;
    Ok((store, embedded))
}

/// Everything an instance needs besides HTTP: a migrated database, a reachable store, the
/// first admin and the signing key. The `seed-demo` command uses it without serving.
pub struct Prepared {
    pub state: Arc<AppState>,
    pub embedded_store: Option<EmbeddedS3>,
}

pub async fn prepare(settings: Settings) -> anyhow::Result<Prepared> {
    let db = connect_database(&settings).await?;
    migrate(&db).await?;
    let (store, embedded_store) = open_store(&settings).await?;
    let passwords = Passwords::start(settings.password_hash_concurrency)?;
    bootstrap::ensure_admin(&db, &settings, &passwords).await?;
    let secret = bootstrap::jwt_secret(&settings)?;
    let jwt = JwtKeys::new(&secret, settings.access_token_ttl);
    let answers = crate::services::idempotency::Sealer::new(&secret);
    let vapid = crate::services::push::vapid::Vapid::new(&settings, &secret)
        .map_err(|err| anyhow::anyhow!("XUNCHA_VAPID_PRIVATE_KEY: {err}"))?;
    let evidence = crate::services::evidence::EvidenceKey::load(&settings)
        .map_err(|err| anyhow::anyhow!("XUNCHA_EVIDENCE_SIGNING_KEY: {err}"))?;
    let decoders = std::thread::available_parallelism().map_or(2, usize::from);
    let limiter = crate::limits::RateLimiter::new(&settings).await?;
    let state = Arc::new(AppState {
        db,
        photo_slots: Arc::new(tokio::sync::Semaphore::new(decoders)),
        store,
        passwords,
        upload_budget: Arc::new(tokio::sync::Semaphore::new(
            usize::try_from(settings.upload_buffer_bytes / 1024).unwrap_or(usize::MAX),
        )),
        uploads_in_flight: Default::default(),
        jwt,
        settings: Arc::new(settings),
        registry: Default::default(),
        case_numbers: Default::default(),
        limiter,
        answers,
        vapid,
        evidence,
        store_gateway: embedded_store.as_ref().map(EmbeddedS3::gateway),
    });
    Ok(Prepared {
        state,
        embedded_store,
    })
}
