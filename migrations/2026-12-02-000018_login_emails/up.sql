-- The address book of logins (issue 18). An e-mail address is unique across every customer and
-- staff: the one rule that does not hold within one customer. It moves out of `users` into this
-- small table of its own, so that `users` can be distributed by customer_id (a unique index of a
-- distributed table must include the distribution column) while this stays a reference table (a
-- copy on every node). customer_id is the user's customer (NULL for staff): a sign-in that knows
-- only the address finds here the shard that holds the user.
--
-- No foreign key to users (nor to customers): in Citus a reference table may not reference a
-- distributed table. The trigger below keeps the two in step instead, in the transaction of the
-- change.
CREATE TABLE login_emails (
    email       citext NOT NULL,
    user_id     uuid   NOT NULL,
    customer_id uuid,
    CONSTRAINT login_emails_pkey PRIMARY KEY (email),
    CONSTRAINT login_emails_user_id_key UNIQUE (user_id)
);

INSERT INTO login_emails (email, user_id, customer_id)
SELECT email, id, customer_id FROM users WHERE email IS NOT NULL;

-- Keeps login_emails equal to users' (email, id, customer_id) where email is set. A taken
-- address makes the INSERT fail on login_emails_pkey with unique_violation (error.rs answers the
-- e-mail 409 as it did for users_email_key), and two transactions creating the same address meet
-- on that index entry as they met on users_email_key: the second waits for the first, then gets
-- the violation if the first committed.
-- AFTER ROW triggers run inside the statement: no extra round trip.
CREATE FUNCTION users_keep_login_emails() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.email IS NOT NULL THEN
            INSERT INTO login_emails (email, user_id, customer_id) VALUES (NEW.email, NEW.id, NEW.customer_id);
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        -- UPDATE OF fires when the column is in the SET list, changed or not: compare. As text,
        -- so a change of case only is written too and the spelling follows users.
        IF OLD.email::text IS DISTINCT FROM NEW.email::text
            OR OLD.customer_id IS DISTINCT FROM NEW.customer_id THEN
            DELETE FROM login_emails WHERE user_id = OLD.id;
            IF NEW.email IS NOT NULL THEN
                INSERT INTO login_emails (email, user_id, customer_id) VALUES (NEW.email, NEW.id, NEW.customer_id);
            END IF;
        END IF;
    ELSE
        DELETE FROM login_emails WHERE user_id = OLD.id;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER users_login_emails
    AFTER INSERT OR UPDATE OF email, customer_id OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION users_keep_login_emails();

-- login_emails holds the rule now. Sign-in, recovery, invitations and signup still find a person
-- by address in users (accounts::queries, invitations::queries, users::queries), so the lookup
-- keeps an index: a plain one, which a distributed table may have.
DROP INDEX users_email_key;
CREATE INDEX users_email ON users (email);
