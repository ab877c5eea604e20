//! Staff, roles, API keys and the audit log: the admin side of access.

pub(crate) mod roles;

use crate::accounts::parse_email;
use crate::schema::{api_keys, audit_log, role_permissions, roles as roles_t, user_roles, users};
use crate::store;
use crate::{tokens, Account, IdentityError, IdentityModule, UserKind};
use agora_kernel::auth::{is_permission, Principal};
use agora_kernel::lists::{Keyset, Page};
use agora_kernel::ports::ShopOwner;
use agora_kernel::{new_id, Actor, FieldError, TenantTx};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use roles::built_in;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

pub const API_KEY_PREFIX: &str = "agora_key_";
const PREFIX_LEN: usize = 12;

/// id, name, prefix, scopes, last used, revoked, created.
type ApiKeyRow = (uuid::Uuid, String, String, Vec<String>, Option<DateTime<Utc>>, Option<DateTime<Utc>>, DateTime<Utc>);

/// Splits `agora_key_<prefix>_<secret>` into its public prefix and secret.
pub(crate) fn split_api_key(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix(API_KEY_PREFIX)?;
    let prefix = rest.get(..PREFIX_LEN)?;
    let secret = rest.get(PREFIX_LEN..)?.strip_prefix('_')?;
    (prefix.bytes().all(|b| b.is_ascii_hexdigit()) && secret.len() >= 32).then_some((prefix, secret))
}

/// Which security events to list (every field narrows; none set: all).
#[derive(Debug, Default)]
pub struct AuditFilter {
    /// One action, or a family ending in a dot (`login.`).
    pub action: Option<String>,
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// A staff member to invite.
#[derive(Debug, Clone, Deserialize, paperclip::actix::Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct NewStaff {
    pub email: String,
    #[serde(default)]
    pub name: Option<String>,
    /// Role keys, e.g. `["catalog_manager"]`.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// A role: built-in or the shop's own, with its permissions.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct Role {
    pub key: String,
    pub name: String,
    pub builtin: bool,
    pub permissions: Vec<String>,
}

/// A custom role.
#[derive(Debug, Clone, Deserialize, paperclip::actix::Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct NewRole {
    /// Lowercase letters, digits and `_`, starting with a letter.
    pub key: String,
    pub name: String,
    pub permissions: Vec<String>,
}

/// A key for an integration.
#[derive(Debug, Clone, Deserialize, paperclip::actix::Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    pub name: String,
    /// Permission names the key may use.
    pub scopes: Vec<String>,
}

