//! The one throttle for everything an attacker can guess or spam: passwords (shop and operator
//! logins), MFA codes, registration and password-reset requests — and later coupon codes and
//! payment retries.
//!
//! An attempt is **counted before its verdict**: [`reserve`] locks the throttle rows of every key
//! the attempt touches (in a fixed order, so two attempts never deadlock), decides from the
//! counts, and records the attempt in the same transaction. The row locks serialise concurrent
//! attempts on one key, so fifty parallel guesses see the counts one after another and never get
//! more verdicts than the limit allows. The caller commits the reservation before doing the slow
//! or secret-revealing work (hashing a password, checking a code), and reports a success with
//! [`Reservation::succeeded`]: keys marked [`OnSuccess::Reset`] start over, keys marked
//! [`OnSuccess::Refund`] give the attempt back, [`OnSuccess::Keep`] keys keep counting (requests
//! that are limited whatever their outcome, such as registrations).
//!
//! Each key has a one-hour window opened by its first attempt: `free` attempts pass at once; past
//! them each further attempt must wait 30 s after the previous one, doubling up to 15 minutes;
//! after `max_per_hour` nothing passes until the window ends. The rows live in
//! `agora.throttles`, scoped to a shop (or the platform), and are purged an hour after their
//! window ends.

use crate::db::DbError;
use chrono::{DateTime, Utc};
use diesel::sql_types::{Integer, Text, Timestamptz};
use diesel::{QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// Whose throttle: a shop's (keys of different shops never meet) or the platform's (operators).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleScope {
    Shop(uuid::Uuid),
    Platform,
}

impl ThrottleScope {
    fn as_text(self) -> String {
        match self {
            ThrottleScope::Shop(id) => id.to_string(),
            ThrottleScope::Platform => "platform".into(),
        }
    }
}

/// What a success does to a key's count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnSuccess {
    /// Start over: the right secret proves the holder (an account's failed logins).
    Reset,
    /// Give this attempt back: only failures count (a client address across accounts).
    Refund,
    /// Every attempt counts, whatever its outcome (registrations, reset requests).
    Keep,
}

/// One key an attempt counts against, with its limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// What is counted, e.g. `account:staff:ann@example.com` or `ip:203.0.113.9`.
    pub key: String,
    /// Attempts in a window that pass without delay.
    pub free: u32,
    /// Attempts in a window, delays or not.
    pub max_per_hour: u32,
    pub on_success: OnSuccess,
}

impl Rule {
    pub fn new(key: impl Into<String>, free: u32, max_per_hour: u32, on_success: OnSuccess) -> Self {
        Self { key: key.into(), free, max_per_hour, on_success }
    }
}

/// An attempt that was counted and may go ahead.
#[derive(Debug, Clone)]
#[must_use = "report a success with `succeeded`, or drop the reservation on failure"]
pub struct Reservation {
    scope: ThrottleScope,
    rules: Vec<Rule>,
}

/// The attempt was refused and not counted: try again in this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait {
    pub retry_after_secs: u64,
}

/// How long an attempt must wait given a key's counts, or `None` if it may proceed.
pub fn wait(
    attempts: i32,
    window_started_at: DateTime<Utc>,
    last_attempt_at: DateTime<Utc>,
    now: DateTime<Utc>,
    free: u32,
    max_per_hour: u32,
) -> Option<u64> {
    let window_end = window_started_at + chrono::Duration::hours(1);
    if now >= window_end {
        return None;
    }
    let attempts = u32::try_from(attempts).unwrap_or(0);
    if attempts >= max_per_hour {
        return Some(secs_until(now, window_end));
    }
    if attempts >= free {
        // 30 s after the last attempt past the free ones, doubling each time, at most 15 min.
        let exponent = (attempts - free).min(5);
        let delay = chrono::Duration::seconds((30i64 << exponent).min(900));
        let ready = last_attempt_at + delay;
        if now < ready {
            return Some(secs_until(now, ready));
        }
    }
    None
}

fn secs_until(now: DateTime<Utc>, then: DateTime<Utc>) -> u64 {
    u64::try_from((then - now).num_milliseconds()).map(|ms| ms.div_ceil(1000)).unwrap_or(1).max(1)
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Integer)]
    attempts: i32,
    #[diesel(sql_type = Timestamptz)]
    window_started_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    last_attempt_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    now: DateTime<Utc>,
}

