-- The registry's tables. Dates are practice-local ISO 'YYYY-MM-DD'; *_at timestamps are UTC RFC 3339.
-- Clinical records are never deleted: voided_at/voided_by/void_reason mark an entry entered in error.

CREATE TABLE practice (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE team_members (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL CHECK (role IN ('care-manager', 'psychiatric-consultant', 'pcp', 'practice-lead')),
    created_at  TEXT NOT NULL
);

CREATE TABLE patients (
    id               TEXT PRIMARY KEY,
    mrn              TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    dob              TEXT NOT NULL,
    payer            TEXT NOT NULL CHECK (payer IN ('medicare', 'medicaid', 'commercial', 'self-pay', 'other')),
    pcp_id           TEXT REFERENCES team_members(id),
    care_manager_id  TEXT REFERENCES team_members(id),
    consultant_id    TEXT REFERENCES team_members(id),
    created_at       TEXT NOT NULL
);
CREATE INDEX patients_by_care_manager ON patients(care_manager_id);

CREATE TABLE episodes (
    id                TEXT PRIMARY KEY,
    patient_id        TEXT NOT NULL REFERENCES patients(id),
    start_date        TEXT NOT NULL,
    consent_date      TEXT,
    targets           TEXT NOT NULL,          -- 'depression', 'anxiety' or 'depression,anxiety'
    status            TEXT NOT NULL CHECK (status IN ('active', 'relapse-prevention', 'discharged')),
    discharge_date    TEXT,
    discharge_reason  TEXT,
    created_at        TEXT NOT NULL,
    CHECK ((status = 'discharged') = (discharge_date IS NOT NULL))
);
CREATE INDEX episodes_by_patient ON episodes(patient_id, start_date);
-- At most one open (not discharged) episode per patient.
CREATE UNIQUE INDEX episodes_one_open ON episodes(patient_id) WHERE discharge_date IS NULL;

-- Every status an episode has had, from the enrolment ('active' on the start date) on, so that
-- "status on date T" can be answered for any T.
CREATE TABLE episode_status_changes (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    episode_id  TEXT NOT NULL REFERENCES episodes(id),
    date        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('active', 'relapse-prevention', 'discharged')),
    reason      TEXT
);
CREATE INDEX status_changes_by_episode ON episode_status_changes(episode_id, date);

CREATE TABLE assessments (
    id          TEXT PRIMARY KEY,
    patient_id  TEXT NOT NULL REFERENCES patients(id),
    date        TEXT NOT NULL,
    instrument  TEXT NOT NULL CHECK (instrument IN ('phq9', 'gad7')),
    items       TEXT NOT NULL,                -- answers 0-3, comma separated, item 1 first
    total       INTEGER NOT NULL,             -- derived by the core from items, never typed in
    item9       INTEGER,                      -- PHQ-9 item 9 (suicide-risk screen); NULL for GAD-7
    difficulty  TEXT,
    recorded_by TEXT,
    created_at  TEXT NOT NULL,
    voided_at   TEXT,
    voided_by   TEXT,
    void_reason TEXT
);
-- Covering: the caseload reads every assessment's score through this index alone.
CREATE INDEX assessments_by_patient ON assessments(patient_id, date, created_at, instrument, total, item9, voided_at);
CREATE INDEX assessments_by_date ON assessments(date, patient_id, voided_at);

CREATE TABLE contacts (
    id          TEXT PRIMARY KEY,
    patient_id  TEXT NOT NULL REFERENCES patients(id),
    episode_id  TEXT NOT NULL REFERENCES episodes(id),
    date        TEXT NOT NULL,
    author_id   TEXT NOT NULL REFERENCES team_members(id),
    kind        TEXT NOT NULL,
    mode        TEXT NOT NULL,
    minutes     INTEGER NOT NULL CHECK (minutes BETWEEN 1 AND 600),
    note        TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    voided_at   TEXT,
    voided_by   TEXT,
    void_reason TEXT
);
-- Covering: the caseload's last contact, the billing month and its history read these indexes alone.
CREATE INDEX contacts_by_episode ON contacts(episode_id, date, voided_at, author_id);
CREATE INDEX contacts_by_date ON contacts(date, patient_id, episode_id, author_id, minutes, voided_at, created_at, id);
CREATE INDEX contacts_by_kind ON contacts(kind, patient_id, date, voided_at);

CREATE TABLE review_requests (
    id            TEXT PRIMARY KEY,
    patient_id    TEXT NOT NULL REFERENCES patients(id),
    episode_id    TEXT NOT NULL REFERENCES episodes(id),
    date          TEXT NOT NULL,
    requested_by  TEXT NOT NULL REFERENCES team_members(id),
    reason        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    voided_at     TEXT,
    voided_by     TEXT,
    void_reason   TEXT
);
CREATE INDEX review_requests_by_patient ON review_requests(patient_id, date);

CREATE TABLE case_reviews (
    id              TEXT PRIMARY KEY,
    patient_id      TEXT NOT NULL REFERENCES patients(id),
    episode_id      TEXT NOT NULL REFERENCES episodes(id),
    date            TEXT NOT NULL,
    consultant_id   TEXT NOT NULL REFERENCES team_members(id),
    medication      TEXT NOT NULL DEFAULT '',
    psychotherapy   TEXT NOT NULL DEFAULT '',
    referral        TEXT NOT NULL DEFAULT '',
    other           TEXT NOT NULL DEFAULT '',
    note            TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    voided_at       TEXT,
    voided_by       TEXT,
    void_reason     TEXT
);
CREATE INDEX case_reviews_by_patient ON case_reviews(patient_id, date);

CREATE TABLE treatment_changes (
    id           TEXT PRIMARY KEY,
    patient_id   TEXT NOT NULL REFERENCES patients(id),
    episode_id   TEXT NOT NULL REFERENCES episodes(id),
    date         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    description  TEXT NOT NULL,
    recorded_by  TEXT,
    created_at   TEXT NOT NULL,
    voided_at    TEXT,
    voided_by    TEXT,
    void_reason  TEXT
);
CREATE INDEX treatment_changes_by_patient ON treatment_changes(patient_id, date);

-- Append-only: who did what, to which record, when.
CREATE TABLE audit_log (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    at           TEXT NOT NULL,
    actor_id     TEXT,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    record_type  TEXT NOT NULL,
    record_id    TEXT,
    details      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_by_record ON audit_log(record_type, record_id);
