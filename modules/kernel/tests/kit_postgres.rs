//! The kit's value types through a real PostgreSQL: written with diesel, read back, and refused
//! by the column's `CHECK` or by `FromSql` when the stored text is not theirs.
//!
//! Uses TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres); everything happens
//! in a temporary table inside a transaction that is rolled back.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed unwrap is a failed test

use agora_kernel::money::{Currency, Money};
use agora_kernel::values::{LocalizedText, Quantity, Sku};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

agora_kernel::typed_id! {
    /// A product, as the catalog will declare it.
    pub ProductId
}

agora_kernel::text_enum! {
    pub enum ProductStatus {
        Draft = "draft",
        Active = "active",
    }
}

diesel::table! {
    kit_probe (id) {
        id -> Uuid,
        status -> Text,
        price_amount -> BigInt,
        price_currency -> Text,
        sku -> Text,
        quantity -> Integer,
        name -> Jsonb,
    }
}

#[derive(Debug, PartialEq, Queryable)]
struct Probe {
    id: ProductId,
    status: ProductStatus,
    price: Money,
    sku: Sku,
    quantity: Quantity,
    name: LocalizedText,
}

async fn connect() -> AsyncPgConnection {
    let url =
        std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut conn = AsyncPgConnection::establish(&url).await.unwrap_or_else(|e| panic!("PostgreSQL at {url}: {e}"));
    conn.begin_test_transaction().await.unwrap();
    let ddl = format!(
        "CREATE TEMP TABLE kit_probe (
            id uuid PRIMARY KEY,
            status text NOT NULL {},
            price_amount bigint NOT NULL,
            price_currency text NOT NULL CHECK (price_currency ~ '^[A-Z]{{3}}$'),
            sku text NOT NULL,
            quantity integer NOT NULL CHECK (quantity > 0),
            name jsonb NOT NULL
        )",
        ProductStatus::sql_check("status")
    );
    conn.batch_execute(&ddl).await.unwrap();
    conn
}

fn columns() -> (
    kit_probe::id,
    kit_probe::status,
    (kit_probe::price_amount, kit_probe::price_currency),
    kit_probe::sku,
    kit_probe::quantity,
    kit_probe::name,
) {
    use kit_probe::*;
    (id, status, (price_amount, price_currency), sku, quantity, name)
}

