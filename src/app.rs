//! The composition root: the only place that knows every module. It builds them, wires the
//! request pipeline, registers their routes and runs the server.

use crate::config::Config;
use crate::embedded_pg::{EmbeddedPostgres, PostgresStatus, Supervision};
use actix_web::middleware::from_fn;
use agora_identity::IdentityModule;
use agora_kernel::cache::Cache;
use agora_kernel::events::EventBus;
use agora_kernel::http::{assign_request_id, normalize_errors, AgoraRootSpan};
use agora_kernel::idempotency::{self, IdempotencySettings};
use agora_kernel::jobs::{JobMetrics, JobRegistry, WorkerPool, WorkerSettings};
use agora_kernel::metrics::{self, Metrics};
use agora_kernel::outbound::Outbound;
use agora_kernel::platform::PlatformToken;
use agora_kernel::ports::{
    AccountEmail, BoxFuture, PersonalDataHolder, PortError, ShopAddress, ShopFounder, ShopOwner, ShopperPrices,
    TransactionalMail,
};
use agora_kernel::rate_limit::{self, RateLimiter, RateLimits};
use agora_kernel::redis::Redis;
use agora_kernel::sealing::Sealer;
use agora_kernel::security_headers::{self, SecurityHeaders};
use agora_kernel::storage::ConfiguredStorage;
use agora_kernel::{ApiError, Database, DbSettings, Module};
use agora_notifications::{NotificationsModule, SendEmail};
use agora_tenancy::TenancyModule;
use paperclip::actix::{api_v2_operation, web, Apiv2Schema, OpenApiExt};
use paperclip::v2::models::{DefaultApiRaw, Info};
use secrecy::SecretString;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Embedded(#[from] crate::embedded_pg::EmbeddedError),
    #[error("database: {0}")]
    Database(String),
    #[error("redis: {0}")]
    Redis(String),
    #[error("migration: {0}")]
    Migration(String),
    #[error("cannot listen on {addr}: {cause}")]
    Bind { addr: String, cause: String },
    #[error("{0}")]
    Other(String),
}

/// Where the database is: an external server, or the embedded cluster this process supervises.
pub struct DatabaseHandle {
    pub url: SecretString,
    embedded: Option<EmbeddedPostgres>,
}

impl DatabaseHandle {
    /// Uses `DATABASE_URL`, or starts the embedded cluster under the data directory.
    pub async fn open(config: &Config) -> Result<Self, StartError> {
        if let Some(url) = &config.database_url {
            return Ok(Self { url: url.clone(), embedded: None });
        }
        let data_dir = config.data_dir.clone();
        let supervision = Supervision { max_exits: config.embedded_pg_max_exits };
        let embedded = tokio::task::spawn_blocking(move || EmbeddedPostgres::start_supervised(&data_dir, supervision))
            .await
            .map_err(|e| StartError::Other(e.to_string()))??;
        let url = SecretString::from(embedded.connection_string("agora"));
        Ok(Self { url, embedded: Some(embedded) })
    }

    /// The embedded cluster's supervisor status; `None` for an external server.
    pub fn postgres_status(&self) -> Option<watch::Receiver<PostgresStatus>> {
        self.embedded.as_ref().map(EmbeddedPostgres::status)
    }

    /// Stops the embedded cluster, if any, cleanly.
    pub async fn close(self) {
        if let Some(embedded) = self.embedded {
            match tokio::task::spawn_blocking(move || embedded.stop()).await {
                Ok(Ok(())) => tracing::info!("embedded PostgreSQL stopped"),
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "embedded PostgreSQL did not stop cleanly")
                }
                Err(e) => tracing::error!(error = %e, "embedded PostgreSQL stop task failed"),
            }
        }
    }
}

/// Everything the HTTP layer and the workers share. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Config,
    pub db: Database,
    pub redis: Option<Redis>,
    pub tenancy: TenancyModule,
    pub notifications: NotificationsModule,
    pub webhooks: agora_webhooks::WebhooksModule,
    pub identity: IdentityModule,
    pub catalog: agora_catalog::CatalogModule,
    pub inventory: agora_inventory::InventoryModule,
    pub pricing: agora_pricing::PricingModule,
    pub cart: agora_cart::CartModule,
    pub customers: agora_customers::CustomersModule,
    pub metrics: Metrics,
    pub cache: Cache,
    pub limiter: RateLimiter,
    /// Seals secrets at rest: module secrets and stored idempotent responses.
    pub sealer: Sealer,
    pub bus: EventBus,
    pub jobs: Arc<JobRegistry>,
    pub job_metrics: Option<JobMetrics>,
    /// The embedded PostgreSQL this process supervises, if any.
    pub embedded_pg: Option<EmbeddedPgWatch>,
    /// Where files are kept (`AGORA_STORAGE_URL`), opened on first use.
    pub storage: ConfiguredStorage,
}

