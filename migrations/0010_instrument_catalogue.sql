-- The instrument catalogue (issue 19, spec §3a).
--
-- Assessments: any catalogue form, so the CHECK naming the PHQ-9 and GAD-7 goes (the core
-- parses every instrument id through the catalogue). `item9` (the PHQ-9's item 9 answer)
-- becomes `safety`: 1 when one of the form's safety items is positive, 0 when none is, NULL
-- when the form has none (GAD-7) or they are unknown (a total-only import). SQLite cannot drop
-- a CHECK, so the table is rebuilt; rowids are kept, because same-day scores are ordered by
-- them (migration 0007).
CREATE TABLE assessments_catalogue (
    id          TEXT PRIMARY KEY,
    patient_id  TEXT NOT NULL REFERENCES patients(id),
    date        TEXT NOT NULL,
    instrument  TEXT NOT NULL,
    items       TEXT NOT NULL,                -- answers, comma separated, item 1 first ('' total-only)
    total       INTEGER NOT NULL,             -- derived by the core from items, never typed in
    safety      INTEGER CHECK (safety IN (0, 1)),
    difficulty  TEXT,
    recorded_by TEXT,
    created_at  TEXT NOT NULL,
    voided_at   TEXT,
    voided_by   TEXT,
    void_reason TEXT,
    total_only  INTEGER NOT NULL DEFAULT 0 CHECK (total_only IN (0, 1))
);
INSERT INTO assessments_catalogue
    (rowid, id, patient_id, date, instrument, items, total, safety, difficulty, recorded_by, created_at,
     voided_at, voided_by, void_reason, total_only)
SELECT rowid, id, patient_id, date, instrument, items, total,
       CASE WHEN instrument = 'phq9' AND item9 IS NOT NULL THEN (item9 >= 1) END,
       difficulty, recorded_by, created_at, voided_at, voided_by, void_reason, total_only
FROM assessments;
DROP TABLE assessments;
ALTER TABLE assessments_catalogue RENAME TO assessments;
-- Covering: the caseload reads every assessment's score through this index alone.
CREATE INDEX assessments_by_patient ON assessments(patient_id, date, instrument, total, safety, voided_at);
CREATE INDEX assessments_by_date ON assessments(date, patient_id, voided_at);

-- Each episode's primary scale per target, fixed at enrolment: `depression=phq9,anxiety=gad7`.
-- Episodes enrolled before the catalogue were judged by the PHQ-9 and the GAD-7.
ALTER TABLE episodes ADD COLUMN primary_scales TEXT NOT NULL DEFAULT '';
UPDATE episodes SET primary_scales =
    CASE WHEN instr(targets, 'depression') THEN 'depression=phq9' ELSE '' END ||
    CASE WHEN instr(targets, 'depression') AND instr(targets, 'anxiety') THEN ',' ELSE '' END ||
    CASE WHEN instr(targets, 'anxiety') THEN 'anxiety=gad7' ELSE '' END;

-- The age groups that choose a target's default primary scale (spec §3a).
INSERT INTO settings (key, value) VALUES ('adolescent_from_age', '12'), ('adult_from_age', '18');
