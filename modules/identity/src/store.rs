//! SQL for accounts and roles (throttling is the kernel's `throttle`; the audit log is written
//! by the kernel's `TenantTx::audit`). Sessions and tokens are in `sessions/`, next to the rules
//! that use them.

use crate::access::roles;
use crate::schema::{one_time_tokens, role_permissions, roles as roles_t, user_roles, users};
use crate::{Account, IdentityError, UserKind};
use agora_kernel::{new_id, Stamp};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Text;
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
    stamp: &Stamp,
) -> Result<UserRow, IdentityError> {
    if user_by_email(conn, kind, email).await?.is_some() {
        return Err(IdentityError::EmailTaken);
    }
    let row = diesel::insert_into(users::table)
        .values((
            users::id.eq(new_id()),
            users::kind.eq(kind.as_str()),
            users::email.eq(email),
            users::name.eq(name),
            users::password_hash.eq(password_hash),
            agora_kernel::stamp_new!(stamp, users),
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
    stamp: &Stamp,
) -> QueryResult<()> {
    diesel::update(users::table.filter(users::id.eq(user)))
        .set((
            users::password_hash.eq(hash),
            users::credentials_changed_at.eq(diesel::dsl::now),
            agora_kernel::stamp_change!(stamp, users),
        ))
        .execute(conn)
        .await?;
    // Links mailed before the change die with the old password, however it changed: a reset
    // link lying in a mailbox someone else reads must not undo the new one.
    diesel::update(
        one_time_tokens::table
            .filter(one_time_tokens::user_id.eq(user))
            .filter(one_time_tokens::purpose.eq("reset_password"))
            .filter(one_time_tokens::used_at.is_null()),
    )
    .set(one_time_tokens::used_at.eq(diesel::dsl::now))
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
