-- Invitations: an invited person is a user with status 'invited' plus this record of the link.
-- 'expired' is not stored: a pending invitation whose expires_at has passed is expired.
CREATE TABLE invitations (
    customer_id          uuid        NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    id                   uuid        NOT NULL,
    -- The invited user; cleared when it is removed (revoke), the record stays.
    user_id              uuid,
    email                citext      NOT NULL,
    role                 text        NOT NULL CHECK (role IN ('owner', 'admin', 'user')),
    permissions          text[]      NOT NULL DEFAULT '{}',
    group_ids            uuid[]      NOT NULL DEFAULT '{}',
    warehouse_address_id uuid,
    cost_center_id       uuid,
    status               text        NOT NULL DEFAULT 'pending'
                                     CHECK (status IN ('pending', 'accepted', 'revoked')),
    -- SHA-256 of the live link's token; a resend replaces it, so the old link dies.
    token_hash           bytea       NOT NULL,
    expires_at           timestamptz NOT NULL,
    invited_by           uuid,
    send_count           integer     NOT NULL DEFAULT 1,
    last_sent_at         timestamptz NOT NULL,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    PRIMARY KEY (customer_id, id),
    CONSTRAINT invitations_token_hash_key UNIQUE (token_hash),
    CONSTRAINT invitations_user_fkey FOREIGN KEY (customer_id, user_id)
        REFERENCES users (customer_id, id) ON DELETE SET NULL (user_id)
);

CREATE INDEX invitations_customer_status ON invitations (customer_id, status, id);
CREATE INDEX invitations_email ON invitations (email);
CREATE INDEX invitations_user ON invitations (customer_id, user_id) WHERE user_id IS NOT NULL;

-- Self sign-up requests waiting for their e-mailed verification link. The password is hashed
-- when the request arrives, so the verification needs only the token.
CREATE TABLE signup_requests (
    id            uuid PRIMARY KEY,
    customer_id   uuid        NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    email         citext      NOT NULL,
    name          text        NOT NULL,
    password_hash text        NOT NULL,
    token_hash    bytea       NOT NULL,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz,
    CONSTRAINT signup_requests_token_hash_key UNIQUE (token_hash)
);

CREATE INDEX signup_requests_customer ON signup_requests (customer_id, created_at);