/// An API key as listed (the key itself is shown once, at creation, in `key`).
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct ApiKey {
    pub id: uuid::Uuid,
    pub name: String,
    /// The key's public start, to recognise it.
    pub prefix: String,
    pub scopes: Vec<String>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked: bool,
    pub created_at: DateTime<Utc>,
    /// Only in the creation response: store it now, it cannot be shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// One security event.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema, Queryable, Selectable)]
#[diesel(table_name = crate::schema::audit_log)]
pub struct AuditEntry {
    pub id: uuid::Uuid,
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
    /// `login.succeeded`, `login.failed`, `password.changed`, `staff.invited`, `roles.assigned`,
    /// `api_key.created`, …
    pub action: String,
    pub subject: Option<String>,
    pub ip: Option<String>,
    pub details: serde_json::Value,
}

/// Who hands out access. A principal may only hand out permissions it holds itself, so no
/// invite, role assignment, custom role or API key can lift anyone above the one granting it.
#[derive(Debug, Clone)]
pub enum Grantor {
    /// The CLI, seeding, tests: may grant anything.
    System(&'static str),
    Principal(Principal),
}

impl Grantor {
    pub(crate) fn actor(&self) -> Actor {
        match self {
            Grantor::System(what) => Actor::System(what),
            Grantor::Principal(p) => p.actor(),
        }
    }

    /// Whether this grantor may act on owners (disable one, change an owner's roles, make
    /// someone an owner): owners only, since `admin` holds every permission too and would
    /// otherwise be a step away from taking the shop.
    async fn may_touch_owners(&self, conn: &mut diesel_async::AsyncPgConnection) -> Result<bool, IdentityError> {
        Ok(match self {
            Grantor::System(_) => true,
            Grantor::Principal(Principal::Staff { user_id, .. }) => store::is_active_owner(conn, *user_id).await?,
            Grantor::Principal(_) => false,
        })
    }

    pub(crate) fn check(&self, wanted: &BTreeSet<String>) -> Result<(), IdentityError> {
        let Grantor::Principal(principal) = self else { return Ok(()) };
        match wanted.iter().find(|p| !principal.has(p)) {
            Some(missing) => Err(IdentityError::CannotGrant(missing.clone())),
            None => Ok(()),
        }
    }
}

const OWNERS_ONLY: &str = "only an owner may disable an owner, change an owner's roles or make someone an owner";

fn check_permissions(field: &str, names: &[String]) -> Result<(), IdentityError> {
    if names.is_empty() {
        return Err(IdentityError::field(field, "name at least one permission"));
    }
    match names.iter().find(|p| !is_permission(p)) {
        Some(unknown) => Err(IdentityError::field(field, format!("unknown permission {unknown}"))),
        None => Ok(()),
    }
}

/// A new staff member's account, checked: the email parsed, the password (if any) hashed.
pub(crate) struct Invitee<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: Option<&'a str>,
    pub roles: &'a [String],
}

/// Adds a staff member with their roles and, when no password was given, mails them a link to
/// set one.
pub(crate) async fn invite_staff(
    m: &IdentityModule,
    tx: &mut TenantTx<'_>,
    invitee: Invitee<'_>,
    grantor: &Grantor,
) -> Result<Account, IdentityError> {
    let stamp = tx.stamp();
    let user =
        store::insert_user(tx.conn(), UserKind::Staff, invitee.email, invitee.name, invitee.password_hash, &stamp)
            .await?;
    assign(tx.conn(), user.id, invitee.roles, grantor).await?;
    let details = serde_json::json!({ "roles": invitee.roles });
    tx.audit("staff.invited", Some(format!("user:{}", user.id)), details).await?;
    if user.password_hash.is_none() {
        crate::login::password::send_link(m, tx, &user, "reset_password").await?;
    }
    Ok(user.into_account(invitee.roles.to_vec()))
}

/// What is wrong with the owner a new shop names, field by field.
pub(crate) fn check_shop_owner(owner: &ShopOwner) -> Vec<FieldError> {
    let mut errors = match parse_email(&owner.email) {
        Err(IdentityError::Common(agora_kernel::CommonError::Invalid(errors))) => errors,
        _ => Vec::new(),
    };
    if owner.name.as_ref().is_some_and(|n| n.chars().count() > 200) {
        errors.push(FieldError::new("name", "at most 200 characters"));
    }
    errors
}

/// Makes `owner` the owner of the new shop, invited to set their password. A staff account with
/// that email already there means an earlier run did it.
pub(crate) async fn appoint_owner(
    m: &IdentityModule,
    tx: &mut TenantTx<'_>,
    owner: &ShopOwner,
) -> Result<(), IdentityError> {
    let email = parse_email(&owner.email)?;
    if store::user_by_email(tx.conn(), UserKind::Staff, &email).await?.is_some() {
        return Ok(());
    }
    let name = owner.name.clone().unwrap_or_default();
    let invitee = Invitee { email: &email, name: &name, password_hash: None, roles: &["owner".to_string()] };
    invite_staff(m, tx, invitee, &Grantor::System("provisioning")).await?;
    Ok(())
}

/// A fresh link for staff member `email`, who has no password yet, to set one; `None` when the
/// account already has a password.
pub(crate) async fn invitation_link(
    m: &IdentityModule,
    tx: &mut TenantTx<'_>,
    email: &str,
) -> Result<Option<String>, IdentityError> {
    let user = store::user_by_email(tx.conn(), UserKind::Staff, email)
        .await?
        .ok_or(IdentityError::NotFound("staff member"))?;
    if user.password_hash.is_some() {
        return Ok(None);
    }
    let link = crate::login::password::new_link(m, tx, &user, "reset_password").await?;
    tx.audit("staff.invitation_link_issued", Some(format!("user:{}", user.id)), serde_json::json!({})).await?;
    Ok(Some(link.url))
}

/// The shop's staff, oldest first.
pub(crate) async fn list_staff(
    conn: &mut AsyncPgConnection,
    page: &Keyset<DateTime<Utc>>,
) -> Result<Page<Account>, IdentityError> {
    let query = users::table
        .filter(users::kind.eq("staff"))
        .filter(users::deleted_at.is_null())
        .select(store::UserRow::as_select())
        .limit(page.fetch_limit())
        .into_boxed();
    let rows: Vec<store::UserRow> = page.apply(query, users::created_at, users::id).load(conn).await?;
    let mut accounts = Vec::with_capacity(rows.len());
    for row in rows {
        let roles = store::role_keys(conn, row.id).await?;
        accounts.push(row.into_account(roles));
    }
    Ok(page.page(accounts, |a| (a.created_at, a.id)))
}

/// Disables a staff member: every session and token ends at once. Only an owner may disable an
/// owner.
pub(crate) async fn disable_staff(
    m: &IdentityModule,
    tx: &mut TenantTx<'_>,
    user: uuid::Uuid,
    grantor: &Grantor,
) -> Result<Account, IdentityError> {
    let (stamp, tenant_id) = (tx.stamp(), tx.tenant().id);
    let conn = tx.conn();
    let found = store::user_by_id(conn, user).await?.filter(|u| u.kind() == UserKind::Staff);
    if found.is_none() {
        return Err(IdentityError::NotFound("staff member"));
    }
    if store::is_active_owner(conn, user).await? && !grantor.may_touch_owners(conn).await? {
        return Err(IdentityError::OwnerOnly(OWNERS_ONLY));
    }
    let owners_before = active_owners(conn).await?;
    diesel::update(users::table.filter(users::id.eq(user)))
        .set((users::disabled_at.eq(diesel::dsl::now), agora_kernel::stamp_change!(stamp, users)))
        .execute(conn)
        .await?;
    ensure_an_owner_remains(conn, owners_before).await?;
    crate::sessions::end_all_sessions(m, conn, tenant_id, user).await?;
    tx.audit("staff.disabled", Some(format!("user:{user}")), serde_json::json!({})).await?;
    let row = store::user_by_id(tx.conn(), user).await?.ok_or(IdentityError::NotFound("staff member"))?;
    let roles = store::role_keys(tx.conn(), user).await?;
    Ok(row.into_account(roles))
}

/// Replaces a staff member's roles. Only an owner may change an owner's roles or make someone an
/// owner.
pub(crate) async fn assign_roles(
    tx: &mut TenantTx<'_>,
    user: uuid::Uuid,
    keys: Vec<String>,
    grantor: &Grantor,
) -> Result<Account, IdentityError> {
    let conn = tx.conn();
    let row = store::user_by_id(conn, user)
        .await?
        .filter(|u| u.kind() == UserKind::Staff)
        .ok_or(IdentityError::NotFound("staff member"))?;
    // Decided on the roles as they were: the caller may be the one changing.
    let touches_owner = keys.iter().any(|k| k == roles::OWNER) || store::is_active_owner(conn, user).await?;
    let may_touch_owners = grantor.may_touch_owners(conn).await?;
    let owners_before = active_owners(conn).await?;
    diesel::delete(user_roles::table.filter(user_roles::user_id.eq(user))).execute(conn).await?;
    // Permissions one does not hold are refused first (`cannot-grant`); then owners.
    assign(conn, user, &keys, grantor).await?;
    if touches_owner && !may_touch_owners {
        return Err(IdentityError::OwnerOnly(OWNERS_ONLY));
    }
    ensure_an_owner_remains(conn, owners_before).await?;
    tx.audit("roles.assigned", Some(format!("user:{user}")), serde_json::json!({ "roles": keys })).await?;
    let roles = store::role_keys(tx.conn(), user).await?;
    Ok(row.into_account(roles))
}

/// Built-in roles, then the shop's own.
pub(crate) async fn list_roles(conn: &mut AsyncPgConnection) -> Result<Vec<Role>, IdentityError> {
    let rows: Vec<(uuid::Uuid, String, String, bool)> = roles_t::table
        .order((roles_t::builtin.desc(), roles_t::created_at, roles_t::key))
        .select((roles_t::id, roles_t::key, roles_t::name, roles_t::builtin))
        .load(conn)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for (id, key, name, builtin) in rows {
        let permissions = match built_in(&key).filter(|_| builtin) {
            Some(role) => role.permissions.iter().map(|p| p.to_string()).collect(),
            None => {
                role_permissions::table
                    .filter(role_permissions::role_id.eq(id))
                    .order(role_permissions::permission)
                    .select(role_permissions::permission)
                    .load(conn)
                    .await?
            }
        };
        out.push(Role { key, name, builtin, permissions });
    }
    Ok(out)
}

/// What is wrong with a custom role before anything is written; its permissions must all be
/// the grantor's own.
pub(crate) fn check_new_role(role: &NewRole, grantor: &Grantor) -> Result<(), IdentityError> {
    let valid_key = role.key.len() >= 2
        && role.key.len() <= 63
        && role.key.starts_with(|c: char| c.is_ascii_lowercase())
        && role.key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid_key {
        return Err(IdentityError::field("key", "2–63 lowercase letters, digits or _, starting with a letter"));
    }
    if role.name.trim().is_empty() || role.name.chars().count() > 100 {
        return Err(IdentityError::field("name", "1 to 100 characters"));
    }
    check_permissions("permissions", &role.permissions)?;
    grantor.check(&role.permissions.iter().cloned().collect())
}

/// Creates a custom role (checked by [`check_new_role`]).
pub(crate) async fn create_role(tx: &mut TenantTx<'_>, role: NewRole) -> Result<Role, IdentityError> {
    let stamp = tx.stamp();
    let conn = tx.conn();
    let exists: i64 = roles_t::table.filter(roles_t::key.eq(&role.key)).count().get_result(conn).await?;
    if exists > 0 || built_in(&role.key).is_some() {
        return Err(IdentityError::field("key", "a role with this key exists"));
    }
    let id = new_id();
    diesel::insert_into(roles_t::table)
        .values((
            roles_t::id.eq(id),
            roles_t::key.eq(&role.key),
            roles_t::name.eq(role.name.trim()),
            agora_kernel::stamp_new!(stamp, roles_t),
        ))
        .execute(conn)
        .await?;
    let mut permissions = role.permissions.clone();
    permissions.sort();
    permissions.dedup();
    for p in &permissions {
        diesel::insert_into(role_permissions::table)
            .values((role_permissions::role_id.eq(id), role_permissions::permission.eq(p)))
            .execute(conn)
            .await?;
    }
    let details = serde_json::json!({ "permissions": permissions });
    tx.audit("role.created", Some(format!("role:{}", role.key)), details).await?;
    Ok(Role { key: role.key, name: role.name.trim().to_string(), builtin: false, permissions })
}

/// Deletes a custom role (staff holding it lose its permissions at once).
pub(crate) async fn delete_role(tx: &mut TenantTx<'_>, key: &str) -> Result<(), IdentityError> {
    let row: Option<(uuid::Uuid, bool)> = roles_t::table
        .filter(roles_t::key.eq(key))
        .select((roles_t::id, roles_t::builtin))
        .first(tx.conn())
        .await
        .optional()?;
    match row {
        None => Err(IdentityError::NotFound("role")),
        Some((_, true)) => Err(IdentityError::BuiltInRole),
        Some((id, false)) => {
            diesel::delete(roles_t::table.filter(roles_t::id.eq(id))).execute(tx.conn()).await?;
            tx.audit("role.deleted", Some(format!("role:{key}")), serde_json::json!({})).await?;
            Ok(())
        }
    }
}

/// What is wrong with an API key before anything is written; its scopes must all be the
/// grantor's own.
pub(crate) fn check_new_api_key(new: &NewApiKey, grantor: &Grantor) -> Result<(), IdentityError> {
    if new.name.trim().is_empty() || new.name.chars().count() > 100 {
        return Err(IdentityError::field("name", "1 to 100 characters"));
    }
    check_permissions("scopes", &new.scopes)?;
    grantor.check(&new.scopes.iter().cloned().collect())
}

/// Creates an API key (checked by [`check_new_api_key`]); the answer is the only time the key
/// is shown.
pub(crate) async fn create_api_key(tx: &mut TenantTx<'_>, new: NewApiKey) -> Result<ApiKey, IdentityError> {
    let prefix = hex::encode(tokens::random_token(9).as_bytes().get(..6).unwrap_or_default());
    let key = format!("{API_KEY_PREFIX}{prefix}_{}", tokens::random_token(32));
    let stamp = tx.stamp();
    let id = new_id();
    let created_at: DateTime<Utc> = diesel::insert_into(api_keys::table)
        .values((
            api_keys::id.eq(id),
            api_keys::name.eq(new.name.trim()),
            api_keys::prefix.eq(&prefix),
            api_keys::key_hash.eq(tokens::digest(&key)),
            api_keys::scopes.eq(&new.scopes),
            agora_kernel::stamp_new!(stamp, api_keys),
        ))
        .returning(api_keys::created_at)
        .get_result(tx.conn())
        .await?;
    tx.audit("api_key.created", Some(format!("api_key:{id}")), serde_json::json!({ "scopes": new.scopes })).await?;
    Ok(ApiKey {
        id,
        name: new.name.trim().to_string(),
        prefix: format!("{API_KEY_PREFIX}{prefix}"),
        scopes: new.scopes,
        last_used_at: None,
        revoked: false,
        created_at,
        key: Some(key),
    })
}

/// The shop's API keys, oldest first (without the keys themselves).
pub(crate) async fn list_api_keys(conn: &mut AsyncPgConnection) -> Result<Vec<ApiKey>, IdentityError> {
    let rows: Vec<ApiKeyRow> = api_keys::table
        .order((api_keys::created_at, api_keys::id))
        .select((
            api_keys::id,
            api_keys::name,
            api_keys::prefix,
            api_keys::scopes,
            api_keys::last_used_at,
            api_keys::revoked_at,
            api_keys::created_at,
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, prefix, scopes, last_used_at, revoked_at, created_at)| ApiKey {
            id,
            name,
            prefix: format!("{API_KEY_PREFIX}{prefix}"),
            scopes,
            last_used_at,
            revoked: revoked_at.is_some(),
            created_at,
            key: None,
        })
        .collect())
}