/// The embedded PostgreSQL as its supervisor sees it, for `/readyz` and `/metrics`.
#[derive(Clone)]
pub struct EmbeddedPgWatch {
    status: watch::Receiver<PostgresStatus>,
    up: prometheus::IntGauge,
    restarts: prometheus::IntCounter,
}

impl EmbeddedPgWatch {
    fn new(status: watch::Receiver<PostgresStatus>, metrics: &Metrics) -> Result<Self, StartError> {
        let failed = |e: prometheus::Error| StartError::Other(e.to_string());
        let up = prometheus::IntGauge::new("embedded_postgres_up", "1 while the embedded PostgreSQL is running")
            .map_err(failed)?;
        let restarts = prometheus::IntCounter::new(
            "embedded_postgres_restarts_total",
            "Restarts of the embedded PostgreSQL after it exited unexpectedly",
        )
        .map_err(failed)?;
        metrics.register(Box::new(up.clone())).map_err(failed)?;
        metrics.register(Box::new(restarts.clone())).map_err(failed)?;
        Ok(Self { status, up, restarts })
    }

    /// Brings the gauges up to date, at scrape time.
    fn record(&self) {
        let status = self.status.borrow();
        self.up.set(i64::from(status.up));
        self.restarts.inc_by(status.restarts.saturating_sub(self.restarts.get()));
    }

    /// Why the database cannot serve, while the supervisor knows it is down.
    fn unavailable(&self) -> Option<String> {
        let status = self.status.borrow();
        (!status.up).then(|| status.reason.clone().unwrap_or_else(|| "the embedded PostgreSQL is not running".into()))
    }
}

/// What identity asks of notifications, inside identity's transactions: sending its emails
/// (verification, password reset), and a customer's email history for GDPR export and erasure.
struct NotificationsPort(NotificationsModule);

impl PersonalDataHolder for NotificationsPort {
    fn category(&self) -> &'static str {
        "emails sent to you"
    }

    fn export<'a>(
        &'a self,
        tx: &'a mut agora_kernel::TenantTx<'_>,
        account: &'a str,
        email: &'a str,
    ) -> BoxFuture<'a, Result<serde_json::Value, PortError>> {
        Box::pin(async move {
            let data = self.0.recipient_data(tx, account, email).await.map_err(notifications_failure)?;
            serde_json::to_value(data).map_err(|e| PortError::Failed(e.to_string()))
        })
    }

    fn erase<'a>(
        &'a self,
        tx: &'a mut agora_kernel::TenantTx<'_>,
        account: &'a str,
        email: &'a str,
        replacement: &'a str,
    ) -> BoxFuture<'a, Result<(), PortError>> {
        Box::pin(
            async move { self.0.erase_recipient(tx, account, email, replacement).await.map_err(notifications_failure) },
        )
    }
}

impl TransactionalMail for NotificationsPort {
    fn send<'a>(
        &'a self,
        tx: &'a mut agora_kernel::TenantTx<'_>,
        email: AccountEmail<'a>,
    ) -> BoxFuture<'a, Result<(), PortError>> {
        Box::pin(async move {
            let mut variables = email.variables;
            if let serde_json::Value::Object(map) = &mut variables {
                let name = agora_tenancy::shop_name(tx.conn()).await?;
                map.insert("shop_name".into(), serde_json::Value::String(name));
            }
            let request = SendEmail::new(email.template, email.locale, email.to, variables)
                .for_account(email.account)
                .with_secrets(email.secrets);
            self.0.send(tx, request).await.map(|_| ()).map_err(notifications_failure)
        })
    }
}

