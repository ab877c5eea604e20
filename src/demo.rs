//! Who can sign in to the demo: an owner of the demo shop and a platform operator. Their
//! passwords are made on the first `agora demo` and kept in the data directory, readable by its
//! owner only, so every later run (and `scripts/run.sh`) can print them again.
//!
//! The demo shop also gets a catalog worth looking at ([`catalog`], made up by [`generate`]):
//! a few hundred products in a three-level category tree, in two languages and two currencies,
//! and their stock in two locations ([`stock`]).

pub mod catalog;
pub mod generate;
pub mod stock;
// Drawn for the catalog load once the catalog takes uploaded images (`catalog::attach_pictures`).
#[cfg_attr(not(test), allow(dead_code))]
mod pictures;

use crate::app::AppState;
use crate::cli::CliError;
use agora_identity::{Grantor, IdentityError, NewOperator, NewStaff};
use agora_kernel::Actor;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

const OWNER_EMAIL: &str = "owner@demo.example";
const OPERATOR_EMAIL: &str = "operator@demo.example";

/// How many products the demo shop gets, and the seed that makes them (the same catalog every time).
pub const DEMO_PRODUCTS: u64 = 300;
pub const DEMO_SEED: u64 = 11;

/// The demo's sign-ins and where they are kept.
pub struct SignIns {
    file: PathBuf,
    owner_password: Option<String>,
    operator_password: Option<String>,
}

impl SignIns {
    pub fn print(&self) {
        let show = |password: &Option<String>| password.clone().unwrap_or_else(|| "(set before; not kept)".into());
        println!("demo shop owner:   {OWNER_EMAIL} / {}", show(&self.owner_password));
        println!("platform operator: {OPERATOR_EMAIL} / {}", show(&self.operator_password));
        println!("(kept in {})", self.file.display());
    }
}

/// Gives the demo shop its catalog (what is already there stays as it is).
pub async fn load_catalog(state: &AppState, tenant: &agora_kernel::TenantContext) -> Result<catalog::Loaded, CliError> {
    let plan = catalog::Plan {
        seed: DEMO_SEED,
        products: DEMO_PRODUCTS,
        variants: None,
        mixed_statuses: true,
        parallel: 4,
        pictures: true,
        acting: agora_kernel::Acting::system("demo"),
    };
    catalog::load(&state.catalog, &state.storage, tenant, &plan).await
}

/// Gives the demo shop its stock (once; a shop with stock locations is left alone).
pub async fn load_stock(state: &AppState, tenant: &agora_kernel::TenantContext) -> Result<stock::Stocked, CliError> {
    let acting = agora_kernel::Acting::system("demo");
    stock::load(&state.catalog, &state.inventory, tenant, DEMO_SEED, &acting).await
}

/// Works through the events the load published (the catalog learning each variant's
/// availability, webhook fan-outs) before the demo is served, so its first visitors see the shop
/// as loaded and its first emails do not queue behind thousands of deliveries. Bounded: what is
/// left after five minutes is left to the server's workers. How many deliveries ran.
pub async fn settle(state: &AppState, tenant: &agora_kernel::TenantContext) -> Result<i64, CliError> {
    let Some(workers) = crate::app::start_workers(state) else { return Ok(0) };
    let waiting = async || {
        agora_kernel::jobs::deliveries_waiting(&state.db, tenant.id).await.map_err(|e| CliError::Failed(e.to_string()))
    };
    let at_first = waiting().await?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    let mut left = at_first;
    while left > 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        left = waiting().await?;
    }
    workers.shutdown().await;
    Ok(at_first - left)
}

/// The demo's sign-ins, creating the accounts on the first run.
pub async fn sign_ins(state: &AppState) -> Result<SignIns, CliError> {
    let file = state.config.data_dir.join("demo-sign-ins.txt");
    let mut kept = read(&file);
    let tenant = state
        .tenancy
        .resolve(None, Some("demo"))
        .await
        .map_err(|e| CliError::Failed(e.to_string()))?
        .ok_or_else(|| CliError::Failed("the demo shop is not active".into()))?;
    if !kept.contains_key("owner") {
        let password = agora_identity::tokens::random_token(12);
        let owner =
            NewStaff { email: OWNER_EMAIL.into(), name: Some("Demo Owner".into()), roles: vec!["owner".into()] };
        let created = state
            .identity
            .create_staff(&tenant, owner, Some(password.clone()), &Grantor::System("demo"), &Default::default())
            .await;
        if let Some(password) = kept_unless_taken(created, password)? {
            kept.insert("owner".into(), password);
        }
    }
    if !kept.contains_key("operator") {
        let password = agora_identity::tokens::random_token(12);
        let operator = NewOperator {
            email: OPERATOR_EMAIL.into(),
            password: password.clone(),
            name: Some("Demo Operator".into()),
        };
        let created = state.identity.create_operator(operator, &Actor::System("demo")).await;
        if let Some(password) = kept_unless_taken(created, password)? {
            kept.insert("operator".into(), password);
        }
    }
    write(&file, &kept)?;
    Ok(SignIns { owner_password: kept.get("owner").cloned(), operator_password: kept.get("operator").cloned(), file })
}

/// The new account's password; `None` when the account already existed (its password was set by
/// an earlier run whose file is gone, or by hand, and is not ours to print).
fn kept_unless_taken<T>(created: Result<T, IdentityError>, password: String) -> Result<Option<String>, CliError> {
    match created {
        Ok(_) => Ok(Some(password)),
        Err(IdentityError::EmailTaken) => Ok(None),
        Err(e) => Err(CliError::Failed(format!("creating a demo sign-in: {e}"))),
    }
}

fn read(file: &PathBuf) -> BTreeMap<String, String> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn write(file: &PathBuf, kept: &BTreeMap<String, String>) -> Result<(), CliError> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(|e| CliError::Failed(format!("{}: {e}", dir.display())))?;
    }
    let body: String = kept.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(file)
        .and_then(|mut f| f.write_all(body.as_bytes()).map(|()| f))
        .map_err(|e| CliError::Failed(format!("{}: {e}", file.display())))?;
    out.flush().map_err(|e| CliError::Failed(format!("{}: {e}", file.display())))
}
