-- Spec §2: every record can be marked entered in error, episodes included: an enrolment, a
-- consent date or a status change (a discharge). The row is kept with who voided it and why.

ALTER TABLE episodes ADD COLUMN voided_at TEXT;
ALTER TABLE episodes ADD COLUMN voided_by TEXT;
ALTER TABLE episodes ADD COLUMN void_reason TEXT;

ALTER TABLE episode_status_changes ADD COLUMN voided_at TEXT;
ALTER TABLE episode_status_changes ADD COLUMN voided_by TEXT;
ALTER TABLE episode_status_changes ADD COLUMN void_reason TEXT;

-- Every consent date recorded for an episode. `episodes.consent_date` stays the latest one not
-- entered in error, kept in step in the same transaction, because the billing and caseload
-- queries read it set-based.
CREATE TABLE episode_consents (
    id           TEXT PRIMARY KEY,
    episode_id   TEXT NOT NULL REFERENCES episodes(id),
    date         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    voided_at    TEXT,
    voided_by    TEXT,
    void_reason  TEXT
);
CREATE INDEX episode_consents_by_episode ON episode_consents(episode_id, created_at);
INSERT INTO episode_consents (id, episode_id, date, created_at)
    SELECT lower(hex(randomblob(16))), id, consent_date, created_at FROM episodes WHERE consent_date IS NOT NULL;

-- An enrolment entered in error no longer holds the patient's one open episode.
DROP INDEX episodes_one_open;
CREATE UNIQUE INDEX episodes_one_open ON episodes(patient_id) WHERE discharge_date IS NULL AND voided_at IS NULL;
