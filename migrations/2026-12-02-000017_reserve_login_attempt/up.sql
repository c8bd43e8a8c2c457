-- Counts and reserves one sign-in attempt (identity::rate_limit::reserve) in one round trip.
--
-- A function, not a plain statement: the count has to see every attempt committed before this
-- one was granted the locks. A plain statement reads with the snapshot taken when it started,
-- before it waited for the locks, so two attempts arriving together could both take the last
-- free slot. Each query of a VOLATILE PL/pgSQL function reads with a fresh snapshot (READ
-- COMMITTED), so the count below runs after the locks and sees what their last holder wrote.
-- The locks are transaction-scoped: called on its own, the statement is the transaction, and
-- they are released when its attempt is committed.
--
-- `reserved` is the new attempt's id, or NULL when a limit is reached; then `retry_after_secs`
-- is how long until the oldest counted failure of the tightest limit leaves the window (a
-- blocked attempt is not counted, so that frees a slot), at least 1.
CREATE FUNCTION reserve_login_attempt(
    attempt_email citext,
    attempt_client text,
    window_secs double precision,
    account_lock integer,
    client_lock integer,
    per_account_and_client bigint,
    per_account bigint,
    per_client bigint,
    OUT reserved bigint,
    OUT retry_after_secs double precision
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    window_length interval := make_interval(secs => window_secs);
    recent record;
BEGIN
    -- The account's lock, then the client's: always in that order, and nothing else is locked
    -- meanwhile, so two attempts cannot deadlock.
    PERFORM pg_advisory_xact_lock(account_lock, hashtext(lower(attempt_email::text)));
    PERFORM pg_advisory_xact_lock(client_lock, hashtext(attempt_client));

    SELECT
        count(*) FILTER (WHERE same_account AND same_client) AS account_and_client,
        count(*) FILTER (WHERE same_account) AS account,
        count(*) FILTER (WHERE same_client) AS client,
        min(failed_at) FILTER (WHERE same_account AND same_client) AS account_and_client_oldest,
        min(failed_at) FILTER (WHERE same_account) AS account_oldest,
        min(failed_at) FILTER (WHERE same_client) AS client_oldest
    INTO recent
    FROM (
        SELECT email = attempt_email AS same_account, client_addr = attempt_client AS same_client, failed_at
        FROM login_failures
        WHERE failed_at > now() - window_length AND (email = attempt_email OR client_addr = attempt_client)
    ) AS counted;

    -- GREATEST ignores NULLs: NULL only when no limit is reached.
    retry_after_secs := GREATEST(
        CASE WHEN recent.account_and_client >= per_account_and_client THEN
            GREATEST(ceil(EXTRACT(EPOCH FROM recent.account_and_client_oldest + window_length - now())), 1)
        END,
        CASE WHEN recent.account >= per_account THEN
            GREATEST(ceil(EXTRACT(EPOCH FROM recent.account_oldest + window_length - now())), 1)
        END,
        CASE WHEN recent.client >= per_client THEN
            GREATEST(ceil(EXTRACT(EPOCH FROM recent.client_oldest + window_length - now())), 1)
        END
    );
    IF retry_after_secs IS NULL THEN
        INSERT INTO login_failures (email, client_addr)
        VALUES (attempt_email, attempt_client)
        RETURNING id INTO reserved;
    END IF;
END
$$;
