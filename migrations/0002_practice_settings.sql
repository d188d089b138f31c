-- Practice settings: every bracketed default in cocm-spec.md, changeable by the practice lead.
CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
INSERT INTO settings (key, value) VALUES
    ('baseline_lookback_days', '14'),                 -- §4 pre-enrolment screening counts as baseline
    ('contact_due_days_active', '14'),                -- §5 contact-overdue while active
    ('contact_due_days_relapse_prevention', '30'),    -- §5 contact-overdue while relapse-prevention
    ('measurement_overdue_days', '30'),               -- §5 measurement-overdue
    ('not_improving_weeks', '10'),                    -- §5 not-improving, §6 waiting since
    ('review_overdue_days', '60'),                    -- §5 review-overdue, §6
    ('long_episode_months', '9'),                     -- §5 long-episode
    ('new_patient_days', '28'),                       -- §6 new-patient
    ('billing_counts_pcp_minutes', 'false'),          -- §7 count PCP minutes too
    ('billing_restart_gap_months', '6');              -- §7 initial again after this many empty months

-- Billing rule sets keyed by the year they take effect (§7); the rules are JSON so that a new
-- year's thresholds and fees are data, not code.
CREATE TABLE billing_rule_sets (
    effective_year  INTEGER PRIMARY KEY,
    rules           TEXT NOT NULL
);
INSERT INTO billing_rule_sets (effective_year, rules) VALUES
    (2025, '{"g2214_min_minutes":16,"initial_base_min_minutes":36,"initial_addon_from_minutes":86,"subsequent_base_min_minutes":31,"subsequent_addon_from_minutes":76,"addon_block_minutes":30,"addon_max_units":null,"fees":{"99492":160.0,"99493":145.0,"99494":61.0,"G2214":61.0}}'),
    (2026, '{"g2214_min_minutes":16,"initial_base_min_minutes":36,"initial_addon_from_minutes":86,"subsequent_base_min_minutes":31,"subsequent_addon_from_minutes":76,"addon_block_minutes":30,"addon_max_units":null,"fees":{"99492":160.0,"99493":145.0,"99494":61.0,"G2214":61.0}}');
