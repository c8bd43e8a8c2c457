-- API clients: machine credentials of one customer (customer_id set) or of the platform
-- (customer_id NULL). A client authenticates with its secret at /v1/oauth/token, or presents one
-- of its long-lived tokens; only SHA-256 hashes of either are stored.
CREATE TABLE api_clients (
    customer_id                 uuid REFERENCES customers (id) ON DELETE CASCADE,
    id                          uuid        NOT NULL PRIMARY KEY,
    -- The public id ("dgc_..."), sent as the OAuth client_id.
    client_id                   text        NOT NULL UNIQUE,
    name                        text        NOT NULL,
    -- Permission names; never more than its creator held.
    scopes                      text[]      NOT NULL DEFAULT '{}',
    status                      text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
    -- The person who created it (kept when that person is deleted: the audit log names it).
    created_by                  uuid,
    secret_hash                 bytea       NOT NULL,
    -- The secret before the last rotation, accepted until previous_secret_valid_until.
    previous_secret_hash        bytea,
    previous_secret_valid_until timestamptz,
    last_used_at                timestamptz,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    -- Lets group memberships name (customer, client), so a client only joins its own customer's groups.
    CONSTRAINT api_clients_customer_id_id_key UNIQUE (customer_id, id)
);

CREATE INDEX api_clients_customer ON api_clients (customer_id, created_at, id);

-- A client's data scope, with the same meaning as a person's groups (group_members).
CREATE TABLE api_client_groups (
    customer_id   uuid        NOT NULL,
    api_client_id uuid        NOT NULL,
    group_id      uuid        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, api_client_id, group_id),
    CONSTRAINT api_client_groups_client_fkey FOREIGN KEY (customer_id, api_client_id)
        REFERENCES api_clients (customer_id, id) ON DELETE CASCADE,
    -- A group a client is limited to cannot vanish under it: its client would see more.
    CONSTRAINT api_client_groups_group_fkey FOREIGN KEY (customer_id, group_id)
        REFERENCES groups (customer_id, id) ON DELETE RESTRICT
);

CREATE INDEX api_client_groups_group ON api_client_groups (customer_id, group_id);

-- Long-lived bearer tokens of a client ("dgt_..."), for systems that can only paste one.
CREATE TABLE api_client_tokens (
    customer_id   uuid,
    id            uuid        NOT NULL PRIMARY KEY,
    api_client_id uuid        NOT NULL REFERENCES api_clients (id) ON DELETE CASCADE,
    name          text        NOT NULL,
    token_hash    bytea       NOT NULL UNIQUE,
    expires_at    timestamptz,
    last_used_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked       boolean     NOT NULL DEFAULT false
);

CREATE INDEX api_client_tokens_client ON api_client_tokens (customer_id, api_client_id, created_at);
