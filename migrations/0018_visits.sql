-- A practice's visits (issue 23, spec §9 metric 9): which patients had a qualifying medical
-- visit in a month, to measure depression screening over the whole practice, enrolled or not.
-- `codes` are the visit's CPT/HCPCS codes, comma separated, as the EHR billed them.
CREATE TABLE visits (
    id           TEXT PRIMARY KEY,
    patient_id   TEXT NOT NULL REFERENCES patients(id),
    date         TEXT NOT NULL,
    category     TEXT NOT NULL CHECK (category IN ('primary-care', 'behavioral-health', 'nursing-only', 'other')),
    codes        TEXT NOT NULL,
    modality     TEXT NOT NULL DEFAULT 'in-person' CHECK (modality IN ('in-person', 'telehealth')),
    created_at   TEXT NOT NULL,
    voided_at    TEXT,
    voided_by    TEXT,
    void_reason  TEXT
);
CREATE INDEX visits_by_patient ON visits (patient_id, date);
