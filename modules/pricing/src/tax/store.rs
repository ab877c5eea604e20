//! SQL of the tax feature: rows in, rows out; no rules.

use super::schema::{customer_tax_exemptions, product_tax_classes, tax_classes, tax_rates, tax_settings, tax_zones};
use agora_kernel::tx::Stamp;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tax_settings)]
pub(crate) struct SettingsRow {
    pub prices_include_tax: bool,
    pub cross_border: String,
    pub rounding: String,
    pub shipping_tax: String,
    pub shipping_tax_class_id: Option<Uuid>,
    pub origin_country: Option<String>,
    pub version: i64,
}

pub(crate) async fn settings(conn: &mut AsyncPgConnection, lock: bool) -> QueryResult<SettingsRow> {
    let q = tax_settings::table.select(SettingsRow::as_select());
    if lock {
        q.for_update().get_result(conn).await
    } else {
        q.get_result(conn).await
    }
}

pub(crate) struct SettingsFields<'a> {
    pub prices_include_tax: bool,
    pub cross_border: &'a str,
    pub rounding: &'a str,
    pub shipping_tax: &'a str,
    pub shipping_tax_class_id: Option<Uuid>,
    pub origin_country: Option<&'a str>,
}

pub(crate) async fn update_settings(
    conn: &mut AsyncPgConnection,
    f: &SettingsFields<'_>,
    stamp: &Stamp,
) -> QueryResult<SettingsRow> {
    diesel::update(tax_settings::table)
        .set((
            tax_settings::prices_include_tax.eq(f.prices_include_tax),
            tax_settings::cross_border.eq(f.cross_border),
            tax_settings::rounding.eq(f.rounding),
            tax_settings::shipping_tax.eq(f.shipping_tax),
            tax_settings::shipping_tax_class_id.eq(f.shipping_tax_class_id),
            tax_settings::origin_country.eq(f.origin_country),
            agora_kernel::stamp_change!(stamp, tax_settings),
        ))
        .returning(SettingsRow::as_returning())
        .get_result(conn)
        .await
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tax_classes)]
pub(crate) struct ClassRow {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub version: i64,
}

pub(crate) async fn classes(conn: &mut AsyncPgConnection) -> QueryResult<Vec<ClassRow>> {
    tax_classes::table
        .filter(tax_classes::deleted_at.is_null())
        .order((tax_classes::created_at, tax_classes::id))
        .select(ClassRow::as_select())
        .load(conn)
        .await
}

pub(crate) async fn class(conn: &mut AsyncPgConnection, id: Uuid, lock: bool) -> QueryResult<Option<ClassRow>> {
    let q = tax_classes::table
        .filter(tax_classes::id.eq(id).and(tax_classes::deleted_at.is_null()))
        .select(ClassRow::as_select());
    if lock {
        q.for_update().get_result(conn).await.optional()
    } else {
        q.get_result(conn).await.optional()
    }
}

pub(crate) async fn insert_class(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    name: &str,
    stamp: &Stamp,
) -> QueryResult<ClassRow> {
    diesel::insert_into(tax_classes::table)
        .values((
            tax_classes::id.eq(id),
            tax_classes::name.eq(name),
            tax_classes::kind.eq("custom"),
            agora_kernel::stamp_new!(stamp, tax_classes),
        ))
        .returning(ClassRow::as_returning())
        .get_result(conn)
        .await
}

pub(crate) async fn rename_class(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    name: &str,
    stamp: &Stamp,
) -> QueryResult<ClassRow> {
    diesel::update(tax_classes::table.find(id))
        .set((tax_classes::name.eq(name), agora_kernel::stamp_change!(stamp, tax_classes)))
        .returning(ClassRow::as_returning())
        .get_result(conn)
        .await
}

/// Soft-deletes the class; its rates go, and its products fall back to the standard class.
pub(crate) async fn delete_class(conn: &mut AsyncPgConnection, id: Uuid, stamp: &Stamp) -> QueryResult<()> {
    diesel::delete(tax_rates::table.filter(tax_rates::tax_class_id.eq(id))).execute(conn).await?;
    diesel::delete(product_tax_classes::table.filter(product_tax_classes::tax_class_id.eq(id))).execute(conn).await?;
    diesel::update(tax_classes::table.find(id))
        .set((tax_classes::deleted_at.eq(stamp.at), agora_kernel::stamp_change!(stamp, tax_classes)))
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tax_zones)]
pub(crate) struct ZoneRow {
    pub id: Uuid,
    pub name: String,
    pub country: String,
    pub region: Option<String>,
    pub postcodes: Vec<String>,
    pub shipping_taxable: bool,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tax_rates)]