/// Notifications' failures as a port reports them: refused input keeps its fields, the database
/// its kind (so a pool timeout is a 503 to identity's caller too).
fn notifications_failure(e: agora_notifications::NotificationsError) -> PortError {
    use agora_kernel::CommonError;
    use agora_notifications::NotificationsError;
    match e {
        NotificationsError::Common(CommonError::Invalid(errors)) => PortError::Invalid(errors),
        NotificationsError::Common(CommonError::Db(db)) => PortError::Db(db),
        NotificationsError::ShopAddress(port) => port,
        other => PortError::Failed(other.to_string()),
    }
}

/// Identity gives each new shop the owner it names, in tenancy's provisioning transaction.
struct IdentityFounder {
    identity: IdentityModule,
}

impl ShopFounder for IdentityFounder {
    fn check(&self, owner: &ShopOwner) -> Vec<agora_kernel::FieldError> {
        IdentityModule::check_shop_owner(owner)
    }

    fn appoint<'a>(
        &'a self,
        tx: &'a mut agora_kernel::TenantTx<'_>,
        owner: &'a ShopOwner,
    ) -> BoxFuture<'a, Result<(), PortError>> {
        Box::pin(async move {
            self.identity.appoint_shop_owner(tx, owner).await.map_err(|e| match e {
                agora_identity::IdentityError::Common(agora_kernel::CommonError::Invalid(errors)) => {
                    PortError::Invalid(errors)
                }
                agora_identity::IdentityError::Common(agora_kernel::CommonError::Db(db)) => PortError::Db(db),
                other => PortError::Failed(other.to_string()),
            })
        })
    }
}

/// Where a shop is reached, for every absolute link written for it: its primary domain (under
/// the configured scheme), else the configured public URL (see `Config::shop_url`). Never a
/// request's Host or forwarded headers.
pub(crate) struct ShopUrls {
    pub(crate) config: Config,
}

impl ShopAddress for ShopUrls {
    fn base_url<'a>(&'a self, tx: &'a mut agora_kernel::TenantTx<'_>) -> BoxFuture<'a, Result<String, PortError>> {
        Box::pin(async move {
            let tenant_id = tx.tenant().id;
            match agora_tenancy::primary_domain(tx.conn(), tenant_id).await? {
                Some(domain) => Ok(format!("{}://{domain}", self.config.public_scheme())),
                None => Ok(self.config.shop_url(&tx.tenant().slug)),
            }
        })
    }
}

