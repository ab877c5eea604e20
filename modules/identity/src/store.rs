//! SQL for accounts, roles, throttling and the audit log. Sessions and tokens are in
//! `sessions.rs`, next to the rules that use them.

use crate::roles;
use crate::schema::{audit_log, role_permissions, roles as roles_t, user_roles, users};
use crate::{Account, IdentityError, UserKind};
use agora_kernel::{new_id, Actor};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::collections::BTreeSet;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    pub id: uuid::Uuid,
    pub kind: String,
    pub email: String,
    pub name: String,
    pub password_hash: Option<String>,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub credentials_changed_at: DateTime<Utc>,
    pub locale: Option<String>,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

impl UserRow {
    pub fn kind(&self) -> UserKind {
        UserKind::parse(&self.kind).unwrap_or(UserKind::Customer)
    }

    pub fn active(&self) -> bool {
        self.disabled_at.is_none()
    }

    pub fn into_account(self, roles: Vec<String>) -> Account {
        Account {
            id: self.id,
            kind: self.kind(),
            email: self.email,
            name: self.name,
            email_verified: self.email_verified_at.is_some(),
            disabled: self.disabled_at.is_some(),
            roles,
            created_at: self.created_at,
            version: self.version,
        }
    }
}

pub(crate) async fn user_by_email(
    conn: &mut AsyncPgConnection,
    kind: UserKind,
    email: &str,
) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::kind.eq(kind.as_str()))
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>("lower(email) = lower(").bind::<Text, _>(email).sql(")"))
        .filter(users::deleted_at.is_null())
        .select(UserRow::as_select())
        .first(conn)
        .await
        .optional()
}

pub(crate) async fn user_by_id(conn: &mut AsyncPgConnection, id: uuid::Uuid) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::id.eq(id))
        .filter(users::deleted_at.is_null())
        .select(UserRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Creates an account; a taken email is [`IdentityError::EmailTaken`].
pub(crate) async fn insert_user(
    conn: &mut AsyncPgConnection,
    kind: UserKind,
    email: &str,
    name: &str,
    password_hash: Option<&str>,
    actor: &Actor,
) -> Result<UserRow, IdentityError> {
    if user_by_email(conn, kind, email).await?.is_some() {
        return Err(IdentityError::EmailTaken);
    }
    let who = actor.audit_name();
    let row = diesel::insert_into(users::table)
        .values((
            users::id.eq(new_id()),
            users::kind.eq(kind.as_str()),
            users::email.eq(email),
            users::name.eq(name),
            users::password_hash.eq(password_hash),
            users::created_by.eq(&who),
            users::modified_by.eq(&who),
        ))
        .returning(UserRow::as_returning())
        .get_result(conn)
        .await
        .map_err(|e| match e {
            // Two registrations racing for one email: the unique index decides.
            diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
                IdentityError::EmailTaken
            }
            other => IdentityError::from(other),
        })?;
    Ok(row)
}

