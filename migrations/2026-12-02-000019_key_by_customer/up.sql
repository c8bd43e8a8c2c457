-- Ready to distribute by customer (issue 18): the keys of tables that hold only customer rows
-- lead with customer_id (tests/api/distribution.rs reads the catalog and keeps it so).
--
-- Links are found by their token alone (the customer is not known yet); the unique constraints
-- become (customer_id, token_hash), and a plain index on token_hash keeps that lookup an index
-- scan (under Citus a multi-shard one). A token is 256 random bits, so uniqueness per customer
-- loses nothing in practice.
ALTER TABLE signup_requests
    DROP CONSTRAINT signup_requests_pkey,
    ADD CONSTRAINT signup_requests_pkey PRIMARY KEY (customer_id, id),
    DROP CONSTRAINT signup_requests_token_hash_key,
    ADD CONSTRAINT signup_requests_token_hash_key UNIQUE (customer_id, token_hash);
CREATE INDEX signup_requests_token_hash ON signup_requests (token_hash);

ALTER TABLE invitations
    DROP CONSTRAINT invitations_token_hash_key,
    ADD CONSTRAINT invitations_token_hash_key UNIQUE (customer_id, token_hash);
CREATE INDEX invitations_token_hash ON invitations (token_hash);

-- API clients hold platform clients too (customer_id NULL), so their primary keys stay; their
-- other unique keys lead with customer_id, and NULLS NOT DISTINCT keeps them unique among the
-- platform's clients as well. The OAuth client_id and a presented token are looked up alone.
ALTER TABLE api_clients
    DROP CONSTRAINT api_clients_client_id_key,
    ADD CONSTRAINT api_clients_client_id_key UNIQUE NULLS NOT DISTINCT (customer_id, client_id);
CREATE INDEX api_clients_client_id ON api_clients (client_id);

ALTER TABLE api_client_tokens
    DROP CONSTRAINT api_client_tokens_token_hash_key,
    ADD CONSTRAINT api_client_tokens_token_hash_key UNIQUE NULLS NOT DISTINCT (customer_id, token_hash);
CREATE INDEX api_client_tokens_token_hash ON api_client_tokens (token_hash);
