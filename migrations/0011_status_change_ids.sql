-- Status changes get text ids like every other record (issue 19): new ones are UUIDs, made by
-- the core. Those recorded before keep their number as their id, so an id printed, audited or
-- written down before this still names the same change. `seq` stays, for the order of
-- same-day changes.
ALTER TABLE episode_status_changes ADD COLUMN id TEXT;
UPDATE episode_status_changes SET id = CAST(seq AS TEXT);
CREATE UNIQUE INDEX status_changes_by_id ON episode_status_changes(id);
