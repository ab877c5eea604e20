//! The search port and its PostgreSQL engine.
//!
//! The catalog keeps one [`SearchDocument`] per product, handed to the engine in the transaction
//! of every write that changes what the document holds (so a search never finds a product in a
//! state that was rolled back, and an engine outside the database can queue its update through
//! the same transaction's outbox). Callers search through [`SearchEngine`] only; replacing
//! PostgreSQL by another engine is an implementation of this trait.
//!
//! The PostgreSQL engine: a weighted `tsvector` (names A, SKUs/barcodes/attribute values B,
//! descriptions C) in the text search configuration of the shop's default language, queried
//! with `websearch_to_tsquery` (quotes, `or`, `-`), synonyms expanded into `or` alternatives, an
//! exact name match ranked first; `pg_trgm` similarity over the names (spaces and punctuation
//! removed, so "tshrit" finds "T-Shirt") for suggestions and autocomplete.

use crate::store;
use crate::{CatalogError, NewSynonyms, ProductId, Synonyms};
use agora_kernel::{DbError, TenantTx};
use chrono::{DateTime, Utc};
use diesel::sql_types::{Bool, Float4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures_util::future::BoxFuture;

/// What the search engine knows of a product.
#[derive(Debug, Clone)]
pub struct SearchDocument {
    pub product_id: ProductId,
    /// The product's name in every language.
    pub names: Vec<String>,
    /// SKUs, barcodes, attribute values and tags.
    pub codes: Vec<String>,
    /// The product's description in every language.
    pub descriptions: Vec<String>,
    /// Status active and not deleted (the publication window is checked at query time).
    pub active: bool,
    pub publish_at: Option<DateTime<Utc>>,
    pub unpublish_at: Option<DateTime<Utc>>,
    /// The shop's default language, which picks the stemming rules.
    pub language: String,
}

/// A shopper's search.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// What the shopper typed (web-search syntax).
    pub text: String,
    /// Alternatives of `text` with synonyms substituted.
    pub alternatives: Vec<String>,
    pub language: String,
    /// At most this many hits.
    pub limit: i64,
}

/// A product that matched, with what ranks it: an exact name match first, then the rank,
/// then the id (so equal ranks keep one order, and a cursor can say where a page ended).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchHit {
    pub product_id: ProductId,
    /// One of its names is exactly what was typed (case aside).
    pub exact: bool,
    /// Higher is better.
    pub rank: f32,
}

impl SearchHit {
    /// Whether this hit comes after one ranked `(exact, rank)` with id `id`, in best-first order.
    pub fn comes_after(&self, exact: bool, rank: f32, id: uuid::Uuid) -> bool {
        let own: uuid::Uuid = self.product_id.into();
        match (self.exact, exact) {
            (false, true) => true,
            (true, false) => false,
            _ => self.rank < rank || (self.rank == rank && own > id),
        }
    }
}

/// The port: where search documents go and where searches are answered.
pub trait SearchEngine: Send + Sync {
    /// Stores or replaces the product's document, in the caller's transaction.
    fn index<'a>(
        &'a self,
        conn: &'a mut AsyncPgConnection,
        doc: &'a SearchDocument,
    ) -> BoxFuture<'a, Result<(), DbError>>;

    /// Forgets the product.
    fn remove<'a>(&'a self, conn: &'a mut AsyncPgConnection, product: ProductId) -> BoxFuture<'a, Result<(), DbError>>;

    /// The visible products matching the request, best first (see [`SearchHit`] for the order).
    fn search<'a>(
        &'a self,
        conn: &'a mut AsyncPgConnection,
        request: &'a SearchRequest,
    ) -> BoxFuture<'a, Result<Vec<SearchHit>, DbError>>;

    /// Names of visible products close to what was typed (typos, prefixes), best first.
    fn suggest<'a>(
        &'a self,
        conn: &'a mut AsyncPgConnection,
        text: &'a str,
        limit: i64,
    ) -> BoxFuture<'a, Result<Vec<String>, DbError>>;
}

