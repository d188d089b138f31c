-- Billing programs and payer rule sets (issue 20, spec §7a).
--
-- Rule sets were keyed by year alone, in Medicare's CoCM shape. They are now keyed by program,
-- payer category (NULL: the practice's default, Medicare's rules), plan (only with a payer) and
-- the year they take effect, and their JSON is tables of tiers per month kind and an add-on,
-- so a payer's codes and caps are data. The old rows (edited thresholds and fees included)
-- become the default CoCM rule sets in the new shape.
CREATE TABLE billing_rule_sets_by_payer (
    program         TEXT NOT NULL CHECK (program IN ('cocm', 'general-bhi', 'apcm-bhi')),
    payer           TEXT CHECK (payer IN ('medicare', 'medicaid', 'commercial', 'self-pay', 'other')),
    plan            TEXT CHECK (plan IS NULL OR (payer IS NOT NULL AND length(trim(plan)) > 0)),
    effective_year  INTEGER NOT NULL,
    rules           TEXT NOT NULL
);
CREATE UNIQUE INDEX billing_rule_sets_by_key
    ON billing_rule_sets_by_payer (program, ifnull(payer, ''), ifnull(plan, ''), effective_year);

INSERT INTO billing_rule_sets_by_payer (program, payer, plan, effective_year, rules)
SELECT 'cocm', NULL, NULL, effective_year, json_object(
    'initial', json_object(
        'tiers', json_array(
            json_object('code', 'G2214', 'from_minutes', json_extract(rules, '$.g2214_min_minutes')),
            json_object('code', '99492', 'from_minutes', json_extract(rules, '$.initial_base_min_minutes'))),
        'addon', json_object('code', '99494', 'from_minutes', json_extract(rules, '$.initial_addon_from_minutes'),
            'block_minutes', json_extract(rules, '$.addon_block_minutes'), 'max_units', json_extract(rules, '$.addon_max_units'))),
    'subsequent', json_object(
        'tiers', json_array(
            json_object('code', 'G2214', 'from_minutes', json_extract(rules, '$.g2214_min_minutes')),
            json_object('code', '99493', 'from_minutes', json_extract(rules, '$.subsequent_base_min_minutes'))),
        'addon', json_object('code', '99494', 'from_minutes', json_extract(rules, '$.subsequent_addon_from_minutes'),
            'block_minutes', json_extract(rules, '$.addon_block_minutes'), 'max_units', json_extract(rules, '$.addon_max_units'))),
    'general_bhi_episodes', NULL,
    'credential_codes', json_array(),
    'fees', json(json_extract(rules, '$.fees')))
FROM billing_rule_sets;
DROP TABLE billing_rule_sets;
ALTER TABLE billing_rule_sets_by_payer RENAME TO billing_rule_sets;

-- General BHI (§7a): 99484 once a month for 20 countable minutes (no midpoint rule), G0323
-- instead when the billing practitioner is a clinical psychologist or clinical social worker.
-- 2026 national non-facility estimates: 99484 $55 (G0323 the same, labelled an estimate).
INSERT INTO billing_rule_sets (program, payer, plan, effective_year, rules)
SELECT 'general-bhi', NULL, NULL, year, '{"initial":{"tiers":[{"code":"99484","from_minutes":20}],"addon":null},"subsequent":{"tiers":[{"code":"99484","from_minutes":20}],"addon":null},"general_bhi_episodes":null,"credential_codes":[{"credential":"clinical-psychologist","instead_of":"99484","code":"G0323"},{"credential":"clinical-social-worker","instead_of":"99484","code":"G0323"}],"fees":{"99484":55.0,"G0323":55.0}}'
FROM (SELECT 2025 AS year UNION ALL SELECT 2026);

-- The CY2026 APCM behavioral-health add-ons (§7a): G0568 in an initial month, G0569 in a
-- subsequent one, G0570 for general BHI; from 1 countable minute, one unit, no add-on.
INSERT INTO billing_rule_sets (program, payer, plan, effective_year, rules) VALUES
    ('apcm-bhi', NULL, NULL, 2026, '{"initial":{"tiers":[{"code":"G0568","from_minutes":1}],"addon":null},"subsequent":{"tiers":[{"code":"G0569","from_minutes":1}],"addon":null},"general_bhi_episodes":{"tiers":[{"code":"G0570","from_minutes":1}],"addon":null},"credential_codes":[],"fees":{"G0568":160.0,"G0569":145.0,"G0570":55.0}}');

-- An episode's program: what it is enrolled as, then changes from a month on (audited).
ALTER TABLE episodes ADD COLUMN program TEXT NOT NULL DEFAULT 'cocm' CHECK (program IN ('cocm', 'general-bhi'));
CREATE TABLE episode_program_changes (
    id          TEXT PRIMARY KEY,
    episode_id  TEXT NOT NULL REFERENCES episodes(id),
    from_month  TEXT NOT NULL,   -- YYYY-MM
    program     TEXT NOT NULL CHECK (program IN ('cocm', 'general-bhi')),
    created_at  TEXT NOT NULL,
    UNIQUE (episode_id, from_month)
);

-- The months the patient's PCP bills Advanced Primary Care Management for them (G0556–G0558):
-- from a date, to a date or open. Entered in error like every record.
CREATE TABLE apcm_periods (
    id           TEXT PRIMARY KEY,
    patient_id   TEXT NOT NULL REFERENCES patients(id),
    from_date    TEXT NOT NULL,
    to_date      TEXT CHECK (to_date IS NULL OR to_date >= from_date),
    created_at   TEXT NOT NULL,
    voided_at    TEXT,
    voided_by    TEXT,
    void_reason  TEXT
);
CREATE INDEX apcm_periods_by_patient ON apcm_periods (patient_id, from_date);
