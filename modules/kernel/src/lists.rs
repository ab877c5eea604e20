//! Every list of the API, one way: `?limit=&cursor=&sort=` in through one extractor,
//! [`ListQuery`]; a cursor that carries the last row's sort value and id; one keyset filter for
//! diesel, [`keyset_after`] (applied with its `ORDER BY` by [`Keyset::apply`]), so a page costs one
//! index range scan whatever the sort; `{ items, next_cursor }` out ([`Page`]).
//!
//! A list whose order clients do not choose takes `ListQuery<NewestFirst>` or
//! `ListQuery<OldestFirst>` (by when rows were made, the id breaking ties) and reads no `sort`:
//!
//! ```ignore
//! async fn list(query: ListQuery<NewestFirst>, filters: web::Query<MessageFilters>, …) -> … {
//!     let keyset = query.keyset::<DateTime<Utc>>()?;      // a bad cursor is a 422 here
//!     // in the store:
//!     let q = keyset.apply(messages::table.limit(keyset.fetch_limit()).into_boxed(), messages::created_at, messages::id);
//!     Ok(Json(keyset.page(q.load(conn).await?, |m| (m.created_at, m.id))))
//! }
//! ```
//!
//! A list sorted by the client's choice names its keys:
//!
//! ```ignore
//! agora_kernel::text_enum! {
//!     pub enum ProductSort { Newest = "created_at", Name = "name", Price = "price" }
//! }
//! impl SortKey for ProductSort {
//!     const DEFAULT: Sort<Self> = Sort::descending(ProductSort::Newest);
//! }
//!
//! async fn list(query: ListQuery<ProductSort>, …) -> Result<Json<Page<Product>>, ApiError> {
//!     let q = products::table.limit(query.fetch_limit()).into_boxed();
//!     let q = match query.sort.key {
//!         ProductSort::Price => query.keyset::<i64>()?.apply(q, products::price_amount, products::id),
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
//! `cursor`. A cursor from before this format (the old `created_at`/`id` one) is refused the same
//! way: the client starts the list again.

use crate::enums::TextEnum;
use crate::error::ApiError;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use base64::Engine as _;
use diesel::expression::{AsExpression, Expression};
use diesel::pg::Pg;
use diesel::query_dsl::methods::{FilterDsl, OrderDsl};
use diesel::sql_types::Bool;
use diesel::{dsl, BoxableExpression, ExpressionMethods};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::future::{ready, Ready};

/// Rows on a page when the client names no `limit`.
pub const DEFAULT_LIMIT: i64 = 20;
/// The most rows a client may ask for on one page.
pub const MAX_LIMIT: i64 = 100;

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
    /// Whether clients choose the order with `?sort=`. A list with one fixed order neither reads
    /// nor documents the parameter (so a stray `sort` is ignored, like any unknown parameter).
    const CHOSEN_BY_CLIENT: bool = true;
}

crate::text_enum! {
    /// The order of a list whose order clients do not choose: newest first, by when its rows were
    /// made (the sort column is the row's creation instant, the id breaks ties).
    pub enum NewestFirst { Created = "created" }
}

impl SortKey for NewestFirst {
    const DEFAULT: Sort<Self> = Sort::descending(NewestFirst::Created);
    const CHOSEN_BY_CLIENT: bool = false;
}

crate::text_enum! {
    /// The order of a list whose order clients do not choose: oldest first, by when its rows were
    /// made (the sort column is the row's creation instant, the id breaks ties).
    pub enum OldestFirst { Created = "created" }
}

