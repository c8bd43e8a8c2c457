-- Back to "in no group = all": a `groups`-scoped person or client in no group would see all of
-- its customer's data again. Reverting is for development databases.
ALTER TABLE api_clients DROP COLUMN data_scope;
ALTER TABLE invitations DROP COLUMN data_scope;
DROP INDEX users_groups_scoped;
ALTER TABLE users DROP COLUMN data_scope;
