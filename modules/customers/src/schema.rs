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
