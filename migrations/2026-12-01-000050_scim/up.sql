-- SCIM 2.0 (issue 14): what an identity provider put, kept so that a GET returns it.
--
-- Every customer user is a SCIM User of its customer. `user_name` is the directory's userName
-- (unique per customer, case-insensitive); people no directory ever named show their e-mail,
-- else their external id, else their id (the expression of users_scim_user_name, which the
-- `userName` filter uses). `scim` is the client's representation as dockgate sanitized it
-- (published writable attributes only): attributes dockgate has no column for live only there;
-- mapped ones (name, e-mail, phone) are also written to their columns, which win on read when
-- the REST API changed them since.
ALTER TABLE users
    ADD COLUMN user_name citext CHECK (char_length(user_name) BETWEEN 1 AND 255),
    ADD COLUMN scim jsonb CHECK (jsonb_typeof(scim) = 'object');
CREATE UNIQUE INDEX users_user_name_key ON users (customer_id, user_name) WHERE user_name IS NOT NULL;
CREATE INDEX users_scim_user_name ON users (customer_id, (COALESCE(user_name, email, external_id, id::text::citext)));

-- A group's externalId (unique per customer) and its representation likewise; displayName is
-- the group's name.
ALTER TABLE groups
    ADD COLUMN external_id citext CHECK (char_length(external_id) BETWEEN 1 AND 255),
    ADD COLUMN scim jsonb CHECK (jsonb_typeof(scim) = 'object');
CREATE UNIQUE INDEX groups_external_id_key ON groups (customer_id, external_id) WHERE external_id IS NOT NULL;

-- SCIM requests per API client and minute, counted in PostgreSQL so every instance enforces
-- the same limit. Rows of past minutes are pruned.
CREATE TABLE scim_request_counts (
    api_client_id uuid        NOT NULL REFERENCES api_clients (id) ON DELETE CASCADE,
    window_start  timestamptz NOT NULL,
    requests      integer     NOT NULL,
    PRIMARY KEY (api_client_id, window_start)
);
