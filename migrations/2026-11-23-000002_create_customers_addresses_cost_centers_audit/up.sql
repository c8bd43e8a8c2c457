-- Customers and what they own. Every customer-owned table carries customer_id first in its
-- primary key and indexes, so the data can later be distributed by customer.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE customers (
    id                  uuid PRIMARY KEY,
    name                text        NOT NULL,
    -- The ERP's customer number; unique regardless of case.
    code                citext      NOT NULL,
    contact_email       citext,
    phone               text,
    status              text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    portal_enabled      boolean     NOT NULL DEFAULT true,
    self_signup_enabled boolean     NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customers_code_key UNIQUE (code)
);

-- `q` searches name, code and contact e-mail by substring.
CREATE INDEX customers_search ON customers
    USING gin ((name || ' ' || code::text || ' ' || coalesce(contact_email::text, '')) gin_trgm_ops);
CREATE INDEX customers_status_id ON customers (status, id);

CREATE TABLE warehouse_addresses (
    customer_id  uuid        NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    id           uuid        NOT NULL,
    label        text        NOT NULL,
    line1        text        NOT NULL,
    line2        text,
    city         text        NOT NULL,
    region       text,
    postal_code  text,
    country      text        NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    contact_name text,
    phone        text,
    -- The group whose members see this address (groups arrive later); null: everyone.
    group_id     uuid,
    is_default   boolean     NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, id)
);

-- Exactly one default per customer that has addresses: the database refuses a second one.
CREATE UNIQUE INDEX warehouse_addresses_one_default ON warehouse_addresses (customer_id) WHERE is_default;

CREATE TABLE cost_centers (
    customer_id uuid        NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    id          uuid        NOT NULL,
    code        citext      NOT NULL,
    name        text        NOT NULL,
    active      boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, id),
    CONSTRAINT cost_centers_code_key UNIQUE (customer_id, code)
);

-- Customer users belong to a customer; a customer with users cannot be deleted (the RESTRICT
-- is what turns that DELETE into a 409).
ALTER TABLE users
    ADD CONSTRAINT users_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE RESTRICT,
    ADD COLUMN permissions text[] NOT NULL DEFAULT '{}';
CREATE INDEX users_customer_id ON users (customer_id, id) WHERE customer_id IS NOT NULL;
CREATE INDEX users_staff ON users (id) WHERE kind = 'staff';

-- Who did what to what, when, from where. Append-only: the trigger refuses changes, and the
-- API has no way to ask for one. customer_id is not a foreign key: events outlive customers.
CREATE TABLE audit_events (
    id          uuid PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    actor_id    uuid,
    actor_kind  text,
    action      text        NOT NULL,
    target_type text        NOT NULL,
    target_id   uuid,
    customer_id uuid,
    changes     jsonb       NOT NULL DEFAULT '{}',
    request_id  text,
    client_addr text
);

CREATE INDEX audit_events_customer ON audit_events (customer_id, id);
CREATE INDEX audit_events_actor ON audit_events (actor_id, id);
CREATE INDEX audit_events_target ON audit_events (target_id, id);
CREATE INDEX audit_events_action ON audit_events (action, id);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
