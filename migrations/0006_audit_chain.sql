-- A tamper-evident audit log (issue 8): each row carries a hash over its content and the
-- previous row's hash. Rows written before this migration are chained by the core right after
-- it runs (audit::chain_unhashed), in order.
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;

-- Daily backups beside the registry: how many to keep.
INSERT INTO settings (key, value) VALUES ('backup_keep', '14');
