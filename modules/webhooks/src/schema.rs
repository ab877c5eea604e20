// Tables this module owns, in each shop's schema (resolved through the tenant transaction's
// search_path).

diesel::table! {
    webhook_endpoints (id) {
        id -> Uuid,
        url -> Text,
        description -> Text,
        event_types -> Array<Text>,
        status -> Text,
        disabled_reason -> Nullable<Text>,
        disabled_at -> Nullable<Timestamptz>,
        secret -> Nullable<Text>,
        previous_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamptz>,
        consecutive_failures -> Int4,
        first_failure_at -> Nullable<Timestamptz>,
        last_failure_at -> Nullable<Timestamptz>,
        last_success_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        created_by -> Text,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
        deleted_at -> Nullable<Timestamptz>,
        secret_sealed -> Nullable<Bytea>,
        previous_secret_sealed -> Nullable<Bytea>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Uuid,
        endpoint_id -> Uuid,
        event_id -> Uuid,
        event_type -> Text,
        trigger -> Text,
        attempt -> Int4,
        request_body -> Text,
        response_status -> Nullable<Int4>,
        response_body -> Nullable<Text>,
        error -> Nullable<Text>,
        duration_ms -> Int4,
        succeeded -> Bool,
        created_at -> Timestamptz,
        created_by -> Text,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::allow_tables_to_appear_in_same_query!(webhook_endpoints, webhook_deliveries);
