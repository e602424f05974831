//! Builds the app from settings: database (migrated), object store (embedded unless
//! configured), the admin on an empty database, then the HTTP server on a bound listener
//! (port 0 works, for tests).

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{Compress, DefaultHeaders, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::config::Settings;
use crate::error::{self, ApiError, Error, extractors};
use crate::routes;
use crate::state::{AppState, prepare};
use crate::storage::embedded::EmbeddedS3;
use crate::telemetry::{self, Metrics};
use crate::workers::Workers;

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    workers: Workers,
    _embedded_store: Option<EmbeddedS3>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let bind = settings.bind;
        let listener = TcpListener::bind(bind)
            .map_err(|err| anyhow::anyhow!("XUNCHA_BIND: cannot listen on {bind}: {err}"))?;
        let prepared = prepare(settings).await?;
        let state = web::Data::from(prepared.state);
        let port = listener.local_addr()?.port();
        let server = serve(listener, state.clone())?;
        let workers = Workers::default();
        start_orphan_sweep(&workers, state.clone());
        start_idempotency_sweep(&workers, state.clone());
        start_rate_count_sweep(&workers, state.clone());
        start_hold_release(&workers, state.clone());
        start_evidence_digests(&workers, state.clone());
        crate::services::notify::start_workers(&workers, state.clone().into_inner())
            .map_err(|err| anyhow::anyhow!("webhook sender cannot start: {err}"))?;
        crate::services::push::start_workers(&workers, state.clone().into_inner())
            .map_err(|err| anyhow::anyhow!("push sender cannot start: {err}"))?;
        Ok(Self {
            port,
            server,
            state,
            workers,
            _embedded_store: prepared.embedded_store,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state, for commands and tests that call services directly.
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// The background workers, for tests that stop them and check they ended.
    pub fn workers(&self) -> Workers {
        self.workers.clone()
    }

    /// Serves until SIGTERM or Ctrl-C, then stops taking connections and lets requests in
    /// flight finish (up to 30 s), then lets the background workers finish their rounds.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        // The workers hear the stop signal when the server does, so their last rounds end
        // within the same 30 s as the requests in flight.
        let workers = self.workers.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            workers.cancel();
        });
        let served = self.server.await;
        let left = self.workers.stop(Duration::from_secs(5)).await;
        if !left.is_empty() {
            tracing::warn!(?left, "background workers still running at shutdown");
        }
        served
    }
}

/// SIGTERM or Ctrl-C, as actix's server listens for them.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// How often, and past what age, photo objects without a row are removed.
const SWEEP_EVERY: Duration = Duration::from_secs(3600);
const ORPHAN_MIN_AGE_SECS: i64 = 3600;

/// Runs the orphan sweep in the background, and the removal of expired direct uploads.
/// Several instances may sweep at once: deleting an object twice is harmless, and young
/// objects (uploads in flight) are left alone.
fn start_orphan_sweep(workers: &Workers, state: web::Data<AppState>) {
    workers.every("orphan sweep", SWEEP_EVERY, SWEEP_EVERY, move || {
        let state = state.clone();
        async move {
            let min_age = chrono::Duration::seconds(ORPHAN_MIN_AGE_SECS);
            if let Err(err) = crate::services::photos::sweep_orphans(&state, min_age).await {
                tracing::warn!(error = %err, "orphan sweep failed");
            }
            if let Err(err) = crate::services::direct_uploads::sweep(&state).await {
                tracing::warn!(error = %err, "direct upload sweep failed");
            }
        }
    });
}

/// Removes the answers kept for idempotency keys once they are a day old.
fn start_idempotency_sweep(workers: &Workers, state: web::Data<AppState>) {
    workers.every("idempotency sweep", SWEEP_EVERY, SWEEP_EVERY, move || {
        let state = state.clone();
        async move {
            let at = crate::services::now();
            if let Err(err) = crate::services::idempotency::sweep(&state.db, at).await {
                tracing::warn!(error = %err, "idempotency sweep failed");
            }
        }
    });
}

/// Forgets the in-memory request counts of idle addresses and accounts, so that their
/// number is bounded by recent traffic, not by every address ever seen.
fn start_rate_count_sweep(workers: &Workers, state: web::Data<AppState>) {
    const EVERY: Duration = Duration::from_secs(60);
    workers.every("rate count sweep", EVERY, EVERY, move || {
        let state = state.clone();
        async move { state.limiter.forget_idle() }
    });
}

/// Ends the holds for evidence whose wait is over, so that the change reaches the
/// assignee's sync.
fn start_hold_release(workers: &Workers, state: web::Data<AppState>) {
    const EVERY: Duration = Duration::from_secs(15);
    workers.every("hold release", EVERY, EVERY, move || {
        let state = state.clone();
        async move {
            if let Err(err) = crate::services::sync::release_expired_holds(&state).await {
                tracing::warn!(error = %err, "releasing expired holds failed");
            }
        }
    });
}

/// Seals the days that have ended into signed digests of case histories and publishes
/// them. Instances may race for a day: one seals it, the others find it sealed.
fn start_evidence_digests(workers: &Workers, state: web::Data<AppState>) {
    const EVERY: Duration = Duration::from_secs(600);
    workers.every(
        "evidence digests",
        EVERY,
        Duration::from_secs(30),
        move || {
            let state = state.clone();
            async move {
                if let Err(err) = crate::services::evidence::seal_due(&state).await {
                    tracing::warn!(error = %err, "sealing evidence digests failed");
                }
            }
        },
    );
}

fn serve(listener: TcpListener, state: web::Data<AppState>) -> anyhow::Result<Server> {
    let metrics = web::Data::new(Metrics::new()?);
    let policy = web::Data::new(routes::web_app::ContentSecurityPolicy::new(&state.settings));
    let server = HttpServer::new(move || {
        let (app, openapi) = App::new()
            .into_utoipa_app()
            .openapi(routes::docs::ApiDoc::openapi())
            .app_data(state.clone())
            .app_data(metrics.clone())
            .app_data(extractors::path_config())
            .configure(routes::health::routes)
            .configure(routes::api_v1)
            .split_for_parts();
        let mut openapi = openapi;
        utoipa::Modify::modify(&routes::docs::StandardErrors, &mut openapi);
        app.app_data(web::Data::new(openapi))
            .service(SwaggerUi::new("/docs/{_:.*}").config(Config::from("/api/v1/openapi.json")))
            .route(
                "/docs",
                web::get().to(|| async {
                    HttpResponse::PermanentRedirect()
                        .insert_header(("Location", "/docs/"))
                        .finish()
                }),
            )
            .configure(routes::open311::routes)
            .configure(|cfg| routes::web_app::routes(cfg, policy.clone()))
            .configure(|cfg| routes::direct_uploads::forward_routes(cfg, &state))
            .default_service(web::to(|| async {
                Err::<HttpResponse, ApiError>(Error::not_found().into())
            }))
            .wrap(from_fn(error::shape_errors))
            .wrap(from_fn(crate::idempotency::replay_or_keep))
            .wrap(from_fn(crate::body_deadline::bound_body_time))
            .wrap(from_fn(crate::conditional::etag_json))
            .wrap(Compress::default())
            .wrap(from_fn(crate::client::limit_rate))
            .wrap(from_fn(telemetry::observe))
            // Outermost, so that every answer has it, the rate limiter's 429 included.
            .wrap(DefaultHeaders::new().add((header::X_CONTENT_TYPE_OPTIONS, "nosniff")))
    })
    .listen(listener)?
    .shutdown_timeout(30)
    .run();
    Ok(server)
}