/// The text search configuration for a language tag (`simple` when PostgreSQL has no stemmer).
pub fn text_search_config(language: &str) -> &'static str {
    match language.split('-').next().unwrap_or_default() {
        "en" => "english",
        "de" => "german",
        "fr" => "french",
        "es" => "spanish",
        "it" => "italian",
        "nl" => "dutch",
        "pt" => "portuguese",
        "sv" => "swedish",
        "da" => "danish",
        "fi" => "finnish",
        "no" | "nb" | "nn" => "norwegian",
        "ru" => "russian",
        "tr" => "turkish",
        "hu" => "hungarian",
        "ro" => "romanian",
        "el" => "greek",
        "ga" => "irish",
        "id" => "indonesian",
        "lt" => "lithuanian",
        "ca" => "catalan",
        _ => "simple",
    }
}

/// A name as trigram matching compares it: lower case, letters and digits only.
pub fn compact(text: &str) -> String {
    text.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// PostgreSQL's own full text search and `pg_trgm`, on the `search_documents` table.
pub struct PostgresSearch;

#[derive(QueryableByName)]
struct Hit {
    #[diesel(sql_type = SqlUuid)]
    product_id: ProductId,
    #[diesel(sql_type = Bool)]
    exact: bool,
    #[diesel(sql_type = Float4)]
    rank: f32,
}

#[derive(QueryableByName)]
struct Suggestion {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Float4)]
    #[allow(dead_code)]
    score: f32,
}

/// Visible in search: active, not deleted, inside the publication window.
const VISIBLE: &str = "d.active AND (d.publish_at IS NULL OR d.publish_at <= now()) \
                       AND (d.unpublish_at IS NULL OR d.unpublish_at > now())";