/// Sets a new password hash and moves `credentials_changed_at`, which invalidates every access
/// token issued before it.
pub(crate) async fn set_password(
    conn: &mut AsyncPgConnection,
    user: uuid::Uuid,
    hash: &str,
    actor: &Actor,
) -> QueryResult<()> {
    diesel::update(users::table.filter(users::id.eq(user)))
        .set((
            users::password_hash.eq(hash),
            users::credentials_changed_at.eq(diesel::dsl::now),
            users::modified_at.eq(diesel::dsl::now),
            users::modified_by.eq(actor.audit_name()),
            users::version.eq(users::version + 1),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub(crate) async fn role_keys(conn: &mut AsyncPgConnection, user: uuid::Uuid) -> QueryResult<Vec<String>> {
    user_roles::table
        .inner_join(roles_t::table)
        .filter(user_roles::user_id.eq(user))
        .order(roles_t::key)
        .select(roles_t::key)
        .load(conn)
        .await
}

/// Whether `user` is an active (not disabled, not deleted) staff member holding the owner role.
pub(crate) async fn is_active_owner(conn: &mut AsyncPgConnection, user: uuid::Uuid) -> QueryResult<bool> {
    let active = user_by_id(conn, user).await?.is_some_and(|u| u.active() && u.kind() == UserKind::Staff);
    Ok(active && role_keys(conn, user).await?.iter().any(|k| k == roles::OWNER))
}

/// The union of the user's roles' permissions.
pub(crate) async fn permissions(conn: &mut AsyncPgConnection, user: uuid::Uuid) -> QueryResult<BTreeSet<String>> {
    let assigned: Vec<(uuid::Uuid, String, bool)> = user_roles::table
        .inner_join(roles_t::table)
        .filter(user_roles::user_id.eq(user))
        .select((roles_t::id, roles_t::key, roles_t::builtin))
        .load(conn)
        .await?;
    let mut set = BTreeSet::new();
    let mut custom = Vec::new();
    for (id, key, builtin) in assigned {
        match (builtin, roles::built_in(&key)) {
            (true, Some(role)) => set.extend(role.permissions.iter().map(|p| p.to_string())),
            _ => custom.push(id),
        }
    }
    if !custom.is_empty() {
        let names: Vec<String> = role_permissions::table
            .filter(role_permissions::role_id.eq_any(&custom))
            .select(role_permissions::permission)
            .load(conn)
            .await?;
        set.extend(names);
    }
    Ok(set)
}

/// How long a login must wait given a throttle row, or `None` if it may proceed.
pub(crate) fn throttle_wait(
    failures: i32,
    window_started_at: DateTime<Utc>,
    last_failure_at: DateTime<Utc>,
    now: DateTime<Utc>,
    free: u32,
    max_per_hour: u32,
) -> Option<u64> {
    let window_end = window_started_at + chrono::Duration::hours(1);
    if now >= window_end {
        return None;
    }
    let failures = u32::try_from(failures).unwrap_or(0);
    if failures >= max_per_hour {
        return Some(secs_until(now, window_end));
    }
    if failures >= free {
        // 30 s after the first failure past the free ones, doubling each time, at most 15 min.
        let exponent = (failures - free).min(5);
        let delay = chrono::Duration::seconds((30i64 << exponent).min(900));
        let ready = last_failure_at + delay;
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
struct ThrottleRow {
    #[diesel(sql_type = Integer)]
    failures: i32,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    window_started_at: DateTime<Utc>,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    last_failure_at: DateTime<Utc>,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    now: DateTime<Utc>,
}

/// The longest wait any of `keys` imposes: (key, free failures, max per hour).
pub(crate) async fn throttle_check(
    conn: &mut AsyncPgConnection,
    table: &str,
    keys: &[(String, u32, u32)],
) -> QueryResult<Option<u64>> {
    let mut wait = None;
    for (key, free, max) in keys {
        let row: Option<ThrottleRow> = diesel::sql_query(format!(
            "SELECT failures, window_started_at, last_failure_at, now() AS now FROM {table} WHERE key = $1"
        ))
        .bind::<Text, _>(key)
        .get_result(conn)
        .await
        .optional()?;
        if let Some(r) = row {
            let w = throttle_wait(r.failures, r.window_started_at, r.last_failure_at, r.now, *free, *max);
            wait = wait.max(w);
        }
    }
    Ok(wait)
}

/// Counts one failed login against each key, opening a new window when the last one is over.
pub(crate) async fn throttle_fail(conn: &mut AsyncPgConnection, table: &str, keys: &[String]) -> QueryResult<()> {
    for key in keys {
        diesel::sql_query(format!(
            "INSERT INTO {table} AS t (key, failures) VALUES ($1, 1) \
             ON CONFLICT (key) DO UPDATE SET \
               failures = CASE WHEN t.window_started_at <= now() - interval '1 hour' THEN 1 ELSE t.failures + 1 END, \
               window_started_at = CASE WHEN t.window_started_at <= now() - interval '1 hour' THEN now() ELSE t.window_started_at END, \
               last_failure_at = now()"
        ))
        .bind::<Text, _>(key)
        .execute(conn)
        .await?;
    }
    Ok(())
}

pub(crate) async fn throttle_clear(conn: &mut AsyncPgConnection, table: &str, key: &str) -> QueryResult<()> {
    diesel::sql_query(format!("DELETE FROM {table} WHERE key = $1")).bind::<Text, _>(key).execute(conn).await?;
    Ok(())
}

/// Records a security event in the shop's audit log.
pub(crate) async fn audit(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    action: &str,
    subject: Option<String>,
    ip: Option<&str>,
    details: serde_json::Value,
) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::id.eq(new_id()),
            audit_log::actor.eq(actor.audit_name()),
            audit_log::action.eq(action),
            audit_log::subject.eq(subject),
            audit_log::ip.eq(ip),
            audit_log::details.eq(details),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_delays_grow_and_cap() {
        let t0 = Utc::now();
        let s = chrono::Duration::seconds;
        assert_eq!(throttle_wait(4, t0, t0, t0, 5, 100), None, "free failures cost nothing");
        assert_eq!(throttle_wait(5, t0, t0, t0 + s(1), 5, 100), Some(29));
        assert_eq!(throttle_wait(5, t0, t0, t0 + s(30), 5, 100), None, "the delay passes");
        assert_eq!(throttle_wait(6, t0, t0, t0 + s(1), 5, 100), Some(59));
        assert_eq!(throttle_wait(40, t0, t0, t0 + s(1), 5, 100), Some(899), "capped at 15 minutes");
        assert_eq!(throttle_wait(100, t0, t0 - s(3000), t0 + s(600), 5, 100), Some(3000), "hourly cap");
        assert_eq!(throttle_wait(100, t0, t0, t0 + s(3600), 5, 100), None, "a new window");
    }
}
