//! Database access. The only place in Agora that decides which schema a query sees.
//!
//! Tenant data lives in one schema per tenant (`t_<slug>`). [`Database::tenant_tx`] is the single
//! entry point to it: it opens a transaction whose first statement is `SET LOCAL search_path`, so
//! the path dies with the transaction and a pooled connection can never carry one tenant's path
//! into another's request. Control-schema tables are always schema-qualified (`agora.tenants`) and
//! reached through [`Database::control_tx`], which sets no path at all.

use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::{AnsiTransactionManager, AsyncPgConnection, TransactionManager};
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use std::future::Future;
use std::time::Duration;

pub use diesel_async::AsyncPgConnection as Conn;

/// Lets us require that a transaction body's future is `Send` (so services can run inside spawned
/// jobs) while accepting plain async closures: `db.tenant_tx(&schema, async |conn| { … })`.
pub trait TxBody<T, R>: AsyncFnOnce(T) -> R + FnOnce(T) -> <Self as TxBody<T, R>>::Fut {
    type Fut: Future<Output = R>;
}

impl<F, T, Fut, R> TxBody<T, R> for F
where
    F: AsyncFnOnce(T) -> R + FnOnce(T) -> Fut,
    Fut: Future<Output = R>,
{
    type Fut = Fut;
}

/// A tenant's schema name, `t_<slug>`. Only constructible from a slug that passed
/// [`is_valid_slug`], which is what makes quoting it into `SET LOCAL` safe.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TenantSchema(String);

impl TenantSchema {
    pub fn for_slug(slug: &str) -> Option<Self> {
        is_valid_slug(slug).then(|| Self(format!("t_{}", slug.replace('-', "_"))))
    }

    pub fn name(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TenantSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Tenant slugs: 2–40 characters, lowercase ASCII letters, digits and `-`, starting with a
/// letter, not ending with `-`. They double as a DNS label (`<slug>.<base domain>`) and, with `-`
/// turned into `_` (slugs have no `_`, so no two slugs share a schema), as a schema name.
pub fn is_valid_slug(slug: &str) -> bool {
    let bytes = slug.as_bytes();
    (2..=40).contains(&bytes.len())
        && bytes.first().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.last().is_some_and(|b| *b != b'-')
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

/// What a migration session migrates.
#[derive(Debug, Clone, Copy)]
pub enum MigrationTarget<'a> {
    /// The control schema `agora`.
    Control,
    Tenant(&'a TenantSchema),
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database unavailable: {0}")]
    Pool(String),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// Connection settings for the pool.
#[derive(Clone)]
pub struct DbSettings {
    pub url: SecretString,
    pub pool_size: usize,
    pub acquire_timeout: Duration,
}

#[derive(Clone)]
pub struct Database {
    pool: Pool<AsyncPgConnection>,
    url: SecretString,
    /// The read cache tenant transactions drop their stale tags from once they commit
    /// ([`crate::tx::TenantTx::stale`]); none in tools that serve nothing.
    cache: Option<crate::cache::Cache>,
}

/// Snapshot of pool usage for `/metrics` and `/readyz`.
#[derive(Debug, Clone, Copy)]
pub struct PoolUsage {
    pub size: usize,
    pub available: usize,
    pub max_size: usize,
    pub waiting: usize,
}

impl Database {
    /// Builds the pool. Connections are opened lazily, so this never touches the network.
    pub fn connect(settings: &DbSettings) -> Result<Self, DbError> {
        let mut config = ManagerConfig::default();
        // A connection that comes back with an open transaction, or whose server went away (its
        // socket closed: a restarted embedded PostgreSQL), is already discarded by diesel-async's
        // broken-connection check; `Fast` skips an extra round trip on every checkout.
        config.recycling_method = RecyclingMethod::Fast;
        let manager =
            AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(settings.url.expose_secret(), config);
        let pool = Pool::builder(manager)
            .max_size(settings.pool_size)
            .wait_timeout(Some(settings.acquire_timeout))
            .create_timeout(Some(Duration::from_secs(10)))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|e| DbError::Pool(e.to_string()))?;
        Ok(Self { pool, url: settings.url.clone(), cache: None })
    }

    /// Tenant transactions drop the cache tags they mark stale from `cache` once they commit.
    pub fn with_cache(mut self, cache: crate::cache::Cache) -> Self {
        self.cache = Some(cache);
        self
    }

    pub(crate) fn cache(&self) -> Option<&crate::cache::Cache> {
        self.cache.as_ref()
    }

    pub fn url(&self) -> &SecretString {
        &self.url
    }

    pub fn usage(&self) -> PoolUsage {
        let status = self.pool.status();
        PoolUsage { size: status.size, available: status.available, max_size: status.max_size, waiting: status.waiting }
    }

    async fn checkout(&self) -> Result<Object<AsyncPgConnection>, DbError> {
        self.pool.get().await.map_err(|e| DbError::Pool(e.to_string()))
    }

    /// Runs `body` in a transaction scoped to one tenant's schema (then the control schema
    /// `agora`, so tenant code can write the outbox and jobs in the same transaction).
    ///
    /// This is the only function in Agora that sets `search_path` on a pooled connection.
    pub async fn tenant_tx<R, E, F>(&self, schema: &TenantSchema, body: F) -> Result<R, E>
    where
        for<'r> F: AsyncFnOnce(&'r mut AsyncPgConnection) -> Result<R, E>
            + TxBody<&'r mut AsyncPgConnection, Result<R, E>, Fut: Send>
            + Send,
        E: From<DbError> + Send,
        R: Send,
    {
        // `BEGIN` and `SET LOCAL` go in one round trip. The schema name is safe to quote in:
        // TenantSchema only exists for validated slugs.
        let begin = format!("BEGIN; SET LOCAL search_path TO \"{}\", agora", schema.name());
        self.run_tx(&begin, body).await
    }

    /// Runs `body` in a transaction on the control schema. Tables must be schema-qualified.
    pub async fn control_tx<R, E, F>(&self, body: F) -> Result<R, E>
    where
        for<'r> F: AsyncFnOnce(&'r mut AsyncPgConnection) -> Result<R, E>
            + TxBody<&'r mut AsyncPgConnection, Result<R, E>, Fut: Send>
            + Send,
        E: From<DbError> + Send,
        R: Send,
    {
        self.run_tx("BEGIN", body).await
    }

    async fn run_tx<R, E, F>(&self, begin: &str, body: F) -> Result<R, E>
    where
        for<'r> F: AsyncFnOnce(&'r mut AsyncPgConnection) -> Result<R, E>
            + TxBody<&'r mut AsyncPgConnection, Result<R, E>, Fut: Send>
            + Send,
        E: From<DbError> + Send,
        R: Send,
    {
        let mut conn = self.checkout().await?;
        // If this future is dropped part-way (client went away), the connection goes back to the
        // pool with diesel's transaction state still open; diesel-async then reports it broken and
        // deadpool discards it, so the server rolls back when the socket closes.
        AnsiTransactionManager::begin_transaction_sql(&mut *conn, begin)
            .await
            .map_err(|e| E::from(DbError::Query(e)))?;
        match body(&mut conn).await {
            Ok(value) => {
                AnsiTransactionManager::commit_transaction(&mut *conn).await.map_err(|e| E::from(DbError::Query(e)))?;
                Ok(value)
            }
            Err(error) => {
                if let Err(rollback) = AnsiTransactionManager::rollback_transaction(&mut *conn).await {
                    tracing::warn!(error = %rollback, "rollback failed; connection discarded");
                }
                Err(error)
            }
        }
    }