impl SortKey for OldestFirst {
    const DEFAULT: Sort<Self> = Sort::ascending(OldestFirst::Created);
    const CHOSEN_BY_CLIENT: bool = false;
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

fn bad_limit() -> ApiError {
    ApiError::field("limit", format!("must be between 1 and {MAX_LIMIT}"))
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
            // Not a number at all is malformed (400), as the query extractor answers any
            // parameter of the wrong type; a number out of range is invalid (422).
            Some(text) => text.parse::<i64>().map_err(|_| {
                ApiError::bad_request("bad-query", "invalid query string: limit is not a whole number")
                    .with_field("limit", format!("a whole number between 1 and {MAX_LIMIT}"))
            })?,
        };
        let sort = match raw.sort.as_deref() {
            _ if !S::CHOSEN_BY_CLIENT => S::DEFAULT,
            None | Some("") => S::DEFAULT,
            Some(text) => Sort::parse(text).ok_or_else(|| {
                ApiError::field("sort", format!("one of {} (prefix '-' for descending)", S::VALUES.join(", ")))
            })?,
        };
        Self::checked(limit, sort, raw.cursor.as_deref())
    }

    /// A request made in code (a command walking every page) in the list's default order:
    /// `cursor` is the previous page's `next_cursor`.
    pub fn new(limit: i64, cursor: Option<&str>) -> Result<Self, ApiError> {
        Self::checked(limit, S::DEFAULT, cursor)
    }

    fn checked(limit: i64, sort: Sort<S>, cursor: Option<&str>) -> Result<Self, ApiError> {
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(bad_limit());
        }
        let after = match cursor {
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

    /// The request with its cursor read as the sort column's type `V` (a cursor holding anything
    /// else is a 422 naming `cursor`): what a store takes to load a page.
    pub fn keyset<V: DeserializeOwned>(&self) -> Result<Keyset<V>, ApiError> {
        let after = self
            .after
            .as_ref()
            .map(|(value, id)| {
                V::deserialize(value).map(|v| (v, *id)).map_err(|_| bad_cursor("not a cursor returned by this API"))
            })
            .transpose()?;
        Ok(Keyset { limit: self.limit, sort: self.sort.key.as_text(), direction: self.sort.direction, after })
    }

    /// A page from up to [`ListQuery::fetch_limit`] rows loaded in order; `key` gives a row's
    /// sort value and id for the next cursor.
    /// For a list loaded with different sort columns per key (so `key` answers JSON).
    pub fn page<T>(&self, rows: Vec<T>, key: impl Fn(&T) -> (serde_json::Value, uuid::Uuid)) -> Page<T> {
        page_of(rows, self.limit, self.sort.key.as_text(), self.sort.direction, key)
    }
}

fn page_of<T>(
    mut rows: Vec<T>,
    limit: i64,
    sort: &str,
    direction: Direction,
    key: impl Fn(&T) -> (serde_json::Value, uuid::Uuid),
) -> Page<T> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|last| {
            let (value, id) = key(last);
            ListCursor { sort: sort.to_string(), direction, value, id }.encode()
        })
    } else {
        None
    };
    Page { items: rows, next_cursor }
}

/// A list request whose cursor is read as the sort column's type `V`: the page size, the
/// direction and the row the page starts after. `Send` and `Clone`, so it goes into a transaction.
#[derive(Debug, Clone)]
pub struct Keyset<V> {
    pub limit: i64,
    sort: &'static str,
    pub direction: Direction,
    /// The last row of the previous page: its sort value and id. `None` on the first page.
    pub after: Option<(V, uuid::Uuid)>,
}

impl<V> Keyset<V> {
    /// How many rows to fetch: one more than the page, to learn whether there is a next page.
    pub fn fetch_limit(&self) -> i64 {
        self.limit + 1
    }

    /// A page from up to [`Keyset::fetch_limit`] rows loaded in order; `key` gives a row's sort
    /// value and id for the next cursor.
    pub fn page<T>(&self, rows: Vec<T>, key: impl Fn(&T) -> (V, uuid::Uuid)) -> Page<T>
    where
        V: Serialize,
    {
        page_of(rows, self.limit, self.sort, self.direction, |row| {
            let (value, id) = key(row);
            (serde_json::to_value(value).unwrap_or_default(), id)
        })
    }

