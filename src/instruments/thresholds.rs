//! A practice's instrument thresholds. Spec §3a gives each form's rules "with their defaults
//! (practice settings)": the catalogue holds the published defaults, and a practice lead may
//! change any threshold a form has. A change is stored in the settings table under
//! `<form>.<threshold>` (`pcl5.remission_below`); only changed thresholds are stored, so every
//! other one keeps following its catalogue entry.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::catalogue::check_rules;
use super::{Instrument, Rules};
use crate::{Error, Result};

/// Every threshold a form may carry, by its settings name, with what it means.
pub const THRESHOLDS: &[(&str, &str)] = &[
    ("elevated_baseline", "elevated baseline at or above"),
    ("improvement_percent", "improved at or below this % of the baseline"),
    ("improvement_or_below", "improved also when below"),
    ("improvement_points", "improved at this many points below the baseline"),
    ("remission_below", "remission below"),
    ("positive_screen", "positive screen at or above"),
];

/// The threshold's value in these rules; `None` when the form has no such threshold.
pub fn value(rules: &Rules, threshold: &str) -> Option<u8> {
    let improvement = rules.improvement.as_ref();
    match threshold {
        "elevated_baseline" => rules.elevated_baseline,
        "improvement_percent" => improvement.and_then(|i| i.percent),
        "improvement_or_below" => improvement.and_then(|i| i.or_below),
        "improvement_points" => improvement.and_then(|i| i.points),
        "remission_below" => rules.remission_below,
        "positive_screen" => rules.positive_screen,
        _ => None,
    }
}

/// The field holding the threshold, when the form has one (a form gains no rule it lacks).
fn slot<'r>(rules: &'r mut Rules, threshold: &str) -> Option<&'r mut u8> {
    let improvement = rules.improvement.as_mut();
    match threshold {
        "elevated_baseline" => rules.elevated_baseline.as_mut(),
        "improvement_percent" => improvement.and_then(|i| i.percent.as_mut()),
        "improvement_or_below" => improvement.and_then(|i| i.or_below.as_mut()),
        "improvement_points" => improvement.and_then(|i| i.points.as_mut()),
        "remission_below" => rules.remission_below.as_mut(),
        "positive_screen" => rules.positive_screen.as_mut(),
        _ => None,
    }
}

/// The thresholds this form has, in [`THRESHOLDS`] order.
pub fn thresholds_of(instrument: Instrument) -> Vec<&'static str> {
    THRESHOLDS.iter().map(|(k, _)| *k).filter(|k| value(instrument.rules(), k).is_some()).collect()
}

/// Whether a settings key names a threshold (`<form>.<threshold>`) rather than a plain setting.
pub fn is_threshold_key(key: &str) -> bool {
    key.contains('.')
}

/// Reads `pcl5.remission_below` into the form and the threshold, refusing a form the catalogue
/// lacks or a threshold the form does not have.
pub fn parse_key(key: &str) -> Result<(Instrument, &'static str)> {
    let (form, threshold) = key.split_once('.').unwrap_or((key, ""));
    let instrument = Instrument::by_id(form)
        .ok_or_else(|| Error::validation("key", format!("'{form}' is no instrument of the catalogue (cocm instruments lists them)")))?;
    let own = thresholds_of(instrument);
    own.iter().find(|k| **k == threshold).copied().map(|k| (instrument, k)).ok_or_else(|| {
        Error::validation("key", format!("{} has no threshold '{threshold}'; its thresholds are {}", instrument.label(), own.join(", ")))
    })
}

/// These rules with one threshold set to `value`, checked as a catalogue entry is checked.
pub fn with_threshold(instrument: Instrument, rules: &Rules, threshold: &str, value: u8, field: &str) -> Result<Rules> {
    let mut changed = rules.clone();
    let Some(slot) = slot(&mut changed, threshold) else {
        return Err(Error::validation(field, format!("{} has no threshold '{threshold}'", instrument.label())));
    };
    *slot = value;
    let max = instrument.max_total();
    let (low, high) = match threshold {
        "improvement_percent" => (1, 100),
        "improvement_points" => (1, max),
        _ => (0, max),
    };
    if !(low..=high).contains(&value) {
        return Err(Error::validation(
            field,
            format!("must be a whole number from {low} to {high} for the {} (got {value})", instrument.label()),
        ));
    }
    check_rules(&instrument.form().kind, u32::from(max), &changed).map_err(|why| Error::validation(field, why))?;
    Ok(changed)
}

/// Every form's rules as the practice has them: the catalogue's, with the stored changes.
/// A stored change the catalogue no longer allows is a storage error, not a silent default.
pub(crate) fn effective<'a>(stored: impl Iterator<Item = (&'a str, &'a str)>) -> Result<BTreeMap<String, Rules>> {
    let mut rules: BTreeMap<String, Rules> = Instrument::all().map(|i| (i.as_str().to_string(), i.rules().clone())).collect();
    for (key, text) in stored.filter(|(k, _)| is_threshold_key(k)) {
        let bad = || Error::Storage(format!("setting {key} is not a threshold the catalogue allows"));
        let (instrument, threshold) = parse_key(key).map_err(|_| bad())?;
        let value: u8 = text.parse().map_err(|_| bad())?;
        let entry = rules.get_mut(instrument.as_str()).ok_or_else(bad)?;
        *entry = with_threshold(instrument, entry, threshold, value, key).map_err(|_| bad())?;
    }
    Ok(rules)
}

/// One threshold of one form as the practice has it, for the settings screen and `cocm settings`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct ThresholdSetting {
    /// The settings key: `pcl5.remission_below`.
    pub key: String,
    pub instrument: Instrument,
    /// The form's label: "PCL-5".
    pub label: String,
    /// What it means: "remission below".
    pub meaning: String,
    pub value: u8,
    /// The catalogue's value (spec §3a).
    pub default: u8,
}

/// Every form's thresholds in catalogue order, with the practice's values.
pub(crate) fn listing(rules: &BTreeMap<String, Rules>) -> Vec<ThresholdSetting> {
    let mut out = Vec::new();
    for instrument in Instrument::all() {
        let own = rules.get(instrument.as_str()).unwrap_or_else(|| instrument.rules());
        for (threshold, meaning) in THRESHOLDS {
            if let (Some(value), Some(default)) = (value(own, threshold), value(instrument.rules(), threshold)) {
                let key = format!("{instrument}.{threshold}");
                out.push(ThresholdSetting {
                    key,
                    instrument,
                    label: instrument.label().to_string(),
                    meaning: (*meaning).to_string(),
                    value,
                    default,
                });
            }
        }
    }
    out
}