impl SearchEngine for PostgresSearch {
    fn index<'a>(
        &'a self,
        conn: &'a mut AsyncPgConnection,
        doc: &'a SearchDocument,
    ) -> BoxFuture<'a, Result<(), DbError>> {
        Box::pin(async move {
            let config = text_search_config(&doc.language);
            let names = doc.names.join("\n");
            let compact_names = doc.names.iter().map(|n| compact(n)).collect::<Vec<_>>().join("\n");
            diesel::sql_query(
                "INSERT INTO search_documents (product_id, document, names, compact_names, active, publish_at, \
                     unpublish_at, updated_at) \
                 VALUES ($1, setweight(to_tsvector($2::regconfig, $3), 'A') \
                          || setweight(to_tsvector($2::regconfig, $4), 'B') \
                          || setweight(to_tsvector($2::regconfig, $5), 'C'), \
                         $3, $6, $7, $8, $9, now()) \
                 ON CONFLICT (product_id) DO UPDATE SET document = EXCLUDED.document, names = EXCLUDED.names, \
                     compact_names = EXCLUDED.compact_names, active = EXCLUDED.active, \
                     publish_at = EXCLUDED.publish_at, unpublish_at = EXCLUDED.unpublish_at, updated_at = now()",
            )
            .bind::<SqlUuid, _>(doc.product_id)
            .bind::<Text, _>(config)
            .bind::<Text, _>(&names)
            .bind::<Text, _>(doc.codes.join(" "))
            .bind::<Text, _>(doc.descriptions.join("\n"))
            .bind::<Text, _>(&compact_names)
            .bind::<Bool, _>(doc.active)
            .bind::<Nullable<Timestamptz>, _>(doc.publish_at)
            .bind::<Nullable<Timestamptz>, _>(doc.unpublish_at)
            .execute(conn)
            .await?;
            Ok(())
        })
    }

    fn remove<'a>(&'a self, conn: &'a mut AsyncPgConnection, product: ProductId) -> BoxFuture<'a, Result<(), DbError>> {
        Box::pin(async move {
            diesel::sql_query("DELETE FROM search_documents WHERE product_id = $1")
                .bind::<SqlUuid, _>(product)
                .execute(conn)
                .await?;
            Ok(())
        })
    }

    fn search<'a>(
        &'a self,
        conn: &'a mut AsyncPgConnection,
        request: &'a SearchRequest,
    ) -> BoxFuture<'a, Result<Vec<SearchHit>, DbError>> {
        Box::pin(async move {
            // The typed text and its synonym alternatives, as web-search `or` alternatives.
            let mut query = request.text.clone();
            for alternative in &request.alternatives {
                query.push_str(" or ");
                query.push_str(alternative);
            }
            // ts_rank weighs the document's parts (names A, codes B, descriptions C).
            let sql = format!(
                "SELECT product_id, exact, rank FROM ( \
                   SELECT d.product_id, (lower($3) = ANY (string_to_array(lower(d.names), E'\\n'))) AS exact, \
                          ts_rank(d.document, q) AS rank \
                   FROM search_documents d, websearch_to_tsquery($1::regconfig, $2) q \
                   WHERE d.document @@ q AND {VISIBLE}) hits \
                 ORDER BY exact DESC, rank DESC, product_id \
                 LIMIT $4"
            );
            let hits: Vec<Hit> = diesel::sql_query(sql)
                .bind::<Text, _>(text_search_config(&request.language))
                .bind::<Text, _>(&query)
                .bind::<Text, _>(request.text.trim())
                .bind::<diesel::sql_types::BigInt, _>(request.limit)
                .load(conn)
                .await?;
            Ok(hits.into_iter().map(|h| SearchHit { product_id: h.product_id, exact: h.exact, rank: h.rank }).collect())
        })
    }

    fn suggest<'a>(
        &'a self,
        conn: &'a mut AsyncPgConnection,
        text: &'a str,
        limit: i64,
    ) -> BoxFuture<'a, Result<Vec<String>, DbError>> {
        Box::pin(async move {
            let typed = compact(text);
            if typed.is_empty() {
                return Ok(Vec::new());
            }
            // The documents worth scoring come from the trigram index on the compact names: those
            // holding what was typed, or a word at least as close to it as the scoring below asks
            // (word similarity is never below the similarity to a whole word, so `<%` at the same
            // 0.2 keeps every name the score would keep). Without it every name of the shop was
            // scored: 1.7 s a call at 10,000 products under load.
            diesel::sql_query("SELECT set_config('pg_trgm.word_similarity_threshold', '0.2', true)")
                .execute(conn)
                .await?;
            // Each name scored by trigram similarity of its compact form (typos: "tshrit" is close
            // to "tshirt") or of what was typed to a part of the name (autocomplete: "lam" in
            // "Visible Lamp"); a name starting with what was typed scores highest.
            let sql = format!(
                "SELECT name, max(score) AS score FROM ( \
                   SELECT n.name, CASE WHEN n.compact LIKE $2 || '%' THEN 1.0::float4 \
                                       ELSE greatest(agora.similarity(n.compact, $2), \
                                                     agora.word_similarity($4, lower(n.name))) END AS score \
                   FROM search_documents d, \
                        unnest(string_to_array(d.names, E'\\n'), string_to_array(d.compact_names, E'\\n')) \
                          AS n(name, compact) \
                   WHERE {VISIBLE} \
                     AND (d.compact_names LIKE '%' || $2 || '%' OR $5 OPERATOR(agora.<%) d.compact_names) \
                     AND (n.compact LIKE $2 || '%' OR agora.similarity(n.compact, $2) > $3 \
                          OR agora.word_similarity($4, lower(n.name)) > 0.5) \
                 ) s GROUP BY name ORDER BY score DESC, name LIMIT $1"
            );
            let found: Vec<Suggestion> = diesel::sql_query(sql)
                .bind::<diesel::sql_types::BigInt, _>(limit)
                .bind::<Text, _>(like_prefix(&typed))
                .bind::<Float4, _>(0.2_f32)
                .bind::<Text, _>(text.trim().to_lowercase())
                .bind::<Text, _>(&typed)
                .load(conn)
                .await?;
            Ok(found.into_iter().map(|s| s.name).collect())
        })
    }
}

