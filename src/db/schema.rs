// @generated automatically by Diesel CLI.

diesel::table! {
    login_failures (id) {
        id -> Int8,
        email -> Citext,
        client_addr -> Text,
        failed_at -> Timestamptz,
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
    sessions (id) {
        id -> Uuid,
        user_id -> Uuid,
        client_addr -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        created_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        revoked_reason -> Nullable<Text>,
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
    }
}

diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(sessions -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(login_failures, refresh_tokens, sessions, signing_keys, users,);
