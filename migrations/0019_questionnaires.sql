-- Patient-reported measures (issue 22, spec §10): questionnaire requests sent as links, and
-- answers that arrive as assessments from the patient or a caregiver.
--
-- A request's link carries a random token; only its SHA-256 (`token_hash`) is stored, so the
-- registry file alone cannot answer a link. A request is open until it is answered, expires,
-- is cancelled, or is locked by too many wrong dates of birth.
CREATE TABLE questionnaire_requests (
    id              TEXT PRIMARY KEY,
    patient_id      TEXT NOT NULL REFERENCES patients(id),
    episode_id      TEXT NOT NULL REFERENCES episodes(id),
    instruments     TEXT NOT NULL,            -- catalogue ids, comma separated, in the order asked
    respondent      TEXT NOT NULL CHECK (respondent IN ('patient', 'caregiver')),
    language        TEXT NOT NULL,
    token_hash      TEXT NOT NULL UNIQUE,
    email           TEXT,
    created_at      TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,            -- an instant (UTC), like every *_at
    wrong_dob_tries INTEGER NOT NULL DEFAULT 0,
    locked_at       TEXT,
    answered_at     TEXT,
    cancelled_at    TEXT,
    cancelled_by    TEXT
);
CREATE INDEX questionnaire_requests_by_patient ON questionnaire_requests (patient_id, created_at);

-- Who answered an assessment: staff entered it (every score before this issue), or the patient
-- or a caregiver answered a request themselves. Self-reported answers are new on the caseload
-- until a team member marks them reviewed.
ALTER TABLE assessments ADD COLUMN source TEXT NOT NULL DEFAULT 'staff' CHECK (source IN ('staff', 'patient', 'caregiver'));
ALTER TABLE assessments ADD COLUMN request_id TEXT REFERENCES questionnaire_requests(id);
ALTER TABLE assessments ADD COLUMN reviewed_at TEXT;
ALTER TABLE assessments ADD COLUMN reviewed_by TEXT;
CREATE INDEX assessments_unreviewed ON assessments (patient_id) WHERE source <> 'staff' AND reviewed_at IS NULL;

INSERT INTO settings (key, value) VALUES
    ('questionnaire_expiry_days', '7'),
    ('questionnaire_dob_tries', '5'),
    ('measurement_cadence_days_active', '14'),
    ('measurement_cadence_days_relapse_prevention', '30');
