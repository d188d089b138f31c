-- Smaller covering indexes for the caseload, the queue and the reports (issue 8, "Speed"). In an
-- encrypted registry every page read is decrypted and its HMAC checked, about 1 ms per MB on
-- the development machine, so reading fewer bytes is what keeps SQLCipher's cost down.

-- The caseload's last contact and contact count per episode read only live contacts' episode
-- and date (about half of contacts_by_episode, which keeps author_id for billing's history).
CREATE INDEX contacts_live_by_episode ON contacts(episode_id, date, voided_at) WHERE voided_at IS NULL;

-- Same-day assessments are ordered by rowid (the order they were entered: records are never
-- deleted, and copies keep rowid order) instead of created_at, a 30-byte timestamp per entry.
DROP INDEX assessments_by_patient;
CREATE INDEX assessments_by_patient ON assessments(patient_id, date, instrument, total, item9, voided_at);

-- The caseload's case reviews and the queue's "closed by a review" read this index alone,
-- not the reviews with their recommendations.
DROP INDEX case_reviews_by_patient;
CREATE INDEX case_reviews_by_patient ON case_reviews(patient_id, date, voided_at, episode_id);
