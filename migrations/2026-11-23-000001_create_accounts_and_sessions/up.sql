-- The people who sign in. Staff and (from the users issue on) customer users share one table so
-- that an e-mail address is unique across both kinds, case-insensitively (citext), and so that
-- sessions, rate limits and tokens have one subject type.
CREATE EXTENSION IF NOT EXISTS citext;

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    kind          text        NOT NULL CHECK (kind IN ('staff', 'customer_user')),
    -- Set for customer users (the foreign key arrives with the customers table).
    customer_id   uuid,
    email         citext,
    name          text        NOT NULL,
    phone         text,
    password_hash text,
    role          text        NOT NULL,
    status        text        NOT NULL DEFAULT 'active'
                              CHECK (status IN ('invited', 'active', 'deactivated')),
    login_enabled boolean     NOT NULL DEFAULT true,
    -- A dispatcher's customer scope; empty means every customer.
    customer_ids  uuid[]      NOT NULL DEFAULT '{}',
    last_login_at timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_kind_matches_customer CHECK ((kind = 'staff') = (customer_id IS NULL)),
    CONSTRAINT users_role_matches_kind CHECK (
        (kind = 'staff' AND role IN ('platform_admin', 'dispatcher'))
        OR (kind = 'customer_user' AND role IN ('owner', 'admin', 'user'))
    ),
    CONSTRAINT users_login_needs_email CHECK (NOT login_enabled OR email IS NOT NULL),
    CONSTRAINT users_staff_have_email CHECK (kind = 'customer_user' OR email IS NOT NULL)
);

CREATE UNIQUE INDEX users_email_key ON users (email);

-- One sign-in: the family of refresh tokens that rotation produces. Access tokens name it in
-- their `sid` claim, so revoking the session ends them at once inside dockgate.
CREATE TABLE sessions (
    id             uuid PRIMARY KEY,
    user_id        uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_addr    text,
    user_agent     text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz,
    revoked_reason text
);

CREATE INDEX sessions_user_id_live ON sessions (user_id) WHERE revoked_at IS NULL;

-- Refresh tokens are stored only as SHA-256 hashes of 256-bit random values.
CREATE TABLE refresh_tokens (
    id         uuid PRIMARY KEY,
    session_id uuid        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    token_hash bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    -- Set when the token was exchanged; presenting it again is reuse and revokes the session.
    used_at    timestamptz,
    CONSTRAINT refresh_tokens_token_hash_key UNIQUE (token_hash)
);

CREATE INDEX refresh_tokens_session_id ON refresh_tokens (session_id);

-- Ed25519 signing keys, shared by every instance. The newest unretired key signs; retired keys
-- stay published in the JWKS until the tokens they signed have expired.
CREATE TABLE signing_keys (
    kid         text PRIMARY KEY,
    algorithm   text        NOT NULL DEFAULT 'EdDSA' CHECK (algorithm = 'EdDSA'),
    private_key bytea       NOT NULL,
    public_key  bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    retired_at  timestamptz
);

-- Failed sign-ins, counted per account, per client address and per both within a window, so
-- every instance enforces the same limits.
CREATE TABLE login_failures (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email       citext      NOT NULL,
    client_addr text        NOT NULL,
    failed_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX login_failures_email ON login_failures (email, failed_at);
CREATE INDEX login_failures_client_addr ON login_failures (client_addr, failed_at);
