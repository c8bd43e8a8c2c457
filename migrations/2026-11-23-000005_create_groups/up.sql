-- Groups: sub-accounts of one customer that segregate its data. A person in groups X and Y sees
-- only data tagged X or Y (or untagged); a person in no group sees all of its customer's data.
CREATE TABLE groups (
    customer_id uuid        NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    id          uuid        NOT NULL,
    -- Unique per customer regardless of case.
    name        citext      NOT NULL,
    description text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, id),
    CONSTRAINT groups_name_key UNIQUE (customer_id, name)
);

-- Lets memberships name (customer, user) so a person can only join its own customer's groups.
ALTER TABLE users ADD CONSTRAINT users_customer_id_id_key UNIQUE (customer_id, id);

CREATE TABLE group_members (
    customer_id uuid        NOT NULL,
    group_id    uuid        NOT NULL,
    user_id     uuid        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, group_id, user_id),
    CONSTRAINT group_members_group_fkey FOREIGN KEY (customer_id, group_id)
        REFERENCES groups (customer_id, id) ON DELETE CASCADE,
    CONSTRAINT group_members_user_fkey FOREIGN KEY (customer_id, user_id)
        REFERENCES users (customer_id, id) ON DELETE CASCADE
);

CREATE INDEX group_members_user ON group_members (customer_id, user_id);

-- An address tagged with a group is seen by that group's members (and everyone in no group).
-- Deleting a group that still tags addresses is refused: untagging them silently would show them
-- to every group of the customer.
ALTER TABLE warehouse_addresses
    ADD CONSTRAINT warehouse_addresses_group_fkey FOREIGN KEY (customer_id, group_id)
        REFERENCES groups (customer_id, id) ON DELETE RESTRICT;
CREATE INDEX warehouse_addresses_group ON warehouse_addresses (customer_id, group_id) WHERE group_id IS NOT NULL;
