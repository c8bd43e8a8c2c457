ALTER TABLE audit_events DROP COLUMN visible_groups;
