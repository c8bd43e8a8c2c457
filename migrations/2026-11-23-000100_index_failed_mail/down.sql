DROP INDEX mail_outbox_failed;
