// @generated automatically by Diesel CLI.

diesel::table! {
    api_client_groups (customer_id, api_client_id, group_id) {
        customer_id -> Uuid,
        api_client_id -> Uuid,
        group_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    api_client_tokens (id) {
        customer_id -> Nullable<Uuid>,
        id -> Uuid,
        api_client_id -> Uuid,
        name -> Text,
        token_hash -> Bytea,
        expires_at -> Nullable<Timestamptz>,
        last_used_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        revoked -> Bool,
    }
}

diesel::table! {
    api_clients (id) {
        customer_id -> Nullable<Uuid>,
        id -> Uuid,
        client_id -> Text,
        name -> Text,
        scopes -> Array<Nullable<Text>>,
        status -> Text,
        created_by -> Nullable<Uuid>,
        secret_hash -> Bytea,
        previous_secret_hash -> Nullable<Bytea>,
        previous_secret_valid_until -> Nullable<Timestamptz>,
        last_used_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        data_scope -> Text,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Uuid,
        occurred_at -> Timestamptz,
        actor_id -> Nullable<Uuid>,
        actor_kind -> Nullable<Text>,
        action -> Text,
        target_type -> Text,
        target_id -> Nullable<Uuid>,
        customer_id -> Nullable<Uuid>,
        changes -> Jsonb,
        request_id -> Nullable<Text>,
        client_addr -> Nullable<Text>,
        visible_groups -> Nullable<Array<Nullable<Uuid>>>,
    }
}

diesel::table! {
    cost_centers (customer_id, id) {
        customer_id -> Uuid,
        id -> Uuid,
        code -> Citext,
        name -> Text,
        active -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    customers (id) {
        id -> Uuid,
        name -> Text,
        code -> Citext,
        contact_email -> Nullable<Citext>,
        phone -> Nullable<Text>,
        status -> Text,
        portal_enabled -> Bool,
        self_signup_enabled -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        mfa_required -> Bool,
        access_reviewed_at -> Nullable<Timestamptz>,
        access_reviewed_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    group_members (customer_id, group_id, user_id) {
        customer_id -> Uuid,
        group_id -> Uuid,
        user_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    groups (customer_id, id) {
        customer_id -> Uuid,
        id -> Uuid,
        name -> Citext,
        description -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        external_id -> Nullable<Citext>,
        scim -> Nullable<Jsonb>,
    }
}

diesel::table! {
    idempotency_keys (caller_id, key) {
        caller_id -> Uuid,
        caller_kind -> Text,
        key -> Text,
        fingerprint -> Bytea,
        state -> Text,
        attempt -> Uuid,
        locked_until -> Timestamptz,
        status -> Nullable<Int2>,
        location -> Nullable<Text>,
        etag -> Nullable<Text>,
        content_type -> Nullable<Text>,
        body -> Nullable<Bytea>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    invitations (customer_id, id) {
        customer_id -> Uuid,
        id -> Uuid,
        user_id -> Nullable<Uuid>,
        email -> Citext,
        role -> Text,
        permissions -> Array<Nullable<Text>>,
        group_ids -> Array<Nullable<Uuid>>,
        warehouse_address_id -> Nullable<Uuid>,
        cost_center_id -> Nullable<Uuid>,
        status -> Text,
        token_hash -> Bytea,
        expires_at -> Timestamptz,
        invited_by -> Nullable<Uuid>,
        send_count -> Int4,
        last_sent_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        data_scope -> Text,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Int8,
        email -> Citext,
        client_addr -> Text,
        failed_at -> Timestamptz,
    }
}

diesel::table! {
    login_emails (email) {
        email -> Citext,
        user_id -> Uuid,
        customer_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> Uuid,
        customer_id -> Nullable<Uuid>,
        template -> Text,
        recipient -> Text,
        payload -> Jsonb,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        sent_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    mail_throttle (recipient, kind) {
        recipient -> Citext,
        kind -> Text,
        last_sent_at -> Timestamptz,
    }
}

diesel::table! {
    mfa_recovery_codes (id) {
        id -> Uuid,
        user_id -> Uuid,
        code_hash -> Bytea,
        created_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    password_tokens (id) {
        id -> Uuid,
        user_id -> Uuid,
        purpose -> Text,
        token_hash -> Bytea,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Uuid,
        session_id -> Uuid,
        token_hash -> Bytea,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    scim_request_counts (api_client_id, window_start) {
        api_client_id -> Uuid,
        window_start -> Timestamptz,
        requests -> Int4,
    }
}

diesel::table! {
    sessions (id) {
        id -> Uuid,
        user_id -> Uuid,
        client_addr -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        created_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        revoked_reason -> Nullable<Text>,
        last_used_at -> Timestamptz,
        amr -> Array<Text>,
        impersonator_id -> Nullable<Uuid>,
        impersonation_reason -> Nullable<Text>,
        expires_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    sign_in_challenges (id) {
        id -> Uuid,
        user_id -> Uuid,
        token_hash -> Bytea,
        purpose -> Text,
        amr -> Array<Text>,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        algorithm -> Text,
        private_key -> Bytea,
        public_key -> Bytea,
        created_at -> Timestamptz,
        retired_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    signup_requests (customer_id, id) {
        id -> Uuid,
        customer_id -> Uuid,
        email -> Citext,
        name -> Text,
        password_hash -> Text,
        token_hash -> Bytea,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        kind -> Text,
        customer_id -> Nullable<Uuid>,
        email -> Nullable<Citext>,
        name -> Text,
        phone -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        role -> Text,
        status -> Text,
        login_enabled -> Bool,
        customer_ids -> Array<Nullable<Uuid>>,
        last_login_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        permissions -> Array<Nullable<Text>>,
        warehouse_address_id -> Nullable<Uuid>,
        cost_center_id -> Nullable<Uuid>,
        external_id -> Nullable<Citext>,
        data_scope -> Text,
        user_name -> Nullable<Citext>,
        scim -> Nullable<Jsonb>,
        mfa_secret -> Nullable<Bytea>,
        mfa_pending_secret -> Nullable<Bytea>,
        mfa_enabled_at -> Nullable<Timestamptz>,
        mfa_last_step -> Nullable<Int8>,
        password_change_required -> Bool,
        password_changed_at -> Nullable<Timestamptz>,
        valid_until -> Nullable<Timestamptz>,
        expired_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    warehouse_addresses (customer_id, id) {
        customer_id -> Uuid,
        id -> Uuid,
        label -> Text,
        line1 -> Text,
        line2 -> Nullable<Text>,
        city -> Text,
        region -> Nullable<Text>,
        postal_code -> Nullable<Text>,
        country -> Text,
        contact_name -> Nullable<Text>,
        phone -> Nullable<Text>,
        group_id -> Nullable<Uuid>,
        is_default -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Uuid,
        endpoint_id -> Uuid,
        event_id -> Uuid,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        last_attempt_at -> Nullable<Timestamptz>,
        last_response_status -> Nullable<Int4>,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Uuid,
        customer_id -> Nullable<Uuid>,
        url -> Text,
        event_types -> Nullable<Array<Nullable<Text>>>,
        status -> Text,
        disabled_reason -> Nullable<Text>,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamptz>,
        consecutive_failures -> Int4,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_events (id) {
        id -> Uuid,
        customer_id -> Nullable<Uuid>,
        event_type -> Text,
        payload -> Text,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(api_client_tokens -> api_clients (api_client_id));
diesel::joinable!(api_clients -> customers (customer_id));
diesel::joinable!(cost_centers -> customers (customer_id));
diesel::joinable!(groups -> customers (customer_id));
diesel::joinable!(invitations -> customers (customer_id));
diesel::joinable!(mfa_recovery_codes -> users (user_id));
diesel::joinable!(password_tokens -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(scim_request_counts -> api_clients (api_client_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(sign_in_challenges -> users (user_id));
diesel::joinable!(signup_requests -> customers (customer_id));
diesel::joinable!(users -> customers (customer_id));
diesel::joinable!(warehouse_addresses -> customers (customer_id));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(webhook_deliveries -> webhook_events (event_id));
diesel::joinable!(webhook_endpoints -> customers (customer_id));
diesel::joinable!(webhook_events -> customers (customer_id));

diesel::allow_tables_to_appear_in_same_query!(
    api_client_groups,
    api_client_tokens,
    api_clients,
    audit_events,
    cost_centers,
    customers,
    group_members,
    groups,
    idempotency_keys,
    invitations,
    login_emails,
    login_failures,
    mail_outbox,
    mail_throttle,
    mfa_recovery_codes,
    password_tokens,
    refresh_tokens,
    scim_request_counts,
    sessions,
    sign_in_challenges,
    signing_keys,
    signup_requests,
    users,
    warehouse_addresses,
    webhook_deliveries,
    webhook_endpoints,
    webhook_events,
);
