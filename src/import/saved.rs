//! Import mappings saved by name in the registry, for files that come back every month.

use serde::{Deserialize, Serialize};

use super::Mapping;
use crate::access::Action;
use crate::{Error, Registry, Result, audit};

/// A mapping saved under a name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct SavedMapping {
    pub name: String,
    pub mapping: Mapping,
    pub saved_at: String,
    pub saved_by: String,
}

const MAX_NAME: usize = 80;

impl Registry {
    /// Saves `mapping` as `name` (a practice lead's, audited), replacing one of that name.
    pub fn save_import_mapping(&mut self, name: &str, mapping: &Mapping) -> Result<SavedMapping> {
        let name = name.trim().to_string();
        if name.is_empty() {
            return Err(Error::validation("name", "a saved mapping needs a name"));
        }
        if name.chars().count() > MAX_NAME {
            return Err(Error::validation("name", format!("at most {MAX_NAME} characters")));
        }
        let json = serde_json::to_string(mapping)?;
        self.write(Action::Import, |tx, actor| {
            let saved_at = audit::now();
            tx.execute(
                "INSERT INTO import_mappings (name, shape, mapping, saved_at, saved_by) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (name) DO UPDATE SET shape = ?2, mapping = ?3, saved_at = ?4, saved_by = ?5",
                (&name, mapping.shape.as_str(), &json, &saved_at, &actor.name),
            )?;
            audit::record(tx, actor, "save-mapping", "import-mapping", Some(&name), serde_json::json!({ "mapping": mapping }))?;
            Ok(SavedMapping { name: name.clone(), mapping: mapping.clone(), saved_at, saved_by: actor.name.clone() })
        })
    }

    /// The saved import mappings, by name.
    pub fn import_mappings(&self) -> Result<Vec<SavedMapping>> {
        let mut stmt = self.conn.prepare("SELECT name, mapping, saved_at, saved_by FROM import_mappings ORDER BY name")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?, r.get(3)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (name, json, saved_at, saved_by) = row?;
            out.push(SavedMapping { name, mapping: serde_json::from_str(&json)?, saved_at, saved_by });
        }
        Ok(out)
    }

    /// The mapping saved as `name`.
    pub fn import_mapping(&self, name: &str) -> Result<Mapping> {
        named(self.import_mappings()?, name)
    }
}

/// The mapping saved as `name` among `saved` (the registry's, or a server's list).
pub fn named(saved: Vec<SavedMapping>, name: &str) -> Result<Mapping> {
    saved
        .into_iter()
        .find(|m| m.name == name.trim())
        .map(|m| m.mapping)
        .ok_or_else(|| Error::NotFound(format!("no saved mapping named '{}'", name.trim())))
}
