-- Imported historical scores (issue 10): a PHQ-9 or GAD-7 whose items are unknown, stored with
-- its total alone (items ''). It counts for baseline, change, response and remission; its item
-- 9 is unknown (item9 NULL), so it never raises or clears the safety flag (spec §3, §5).
ALTER TABLE assessments ADD COLUMN total_only INTEGER NOT NULL DEFAULT 0 CHECK (total_only IN (0, 1));
