-- Webhooks (issue 15): endpoints that hear a customer's lifecycle events, the events as sent,
-- and one delivery of an event to an endpoint, retried from an outbox like mail.

-- Where events are POSTed: a customer's endpoint (customer_id set) hears that customer's
-- events; a platform endpoint (customer_id NULL) hears every customer's.
CREATE TABLE webhook_endpoints (
    id                         uuid        PRIMARY KEY,
    customer_id                uuid        REFERENCES customers (id) ON DELETE CASCADE,
    url                        text        NOT NULL,
    -- Event type names it hears; NULL: all of them (new types included).
    event_types                text[],
    status                     text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    -- Why it is disabled: by someone (manual), the receiver answered 410 (gone), or
    -- WEBHOOK_DISABLE_AFTER deliveries in a row failed (failing).
    disabled_reason            text        CHECK (disabled_reason IN ('manual', 'gone', 'failing')),
    -- The Standard Webhooks signing secret ("whsec_" + base64 of 32 random bytes). Kept as is, not
    -- hashed: every delivery is signed with it (like the JWT signing key); never shown again after
    -- its creation or rotation.
    secret                     text        NOT NULL,
    -- The secret before the last rotation: deliveries carry both signatures until it expires.
    previous_secret            text,
    previous_secret_expires_at timestamptz,
    -- Deliveries given up in a row since the last one delivered.
    consecutive_failures       integer     NOT NULL DEFAULT 0,
    created_by                 uuid,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhook_endpoints_disabled_has_reason CHECK ((status = 'disabled') = (disabled_reason IS NOT NULL)),
    CONSTRAINT webhook_endpoints_previous_secret_expires CHECK ((previous_secret IS NULL) = (previous_secret_expires_at IS NULL))
);

CREATE INDEX webhook_endpoints_customer ON webhook_endpoints (customer_id, created_at, id);
-- The fan-out reads the active endpoints of one customer and the platform's on every event.
CREATE INDEX webhook_endpoints_active ON webhook_endpoints (customer_id) WHERE status = 'active';

-- One event as sent: `payload` is the exact body (serialized once; the signature is over these
-- bytes), so it is text, not jsonb (which would reorder it). Written in the transaction of the
-- change it reports. Its id is the message's `webhook-id` (msg_<id>), the same at every endpoint
-- and on every retry.
CREATE TABLE webhook_events (
    id          uuid        PRIMARY KEY,
    customer_id uuid        REFERENCES customers (id) ON DELETE CASCADE,
    event_type  text        NOT NULL,
    payload     text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- The purge of the delivery log (WEBHOOK_LOG_RETENTION) walks events by age.
CREATE INDEX webhook_events_created ON webhook_events (created_at);

-- One event to one endpoint: the outbox row the workers of every instance claim with
-- FOR UPDATE SKIP LOCKED under a lease, as they claim mail.
CREATE TABLE webhook_deliveries (
    id                   uuid        PRIMARY KEY,
    endpoint_id          uuid        NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id             uuid        NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    status               text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts             integer     NOT NULL DEFAULT 0,
    next_attempt_at      timestamptz NOT NULL DEFAULT now(),
    last_attempt_at      timestamptz,
    -- The receiver's HTTP status of the last attempt; NULL when it gave none (refused, timeout).
    last_response_status integer,
    last_error           text,
    delivered_at         timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhook_deliveries_once UNIQUE (endpoint_id, event_id)
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_failed ON webhook_deliveries (created_at) WHERE status = 'failed';
-- The delivery log of one endpoint, newest first, keyset-paginated.
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
