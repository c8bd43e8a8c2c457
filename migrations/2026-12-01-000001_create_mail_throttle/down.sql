DROP TABLE mail_throttle;
