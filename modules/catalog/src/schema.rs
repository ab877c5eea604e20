// Tables this module owns, in each shop's schema (resolved through the tenant transaction's
// search_path). `search_documents` is reached only through the search engine's SQL.

diesel::table! {
    catalog_currencies (currency) {
        currency -> Text,
        created_at -> Timestamptz,
        created_by -> Text,
    }
}

diesel::table! {
    product_types (id) {
        id -> Uuid,
        name -> Text,
        attributes -> Jsonb,
        created_at -> Timestamptz,
        created_by -> Text,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    products (id) {
        id -> Uuid,
        kind -> Text,
        status -> Text,
        publish_at -> Nullable<Timestamptz>,
        unpublish_at -> Nullable<Timestamptz>,
        product_type_id -> Nullable<Uuid>,
        tax_class -> Nullable<Text>,
        name -> Jsonb,
        description -> Jsonb,
        seo_title -> Jsonb,
        seo_description -> Jsonb,
        options -> Jsonb,
        attributes -> Jsonb,
        tags -> Array<Text>,
        sort_name -> Text,
        created_at -> Timestamptz,
        created_by -> Text,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
        deleted_at -> Nullable<Timestamptz>,
        announced_publish_at -> Nullable<Timestamptz>,
        announced_unpublish_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    product_slugs (locale, slug) {
        locale -> Text,
        slug -> Text,
        product_id -> Uuid,
        current -> Bool,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    variants (id) {
        id -> Uuid,
        product_id -> Uuid,
        sku -> Text,
        option_values -> Jsonb,
        barcode -> Nullable<Text>,
        weight_grams -> Nullable<Int4>,
        length_mm -> Nullable<Int4>,
        width_mm -> Nullable<Int4>,
        height_mm -> Nullable<Int4>,
        position -> Int4,
        created_at -> Timestamptz,
        created_by -> Text,
        modified_at -> Timestamptz,
        modified_by -> Text,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    variant_availability (variant_id) {
        variant_id -> Uuid,
        status -> Nullable<Text>,
        preorder_until -> Nullable<Timestamptz>,
        sequence -> Int8,
        modified_at -> Timestamptz,
    }
}

diesel::table! {
    variant_prices (variant_id, price_currency) {
        variant_id -> Uuid,
        price_amount -> Int8,
        price_currency -> Text,
        compare_at_amount -> Nullable<Int8>,
    }
}

diesel::table! {
    product_prices_from (product_id, price_currency) {
        product_id -> Uuid,
        price_currency -> Text,
        price_amount -> Int8,
    }
}

diesel::table! {
    categories (id) {
        id -> Uuid,
        parent_id -> Nullable<Uuid>,
        position -> Int4,
        name -> Jsonb,
        description -> Jsonb,
        slug -> Text,
        created_at -> Timestamptz,
        created_by -> Text,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    product_categories (product_id, category_id) {
        product_id -> Uuid,
        category_id -> Uuid,
    }
}

diesel::table! {
    product_changes (id) {
        id -> Uuid,
        product_id -> Uuid,
        changed_at -> Timestamptz,
        changed_by -> Text,
        action -> Text,
        changes -> Jsonb,
    }
}

diesel::table! {
    search_synonyms (id) {
        id -> Uuid,
        terms -> Array<Text>,
        created_at -> Timestamptz,
        created_by -> Text,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
    }
}

diesel::table! {
    collections (id) {
        id -> Uuid,
        name -> Jsonb,
        description -> Jsonb,
        slug -> Text,
        rule_text -> Nullable<Text>,
        rules -> Nullable<Jsonb>,
        created_at -> Timestamptz,
        created_by -> Text,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    collection_products (collection_id, product_id) {
        collection_id -> Uuid,
        product_id -> Uuid,
        position -> Int4,
    }
}

diesel::table! {
    product_media (id) {
        id -> Uuid,
        product_id -> Uuid,
        variant_id -> Nullable<Uuid>,
        position -> Int4,
        alt -> Jsonb,
        original_key -> Text,
        content_type -> Text,
        width -> Int4,
        height -> Int4,
        byte_size -> Int8,
        thumbnails -> Jsonb,
        status -> Text,
        created_at -> Timestamptz,
        created_by -> Text,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(product_media -> products (product_id));
diesel::joinable!(product_prices_from -> products (product_id));
diesel::joinable!(variants -> products (product_id));
diesel::joinable!(variant_prices -> variants (variant_id));
diesel::allow_tables_to_appear_in_same_query!(
    products,
    product_prices_from,
    product_categories,
    variants,
    variant_prices,
    variant_availability,
    product_slugs,
    categories,
    collection_products,
    product_media,
);
