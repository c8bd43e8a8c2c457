-- Customer users: the fields of contract section 6, the owner rule, and the indexes the lists use.
ALTER TABLE users
    ADD COLUMN warehouse_address_id uuid,
    ADD COLUMN cost_center_id       uuid,
    -- The ERP's key for this person, unique per customer.
    ADD COLUMN external_id          text,
    -- A reference to another customer's address or cost center is impossible: the keys include
    -- customer_id. Deleting the address or cost center clears only the reference (the user then
    -- falls back to the customer's default address).
    ADD CONSTRAINT users_warehouse_address_fkey FOREIGN KEY (customer_id, warehouse_address_id)
        REFERENCES warehouse_addresses (customer_id, id) ON DELETE SET NULL (warehouse_address_id),
    ADD CONSTRAINT users_cost_center_fkey FOREIGN KEY (customer_id, cost_center_id)
        REFERENCES cost_centers (customer_id, id) ON DELETE SET NULL (cost_center_id),
    ADD CONSTRAINT users_external_id_key UNIQUE (customer_id, external_id);

-- At most one owner per customer, enforced where concurrent requests cannot race past it.
CREATE UNIQUE INDEX users_one_owner ON users (customer_id) WHERE role = 'owner';
CREATE INDEX users_customer_status ON users (customer_id, status, id) WHERE customer_id IS NOT NULL;
CREATE INDEX users_warehouse_address ON users (customer_id, warehouse_address_id)
    WHERE warehouse_address_id IS NOT NULL;
CREATE INDEX users_cost_center ON users (customer_id, cost_center_id) WHERE cost_center_id IS NOT NULL;
-- `q` searches name and e-mail by substring, within a customer and across customers.
CREATE INDEX users_search ON users
    USING gin ((name || ' ' || coalesce(email::text, '')) gin_trgm_ops);

-- Single-use links that let a person choose a password: a reset (forgot password, or an admin's
-- "send reset link") or the first password of a user created with send_mail. Only hashes.
CREATE TABLE password_tokens (
    id         uuid PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text        NOT NULL CHECK (purpose IN ('password_reset', 'set_password')),
    token_hash bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    CONSTRAINT password_tokens_token_hash_key UNIQUE (token_hash)
);

CREATE INDEX password_tokens_user ON password_tokens (user_id, created_at);

-- Mail to send, written in the same transaction as the change that causes it. Workers in every
-- instance claim due rows with FOR UPDATE SKIP LOCKED, so each mail is sent once, and retry with
-- backoff while the mail server is away. `payload` (which may hold a link token) is emptied once
-- the mail is sent or given up.
CREATE TABLE mail_outbox (
    id              uuid PRIMARY KEY,
    customer_id     uuid,
    template        text        NOT NULL,
    recipient       text        NOT NULL,
    payload         jsonb       NOT NULL DEFAULT '{}',
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);

CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE status = 'pending';
