DROP TRIGGER users_password_changed_at ON users;
DROP FUNCTION users_stamp_password_changed();
