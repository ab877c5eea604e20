//! SQL over the customer groups' tables: take the connection, return rows.

use crate::groups::{CustomerGroupId, CustomerGroupMember};
use crate::schema::{customer_group_members, customer_groups};
use agora_kernel::lists::Keyset;
use agora_kernel::Stamp;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::collections::HashMap;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = customer_groups)]
pub(crate) struct GroupRow {
    pub id: CustomerGroupId,
    pub key: String,
    pub name: String,
    pub email_domains: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub version: i64,
}

pub(crate) struct GroupFields<'a> {
    pub key: &'a str,
    pub name: &'a str,
    pub email_domains: &'a [String],
}

pub(crate) async fn insert(
    conn: &mut AsyncPgConnection,
    id: CustomerGroupId,
    f: &GroupFields<'_>,
    stamp: &Stamp,
) -> QueryResult<GroupRow> {
    diesel::insert_into(customer_groups::table)
        .values((
            customer_groups::id.eq(id),
            customer_groups::key.eq(f.key),
            customer_groups::name.eq(f.name),
            customer_groups::email_domains.eq(f.email_domains),
            agora_kernel::stamp_new!(stamp, customer_groups),
        ))
        .returning(GroupRow::as_returning())
        .get_result(conn)
        .await
}

pub(crate) async fn update(
    conn: &mut AsyncPgConnection,
    id: CustomerGroupId,
    f: &GroupFields<'_>,
    stamp: &Stamp,
) -> QueryResult<GroupRow> {
    diesel::update(customer_groups::table.find(id).filter(customer_groups::deleted_at.is_null()))
        .set((
            customer_groups::key.eq(f.key),
            customer_groups::name.eq(f.name),
            customer_groups::email_domains.eq(f.email_domains),
            agora_kernel::stamp_change!(stamp, customer_groups),
        ))
        .returning(GroupRow::as_returning())
        .get_result(conn)
        .await
}

/// Deletes softly; its hand-picked members go (a deleted group has none to show).
pub(crate) async fn delete(conn: &mut AsyncPgConnection, id: CustomerGroupId, stamp: &Stamp) -> QueryResult<()> {
    diesel::update(customer_groups::table.find(id).filter(customer_groups::deleted_at.is_null()))
        .set((customer_groups::deleted_at.eq(stamp.at), agora_kernel::stamp_change!(stamp, customer_groups)))
        .execute(conn)
        .await?;
    diesel::delete(customer_group_members::table.filter(customer_group_members::group_id.eq(id))).execute(conn).await?;
    Ok(())
}

/// A live group; `lock` takes its row for the rest of the transaction (a change or a member).
pub(crate) async fn find(
    conn: &mut AsyncPgConnection,
    id: CustomerGroupId,
    lock: bool,
) -> QueryResult<Option<GroupRow>> {
    let q = customer_groups::table.find(id).filter(customer_groups::deleted_at.is_null()).select(GroupRow::as_select());
    if lock {
        q.for_update().first(conn).await.optional()
    } else {
        q.first(conn).await.optional()
    }
}

pub(crate) async fn list(conn: &mut AsyncPgConnection, page: &Keyset<DateTime<Utc>>) -> QueryResult<Vec<GroupRow>> {
    let q = customer_groups::table
        .filter(customer_groups::deleted_at.is_null())
        .select(GroupRow::as_select())
        .limit(page.fetch_limit())
        .into_boxed();
    page.apply(q, customer_groups::created_at, customer_groups::id).load(conn).await
}

pub(crate) async fn member_counts(
    conn: &mut AsyncPgConnection,
    ids: &[CustomerGroupId],
) -> QueryResult<HashMap<CustomerGroupId, i64>> {
    let rows: Vec<(CustomerGroupId, i64)> = customer_group_members::table
        .filter(customer_group_members::group_id.eq_any(ids))
        .group_by(customer_group_members::group_id)
        .select((customer_group_members::group_id, diesel::dsl::count_star()))
        .load(conn)
        .await?;
    Ok(rows.into_iter().collect())
}

pub(crate) async fn members(
    conn: &mut AsyncPgConnection,
    id: CustomerGroupId,
    page: &Keyset<DateTime<Utc>>,
) -> QueryResult<Vec<CustomerGroupMember>> {
    let q = customer_group_members::table
        .filter(customer_group_members::group_id.eq(id))
        .select((
            customer_group_members::customer_id,
            customer_group_members::created_at,
            customer_group_members::created_by,
        ))
        .limit(page.fetch_limit())
        .into_boxed();
    let rows: Vec<(uuid::Uuid, DateTime<Utc>, String)> =
        page.apply(q, customer_group_members::created_at, customer_group_members::customer_id).load(conn).await?;
    Ok(rows
        .into_iter()
        .map(|(customer_id, added_at, added_by)| CustomerGroupMember { customer_id, added_at, added_by })
        .collect())
}

/// Whether the customer was added (false: already a member).
pub(crate) async fn add_member(
    conn: &mut AsyncPgConnection,
    id: CustomerGroupId,
    customer: uuid::Uuid,
    stamp: &Stamp,
) -> QueryResult<bool> {
    let n = diesel::insert_into(customer_group_members::table)
        .values((
            customer_group_members::group_id.eq(id),
            customer_group_members::customer_id.eq(customer),
            customer_group_members::created_at.eq(stamp.at),
            customer_group_members::created_by.eq(&stamp.by),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(n > 0)
}

/// Whether the customer was a member.
pub(crate) async fn remove_member(
    conn: &mut AsyncPgConnection,
    id: CustomerGroupId,
    customer: uuid::Uuid,
) -> QueryResult<bool> {
    let n = diesel::delete(
        customer_group_members::table
            .filter(customer_group_members::group_id.eq(id))
            .filter(customer_group_members::customer_id.eq(customer)),
    )
    .execute(conn)
    .await?;
    Ok(n > 0)
}

/// The live groups `customer` was added to by hand (`true`) or whose domains hold `domain`, in
/// one query, by name.
pub(crate) async fn of_customer(
    conn: &mut AsyncPgConnection,
    customer: uuid::Uuid,
    domain: Option<&str>,
) -> QueryResult<Vec<(GroupRow, bool)>> {
    let by_hand = diesel::dsl::exists(
        customer_group_members::table
            .filter(customer_group_members::group_id.eq(customer_groups::id))
            .filter(customer_group_members::customer_id.eq(customer)),
    );
    let mut q = customer_groups::table
        .filter(customer_groups::deleted_at.is_null())
        .select((GroupRow::as_select(), by_hand))
        .order((customer_groups::name, customer_groups::id))
        .into_boxed();
    q = match domain {
        Some(d) => q.filter(by_hand.or(customer_groups::email_domains.contains(vec![d.to_string()]))),
        None => q.filter(by_hand),
    };
    q.load(conn).await
}

pub(crate) async fn by_keys(
    conn: &mut AsyncPgConnection,
    keys: &[String],
) -> QueryResult<Vec<(CustomerGroupId, String)>> {
    customer_groups::table
        .filter(customer_groups::deleted_at.is_null())
        .filter(customer_groups::key.eq_any(keys))
        .select((customer_groups::id, customer_groups::key))
        .load(conn)
        .await
}

pub(crate) async fn live(conn: &mut AsyncPgConnection, ids: &[CustomerGroupId]) -> QueryResult<Vec<GroupRow>> {
    customer_groups::table
        .filter(customer_groups::deleted_at.is_null())
        .filter(customer_groups::id.eq_any(ids))
        .select(GroupRow::as_select())
        .load(conn)
        .await
}
