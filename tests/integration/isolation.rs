//! Tenant isolation through one small pool: transactions of two shops interleaved, some failing
//! midway, some abandoned by their caller, never see each other's rows, and no connection comes
//! back from the pool with a tenant's search_path.

use crate::support::TestApp;
use agora_kernel::{Database, DbError, DbSettings, TenantSchema};
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;
use futures_util::stream::{self, StreamExt};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[derive(diesel::QueryableByName)]
struct Owner {
    #[diesel(sql_type = Text)]
    owner: String,
}

#[derive(diesel::QueryableByName)]
struct Path {
    #[diesel(sql_type = Text)]
    search_path: String,
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(Debug)]
enum ProbeError {
    Db(DbError),
    Leak(String),
    Planned,
}

impl From<DbError> for ProbeError {
    fn from(e: DbError) -> Self {
        ProbeError::Db(e)
    }
}

impl From<diesel::result::Error> for ProbeError {
    fn from(e: diesel::result::Error) -> Self {
        ProbeError::Db(DbError::Query(e))
    }
}

const OPERATIONS: usize = 10_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_tenants_through_a_two_connection_pool_never_meet() {
    let app = TestApp::spawn().await;
    let slugs = [app.tenant("left").await, app.tenant("right").await];
    let db = Database::connect(&DbSettings {
        url: secrecy::SecretString::from(app.db.url.clone()),
        pool_size: 2,
        acquire_timeout: Duration::from_secs(30),
    })
    .unwrap();
    let schemas: Vec<TenantSchema> = slugs.iter().map(|s| TenantSchema::for_slug(s).unwrap()).collect();
    for schema in &schemas {
        db.tenant_tx(schema, async |conn| {
            diesel::sql_query("CREATE TABLE probe (id bigserial PRIMARY KEY, owner text NOT NULL)")
                .execute(conn)
                .await?;
            Ok::<_, DbError>(())
        })
        .await
        .unwrap();
    }

    let committed = [AtomicUsize::new(0), AtomicUsize::new(0)];
    let cancelled = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    let results: Vec<Result<(), String>> = stream::iter(0..OPERATIONS)
        .map(|i| {
            let (db, schemas, committed, cancelled, failed) = (&db, &schemas, &committed, &cancelled, &failed);
            async move {
                let side = i % 2;
                let me = schemas[side].name().to_string();
                let op = db.tenant_tx(&schemas[side], async |conn| {
                    // Everything visible is ours.
                    let owners: Vec<Owner> = diesel::sql_query("SELECT DISTINCT owner FROM probe").load(conn).await?;
                    if let Some(foreign) = owners.iter().find(|o| o.owner != me) {
                        return Err(ProbeError::Leak(format!("{me} saw a row of {}", foreign.owner)));
                    }
                    diesel::sql_query("INSERT INTO probe (owner) VALUES ($1)")
                        .bind::<Text, _>(&me)
                        .execute(conn)
                        .await?;
                    match i % 7 {
                        // Fails midway: the insert above must vanish.
                        3 => Err(ProbeError::Planned),
                        // A query error midway leaves the transaction aborted.
                        5 => {
                            diesel::sql_query("SELECT no_such_column FROM probe").execute(conn).await?;
                            Ok(())
                        }
                        _ => {
                            tokio::task::yield_now().await;
                            Ok(())
                        }
                    }
                });
                // Every eleventh caller gives up part-way, like a client that disconnects.
                if i % 11 == 0 {
                    match tokio::time::timeout(Duration::from_micros(200), op).await {
                        Err(_elapsed) => {
                            AtomicUsize::fetch_add(cancelled, 1, Ordering::Relaxed);
                            return Ok(());
                        }
                        Ok(result) => return settle(result, &committed[side], failed),
                    }
                }
                settle(op.await, &committed[side], failed)
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    let leaks: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    assert!(leaks.is_empty(), "{} isolation failures, first: {:?}", leaks.len(), <[String]>::first(&leaks));
    assert!(AtomicUsize::load(&failed, Ordering::Relaxed) > 1000, "failing transactions were exercised");
    assert!(AtomicUsize::load(&cancelled, Ordering::Relaxed) > 0, "cancelled transactions were exercised");

    // Each schema holds only its own rows; cancelled transactions committed nothing they should
    // not have (their count is at most what a cancelled-after-commit could add).
    for (side, schema) in schemas.iter().enumerate() {
        let me = schema.name().to_string();
        let (mine, foreign) = db
            .tenant_tx(schema, async |conn| {
                let mine: Count = diesel::sql_query("SELECT count(*) AS n FROM probe WHERE owner = $1")
                    .bind::<Text, _>(&me)
                    .get_result(conn)
                    .await?;
                let foreign: Count = diesel::sql_query("SELECT count(*) AS n FROM probe WHERE owner <> $1")
                    .bind::<Text, _>(&me)
                    .get_result(conn)
                    .await?;
                Ok::<_, DbError>((mine.n, foreign.n))
            })
            .await
            .unwrap();
        assert_eq!(foreign, 0);
        let ok = AtomicUsize::load(&committed[side], Ordering::Relaxed) as i64;
        assert!(
            mine >= ok && mine <= ok + AtomicUsize::load(&cancelled, Ordering::Relaxed) as i64,
            "{me}: {mine} rows for {ok} commits"
        );
    }

    // A connection straight from the pool carries the default path, never a tenant's.
    for _ in 0..50 {
        let path: Path = db
            .control_tx(async |conn| {
                Ok::<_, DbError>(
                    diesel::sql_query("SELECT current_setting('search_path') AS search_path").get_result(conn).await?,
                )
            })
            .await
            .unwrap();
        assert_eq!(path.search_path, "\"$user\", public");
    }
}

fn settle(result: Result<(), ProbeError>, committed: &AtomicUsize, failed: &AtomicUsize) -> Result<(), String> {
    match result {
        Ok(()) => {
            AtomicUsize::fetch_add(committed, 1, Ordering::Relaxed);
            Ok(())
        }
        Err(ProbeError::Leak(leak)) => Err(leak),
        Err(ProbeError::Planned) | Err(ProbeError::Db(DbError::Query(_))) => {
            AtomicUsize::fetch_add(failed, 1, Ordering::Relaxed);
            Ok(())
        }
        Err(ProbeError::Db(e)) => Err(format!("pool error: {e}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shops_served_through_a_tiny_pool_answer_with_their_own_settings() {
    let app = TestApp::spawn_with(|o| {
        o.env.insert("AGORA_DB_POOL_SIZE".into(), "2".into());
        o.env.insert("AGORA_RATE_LIMIT_CLIENT_PER_MINUTE".into(), "0".into());
        o.env.insert("AGORA_RATE_LIMIT_TENANT_PER_MINUTE".into(), "0".into());
    })
    .await;
    app.tenant_named("left", "Left Shop").await;
    app.tenant_named("right", "Right Shop").await;
    let client = reqwest::Client::builder().pool_max_idle_per_host(32).build().unwrap();
    let mismatches: Vec<String> = stream::iter(0..2_000)
        .map(|i| {
            let (client, base) = (&client, &app.base);
            async move {
                let (slug, name) = if i % 2 == 0 { ("left", "Left Shop") } else { ("right", "Right Shop") };
                let req = client.get(format!("{base}/api/v1/store/shop")).header("x-tenant-id", slug);
                if i % 13 == 0 {
                    // The client hangs up before the answer.
                    let _ = tokio::time::timeout(Duration::from_micros(300), req.send()).await;
                    return None;
                }
                let res = match req.send().await {
                    Ok(res) if res.status() == 200 => res,
                    Ok(res) => return Some(format!("{slug}: status {}", res.status())),
                    Err(e) => return Some(format!("{slug}: {e}")),
                };
                let shop: serde_json::Value = match res.json().await {
                    Ok(shop) => shop,
                    Err(e) => return Some(format!("{slug}: {e}")),
                };
                (shop["name"] != name).then(|| format!("{slug} got {shop}"))
            }
        })
        .buffer_unordered(32)
        .filter_map(|x| async move { x })
        .collect()
        .await;
    assert!(mismatches.is_empty(), "{mismatches:?}");
}
