//! Lists sorted by any key: `?limit=&cursor=&sort=` in through one extractor, [`ListQuery`]; a
//! cursor that carries the last row's sort value and id; and one keyset filter for diesel,
//! [`keyset_after`], so a page costs one index range scan whatever the sort.
//!
//! ```ignore
//! agora_kernel::text_enum! {
//!     pub enum ProductSort { Newest = "created_at", Name = "name", Price = "price" }
//! }
//! impl SortKey for ProductSort {
//!     const DEFAULT: Sort<Self> = Sort::descending(ProductSort::Newest);
//! }
//!
//! async fn list(query: ListQuery<ProductSort>, …) -> Result<Json<ListPage<Product>>, ApiError> {
//!     let mut q = products::table.limit(query.fetch_limit()).into_boxed();
//!     q = match query.sort.key {
//!         ProductSort::Price => {
//!             if let Some((price, id)) = query.after::<i64>()? {
//!                 q = q.filter(keyset_after(products::price_amount, products::id, price, id, query.sort.direction));
//!             }
//!             order_keyset(q, products::price_amount, products::id, query.sort.direction)
//!         }
//!         …
//!     };
//!     let rows = q.load(conn).await?;
//!     Ok(Json(query.page(rows, |p| (json!(p.price.amount), p.id))))
//! }
//! ```
//!
//! A cursor is base64url JSON of `{sort, direction, value, id}`. It is not signed: a client that
//! edits one only moves where its own page starts inside what it may see anyway. A cursor that does
//! not decode, was made for another sort, or holds a value of the wrong type is a 422 naming
//! `cursor`.

use crate::enums::TextEnum;
use crate::error::ApiError;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use base64::Engine as _;
use diesel::expression::{AsExpression, Expression};
use diesel::pg::Pg;
use diesel::query_dsl::methods::OrderDsl;
use diesel::sql_types::Bool;
use diesel::{dsl, BoxableExpression, ExpressionMethods};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::future::{ready, Ready};

pub use crate::pagination::{DEFAULT_LIMIT, MAX_LIMIT};

/// Which way a list runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Ascending,
    Descending,
}

/// A sort key and its direction; in the query string `sort=price` or `sort=-price` (descending).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort<S> {
    pub key: S,
    pub direction: Direction,
}

impl<S> Sort<S> {
    pub const fn ascending(key: S) -> Self {
        Sort { key, direction: Direction::Ascending }
    }

    pub const fn descending(key: S) -> Self {
        Sort { key, direction: Direction::Descending }
    }
}

/// What a list can be sorted by: a `text_enum!` whose values are the names clients use, and the
/// order the list has when they name none.
pub trait SortKey: TextEnum {
    const DEFAULT: Sort<Self>;
}

impl<S: SortKey> Sort<S> {
    /// `price` or `-price`.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.strip_prefix('-') {
            Some(name) => S::from_text(name).map(Sort::descending),
            None => S::from_text(raw).map(Sort::ascending),
        }
    }

    pub fn to_query(self) -> String {
        match self.direction {
            Direction::Ascending => self.key.as_text().to_string(),
            Direction::Descending => format!("-{}", self.key.as_text()),
        }
    }
}

/// Where the next page starts: after the row with this sort value and id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListCursor {
    sort: String,
    direction: Direction,
    value: serde_json::Value,
    id: uuid::Uuid,
}

