//! Stock counts from a CSV file, on the kernel's CSV frame (`agora_kernel::csv_files`), run as a
//! task a merchant watches.
//!
//! Columns: `sku`, `location` (a stock location's name, any case), `on_hand` (what was counted
//! there: on hand becomes it, the difference goes into the ledger as `counted` with the import's
//! reference, as `PUT …/variants/{id}/stock/{location}` does), and optionally `safety_stock` (an
//! empty cell leaves it as it is).
//!
//! Like the catalog's product import, a file applies its good rows and reports each bad one with
//! its line and column (the task's errors): a row with an unknown SKU or location, a count that
//! is not a whole number from 0 to 1,000,000,000 or below what is reserved there, or a SKU and
//! location an earlier row of the same batch named. A wrong header or a file that is not UTF-8 is
//! refused whole, before anything is applied.
//!
//! A batch of up to [`agora_kernel::csv_files::BATCH_ROWS`] rows costs a fixed number of
//! statements (the SKUs, the locations, the variants' thresholds, the levels made and locked, the
//! levels written, the audit entry), plus, per level whose count changed, its ledger entry and
//! its events. Counts are absolute, so a file applied twice (a job run again) changes nothing the
//! second time.

use crate::availability;
use crate::error::InventoryError;
use crate::stock::{self, Change};
use crate::stock_csv_store::{self as sql, NewCount};
use crate::{store, AdjustmentReason, LocationId, VariantId};
use agora_kernel::csv_files::{CsvExport, CsvImport, ExportPage, Line, Refused};
use agora_kernel::events::EventBus;
use agora_kernel::jobs::JobError;
use agora_kernel::values::Sku;
use agora_kernel::{Actor, DbError, FieldError, TenantTx};
use diesel_async::AsyncPgConnection;
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The most a level may hold on hand (the bound a count through the API has).
const MAX_ON_HAND: i64 = 1_000_000_000;

/// One line of a stock file, as text: every cell is checked here, so each problem names its
/// column in the merchant's words rather than serde's.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct StockRow {
    sku: String,
    location: String,
    on_hand: String,
    #[serde(default)]
    safety_stock: Option<String>,
}

/// A row read and checked on its own (before the shop's variants and locations are consulted).
struct Parsed {
    line: i64,
    sku: String,
    location: String,
    on_hand: i32,
    safety_stock: Option<i32>,
}

fn count_cell(raw: &str, column: &str, errors: &mut Vec<FieldError>) -> Option<i32> {
    match raw.trim().parse::<i64>() {
        Ok(n) if (0..=MAX_ON_HAND).contains(&n) => i32::try_from(n).ok(),
        _ => {
            errors.push(FieldError::new(column, format!("a whole number from 0 to {MAX_ON_HAND}, not {raw:?}")));
            None
        }
    }
}

fn parse(Line { line, row }: Line<StockRow>) -> Result<Parsed, Refused> {
    let mut errors = Vec::new();
    let sku = match Sku::parse_field(&row.sku, "sku") {
        Ok(sku) => sku.as_str().to_string(),
        Err(e) => {
            errors.push(e);
            String::new()
        }
    };
    let location = row.location.trim().to_string();
    if location.is_empty() {
        errors.push(FieldError::new("location", "the name of one of the shop's stock locations"));
    }
    let on_hand = count_cell(&row.on_hand, "on_hand", &mut errors);
    let safety_stock = match row.safety_stock.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(raw) => count_cell(raw, "safety_stock", &mut errors),
        None => None,
    };
    match on_hand {
        Some(on_hand) if errors.is_empty() => Ok(Parsed { line, sku, location, on_hand, safety_stock }),
        _ => Err((line, errors)),
    }
}

/// Who started an import, as its job carries them (an [`Actor`] is not serializable).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StartedBy {
    User(uuid::Uuid),
    ApiKey(uuid::Uuid),
    System,
}

impl StartedBy {
    pub(crate) fn of(actor: &Actor) -> Self {
        match actor {
            Actor::User(id) => StartedBy::User(*id),
            Actor::ApiKey(id) => StartedBy::ApiKey(*id),
            _ => StartedBy::System,
        }
    }

    /// Whom the import's writes name; `None`: the frame's own system actor.
    pub(crate) fn actor(&self) -> Option<Actor> {
        match self {
            StartedBy::User(id) => Some(Actor::User(*id)),
            StartedBy::ApiKey(id) => Some(Actor::ApiKey(*id)),
            StartedBy::System => None,
        }
    }
}

/// The import of one stock file (`POST …/inventory/imports`).
pub(crate) struct StockImport {
    pub bus: EventBus,
    /// Who started it: the ledger, the levels and the audit log name them, not the job.
    pub by: Option<Actor>,
    /// What the ledger's entries are for (`csv-import:<task id>`).
    pub reference: String,
}

