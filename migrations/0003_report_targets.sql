-- Report targets (spec §8) and the AIMS caseload-size guidance (spec §9), as practice settings
-- so that a practice lead can set them for their program and payer mix.
INSERT INTO settings (key, value) VALUES
    ('target_contact_rate_pct', '80'),        -- §8 monthly contact rate target
    ('target_improvement_rate_pct', '60'),    -- §8 improvement rate target
    ('target_consultation_rate_pct', '80'),   -- §8 psychiatric consultation rate target
    ('caseload_guidance_min', '60'),          -- §9 AIMS: active patients per full-time care manager,
    ('caseload_guidance_max', '120');         --    lower for a more complex (e.g. mostly Medicaid) population
