DROP TABLE api_client_tokens;
DROP TABLE api_client_groups;
DROP TABLE api_clients;
