DROP INDEX users_email;
CREATE UNIQUE INDEX users_email_key ON users (email);
DROP TRIGGER users_login_emails ON users;
DROP FUNCTION users_keep_login_emails();
DROP TABLE login_emails;
