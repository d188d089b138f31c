//! Record ids → their places in a list loaded into memory, for the set-based loads (billing
//! months, reports) that look an id up for every one of a year's contacts.
//!
//! Record ids are UUIDs as [`crate::store::new_id`] writes them (36 lowercase characters). A
//! map keyed by the id's `String` compares the looked-up id with a key kept on the heap
//! elsewhere, a cache miss per lookup that `perf` put at a tenth of a 12-month report's time;
//! keyed by the UUID's 128 bits, the key sits in the table itself. Any other id (none is
//! written today, but the registry does not forbid one) keeps its text as the key, so every
//! id text has exactly one place.

use std::collections::HashMap;

#[derive(Debug, Default)]
pub(crate) struct IdIndex {
    /// foldhash rather than SipHash: ids are the registry's own, not an attacker's, and a
    /// year's contacts look up 600,000 of them.
    uuids: HashMap<u128, usize, foldhash::fast::RandomState>,
    others: HashMap<String, usize>,
}

/// The id's 128 bits when it is a UUID in the one spelling `new_id` writes (hyphenated,
/// lowercase), so that no two distinct id texts share a key.
pub(crate) fn canonical_uuid(id: &str) -> Option<u128> {
    if id.len() != 36 || id.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    uuid::Uuid::try_parse(id).ok().map(|u| u.as_u128())
}

impl IdIndex {
    /// Records `id` at `place`; a second insert of the same id replaces the first.
    pub fn insert(&mut self, id: &str, place: usize) {
        match canonical_uuid(id) {
            Some(key) => self.uuids.insert(key, place),
            None => self.others.insert(id.to_string(), place),
        };
    }

    pub fn get(&self, id: &str) -> Option<usize> {
        match canonical_uuid(id) {
            Some(key) => self.uuids.get(&key).copied(),
            None => self.others.get(id).copied(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::IdIndex;

    #[test]
    fn each_id_text_has_its_own_place() {
        let mut index = IdIndex::default();
        let id = "0192f5a4-7c1e-7b3a-9d2e-4f6a8b0c1d2e";
        index.insert(id, 0);
        // The same UUID spelled otherwise is another text, so another id (SQLite compares
        // the text): upper case and the unhyphenated form are kept apart from the first.
        index.insert("0192F5A4-7C1E-7B3A-9D2E-4F6A8B0C1D2E", 1);
        index.insert("0192f5a47c1e7b3a9d2e4f6a8b0c1d2e", 2);
        index.insert("p-1", 3);
        assert_eq!(index.get(id), Some(0));
        assert_eq!(index.get("0192F5A4-7C1E-7B3A-9D2E-4F6A8B0C1D2E"), Some(1));
        assert_eq!(index.get("0192f5a47c1e7b3a9d2e4f6a8b0c1d2e"), Some(2));
        assert_eq!(index.get("p-1"), Some(3));
        assert_eq!(index.get("0192f5a4-7c1e-7b3a-9d2e-4f6a8b0c1d2f"), None);
        assert_eq!(index.get(""), None);
    }
}
