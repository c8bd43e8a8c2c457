-- Sign-in hardening (issue 16): TOTP with recovery codes, the sign-in steps between a correct
-- password and a token pair, sessions people can see, passwords set by someone else, accounts
-- valid until a date, support impersonation and the access review.

-- TOTP: the secret is sealed with MFA_ENCRYPTION_KEY (identity::mfa), never stored in clear.
-- `mfa_pending_secret` is an enrolment not yet confirmed; `mfa_secret` with `mfa_enabled_at`
-- is MFA on. `mfa_last_step` is the last accepted time step: a code is accepted once.
ALTER TABLE users
    ADD COLUMN mfa_secret bytea,
    ADD COLUMN mfa_pending_secret bytea,
    ADD COLUMN mfa_enabled_at timestamptz,
    ADD COLUMN mfa_last_step bigint,
    ADD COLUMN password_change_required boolean NOT NULL DEFAULT false,
    ADD COLUMN password_changed_at timestamptz,
    ADD COLUMN valid_until timestamptz,
    -- Set at the first refused use after `valid_until`: the moment it is audited, once.
    ADD COLUMN expired_at timestamptz,
    ADD CONSTRAINT users_mfa_on_has_secret CHECK ((mfa_enabled_at IS NULL) = (mfa_secret IS NULL));

-- Passwords set so far were set when the account was (good enough for "older than N days").
UPDATE users SET password_changed_at = created_at WHERE password_hash IS NOT NULL;

CREATE INDEX users_valid_until ON users (customer_id, valid_until) WHERE valid_until IS NOT NULL;

CREATE TABLE mfa_recovery_codes (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at timestamptz
);
CREATE INDEX mfa_recovery_codes_user ON mfa_recovery_codes (user_id);

-- The short-lived tokens of the sign-in steps after a correct password: a second factor, a
-- password change, an MFA enrolment. One use each; `amr` is what the person has proven so far.
CREATE TABLE sign_in_challenges (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE,
    purpose text NOT NULL CHECK (purpose IN ('mfa', 'password_change', 'mfa_enrolment')),
    amr text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX sign_in_challenges_user ON sign_in_challenges (user_id);
CREATE INDEX sign_in_challenges_expires ON sign_in_challenges (expires_at);

-- Sessions: when last used (idle timeout, the session list), how the person signed in, and
-- for a support session who acts and why; such a session has a hard end and no refresh token.
ALTER TABLE sessions
    ADD COLUMN last_used_at timestamptz,
    ADD COLUMN amr text[] NOT NULL DEFAULT '{pwd}',
    ADD COLUMN impersonator_id uuid REFERENCES users (id) ON DELETE CASCADE,
    ADD COLUMN impersonation_reason text,
    ADD COLUMN expires_at timestamptz,
    ADD CONSTRAINT sessions_impersonation_complete CHECK (
        (impersonator_id IS NULL) = (impersonation_reason IS NULL)
        AND (impersonator_id IS NULL OR expires_at IS NOT NULL)
    );
UPDATE sessions SET last_used_at = created_at;
ALTER TABLE sessions ALTER COLUMN last_used_at SET NOT NULL, ALTER COLUMN last_used_at SET DEFAULT now();
CREATE INDEX sessions_user_live ON sessions (user_id, created_at) WHERE revoked_at IS NULL;

ALTER TABLE sessions DROP CONSTRAINT sessions_revoked_reason_known;
ALTER TABLE sessions ADD CONSTRAINT sessions_revoked_reason_known CHECK (
    revoked_reason IN (
        'logout',
        'refresh_token_reuse',
        'password_changed',
        'account_unavailable',
        'access_changed',
        'customer_suspended_or_portal_disabled',
        'max_age_reached',
        'idle_timeout',
        'ended',
        'mfa_changed'
    )
);

-- Customers: MFA enforced for their people; the last access review.
ALTER TABLE customers
    ADD COLUMN mfa_required boolean NOT NULL DEFAULT false,
    ADD COLUMN access_reviewed_at timestamptz,
    ADD COLUMN access_reviewed_by uuid REFERENCES users (id) ON DELETE SET NULL;