/// Counts one attempt against every rule, or refuses it (counting nothing) when any rule says
/// wait. Runs in the caller's transaction, which must commit before the verdict is worked out:
/// the rows stay locked until then, which is what makes concurrent attempts queue.
pub async fn reserve(
    conn: &mut AsyncPgConnection,
    scope: ThrottleScope,
    rules: &[Rule],
) -> QueryResult<Result<Reservation, Wait>> {
    let scope_text = scope.as_text();
    let mut ordered: Vec<&Rule> = rules.iter().collect();
    ordered.sort_by(|a, b| a.key.cmp(&b.key));
    ordered.dedup_by(|a, b| a.key == b.key);
    let mut longest: Option<u64> = None;
    for rule in &ordered {
        diesel::sql_query("INSERT INTO agora.throttles (scope, key) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind::<Text, _>(&scope_text)
            .bind::<Text, _>(&rule.key)
            .execute(conn)
            .await?;
        // Taken from the database's clock, as the counts' timestamps are: replicas may disagree.
        let row: Row = diesel::sql_query(
            "SELECT attempts, window_started_at, last_attempt_at, now() AS now FROM agora.throttles \
             WHERE scope = $1 AND key = $2 FOR UPDATE",
        )
        .bind::<Text, _>(&scope_text)
        .bind::<Text, _>(&rule.key)
        .get_result(conn)
        .await?;
        let w = wait(row.attempts, row.window_started_at, row.last_attempt_at, row.now, rule.free, rule.max_per_hour);
        longest = longest.max(w);
    }
    if let Some(retry_after_secs) = longest {
        return Ok(Err(Wait { retry_after_secs }));
    }
    for rule in &ordered {
        diesel::sql_query(
            "UPDATE agora.throttles SET \
               attempts = CASE WHEN window_started_at <= now() - interval '1 hour' THEN 1 ELSE attempts + 1 END, \
               window_started_at = CASE WHEN window_started_at <= now() - interval '1 hour' THEN now() \
                                        ELSE window_started_at END, \
               last_attempt_at = now() \
             WHERE scope = $1 AND key = $2",
        )
        .bind::<Text, _>(&scope_text)
        .bind::<Text, _>(&rule.key)
        .execute(conn)
        .await?;
    }
    Ok(Ok(Reservation { scope, rules: ordered.into_iter().cloned().collect() }))
}

impl Reservation {
    /// The attempt succeeded: reset or refund its keys as their rules say.
    pub async fn succeeded(self, conn: &mut AsyncPgConnection) -> QueryResult<()> {
        let scope_text = self.scope.as_text();
        for rule in &self.rules {
            let sql = match rule.on_success {
                OnSuccess::Reset => "DELETE FROM agora.throttles WHERE scope = $1 AND key = $2",
                OnSuccess::Refund => {
                    "UPDATE agora.throttles SET attempts = greatest(attempts - 1, 0) WHERE scope = $1 AND key = $2"
                }
                OnSuccess::Keep => continue,
            };
            diesel::sql_query(sql).bind::<Text, _>(&scope_text).bind::<Text, _>(&rule.key).execute(conn).await?;
        }
        Ok(())
    }
}

/// Forgets a key (an erased customer's email must not linger in a throttle key).
pub async fn forget(conn: &mut AsyncPgConnection, scope: ThrottleScope, key: &str) -> QueryResult<()> {
    diesel::sql_query("DELETE FROM agora.throttles WHERE scope = $1 AND key = $2")
        .bind::<Text, _>(scope.as_text())
        .bind::<Text, _>(key)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes counts whose window ended over an hour ago; a recurring job.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
// Braces, not a unit struct: a job's payload is a JSON object (`{}`), as the queue's API says.
pub struct PurgeExpiredThrottles {}

impl crate::jobs::Job for PurgeExpiredThrottles {
    const KIND: &'static str = "kernel.purge_throttles";

    async fn run(self, ctx: crate::jobs::JobContext) -> Result<(), crate::jobs::JobError> {
        let deleted = ctx
            .db
            .control_tx(async |conn| {
                let sql = "DELETE FROM agora.throttles WHERE window_started_at < now() - interval '2 hours'";
                Ok::<_, DbError>(diesel::sql_query(sql).execute(conn).await?)
            })
            .await?;
        if deleted > 0 {
            tracing::info!(deleted, "expired throttle counts purged");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_cap() {
        let t0 = Utc::now();
        let s = chrono::Duration::seconds;
        assert_eq!(wait(4, t0, t0, t0, 5, 100), None, "free attempts cost nothing");
        assert_eq!(wait(5, t0, t0, t0 + s(1), 5, 100), Some(29));
        assert_eq!(wait(5, t0, t0, t0 + s(30), 5, 100), None, "the delay passes");
        assert_eq!(wait(6, t0, t0, t0 + s(1), 5, 100), Some(59));
        assert_eq!(wait(40, t0, t0, t0 + s(1), 5, 100), Some(899), "capped at 15 minutes");
        assert_eq!(wait(100, t0, t0 - s(3000), t0 + s(600), 5, 100), Some(3000), "hourly cap");
        assert_eq!(wait(100, t0, t0, t0 + s(3600), 5, 100), None, "a new window");
        assert_eq!(wait(3, t0, t0, t0, 3, 3), Some(3600), "free equal to the cap is a hard limit");
    }
}
