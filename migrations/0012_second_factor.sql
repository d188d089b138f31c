-- A second factor per member (issue 21): their TOTP secret (RFC 6238), the last time step a
-- code of it was accepted (so a code works once), and ten single-use recovery codes kept only
-- as SHA-256 hashes. They live inside the encrypted registry, so they are encrypted with it,
-- survive password changes and re-keys, and are backed up with everything else.
CREATE TABLE second_factors (
    member_id    TEXT PRIMARY KEY REFERENCES team_members(id),
    secret       BLOB NOT NULL,
    last_step    INTEGER NOT NULL DEFAULT 0,
    enrolled_at  TEXT NOT NULL
);
CREATE TABLE recovery_codes (
    member_id  TEXT NOT NULL REFERENCES team_members(id),
    code_hash  TEXT NOT NULL,
    used_at    TEXT,
    PRIMARY KEY (member_id, code_hash)
);
-- Existing registries keep signing in as before until a lead turns it on; a new registry is
-- made with `server` (`Registry::create`).
INSERT INTO settings (key, value) VALUES ('mfa_required', 'off');
