-- Import mappings saved by name (issue 10), so that next month's export of the same tracking
-- spreadsheet imports without mapping its columns again.
CREATE TABLE import_mappings (
    name      TEXT PRIMARY KEY,
    shape     TEXT NOT NULL,
    mapping   TEXT NOT NULL,          -- the mapping as JSON (import::Mapping)
    saved_at  TEXT NOT NULL,
    saved_by  TEXT NOT NULL
);