/// `text` with LIKE's wildcards escaped (compact text has none but `_` could come from a name).
fn like_prefix(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// The alternatives of `text` with one synonym group's term replaced by each other term.
pub(crate) fn synonym_alternatives(text: &str, groups: &[Vec<String>]) -> Vec<String> {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    let mut alternatives = Vec::new();
    for group in groups {
        for (i, word) in words.iter().enumerate() {
            if !group.iter().any(|t| t == word) {
                continue;
            }
            for other in group.iter().filter(|t| *t != word) {
                let mut replaced: Vec<&str> = words.clone();
                replaced[i] = other;
                alternatives.push(replaced.join(" "));
            }
        }
    }
    alternatives.sort();
    alternatives.dedup();
    alternatives.truncate(16);
    alternatives
}

const MAX_TERMS: usize = 20;

fn check_terms(raw: &[String]) -> Result<Vec<String>, CatalogError> {
    let mut errors = Vec::new();
    let mut terms: Vec<String> = Vec::new();
    for (i, term) in raw.iter().enumerate() {
        let term = term.trim().to_lowercase();
        if term.is_empty() || term.chars().count() > 100 || term.contains(char::is_whitespace) {
            errors.push(agora_kernel::FieldError::new(format!("terms[{i}]"), "one word of 1 to 100 characters"));
        } else if terms.contains(&term) {
            errors.push(agora_kernel::FieldError::new(format!("terms[{i}]"), "listed twice"));
        } else {
            terms.push(term);
        }
    }
    if raw.len() < 2 || raw.len() > MAX_TERMS {
        errors.push(agora_kernel::FieldError::new("terms", format!("between 2 and {MAX_TERMS} terms")));
    }
    if errors.is_empty() {
        Ok(terms)
    } else {
        Err(agora_kernel::CommonError::Invalid(errors).into())
    }
}

fn to_synonyms(row: store::SynonymsRow) -> Synonyms {
    Synonyms { id: row.id, terms: row.terms, created_at: row.created_at, version: row.version }
}

pub(crate) async fn create_synonyms(tx: &mut TenantTx<'_>, new: NewSynonyms) -> Result<Synonyms, CatalogError> {
    let terms = check_terms(&new.terms)?;
    let stamp = tx.stamp();
    let row = store::insert_synonyms(tx.conn(), &terms, &stamp).await?;
    tx.audit("catalog.synonyms.created", Some(row.id.to_string()), serde_json::json!({"terms": row.terms})).await?;
    Ok(to_synonyms(row))
}

pub(crate) async fn list_synonyms(tx: &mut TenantTx<'_>) -> Result<Vec<Synonyms>, CatalogError> {
    Ok(store::synonyms(tx.conn()).await?.into_iter().map(to_synonyms).collect())
}

pub(crate) async fn delete_synonyms(tx: &mut TenantTx<'_>, id: uuid::Uuid) -> Result<(), CatalogError> {
    match store::delete_synonyms(tx.conn(), id).await? {
        0 => Err(CatalogError::SynonymsNotFound),
        _ => Ok(tx.audit("catalog.synonyms.deleted", Some(id.to_string()), serde_json::json!({})).await?),
    }
}

/// The shop's synonym groups, for expanding a search.
pub(crate) async fn synonym_groups(conn: &mut AsyncPgConnection) -> Result<Vec<Vec<String>>, DbError> {
    Ok(store::synonyms(conn).await?.into_iter().map(|r| r.terms).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synonyms_replace_one_word_at_a_time() {
        let groups = vec![vec!["tee".to_string(), "t-shirt".to_string()]];
        assert_eq!(synonym_alternatives("Red Tee", &groups), vec!["red t-shirt".to_string()]);
        assert!(synonym_alternatives("red shirt", &groups).is_empty());
    }

    #[test]
    fn hits_come_after_better_ones() {
        let id = |n: u128| uuid::Uuid::from_u128(n);
        let hit = |exact, rank, n| SearchHit { product_id: ProductId::from_uuid(id(n)), exact, rank };
        assert!(hit(false, 0.9, 1).comes_after(true, 0.1, id(2)), "an exact name goes first");
        assert!(!hit(true, 0.1, 1).comes_after(false, 0.9, id(2)));
        assert!(hit(false, 0.5, 1).comes_after(false, 0.6, id(2)));
        assert!(hit(false, 0.5, 3).comes_after(false, 0.5, id(2)), "equal ranks in id order");
        assert!(!hit(false, 0.5, 2).comes_after(false, 0.5, id(2)), "not the last row itself");
    }

    #[test]
    fn names_are_compared_without_punctuation() {
        assert_eq!(compact("T-Shirt, Blue"), "tshirtblue");
        assert_eq!(text_search_config("de-CH"), "german");
        assert_eq!(text_search_config("xx"), "simple");
    }
}
