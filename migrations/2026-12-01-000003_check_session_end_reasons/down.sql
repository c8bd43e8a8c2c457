ALTER TABLE sessions DROP CONSTRAINT sessions_revoked_reason_known;
