-- Idempotency-Key (draft-ietf-httpapi-idempotency-key-header, Stripe's semantics): one row per
-- caller and key. A first use inserts it `in_flight` (locked for a minute, `attempt` naming the
-- request that holds it); the creating transaction itself completes it with the exact response,
-- so a crash between the change and the record cannot create twice; a replay answers from it.
CREATE TABLE idempotency_keys (
    caller_id    uuid        NOT NULL,
    -- Whose id `caller_id` is (a person today; API clients later), for people reading the table.
    caller_kind  text        NOT NULL,
    key          text        NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    -- SHA-256 over method, route, path parameters and the (canonical JSON) body.
    fingerprint  bytea       NOT NULL CHECK (length(fingerprint) = 32),
    state        text        NOT NULL CHECK (state IN ('in_flight', 'completed')),
    -- The request holding an in-flight key; a retry after `locked_until` takes it over with a
    -- new attempt, and only the holder's transaction may complete it.
    attempt      uuid        NOT NULL,
    locked_until timestamptz NOT NULL,
    status       smallint    CHECK (status BETWEEN 200 AND 499),
    location     text,
    etag         text,
    content_type text,
    body         bytea,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (caller_id, key),
    CHECK (state = 'in_flight' OR (status IS NOT NULL AND content_type IS NOT NULL AND body IS NOT NULL))
);

-- The purge deletes by age in batches.
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
