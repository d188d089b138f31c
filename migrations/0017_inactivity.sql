-- The caseload's `inactive` flag (issue 23, spec §9): an open episode with no clinical contact
-- for this many days is suggested for discharge (never discharged by itself).
INSERT INTO settings (key, value) VALUES ('inactivity_days', '90');

-- The caseload reads each open episode's latest clinical contact; this partial index holds
-- only those rows (the terms are `vocab::clinical_contact_sql`'s, so SQLite uses it).
CREATE INDEX contacts_clinical_by_episode ON contacts(episode_id, date)
    WHERE voided_at IS NULL
      AND kind IN ('initial-assessment', 'follow-up', 'safety-check', 'relapse-prevention-plan')
      AND mode IN ('in-person', 'phone', 'video');
