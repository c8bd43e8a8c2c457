-- Issue 14: what a person, an invitation or an API client sees is said explicitly, no longer
-- derived from "in no group". `all`: every group's data of its customer (staff, and platform
-- clients, always); `groups`: only the data of its groups and untagged data, possibly no group
-- at all. Invariant kept by the code: someone with `all` is in no group.
--
-- No default: every insert says which scope it means, so nothing widens by omission.
ALTER TABLE users ADD COLUMN data_scope text;
UPDATE users u SET data_scope = CASE
    WHEN u.kind = 'staff' THEN 'all'
    WHEN EXISTS (SELECT 1 FROM group_members m WHERE m.customer_id = u.customer_id AND m.user_id = u.id)
        THEN 'groups'
    ELSE 'all'
END;
ALTER TABLE users
    ALTER COLUMN data_scope SET NOT NULL,
    ADD CONSTRAINT users_data_scope_known CHECK (data_scope IN ('all', 'groups')),
    ADD CONSTRAINT users_staff_see_all CHECK (kind = 'customer_user' OR data_scope = 'all');

ALTER TABLE invitations ADD COLUMN data_scope text;
UPDATE invitations SET data_scope = CASE WHEN cardinality(group_ids) = 0 THEN 'all' ELSE 'groups' END;
ALTER TABLE invitations
    ALTER COLUMN data_scope SET NOT NULL,
    ADD CONSTRAINT invitations_data_scope_known CHECK (data_scope IN ('all', 'groups'));

ALTER TABLE api_clients ADD COLUMN data_scope text;
UPDATE api_clients c SET data_scope = CASE
    WHEN EXISTS (SELECT 1 FROM api_client_groups g WHERE g.api_client_id = c.id) THEN 'groups'
    ELSE 'all'
END;
ALTER TABLE api_clients
    ALTER COLUMN data_scope SET NOT NULL,
    ADD CONSTRAINT api_clients_data_scope_known CHECK (data_scope IN ('all', 'groups')),
    -- A platform client acts as staff: it sees every customer's data.
    ADD CONSTRAINT api_clients_platform_see_all CHECK (customer_id IS NOT NULL OR data_scope = 'all');

-- A group-limited admin lists the `groups`-scoped people it covers (users::queries::covered_by);
-- this lets a page of them skip the customer's `all` people.
CREATE INDEX users_groups_scoped ON users (customer_id, id) WHERE data_scope = 'groups';