impl AppState {
    /// Builds the modules. Opens no connection yet (pools are lazy).
    pub fn build(config: &Config, database_url: &SecretString) -> Result<Self, StartError> {
        let redis = config
            .redis_url
            .as_ref()
            .map(|url| Redis::connect(url, &config.redis_namespace))
            .transpose()
            .map_err(StartError::Redis)?;
        let limits = RateLimits {
            client_per_window: config.rate_limit_client_per_minute,
            tenant_per_window: config.rate_limit_tenant_per_minute,
            window: Duration::from_secs(60),
        };
        let (cache, limiter) = match &redis {
            Some(pool) => (Cache::redis(pool.clone()), RateLimiter::redis(limits, pool.clone())),
            None => (Cache::in_process(100_000), RateLimiter::in_process(limits)),
        };
        // Tenant transactions drop the storefront answers their writes make stale from it.
        let db = Database::connect(&DbSettings {
            url: database_url.clone(),
            pool_size: config.db_pool_size,
            acquire_timeout: Duration::from_secs(5),
        })
        .map_err(|e| StartError::Database(e.to_string()))?
        .with_cache(cache.clone());
        let mut identity_settings = config.identity.clone();
        // One master key seals every module's secrets at rest (each under its own derived key).
        let master_key = identity_settings.signing_key();
        let sealer = Sealer::new(&master_key, identity_settings.token_key_previous.as_ref());
        let addresses: Arc<dyn ShopAddress> = Arc::new(ShopUrls { config: config.clone() });
        let notifications =
            NotificationsModule::new(db.clone(), config.mail.clone(), sealer.clone(), Some(addresses.clone()))
                .map_err(|e| StartError::Other(e.to_string()))?;
        // Completed below, once every module has declared its events and subscribers.
        let bus = EventBus::pending();
        // The one client for calls to URLs someone else chose (webhooks, OIDC providers, …).
        let outbound = Outbound::new(config.outbound)
            .map_err(|e| StartError::Other(format!("cannot build the outbound HTTP client: {e}")))?;
        let webhooks = agora_webhooks::WebhooksModule::new(
            db.clone(),
            &bus,
            config.webhooks.clone(),
            sealer.clone(),
            outbound.clone(),
        )
        .map_err(|e| StartError::Other(e.to_string()))?;
        let port = Arc::new(NotificationsPort(notifications.clone()));
        let wiring = agora_identity::Wiring {
            mail: Some(port.clone()),
            redis: redis.clone(),
            address: Some(addresses),
            outbound: Some(outbound),
        };
        let identity =
            IdentityModule::new(db.clone(), identity_settings, wiring).map_err(|e| StartError::Other(e.to_string()))?;
        let metrics = Metrics::new().map_err(|e| StartError::Other(e.to_string()))?;
        let job_metrics = JobMetrics::new(&metrics).map_err(|e| StartError::Other(e.to_string()))?;
        cache.register_metrics(&metrics).map_err(|e| StartError::Other(e.to_string()))?;
        let founder: Arc<dyn ShopFounder> = Arc::new(IdentityFounder { identity: identity.clone() });
        let customers = agora_customers::CustomersModule::new(db.clone(), &bus, identity.clone(), vec![port]);
        let pricing = agora_pricing::PricingModule::new(db.clone(), &bus);
        // The storefront shows the prices pricing decides (price lists per customer group,
        // conversion rates) over the catalog's base prices: the kernel's `ShopperPrices` port.
        let shopper_prices: Arc<dyn ShopperPrices> = Arc::new(pricing.storefront_prices(customers.clone()));
        let catalog = agora_catalog::CatalogModule::with_prices(db.clone(), &bus, cache.clone(), shopper_prices);
        let inventory = agora_inventory::InventoryModule::new(db.clone(), &bus, catalog.clone());
        let cart = agora_cart::CartModule::new(
            db.clone(),
            &bus,
            customers.clone(),
            inventory.clone(),
            pricing.clone(),
            cache.clone(),
            config.identity.secure_cookies,
        );
        let mut state = Self {
            tenancy: TenancyModule::new(db.clone(), bus.clone(), &config.base_domain, Some(founder)),
            notifications,
            webhooks,
            identity,
            catalog,
            inventory,
            pricing,
            cart,
            customers,
            metrics,
            bus,
            jobs: Arc::default(),
            job_metrics: Some(job_metrics),
            embedded_pg: None,
            storage: ConfiguredStorage::new(config.storage.clone()),
            config: config.clone(),
            db,
            redis,
            cache,
            limiter,
            sealer,
        };
        let mut events = EventBus::builder();
        let mut jobs = JobRegistry::default();
        // Jobs that read or write the shop's files (thumbnails, imports, exports) reach the configured store.
        jobs.provide(Arc::new(state.storage.clone()));
        for module in state.modules() {
            module.background(&mut events, &mut jobs).map_err(StartError::Other)?;
        }
        events.build_into(&state.bus).map_err(StartError::Other)?;
        state.jobs = Arc::new(jobs);
        Ok(state)
    }

    /// Every module, each listed once: its routes are mounted under every area, its state
    /// handed to handlers, its events and jobs registered. Adding a module is a line here.
    /// Within an area, earlier modules' routes match first.
    fn modules(&self) -> Vec<&dyn Module> {
        vec![
            &self.tenancy,
            &self.identity,
            &self.customers,
            &self.notifications,
            &self.webhooks,
            &self.catalog,
            &self.inventory,
            &self.pricing,
            &self.cart,
            // The job queue's administration, the diagnostics probe, housekeeping jobs.
            &agora_kernel::module::Kernel,
        ]
    }

    /// Reports the supervised embedded PostgreSQL in `/readyz` and `/metrics`.
    pub fn watch_embedded_postgres(&mut self, status: watch::Receiver<PostgresStatus>) -> Result<(), StartError> {
        self.embedded_pg = Some(EmbeddedPgWatch::new(status, &self.metrics)?);
        Ok(())
    }

    /// Control schema, then every tenant (each under its advisory lock).
    pub async fn migrate(
        &self,
        progress: &dyn agora_tenancy::MigrationProgress,
    ) -> Result<agora_tenancy::MigrationReport, StartError> {
        self.tenancy.migrate_control().await.map_err(|e| StartError::Migration(e.to_string()))?;
        let report = self
            .tenancy
            .migrate_tenants(self.config.migrate_concurrency, progress)
            .await
            .map_err(|e| StartError::Migration(e.to_string()))?;
        Ok(report)
    }
}

