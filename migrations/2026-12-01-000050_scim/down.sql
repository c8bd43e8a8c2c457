DROP TABLE scim_request_counts;
DROP INDEX groups_external_id_key;
ALTER TABLE groups DROP COLUMN scim, DROP COLUMN external_id;
DROP INDEX users_scim_user_name;
DROP INDEX users_user_name_key;
ALTER TABLE users DROP COLUMN scim, DROP COLUMN user_name;