    /// A dedicated connection outside the pool for migrating one target (refinery runs its own
    /// transactions, so the schema must be fixed for the whole session). It holds a session-level
    /// advisory lock on the target, so two processes never migrate the same schema at once, and
    /// for a tenant its `search_path` is that schema alone, so the migration's tables land there.
    /// The connection is never returned to a pool; closing it releases the lock.
    pub async fn migration_session(&self, target: MigrationTarget<'_>) -> Result<tokio_postgres::Client, DbError> {
        let (client, connection) = tokio_postgres::connect(self.url.expose_secret(), tokio_postgres::NoTls)
            .await
            .map_err(|e| DbError::Pool(e.to_string()))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "migration connection closed");
            }
        });
        let lock_name = match target {
            MigrationTarget::Control => "agora",
            MigrationTarget::Tenant(schema) => schema.name(),
        };
        let setup = async {
            client.execute("SELECT pg_advisory_lock(hashtext('agora.migrate'), hashtext($1))", &[&lock_name]).await?;
            client.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{lock_name}\"")).await?;
            if let MigrationTarget::Tenant(schema) = target {
                client.batch_execute(&format!("SET search_path TO \"{}\"", schema.name())).await?;
            }
            Ok::<(), tokio_postgres::Error>(())
        };
        setup.await.map_err(|e| DbError::Pool(e.to_string()))?;
        Ok(client)
    }

    /// A dedicated connection LISTENing on `channel`; each notification's payload arrives on the
    /// returned channel. The receiver ends when the connection is lost.
    pub async fn listen(&self, channel: &'static str) -> Result<tokio::sync::mpsc::Receiver<String>, DbError> {
        use futures_util::StreamExt;
        let (client, mut connection) = tokio_postgres::connect(self.url.expose_secret(), tokio_postgres::NoTls)
            .await
            .map_err(|e| DbError::Pool(e.to_string()))?;
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        let forward = tx.clone();
        tokio::spawn(async move {
            let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(message) = messages.next().await {
                match message {
                    Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                        // A full channel already holds a wake-up; dropping this one loses nothing.
                        let _ = forward.try_send(n.payload().to_string());
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        });
        client.batch_execute(&format!("LISTEN {channel}")).await.map_err(|e| DbError::Pool(e.to_string()))?;
        // The connection lives as long as someone listens.
        tokio::spawn(async move {
            tx.closed().await;
            drop(client);
        });
        Ok(rx)
    }

    /// Round trip to the server, for `/readyz`.
    pub async fn ping(&self) -> Result<(), DbError> {
        use diesel_async::SimpleAsyncConnection;
        let mut conn = self.checkout().await?;
        conn.batch_execute("SELECT 1").await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for ok in ["ab", "acme", "acme-shop", "a1", "shop-2-go"] {
            assert!(is_valid_slug(ok), "{ok}");
        }
        for bad in ["a", "Acme", "1acme", "acme-", "ac me", "ac\"me", "t_x", "", &"a".repeat(41)] {
            assert!(!is_valid_slug(bad), "{bad}");
        }
        assert_eq!(TenantSchema::for_slug("acme-shop").map(|s| s.name().to_string()), Some("t_acme_shop".into()));
    }
}
