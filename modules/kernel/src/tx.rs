//! The tenant transaction: one value that knows the shop, who is acting and the connection.
//!
//! Publishing an event, enqueueing a job, writing the audit log and stamping `created_by` /
//! `modified_by` all need the same three things. Taking them as separate arguments let them
//! disagree (an event filed under one shop while the rows went to another's schema); taking a
//! [`TenantTx`] makes that impossible, because [`Database::in_tenant`] builds it from the one
//! [`TenantContext`] whose schema the transaction is scoped to, and nothing else can.
//!
//! ```ignore
//! let acting = Acting::new(principal.actor(), client_ip);
//! db.in_tenant(&tenant, &acting, async |tx| {
//!     let stamp = tx.stamp();
//!     diesel::insert_into(products::table)
//!         .values((products::id.eq(id), products::name.eq(name), crate::stamp_new!(stamp, products)))
//!         .execute(tx.conn())
//!         .await?;
//!     tx.publish(&bus, &ProductCreated { id }).await?;
//!     tx.audit("catalog.product.created", Some(id.to_string()), json!({})).await?;
//!     Ok::<_, CatalogError>(id)
//! })
//! .await
//! ```

use crate::db::{Database, DbError, TxBody};
use crate::events::{Event, EventBus};
use crate::http::TenantContext;
use crate::jobs::{EnqueueOptions, Job};
use crate::model::{new_id, Actor};
use chrono::{DateTime, Utc};
use diesel::sql_types::{Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// Who is acting, as the audit log records it: the actor and, for a request, the client's
/// address (from [`crate::http::client_addr`], which only trusts configured proxies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acting {
    pub actor: Actor,
    pub ip: Option<String>,
}

impl Acting {
    pub fn new(actor: Actor, ip: Option<String>) -> Self {
        Self { actor, ip }
    }

    /// The system itself (a job, a subscriber, the CLI), named for the audit log.
    pub fn system(what: &'static str) -> Self {
        Self { actor: Actor::System(what), ip: None }
    }
}

/// The values of the audit columns for one transaction: every row it writes carries the same
/// author and instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// [`Actor::audit_name`] of whoever acts.
    pub by: String,
    pub at: DateTime<Utc>,
}

impl Stamp {
    /// A stamp for the platform's own tables (`agora.tenants`, operators), written in a control
    /// transaction; a shop's rows take [`TenantTx::stamp`].
    pub fn of(actor: &Actor) -> Self {
        Self { by: actor.audit_name(), at: Utc::now() }
    }
}

/// A transaction scoped to one shop's schema, opened by [`Database::in_tenant`].
pub struct TenantTx<'c> {
    conn: &'c mut AsyncPgConnection,
    tenant: &'c TenantContext,
    acting: Acting,
    stamp: Stamp,
    /// Cache tags this transaction's writes make stale, dropped once it commits.
    stale: Vec<String>,
}

impl<'c> TenantTx<'c> {
    /// The connection, for this module's own queries (tables resolve in the shop's schema).
    pub fn conn(&mut self) -> &mut AsyncPgConnection {
        self.conn
    }

    pub fn tenant(&self) -> &TenantContext {
        self.tenant
    }

    pub fn actor(&self) -> &Actor {
        &self.acting.actor
    }

    pub fn acting(&self) -> &Acting {
        &self.acting
    }

    /// The caller turned out to be `actor` part-way through (a login that matched an account, a
    /// one-time link that named one, a registration that just created one): what the
    /// transaction stamps and audits from here on is theirs. The client's address and the
    /// transaction's instant stay.
    pub fn act_as(&mut self, actor: Actor) {
        self.stamp.by = actor.audit_name();
        self.acting.actor = actor;
    }

    /// Author and instant for `created_by/at` and `modified_by/at` (see [`stamp_new!`] and
    /// [`stamp_change!`]).
    ///
    /// [`stamp_new!`]: crate::stamp_new
    /// [`stamp_change!`]: crate::stamp_change
    pub fn stamp(&self) -> Stamp {
        self.stamp.clone()
    }

    /// Marks what this transaction writes as changing the storefront answers tagged `tag`
    /// (`agora_kernel::cache`): they are dropped once it commits — in this process before
    /// [`Database::in_tenant`] returns, in the other replicas through the cache's pub/sub — and
    /// not at all if it rolls back. A rule that changes shared data marks it where it writes,
    /// so every caller's transaction (a facade's own or a caller's) drops the same tags.
    pub fn stale(&mut self, tag: impl Into<String>) {
        let tag = tag.into();
        if !self.stale.contains(&tag) {
            self.stale.push(tag);
        }
    }