#[derive(Serialize, Apiv2Schema)]
struct Health {
    status: &'static str,
}

#[derive(Serialize, Apiv2Schema)]
struct Readiness {
    status: &'static str,
    database: String,
    redis: String,
}

/// Liveness: the process answers.
#[api_v2_operation(tags(Operations), operation_id = "healthz")]
async fn healthz() -> web::Json<Health> {
    web::Json(Health { status: "ok" })
}

/// Readiness: the database (and Redis, when configured) answer.
#[api_v2_operation(tags(Operations), operation_id = "readyz")]
async fn readyz(state: web::Data<AppState>) -> Result<web::Json<Readiness>, ApiError> {
    if let Some(reason) = state.embedded_pg.as_ref().and_then(EmbeddedPgWatch::unavailable) {
        return Err(ApiError::new(agora_kernel::ErrorKind::Unavailable, "unavailable", reason));
    }
    let database = state.db.ping().await.map(|()| "ok".to_string()).map_err(ApiError::unavailable)?;
    let redis = match &state.redis {
        None => "not configured".to_string(),
        Some(redis) => redis.ping().await.map(|()| "ok".to_string()).map_err(ApiError::unavailable)?,
    };
    Ok(web::Json(Readiness { status: "ready", database, redis }))
}

/// Prometheus metrics (text exposition format). With `AGORA_METRICS_TOKEN` set it needs
/// `Authorization: Bearer <token>`; with `AGORA_METRICS_BIND` it is served on that address only.
#[api_v2_operation(tags(Operations), operation_id = "metrics", produces = "text/plain")]
async fn metrics_endpoint(req: actix_web::HttpRequest, state: web::Data<AppState>) -> Result<PrometheusText, ApiError> {
    if let Some(token) = &state.config.metrics_token {
        if !PlatformToken(Some(token.clone())).matches(&req) {
            return Err(ApiError::new(
                agora_kernel::ErrorKind::Unauthorized,
                "unauthorized",
                "metrics need the scrape token: Authorization: Bearer <AGORA_METRICS_TOKEN>",
            ));
        }
    }
    if let Some(pg) = &state.embedded_pg {
        pg.record();
    }
    Ok(PrometheusText(state.metrics.render(&state.db)))
}

/// The metrics page: text, documented as a `text/plain` string (a bare `HttpResponse` would
/// leave the operation without any response in the contract).
struct PrometheusText(String);

impl actix_web::Responder for PrometheusText {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, _: &actix_web::HttpRequest) -> actix_web::HttpResponse {
        actix_web::HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(self.0)
    }
}

impl paperclip::v2::schema::Apiv2Schema for PrometheusText {}

impl paperclip::actix::OperationModifier for PrometheusText {
    fn update_response(op: &mut paperclip::v2::models::DefaultOperationRaw) {
        use paperclip::v2::models::{DataType, DefaultSchemaRaw, Either, Response};
        op.responses.insert(
            "200".into(),
            Either::Right(Response {
                description: Some("Prometheus text exposition format".into()),
                schema: Some(DefaultSchemaRaw { data_type: Some(DataType::String), ..Default::default() }),
                ..Default::default()
            }),
        );
    }
}

/// The finished API contract (paperclip's document completed by the kernel), built once per app.
struct ApiContract(serde_json::Value);

#[api_v2_operation(skip)]
async fn api_contract(contract: web::Data<ApiContract>) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().json(&contract.0)
}

/// The address `/metrics` is served on when it has a listener of its own.
#[derive(Clone, Copy)]
struct MetricsListener(Option<std::net::SocketAddr>);

