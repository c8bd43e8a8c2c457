-- When a person's password last changed (the access review's "password older than N days"):
-- stamped by the database on every new hash, however it is written (creation, an admin's or
-- the person's own change, a reset link, an invitation, a sign-up, an import, the CLI), so no
-- way of setting a password can forget it.
CREATE FUNCTION users_stamp_password_changed() RETURNS trigger AS $$
BEGIN
    IF NEW.password_hash IS NULL THEN
        NEW.password_changed_at := NULL;
    ELSIF TG_OP = 'INSERT' OR NEW.password_hash IS DISTINCT FROM OLD.password_hash THEN
        NEW.password_changed_at := now();
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER users_password_changed_at
    BEFORE INSERT OR UPDATE OF password_hash ON users
    FOR EACH ROW EXECUTE FUNCTION users_stamp_password_changed();
