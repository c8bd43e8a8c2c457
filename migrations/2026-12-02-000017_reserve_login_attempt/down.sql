DROP FUNCTION reserve_login_attempt(citext, text, double precision, integer, integer, bigint, bigint, bigint);