/// With a metrics listener of its own, `/metrics` answers there and only there, and that
/// listener answers nothing else: an internal scrape port never exposes the API, and the public
/// one never exposes the metrics.
async fn route_metrics_listener(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let metrics = req.app_data::<web::Data<MetricsListener>>().and_then(|m| m.0);
    if let Some(metrics) = metrics {
        let on_metrics_listener = req.app_config().local_addr() == metrics;
        if on_metrics_listener != (req.path() == "/metrics") {
            let error = ApiError::new(agora_kernel::ErrorKind::NotFound, "not-found", "no such resource");
            return Ok(req.error_response(error).map_into_boxed_body());
        }
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

fn spec() -> DefaultApiRaw {
    DefaultApiRaw {
        info: Info {
            title: "Agora".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: Some("Multi-tenant commerce platform. Errors are RFC 9457 application/problem+json.".into()),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// The whole HTTP application. `state` decides everything; nothing here is global.
pub fn http_app(
    state: AppState,
) -> actix_web::App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<actix_web::body::BoxBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    serving(state, None)
}

/// [`http_app`], told which local address (if any) is the metrics listener.
fn serving(
    state: AppState,
    metrics_listener: Option<std::net::SocketAddr>,
) -> actix_web::App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<actix_web::body::BoxBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let config = &state.config;
    let max_body = config.max_body_bytes;
    let idempotency_settings = IdempotencySettings { max_body_bytes: max_body, sealer: state.sealer.clone() };
    let mut app = actix_web::App::new()
        .wrap_api_with_spec(spec())
        .app_data(web::Data::new(state.clone()))
        .app_data(web::Data::new(state.db.clone()))
        .app_data(web::Data::new(state.metrics.clone()))
        .app_data(web::Data::new(state.storage.clone()))
        .app_data(web::Data::new(state.limiter.clone()))
        .app_data(web::Data::new(state.cache.clone()))
        .app_data(web::Data::new(state.bus.clone()))
        .app_data(web::Data::new(idempotency_settings))
        .app_data(web::Data::new(config.trusted_proxies.clone()))
        .app_data(web::Data::new(PlatformToken(config.platform_token.clone())))
        .app_data(web::Data::new(agora_kernel::text_input::MaxBodyBytes(max_body)))
        .app_data(web::Data::new(MetricsListener(metrics_listener)))
        .app_data(web::Data::new(SecurityHeaders { hsts: config.identity.secure_cookies }))
        .app_data(web::Data::new(crate::web::WebApps::new(
            config.frontend_dir.clone().map_or(crate::web::AppFiles::Embedded, crate::web::AppFiles::Directory),
            &config.storage,
        )))
        .app_data(agora_kernel::http::json_config(max_body))
        .app_data(agora_kernel::http::payload_config(max_body))
        .app_data(agora_kernel::http::query_config())
        .app_data(agora_kernel::http::path_config())
        .service(web::resource("/healthz").route(web::get().to(healthz)))
        .service(web::resource("/readyz").route(web::get().to(readyz)))
        .service(web::resource("/metrics").route(web::get().to(metrics_endpoint)));
    let modules = state.modules();
    app = app.configure(|cfg| agora_kernel::module::mount(cfg, &modules));
    app.with_raw_json_spec_v3(|app, spec| {
        let contract = web::Data::new(ApiContract(agora_kernel::openapi::finish(spec)));
        app.app_data(contract).route("/api/openapi.json", web::get().to(api_contract))
    })
    // Only so that Swagger UI knows where the document is: the route above, registered
    // first, is the one that answers.
    .with_json_spec_v3_at("/api/openapi.json")
    .with_swagger_ui_at("/api/docs")
    .build()
    // What no route answers: the web apps for page loads, the API's 404 problem otherwise.
    .default_service(actix_web::web::to(crate::web::serve))
    // Listed innermost first: request id → security headers → span → API docs guard →
    // metrics listener → metrics → error normalising → unstorable text → tenant → authentication → rate limit →
    // idempotency → handler.
    .wrap(from_fn(idempotency::enforce))
    .wrap(from_fn(rate_limit::enforce))
    .wrap(from_fn(agora_identity::authenticate))
    .wrap(from_fn(agora_tenancy::resolve_tenant))
    .wrap(from_fn(agora_kernel::text_input::reject_unstorable_text))
    .wrap(from_fn(normalize_errors))
    .wrap(from_fn(metrics::observe))
    .wrap(from_fn(route_metrics_listener))
    .wrap(from_fn(guard_api_docs))
    .wrap(tracing_actix_web::TracingLogger::<AgoraRootSpan>::new())
    .wrap(from_fn(security_headers::add))
    .wrap(from_fn(assign_request_id))
}

/// The files of the Swagger UI bundle paperclip serves under `/api/docs/`.
const API_DOCS_FILES: &[&str] = &[
    "favicon-16x16.png",
    "favicon-32x32.png",
    "index.html",
    "oauth2-redirect.html",
    "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.js",
    "swagger-ui.css",
    "swagger-ui.js",
];

/// paperclip's Swagger UI handler panics on a name its bundle lacks (`/api/docs/nope`, or
/// `/api/docs?x` with a query and no name), which kills an HTTP worker with every request it
/// carries: anyone could do that at will. Only the bundle's files and the bare page reach it.
async fn guard_api_docs(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let path = req.path();
    let served = match path.strip_prefix("/api/docs") {
        None => true,
        Some("") => req.query_string().is_empty(),
        Some(rest) => rest.strip_prefix('/').is_some_and(|file| API_DOCS_FILES.contains(&file)),
    };
    if !served {
        let error = ApiError::new(agora_kernel::ErrorKind::NotFound, "not-found", "no such resource");
        return Ok(req.error_response(error).map_into_boxed_body());
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// The OpenAPI document exactly as `/api/openapi.json` serves it.
pub async fn openapi_document(state: AppState) -> Result<serde_json::Value, StartError> {
    let app = actix_web::test::init_service(http_app(state)).await;
    let req = actix_web::test::TestRequest::get().uri("/api/openapi.json").to_request();
    let body = actix_web::test::call_and_read_body(&app, req).await;
    serde_json::from_slice(&body).map_err(|e| StartError::Other(format!("spec is not JSON: {e}")))
}

/// A running server: where it listens and a handle to stop it.
pub struct RunningServer {
    pub addr: std::net::SocketAddr,
    /// Where `/metrics` is served when `AGORA_METRICS_BIND` gives it a listener of its own.
    pub metrics_addr: Option<std::net::SocketAddr>,
    pub handle: actix_web::dev::ServerHandle,
    pub server: actix_web::dev::Server,
}

/// Binds (port 0 allowed) and builds the server; the caller awaits `server`.
pub fn listen(state: AppState) -> Result<RunningServer, StartError> {
    let bind = state.config.bind.clone();
    let listener = std::net::TcpListener::bind(&bind)
        .map_err(|e| StartError::Bind { addr: bind.clone(), cause: e.to_string() })?;
    listen_on(state, listener)
}

/// Builds the server on a socket already bound (when the address must be known before the
/// configuration, e.g. to name it in `AGORA_PUBLIC_URL`).
pub fn listen_on(state: AppState, listener: std::net::TcpListener) -> Result<RunningServer, StartError> {
    let bind = state.config.bind.clone();
    let addr = listener.local_addr().map_err(|e| StartError::Bind { addr: bind.clone(), cause: e.to_string() })?;
    let workers = match state.config.http_workers {
        0 => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
        n => n,
    };
    let shutdown_timeout = state.config.shutdown_timeout_secs;
    let metrics = match &state.config.metrics_bind {
        None => None,
        Some(metrics_bind) => {
            let failed = |e: std::io::Error| StartError::Bind { addr: metrics_bind.clone(), cause: e.to_string() };
            let listener = std::net::TcpListener::bind(metrics_bind).map_err(failed)?;
            Some((listener.local_addr().map_err(failed)?, listener))
        }
    };
    let metrics_addr = metrics.as_ref().map(|(addr, _)| *addr);
    let mut server = actix_web::HttpServer::new(move || serving(state.clone(), metrics_addr))
        .workers(workers)
        .shutdown_timeout(shutdown_timeout)
        .listen(listener)
        .map_err(|e| StartError::Bind { addr: bind, cause: e.to_string() })?;
    if let Some((addr, listener)) = metrics {
        server =
            server.listen(listener).map_err(|e| StartError::Bind { addr: addr.to_string(), cause: e.to_string() })?;
    }
    let server = server.run();
    Ok(RunningServer { addr, metrics_addr, handle: server.handle(), server })
}

/// Starts this process's job workers (none when `workers` is 0: a web-only replica).
pub fn start_workers(state: &AppState) -> Option<WorkerPool> {
    (state.config.jobs.concurrency > 0).then(|| {
        let settings = WorkerSettings {
            shutdown_timeout: Duration::from_secs(state.config.shutdown_timeout_secs),
            ..state.config.jobs.clone()
        };
        WorkerPool::start(state.db.clone(), state.bus.clone(), state.jobs.clone(), settings, state.job_metrics.clone())
    })
}