impl ListCursor {
    fn encode(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    fn decode(raw: &str) -> Option<Self> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

fn bad_cursor(why: &str) -> ApiError {
    ApiError::field("cursor", why)
}

/// `?limit=&cursor=&sort=`, checked: a handler takes `ListQuery<ProductSort>` as an argument.
/// Other query parameters (a module's filters) are left to the module's own `Query<…>`.
#[derive(Debug, Clone)]
pub struct ListQuery<S> {
    pub limit: i64,
    pub sort: Sort<S>,
    after: Option<(serde_json::Value, uuid::Uuid)>,
}

#[derive(Deserialize)]
struct RawListQuery {
    limit: Option<String>,
    cursor: Option<String>,
    sort: Option<String>,
}

impl<S: SortKey> ListQuery<S> {
    /// Reads the query string (`limit=20&sort=-price&cursor=…`).
    pub fn parse(query_string: &str) -> Result<Self, ApiError> {
        let raw = actix_web::web::Query::<RawListQuery>::from_query(query_string)
            .map_err(|_| ApiError::bad_request("bad-query", "the query string is not valid"))?
            .into_inner();
        let limit = match raw.limit.as_deref() {
            None | Some("") => DEFAULT_LIMIT,
            Some(text) => text
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| ApiError::field("limit", format!("must be between 1 and {MAX_LIMIT}")))?,
        };
        let sort = match raw.sort.as_deref() {
            None | Some("") => S::DEFAULT,
            Some(text) => Sort::parse(text).ok_or_else(|| {
                ApiError::field("sort", format!("one of {} (prefix '-' for descending)", S::VALUES.join(", ")))
            })?,
        };
        let after = match raw.cursor.as_deref() {
            None | Some("") => None,
            Some(text) => {
                let cursor = ListCursor::decode(text).ok_or_else(|| bad_cursor("not a cursor returned by this API"))?;
                if cursor.sort != sort.key.as_text() || cursor.direction != sort.direction {
                    return Err(bad_cursor(&format!(
                        "this cursor belongs to a list sorted by {}; keep that sort or start again without a cursor",
                        Sort { key: cursor.sort.as_str(), direction: cursor.direction }.describe()
                    )));
                }
                Some((cursor.value, cursor.id))
            }
        };
        Ok(ListQuery { limit, sort, after })
    }

    /// How many rows to fetch: one more than the page, to learn whether there is a next page.
    pub fn fetch_limit(&self) -> i64 {
        self.limit + 1
    }

    /// The last row of the previous page: its sort value (as the type the sort column has) and
    /// its id. `None` on the first page.
    pub fn after<V: DeserializeOwned>(&self) -> Result<Option<(V, uuid::Uuid)>, ApiError> {
        self.after
            .as_ref()
            .map(|(value, id)| {
                V::deserialize(value).map(|v| (v, *id)).map_err(|_| bad_cursor("not a cursor returned by this API"))
            })
            .transpose()
    }

    /// A page from up to [`ListQuery::fetch_limit`] rows loaded in order; `key` gives a row's
    /// sort value and id for the next cursor.
    pub fn page<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> (serde_json::Value, uuid::Uuid)) -> ListPage<T> {
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| {
                let (value, id) = key(last);
                ListCursor { sort: self.sort.key.as_text().to_string(), direction: self.sort.direction, value, id }
                    .encode()
            })
        } else {
            None
        };
        ListPage { items: rows, next_cursor }
    }
}

impl Sort<&str> {
    fn describe(&self) -> String {
        match self.direction {
            Direction::Ascending => self.key.to_string(),
            Direction::Descending => format!("-{}", self.key),
        }
    }
}

impl<S: SortKey> FromRequest for ListQuery<S> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(ListQuery::parse(req.query_string()))
    }
}

impl<S> paperclip::v2::schema::Apiv2Schema for ListQuery<S> {}

impl<S: SortKey> paperclip::actix::OperationModifier for ListQuery<S> {
    fn update_parameter(op: &mut paperclip::v2::models::DefaultOperationRaw) {
        use paperclip::v2::models::{DataType, Either, Parameter, ParameterIn};
        let sorts: Vec<serde_json::Value> =
            S::VALUES.iter().flat_map(|v| [serde_json::json!(v), serde_json::json!(format!("-{v}"))]).collect();
        op.parameters.push(Either::Right(Parameter {
            name: "limit".into(),
            in_: ParameterIn::Query,
            description: Some(format!("Page size, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})")),
            data_type: Some(DataType::Integer),
            minimum: Some(1.0),
            maximum: Some(MAX_LIMIT as f32),
            ..Default::default()
        }));
        op.parameters.push(Either::Right(Parameter {
            name: "cursor".into(),
            in_: ParameterIn::Query,
            description: Some("`next_cursor` from the previous page (with the same sort)".into()),
            data_type: Some(DataType::String),
            ..Default::default()
        }));
        op.parameters.push(Either::Right(Parameter {
            name: "sort".into(),
            in_: ParameterIn::Query,
            description: Some(format!("Sort key; prefix '-' for descending (default {})", S::DEFAULT.to_query())),
            data_type: Some(DataType::String),
            enum_: sorts,
            ..Default::default()
        }));
    }
}

