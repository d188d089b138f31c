-- Coverage records replace the patient's single payer (issue 20, spec §7a): payer category,
-- plan, member id, from and to dates, primary or secondary. Billing uses the primary coverage
-- on the date of service, a report's payer mix the primary coverage on the period's last day.
-- `from_date` is NULL only where the start is unknown: a payer given at registration, or one
-- migrated for a patient never enrolled.
CREATE TABLE coverages (
    id           TEXT PRIMARY KEY,
    patient_id   TEXT NOT NULL REFERENCES patients(id),
    payer        TEXT NOT NULL CHECK (payer IN ('medicare', 'medicaid', 'commercial', 'self-pay', 'other')),
    plan         TEXT,
    member_id    TEXT,
    from_date    TEXT,
    to_date      TEXT CHECK (to_date IS NULL OR from_date IS NULL OR to_date >= from_date),
    secondary    INTEGER NOT NULL DEFAULT 0 CHECK (secondary IN (0, 1)),
    created_at   TEXT NOT NULL,
    voided_at    TEXT,
    voided_by    TEXT,
    void_reason  TEXT
);
CREATE INDEX coverages_by_patient ON coverages (patient_id, secondary, from_date);

-- Today's payer becomes one primary coverage from the patient's first enrolment.
INSERT INTO coverages (id, patient_id, payer, from_date, created_at)
SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-8'
             || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
       p.id, p.payer,
       (SELECT MIN(e.start_date) FROM episodes e WHERE e.patient_id = p.id AND e.voided_at IS NULL),
       p.created_at
FROM patients p;
ALTER TABLE patients DROP COLUMN payer;
