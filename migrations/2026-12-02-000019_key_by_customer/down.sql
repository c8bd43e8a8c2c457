DROP INDEX api_client_tokens_token_hash;
ALTER TABLE api_client_tokens
    DROP CONSTRAINT api_client_tokens_token_hash_key,
    ADD CONSTRAINT api_client_tokens_token_hash_key UNIQUE (token_hash);

DROP INDEX api_clients_client_id;
ALTER TABLE api_clients
    DROP CONSTRAINT api_clients_client_id_key,
    ADD CONSTRAINT api_clients_client_id_key UNIQUE (client_id);

DROP INDEX invitations_token_hash;
ALTER TABLE invitations
    DROP CONSTRAINT invitations_token_hash_key,
    ADD CONSTRAINT invitations_token_hash_key UNIQUE (token_hash);

DROP INDEX signup_requests_token_hash;
ALTER TABLE signup_requests
    DROP CONSTRAINT signup_requests_token_hash_key,
    ADD CONSTRAINT signup_requests_token_hash_key UNIQUE (token_hash),
    DROP CONSTRAINT signup_requests_pkey,
    ADD CONSTRAINT signup_requests_pkey PRIMARY KEY (id);