/// Revokes an API key; it stops working at once.
pub(crate) async fn revoke_api_key(tx: &mut TenantTx<'_>, id: uuid::Uuid) -> Result<(), IdentityError> {
    let stamp = tx.stamp();
    let n = diesel::update(api_keys::table.filter(api_keys::id.eq(id)).filter(api_keys::revoked_at.is_null()))
        .set((api_keys::revoked_at.eq(diesel::dsl::now), agora_kernel::stamp_change!(stamp, api_keys)))
        .execute(tx.conn())
        .await?;
    if n == 0 {
        return Err(IdentityError::NotFound("API key"));
    }
    tx.audit("api_key.revoked", Some(format!("api_key:{id}")), serde_json::json!({})).await?;
    Ok(())
}

/// The shop's security events, newest first.
pub(crate) async fn audit_log(
    conn: &mut AsyncPgConnection,
    page: &Keyset<DateTime<Utc>>,
    filter: AuditFilter,
) -> Result<Page<AuditEntry>, IdentityError> {
    let mut query = audit_log::table.select(AuditEntry::as_select()).limit(page.fetch_limit()).into_boxed();
    match filter.action.as_deref() {
        Some(family) if family.ends_with('.') => {
            let pattern = format!("{}%", family.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
            query = query.filter(audit_log::action.like(pattern));
        }
        Some(action) => query = query.filter(audit_log::action.eq(action.to_string())),
        None => {}
    }
    if let Some(actor) = filter.actor {
        query = query.filter(audit_log::actor.eq(actor));
    }
    if let Some(subject) = filter.subject {
        query = query.filter(audit_log::subject.eq(subject));
    }
    if let Some(since) = filter.since {
        query = query.filter(audit_log::occurred_at.ge(since));
    }
    if let Some(until) = filter.until {
        query = query.filter(audit_log::occurred_at.lt(until));
    }
    let entries: Vec<AuditEntry> = page.apply(query, audit_log::occurred_at, audit_log::id).load(conn).await?;
    Ok(page.page(entries, |e| (e.occurred_at, e.id)))
}

/// Active owners of the shop. A change that takes the count from some to none is refused
/// (nobody could manage staff and roles any more); a shop that never had one is left alone.
async fn active_owners(conn: &mut diesel_async::AsyncPgConnection) -> Result<i64, IdentityError> {
    // Serialises changes that may remove owners, so two at once cannot each count the other's
    // owner as the one that remains.
    roles_t::table
        .filter(roles_t::key.eq("owner"))
        .select(roles_t::id)
        .for_update()
        .first::<uuid::Uuid>(conn)
        .await
        .optional()?;
    let owners: i64 = user_roles::table
        .inner_join(roles_t::table)
        .inner_join(users::table.on(users::id.eq(user_roles::user_id)))
        .filter(roles_t::key.eq("owner"))
        .filter(users::disabled_at.is_null())
        .filter(users::deleted_at.is_null())
        .count()
        .get_result(conn)
        .await?;
    Ok(owners)
}

async fn ensure_an_owner_remains(conn: &mut diesel_async::AsyncPgConnection, before: i64) -> Result<(), IdentityError> {
    if before > 0 && active_owners(conn).await? == 0 {
        return Err(IdentityError::LastOwner);
    }
    Ok(())
}

/// Gives a user the roles named by `keys` (each must exist).
pub(crate) async fn assign(
    conn: &mut diesel_async::AsyncPgConnection,
    user: uuid::Uuid,
    keys: &[String],
    grantor: &Grantor,
) -> Result<(), IdentityError> {
    for key in keys {
        let role: Option<(uuid::Uuid, bool)> = roles_t::table
            .filter(roles_t::key.eq(key))
            .select((roles_t::id, roles_t::builtin))
            .first(conn)
            .await
            .optional()?;
        let (id, builtin) = role.ok_or_else(|| IdentityError::field("roles", format!("no role {key}")))?;
        let permissions: BTreeSet<String> = match built_in(key).filter(|_| builtin) {
            Some(role) => role.permissions.iter().map(|p| p.to_string()).collect(),
            None => role_permissions::table
                .filter(role_permissions::role_id.eq(id))
                .select(role_permissions::permission)
                .load::<String>(conn)
                .await?
                .into_iter()
                .collect(),
        };
        grantor.check(&permissions)?;
        diesel::insert_into(user_roles::table)
            .values((
                user_roles::user_id.eq(user),
                user_roles::role_id.eq(id),
                user_roles::created_by.eq(grantor.actor().audit_name()),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// A staff member a message about the shop may go to (an alert they opted in to).
#[derive(Debug, Clone)]
pub struct StaffRecipient {
    pub id: uuid::Uuid,
    pub email: String,
    /// Their name, or their email when they gave none.
    pub name: String,
    pub locale: Option<String>,
}

/// The active staff members among `ids` (not disabled, not deleted) whose roles grant
/// `permission`, in the order given: someone who lost the permission, or the account, gets
/// nothing they once asked for.
pub(crate) async fn staff_recipients(
    conn: &mut AsyncPgConnection,
    ids: &[uuid::Uuid],
    permission: &str,
) -> Result<Vec<StaffRecipient>, IdentityError> {
    let mut recipients = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(user) = store::user_by_id(conn, *id).await? else { continue };
        if user.kind() != UserKind::Staff || !user.active() {
            continue;
        }
        if !store::permissions(conn, user.id).await?.contains(permission) {
            continue;
        }
        let name = if user.name.is_empty() { user.email.clone() } else { user.name.clone() };
        recipients.push(StaffRecipient { id: user.id, email: user.email, name, locale: user.locale });
    }
    Ok(recipients)
}
