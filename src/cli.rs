//! The command line: `agora serve | migrate | tenant … | openapi | demo`.

use crate::app::{self, AppState, DatabaseHandle, StartError};
use crate::config::{Config, ProcessEnv};
use agora_kernel::lists::{ListQuery, OldestFirst};
use agora_kernel::ports::ShopOwner;
use agora_kernel::Actor;
use agora_tenancy::{MigrationProgress, NewTenant, TenantStatus};
use clap::{Args, Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "agora", version, about = "Agora: a multi-tenant commerce platform in one binary")]
pub struct Cli {
    /// TOML configuration file (settings named like the AGORA_* variables, lower-case, without the prefix).
    #[arg(long, global = true, env = "AGORA_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data directory for the embedded PostgreSQL (used when DATABASE_URL is unset) [env: AGORA_DATA_DIR].
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (and background workers): migrates first, under an advisory lock.
    Serve(ServeArgs),
    /// Upgrade the control schema, then every tenant's schema (resumable, safe to run concurrently).
    Migrate,
    /// Manage tenants (shops).
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Print the OpenAPI document the server publishes at /api/openapi.json.
    Openapi {
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Provision the demo shop `demo` with a catalog (idempotent) and print where to find it.
    Demo,
    /// Load a generated catalog into a shop for the benchmarks (bench/catalog.sh) and write
    /// what the load generator needs (product ids and slugs, queries, an API key) to a directory.
    #[command(hide = true)]
    BenchSeed(BenchSeedArgs),
    /// Run background jobs only (no HTTP): a worker replica.
    Worker(WorkerArgs),
    /// Inspect and exercise the job queue.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Manage platform operators (the people who run the platform).
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// Manage a shop's staff accounts.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Seal every shop's stored secrets (OIDC client secrets, authenticator seeds, webhook
    /// signing secrets) under the current AGORA_TOKEN_KEY: after a key rotation, before
    /// AGORA_TOKEN_KEY_PREVIOUS is dropped.
    ResealSecrets,
    /// Write the JSON schema of every event to a directory (committed as openapi/events/).
    EventSchemas {
        /// Directory to write `<event name>.json` files into.
        #[arg(long, default_value = "openapi/events")]
        output_dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Create an operator account; how the first operator comes to exist.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
        /// Read the password from standard input (one line), so it stays out of shell history.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Create a staff account in a shop, e.g. its first owner.
    Create {
        /// The shop's slug.
        slug: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
        /// Role keys (repeatable): owner, admin, catalog_manager, order_manager, support, read_only, or a custom role.
        #[arg(long = "role", default_values_t = vec!["owner".to_string()])]
        roles: Vec<String>,
        /// Read the password from standard input (one line). Without it the member is invited to
        /// choose one: by email over SMTP, or (with no SMTP server) with a link printed here once.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Print a fresh link for an invited staff member (no password yet) to choose their password,
    /// e.g. the owner of a shop opened over the platform API when no SMTP server is configured.
    InvitationLink {
        /// The shop's slug.
        slug: String,
        #[arg(long)]
        email: String,
    },
}

fn read_password() -> Result<String, CliError> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| CliError::Failed(format!("reading the password: {e}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Jobs run at once in this process [env: AGORA_WORKERS].
    #[arg(long)]
    pub workers: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Enqueue diagnostic probe jobs (each records once that it ran): for benchmarks and drills.
    Probe {
        /// How many jobs.
        #[arg(long, default_value_t = 100)]
        count: usize,
        /// Label to find their results by (agora.job_probes.batch).
        #[arg(long, default_value = "probe")]
        batch: String,
        /// Pretend work per job, in milliseconds.
        #[arg(long, default_value_t = 0)]
        work_ms: u64,
    },
    /// Jobs by state.
    Stats,
    /// Publish diagnostic ping events; their subscriber records commit-to-delivery latency.
    Ping {
        #[arg(long, default_value_t = 100)]
        count: u64,
        #[arg(long, default_value = "ping")]
        batch: String,
        /// Pause between pings, in milliseconds.
        #[arg(long, default_value_t = 10)]
        interval_ms: u64,
    },
}

#[derive(Debug, Args)]
pub struct BenchSeedArgs {
    /// The shop's slug.
    pub slug: String,
    #[arg(long, default_value_t = 10_000)]
    pub products: u64,
    #[arg(long, default_value_t = 3)]
    pub variants: usize,
    /// Products created (and, with --stock, variants counted) at once.
    #[arg(long, default_value_t = 8)]
    pub parallel: usize,
    #[arg(long, default_value_t = crate::demo::DEMO_SEED)]
    pub seed: u64,
    /// Also count every variant to this many on hand (at the shop's first stock location, or a
    /// new "Bench warehouse") and write variants.txt: the inventory benchmark's stock.
    #[arg(long, value_parser = clap::value_parser!(i32).range(0..=1_000_000_000))]
    pub stock: Option<i32>,
    /// Where to write products.tsv, queries.txt, categories.txt, api-key (and variants.txt).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on, e.g. 0.0.0.0:8080 [env: AGORA_BIND].
    #[arg(long)]
    pub bind: Option<String>,
    /// Background job workers in this process; 0 makes a web-only replica [env: AGORA_WORKERS].
    #[arg(long)]
    pub workers: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create (provision) a tenant: schema, migrations, default settings.
    Create {
        /// 2–40 lowercase letters, digits or '-'.
        slug: String,
        /// The shop's display name.
        #[arg(long)]
        name: String,
        /// ISO 4217 default currency.
        #[arg(long, default_value = "USD")]
        currency: String,
        /// Locales, first is the default (repeatable).
        #[arg(long = "locale", default_values_t = vec!["en".to_string()])]
        locales: Vec<String>,
        /// Custom domains (repeatable).
        #[arg(long = "domain")]
        domains: Vec<String>,
        /// Who the shop is for: they become its owner and are emailed a link to set a password
        /// (with no SMTP server configured, the link is printed here once instead).
        #[arg(long)]
        owner_email: Option<String>,
        /// The owner's name.
        #[arg(long, requires = "owner_email")]
        owner_name: Option<String>,
    },
    /// List tenants.
    List {
        /// Only tenants in this status (provisioning, active, suspended).
        #[arg(long)]
        status: Option<String>,
    },
    /// Show one tenant.
    Show { slug: String },
    /// Suspend a tenant: its storefront and admin answer 403.
    Suspend { slug: String },
    /// Resume a suspended tenant.
    Resume { slug: String },
    /// Choose the domain the shop's links use (emails, sign-in redirects); without --domain, links
    /// use <slug>.<base domain> again.
    PrimaryDomain {
        slug: String,
        /// One of the shop's domains.
        #[arg(long)]
        domain: Option<String>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("{0}")]
    Failed(String),
}

fn load_config(cli: &Cli) -> Result<Config, CliError> {
    let mut config = Config::load(cli.config.as_deref(), &ProcessEnv)?;
    if let Some(dir) = &cli.data_dir {
        config.data_dir = dir.clone();
    }
    Ok(config)
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    let mut config = load_config(&cli)?;
    let _telemetry = crate::telemetry::init(config.log_format, config.otlp_endpoint.as_deref());
    for deprecation in &config.deprecations {
        tracing::warn!("{deprecation}");
    }
    // Commands that touch data need the same key on every run (openapi and event-schemas do not).
    if !matches!(cli.command, Command::Openapi { .. } | Command::EventSchemas { .. }) {
        config = config.with_kept_token_key()?;
    }
    match cli.command {
        Command::Serve(args) => {
            if let Some(bind) = args.bind {
                config.bind = bind;
            }
            if let Some(workers) = args.workers {
                config.jobs.concurrency = workers;
            }
            serve(config).await
        }
        Command::Worker(args) => {
            if let Some(workers) = args.workers {
                config.jobs.concurrency = workers;
            }
            if config.jobs.concurrency == 0 {
                return Err(CliError::Failed("a worker needs at least one job slot: --workers 1 or more".into()));
            }
            work(config).await
        }
        Command::EventSchemas { output_dir } => {
            let state =
                AppState::build(&config, &secrecy::SecretString::from("host=/nonexistent dbname=none".to_string()))?;
            std::fs::create_dir_all(&output_dir)
                .map_err(|e| CliError::Failed(format!("{}: {e}", output_dir.display())))?;
            for (name, schema) in state.bus.schemas() {
                let path = output_dir.join(format!("{name}.json"));
                let text = serde_json::to_string_pretty(schema).map_err(|e| CliError::Failed(e.to_string()))? + "\n";
                std::fs::write(&path, text).map_err(|e| CliError::Failed(format!("{}: {e}", path.display())))?;
            }
            println!("{} event schemas written to {}", state.bus.schemas().len(), output_dir.display());
            Ok(())
        }
        Command::Openapi { output } => {
            // The document needs no database: pools connect lazily and nothing is queried.
            let state =
                AppState::build(&config, &secrecy::SecretString::from("host=/nonexistent dbname=none".to_string()))?;
            let spec = app::openapi_document(state).await?;
            let text = serde_json::to_string_pretty(&spec).map_err(|e| CliError::Failed(e.to_string()))? + "\n";
            match output {
                Some(path) => {
                    std::fs::write(&path, text).map_err(|e| CliError::Failed(format!("{}: {e}", path.display())))?
                }
                None => print!("{text}"),
            }
            Ok(())
        }
        command => with_database(&config, |state| Box::pin(offline(command, state))).await,
    }
}

/// Opens the database (embedded or external), runs `f`, and closes it again whatever happens.
async fn with_database<F>(config: &Config, f: F) -> Result<(), CliError>
where
    F: for<'a> FnOnce(&'a AppState) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), CliError>> + 'a>>,
{
    let handle = DatabaseHandle::open(config).await?;
    let result = async {
        let state = AppState::build(config, &handle.url)?;
        f(&state).await
    }
    .await;
    handle.close().await;
    result
}

async fn offline(command: Command, state: &AppState) -> Result<(), CliError> {
    let tenancy = &state.tenancy;
    let failed = |e: agora_tenancy::TenancyError| CliError::Failed(e.to_string());
    match command {
        Command::Migrate => {
            let report = state.migrate(&ProgressBar::new()).await?;
            println!("migrated {} of {} tenants", report.migrated, report.tenants);
            if !report.failed.is_empty() {
                for (slug, cause) in &report.failed {
                    eprintln!("  {slug}: {cause}");
                }
                return Err(CliError::Failed(format!(
                    "{} tenants failed to migrate; rerun `agora migrate` after fixing the cause",
                    report.failed.len()
                )));
            }
            Ok(())
        }
        Command::Tenant(cmd) => {
            tenancy.migrate_control().await.map_err(failed)?;
            let tenant = match cmd {
                TenantCommand::Create { slug, name, currency, locales, domains, owner_email, owner_name } => {
                    let owner = owner_email.clone().map(|email| ShopOwner { email, name: owner_name });
                    let new = NewTenant {
                        slug,
                        name,
                        default_currency: Some(currency),
                        locales: Some(locales),
                        domains,
                        owner,
                    };
                    let tenant = tenancy.create(new, &Actor::System("cli")).await.map_err(describe)?;
                    if let (Some(email), Some(context)) = (owner_email, tenant.context()) {
                        print_invitation_link(state, &context, &email).await?;
                    }
                    tenant
                }
                TenantCommand::PrimaryDomain { slug, domain } => {
                    tenancy.set_primary_domain(&slug, domain, &Actor::System("cli")).await.map_err(describe)?
                }
                TenantCommand::List { status } => {
                    let mut cursor: Option<String> = None;
                    println!("{:<24} {:<12} {:>7}  NAME", "SLUG", "STATUS", "SCHEMA");
                    loop {
                        let query = ListQuery::<OldestFirst>::new(100, cursor.as_deref())
                            .map_err(|e| CliError::Failed(e.detail.clone()))?;
                        let page = tenancy
                            .list(&query, status.as_deref())
                            .await
                            .map_err(|e| CliError::Failed(e.detail.clone()))?;
                        for t in &page.items {
                            println!("{:<24} {:<12} {:>7}  {}", t.slug, t.status, t.schema_version, t.name);
                        }
                        match page.next_cursor {
                            Some(next) => cursor = Some(next),
                            None => return Ok(()),
                        }
                    }
                }
                TenantCommand::Show { slug } => tenancy.get(&slug).await.map_err(failed)?,
                TenantCommand::Suspend { slug } => tenancy
                    .set_status(&slug, TenantStatus::Suspended, None, &Actor::System("cli"))
                    .await
                    .map_err(failed)?,
                TenantCommand::Resume { slug } => tenancy
                    .set_status(&slug, TenantStatus::Active, None, &Actor::System("cli"))
                    .await
                    .map_err(failed)?,
            };
            println!("{}", serde_json::to_string_pretty(&tenant).map_err(|e| CliError::Failed(e.to_string()))?);
            Ok(())
        }
        Command::Demo => {
            tenancy.migrate_control().await.map_err(failed)?;
            let new = NewTenant {
                slug: "demo".into(),
                name: "Demo Shop".into(),
                default_currency: Some("USD".into()),
                locales: Some(vec!["en".into(), "de".into()]),
                domains: vec![],
                owner: None,
            };
            match tenancy.create(new, &Actor::System("demo")).await {
                Ok(_) => println!("demo shop created"),
                Err(agora_tenancy::TenancyError::SlugTaken(_)) => {
                    println!("demo shop already exists")
                }
                Err(e) => return Err(failed(e)),
            }
            let port = state.config.bind.rsplit(':').next().unwrap_or("8080");
            println!("storefront API: http://demo.{}:{port}/api/v1/store/shop", state.config.base_domain);
            let sign_ins = crate::demo::sign_ins(state).await?;
            let tenant = tenancy
                .resolve(None, Some("demo"))
                .await
                .map_err(failed)?
                .ok_or_else(|| CliError::Failed("the demo shop is not active".into()))?;
            println!("{}", crate::demo::load_catalog(state, &tenant).await?);
            println!("{}", crate::demo::load_stock(state, &tenant).await?);
            let started = std::time::Instant::now();
            let delivered = crate::demo::settle(state, &tenant).await?;
            println!("demo events: {delivered} deliveries worked through in {:.1} s", started.elapsed().as_secs_f64());
            sign_ins.print();
            Ok(())
        }
        Command::BenchSeed(args) => crate::demo::catalog::bench_seed(state, args).await,
        Command::Jobs(JobsCommand::Probe { count, batch, work_ms }) => {
            tenancy.migrate_control().await.map_err(failed)?;
            agora_kernel::diagnostics::enqueue_probes(&state.db, &batch, count, work_ms)
                .await
                .map_err(|e| CliError::Failed(e.to_string()))?;
            println!("{count} probe jobs enqueued in batch {batch}");
            Ok(())
        }
        Command::Jobs(JobsCommand::Ping { count, batch, interval_ms }) => {
            tenancy.migrate_control().await.map_err(failed)?;
            agora_kernel::diagnostics::ping(
                &state.db,
                &state.bus,
                &batch,
                count,
                std::time::Duration::from_millis(interval_ms),
            )
            .await
            .map_err(|e| CliError::Failed(e.to_string()))?;
            println!("{count} pings published in batch {batch}");
            Ok(())
        }
        Command::Jobs(JobsCommand::Stats) => {
            tenancy.migrate_control().await.map_err(failed)?;
            for (state_name, count) in
                agora_kernel::jobs::counts(&state.db).await.map_err(|e| CliError::Failed(e.to_string()))?
            {
                println!("{state_name:<10} {count}");
            }
            Ok(())
        }
        Command::Operator(OperatorCommand::Create { email, name, password_stdin: _ }) => {
            tenancy.migrate_control().await.map_err(failed)?;
            let new = agora_identity::NewOperator { email, password: read_password()?, name };
            let operator = state
                .identity
                .create_operator(new, &Actor::System("cli"))
                .await
                .map_err(|e| CliError::Failed(agora_kernel::ApiError::from(e).detail))?;
            println!("{}", serde_json::to_string_pretty(&operator).map_err(|e| CliError::Failed(e.to_string()))?);
            Ok(())
        }
        Command::Staff(StaffCommand::Create { slug, email, name, roles, password_stdin }) => {
            let tenant = tenancy
                .resolve(None, Some(&slug))
                .await
                .map_err(failed)?
                .ok_or_else(|| CliError::Failed(format!("no active shop named {slug}")))?;
            let new = agora_identity::NewStaff { email: email.clone(), name, roles };
            let password = if password_stdin { Some(read_password()?) } else { None };
            let invited = password.is_none();
            let account = state
                .identity
                .create_staff(&tenant, new, password, &agora_identity::Grantor::System("cli"), &Default::default())
                .await
                .map_err(|e| {
                    let e = agora_kernel::ApiError::from(e);
                    let fields: Vec<String> = e.errors.iter().map(|f| format!("{}: {}", f.field, f.message)).collect();
                    CliError::Failed(if fields.is_empty() { e.detail } else { fields.join("; ") })
                })?;
            println!("{}", serde_json::to_string_pretty(&account).map_err(|e| CliError::Failed(e.to_string()))?);
            if invited {
                print_invitation_link(state, &tenant, &email).await?;
            }
            Ok(())
        }
        Command::Staff(StaffCommand::InvitationLink { slug, email }) => {
            let tenant = tenancy
                .resolve(None, Some(&slug))
                .await
                .map_err(failed)?
                .ok_or_else(|| CliError::Failed(format!("no active shop named {slug}")))?;
            let link = state
                .identity
                .invitation_link(&tenant, &email)
                .await
                .map_err(|e| CliError::Failed(agora_kernel::ApiError::from(e).detail))?
                .ok_or_else(|| CliError::Failed(format!("{email} has a password: they use \"forgot password\"")))?;
            println!("A link for {email} to choose a password (it works once; it is not shown again):");
            println!("{link}");
            Ok(())
        }
        Command::ResealSecrets => {
            let mut cursor: Option<String> = None;
            let failed = |e: agora_identity::IdentityError| CliError::Failed(format!("platform: {e}"));
            let (mut shops, mut rewritten) = (0, state.identity.reseal_operator_secrets().await.map_err(failed)?);
            loop {
                let query = ListQuery::<OldestFirst>::new(100, cursor.as_deref())
                    .map_err(|e| CliError::Failed(e.detail.clone()))?;
                let page = tenancy.list(&query, None).await.map_err(|e| CliError::Failed(e.detail.clone()))?;
                for shop in page.items.iter().filter(|t| t.status != TenantStatus::Provisioning) {
                    let tenant = shop.context().ok_or_else(|| CliError::Failed(format!("bad slug {}", shop.slug)))?;
                    let failed = |e: String| CliError::Failed(format!("{}: {e}", shop.slug));
                    rewritten += state.identity.reseal_secrets(&tenant).await.map_err(|e| failed(e.to_string()))?;
                    rewritten += state.webhooks.reseal_secrets(&tenant).await.map_err(|e| failed(e.to_string()))?;
                    shops += 1;
                }
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            println!("{rewritten} secrets sealed again across {shops} shops");
            Ok(())
        }
        Command::Serve(_) | Command::Openapi { .. } | Command::Worker(_) | Command::EventSchemas { .. } => {
            Err(CliError::Failed("not an offline command".into()))
        }
    }
}

/// Validation errors from the CLI name the flag, like the API names the field.
/// Without an SMTP server the invitation email stays in the shop's mailbox with its link
/// redacted (no staff member may read another's link), so the operator, who is at this terminal
/// for the new member, is shown a fresh link once, to hand over.
async fn print_invitation_link(
    state: &AppState,
    tenant: &agora_kernel::TenantContext,
    email: &str,
) -> Result<(), CliError> {
    if state.config.mail.smtp_url.is_some() {
        eprintln!("{email} has been emailed a link to choose a password");
        return Ok(());
    }
    let link = state
        .identity
        .invitation_link(tenant, email)
        .await
        .map_err(|e| CliError::Failed(agora_kernel::ApiError::from(e).detail))?;
    if let Some(link) = link {
        println!("No SMTP server is configured, so no email goes out. Give {email} this link to choose a password");
        println!("(it works once; it is not shown again):");
        println!("{link}");
    }
    Ok(())
}

fn describe(e: agora_tenancy::TenancyError) -> CliError {
    match e {
        agora_tenancy::TenancyError::Common(agora_kernel::CommonError::Invalid(errors)) => {
            let lines: Vec<String> = errors.iter().map(|e| format!("  {}: {}", e.field, e.message)).collect();
            CliError::Failed(format!("invalid tenant:\n{}", lines.join("\n")))
        }
        other => CliError::Failed(other.to_string()),
    }
}

async fn serve(config: Config) -> Result<(), CliError> {
    let handle = DatabaseHandle::open(&config).await?;
    let postgres = handle.postgres_status();
    let result = async {
        let mut state = AppState::build(&config, &handle.url)?;
        if let Some(status) = &postgres {
            state.watch_embedded_postgres(status.clone())?;
        }
        let report = state.migrate(&()).await?;
        if !report.failed.is_empty() {
            tracing::error!(
                failed = report.failed.len(),
                "some tenants failed to migrate; they will answer errors until `agora migrate` succeeds"
            );
        }
        let workers = app::start_workers(&state);
        let running = app::listen(state)?;
        if let Some(metrics) = running.metrics_addr {
            tracing::info!(addr = %metrics, "metrics listening");
        }
        tracing::info!(addr = %running.addr, "agora listening");
        let server = running.server;
        tokio::pin!(server);
        // actix handles SIGTERM/SIGINT: stops accepting, lets in-flight requests finish.
        let outcome = tokio::select! {
            outcome = &mut server => outcome.map_err(|e| CliError::Failed(e.to_string())),
            reason = postgres_gave_up(postgres.clone()) => {
                tracing::error!("stopping: the embedded PostgreSQL cannot be brought back");
                // The server future carries out the stop, so both are polled together.
                let _ = tokio::join!(running.handle.stop(false), server);
                Err(CliError::Failed(reason))
            }
        };
        if let Some(workers) = workers {
            workers.shutdown().await;
        }
        outcome
    }
    .await;
    tracing::info!("shutting down");
    handle.close().await;
    result
}

/// Jobs only: migrate, run the worker pool until SIGTERM/SIGINT, hand back what is unfinished.
async fn work(config: Config) -> Result<(), CliError> {
    let handle = DatabaseHandle::open(&config).await?;
    let postgres = handle.postgres_status();
    let result = async {
        let state = AppState::build(&config, &handle.url)?;
        state.migrate(&()).await?;
        let workers = app::start_workers(&state).ok_or_else(|| CliError::Failed("no workers configured".into()))?;
        let outcome = tokio::select! {
            () = shutdown_signal() => Ok(()),
            reason = postgres_gave_up(postgres.clone()) => Err(CliError::Failed(reason)),
        };
        tracing::info!("stopping job workers");
        workers.shutdown().await;
        outcome
    }
    .await;
    handle.close().await;
    result
}

/// Resolves with the supervisor's error once it has given up restarting the embedded
/// PostgreSQL, so the process exits non-zero and its own supervisor (systemd, the container
/// runtime) and the operator take over. Never resolves for an external database.
async fn postgres_gave_up(status: Option<tokio::sync::watch::Receiver<crate::embedded_pg::PostgresStatus>>) -> String {
    let Some(mut status) = status else {
        return std::future::pending().await;
    };
    loop {
        if let Some(reason) = status.borrow_and_update().gave_up.clone() {
            return reason;
        }
        if status.changed().await.is_err() {
            // The supervisor ended without giving up: the database is being stopped on purpose.
            return std::future::pending().await;
        }
    }
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Progress of `agora migrate`: a bar on a terminal, log lines otherwise.
struct ProgressBar {
    bar: Option<indicatif::ProgressBar>,
}

impl ProgressBar {
    fn new() -> Self {
        Self { bar: std::io::stderr().is_terminal().then(|| indicatif::ProgressBar::new(0)) }
    }
}

impl MigrationProgress for ProgressBar {
    fn started(&self, total: usize) {
        match &self.bar {
            Some(bar) => {
                bar.set_length(total as u64);
                if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} tenants {msg}") {
                    bar.set_style(style);
                }
            }
            None => tracing::info!(tenants = total, "migrating tenants"),
        }
    }

    fn tenant_done(&self, slug: &str, result: &Result<i32, String>) {
        match &self.bar {
            Some(bar) => {
                bar.inc(1);
                bar.set_message(slug.to_string());
            }
            None => match result {
                Ok(version) => tracing::info!(tenant = slug, version, "tenant migrated"),
                Err(e) => tracing::error!(tenant = slug, error = %e, "tenant migration failed"),
            },
        }
    }
}
