DROP INDEX warehouse_addresses_group;
ALTER TABLE warehouse_addresses DROP CONSTRAINT warehouse_addresses_group_fkey;
DROP TABLE group_members;
ALTER TABLE users DROP CONSTRAINT users_customer_id_id_key;
DROP TABLE groups;
