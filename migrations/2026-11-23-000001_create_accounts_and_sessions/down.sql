DROP TABLE login_failures;
DROP TABLE signing_keys;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE users;