pub(crate) struct RateRow {
    pub zone_id: Uuid,
    pub tax_class_id: Uuid,
    pub name: String,
    pub rate_ppm: i32,
}

pub(crate) async fn zones(conn: &mut AsyncPgConnection, country: Option<&str>) -> QueryResult<Vec<ZoneRow>> {
    let mut q = tax_zones::table
        .filter(tax_zones::deleted_at.is_null())
        .order((tax_zones::country, tax_zones::id))
        .select(ZoneRow::as_select())
        .into_boxed();
    if let Some(c) = country {
        q = q.filter(tax_zones::country.eq(c.to_string()));
    }
    q.load(conn).await
}

pub(crate) async fn zone(conn: &mut AsyncPgConnection, id: Uuid, lock: bool) -> QueryResult<Option<ZoneRow>> {
    let q =
        tax_zones::table.filter(tax_zones::id.eq(id).and(tax_zones::deleted_at.is_null())).select(ZoneRow::as_select());
    if lock {
        q.for_update().get_result(conn).await.optional()
    } else {
        q.get_result(conn).await.optional()
    }
}

/// The rates of `zones`, in their order within each zone.
pub(crate) async fn rates(conn: &mut AsyncPgConnection, zones: &[Uuid]) -> QueryResult<Vec<RateRow>> {
    tax_rates::table
        .filter(tax_rates::zone_id.eq_any(zones))
        .order((tax_rates::zone_id, tax_rates::position))
        .select(RateRow::as_select())
        .load(conn)
        .await
}

pub(crate) struct ZoneFields<'a> {
    pub name: &'a str,
    pub country: &'a str,
    pub region: Option<&'a str>,
    pub postcodes: &'a [String],
    pub shipping_taxable: bool,
}

pub(crate) async fn insert_zone(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    f: &ZoneFields<'_>,
    stamp: &Stamp,
) -> QueryResult<ZoneRow> {
    diesel::insert_into(tax_zones::table)
        .values((
            tax_zones::id.eq(id),
            tax_zones::name.eq(f.name),
            tax_zones::country.eq(f.country),
            tax_zones::region.eq(f.region),
            tax_zones::postcodes.eq(f.postcodes),
            tax_zones::shipping_taxable.eq(f.shipping_taxable),
            agora_kernel::stamp_new!(stamp, tax_zones),
        ))
        .returning(ZoneRow::as_returning())
        .get_result(conn)
        .await
}

pub(crate) async fn update_zone(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    f: &ZoneFields<'_>,
    stamp: &Stamp,
) -> QueryResult<ZoneRow> {
    diesel::update(tax_zones::table.find(id))
        .set((
            tax_zones::name.eq(f.name),
            tax_zones::country.eq(f.country),
            tax_zones::region.eq(f.region),
            tax_zones::postcodes.eq(f.postcodes),
            tax_zones::shipping_taxable.eq(f.shipping_taxable),
            agora_kernel::stamp_change!(stamp, tax_zones),
        ))
        .returning(ZoneRow::as_returning())
        .get_result(conn)
        .await
}

pub(crate) async fn delete_zone(conn: &mut AsyncPgConnection, id: Uuid, stamp: &Stamp) -> QueryResult<()> {
    diesel::delete(tax_rates::table.filter(tax_rates::zone_id.eq(id))).execute(conn).await?;
    diesel::update(tax_zones::table.find(id))
        .set((tax_zones::deleted_at.eq(stamp.at), agora_kernel::stamp_change!(stamp, tax_zones)))
        .execute(conn)
        .await?;
    Ok(())
}