impl CsvImport for StockImport {
    type Row = StockRow;
    const COLUMNS: &'static [&'static str] = &["sku", "location", "on_hand"];
    const OPTIONAL_COLUMNS: &'static [&'static str] = &["safety_stock"];

    fn apply<'a>(
        &'a self,
        tx: &'a mut TenantTx<'_>,
        rows: Vec<Line<Self::Row>>,
    ) -> BoxFuture<'a, Result<Vec<Refused>, JobError>> {
        async move {
            if let Some(actor) = &self.by {
                tx.act_as(actor.clone());
            }
            import_batch(tx, &self.bus, &self.reference, rows).await.map_err(JobError::retry)
        }
        .boxed()
    }
}

/// A row that will be written: where, what was there, what it becomes.
struct Planned {
    variant: VariantId,
    location: LocationId,
    on_hand: i32,
    safety_stock: Option<i32>,
}

async fn import_batch(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    reference: &str,
    lines: Vec<Line<StockRow>>,
) -> Result<Vec<Refused>, InventoryError> {
    let mut refused: Vec<Refused> = Vec::new();
    let mut rows = Vec::with_capacity(lines.len());
    for line in lines {
        match parse(line) {
            Ok(row) => rows.push(row),
            Err(r) => refused.push(r),
        }
    }

    // What the rows name, each looked up once for the whole batch.
    let skus: Vec<String> = rows.iter().map(|r| r.sku.clone()).collect::<HashSet<_>>().into_iter().collect();
    let variants = agora_catalog::CatalogModule::live_variants_by_sku(tx, &skus).await?;
    let locations: HashMap<String, LocationId> =
        store::list_locations(tx.conn()).await?.into_iter().map(|l| (l.name.to_lowercase(), l.id)).collect();

    let mut planned: Vec<Planned> = Vec::with_capacity(rows.len());
    let mut lines_of: Vec<i64> = Vec::with_capacity(rows.len());
    let mut seen = HashSet::new();
    for row in rows {
        let variant = variants.get(&row.sku).copied();
        let location = locations.get(&row.location.to_lowercase()).copied();
        let mut errors = Vec::new();
        if variant.is_none() {
            errors.push(FieldError::new("sku", format!("no variant in the catalog has the SKU {}", row.sku)));
        }
        if location.is_none() {
            errors.push(FieldError::new("location", format!("the shop has no stock location called {}", row.location)));
        }
        let (Some(variant), Some(location)) = (variant, location) else {
            refused.push((row.line, errors));
            continue;
        };
        if !seen.insert((variant, location)) {
            let message = "an earlier row of the file counts this SKU at this location";
            refused.push((row.line, vec![FieldError::new("sku", message)]));
            continue;
        }
        planned.push(Planned { variant, location, on_hand: row.on_hand, safety_stock: row.safety_stock });
        lines_of.push(row.line);
    }
    if planned.is_empty() {
        return Ok(refused);
    }

    let stamp = tx.stamp();
    // The variants first (counted from now on), then their levels: the order every change takes.
    let variant_ids: Vec<VariantId> = planned.iter().map(|p| p.variant).collect::<HashSet<_>>().into_iter().collect();
    let thresholds: HashMap<VariantId, Option<i32>> = availability::lock(tx, &variant_ids, &variant_ids)
        .await?
        .into_iter()
        .map(|(v, item)| (v, item.low_stock_threshold))
        .collect();
    let levels: Vec<(VariantId, LocationId)> = planned.iter().map(|p| (p.variant, p.location)).collect();
    let before: BTreeMap<(VariantId, LocationId), sql::LockedLevel> = sql::ensure_and_lock(tx.conn(), &levels, &stamp)
        .await?
        .into_iter()
        .map(|l| ((l.variant_id, l.location_id), l))
        .collect();

    // A count below what is reserved there is that row's error; the rest are written at once.
    let mut counts = Vec::with_capacity(planned.len());
    let mut changes = Vec::with_capacity(planned.len());
    for (p, line) in planned.into_iter().zip(lines_of) {
        let Some(level) = before.get(&(p.variant, p.location)).copied() else {
            // Made and locked above; only a location removed meanwhile could be missing.
            refused.push((line, vec![FieldError::new("location", "the stock location was just removed")]));
            continue;
        };
        if p.on_hand < level.reserved {
            let message = format!("{} units are reserved here: the count cannot be below that", level.reserved);
            refused.push((line, vec![FieldError::new("on_hand", message)]));
            continue;
        }
        let safety_stock = p.safety_stock.unwrap_or(level.safety_stock);
        if p.on_hand == level.on_hand && safety_stock == level.safety_stock {
            continue;
        }
        counts.push(NewCount { variant: p.variant, location: p.location, on_hand: p.on_hand, safety_stock });
        let after = sql::LockedLevel { on_hand: p.on_hand, safety_stock, ..level };
        changes.push((level, after));
    }
    sql::write_counts(tx.conn(), &counts, &stamp).await?;

    // The ledger entry, the event and the alerts of every level whose count moved.
    for (before, after) in &changes {
        let delta = after.on_hand - before.on_hand;
        if delta != 0 {
            let change = Change {
                variant: before.variant_id,
                location: before.location_id,
                reason: AdjustmentReason::Counted,
                delta,
                after: after.on_hand,
                reference: Some(reference),
                note: None,
            };
            stock::record(tx, bus, change).await?;
        }
        let threshold = thresholds.get(&before.variant_id).copied().flatten();
        let moved = (before.available(), after.available());
        stock::signal(tx, bus, before.variant_id, before.location_id, moved, threshold).await?;
    }
    availability::refresh_all(tx, bus, changes.iter().map(|(before, _)| before.variant_id)).await?;
    if !changes.is_empty() {
        let details = serde_json::json!({ "reference": reference, "levels_changed": changes.len() });
        tx.audit("inventory.stock.imported", None, details).await?;
    }
    Ok(refused)
}

