// Tables this module owns. Control-schema tables are schema-qualified; tenant tables are
// resolved through the tenant transaction's search_path.

diesel::table! {
    agora.tenants (id) {
        id -> Uuid,
        slug -> Text,
        name -> Text,
        status -> Text,
        schema_name -> Text,
        schema_version -> Int4,
        created_at -> Timestamptz,
        created_by -> Text,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
        owner_email -> Nullable<Text>,
        owner_name -> Nullable<Text>,
    }
}

diesel::table! {
    agora.tenant_domains (domain) {
        domain -> Text,
        tenant_id -> Uuid,
        created_at -> Timestamptz,
        created_by -> Text,
        is_primary -> Bool,
    }
}

diesel::table! {
    shop_settings (id) {
        id -> Uuid,
        singleton -> Bool,
        name -> Text,
        default_currency -> Text,
        locales -> Array<Text>,
        default_locale -> Text,
        timezone -> Text,
        created_at -> Timestamptz,
        created_by -> Text,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
        logo_id -> Nullable<Uuid>,
        logo_key -> Nullable<Text>,
        logo_content_type -> Nullable<Text>,
        brand_colour -> Nullable<Text>,
        country -> Nullable<Text>,
    }
}

diesel::joinable!(tenant_domains -> tenants (tenant_id));
diesel::allow_tables_to_appear_in_same_query!(tenants, tenant_domains);