/// One page of a sorted list.
#[derive(Debug, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct ListPage<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` (with the same `sort`) for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `ORDER BY sort_col, id` in the list's direction (on a boxed query, whose type stays the same
/// either way). The id breaks ties, so the order is total and [`keyset_after`] skips nothing.
pub fn order_keyset<Q, S, I>(query: Q, sort_col: S, id_col: I, direction: Direction) -> Q
where
    S: ExpressionMethods,
    I: ExpressionMethods,
    Q: OrderDsl<(dsl::Asc<S>, dsl::Asc<I>), Output = Q> + OrderDsl<(dsl::Desc<S>, dsl::Desc<I>), Output = Q>,
{
    match direction {
        Direction::Ascending => OrderDsl::order(query, (sort_col.asc(), id_col.asc())),
        Direction::Descending => OrderDsl::order(query, (sort_col.desc(), id_col.desc())),
    }
}

/// The rows after `(value, id)` in the list's order: `(sort_col, id) > (value, id)` ascending,
/// `<` descending, written as `sort_col > value OR (sort_col = value AND id > id)` so Postgres
/// uses a `(sort_col, id)` index either way. The one keyset filter; no module writes its own.
pub fn keyset_after<QS, S, I, V>(
    sort_col: S,
    id_col: I,
    value: V,
    id: uuid::Uuid,
    direction: Direction,
) -> Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>>
where
    S: ExpressionMethods + Copy + 'static,
    I: ExpressionMethods + Copy + 'static,
    S::SqlType: diesel::sql_types::SqlType,
    I::SqlType: diesel::sql_types::SqlType,
    V: AsExpression<S::SqlType> + Clone + 'static,
    uuid::Uuid: AsExpression<I::SqlType>,
    dsl::Gt<S, V>: Expression<SqlType = Bool>,
    dsl::Lt<S, V>: Expression<SqlType = Bool>,
    dsl::Eq<S, V>: Expression<SqlType = Bool>,
    dsl::Gt<I, uuid::Uuid>: Expression<SqlType = Bool>,
    dsl::Lt<I, uuid::Uuid>: Expression<SqlType = Bool>,
    dsl::Or<dsl::Gt<S, V>, dsl::And<dsl::Eq<S, V>, dsl::Gt<I, uuid::Uuid>>>:
        BoxableExpression<QS, Pg, SqlType = Bool> + 'static,
    dsl::Or<dsl::Lt<S, V>, dsl::And<dsl::Eq<S, V>, dsl::Lt<I, uuid::Uuid>>>:
        BoxableExpression<QS, Pg, SqlType = Bool> + 'static,
{
    use diesel::BoolExpressionMethods as _;
    match direction {
        Direction::Ascending => Box::new(sort_col.gt(value.clone()).or(sort_col.eq(value).and(id_col.gt(id)))),
        Direction::Descending => Box::new(sort_col.lt(value.clone()).or(sort_col.eq(value).and(id_col.lt(id)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::text_enum! {
        enum ProbeSort { Newest = "created_at", Name = "name", Price = "price" }
    }

    impl SortKey for ProbeSort {
        const DEFAULT: Sort<Self> = Sort::descending(ProbeSort::Newest);
    }

    fn field_of(e: &ApiError) -> (u16, Vec<String>) {
        (e.status().as_u16(), e.body().errors.unwrap_or_default().into_iter().map(|f| f.field).collect())
    }

    #[test]
    fn limit_and_sort_are_read_with_defaults() {
        let q = ListQuery::<ProbeSort>::parse("").unwrap();
        assert_eq!((q.limit, q.sort), (DEFAULT_LIMIT, Sort::descending(ProbeSort::Newest)));
        let q = ListQuery::<ProbeSort>::parse("limit=5&sort=-price&status=active").unwrap();
        assert_eq!((q.limit, q.sort), (5, Sort::descending(ProbeSort::Price)));
        assert_eq!(ListQuery::<ProbeSort>::parse("sort=name").unwrap().sort, Sort::ascending(ProbeSort::Name));
        for (query, field) in [
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("limit=x", "limit"),
            ("sort=colour", "sort"),
            ("sort=--price", "sort"),
        ] {
            let err = ListQuery::<ProbeSort>::parse(query).unwrap_err();
            assert_eq!(field_of(&err), (422, vec![field.to_string()]), "{query}");
        }
    }

    #[test]
    fn the_cursor_carries_sort_value_and_id_and_refuses_tampering() {
        let q = ListQuery::<ProbeSort>::parse("limit=2&sort=price").unwrap();
        let ids: Vec<uuid::Uuid> = (0..3).map(|_| uuid::Uuid::now_v7()).collect();
        let rows = vec![(100_i64, ids[0]), (250, ids[1]), (300, ids[2])];
        let page = q.page(rows, |(price, id)| (serde_json::json!(price), *id));
        assert_eq!(page.items.len(), 2);
        let cursor = page.next_cursor.expect("a third row means a next page");

        let next = ListQuery::<ProbeSort>::parse(&format!("limit=2&sort=price&cursor={cursor}")).unwrap();
        assert_eq!(next.after::<i64>().unwrap(), Some((250, ids[1])));
        assert!(next.after::<String>().is_err(), "a price cursor is not a name");
        assert_eq!(field_of(&next.after::<String>().unwrap_err()).1, ["cursor"]);

        let other_sort = ListQuery::<ProbeSort>::parse(&format!("sort=-price&cursor={cursor}")).unwrap_err();
        assert_eq!(field_of(&other_sort), (422, vec!["cursor".to_string()]));
        assert!(
            other_sort.body().errors.unwrap_or_default()[0].message.contains("sorted by price"),
            "{:?}",
            other_sort.body()
        );

        let mut tampered = cursor.clone();
        tampered.insert(3, '!');
        for bad in [tampered.as_str(), "e30", "bm9wZQ", "%%%"] {
            let err = ListQuery::<ProbeSort>::parse(&format!("sort=price&cursor={bad}")).unwrap_err();
            assert_eq!(field_of(&err), (422, vec!["cursor".to_string()]), "{bad}");
        }

        let last = q.page(vec![(1_i64, ids[0])], |(p, id)| (serde_json::json!(p), *id));
        assert_eq!(last.next_cursor, None, "no cursor on the last page");
    }

    #[actix_web::test]
    async fn the_extractor_answers_with_problems() {
        let req = actix_web::test::TestRequest::with_uri("/products?sort=colour").to_http_request();
        let err = ListQuery::<ProbeSort>::extract(&req).await.unwrap_err();
        assert_eq!(field_of(&err), (422, vec!["sort".to_string()]));
        let req = actix_web::test::TestRequest::with_uri("/products?limit=3").to_http_request();
        assert_eq!(ListQuery::<ProbeSort>::extract(&req).await.unwrap().limit, 3);
    }

    #[test]
    fn the_openapi_parameters_list_every_sort() {
        use paperclip::actix::OperationModifier;
        let mut op = paperclip::v2::models::DefaultOperationRaw::default();
        ListQuery::<ProbeSort>::update_parameter(&mut op);
        let json = serde_json::to_value(&op.parameters).unwrap();
        let names: Vec<&str> = json.as_array().unwrap().iter().filter_map(|p| p["name"].as_str()).collect();
        assert_eq!(names, ["limit", "cursor", "sort"]);
        assert_eq!(
            json[2]["enum"],
            serde_json::json!(["created_at", "-created_at", "name", "-name", "price", "-price"])
        );
    }
}