/// Replaces the zone's rates with `rates` (class, name, millionths), in order.
pub(crate) async fn replace_rates(
    conn: &mut AsyncPgConnection,
    zone: Uuid,
    rates: &[(Uuid, String, i32)],
) -> QueryResult<()> {
    diesel::delete(tax_rates::table.filter(tax_rates::zone_id.eq(zone))).execute(conn).await?;
    if rates.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = rates
        .iter()
        .enumerate()
        .map(|(i, (class, name, ppm))| {
            (
                tax_rates::id.eq(agora_kernel::new_id()),
                tax_rates::zone_id.eq(zone),
                tax_rates::tax_class_id.eq(*class),
                tax_rates::position.eq(i32::try_from(i).unwrap_or(i32::MAX)),
                tax_rates::name.eq(name.clone()),
                tax_rates::rate_ppm.eq(*ppm),
            )
        })
        .collect();
    diesel::insert_into(tax_rates::table).values(rows).execute(conn).await?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = product_tax_classes)]
pub(crate) struct ProductClassRow {
    pub product_id: Uuid,
    pub tax_class_id: Uuid,
    pub version: i64,
}

pub(crate) async fn product_classes(
    conn: &mut AsyncPgConnection,
    products: &[Uuid],
) -> QueryResult<Vec<ProductClassRow>> {
    product_tax_classes::table
        .filter(product_tax_classes::product_id.eq_any(products))
        .select(ProductClassRow::as_select())
        .load(conn)
        .await
}

pub(crate) async fn product_class(
    conn: &mut AsyncPgConnection,
    product: Uuid,
    lock: bool,
) -> QueryResult<Option<ProductClassRow>> {
    let q = product_tax_classes::table.find(product).select(ProductClassRow::as_select());
    if lock {
        q.for_update().get_result(conn).await.optional()
    } else {
        q.get_result(conn).await.optional()
    }
}

pub(crate) async fn upsert_product_class(
    conn: &mut AsyncPgConnection,
    product: Uuid,
    class: Uuid,
    stamp: &Stamp,
) -> QueryResult<ProductClassRow> {
    diesel::insert_into(product_tax_classes::table)
        .values((
            product_tax_classes::product_id.eq(product),
            product_tax_classes::tax_class_id.eq(class),
            agora_kernel::stamp_new!(stamp, product_tax_classes),
        ))
        .on_conflict(product_tax_classes::product_id)
        .do_update()
        .set((product_tax_classes::tax_class_id.eq(class), agora_kernel::stamp_change!(stamp, product_tax_classes)))
        .returning(ProductClassRow::as_returning())
        .get_result(conn)
        .await
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = customer_tax_exemptions)]
pub(crate) struct ExemptionRow {
    pub customer_id: Uuid,
    pub vat_id: String,
    pub country: String,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub version: i64,
}

pub(crate) async fn exemption(
    conn: &mut AsyncPgConnection,
    customer: Uuid,
    lock: bool,
) -> QueryResult<Option<ExemptionRow>> {
    let q = customer_tax_exemptions::table.find(customer).select(ExemptionRow::as_select());
    if lock {
        q.for_update().get_result(conn).await.optional()
    } else {
        q.get_result(conn).await.optional()
    }
}

pub(crate) async fn upsert_exemption(
    conn: &mut AsyncPgConnection,
    customer: Uuid,
    vat_id: &str,
    country: &str,
    stamp: &Stamp,
) -> QueryResult<ExemptionRow> {
    diesel::insert_into(customer_tax_exemptions::table)
        .values((
            customer_tax_exemptions::customer_id.eq(customer),
            customer_tax_exemptions::vat_id.eq(vat_id),
            customer_tax_exemptions::country.eq(country),
            agora_kernel::stamp_new!(stamp, customer_tax_exemptions),
        ))
        .on_conflict(customer_tax_exemptions::customer_id)
        .do_update()
        .set((
            customer_tax_exemptions::vat_id.eq(vat_id),
            customer_tax_exemptions::country.eq(country),
            agora_kernel::stamp_change!(stamp, customer_tax_exemptions),
        ))
        .returning(ExemptionRow::as_returning())
        .get_result(conn)
        .await
}

pub(crate) async fn delete_exemption(conn: &mut AsyncPgConnection, customer: Uuid) -> QueryResult<usize> {
    diesel::delete(customer_tax_exemptions::table.find(customer)).execute(conn).await
}
