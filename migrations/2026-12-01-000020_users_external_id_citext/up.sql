-- The ERP's key of a person (issue 13: upsert by it, imports keyed on it) is compared like an
-- e-mail address: `ERP-1` and `erp-1` are one person, so one customer cannot hold both. The
-- unique constraint users_external_id_key (customer_id, external_id) follows the new type.
ALTER TABLE users
    ALTER COLUMN external_id TYPE citext,
    ADD CONSTRAINT users_external_id_length CHECK (char_length(external_id) BETWEEN 1 AND 255);
