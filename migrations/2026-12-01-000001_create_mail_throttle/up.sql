-- When a recipient was last sent a mail of a kind that a caller can trigger again and again
-- (invitation links, password-reset links, sign-up links). One row per recipient and kind,
-- kept across link replacement, so "one mail a minute" holds however the links come and go.
CREATE TABLE mail_throttle (
    recipient    citext      NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('invitation', 'password_reset', 'signup_verification')),
    last_sent_at timestamptz NOT NULL,
    PRIMARY KEY (recipient, kind)
);

CREATE INDEX mail_throttle_last_sent_at ON mail_throttle (last_sent_at);