#[tokio::test]
async fn every_kit_value_round_trips_through_postgres() {
    let mut conn = connect().await;
    let written = Probe {
        id: ProductId::new_v7(),
        status: ProductStatus::Active,
        price: Money::parse_major("1.234", Currency::KWD).unwrap(),
        sku: Sku::parse("TSHIRT-RED-M").unwrap(),
        quantity: Quantity::new(3).unwrap(),
        name: serde_json::from_str(r#"{"en": "Shirt", "de-CH": "Hemd"}"#).unwrap(),
    };
    diesel::insert_into(kit_probe::table)
        .values((
            kit_probe::id.eq(written.id),
            kit_probe::status.eq(written.status),
            kit_probe::price_amount.eq(written.price.amount),
            kit_probe::price_currency.eq(written.price.currency),
            kit_probe::sku.eq(&written.sku),
            kit_probe::quantity.eq(written.quantity),
            kit_probe::name.eq(&written.name),
        ))
        .execute(&mut conn)
        .await
        .unwrap();

    let read: Probe = kit_probe::table.select(columns()).first(&mut conn).await.unwrap();
    assert_eq!(read, written);

    // The typed values also work as filters, and the stored text is the plain value.
    let (status, currency, name): (String, String, serde_json::Value) = kit_probe::table
        .filter(kit_probe::id.eq(written.id))
        .filter(kit_probe::status.eq(ProductStatus::Active))
        .select((kit_probe::status, kit_probe::price_currency, kit_probe::name))
        .first(&mut conn)
        .await
        .unwrap();
    assert_eq!((status.as_str(), currency.as_str()), ("active", "KWD"));
    assert_eq!(name, serde_json::json!({"en": "Shirt", "de-CH": "Hemd"}));
    assert_eq!(read.price.to_major_string(), "1.234");
}

#[tokio::test]
async fn the_check_constraint_from_text_enum_refuses_other_values() {
    let mut conn = connect().await;
    let refused = conn
        .batch_execute(&format!(
            "INSERT INTO kit_probe VALUES ('{}', 'deleted', 1, 'USD', 'A', 1, '{{}}')",
            ProductId::new_v7()
        ))
        .await;
    let err = refused.expect_err("a status outside the enum is refused by the database");
    assert!(err.to_string().contains("check constraint"), "{err}");
}

#[tokio::test]
async fn rows_the_code_cannot_read_are_errors_not_panics() {
    let mut conn = connect().await;
    // Written behind the code's back (an old row, a hand-made fix): a currency we don't sell in,
    // a SKU with a space, a quantity past the maximum.
    conn.batch_execute(&format!(
        "INSERT INTO kit_probe VALUES ('{}', 'draft', 1, 'XAU', 'A B', 2000000, '{{\"en\": \"x\"}}')",
        ProductId::new_v7()
    ))
    .await
    .unwrap();
    let read = kit_probe::table.select(columns()).load::<Probe>(&mut conn).await;
    let err = read.expect_err("a currency outside the table does not load");
    assert!(format!("{err:?}").contains("XAU"), "{err:?}");
    let sku = kit_probe::table.select(kit_probe::sku).first::<Sku>(&mut conn).await;
    assert!(sku.is_err(), "a SKU with a space does not load");
    let quantity = kit_probe::table.select(kit_probe::quantity).first::<Quantity>(&mut conn).await;
    assert!(quantity.is_err(), "a quantity past the maximum does not load");
    // Postgres keeps the row; only the code refuses to take it as valid.
    let status = kit_probe::table.select(kit_probe::status).first::<ProductStatus>(&mut conn).await.unwrap();
    assert_eq!(status, ProductStatus::Draft);
}

diesel::table! {
    kit_listed (id) {
        id -> Uuid,
        price -> BigInt,
    }
}

agora_kernel::text_enum! {
    pub enum ProbeSort { Newest = "id", Price = "price" }
}

impl agora_kernel::lists::SortKey for ProbeSort {
    const DEFAULT: agora_kernel::lists::Sort<Self> = agora_kernel::lists::Sort::ascending(ProbeSort::Price);
}

/// One page the way a module's store will write it: the kernel's keyset filter and order.
async fn price_page(
    conn: &mut AsyncPgConnection,
    query: &agora_kernel::lists::ListQuery<ProbeSort>,
) -> Vec<(uuid::Uuid, i64)> {
    let keyset = query.keyset::<i64>().unwrap();
    let q = kit_listed::table.select((kit_listed::id, kit_listed::price)).limit(keyset.fetch_limit()).into_boxed();
    keyset.apply(q, kit_listed::price, kit_listed::id).load(conn).await.unwrap()
}

#[tokio::test]
async fn keyset_pages_walk_every_row_once_in_order_despite_ties() {
    let mut conn = connect().await;
    conn.batch_execute("CREATE TEMP TABLE kit_listed (id uuid PRIMARY KEY, price bigint NOT NULL)").await.unwrap();
    // Three prices for 23 rows: most pages start in the middle of a run of equal prices.
    let rows: Vec<(uuid::Uuid, i64)> = (0..23).map(|i| (uuid::Uuid::new_v4(), [300, 100, 200][i % 3])).collect();
    diesel::insert_into(kit_listed::table)
        .values(
            rows.iter().map(|(id, price)| (kit_listed::id.eq(*id), kit_listed::price.eq(*price))).collect::<Vec<_>>(),
        )
        .execute(&mut conn)
        .await
        .unwrap();

    for sort in ["price", "-price"] {
        let mut expected = rows.clone();
        expected.sort_by_key(|(id, price)| (*price, *id));
        if sort == "-price" {
            expected.reverse();
        }
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..10 {
            let query_string = match &cursor {
                Some(c) => format!("limit=4&sort={sort}&cursor={c}"),
                None => format!("limit=4&sort={sort}"),
            };
            let query = agora_kernel::lists::ListQuery::<ProbeSort>::parse(&query_string).unwrap();
            let page = query.page(price_page(&mut conn, &query).await, |(id, price)| (serde_json::json!(price), *id));
            assert!(page.items.len() <= 4);
            seen.extend(page.items);
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        assert!(cursor.is_none(), "23 rows in pages of 4 end within 6 pages");
        assert_eq!(seen, expected, "sort={sort}: every row once, in (price, id) order");
    }
}
