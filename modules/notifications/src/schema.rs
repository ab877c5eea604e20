// Tables this module owns, all in the tenant's schema (resolved through the tenant
// transaction's search_path, so they are never schema-qualified here).

diesel::table! {
    notification_templates (id) {
        id -> Uuid,
        template_key -> Text,
        locale -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Nullable<Text>,
        created_at -> Timestamptz,
        created_by -> Text,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
    }
}

diesel::table! {
    notification_messages (id) {
        id -> Uuid,
        template_key -> Text,
        locale -> Text,
        category -> Text,
        sender -> Text,
        recipient -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Nullable<Text>,
        status -> Text,
        attempts -> Int4,
        last_error -> Nullable<Text>,
        provider_message_id -> Nullable<Text>,
        sent_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        created_by -> Text,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
        recipient_account -> Nullable<Text>,
        sealed_content -> Nullable<Bytea>,
    }
}

diesel::table! {
    notification_preferences (id) {
        id -> Uuid,
        email -> Text,
        marketing_opt_out -> Bool,
        created_at -> Timestamptz,
        created_by -> Text,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
    }
}

diesel::table! {
    staff_alert_subscriptions (staff_id) {
        staff_id -> Uuid,
        low_stock -> Bool,
        created_at -> Timestamptz,
        created_by -> Text,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
    }
}

diesel::table! {
    staff_alerts_sent (event_id, staff_id) {
        event_id -> Uuid,
        staff_id -> Uuid,
        message_id -> Uuid,
        created_at -> Timestamptz,
    }
}
