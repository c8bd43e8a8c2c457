-- Refresh tokens rotate on every refresh (about 100 rows a day for a portal open all day) and
-- were never deleted. The pruner deletes those a day past their end; this index finds them.
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);
