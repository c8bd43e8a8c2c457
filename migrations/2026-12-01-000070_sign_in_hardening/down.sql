ALTER TABLE customers DROP COLUMN access_reviewed_by, DROP COLUMN access_reviewed_at, DROP COLUMN mfa_required;
ALTER TABLE sessions DROP CONSTRAINT sessions_revoked_reason_known;
UPDATE sessions SET revoked_reason = 'logout'
    WHERE revoked_reason IN ('idle_timeout', 'ended', 'mfa_changed');
ALTER TABLE sessions ADD CONSTRAINT sessions_revoked_reason_known CHECK (
    revoked_reason IN ('logout', 'refresh_token_reuse', 'password_changed', 'account_unavailable',
        'access_changed', 'customer_suspended_or_portal_disabled', 'max_age_reached')
);
DROP INDEX sessions_user_live;
ALTER TABLE sessions DROP CONSTRAINT sessions_impersonation_complete,
    DROP COLUMN expires_at, DROP COLUMN impersonation_reason, DROP COLUMN impersonator_id,
    DROP COLUMN amr, DROP COLUMN last_used_at;
DROP TABLE sign_in_challenges;
DROP TABLE mfa_recovery_codes;
DROP INDEX users_valid_until;
ALTER TABLE users DROP CONSTRAINT users_mfa_on_has_secret,
    DROP COLUMN expired_at, DROP COLUMN valid_until, DROP COLUMN password_changed_at,
    DROP COLUMN password_change_required, DROP COLUMN mfa_last_step, DROP COLUMN mfa_enabled_at,
    DROP COLUMN mfa_pending_secret, DROP COLUMN mfa_secret;
