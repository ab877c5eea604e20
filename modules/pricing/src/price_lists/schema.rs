// The price lists' tables, in each shop's schema (tenant migration V31).

diesel::table! {
    price_lists (id) {
        id -> Uuid,
        name -> Text,
        currency -> Text,
        customer_groups -> Array<Uuid>,
        starts_at -> Nullable<Timestamptz>,
        ends_at -> Nullable<Timestamptz>,
        priority -> Int4,
        status -> Text,
        created_at -> Timestamptz,
        created_by -> Text,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    price_list_entries (price_list_id, variant_id) {
        price_list_id -> Uuid,
        variant_id -> Uuid,
        price_amount -> Int8,
        tiers -> Jsonb,
        sale -> Bool,
        created_at -> Timestamptz,
        created_by -> Text,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
    }
}

diesel::table! {
    currency_rates (id) {
        id -> Uuid,
        from_currency -> Text,
        to_currency -> Text,
        rate_micros -> Int8,
        rounding -> Text,
        created_at -> Timestamptz,
        created_by -> Text,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
    }
}

diesel::joinable!(price_list_entries -> price_lists (price_list_id));
diesel::allow_tables_to_appear_in_same_query!(price_lists, price_list_entries);