    /// Records `event` for this shop in this transaction (the outbox): delivered to every
    /// subscriber once the transaction commits, never if it rolls back.
    pub async fn publish<E: Event>(&mut self, bus: &EventBus, event: &E) -> Result<uuid::Uuid, DbError> {
        bus.publish_in(self.conn, Some(self.tenant), event).await
    }

    /// Adds a job for this shop in this transaction. `None` when an unfinished job with the same
    /// `dedup_key` already exists.
    pub async fn enqueue<J: Job>(&mut self, job: &J, options: EnqueueOptions) -> Result<Option<uuid::Uuid>, DbError> {
        crate::jobs::enqueue_in(self.conn, Some(self.tenant), job, options).await
    }

    /// Writes one entry of the shop's audit log: `action` is `area.what` in lowercase
    /// (`identity.staff.invited`), `subject` what it was done to, `details` anything else worth
    /// keeping (never a secret: the log is shown to staff and exported). The only writer of the
    /// `audit_log` table (identity's tenant migration creates it and identity lists it).
    pub async fn audit(
        &mut self,
        action: &str,
        subject: Option<String>,
        details: serde_json::Value,
    ) -> Result<(), DbError> {
        diesel::sql_query(
            "INSERT INTO audit_log (id, occurred_at, actor, action, subject, ip, details) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind::<SqlUuid, _>(new_id())
        .bind::<Timestamptz, _>(self.stamp.at)
        .bind::<Text, _>(&self.stamp.by)
        .bind::<Text, _>(action)
        .bind::<Nullable<Text>, _>(subject)
        .bind::<Nullable<Text>, _>(self.acting.ip.as_deref())
        .bind::<Jsonb, _>(details)
        .execute(self.conn)
        .await?;
        Ok(())
    }
}

impl Database {
    /// Runs `body` in one transaction on `tenant`'s schema, as `acting`. The only way tenant code
    /// reaches its data, publishes, enqueues or audits.
    pub async fn in_tenant<R, E, F>(&self, tenant: &TenantContext, acting: &Acting, body: F) -> Result<R, E>
    where
        for<'r, 'c> F: AsyncFnOnce(&'r mut TenantTx<'c>) -> Result<R, E>
            + TxBody<&'r mut TenantTx<'c>, Result<R, E>, Fut: Send>
            + Send,
        E: From<DbError> + Send,
        R: Send,
    {
        self.in_tenant_dropping(tenant, acting, &[], body).await
    }

    /// [`Database::in_tenant`] for a write that makes the cached answers tagged `tags` stale
    /// (as if its body began with [`TenantTx::stale`] for each): a module whose every write
    /// changes what shoppers are shown passes its tag here.
    pub async fn in_tenant_dropping<R, E, F>(
        &self,
        tenant: &TenantContext,
        acting: &Acting,
        tags: &[&str],
        body: F,
    ) -> Result<R, E>
    where
        for<'r, 'c> F: AsyncFnOnce(&'r mut TenantTx<'c>) -> Result<R, E>
            + TxBody<&'r mut TenantTx<'c>, Result<R, E>, Fut: Send>
            + Send,
        E: From<DbError> + Send,
        R: Send,
    {
        let stamp = Stamp::of(&acting.actor);
        let stale: Vec<String> = tags.iter().map(|t| (*t).to_string()).collect();
        let (result, stale) = self
            .tenant_tx(&tenant.schema, async move |conn| {
                let mut tx = TenantTx { conn, tenant, acting: acting.clone(), stamp, stale };
                let result = body(&mut tx).await;
                result.map(|r| (r, tx.stale))
            })
            .await?;
        if let (Some(cache), false) = (self.cache(), stale.is_empty()) {
            cache.invalidate(tenant, &stale).await;
        }
        Ok(result)
    }
}

/// The audit columns of a new row, as a tuple for diesel's `values(..)`:
/// `created_by/at`, `modified_by/at` from the transaction's [`Stamp`], `version` 1.
#[macro_export]
macro_rules! stamp_new {
    ($stamp:expr, $table:ident) => {{
        let stamp: &$crate::tx::Stamp = &$stamp;
        (
            $table::created_by.eq(stamp.by.clone()),
            $table::created_at.eq(stamp.at),
            $table::modified_by.eq(stamp.by.clone()),
            $table::modified_at.eq(stamp.at),
            $table::version.eq(1_i64),
        )
    }};
}

/// The audit columns of a changed row, as a tuple for diesel's `set(..)`: `modified_by/at`
/// from the transaction's [`Stamp`] and `version + 1`.
#[macro_export]
macro_rules! stamp_change {
    ($stamp:expr, $table:ident) => {{
        let stamp: &$crate::tx::Stamp = &$stamp;
        (
            $table::modified_by.eq(stamp.by.clone()),
            $table::modified_at.eq(stamp.at),
            $table::version.eq($table::version + 1_i64),
        )
    }};
}
