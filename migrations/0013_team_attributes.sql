-- What a claim and the New York report need of a team member (issues 20 and 23): the billing
-- practitioner's NPI (10 digits, Luhn check digit over the 80840 prefix, checked by the core),
-- their credential, and the share of a full-time post spent on collaborative care, in
-- hundredths (0.6 FTE is 60) so that sums are exact.
ALTER TABLE team_members ADD COLUMN npi TEXT;
ALTER TABLE team_members ADD COLUMN credential TEXT
    CHECK (credential IN ('physician', 'nurse-practitioner', 'physician-assistant', 'clinical-psychologist', 'clinical-social-worker', 'other'));
ALTER TABLE team_members ADD COLUMN cocm_fte_hundredths INTEGER CHECK (cocm_fte_hundredths BETWEEN 0 AND 100);
-- The kind of practice bills differently (issue 20, spec §7a): a physician practice, or a
-- federally qualified or rural health clinic.
INSERT INTO settings (key, value) VALUES ('practice_type', 'physician-practice');
