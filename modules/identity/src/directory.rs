//! The shop's customer accounts as its staff look them up: a search, newest first, and one
//! account with when it last signed in. Read inside the customers module's transaction (its
//! admin pages), like the account's part of an export.

use crate::schema::{audit_log, users};
use crate::UserKind;
use agora_kernel::lists::{Keyset, Page};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::collections::HashMap;

/// A customer's account as staff see it. An erased account keeps its id and dates only: its
/// personal fields are `None`.
#[derive(Debug, Clone)]
pub struct CustomerRecord {
    pub id: uuid::Uuid,
    pub email: Option<String>,
    pub name: Option<String>,
    pub locale: Option<String>,
    pub phone: Option<String>,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub disabled: bool,
    pub erased_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The last successful sign-in the audit log recorded.
    pub last_sign_in_at: Option<DateTime<Utc>>,
}

/// What to look for; every filter given must hold.
#[derive(Debug, Clone, Default)]
pub struct CustomerSearch {
    /// A fragment of the email or the name, any case (erased accounts never match).
    pub text: Option<String>,
    pub email_verified: Option<bool>,
    pub erased: Option<bool>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
struct DirectoryRow {
    id: uuid::Uuid,
    email: String,
    name: String,
    locale: Option<String>,
    phone: Option<String>,
    email_verified_at: Option<DateTime<Utc>>,
    disabled_at: Option<DateTime<Utc>>,
    deleted_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl DirectoryRow {
    fn into_record(self, last_sign_in_at: Option<DateTime<Utc>>) -> CustomerRecord {
        let kept = self.deleted_at.is_none();
        CustomerRecord {
            id: self.id,
            email: Some(self.email).filter(|_| kept),
            name: Some(self.name).filter(|_| kept),
            locale: self.locale.filter(|_| kept),
            phone: self.phone.filter(|_| kept),
            email_verified_at: self.email_verified_at.filter(|_| kept),
            disabled: self.disabled_at.is_some(),
            erased_at: self.deleted_at,
            created_at: self.created_at,
            last_sign_in_at,
        }
    }
}

/// `%fragment%` for LIKE, with the fragment's own wildcards taken literally.
fn containing(fragment: &str) -> String {
    format!("%{}%", fragment.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

pub(crate) async fn search(
    conn: &mut AsyncPgConnection,
    page: &Keyset<DateTime<Utc>>,
    search: &CustomerSearch,
) -> QueryResult<Page<CustomerRecord>> {
    let mut query = users::table
        .filter(users::kind.eq(UserKind::Customer.as_str()))
        .select(DirectoryRow::as_select())
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(text) = search.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let pattern = containing(text);
        query = query
            .filter(users::deleted_at.is_null())
            .filter(users::email.ilike(pattern.clone()).or(users::name.ilike(pattern)));
    }
    match search.email_verified {
        Some(true) => query = query.filter(users::email_verified_at.is_not_null()),
        Some(false) => query = query.filter(users::email_verified_at.is_null()),
        None => {}
    }
    match search.erased {
        Some(true) => query = query.filter(users::deleted_at.is_not_null()),
        Some(false) => query = query.filter(users::deleted_at.is_null()),
        None => {}
    }
    let rows: Vec<DirectoryRow> = page.apply(query, users::created_at, users::id).load(conn).await?;
    let rows = page.page(rows, |r| (r.created_at, r.id));
    let mut signed_in = last_sign_ins(conn, rows.items.iter().map(|r| r.id)).await?;
    Ok(Page {
        items: rows
            .items
            .into_iter()
            .map(|r| {
                let last = signed_in.remove(&r.id);
                r.into_record(last)
            })
            .collect(),
        next_cursor: rows.next_cursor,
    })
}

/// Customer `id`, erased or not; `None` for no customer of this shop (a staff member included).
pub(crate) async fn find(conn: &mut AsyncPgConnection, id: uuid::Uuid) -> QueryResult<Option<CustomerRecord>> {
    let row: Option<DirectoryRow> = users::table
        .filter(users::id.eq(id))
        .filter(users::kind.eq(UserKind::Customer.as_str()))
        .select(DirectoryRow::as_select())
        .first(conn)
        .await
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    let last = last_sign_ins(conn, [id]).await?.remove(&id);
    Ok(Some(row.into_record(last)))
}

/// When each of `ids` last signed in (successful logins are audited with `user:<id>`).
async fn last_sign_ins(
    conn: &mut AsyncPgConnection,
    ids: impl IntoIterator<Item = uuid::Uuid>,
) -> QueryResult<HashMap<uuid::Uuid, DateTime<Utc>>> {
    let subjects: Vec<String> = ids.into_iter().map(|id| format!("user:{id}")).collect();
    if subjects.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Option<String>, Option<DateTime<Utc>>)> = audit_log::table
        .filter(audit_log::action.eq("login.succeeded"))
        .filter(audit_log::subject.eq_any(subjects))
        .group_by(audit_log::subject)
        .select((audit_log::subject, diesel::dsl::max(audit_log::occurred_at)))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(subject, at)| {
            let id = subject?.strip_prefix("user:")?.parse().ok()?;
            Some((id, at?))
        })
        .collect())
}
