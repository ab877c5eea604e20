// The customers module's tables, in each shop's schema (created by tenant migration V4, when
// they were identity's; the tables did not move, their owner did).

diesel::table! {
    customer_addresses (id) {
        id -> Uuid,
        user_id -> Uuid,
        name -> Text,
        company -> Nullable<Text>,
        line1 -> Text,
        line2 -> Nullable<Text>,
        city -> Text,
        region -> Nullable<Text>,
        postal_code -> Text,
        country -> Text,
        phone -> Nullable<Text>,
        default_shipping -> Bool,
        default_billing -> Bool,
        created_at -> Timestamptz,
        created_by -> Text,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
        deleted_at -> Nullable<Timestamptz>,
    }
}

// Customer groups (tenant migration V30).
diesel::table! {
    customer_groups (id) {
        id -> Uuid,
        key -> Text,
        name -> Text,
        email_domains -> Array<Text>,
        created_at -> Timestamptz,
        created_by -> Text,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    customer_group_members (group_id, customer_id) {
        group_id -> Uuid,
        customer_id -> Uuid,
        created_at -> Timestamptz,
        created_by -> Text,
    }
}

diesel::joinable!(customer_group_members -> customer_groups (group_id));
diesel::allow_tables_to_appear_in_same_query!(customer_groups, customer_group_members);
