ALTER TABLE users
    DROP CONSTRAINT users_external_id_length,
    ALTER COLUMN external_id TYPE text;