// ---- export ----

/// The export of every level at a live location, in the import's columns (so the file, edited,
/// is imported back): `sku,location,on_hand,safety_stock`. A level of a variant the catalog
/// removed is left out.
pub(crate) struct StockExport;

impl CsvExport for StockExport {
    type Row = Vec<String>;
    type Key = (VariantId, LocationId);
    const COLUMNS: &'static [&'static str] = &["sku", "location", "on_hand", "safety_stock"];

    fn count<'a>(&'a self, conn: &'a mut AsyncPgConnection) -> BoxFuture<'a, Result<i64, DbError>> {
        async move { sql::count_levels(conn).await.map_err(DbError::Query) }.boxed()
    }

    fn page<'a>(
        &'a self,
        conn: &'a mut AsyncPgConnection,
        after: Option<&'a Self::Key>,
        limit: i64,
    ) -> ExportPage<'a, Self::Key, Self::Row> {
        async move {
            // Levels of removed variants are skipped; reading on until the page is full (or the
            // levels end) keeps a page short only at the end, where the frame stops.
            let mut rows = Vec::new();
            let mut cursor = after.copied();
            loop {
                let levels = sql::levels_after(conn, cursor, limit).await.map_err(DbError::Query)?;
                let read = i64::try_from(levels.len()).unwrap_or(i64::MAX);
                cursor = levels.last().map(|l| (l.variant_id, l.location_id));
                let ids: Vec<VariantId> =
                    levels.iter().map(|l| l.variant_id).collect::<HashSet<_>>().into_iter().collect();
                let skus = agora_catalog::CatalogModule::live_variant_skus_on(conn, &ids).await?;
                rows.extend(levels.into_iter().filter_map(|l| {
                    let sku = skus.get(&l.variant_id)?.clone();
                    let row = vec![sku, l.location_name, l.on_hand.to_string(), l.safety_stock.to_string()];
                    Some(((l.variant_id, l.location_id), row))
                }));
                if read < limit || i64::try_from(rows.len()).unwrap_or(i64::MAX) >= limit {
                    return Ok(rows);
                }
            }
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(sku: &str, location: &str, on_hand: &str, safety: Option<&str>) -> Line<StockRow> {
        let row = StockRow {
            sku: sku.into(),
            location: location.into(),
            on_hand: on_hand.into(),
            safety_stock: safety.map(str::to_string),
        };
        Line { line: 7, row }
    }

    fn fields(refused: Refused) -> (i64, Vec<String>) {
        (refused.0, refused.1.into_iter().map(|e| e.field).collect())
    }

    #[test]
    fn the_export_header_is_one_an_import_accepts() {
        let header: Vec<String> = StockExport.header();
        let errors =
            agora_kernel::csv_files::check_header(&header, StockImport::COLUMNS, StockImport::OPTIONAL_COLUMNS);
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn a_row_is_checked_cell_by_cell_and_each_problem_names_its_column() {
        let ok = parse(line(" SH-1 ", " Berlin ", "12", Some(""))).expect("a good row");
        assert_eq!((ok.sku.as_str(), ok.location.as_str(), ok.on_hand, ok.safety_stock), ("SH-1", "Berlin", 12, None));
        let ok = parse(line("SH-1", "Berlin", "0", Some("3"))).expect("a good row");
        assert_eq!((ok.on_hand, ok.safety_stock), (0, Some(3)));
        for bad in ["-1", "2.5", "lots", "", "1000000001"] {
            let refused = parse(line("SH-1", "Berlin", bad, None)).err().expect("refused");
            assert_eq!(fields(refused), (7, vec!["on_hand".to_string()]), "{bad:?}");
        }
        let refused = parse(line("SH 1", "", "x", Some("-2"))).err().expect("refused");
        assert_eq!(fields(refused).1, ["sku", "location", "on_hand", "safety_stock"]);
    }
}
