// Tables this module owns. Tenant tables resolve through the tenant transaction's search_path;
// control-schema tables are schema-qualified.

diesel::table! {
    users (id) {
        id -> Uuid,
        kind -> Text,
        email -> Text,
        name -> Text,
        password_hash -> Nullable<Text>,
        email_verified_at -> Nullable<Timestamptz>,
        disabled_at -> Nullable<Timestamptz>,
        credentials_changed_at -> Timestamptz,
        locale -> Nullable<Text>,
        phone -> Nullable<Text>,
        created_at -> Timestamptz,
        created_by -> Text,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    roles (id) {
        id -> Uuid,
        key -> Text,
        name -> Text,
        builtin -> Bool,
        created_at -> Timestamptz,
        created_by -> Text,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
    }
}

diesel::table! {
    role_permissions (role_id, permission) {
        role_id -> Uuid,
        permission -> Text,
    }
}

diesel::table! {
    user_roles (user_id, role_id) {
        user_id -> Uuid,
        role_id -> Uuid,
        created_at -> Timestamptz,
        created_by -> Text,
    }
}

diesel::table! {
    sessions (id_hash) {
        id_hash -> Bytea,
        user_id -> Uuid,
        csrf_token -> Text,
        created_at -> Timestamptz,
        last_seen_at -> Timestamptz,
        expires_at -> Timestamptz,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        credentials_generation -> Int8,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Uuid,
        token_hash -> Bytea,
        family_id -> Uuid,
        user_id -> Uuid,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Uuid,
        name -> Text,
        prefix -> Text,
        key_hash -> Bytea,
        scopes -> Array<Text>,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        expires_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        created_by -> Text,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
    }
}

diesel::table! {
    one_time_tokens (token_hash) {
        token_hash -> Bytea,
        user_id -> Uuid,
        purpose -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Uuid,
        occurred_at -> Timestamptz,
        actor -> Text,
        action -> Text,
        subject -> Nullable<Text>,
        ip -> Nullable<Text>,
        details -> Jsonb,
    }
}

diesel::table! {
    agora.operators (id) {
        id -> Uuid,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        disabled_at -> Nullable<Timestamptz>,
        credentials_changed_at -> Timestamptz,
        created_at -> Timestamptz,
        created_by -> Text,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
    }
}

diesel::table! {
    agora.operator_sessions (id_hash) {
        id_hash -> Bytea,
        operator_id -> Uuid,
        csrf_token -> Text,
        created_at -> Timestamptz,
        last_seen_at -> Timestamptz,
        expires_at -> Timestamptz,
        credentials_generation -> Int8,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
    }
}

diesel::joinable!(user_roles -> roles (role_id));
diesel::joinable!(role_permissions -> roles (role_id));
diesel::allow_tables_to_appear_in_same_query!(users, roles, role_permissions, user_roles);

diesel::table! {
    mfa_totp (user_id) {
        user_id -> Uuid,
        secret -> Bytea,
        activated_at -> Nullable<Timestamptz>,
        last_step -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    mfa_recovery_codes (user_id, code_hash) {
        user_id -> Uuid,
        code_hash -> Bytea,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    mfa_challenges (id_hash) {
        id_hash -> Bytea,
        user_id -> Uuid,
        client -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    identity_policy (singleton) {
        singleton -> Bool,
        staff_mfa_required -> Bool,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
    }
}

diesel::table! {
    agora.operator_mfa_totp (operator_id) {
        operator_id -> Uuid,
        secret -> Bytea,
        activated_at -> Nullable<Timestamptz>,
        last_step -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    agora.operator_mfa_recovery_codes (operator_id, code_hash) {
        operator_id -> Uuid,
        code_hash -> Bytea,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    agora.operator_mfa_challenges (id_hash) {
        id_hash -> Bytea,
        operator_id -> Uuid,
        client -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

// A shop's OpenID Connect provider, logins in flight, links awaiting confirmation, and the
// provider identities linked to accounts (`login::oidc`).
diesel::table! {
    oidc_provider (id) {
        id -> Bool,
        issuer_url -> Text,
        client_id -> Text,
        client_secret_encrypted -> Bytea,
        client_secret_nonce -> Bytea,
        account_kind -> Text,
        staff_role -> Nullable<Text>,
        return_path -> Text,
        staff_sso_only -> Bool,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
    }
}

diesel::table! {
    oidc_logins (state_hash) {
        state_hash -> Bytea,
        browser_hash -> Bytea,
        account_kind -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        redirect_uri -> Text,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    oidc_pending_links (token_hash) {
        token_hash -> Bytea,
        user_id -> Uuid,
        issuer -> Text,
        subject -> Text,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    oidc_identities (issuer, subject) {
        issuer -> Text,
        subject -> Text,
        user_id -> Uuid,
        created_at -> Timestamptz,
        last_login_at -> Timestamptz,
    }
}
