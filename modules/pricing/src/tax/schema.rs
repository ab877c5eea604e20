// Tables of the tax feature, in each shop's schema (migrations/tenant/V29__taxes.sql).

diesel::table! {
    tax_classes (id) {
        id -> Uuid,
        name -> Text,
        kind -> Text,
        created_at -> Timestamptz,
        created_by -> Text,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    tax_settings (id) {
        id -> Bool,
        prices_include_tax -> Bool,
        cross_border -> Text,
        rounding -> Text,
        shipping_tax -> Text,
        shipping_tax_class_id -> Nullable<Uuid>,
        origin_country -> Nullable<Text>,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
    }
}

diesel::table! {
    tax_zones (id) {
        id -> Uuid,
        name -> Text,
        country -> Text,
        region -> Nullable<Text>,
        postcodes -> Array<Text>,
        shipping_taxable -> Bool,
        created_at -> Timestamptz,
        created_by -> Text,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    tax_rates (id) {
        id -> Uuid,
        zone_id -> Uuid,
        tax_class_id -> Uuid,
        position -> Int4,
        name -> Text,
        rate_ppm -> Int4,
    }
}

diesel::table! {
    product_tax_classes (product_id) {
        product_id -> Uuid,
        tax_class_id -> Uuid,
        created_at -> Timestamptz,
        created_by -> Text,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
    }
}

diesel::table! {
    customer_tax_exemptions (customer_id) {
        customer_id -> Uuid,
        vat_id -> Text,
        country -> Text,
        created_at -> Timestamptz,
        created_by -> Text,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
    }
}

diesel::joinable!(tax_rates -> tax_zones (zone_id));
diesel::allow_tables_to_appear_in_same_query!(tax_classes, tax_zones, tax_rates, product_tax_classes);
