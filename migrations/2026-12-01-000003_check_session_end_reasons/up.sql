-- Why a session ended is a closed set (identity::sessions::EndReason), like every other text
-- column that names a state: the database refuses a value the code does not know. Every value
-- written so far is one of these (the reasons were constants with the same spellings).
ALTER TABLE sessions ADD CONSTRAINT sessions_revoked_reason_known CHECK (
    revoked_reason IN (
        'logout',
        'refresh_token_reuse',
        'password_changed',
        'account_unavailable',
        'access_changed',
        'customer_suspended_or_portal_disabled',
        'max_age_reached'
    )
);