    /// The rows after the cursor's (when there is one), ordered by `sort_col, id_col` in the list's
    /// direction: [`keyset_after`] and [`order_keyset`] on a boxed query.
    pub fn apply<Q, QS, S, I>(&self, query: Q, sort_col: S, id_col: I) -> Q
    where
        Q: FilterDsl<Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>>, Output = Q>
            + OrderDsl<(dsl::Asc<S>, dsl::Asc<I>), Output = Q>
            + OrderDsl<(dsl::Desc<S>, dsl::Desc<I>), Output = Q>,
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
        let query = match &self.after {
            Some((value, id)) => {
                FilterDsl::filter(query, keyset_after(sort_col, id_col, value.clone(), *id, self.direction))
            }
            None => query,
        };
        order_keyset(query, sort_col, id_col, self.direction)
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
        // Page size and cursor as every list had them before sorting was added; a fixed-order
        // list's contract has no `sort`.
        let sorts: Vec<serde_json::Value> =
            S::VALUES.iter().flat_map(|v| [serde_json::json!(v), serde_json::json!(format!("-{v}"))]).collect();
        op.parameters.push(Either::Right(Parameter {
            name: "limit".into(),
            in_: ParameterIn::Query,
            description: Some(format!("Page size, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}).")),
            data_type: Some(DataType::Integer),
            minimum: Some(1.0),
            maximum: Some(MAX_LIMIT as f32),
            ..Default::default()
        }));
        op.parameters.push(Either::Right(Parameter {
            name: "cursor".into(),
            in_: ParameterIn::Query,
            description: Some(if S::CHOSEN_BY_CLIENT {
                "`next_cursor` from the previous page (with the same sort).".into()
            } else {
                "`next_cursor` from the previous page.".into()
            }),
            data_type: Some(DataType::String),
            ..Default::default()
        }));
        if !S::CHOSEN_BY_CLIENT {
            return;
        }
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

/// One page of a list.
#[derive(Debug, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
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
        for (query, status, field) in [
            ("limit=0", 422, "limit"),
            ("limit=101", 422, "limit"),
            ("limit=x", 400, "limit"),
            ("sort=colour", 422, "sort"),
            ("sort=--price", 422, "sort"),
        ] {
            let err = ListQuery::<ProbeSort>::parse(query).unwrap_err();
            assert_eq!(field_of(&err), (status, vec![field.to_string()]), "{query}");
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
        assert_eq!(next.keyset::<i64>().unwrap().after, Some((250, ids[1])));
        assert!(next.keyset::<String>().is_err(), "a price cursor is not a name");
        assert_eq!(field_of(&next.keyset::<String>().unwrap_err()).1, ["cursor"]);

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

    #[test]
    fn a_fixed_order_reads_no_sort_and_pages_by_creation() {
        let q = ListQuery::<NewestFirst>::parse("limit=2&sort=name").unwrap();
        assert_eq!(q.sort, Sort::descending(NewestFirst::Created), "a stray sort is ignored, as before");
        let at = chrono::Utc::now();
        let ids: Vec<uuid::Uuid> = (0..3).map(|_| uuid::Uuid::now_v7()).collect();
        let keyset = q.keyset::<chrono::DateTime<chrono::Utc>>().unwrap();
        assert_eq!((keyset.fetch_limit(), keyset.after), (3, None));
        let page = keyset.page(ids.clone(), |id| (at, *id));
        let cursor = page.next_cursor.expect("a third row means a next page");

        let next = ListQuery::<NewestFirst>::new(2, Some(&cursor)).unwrap();
        assert_eq!(next.keyset::<chrono::DateTime<chrono::Utc>>().unwrap().after, Some((at, ids[1])));
        let reversed = ListQuery::<OldestFirst>::new(2, Some(&cursor)).unwrap_err();
        assert_eq!(
            field_of(&reversed),
            (422, vec!["cursor".to_string()]),
            "newest-first cursor in an oldest-first list"
        );
        assert_eq!(field_of(&ListQuery::<OldestFirst>::new(0, None).unwrap_err()).1, ["limit"]);

        // The cursor format before this one: `{created_at, id}`.
        let old = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&serde_json::json!({"created_at": at, "id": ids[0]})).unwrap());
        let err = ListQuery::<NewestFirst>::parse(&format!("cursor={old}")).unwrap_err();
        assert_eq!(field_of(&err), (422, vec!["cursor".to_string()]));
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

        let mut op = paperclip::v2::models::DefaultOperationRaw::default();
        ListQuery::<OldestFirst>::update_parameter(&mut op);
        let json = serde_json::to_value(&op.parameters).unwrap();
        let names: Vec<&str> = json.as_array().unwrap().iter().filter_map(|p| p["name"].as_str()).collect();
        assert_eq!(names, ["limit", "cursor"], "a fixed order documents no sort");
    }
}
