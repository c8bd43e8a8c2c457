DROP TRIGGER audit_events_append_only ON audit_events;
DROP FUNCTION audit_events_append_only();
DROP TABLE audit_events;
DROP INDEX users_staff;
DROP INDEX users_customer_id;
ALTER TABLE users DROP CONSTRAINT users_customer_id_fkey, DROP COLUMN permissions;
DROP TABLE cost_centers;
DROP TABLE warehouse_addresses;
DROP TABLE customers;
