-- An episode's ICD-10-CM diagnoses (issue 20, spec §7a): chapter 5 codes (F01–F99), the first
-- recorded being primary. A claim needs at least one; one entered in error stops counting.
CREATE TABLE episode_diagnoses (
    id           TEXT PRIMARY KEY,
    episode_id   TEXT NOT NULL REFERENCES episodes(id),
    code         TEXT NOT NULL,
    date         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    voided_at    TEXT,
    voided_by    TEXT,
    void_reason  TEXT
);
CREATE INDEX diagnoses_by_episode ON episode_diagnoses (episode_id, voided_at);

-- Claim lines (spec §7a): the date of service (`month-end`, the month's last day, or
-- `threshold-met`, the day the month's countable minutes reached the code's threshold) and
-- the place of service code (11: office).
INSERT INTO settings (key, value) VALUES ('claim_date_of_service', 'month-end'), ('place_of_service', '11');
