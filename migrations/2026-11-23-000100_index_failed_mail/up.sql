-- The failed-mail gauge counts these on every metrics scrape; sent mail is kept, so without an
-- index the count would read the whole table.
CREATE INDEX mail_outbox_failed ON mail_outbox (created_at) WHERE status = 'failed';
